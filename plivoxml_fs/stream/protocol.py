"""Plivo's audio stream protocol as the official `plivo-stream-sdk` parses it (sans-IO: JSON
text in, JSON text out).

To the service: `start`, `media`, `dtmf`, `playedStream`, `clearedAudio`, each with a
`sequenceNumber` counting from 1 and the `streamId`; `media.timestamp` and `dtmf.timestamp` are
strings (the SDK refuses numbers there), `extra_headers` the string `k1=v1;k2=v2` (it refuses an
object). From the service: `playAudio`, `checkpoint`, `clearAudio`, `sendDTMF`; anything else
is `Unknown` (the stream logs it once and goes on).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence

import attrs

from plivoxml_fs.stream.audio import parse_content_type


@attrs.frozen
class StreamStart:
    stream_id: str
    call_id: str
    account_id: str
    encoding: str
    sample_rate: int
    extra_headers: tuple[tuple[str, str], ...] = ()
    track: str = "inbound"


def extra_headers_text(headers: Sequence[tuple[str, str]]) -> str:
    """`k1=v1;k2=v2`, the form Plivo's start message uses."""
    return ";".join(f"{k}={v}" for k, v in headers)


class Outgoing:
    """The messages to the service, numbered in order."""

    def __init__(self, start: StreamStart) -> None:
        self.info = start
        self._seq = 0
        # `media` is written once a frame: its constant parts are JSON-encoded here, once
        # (the same text json.dumps gives, at a fifth of its cost)
        self._media_head = ('{"event": "media", "sequenceNumber": %d, "streamId": '
                            + json.dumps(start.stream_id).replace("%", "%%")
                            + ', "media": {"track": '
                            + json.dumps(start.track).replace("%", "%%")
                            + ', "timestamp": "%d", "chunk": %d, "payload": "')

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    def start(self) -> str:
        info = self.info
        return json.dumps({
            "event": "start", "sequenceNumber": self._next(),
            "start": {"callId": info.call_id, "streamId": info.stream_id,
                      "accountId": info.account_id, "tracks": [info.track],
                      "mediaFormat": {"encoding": info.encoding,
                                      "sampleRate": info.sample_rate}},
            "extra_headers": extra_headers_text(info.extra_headers),
        })

    def media(self, payload: bytes, timestamp_ms: int, chunk: int) -> str:
        self._seq += 1
        return (self._media_head % (self._seq, timestamp_ms, chunk)
                + base64.b64encode(payload).decode("ascii") + '"}}')

    def dtmf(self, digit: str, timestamp_ms: int) -> str:
        return json.dumps({
            "event": "dtmf", "sequenceNumber": self._next(), "streamId": self.info.stream_id,
            "dtmf": {"track": self.info.track, "digit": digit, "timestamp": str(timestamp_ms)},
        })

    def played_stream(self, name: str) -> str:
        return json.dumps({"event": "playedStream", "sequenceNumber": self._next(),
                           "streamId": self.info.stream_id, "name": name})

    def cleared_audio(self) -> str:
        return json.dumps({"event": "clearedAudio", "sequenceNumber": self._next(),
                           "streamId": self.info.stream_id})


@attrs.frozen
class PlayAudio:
    encoding: str
    sample_rate: int
    payload: bytes


@attrs.frozen
class Checkpoint:
    name: str


@attrs.frozen
class ClearAudio:
    pass


@attrs.frozen
class SendDtmf:
    digits: str


@attrs.frozen
class Unknown:
    """Not a message we act on: `why` says what was wrong (for the one WARNING)."""

    why: str


Incoming = PlayAudio | Checkpoint | ClearAudio | SendDtmf | Unknown
DTMF_DIGITS = frozenset("0123456789*#ABCDabcd")


def parse(text: str | bytes) -> Incoming:
    """One message from the service."""
    try:
        message = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        return Unknown("not JSON")
    if not isinstance(message, dict):
        return Unknown("not a JSON object")
    event = message.get("event")
    if event == "playAudio":
        media = message.get("media")
        if not isinstance(media, dict):
            return Unknown("playAudio without media")
        content_type = str(media.get("contentType") or "audio/x-l16")
        rate = media.get("sampleRate")
        if rate is not None and "rate=" not in content_type:
            content_type = f"{content_type};rate={rate}"
        try:
            encoding, sample_rate = parse_content_type(content_type)
            payload = base64.b64decode(str(media.get("payload") or ""), validate=True)
        except (ValueError, binascii.Error) as exc:
            return Unknown(f"playAudio: {exc}")
        return PlayAudio(encoding, sample_rate, payload)
    if event == "checkpoint":
        name = message.get("name")
        if not isinstance(name, str) or not name:
            return Unknown("checkpoint without a name")
        return Checkpoint(name)
    if event == "clearAudio":
        return ClearAudio()
    if event == "sendDTMF":
        digits = message.get("dtmf")
        if isinstance(digits, dict):
            digits = digits.get("digit") or digits.get("digits")
        if not isinstance(digits, str) or not digits or not set(digits) <= DTMF_DIGITS:
            return Unknown("sendDTMF without digits")
        return SendDtmf(digits)
    return Unknown(f"unknown event {str(event)[:40]!r}")
