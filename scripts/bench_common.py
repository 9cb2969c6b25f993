"""What the benchmark's modes share: the web app, child processes, /proc figures, percentiles.

scripts/bench.py is the entry point (it patches gevent first); bench_embedded.py is `make
bench` against the embedded FreeSWITCH, bench_real.py the `--freeswitch HOST:PORT` mode.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qsl

import gevent
from gevent.pywsgi import WSGIServer
from gevent.server import StreamServer

ROOT = Path(__file__).resolve().parent.parent
#: Where a child imports plivoxml_fs from: this checkout, or another one (a reference daemon,
#: --reference-code) named by this environment variable.
CODE_ENV = "PLIVOXML_FS_BENCH_CODE"
CODE = os.environ.get(CODE_ENV) or str(ROOT)
if CODE not in sys.path:
    sys.path.insert(0, CODE)

from plivoxml_fs.effects.signing import signature  # noqa: E402

#: The entry point every child process runs (`--child ...`).
ENTRY = Path(__file__).resolve().with_name("bench.py")
CHIME = ROOT / "examples" / "sounds" / "chime.wav"
#: Callers per room: consecutive calls share a room (`{room}` is filled in per call).
ROOM_SIZE = 4
PAGE = 4096
TICKS = os.sysconf("SC_CLK_TCK")
#: The auth token the burst's webhooks are signed with (the web app checks every signature).
BURST_TOKEN = "bench-auth-token"

def _report_and_wait(port: int, setup_s: list[float], means=None, events=None,
                     cpu_profile: str | None = None) -> None:
    """Say the bound port, wait for the parent's 'stop' line, then print setup latencies
    (and, with `cpu_profile`, where the CPU went meanwhile: bench_cpuprof.py)."""
    sampler = None
    if cpu_profile:
        from bench_cpuprof import Sampler

        sampler = Sampler()
        sampler.start()
    print(port, flush=True)
    gevent.get_hub().threadpool.spawn(sys.stdin.readline).get()
    report = {"setup_s": setup_s, "mean_ms": means() if means else {}, "events": events or {}}
    if sampler is not None:
        sampler.stop()
        sampler.write(cpu_profile)
        report["cpu_profile"] = {"file": cpu_profile, **sampler.summary()}
    print(json.dumps(report), flush=True)


def _latency_means() -> dict[str, float]:
    """Mean milliseconds per ESL command kind and per fetch, from the daemon's histograms."""
    from plivoxml_fs import metrics

    sums: dict[str, list[float]] = {}
    for family in metrics.REGISTRY.collect():
        for sample in family.samples:
            if sample.name.endswith(("_sum", "_count")) and "latency" in sample.name:
                key = sample.labels.get("command", "fetch")
                sums.setdefault(key, [0.0, 0.0])[sample.name.endswith("_count")] += sample.value
    return {k: round(1000 * total / count, 2) for k, (total, count) in sums.items() if count}


def room_for(to: str, size: int = ROOM_SIZE) -> str:
    """The room of the call to `to` (`b<n>`): `size` consecutive calls share one."""
    return member_of(to, size)[0]


def member_of(to: str, size: int) -> tuple[str, int]:
    """The room of the call to `to` (`b<n>`) and its place in it (0 .. size-1)."""
    digits = to.lstrip("b")
    if not digits.isdigit():
        return "bench-0", 0
    return f"bench-{int(digits) // size}", int(digits) % size



def _completes(message, app_uuid: str) -> bool:
    """Whether `message` is the CHANNEL_EXECUTE_COMPLETE of execution `app_uuid`."""
    if not message.is_event:
        return False
    event = message.event()
    return event.name == "CHANNEL_EXECUTE_COMPLETE" and event.get("Application-UUID") == app_uuid



class WebApp:
    """Answers the document, serves the chime, records when each hangup callback arrived."""

    def __init__(self, document: str, *, group: int = ROOM_SIZE) -> None:
        self.document = document.encode()
        #: With several documents, the k-th caller of each room of `group` gets the k-th one.
        self.documents: list[bytes] = []
        self.group = group
        self.callbacks: dict[str, float] = {}
        self.burst: list[tuple[float, float]] = []  # per burst webhook: (emitted, received)
        self.burst_bad_signatures = 0
        self.conference_callbacks = 0  # enter/exit posts of the conference document

    def __call__(self, environ, start_response):
        path = environ["PATH_INFO"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        form = environ["wsgi.input"].read(length).decode() if length else ""
        if path == "/answer.xml":
            start_response("200 OK", [("Content-Type", "application/xml")])
            room, place = member_of(dict(parse_qsl(form)).get("To", ""), self.group)
            document = self.documents[place % len(self.documents)] if self.documents \
                else self.document
            return [document.replace(b"{room}", room.encode())]
        if path == "/chime.wav":
            start_response("200 OK", [("Content-Type", "audio/wav")])
            return [CHIME.read_bytes()]
        if path == "/hangup":
            self.callbacks[dict(parse_qsl(form)).get("CallUUID", "")] = time.monotonic()
        if path == "/cb":
            self.conference_callbacks += 1
        if path == "/burst":
            self._burst(environ, form)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b""]


    def _burst(self, environ, form: str) -> None:
        headers = {k[5:].lower().replace("_", "-"): v for k, v in environ.items()
                   if k.startswith("HTTP_")}
        self.burst_request(headers, environ["PATH_INFO"], form)

    def burst_request(self, headers: dict[str, str], path: str, form: str) -> None:
        """A burst webhook arrived (lower-case header names): check its signature, note it."""
        now = time.monotonic()
        params = dict(parse_qsl(form, keep_blank_values=True))
        url = f"http://{headers['host']}{path}"
        nonce = headers.get("x-plivo-signature-v3-nonce", "")
        expected = signature(BURST_TOKEN, "POST", url, params, nonce)
        if headers.get("x-plivo-signature-v3") != expected:
            self.burst_bad_signatures += 1
        self.burst.append((float(params["BenchEmitted"]), now))


class BurstReceiver:
    """The burst's receiver: a keep-alive HTTP/1.1 server of its own (gevent StreamServer) that
    checks each request's signature and notes its arrival in `app.burst`, as WebApp does.

    Why not the web app's WSGI server: gevent.pywsgi costs ~0.4 ms of CPU a request, more than
    the outbox spends sending one (~0.25 ms), so with it the burst measured the receiver.
    This one reads the request line, the headers and a Content-Length body, and answers 200
    with an empty body; the signature is checked with the same code as the web app's."""

    def __init__(self, app: WebApp) -> None:
        self.app = app
        self.server = StreamServer(("127.0.0.1", 0), self._serve)

    def start(self) -> str:
        """Start listening; the base URL."""
        self.server.start()
        return f"http://127.0.0.1:{self.server.server_port}"

    def stop(self) -> None:
        self.server.stop(timeout=1)

    def _serve(self, sock, _address) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buf = b""
        while True:
            while b"\r\n\r\n" not in buf:
                data = sock.recv(65536)
                if not data:
                    return
                buf += data
            head, _, buf = buf.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length") or 0)
            while len(buf) < length:
                data = sock.recv(65536)
                if not data:
                    return
                buf += data
            form, buf = buf[:length].decode(), buf[length:]
            path = lines[0].split(" ")[1]
            self.app.burst_request(headers, path, form)
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")


class NoDelayServer(WSGIServer):
    """The web app's server with TCP_NODELAY, so Nagle and delayed ACKs (40 ms) stay out of the
    fetch and callback times (a POST's headers and body can go in separate writes)."""

    def handle(self, sock, address):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return super().handle(sock, address)


class Child:
    """A child process (daemon or baseline): its port, CPU seconds and RSS from /proc."""

    def __init__(self, args: list[str], code: str | None = None) -> None:
        env = {**os.environ, CODE_ENV: code} if code else None
        self.proc = subprocess.Popen(
            [sys.executable, str(ENTRY), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.port = int(self.proc.stdout.readline())

    def cpu_s(self) -> float:
        return proc_cpu_s(self.proc.pid)

    def rss_mb(self) -> float:
        pages = int(Path(f"/proc/{self.proc.pid}/statm").read_text().split()[1])
        return round(pages * PAGE / 2**20, 1)

    def finish(self) -> list[float]:
        self.proc.stdin.write("stop\n")
        self.proc.stdin.flush()
        report = json.loads(self.proc.stdout.readline())
        self.proc.wait(30)
        return report


def _pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 2)



def proc_cpu_s(pid: int) -> float:
    """utime+stime of process `pid` in seconds (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS
