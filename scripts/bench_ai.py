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

Service -> room is measured from the frame's *due* time, not from its send: the stream plays
what the service sends locked to FreeSWITCH's frames (effects/aistream.py, docs/ai-agent.md
"Pacing"), so a frame waits for FreeSWITCH's next one by the phase of the two clocks (0 to 20
ms, whatever the daemon's speed), and behind the frames the service sent before it. When each
frame is due is what an ideal stream (no time of its own) would do with the same times: this
process replays the pacing rule on the stand-in's frame times and the service's send times.
The wait until due is reported beside it (`pacing_wait_ms`), and the sum (`..._total_ms`).

`--busy-cores N` runs N spinning processes beside the bench (the other core busy); the load
average (/proc/loadavg) is read when the window opens and closes.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import base64  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
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
from wsproto.utilities import LocalProtocolError  # noqa: E402

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

    flips = {"start": 0, "stop": 0}  # the audio start/stop hook (ParticipantAudioStart/Stop)

    def on_audio(playing: bool) -> None:
        flips["start" if playing else "stop"] += 1

    streams = [AiStream(StreamSpec(f"ws://127.0.0.1:{service_port}/s{i}", call_id=f"bench-{i}"),
                        fs_address=("127.0.0.1", port), emit=lambda webhook: None,
                        on_audio=on_audio)
               for i, port in enumerate(fs_ports)]
    for stream in streams:
        stream.start()
    print(json.dumps([stream.udp_address[1] for stream in streams]), flush=True)
    # the parent asks for the counts (SIGUSR1) when its window closes
    gevent.signal_handler(signal.SIGUSR1, lambda: print(json.dumps(flips), flush=True))
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
            except (OSError, LocalProtocolError):  # the stream closed
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


def due_times(ticks: dict, sent: dict) -> dict:
    """counter -> when an ideal stream would send the service's frame `counter` to FreeSWITCH:
    the stream's own rule (stream/pacing.py FrameLock) replayed on FreeSWITCH's frames' send
    times (`ticks`) and the service's (`sent`), with no time of its own: one queued frame
    goes at each tick; a frame arriving with nothing queued goes at once when the lock says
    it may."""
    from plivoxml_fs.stream.pacing import FrameLock

    events = sorted([(at, 0, None) for at in ticks.values()]
                    + [(at, 1, counter) for counter, at in sent.items()])
    lock, queue, due = FrameLock(), [], {}
    for at, kind, counter in events:
        if kind == 0:
            if queue:
                due[queue.pop(0)] = at
                lock.tick(at, True)
            else:
                lock.tick(at, False)
            continue
        queue.append(counter)
        if len(queue) == 1 and lock.may_send_now(at):
            due[queue.pop(0)] = at
            lock.sent_now()
    return due


GRACE_S = 5.0


def _missing(b: Bench, window: tuple) -> bool:
    """A frame sent within the window has not arrived yet (either direction)."""
    for sent_by, got_by in ((b.fs_sent, b.svc_got), (b.svc_sent, b.fs_got)):
        for sent, got in zip(sent_by, got_by, strict=True):
            if any(window[0] <= at <= window[1] and counter not in got
                   for counter, at in list(sent.items())):
                return True
    return False


def _loadavg() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench(streams: int, seconds: float, busy_cores: int = 0, child_nice: int = 0) -> dict:
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                for _ in range(busy_cores)]
    try:
        return _bench(streams, seconds, busy_cores, child_nice)
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def _bench(streams: int, seconds: float, busy_cores: int, child_nice: int) -> dict:
    b = Bench(streams)
    b.server.start()
    fs_ports = [s.getsockname()[1] for s in b.fs_socks]
    child = subprocess.Popen(
        [sys.executable, __file__, "--child", "--service-port", str(b.server.server_port),
         "--fs-ports", ",".join(map(str, fs_ports)), "--seconds", str(seconds + 4 + GRACE_S)],
        stdout=subprocess.PIPE, preexec_fn=(lambda: os.nice(child_nice)) if child_nice else None)
    targets = json.loads(child.stdout.readline())
    deadline = time.monotonic() + 10
    while not all(b.started) and time.monotonic() < deadline:
        gevent.sleep(0.01)
    pumps = [gevent.spawn(b._unicast, i, port) for i, port in enumerate(targets)]
    pumps += [gevent.spawn(b._listen, i) for i in range(streams)]
    gevent.sleep(1.0)  # warm-up, not measured
    window = (time.time(), None)
    load0 = _loadavg()
    cpu0, own0 = _cpu_s(child.pid), _cpu_s(os.getpid())
    gevent.sleep(seconds)
    cpu1, own1 = _cpu_s(child.pid), _cpu_s(os.getpid())
    window = (window[0], time.time())
    load1 = _loadavg()
    child.send_signal(signal.SIGUSR1)
    flips = json.loads(child.stdout.readline())
    # let the last frames in the window arrive: a frame queued behind a stall comes late, not
    # never (up to GRACE_S; what is still missing then is counted lost)
    grace = time.monotonic() + GRACE_S
    while time.monotonic() < grace and _missing(b, window):
        gevent.sleep(0.05)
    child.terminate()  # before the service goes: its streams would say "failed"
    child.wait(timeout=15)
    b.running = False
    gevent.killall(pumps)
    b.server.stop(timeout=1)

    def latencies(start: list[dict], got: list[dict], only: list[set] | None = None
                  ) -> tuple[list[float], int, int]:
        """got - start per frame in the window (by its send time, b.fs_sent/b.svc_sent)."""
        values, lost, total = [], 0, 0
        for i, (s, g) in enumerate(zip(start, got, strict=True)):
            sent = b.fs_sent[i] if start is b.fs_sent else b.svc_sent[i]
            for counter, at in s.items():
                if not window[0] <= sent.get(counter, 0.0) <= window[1]:
                    continue
                if only is not None and counter not in only[i]:
                    continue
                total += 1
                if counter in g:
                    values.append(g[counter] - at)
                else:
                    lost += 1
        return values, lost, total

    def figures(values: list[float], frames: int) -> dict:
        return {"p50": _pct(values, 50), "p99": _pct(values, 99), "frames": frames}

    due = [due_times(ticks, sent) for ticks, sent in zip(b.fs_sent, b.svc_sent, strict=True)]
    up, up_lost, up_total = latencies(b.fs_sent, b.svc_got)
    total, down_lost, down_total = latencies(b.svc_sent, b.fs_got)
    down, _, _ = latencies(due, b.fs_got)
    first, _, first_total = latencies(due, b.fs_got, b.first_of_spurt)
    wait, _, _ = latencies(b.svc_sent, due)
    return {
        "ai_streams": streams,
        "seconds": seconds,
        "busy_cores": busy_cores,
        "child_nice": child_nice,
        "load_average_1min": {"window_start": load0, "window_end": load1,
                              "cores": os.cpu_count()},
        "room_to_service_ms": figures(up, up_total),
        "service_to_room_ms": figures(down, down_total),
        "service_to_room_first_frame_ms": figures(first, first_total),
        "pacing_wait_ms": figures(wait, down_total),
        "service_to_room_total_ms": figures(total, down_total),
        "frames_lost": {"room_to_service": up_lost, "service_to_room": down_lost},
        "audio_start_stop_per_stream": {
            "start": round(flips["start"] / streams, 1), "stop": round(flips["stop"] / streams, 1),
            "talk_spurts": round(sum(len(f) for f in b.first_of_spurt) / streams + 1, 1)},
        "daemon_cpu_ms_per_stream_per_s": round((cpu1 - cpu0) * 1000 / streams / seconds, 3),
        "bench_cpu_ms_per_s": round((own1 - own0) * 1000 / seconds, 1),
        "definitions": {
            "room_to_service_ms": "from FreeSWITCH's stand-in sending a frame (before its "
                                  "sendto) to the kernel receiving the TCP bytes of its "
                                  "media message at the service: the daemon's receive, "
                                  "encode and send",
            "service_to_room_ms": "latency added by the daemon: from when the service's 20 ms "
                                  "frame is due (see pacing_wait_ms) to the kernel receiving "
                                  "it at FreeSWITCH's stand-in: the daemon's receive, decode, "
                                  "its reaction to FreeSWITCH's frame and its send",
            "pacing_wait_ms": "from the service sending a playAudio (before its sendall) to "
                              "when it is due: the time an ideal stream (no time of its own, "
                              "the same pacing rule replayed on the same send times) holds "
                              "it for FreeSWITCH's clock: the frame after a silence goes at "
                              "once when FreeSWITCH's last frame is under 10 ms old, every "
                              "other waits for FreeSWITCH's next frame (0 to 20 ms by the "
                              "phase of the two clocks) and behind the frames queued before "
                              "it (the service's choice)",
            "service_to_room_total_ms": "pacing_wait_ms + service_to_room_ms: from the "
                                        "service's send to the frame's arrival",
            "service_to_room_first_frame_ms": "service_to_room_ms for the first frame of each "
                                              f"talk spurt (the service sends {SPURT_FRAMES} "
                                              "frames at real-time pace, then pauses "
                                              f"{GAP_FRAMES * 20} ms)",
            "frames_lost": "frames sent within the window that had not arrived "
                           f"{GRACE_S:.0f} s after it closed",
            "audio_start_stop_per_stream": "the stream's audio start/stop hook (the MPC's "
                                           "ParticipantAudioStart/Stop) per stream, from the "
                                           "start to the window's end, beside the talk spurts "
                                           "the service sent: one start and one stop each",
            "daemon_cpu_ms_per_stream_per_s": "the streams' process CPU (user+system) over the "
                                              "window, per stream and second",
            "bench_cpu_ms_per_s": "this process's CPU (FreeSWITCH's stand-in and the service "
                                  "for every stream), competing for the same cores",
            "load_average_1min": "/proc/loadavg's 1-minute figure when the window opened and "
                                 "closed (busy_cores spinning processes of the bench in it)",
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--streams", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--busy-cores", type=int, default=0,
                        help="spinning processes run beside the bench (a busy core each)")
    parser.add_argument("--child-nice", type=int, default=0,
                        help="the streams' process runs at this nice value (negative: root)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--service-port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--fs-ports", help=argparse.SUPPRESS)
    opts = parser.parse_args(argv)
    if opts.child:
        run_child(opts.service_port, [int(p) for p in opts.fs_ports.split(",")], opts.seconds)
        return 0
    print(json.dumps(bench(opts.streams, opts.seconds, opts.busy_cores, opts.child_nice), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
