"""An AI stream end to end, the same on the embedded FreeSWITCH (tests/aiagent/test_stream.py)
and a real one (tests/fs/test_aistream_real.py): a loopback pair whose A leg is parked with
unicast to the daemon's AiStream, the service being the official plivo-stream-sdk
(tests/aiagent/service.py, its own process). The B leg (our handler) plays a 600 Hz tone and
records what it receives: what the service sent, paced by the stream."""

from __future__ import annotations

import base64
import contextlib
import json
import math
import socket
import sys
import time
from pathlib import Path

import gevent
import gevent.event
import gevent.subprocess
from plivo.utils import validate_v3_signature
from waiting import until

from plivoxml_fs.effects.aiagent import wait_parked
from plivoxml_fs.effects.aistream import AiStream, StreamSpec
from plivoxml_fs.errors import ConnectionLost
from plivoxml_fs.esl.inbound import InboundClient
from plivoxml_fs.esl.server import OutboundServer
from plivoxml_fs.fs import commands
from plivoxml_fs.stream import audio
from plivoxml_fs.testing import dbfs, goertzel, read_wav

SERVICE = Path(__file__).with_name("service.py")


class Service:
    """The SDK service process: `events` (what it printed), `send(**command)`."""

    def __init__(self) -> None:
        self.proc = gevent.subprocess.Popen([sys.executable, str(SERVICE)],
                                            stdin=gevent.subprocess.PIPE,
                                            stdout=gevent.subprocess.PIPE)
        self.events: list[dict] = []
        self.port = json.loads(self.proc.stdout.readline())["port"]
        self.reader = gevent.spawn(self._read)

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.events.append(json.loads(line))

    def of(self, on: str) -> list[dict]:
        return [e for e in list(self.events) if e.get("on") == on]

    def send(self, **command) -> None:
        self.proc.stdin.write((json.dumps(command) + "\n").encode())
        self.proc.stdin.flush()

    def media(self, content_type: str = "audio/x-l16;rate=8000") -> list[int]:
        """What the service received, decoded to 8 kHz samples."""
        encoding, rate = audio.parse_content_type(content_type)
        raw = b"".join(base64.b64decode(e["raw"]) for e in self.of("media"))
        return list(audio.samples(audio.from_service(raw, encoding, rate)))

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()
        self.reader.kill()


def tone(hz: float, ms: int, rate: int, amplitude: int = 8000) -> bytes:
    return audio.pcm(int(amplitude * math.sin(2 * math.pi * hz * n / rate))
                     for n in range(rate * ms // 1000))


def encoded(pcm8k: bytes, content_type: str) -> tuple[bytes, str, int]:
    encoding, rate = audio.parse_content_type(content_type)
    if encoding == audio.MULAW:
        return audio.mulaw_encode(pcm8k), encoding, rate
    if rate == 16000:
        return audio.pcm(audio.upsample(audio.samples(pcm8k))), encoding, rate
    return pcm8k, encoding, rate


def frames_with(samples, hz: float, rate: int = 8000) -> int:
    step = rate // 50
    return sum(1 for i in range(0, len(samples) - step + 1, step)
               if dbfs(goertzel(samples[i:i + step], rate, hz)) > -30)


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run(esl, socket_port: int, record_dir, content_type: str = "audio/x-l16;rate=8000") -> dict:
    host, port, password = esl
    record = f"{record_dir}/stream-b.wav"
    done = gevent.event.Event()
    go = gevent.event.Event()

    def handler(conn):
        conn.command("myevents")
        conn.execute("answer")
        conn.api(f"uuid_setvar {conn.uuid} RECORD_READ_ONLY true")
        conn.api(f"uuid_record {conn.uuid} start {record}")
        conn.execute("playback", "tone_stream://%(1000,0,600)")
        go.wait(20)
        conn.api(f"uuid_record {conn.uuid} stop {record}")
        done.set()
        with contextlib.suppress(ConnectionLost):  # the test may end the call first
            conn.execute("hangup")

    service = Service()
    server = OutboundServer(("127.0.0.1", socket_port), handler, max_calls=2, command_timeout_s=10)
    server.start()
    client = InboundClient(host, port, password, events=(), on_event=lambda e: None,
                           reconnect_min_s=0.1, reconnect_max_s=1, command_timeout_s=10)
    client.start()
    callbacks = []
    fs_port = _free_udp_port()
    a_leg = f"stream-{int(time.time() * 1000) % 1000000}"
    spec = StreamSpec(f"ws://127.0.0.1:{service.port}/ai?x=1", content_type,
                      extra_headers=(("k1", "v1"), ("k2", "v2")),
                      status_callback_url="http://127.0.0.1:9/status", call_id=a_leg,
                      auth_token="token-1")
    stream = AiStream(spec, fs_address=("127.0.0.1", fs_port), emit=callbacks.append)
    result: dict = {"service": service, "stream": stream, "callbacks": callbacks}
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
        until("a second of the customer's tone reached the service",
              lambda: frames_with(service.media(content_type)[-8000:], 600) >= 45, timeout=15)
        payload, encoding, rate = encoded(tone(1000, 500, 8000), content_type)
        service.send(do="play", payload=base64.b64encode(payload).decode(),
                     content_type=encoding, rate=rate)
        service.send(do="checkpoint", name="cp1")
        until("playedStream cp1", lambda: service.of("playedStream"))
        result["played_at_frames"] = stream.frames_out
        long_tone, encoding, rate = encoded(tone(1500, 3000, 8000), content_type)
        service.send(do="play", payload=base64.b64encode(long_tone).decode(),
                     content_type=encoding, rate=rate)
        until("the long tone is playing", lambda: stream.frames_out >= result["played_at_frames"] + 10)
        service.send(do="clear")
        until("clearedAudio", lambda: service.of("clearedAudio"))
        result["long_frames_sent"] = stream.frames_at_clear[0] - result["played_at_frames"]
        service.send(do="json", value={"event": "bogus"})
        service.send(do="json", value={"event": "bogus"})
        stream.dtmf("5")
        until("the digit reached the service", lambda: service.of("dtmf"))
        go.set()
        until("the B leg's recording stopped", done.is_set, timeout=15)
        result["samples"], result["rate"] = read_wav(record)
        result["heard_1000"] = frames_with(result["samples"], 1000)
        result["heard_1500"] = frames_with(result["samples"], 1500)
        result["sent_600"] = frames_with(service.media(content_type), 600)
        result["level_600"] = max(dbfs(goertzel(w, 8000, 600)) for w in _windows(service.media(content_type)))
    finally:
        stream.stop()
        client.api(f"uuid_kill {a_leg}", check=False)
        client.stop()
        server.stop(1)
        service.stop()
    return result


def _windows(samples, size: int = 1600):
    return [samples[i:i + size] for i in range(0, max(1, len(samples) - size), size)]


def check(result: dict, content_type: str = "audio/x-l16;rate=8000") -> None:
    """What both FreeSWITCHes must show."""
    service = result["service"]
    encoding, rate = audio.parse_content_type(content_type)
    start = service.of("start")[0]
    assert (start["encoding"], start["rate"]) == (encoding, rate), start
    assert start["extra"] == "k1=v1;k2=v2" and start["tracks"] == ["inbound"], start
    assert start["stream_id"] == result["stream"].stream_id
    headers = service.of("connected")[0]["headers"]
    assert headers.get("k1") == "v1" and headers.get("k2") == "v2", headers
    # signed as the SDK's FastAPI handler checks it (ws:// written http://, /websocket appended)
    uri = f"http://{headers['host']}/ai?x=1/websocket"
    assert validate_v3_signature("GET", uri, headers["x-plivo-signature-v3-nonce"], "token-1",
                                 headers["x-plivo-signature-v3"])
    assert not validate_v3_signature("GET", uri, headers["x-plivo-signature-v3-nonce"],
                                     "token-2", headers["x-plivo-signature-v3"])
    assert service.of("connected")[0]["path"] == "/ai?x=1"
    assert not service.of("error"), service.of("error")  # the SDK parsed every message
    assert 45 <= result["sent_600"] <= 53, result["sent_600"]  # the customer's 1 s tone
    assert result["level_600"] > -11.5, result["level_600"]
    # 500 ms played whole; on a loaded machine a late frame sent with the next one inside one
    # FreeSWITCH frame is dropped by 1.10.12 (seen once: 23; the embedded one, under a full suite, once 22), so up to 3 of 25 may go
    assert 22 <= result["heard_1000"] <= 26, result["heard_1000"]
    # clearAudio: what was queued is not heard; what went out before it is (within a frame)
    # (nothing queued is heard after it: at most one frame in flight; a frame or two of what went
    # out before it may be lost to scheduling jitter on a loaded machine, as above)
    sent = result["long_frames_sent"]
    assert sent - 3 <= result["heard_1500"] <= sent + 1, (result["heard_1500"], sent)
    assert result["long_frames_sent"] < 100
    assert [e["name"] for e in service.of("playedStream")] == ["cp1"]
    assert len(service.of("clearedAudio")) == 1
    assert [e["digit"] for e in service.of("dtmf")] == ["5"]
    statuses = [c.params["Status"] for c in result["callbacks"]]
    assert statuses == ["started", "stopped"], statuses
