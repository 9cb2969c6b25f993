"""Talk spurts after silence, each sent at once as one playAudio: the stream sends a spurt's
first frame at once (not at FreeSWITCH's next frame) and the rest one per FreeSWITCH frame.
Run on the embedded FreeSWITCH (tests/aiagent/test_pacing.py) and a real one
(tests/fs/test_ai_pacing_real.py): every frame sent must be heard, none lost to two landing in
one of FreeSWITCH's frames. Frames heard are counted by energy (levels are unchanged both ways
through unicast: docs/ai-agent.md), so one lost frame shows as one less."""

from __future__ import annotations

import base64
import contextlib
import time

import gevent
import gevent.event
from waiting import until

from aiagent.stream_cases import Service, _free_udp_port, tone
from plivoxml_fs.effects.aiagent import wait_parked
from plivoxml_fs.effects.aistream import AiStream, StreamSpec
from plivoxml_fs.errors import ConnectionLost
from plivoxml_fs.esl.inbound import InboundClient
from plivoxml_fs.esl.server import OutboundServer
from plivoxml_fs.fs import commands
from plivoxml_fs.stream import audio
from plivoxml_fs.testing import read_wav

SPURTS = 16
SPURT_FRAMES = 10
AMPLITUDE = 8000


def frames_heard(samples) -> float:
    """The tone's energy in the recording, in frames of the tone as sent."""
    per_frame = sum(s * s for s in _samples(tone(1000, 20, 8000, AMPLITUDE)))
    return sum(s * s for s in samples) / per_frame


def _samples(pcm: bytes) -> list[int]:
    return list(audio.samples(pcm))


def run(esl, socket_port: int, record_dir, live: bool = False) -> dict:
    """`live`: each spurt is SPURT_FRAMES playAudio of one frame, one every 20 ms (a live
    synthesiser keeping pace: most go at once), instead of one playAudio for the spurt."""
    host, port, password = esl
    record = f"{record_dir}/pacing-b.wav"
    done = gevent.event.Event()
    go = gevent.event.Event()

    def handler(conn):  # the B leg: silent, records what it hears
        conn.command("myevents")
        conn.execute("answer")
        conn.api(f"uuid_setvar {conn.uuid} RECORD_READ_ONLY true")
        conn.api(f"uuid_record {conn.uuid} start {record}")
        go.wait(30)
        conn.api(f"uuid_record {conn.uuid} stop {record}")
        done.set()
        with contextlib.suppress(ConnectionLost):
            conn.execute("hangup")

    service = Service()
    server = OutboundServer(("127.0.0.1", socket_port), handler, max_calls=2, command_timeout_s=10)
    server.start()
    client = InboundClient(host, port, password, events=(), on_event=lambda e: None,
                           reconnect_min_s=0.1, reconnect_max_s=1, command_timeout_s=10)
    client.start()
    fs_port = _free_udp_port()
    a_leg = f"pacing-{int(time.time() * 1000) % 1000000}"
    stream = AiStream(StreamSpec(f"ws://127.0.0.1:{service.port}/ai", call_id=a_leg),
                      fs_address=("127.0.0.1", fs_port), emit=lambda webhook: None)
    result: dict = {"stream": stream}
    try:
        assert client.wait_connected(5)
        stream.start()
        until("the service got start", lambda: service.of("start"))
        client.api(f"originate {{origination_uuid={a_leg}}}loopback/7701/default &park")
        # its own park first (effects/aiagent.wait_parked: a unicast sent sooner is lost)
        assert wait_parked(lambda cmd: client.api(cmd, check=False), a_leg, 10)
        client.sendmsg(commands.unicast(a_leg, local=("127.0.0.1", fs_port),
                                        remote=stream.udp_address))
        client.sendmsg(commands.execute("park", event_uuid=f"{a_leg}-park", uuid=a_leg))
        until("FreeSWITCH's frames reach the service", lambda: len(service.of("media")) >= 25,
              timeout=15)
        spurt = base64.b64encode(tone(1000, 20 * SPURT_FRAMES, 8000, AMPLITUDE)).decode()
        one = base64.b64encode(tone(1000, 20, 8000, AMPLITUDE)).decode()
        for n in range(SPURTS):
            want = stream.frames_out + SPURT_FRAMES
            if live:
                due = time.monotonic()
                for _ in range(SPURT_FRAMES):
                    service.send(do="play", payload=one, content_type="audio/x-l16", rate=8000)
                    due += 0.020
                    gevent.sleep(max(0.0, due - time.monotonic()))
            else:
                service.send(do="play", payload=spurt, content_type="audio/x-l16", rate=8000)
            until("the spurt went out", lambda want=want: stream.frames_out >= want)
            gevent.sleep(0.1 + 0.007 * n)  # silence of varying length: every phase of the frame
        gevent.sleep(0.2)
        go.set()
        until("the B leg's recording stopped", done.is_set, timeout=15)
        samples, _ = read_wav(record)
        result["heard"] = frames_heard(samples)
        result["frames_out"] = stream.frames_out
        result["at_once"] = stream.frames_at_once
    finally:
        stream.stop()
        client.api(f"uuid_kill {a_leg}", check=False)
        client.stop()
        server.stop(1)
        service.stop()
    return result


def check(result: dict) -> None:
    sent = SPURTS * SPURT_FRAMES
    assert result["frames_out"] == sent, result
    # each spurt came after a silence: its first frame went at once when FreeSWITCH's frame was
    # young (under 10 ms of 20: about half the spurts), else at FreeSWITCH's next frame
    assert 1 <= result["at_once"] <= SPURTS, result
    assert sent - 0.5 < result["heard"] < sent + 0.5, result  # not one frame lost
