"""The stream codec without I/O: what we send validates as the official plivo-stream-sdk's
models, what the SDK sends parses here; µ-law, resampling and pacing."""

from __future__ import annotations

import base64
import json

import pytest
from plivo_stream.types import (
    ClearedAudioEvent,
    DtmfEvent,
    MediaEvent,
    PlayedStreamEvent,
    StartEvent,
)

from plivoxml_fs.effects.aistream import signed_uri, upgrade_headers
from plivoxml_fs.stream import audio, protocol
from plivoxml_fs.stream.audio import FS_FRAME_BYTES
from plivoxml_fs.stream.pacing import Pacer

START = protocol.StreamStart("s-1", "call-1", "acc-1", "audio/x-l16", 8000,
                             (("userId", "12345"), ("sessionId", "abc-xyz")))


def test_every_message_to_the_service_validates_as_the_sdk_parses_it():
    out = protocol.Outgoing(START)
    start = StartEvent.model_validate(json.loads(out.start()))
    assert start.extra_headers == "userId=12345;sessionId=abc-xyz"
    assert start.start.media_format.sample_rate == 8000 and start.sequence_number == 1
    media = MediaEvent.model_validate(json.loads(out.media(b"\x01\x02", 40, 3)))
    assert (media.media.timestamp, media.media.chunk, media.sequence_number) == ("40", 3, 2)
    assert base64.b64decode(media.media.payload) == b"\x01\x02"
    assert DtmfEvent.model_validate(json.loads(out.dtmf("7", 60))).dtmf.digit == "7"
    assert PlayedStreamEvent.model_validate(json.loads(out.played_stream("cp"))).name == "cp"
    assert ClearedAudioEvent.model_validate(json.loads(out.cleared_audio())).stream_id == "s-1"


def test_what_the_sdk_sends_parses():
    sdk_play = ('{"event":"playAudio","media":{"contentType":"audio/x-mulaw",'
                '"sampleRate":8000,"payload":"AAEAAQABAAE="}}')
    assert protocol.parse(sdk_play) == protocol.PlayAudio("audio/x-mulaw", 8000,
                                                          base64.b64decode("AAEAAQABAAE="))
    assert protocol.parse('{"event":"checkpoint","streamId":"s","name":"cp1"}') == \
        protocol.Checkpoint("cp1")
    assert protocol.parse('{"event":"clearAudio","streamId":"s"}') == protocol.ClearAudio()
    assert protocol.parse('{"event":"sendDTMF","dtmf":"12#"}') == protocol.SendDtmf("12#")


@pytest.mark.parametrize("text, why", [
    ("nope", "not JSON"), ("[1]", "not a JSON object"), ('{"event":"stop"}', "unknown event 'stop'"),
    ('{"event":"playAudio","media":{"contentType":"audio/x-l16","sampleRate":44100,"payload":""}}',
     "playAudio: content type"),
    ('{"event":"playAudio","media":{"contentType":"audio/x-l16","payload":"!!"}}', "playAudio"),
    ('{"event":"checkpoint"}', "checkpoint without a name"),
    ('{"event":"sendDTMF","dtmf":"x"}', "sendDTMF without digits"),
])
def test_what_we_cannot_act_on_says_why(text, why):
    message = protocol.parse(text)
    assert isinstance(message, protocol.Unknown) and message.why.startswith(why), message


def test_mulaw_round_trip_is_within_the_segment_step():
    values = [0, 1, -1, 100, -100, 1000, -1000, 8000, -8000, 32767, -32768]
    back = audio.samples(audio.mulaw_decode(audio.mulaw_encode(audio.pcm(values))))
    for value, decoded in zip(values, back, strict=True):
        assert abs(value - decoded) <= max(8, abs(value) // 16), (value, decoded)
    assert audio.mulaw_encode(audio.pcm([0])) == b"\xff"  # G.711: zero is 0xFF


def test_resampling_keeps_length_and_level():
    frame = audio.pcm([1000 * (i % 2) for i in range(160)])
    assert len(audio.to_service(frame, "audio/x-l16", 16000)) == 640
    back = audio.from_service(audio.to_service(frame, "audio/x-l16", 16000), "audio/x-l16", 16000)
    assert len(back) == FS_FRAME_BYTES


@pytest.mark.parametrize("text", ["audio/x-l16;rate=44100", "audio/x-mulaw;rate=16000", "audio/wav"])
def test_content_types_the_stream_cannot_carry(text):
    with pytest.raises(ValueError, match="content type"):
        audio.parse_content_type(text)


def test_pacer_frames_checkpoints_and_clear():
    pacer = Pacer()
    pacer.push(b"\x01" * (FS_FRAME_BYTES + 10))
    pacer.checkpoint("cp1")
    pacer.push(b"\x02" * FS_FRAME_BYTES)
    first, reached = pacer.next_frame()
    assert first == b"\x01" * FS_FRAME_BYTES and reached == []
    second, reached = pacer.next_frame()  # the 10 bytes left, padded, then the checkpoint
    assert second == b"\x01" * 10 + bytes(FS_FRAME_BYTES - 10) and reached == ["cp1"]
    pacer.checkpoint("cp2")
    assert pacer.clear() == FS_FRAME_BYTES
    assert pacer.next_frame() == (None, [])  # cleared audio and the checkpoint behind it are gone
    pacer.checkpoint("now")
    assert pacer.next_frame() == (None, ["now"])  # nothing queued: reached at once


def test_the_upgrade_is_signed_over_the_uri_the_sdk_checks():
    from plivo.utils import validate_v3_signature

    assert signed_uri("wss://ai.example.com/s?a=1") == "http://ai.example.com/s?a=1/websocket"
    headers = dict(upgrade_headers("wss://ai.example.com/s", "tok", (("k", "v"),), "123"))
    assert headers["k"] == "v" and headers["X-Plivo-Signature-V3-Nonce"] == "123"
    assert validate_v3_signature("GET", "http://ai.example.com/s/websocket", "123", "tok",
                                 headers["X-Plivo-Signature-V3"])
    assert "X-Plivo-Signature-V3" not in dict(upgrade_headers("ws://a/b", "", ()))
