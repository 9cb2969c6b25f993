"""Benchmark of the AI agent path: N concurrent AI streams (effects/aistream.py) in a child
process, between a FreeSWITCH stand-in and an AI service in this one. Prints one JSON object;
every figure is defined in its `definitions`.

This process plays FreeSWITCH's side of `unicast` (one 320-byte L16 frame every 20 ms per
stream to the stream's UDP port, and reads what the stream sends back) and the service's side
of the WebSocket (wsproto over gevent: it reads `media`, and sends one 20 ms `playAudio` every
20 ms, as a live speech synthesiser would). Each frame carries its number in its first two
samples, so each is followed from where it was sent to where it arrived. The child (the
daemon's code alone) is the only thing whose CPU is counted (/proc/<pid>/stat).

Clocks (all CLOCK_REALTIME, `time.time()`, one clock for both processes): a frame's send is
timed just before its `sendto`/`sendall`; a frame's arrival at FreeSWITCH's stand-in is the
kernel's receive timestamp of the datagram (SO_TIMESTAMPNS), so this process's own scheduling is
in either figure; the same for a `media` message's arrival at the service: the kernel's
receive timestamp of the TCP bytes that completed it (SO_TIMESTAMPNS on the stream: of the last
segment a recv returned, so an upper bound for a message earlier in it). So each figure is the
daemon's own work and scheduling plus loopback's delivery, not this process's.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import base64  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import socket  # noqa: E402
import struct  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
from gevent.server import StreamServer  # noqa: E402
from wsproto import ConnectionType, WSConnection  # noqa: E402
from wsproto.events import AcceptConnection, CloseConnection, Request, TextMessage  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FRAME_S = 0.02
#: The service speaks in talk spurts: SPURT_FRAMES frames at real-time pace, then GAP_FRAMES of
#: silence (nothing sent), as a live synthesiser answering in phrases.
SPURT_FRAMES = 50
GAP_FRAMES = 10
FRAME_BYTES = 320
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux; SCM_TIMESTAMPNS is the same


def tagged(counter: int) -> bytes:
    return struct.pack("<hh", counter % 32768, counter // 32768) + bytes(FRAME_BYTES - 4)


def tag_of(frame: bytes) -> int:
    low, high = struct.unpack("<hh", frame[:4])
    return low + high * 32768


def _pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000, 2)


# -- the child: the daemon's streams --------------------------------------------------------
def run_child(service_port: int, fs_ports: list[int], seconds: float) -> None:
    from plivoxml_fs.effects.aistream import AiStream, StreamSpec

    streams = [AiStream(StreamSpec(f"ws://127.0.0.1:{service_port}/s{i}", call_id=f"bench-{i}"),
                        fs_address=("127.0.0.1", port), emit=lambda webhook: None)
               for i, port in enumerate(fs_ports)]
    for stream in streams:
        stream.start()
    print(json.dumps([stream.udp_address[1] for stream in streams]), flush=True)
    gevent.sleep(seconds)
    for stream in streams:
        stream.stop("bench over")


# -- this process: FreeSWITCH's side and the service's --------------------------------------
class Bench:
    def __init__(self, streams: int) -> None:
        self.n = streams
        self.fs_sent = [dict() for _ in range(streams)]  # counter -> time sent by "FreeSWITCH"
        self.svc_got: list[dict] = [dict() for _ in range(streams)]  # counter -> media arrived
        self.svc_sent = [dict() for _ in range(streams)]  # counter -> playAudio sent
        self.fs_got: list[dict] = [dict() for _ in range(streams)]  # counter -> frame arrived
        self.first_of_spurt: list[set] = [set() for _ in range(streams)]  # after a pause
        self.started = [False] * streams
        self.running = True
        self.server = StreamServer(("127.0.0.1", 0), self._serve)
        self.fs_socks = []
        for _ in range(streams):
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind(("127.0.0.1", 0))
            sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            self.fs_socks.append(sock)

    # the service
    def _serve(self, sock, addr) -> None:
        ws = WSConnection(ConnectionType.SERVER)
        index: int | None = None
        partial = ""
        sender = None
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as asyncio's servers do
        while self.running:
            try:
                data, arrived = _recv_stamped(sock, 65536)
            except OSError:  # the streams' process ended
                break
            if not data:
                break
            ws.receive_data(data)
            for event in ws.events():
                if isinstance(event, Request):
                    index = int(event.target.lstrip("/s"))
                    sock.sendall(ws.send(AcceptConnection()))
                elif isinstance(event, TextMessage):
                    partial += event.data
                    if not event.message_finished:
                        continue
                    message, partial = json.loads(partial), ""
                    if message["event"] == "start":
                        self.started[index] = True
                        sender = gevent.spawn(self._speak, sock, ws, index)
                    elif message["event"] == "media":
                        frame = base64.b64decode(message["media"]["payload"])
                        self.svc_got[index].setdefault(tag_of(frame), arrived)
                elif isinstance(event, CloseConnection):
                    if sender is not None:
                        sender.kill()
                    return

    def _speak(self, sock, ws, index: int) -> None:
        counter, due = 1, time.monotonic()
        while self.running:
            due += FRAME_S
            if counter % SPURT_FRAMES == 1 and counter > 1:
                due += GAP_FRAMES * FRAME_S  # a pause between phrases
                self.first_of_spurt[index].add(counter)
            gevent.sleep(max(0.0, due - time.monotonic()))
            text = json.dumps({"event": "playAudio", "media": {
                "contentType": "audio/x-l16", "sampleRate": 8000,
                "payload": base64.b64encode(tagged(counter)).decode()}})
            self.svc_sent[index][counter] = time.time()
            try:
                sock.sendall(ws.send(TextMessage(data=text)))
            except OSError:
                return
            counter += 1

    # FreeSWITCH's unicast
    def _unicast(self, index: int, target: int) -> None:
        sock = self.fs_socks[index]
        counter, due = 1, time.monotonic()
        while self.running:
            due += FRAME_S
            gevent.sleep(max(0.0, due - time.monotonic()))
            self.fs_sent[index][counter] = time.time()
            sock.sendto(tagged(counter), ("127.0.0.1", target))
            counter += 1

    def _listen(self, index: int) -> None:
        """What the stream sends "FreeSWITCH", timed by the kernel as it arrives (FreeSWITCH
        would play it at its next frame)."""
        sock = self.fs_socks[index]
        while self.running:
            frame, arrived = _recv_stamped(sock, 4096)
            self.fs_got[index].setdefault(tag_of(frame), arrived)


def _recv_stamped(sock, size: int) -> tuple[bytes, float]:
    """recv, with the kernel's receive time of the (last) bytes read (SO_TIMESTAMPNS: UDP and,
    on Linux, TCP too); the time of the return when the kernel gives none."""
    data, ancdata, _, _ = sock.recvmsg(size, socket.CMSG_SPACE(16))
    for level, kind, raw in ancdata:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
            sec, nsec = struct.unpack("qq", raw[:16])
            return data, sec + nsec / 1e9
    return data, time.time()


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench(streams: int, seconds: float) -> dict:
    b = Bench(streams)
    b.server.start()
    fs_ports = [s.getsockname()[1] for s in b.fs_socks]
    child = subprocess.Popen(
        [sys.executable, __file__, "--child", "--service-port", str(b.server.server_port),
         "--fs-ports", ",".join(map(str, fs_ports)), "--seconds", str(seconds + 4)],
        stdout=subprocess.PIPE)
    targets = json.loads(child.stdout.readline())
    deadline = time.monotonic() + 10
    while not all(b.started) and time.monotonic() < deadline:
        gevent.sleep(0.01)
    pumps = [gevent.spawn(b._unicast, i, port) for i, port in enumerate(targets)]
    pumps += [gevent.spawn(b._listen, i) for i in range(streams)]
    gevent.sleep(1.0)  # warm-up, not measured
    window = (time.time(), None)
    cpu0 = _cpu_s(child.pid)
    gevent.sleep(seconds)
    cpu1 = _cpu_s(child.pid)
    window = (window[0], time.time())
    gevent.sleep(0.5)  # let the last frames in the window arrive
    child.terminate()  # before the service goes: its streams would say "failed"
    child.wait(timeout=15)
    b.running = False
    gevent.killall(pumps)
    b.server.stop(timeout=1)

    def latencies(sent: list[dict], got: list[dict], only: list[set] | None = None
                  ) -> tuple[list[float], int, int]:
        values, lost, total = [], 0, 0
        for i, (s, g) in enumerate(zip(sent, got, strict=True)):
            for counter, at in s.items():
                if not window[0] <= at <= window[1]:
                    continue
                if only is not None and counter not in only[i]:
                    continue
                total += 1
                if counter in g:
                    values.append(g[counter] - at)
                else:
                    lost += 1
        return values, lost, total

    up, up_lost, up_total = latencies(b.fs_sent, b.svc_got)
    down, down_lost, down_total = latencies(b.svc_sent, b.fs_got)
    first, _, first_total = latencies(b.svc_sent, b.fs_got, b.first_of_spurt)
    return {
        "ai_streams": streams,
        "seconds": seconds,
        "room_to_service_ms": {"p50": _pct(up, 50), "p99": _pct(up, 99), "frames": up_total},
        "service_to_room_ms": {"p50": _pct(down, 50), "p99": _pct(down, 99),
                               "frames": down_total},
        "service_to_room_first_frame_ms": {"p50": _pct(first, 50), "p99": _pct(first, 99),
                                           "frames": first_total},
        "frames_lost": {"room_to_service": up_lost, "service_to_room": down_lost},
        "daemon_cpu_ms_per_stream_per_s": round((cpu1 - cpu0) * 1000 / streams / seconds, 3),
        "definitions": {
            "room_to_service_ms": "from FreeSWITCH's stand-in sending a frame (before its "
                                  "sendto) to the kernel receiving the TCP bytes of its "
                                  "media message at the service: the daemon's receive, "
                                  "encode and send",
            "service_to_room_ms": "from the service sending a 20 ms playAudio (before its "
                                  "sendall) to the kernel receiving the frame at FreeSWITCH's "
                                  "stand-in: the daemon's receive, decode and pacing (a frame "
                                  "after a silence goes at once when FreeSWITCH's frame is "
                                  "under 10 ms old, else it waits for FreeSWITCH's next frame: "
                                  "0 to 10 ms by the phase of the two clocks)",
            "service_to_room_first_frame_ms": "the same for the first frame of each talk "
                                              f"spurt (the service sends {SPURT_FRAMES} "
                                              "frames at real-time pace, then pauses "
                                              f"{GAP_FRAMES * 20} ms): a later frame of a "
                                              "spurt may also wait behind the frames before "
                                              "it when a clock hiccuped",
            "frames_lost": "frames sent within the window that never arrived",
            "daemon_cpu_ms_per_stream_per_s": "the streams' process CPU (user+system) over the "
                                              "window, per stream and second",
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--streams", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--service-port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--fs-ports", help=argparse.SUPPRESS)
    opts = parser.parse_args(argv)
    if opts.child:
        run_child(opts.service_port, [int(p) for p in opts.fs_ports.split(",")], opts.seconds)
        return 0
    print(json.dumps(bench(opts.streams, opts.seconds), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
