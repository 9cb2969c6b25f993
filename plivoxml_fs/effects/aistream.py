"""One AI agent stream's I/O (gevent): FreeSWITCH's unicast UDP frames <-> the service's
WebSocket, in Plivo's stream protocol (plivoxml_fs/stream/).

The WebSocket is wsproto's sans-IO state machine over a gevent socket (TLS for wss://): no
thread, no asyncio, one greenlet reading it. Two greenlets per stream: `_from_fs` (each UDP
frame -> a `media` message, and one frame of the service's audio back: FreeSWITCH's clock
paces it) and `_from_service` (the service's messages -> the pacer, checkpoints, clearAudio,
sendDTMF). Nothing here blocks another call: the connect and the upgrade
have their own deadline, and a stream that fails only ends itself (status callback `failed`).
"""

from __future__ import annotations

import contextlib
import logging
import ssl
import time
import uuid as uuidlib
from collections.abc import Callable
from urllib.parse import urlsplit

import attrs
import gevent
import gevent.event
import gevent.socket
from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Ping,
    RejectConnection,
    Request,
    TextMessage,
)

from plivoxml_fs.effects import signing
from plivoxml_fs.effects.webhook import Webhook
from plivoxml_fs.stream import audio, protocol
from plivoxml_fs.stream.pacing import FrameLock, Pacer
from plivoxml_fs.stream.wsframe import masked_text_frame

log = logging.getLogger("plivoxml_fs.aistream")

#: Deadline for the TCP connect plus the upgrade, in seconds.
CONNECT_TIMEOUT_S = 5.0
#: A text message larger than this from the service ends the stream (garbage).
MAX_MESSAGE_BYTES = 1 << 20
FRAME_S = audio.FRAME_MS / 1000
#: WebSocket close codes that mean the bytes were no WebSocket (protocol, data, size errors).
GARBAGE_CODES = frozenset({1002, 1003, 1007, 1009})


def signed_uri(url: str) -> str:
    """What the official stream SDK checks the signature over: `ws(s)://` written `http://`,
    then `/websocket` appended (reference: plivo-stream-sdk 0.1.1)."""
    for scheme in ("wss://", "ws://"):
        if url.startswith(scheme):
            return "http://" + url[len(scheme):] + "/websocket"
    return url + "/websocket"


def upgrade_headers(url: str, auth_token: str, extra: tuple[tuple[str, str], ...],
                    nonce: str | None = None) -> list[tuple[str, str]]:
    """The upgrade request's own headers: the extra headers, then the signature when signing."""
    headers = list(extra)
    if auth_token:
        headers += signing.signature_headers(auth_token, "GET", signed_uri(url), {},
                                             nonce).items()
    return headers


@attrs.frozen
class StreamSpec:
    """What one AI participant's stream needs."""

    url: str
    content_type: str = "audio/x-l16;rate=8000"
    extra_headers: tuple[tuple[str, str], ...] = ()
    status_callback_url: str | None = None
    status_callback_method: str = "POST"
    call_id: str = ""
    account_id: str = ""
    auth_token: str = ""


def status_callback(spec: StreamSpec, emit: Callable[[Webhook], None], stream_id: str,
                    status: str, reason: str = "", duration: int | None = None) -> None:
    """The stream's status callback (started / stopped / failed), when it has a URL; also for
    a stream that failed before it could start (no media ports: effects/aiagent.py)."""
    url = spec.status_callback_url
    if not url:
        return
    params = {"Event": f"Stream{status.capitalize()}", "StreamId": stream_id,
              "CallUUID": spec.call_id, "ServiceURL": spec.url, "Status": status}
    if status != "started":
        if duration is not None:
            params["Duration"] = str(duration)
        if reason:
            params["Reason"] = reason
    emit(Webhook(url, spec.status_callback_method, params, spec.call_id or stream_id,
                 "ai_stream"))


class AiStream:
    """A stream between FreeSWITCH's unicast (fs_address: where FreeSWITCH reads) and the service.

    `start()` binds the UDP socket (`udp_address` is ours: give it to FreeSWITCH as remote) and
    connects in the background; `stop()` ends it (status `stopped`). `send_dtmf(digits)` is
    called for the service's sendDTMF; `dtmf(digit)` sends a digit to the service.
    """

    def __init__(self, spec: StreamSpec, *, fs_address: tuple[str, int], emit: Callable[[Webhook], None],
                 send_dtmf: Callable[[str], None] = lambda digits: None,
                 bind_host: str = "127.0.0.1", stream_id: str | None = None,
                 udp: gevent.socket.socket | None = None,
                 on_audio: Callable[[bool], None] = lambda playing: None) -> None:
        self.spec = spec
        self.stream_id = stream_id or str(uuidlib.uuid4())
        self.encoding, self.rate = audio.parse_content_type(spec.content_type)
        self.fs_address = fs_address
        self._emit = emit
        self._send_dtmf = send_dtmf
        self.pacer = Pacer()
        self.out = protocol.Outgoing(protocol.StreamStart(
            self.stream_id, spec.call_id, spec.account_id, self.encoding, self.rate,
            spec.extra_headers))
        if udp is None:  # else a socket bound for us (effects/aiports.py: a port range)
            udp = gevent.socket.socket(gevent.socket.AF_INET, gevent.socket.SOCK_DGRAM)
            udp.bind((bind_host, 0))
        self.udp = udp
        self.udp_address = self.udp.getsockname()
        self.ended = gevent.event.Event()
        self.end_reason: str | None = None
        self._ws: WSConnection | None = None
        self._sock = None
        self._greenlets: list[gevent.Greenlet] = []
        self._started_at: float | None = None
        self._chunk = 0
        self._warned: set[str] = set()
        self._partial = ""
        self.frames_out = 0  # frames of the service's audio sent to FreeSWITCH
        self.frames_at_once = 0  # of those, sent at once (not at FreeSWITCH's next frame)
        self._on_audio = on_audio  # True: the service's audio began to play; False: it ended
        self.playing = False
        self.lock = FrameLock()  # when the service's audio may go to FreeSWITCH
        self.frames_at_clear: list[int] = []  # frames_out when each clearAudio took effect

    # -- life ---------------------------------------------------------------------------------
    def start(self) -> None:
        self._greenlets.append(gevent.spawn(self._run))

    def stop(self, reason: str = "participant left") -> None:
        self._end("stopped", reason)

    def _run(self) -> None:
        try:
            self._connect()
        except Exception as exc:  # noqa: BLE001 -- every failure ends only this stream
            self._end("failed", f"cannot connect: {exc}")
            return
        self._started_at = time.monotonic()
        self._callback("started")
        self._send_text(self.out.start())
        self._greenlets.append(gevent.spawn(self._from_fs))
        self._from_service()

    def _connect(self) -> None:
        parts = urlsplit(self.spec.url)
        secure = parts.scheme == "wss"
        port = parts.port or (443 if secure else 80)
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        with gevent.Timeout(CONNECT_TIMEOUT_S, TimeoutError(f"no upgrade within {CONNECT_TIMEOUT_S} s")):
            sock = gevent.socket.create_connection((parts.hostname, port))
            # one small message a frame: Nagle would hold one behind the service's delayed ACK
            # (seen: room -> service p99 22 ms with 2 streams, 3 ms without)
            sock.setsockopt(gevent.socket.IPPROTO_TCP, gevent.socket.TCP_NODELAY, 1)
            if secure:
                sock = ssl.create_default_context().wrap_socket(sock, server_hostname=parts.hostname)
            self._sock = sock
            ws = WSConnection(ConnectionType.CLIENT)
            host = parts.netloc.rpartition("@")[2]
            headers = upgrade_headers(self.spec.url, self.spec.auth_token, self.spec.extra_headers)
            sock.sendall(ws.send(Request(host=host, target=target, extra_headers=headers)))
            while True:
                data = sock.recv(65536)
                if not data:
                    raise ConnectionError("closed before the upgrade")
                ws.receive_data(data)
                for event in ws.events():
                    if isinstance(event, AcceptConnection):
                        self._ws = ws
                        return
                    if isinstance(event, RejectConnection):
                        raise ConnectionError(f"upgrade refused with HTTP {event.status_code}")

    def _end(self, status: str, reason: str) -> None:
        if self.ended.is_set():
            return
        self.end_reason = reason
        self.ended.set()
        level = logging.WARNING if status == "failed" else logging.INFO
        log.log(level, "AI stream %s %s: %s", self.stream_id, status, reason)
        if self._ws is not None and self._sock is not None:
            with contextlib.suppress(Exception):
                self._sock.sendall(self._ws.send(CloseConnection(code=1000)))
        for sock in (self._sock, self.udp):
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.close()
        self._callback(status, reason)
        current = gevent.getcurrent()
        for greenlet in self._greenlets:
            if greenlet is not current:
                greenlet.kill(block=False)

    def _callback(self, status: str, reason: str = "") -> None:
        duration = (None if self._started_at is None
                    else int(time.monotonic() - self._started_at))
        status_callback(self.spec, self._emit, self.stream_id, status, reason, duration)

    # -- to the service -------------------------------------------------------------------------
    def _send_text(self, text: str) -> None:
        """One message to the service, framed by stream/wsframe.py (the upgrade asked for no
        extension); nothing once the stream or the WebSocket is closing."""
        if self.ended.is_set() or self._ws is None or self._ws.state is not ConnectionState.OPEN:
            return
        data = masked_text_frame(text)
        try:
            sent = self._sock.send(data)  # all of it, nearly always: sendall's loop costs more
            if sent < len(data):
                self._sock.sendall(data[sent:])
        except Exception as exc:  # noqa: BLE001
            self._end("failed", f"service went away: {exc}")

    def dtmf(self, digit: str) -> None:
        if self._started_at is not None:
            self._send_text(self.out.dtmf(digit, self._ms()))

    def _ms(self) -> int:
        return int((time.monotonic() - (self._started_at or time.monotonic())) * 1000)

    def _from_fs(self) -> None:
        while not self.ended.is_set():
            try:
                frame = self.udp.recv(4096)
            except OSError:
                return
            now = time.monotonic()
            if self.lock.tick(now, self._to_fs()):
                self._playing(False)  # FreeSWITCH's frames with nothing from us: ran out
            self._chunk += 1
            payload = audio.to_service(frame, self.encoding, self.rate)
            ms = int((now - self._started_at) * 1000)
            self._send_text(self.out.media(payload, ms, self._chunk))

    # -- from the service -----------------------------------------------------------------------
    def _from_service(self) -> None:
        data = None  # what arrived with the upgrade answer is already in wsproto's buffer
        while not self.ended.is_set():
            try:
                if data is not None:
                    self._ws.receive_data(data)
                events = list(self._ws.events())
            except Exception as exc:  # noqa: BLE001 -- wsproto: not a WebSocket any more
                self._end("failed", f"service sent garbage: {exc}")
                return
            for event in events:
                if isinstance(event, TextMessage):
                    self._text(event)
                elif isinstance(event, CloseConnection):
                    with contextlib.suppress(Exception):
                        self._sock.sendall(self._ws.send(event.response()))
                    # wsproto reports a frame it cannot parse as a close 1002/1007/1009
                    what = ("service sent garbage" if event.code in GARBAGE_CODES
                            else "service closed the stream")
                    self._end("failed", f"{what} ({event.code})")
                    return
                elif isinstance(event, Ping):
                    self._sock.sendall(self._ws.send(event.response()))
                elif isinstance(event, BytesMessage):
                    self._warn("binary", "a binary message (the protocol is JSON text)")
            if self.ended.is_set():
                return
            try:
                data = self._sock.recv(65536)
            except OSError as exc:
                self._end("failed", f"service connection lost: {exc}")
                return
            if not data:
                self._end("failed", "service closed the connection")
                return

    def _text(self, event: TextMessage) -> None:
        self._partial += event.data
        if not event.message_finished:
            if len(self._partial) > MAX_MESSAGE_BYTES:
                self._end("failed", "service sent a message over 1 MiB")
            return
        text, self._partial = self._partial, ""
        message = protocol.parse(text)
        if isinstance(message, protocol.PlayAudio):
            self.pacer.push(audio.from_service(message.payload, message.encoding,
                                               message.sample_rate))
            self._send_at_once()

        elif isinstance(message, protocol.Checkpoint):
            self.pacer.checkpoint(message.name)

        elif isinstance(message, protocol.ClearAudio):
            self.pacer.clear()
            self.frames_at_clear.append(self.frames_out)
            self._playing(False)
            self._send_text(self.out.cleared_audio())
        elif isinstance(message, protocol.SendDtmf):
            self._send_dtmf(message.digits)
        else:
            self._warn(message.why, message.why)

    def _warn(self, key: str, what: str) -> None:
        if key not in self._warned:  # once per kind, so a chatty service is one line
            self._warned.add(key)
            log.warning("AI stream %s: ignored %s", self.stream_id, what)

    # -- to FreeSWITCH ----------------------------------------------------------------------------
    def _playing(self, now: bool) -> None:
        if now != self.playing:
            self.playing = now
            try:
                self._on_audio(now)
            except Exception:  # noqa: BLE001 -- a hook's failure must not end the stream
                log.exception("AI stream %s: audio %s hook failed", self.stream_id,
                              "start" if now else "stop")

    def _send_at_once(self) -> None:
        """Audio that comes with nothing queued goes at once when FreeSWITCH's current frame is
        young (stream/pacing.py FrameLock: SEND_AT_ONCE_S after a silence, KEEP_AT_ONCE_S
        while the frames before it went at once) and has had nothing from us yet; else it
        waits for FreeSWITCH's next frame, as all audio behind it does."""
        if self.lock.may_send_now(time.monotonic()) and self._to_fs():
            self.lock.sent_now()
            self.frames_at_once += 1

    def _to_fs(self) -> bool:
        """One frame of the service's audio to FreeSWITCH (True when one went), called as each
        frame from it arrives: FreeSWITCH's own 20 ms clock paces what it gets, one datagram a
        frame (it keeps one a frame, so two inside one of its frames would lose one, and a
        clock of ours would drift from its; docs/ai-agent.md)."""
        frame, reached = self.pacer.next_frame()
        sent = False
        if frame is not None:
            try:
                self.udp.sendto(frame, self.fs_address)
            except OSError:
                return False
            self.frames_out += 1
            sent = True
            self._playing(True)
        for name in reached:
            self._send_text(self.out.played_stream(name))
        return sent
