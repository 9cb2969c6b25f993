"""The `unicast` exchange, run the same on the embedded FreeSWITCH (tests/aiagent/) and a real
one (tests/fs/test_unicast_real.py): what a parked loopback leg sends to a UDP port and what it
plays from one.

The B leg (our outbound handler) records what it receives, plays a 600 Hz tone for 1 s, then
silence. The A leg is parked with unicast to our UDP port. We check the datagrams (320 bytes,
one every 20 ms, the tone then zero frames, from FreeSWITCH's local port), then send 25 frames
of 1000 Hz paced at 20 ms and, later, 25 frames of 1500 Hz at once: the B leg hears the paced
ones whole and the burst as at most a few frames (FreeSWITCH does not pace for the sender).
"""

from __future__ import annotations

import contextlib
import math
import socket
import struct
import time

import gevent
import gevent.event
from waiting import until

from plivoxml_fs.effects.aiagent import wait_parked
from plivoxml_fs.errors import ConnectionLost
from plivoxml_fs.esl.inbound import InboundClient
from plivoxml_fs.esl.server import OutboundServer
from plivoxml_fs.fs import commands
from plivoxml_fs.testing import dbfs, goertzel, read_wav

FRAME = 320


def tone_frame(hz: float, n: int, amplitude: int = 8000) -> bytes:
    return struct.pack("<160h", *[int(amplitude * math.sin(2 * math.pi * hz * (n * 160 + i) / 8000))
                                  for i in range(160)])


def _frames_with(samples, hz: float) -> int:
    return sum(1 for i in range(0, len(samples) - 159, 160)
               if dbfs(goertzel(samples[i:i + 160], 8000, hz)) > -30)


def exchange(esl: tuple[str, int, str], socket_port: int, record_dir, *, make_server=None):
    """Run the exchange; returns a dict of what was measured."""
    host, port, password = esl
    record = f"{record_dir}/unicast-b.wav"
    done = gevent.event.Event()

    def handler(conn):
        conn.command("myevents")
        conn.execute("answer")
        conn.api(f"uuid_setvar {conn.uuid} RECORD_READ_ONLY true")
        conn.api(f"uuid_record {conn.uuid} start {record}")
        conn.execute("playback", "tone_stream://%(1000,0,600)")
        conn.execute("playback", "silence_stream://2600")
        conn.api(f"uuid_record {conn.uuid} stop {record}")
        done.set()
        with contextlib.suppress(ConnectionLost):  # the test may end the call first
            conn.execute("hangup")

    server = OutboundServer(("127.0.0.1", socket_port), handler, max_calls=2, command_timeout_s=10)
    server.start()
    client = InboundClient(host, port, password, events=(), on_event=lambda e: None,
                           reconnect_min_s=0.1, reconnect_max_s=1, command_timeout_s=10)
    client.start()
    ours = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    ours.bind(("127.0.0.1", 0))
    ours.settimeout(0.2)
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    fs_port = _free_udp_port()
    a_leg = f"unicast-{int(time.time() * 1000) % 1000000}"
    got: list[tuple[float, bytes, tuple]] = []
    try:
        assert client.wait_connected(5)
        client.api(f"originate {{origination_uuid={a_leg}}}loopback/7700/default &park")
        # its own park first (effects/aiagent.wait_parked: a unicast sent sooner is lost)
        assert wait_parked(lambda cmd: client.api(cmd, check=False), a_leg, 10)
        client.sendmsg(commands.unicast(a_leg, local=("127.0.0.1", fs_port),
                                        remote=ours.getsockname()))
        client.sendmsg(commands.execute("park", event_uuid=f"{a_leg}-park", uuid=a_leg))
        start = time.monotonic()
        paced = burst = None
        while not done.is_set() and time.monotonic() - start < 10:
            try:
                data, source = ours.recvfrom(4096)
                got.append((time.monotonic() - start, data, source))
            except TimeoutError:
                pass
            elapsed = time.monotonic() - start
            if paced is None and elapsed > 1.4:
                paced = 0
                paced_at = time.monotonic()
            if paced is not None and paced < 25 and time.monotonic() >= paced_at + paced * 0.02:
                sender.sendto(tone_frame(1000, paced), ("127.0.0.1", fs_port))
                paced += 1
            if burst is None and elapsed > 2.6:
                for n in range(25):
                    sender.sendto(tone_frame(1500, n), ("127.0.0.1", fs_port))
                burst = 25
        until("the B leg's recording stopped", done.is_set, timeout=10)
        samples, rate = read_wav(record)
    finally:
        client.api(f"uuid_kill {a_leg}", check=False)
        client.stop()
        server.stop(1)
        ours.close()
        sender.close()
    pcm = b"".join(d for _, d, _ in got)
    udp = list(struct.unpack(f"<{len(pcm) // 2}h", pcm))
    span = got[-1][0] - got[0][0] if len(got) > 1 else 0
    return {
        "sizes": {len(d) for _, d, _ in got},
        "sources": {s for _, _, s in got},
        "fs_port": fs_port,
        "per_second": (len(got) - 1) / span if span else 0,
        "tone_frames_sent": _frames_with(udp, 600),
        "tone_level": max(dbfs(goertzel(udp[i:i + 1600], 8000, 600))
                          for i in range(0, max(1, len(udp) - 1600), 1600)),
        "zero_frames": sum(1 for _, d, _ in got if d == bytes(FRAME)),
        "record_rate": rate,
        "paced_heard": _frames_with(samples, 1000),
        "paced_level": max(dbfs(goertzel(samples[i:i + 160], 8000, 1000))
                           for i in range(0, len(samples) - 159, 160)),
        "burst_heard": _frames_with(samples, 1500),
    }


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def check(result: dict) -> None:
    """What both FreeSWITCHes must show."""
    assert result["sizes"] == {FRAME}, result
    assert result["sources"] == {("127.0.0.1", result["fs_port"])}, result
    assert 45 <= result["per_second"] <= 55, result
    assert 45 <= result["tone_frames_sent"] <= 52, result  # 1 s of tone
    assert -11 < result["tone_level"] < -9.5, result  # the tone's -10.2 dBFS, unchanged
    assert result["zero_frames"] >= 50, result  # silence still goes out, as zero frames
    assert result["record_rate"] == 8000
    assert 24 <= result["paced_heard"] <= 26, result  # every paced frame is played
    assert -13 < result["paced_level"] < -11.5, result  # 8000/32768: -12.2 dBFS, unchanged
    assert result["burst_heard"] <= 6, result  # a burst is not queued for later (1.10.12: 2-4)
