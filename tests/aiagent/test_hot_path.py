"""The stream's per-frame shortcuts against what they replace: the `media` text is json.dumps'
own, the masked text frame reads back through wsproto as a server, and the frame lock never
lets two of our frames go between two of FreeSWITCH's."""

from __future__ import annotations

import base64
import json
import os

import pytest
from wsproto.connection import Connection, ConnectionType
from wsproto.events import TextMessage

from plivoxml_fs.stream import protocol
from plivoxml_fs.stream.pacing import (
    KEEP_AT_ONCE_S,
    SEND_AT_ONCE_S,
    STOP_AFTER_FRAMES,
    FrameLock,
)
from plivoxml_fs.stream.wsframe import masked_text_frame


@pytest.mark.parametrize("stream_id", ["6f1c2a8e-0000-4000-8000-123456789abc", 'a"b\\c%d é'])
def test_media_text_is_what_json_dumps_gives(stream_id):
    out = protocol.Outgoing(protocol.StreamStart(stream_id, "c", "a", "audio/x-l16", 8000))
    for seq in (1, 2):
        payload = os.urandom(320)
        assert out.media(payload, 1234 * seq, 7 * seq) == json.dumps({
            "event": "media", "sequenceNumber": seq, "streamId": stream_id,
            "media": {"track": "inbound", "timestamp": str(1234 * seq), "chunk": 7 * seq,
                      "payload": base64.b64encode(payload).decode("ascii")}})


@pytest.mark.parametrize("length", [0, 1, 3, 125, 126, 127, 600, 65535, 65536, 70001])
def test_a_masked_text_frame_reads_back_through_wsproto(length):
    text = ("aé€\"{" * length)[:length]
    server = Connection(ConnectionType.SERVER)
    data = masked_text_frame(text)
    assert data[0] == 0x81 and data[1] & 0x80  # final text frame, masked
    server.receive_data(data)
    events = list(server.events())
    assert all(isinstance(e, TextMessage) for e in events) and events[-1].message_finished
    assert "".join(e.data for e in events) == text


def test_two_frames_never_get_the_same_mask():
    assert masked_text_frame("x" * 40)[2:6] != masked_text_frame("x" * 40)[2:6]


def test_the_lock_sends_at_once_young_after_a_silence_and_keeps_pace_a_little_longer():
    lock = FrameLock()
    assert not lock.may_send_now(0.0)  # no FreeSWITCH frame yet
    lock.tick(0.0, False)  # nothing for a whole frame
    assert not lock.may_send_now(SEND_AT_ONCE_S + 0.001)  # after a silence: 10 ms
    assert lock.may_send_now(SEND_AT_ONCE_S - 0.001)
    lock.sent_now()
    assert not lock.may_send_now(0.012)  # one of ours between two of FreeSWITCH's frames
    assert not lock.tick(0.020, False)  # the at-once frame played: not ran out
    assert lock.may_send_now(0.020 + KEEP_AT_ONCE_S - 0.001)  # keeping pace: 14 ms
    assert not lock.may_send_now(0.020 + KEEP_AT_ONCE_S + 0.001)
    assert not lock.tick(0.040, False)  # nothing since the last frame: late, not over yet
    assert not lock.may_send_now(0.040 + SEND_AT_ONCE_S + 0.001)  # back to 10 ms


def test_the_audio_ran_out_after_three_frames_with_nothing():
    lock = FrameLock()
    lock.tick(0.0, True)
    lock.may_send_now(0.025) and lock.sent_now()
    assert [lock.tick(0.02 * i, False) for i in range(2, 2 + STOP_AFTER_FRAMES + 1)] == [
        False] * (STOP_AFTER_FRAMES - 1) + [True, True]
    assert not lock.tick(0.2, True)  # audio again


def test_a_frame_sent_at_freeswitchs_frame_ends_the_run_at_once():
    lock = FrameLock()
    lock.tick(0.0, False)
    assert lock.may_send_now(0.005)
    lock.sent_now()
    assert not lock.tick(0.020, True)  # the service sent ahead: one went with the frame
    assert not lock.may_send_now(0.021)
    assert not lock.may_send_now(0.020 + SEND_AT_ONCE_S + 0.001)  # 10 ms again, not 14


def _plain_up(values):
    out = []
    for i, v in enumerate(values):
        nxt = values[i + 1] if i + 1 < len(values) else v
        out += (v, (v + nxt) // 2)
    return out


@pytest.mark.parametrize("n", [0, 1, 2, 3, 160, 161, 320])
def test_resampling_and_mulaw_give_the_plain_loops_samples(n):
    import random
    import struct

    from plivoxml_fs.stream import audio

    rng = random.Random(n)
    values = [rng.choice([-32768, 32767, rng.randint(-32768, 32767)]) for _ in range(n)]
    assert audio.upsample(values) == _plain_up(values)
    assert audio.downsample(values) == [(values[i] + values[i + 1]) // 2
                                        for i in range(0, n - 1, 2)]
    every = struct.pack("<65536h", *range(-32768, 32768))
    assert audio.mulaw_encode(every) == bytes(audio._mulaw_encode_sample(s)
                                              for s in range(-32768, 32768))
    assert audio.samples(audio.mulaw_decode(bytes(range(256)))).tolist() == [
        audio._mulaw_decode_byte(b) for b in range(256)]
