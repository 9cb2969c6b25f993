"""Benchmark: N calls through the daemon against the embedded FreeSWITCH, and a baseline.

This process runs the embedded FreeSWITCH and a local web app (answer document, hangup
callbacks). The daemon (`plivoxml_fs.service.Daemon`) runs in a child process, so its CPU time
and RSS are read from /proc alone. Then the same calls run against a baseline child: a minimal
hand-written outbound ESL handler (gevent sockets and our codec, no fetch, no validation, no
outbox) that sends the same applications. Prints one JSON object; every figure is defined in
its `definitions`.

The document is a parameter (`--document FILE`, `{base}` is replaced by the web app's URL and
`{room}` by the call's room); the default puts every ROOM_SIZE consecutive callers in one
<Conference> room with an entry beep and enter/exit callbacks, ended by its timeLimit (--wait).
The baseline does the daemon's ESL exchange for that default document; with --document it is
only a rough floor.

A last phase (`--burst N`, 0 to skip) measures callback delivery alone: a child process emits N
signed webhooks back to back into a fresh `Outbox` (effects/outbox.py, its own temporary state
directory, the default callback settings) aimed at the web app, which checks each signature.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid as uuidlib  # noqa: E402
from pathlib import Path  # noqa: E402
from urllib.parse import parse_qsl  # noqa: E402

import gevent  # noqa: E402
import gevent.lock  # noqa: E402
from gevent.pywsgi import WSGIServer  # noqa: E402
from gevent.server import StreamServer  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from plivoxml_fs.effects.signing import signature  # noqa: E402
from plivoxml_fs.esl.codec import MessageParser, encode_command  # noqa: E402

CHIME = ROOT / "examples" / "sounds" / "chime.wav"
#: Callers per room: consecutive calls share a room (`{room}` is filled in per call).
ROOM_SIZE = 4
DEFAULT_DOCUMENT = """<Response>
    <Conference enterSound="beep:1" timeLimit="{wait}" callbackUrl="{base}/cb">{room}</Conference>
</Response>"""
#: What the baseline sends for the default document: the daemon's exchange for it (answer,
#: the join's variables, the conference; the member kicked at the time limit; hangup).
BASELINE_SETS = (
    "hangup_after_conference=false",
    "conference_max_members=20",
    "conference_enter_sound=tone_stream://%(200,0,400)",
)
BASELINE_FLAGS = "+flags{moderator|dist-dtmf}"
PAGE = 4096
TICKS = os.sysconf("SC_CLK_TCK")


# -- the child processes ------------------------------------------------------------------


def _report_and_wait(port: int, setup_s: list[float], means=None) -> None:
    """Say the bound port, wait for the parent's 'stop' line, then print setup latencies."""
    print(port, flush=True)
    gevent.get_hub().threadpool.spawn(sys.stdin.readline).get()
    report = {"setup_s": setup_s, "mean_ms": means() if means else {}}
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


def run_daemon_child(answer_url: str, hangup_url: str, concurrency: int) -> None:
    """The real daemon; setup latency = accept to the `conference` execute sent."""
    from plivoxml_fs.config import Settings
    from plivoxml_fs.esl import transport
    from plivoxml_fs.service import Daemon

    setup_s: list[float] = []
    accepted: dict[int, float] = {}
    original_init = transport.OutboundConnection.__init__
    original_request = transport.EslConnection.request

    def timed_init(self, *args, **kwargs):
        accepted[id(self)] = time.monotonic()
        original_init(self, *args, **kwargs)

    def timed_request(self, line, headers=(), body=None, **kwargs):
        if line.startswith("sendmsg") and ("execute-app-name", "conference") in tuple(headers):
            started = accepted.pop(id(self), None)
            if started is not None:
                setup_s.append(time.monotonic() - started)
        return original_request(self, line, headers, body, **kwargs)

    transport.OutboundConnection.__init__ = timed_init
    transport.EslConnection.request = timed_request
    with tempfile.TemporaryDirectory(prefix="plivoxml-fs-bench-") as state:
        settings = Settings(
            listen_port=0,
            metrics_port=0,
            max_calls=concurrency * 2,
            answer_url=answer_url,
            hangup_url=hangup_url,
            state_dir=state,
            linger_s=1,
            log_level="WARNING",
        )
        daemon = Daemon(settings)
        daemon.start_server()
        _report_and_wait(daemon.address[1], setup_s, _latency_means)
        daemon.stop(drain_timeout_s=5)


def run_baseline_child(base: str, wait_s: int) -> None:
    """A minimal outbound ESL handler doing the daemon's exchange for the default document:
    answer, the join's variables, `conference`, the member kicked at the time limit, hangup.
    Nothing is fetched, validated or posted."""
    setup_s: list[float] = []

    def handle(sock, _address):
        started = time.monotonic()
        parser = MessageParser()
        pending: list = []

        def read_until(match):
            while True:
                while pending:
                    message = pending.pop(0)
                    if match(message):
                        return message
                data = sock.recv(65536)
                if not data:
                    return None
                pending.extend(parser.feed(data))

        def command(line, headers=(), body=None):
            sock.sendall(encode_command(line, headers, body))
            return read_until(lambda m: m.content_type in ("command/reply", "api/response"))

        def execute(app, arg):
            app_uuid = str(uuidlib.uuid4())
            headers = [("call-command", "execute"), ("execute-app-name", app),
                       ("event-lock", "true"), ("Event-UUID", app_uuid)]
            if arg:
                headers.append(("content-type", "text/plain"))
            command("sendmsg", headers, arg.encode() if arg else None)
            return app_uuid

        reply = command("connect")
        room = room_for(reply.get("Caller-Destination-Number") or "") if reply else "bench-0"
        command("myevents")
        command("event plain BACKGROUND_JOB CUSTOM conference::maintenance")
        answered = execute("answer", "")
        if read_until(lambda m: _completes(m, answered)) is None:
            return
        for variable in BASELINE_SETS:
            execute("set", variable)
        setup_s.append(time.monotonic() - started)
        joined = execute("conference", f"{room}@default{BASELINE_FLAGS}")
        added = read_until(lambda m: m.is_event and m.event().get("Action") == "add-member")
        if added is None:
            return
        gevent.sleep(max(0.0, started + wait_s - time.monotonic()))
        command(f"api conference {room} kick {added.event().get('Member-ID')}")
        if read_until(lambda m: _completes(m, joined)) is None:
            return
        command("sendmsg", [("call-command", "hangup"), ("hangup-cause", "NORMAL_CLEARING")])
        command("exit")
        while sock.recv(65536):
            pass

    server = StreamServer(("127.0.0.1", 0), handle)
    server.start()
    _report_and_wait(server.address[1], setup_s)


def room_for(to: str) -> str:
    """The room of the call to `to` (`b<n>`): ROOM_SIZE consecutive calls share one."""
    digits = to.lstrip("b")
    return f"bench-{int(digits) // ROOM_SIZE}" if digits.isdigit() else "bench-0"


#: The auth token the burst's webhooks are signed with (the web app checks every signature).
BURST_TOKEN = "bench-auth-token"
#: Seconds the burst child waits for its outbox to deliver everything.
BURST_FLUSH_S = 60.0


def burst_params(n: int) -> dict[str, str]:
    """A hangup callback's worth of parameters for burst webhook `n`, stamped when emitted."""
    return {
        "CallUUID": f"burst-{n}",
        "Event": "Hangup",
        "Direction": "inbound",
        "From": "1001",
        "To": "2002",
        "CallStatus": "completed",
        "HangupCause": "NORMAL_CLEARING",
        "HangupCauseName": "Normal Hangup",
        "Duration": "12",
        "BillDuration": "12",
        "StartTime": "2026-11-24 12:00:00",
        "AnswerTime": "2026-11-24 12:00:01",
        "EndTime": "2026-11-24 12:00:13",
        "BenchEmitted": f"{time.monotonic():.6f}",
    }


def _counter(name: str) -> int:
    """A counter of plivoxml_fs.metrics, as this process counted it."""
    from plivoxml_fs import metrics

    return int(metrics.REGISTRY.get_sample_value(f"plivoxml_fs_{name}") or 0)


def run_outbox_child(url: str, count: int) -> None:
    """A fresh outbox: on the parent's line, emit `count` webhooks (one call each), yielding
    after each emit as a daemon's greenlets would; flush; print emit and CPU figures."""
    from plivoxml_fs.config import Settings
    from plivoxml_fs.effects.outbox import Outbox
    from plivoxml_fs.effects.webhook import Webhook

    with tempfile.TemporaryDirectory(prefix="plivoxml-fs-bench-outbox-") as state:
        settings = Settings(state_dir=state, auth_token=BURST_TOKEN, log_level="WARNING")
        outbox = Outbox.from_settings(settings)
        outbox.start()
        print(0, flush=True)
        gevent.get_hub().threadpool.spawn(sys.stdin.readline).get()
        cpu0 = time.process_time()
        emit_s = 0.0
        for n in range(count):
            hook = Webhook(url=url, method="POST", params=burst_params(n), call_uuid=f"burst-{n}",
                           kind="hangup")
            started = time.monotonic()
            outbox.emit(hook)
            emit_s += time.monotonic() - started
            gevent.sleep(0)
        flushed = outbox.flush(BURST_FLUSH_S)
        cpu = time.process_time() - cpu0
        outbox.stop()
        report = {"flushed": flushed, "cpu_s": cpu, "emit_s": emit_s,
                  "pool_size": settings.callback_pool_size,
                  "failed_attempts": _counter("callbacks_failed_total")}
        print(json.dumps(report), flush=True)


def _completes(message, app_uuid: str) -> bool:
    """Whether `message` is the CHANNEL_EXECUTE_COMPLETE of execution `app_uuid`."""
    if not message.is_event:
        return False
    event = message.event()
    return event.name == "CHANNEL_EXECUTE_COMPLETE" and event.get("Application-UUID") == app_uuid


# -- the parent: web app, embedded FreeSWITCH, load -----------------------------------------


class WebApp:
    """Answers the document, serves the chime, records when each hangup callback arrived."""

    def __init__(self, document: str) -> None:
        self.document = document.encode()
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
            room = room_for(dict(parse_qsl(form)).get("To", ""))
            return [self.document.replace(b"{room}", room.encode())]
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
        now = time.monotonic()
        params = dict(parse_qsl(form, keep_blank_values=True))
        url = f"http://{environ['HTTP_HOST']}{environ['PATH_INFO']}"
        nonce = environ.get("HTTP_X_PLIVO_SIGNATURE_V3_NONCE", "")
        expected = signature(BURST_TOKEN, "POST", url, params, nonce)
        if environ.get("HTTP_X_PLIVO_SIGNATURE_V3") != expected:
            self.burst_bad_signatures += 1
        self.burst.append((float(params["BenchEmitted"]), now))


class NoDelayServer(WSGIServer):
    """The web app's server with TCP_NODELAY, so Nagle and delayed ACKs (40 ms) stay out of the
    fetch and callback times (a POST's headers and body can go in separate writes)."""

    def handle(self, sock, address):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return super().handle(sock, address)


class Child:
    """A child process (daemon or baseline): its port, CPU seconds and RSS from /proc."""

    def __init__(self, args: list[str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.port = int(self.proc.stdout.readline())

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS

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


def drive(fs, child: Child, app: WebApp | None, opts) -> dict:
    """Originate `calls` calls at `rate`/s, at most `concurrency` at once; measure."""
    from plivoxml_fs.simulator import EmbeddedFreeSwitch

    assert isinstance(fs, EmbeddedFreeSwitch)
    fs.socket_address = ("127.0.0.1", child.port)
    gate = gevent.lock.BoundedSemaphore(opts.concurrency)
    done: list[float] = []
    hung_up: dict[str, float] = {}
    failed = [0]
    active = [0]
    peak = [0]
    rss: dict[str, float] = {}
    marks = {max(1, opts.calls // 10): "rss_mb_at_first_tenth", opts.calls: "rss_mb_at_end"}

    def one(n: int) -> None:
        try:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
            a_leg = fs.originate(f"{{origination_uuid=bench-{n}-{uuidlib.uuid4()}}}loopback/b{n}")
            if not fs.wait_hangup(a_leg, 120):
                failed[0] += 1
                return
            b_leg = fs.channel(a_leg).variables.get("other_loopback_leg_uuid", "")
            hung_up[b_leg] = time.monotonic()
        except Exception:  # count it, keep the load going
            failed[0] += 1
        finally:
            active[0] -= 1
            gate.release()
            done.append(time.monotonic())
            label = marks.get(len(done))
            if label:
                rss[label] = child.rss_mb()

    cpu0, t0 = child.cpu_s(), time.monotonic()
    greenlets = []
    for n in range(opts.calls):
        gate.acquire()
        greenlets.append(gevent.spawn(one, n))
        gevent.sleep(max(0.0, t0 + (n + 1) / opts.rate - time.monotonic()))
    gevent.joinall(greenlets)
    if app is not None:
        deadline = time.monotonic() + 30
        while len(app.callbacks) < len(hung_up) and time.monotonic() < deadline:
            gevent.sleep(0.05)
    elapsed = time.monotonic() - t0
    cpu = child.cpu_s() - cpu0
    report = child.finish()
    setup = report["setup_s"]
    result = {
        "calls": opts.calls,
        "failed": failed[0],
        "executed": len(setup),
        "peak_concurrent": peak[0],
        "seconds": round(elapsed, 2),
        "calls_per_s": round(len(done) / elapsed, 2),
        "setup_ms_p50": _ms(_pct(setup, 50)),
        "setup_ms_p99": _ms(_pct(setup, 99)),
        "cpu_s_total": round(cpu, 3),
        "cpu_ms_per_call": round(1000 * cpu / max(1, len(done)), 3),
        **rss,
    }
    if report["mean_ms"]:
        result["mean_ms_by_command"] = report["mean_ms"]
    if app is not None:
        lags = [app.callbacks[u] - t for u, t in hung_up.items() if u in app.callbacks]
        arrived = sorted(app.callbacks.values())
        span = (arrived[-1] - arrived[0]) if len(arrived) > 1 else 0.0
        result["conference_callbacks_received"] = app.conference_callbacks
        result["callbacks_delivered"] = len(arrived)
        result["callbacks_per_s"] = round(len(arrived) / span, 2) if span else None
        result["outbox_lag_ms_p50"] = _ms(_pct(lags, 50))
        result["outbox_lag_ms_p99"] = _ms(_pct(lags, 99))
    return result


def burst(app: WebApp, base: str, count: int) -> dict:
    """Emit `count` webhooks in a fresh outbox child; measure delivery at the web app."""
    child = Child(["--child", "outbox", "--base", base, "--burst", str(count)])
    app.burst.clear()
    app.burst_bad_signatures = 0
    child.proc.stdin.write("go\n")
    child.proc.stdin.flush()
    deadline = time.monotonic() + BURST_FLUSH_S
    while len(app.burst) < count and time.monotonic() < deadline:
        gevent.sleep(0.02)
    report = json.loads(child.proc.stdout.readline())
    child.proc.wait(30)
    lags = [received - emitted for emitted, received in app.burst]
    span = max(r for _, r in app.burst) - min(e for e, _ in app.burst) if app.burst else 0.0
    return {
        "webhooks": count,
        "delivered": len(app.burst),
        "bad_signatures": app.burst_bad_signatures,
        "failed_attempts": report["failed_attempts"],
        "pool_size": report["pool_size"],
        "seconds": round(span, 3),
        "delivered_per_s": round(len(app.burst) / span, 1) if span else None,
        "lag_ms_p50": _ms(_pct(lags, 50)),
        "lag_ms_p99": _ms(_pct(lags, 99)),
        "emit_ms_mean": round(1000 * report["emit_s"] / max(1, count), 3),
        "cpu_ms_per_callback": round(1000 * report["cpu_s"] / max(1, len(app.burst)), 3),
    }


DEFINITIONS = {
    "setup_ms": "in the child: outbound socket accepted -> the `conference` execute sent (the "
    "daemon has answered, fetched and validated the answer document and set the join's "
    "variables by then; the baseline answers and sets the same variables, fetching nothing)",
    "executed": "calls that reached the conference application",
    "conference_callbacks_received": "enter and exit callbacks the web app received (2 a call)",
    "calls_per_s": "completed calls / wall seconds from the first originate to the last hangup",
    "cpu_ms_per_call": "child's utime+stime (/proc/<pid>/stat) over the run / completed calls",
    "rss_mb_at_first_tenth": "child's resident set after calls/10 completed (200 of 2,000)",
    "rss_mb_growth_pct": "(rss at end - rss at first tenth) / rss at first tenth",
    "callbacks_per_s": "hangup callbacks received / seconds between the first and the last; "
    "bounded by the call rate, not a delivery-throughput test",
    "outbox_lag_ms": "a call's hangup seen by the embedded FreeSWITCH -> its callback received",
    "mean_ms_by_command": "daemon: mean ESL round trip per command kind, and per document fetch",
    "cpu_ratio_to_baseline": "daemon cpu_ms_per_call / baseline cpu_ms_per_call",
    "outbox_burst": "a child process emits `webhooks` signed POST webhooks (a hangup callback's "
    "parameters, one call uuid each) back to back into a fresh Outbox (its own SQLite file, "
    "default callback settings, pool_size workers), yielding after each emit; the web app checks "
    "each signature (bad_signatures) and notes when each arrived",
    "outbox_burst.delivered_per_s": "webhooks received by the web app / seconds from the first "
    "emit to the last receipt",
    "outbox_burst.lag_ms": "a webhook's emit (outbox.emit called, monotonic clock) -> its request "
    "received by the web app; includes waiting behind the rest of the burst",
    "outbox_burst.emit_ms_mean": "mean time inside outbox.emit (the SQLite write)",
    "outbox_burst.cpu_ms_per_callback": "the outbox child's CPU from the first emit to the end of "
    "its flush / webhooks delivered",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=500)
    parser.add_argument("--rate", type=float, default=50.0, help="new calls per second")
    parser.add_argument("--wait", type=int, default=2,
                        help="timeLimit (s) of the default document's rooms: how long calls last")
    parser.add_argument("--time-scale", type=float, default=1.0, help="simulator media speed")
    parser.add_argument("--document", help="XML file to answer with ({base} = web app URL)")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--profile", help="write the daemon child's cProfile stats here")
    parser.add_argument("--quick", action="store_true", help="200 calls, 100 at once")
    parser.add_argument(
        "--burst", type=int, default=2000, help="webhooks in the outbox burst phase (0: none)"
    )
    parser.add_argument("--child", choices=("daemon", "baseline", "outbox"), help=argparse.SUPPRESS)
    parser.add_argument("--base", help=argparse.SUPPRESS)
    opts = parser.parse_args(argv)
    if opts.child == "daemon":
        urls = (f"{opts.base}/answer.xml", f"{opts.base}/hangup")
        if not opts.profile:
            run_daemon_child(*urls, opts.concurrency)
            return 0
        import cProfile

        profiler = cProfile.Profile(time.process_time)  # CPU, not greenlet waits
        profiler.runcall(run_daemon_child, *urls, opts.concurrency)
        profiler.dump_stats(opts.profile)
        return 0
    if opts.child == "baseline":
        run_baseline_child(opts.base, opts.wait)
        return 0
    if opts.child == "outbox":
        run_outbox_child(f"{opts.base}/burst", opts.burst)
        return 0
    if opts.quick:
        opts.calls, opts.concurrency = min(opts.calls, 200), min(opts.concurrency, 100)
    print(json.dumps(bench(opts), indent=2))
    return 0


def bench(opts) -> dict:
    from plivoxml_fs.simulator import EmbeddedFreeSwitch

    if opts.document:
        document, name = Path(opts.document).read_text(), opts.document
    else:
        document = DEFAULT_DOCUMENT.replace("{wait}", str(opts.wait))
        name = f"<Conference> rooms of {ROOM_SIZE} callers, timeLimit {opts.wait} s, callbacks"
    app = WebApp("")
    web = NoDelayServer(("127.0.0.1", 0), app, log=None, error_log=None)
    web.start()
    base = f"http://127.0.0.1:{web.server_port}"
    app.document = document.replace("{base}", base).encode()
    common = ["--base", base, "--concurrency", str(opts.concurrency), "--wait", str(opts.wait)]
    profile = ["--profile", opts.profile] if opts.profile else []
    with tempfile.TemporaryDirectory() as media:
        fs = EmbeddedFreeSwitch(time_scale=opts.time_scale, media_dir=media)
        fs.start()
        out = {
            "document": name,
            "options": {
                k: getattr(opts, k) for k in ("calls", "concurrency", "rate", "wait", "burst")
            },
            "definitions": DEFINITIONS,
        }
        out["daemon"] = drive(fs, Child(["--child", "daemon", *common, *profile]), app, opts)
        if not opts.no_baseline:
            out["baseline"] = drive(fs, Child(["--child", "baseline", *common]), None, opts)
            base_cpu = out["baseline"]["cpu_ms_per_call"]
            out["cpu_ratio_to_baseline"] = (
                round(out["daemon"]["cpu_ms_per_call"] / base_cpu, 2) if base_cpu else None
            )
        fs.stop()
    if opts.burst > 0:
        out["outbox_burst"] = burst(app, base, opts.burst)
    web.stop(timeout=1)
    d = out["daemon"]
    first, last = d.get("rss_mb_at_first_tenth"), d.get("rss_mb_at_end")
    d["rss_mb_growth_pct"] = round(100 * (last - first) / first, 1) if first and last else None
    return out


if __name__ == "__main__":
    sys.exit(main())
