"""`make bench`: N calls through the daemon against the embedded FreeSWITCH, and a baseline.

(scripts/bench.py's docstring says what is measured; this module holds the children and the
load of that mode.)
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
import uuid as uuidlib
from pathlib import Path

import gevent
import gevent.lock
from bench_common import (
    BURST_TOKEN,
    ROOM_SIZE,
    BurstReceiver,
    Child,
    NoDelayServer,
    WebApp,
    _completes,
    _latency_means,
    _ms,
    _pct,
    _report_and_wait,
    room_for,
)
from gevent.server import StreamServer

from plivoxml_fs.esl.codec import MessageParser, encode_command
from plivoxml_fs.esl.session import call_setup

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
#: ... which the daemon sends as one multiset, in one write with the conference execute.
BASELINE_MULTISET = "^^|" + "|".join(BASELINE_SETS)
BASELINE_FLAGS = "+flags{moderator|dist-dtmf}"


class DaemonChild:
    """The real daemon; setup latency = accept to the `conference` execute sent.

    Against the embedded FreeSWITCH it runs the outbound server alone (no inbound connection:
    nothing confirms a call, as `Daemon.start_server`); with `freeswitch` (HOST:PORT) it runs
    everything `serve` runs, listening on `listen_port`.
    """

    def __init__(self, answer_url: str, hangup_url: str, concurrency: int, *,
                 listen_port: int = 0, freeswitch: str | None = None, password: str = "ClueCon",
                 mpc_time_scale: float = 1.0, count_events: bool = False,
                 cpu_profile: str | None = None) -> None:
        self.answer_url, self.hangup_url = answer_url, hangup_url
        self.concurrency = concurrency
        self.listen_port = listen_port
        self.freeswitch = freeswitch
        self.password = password
        self.mpc_time_scale = mpc_time_scale
        #: Count the events each side received (reported as `events`); costs a little CPU.
        self.count_events = count_events
        self.counted: dict[str, int] = {}
        #: Where to write the CPU-time samples of the workload (bench_cpuprof.py), if anywhere.
        self.cpu_profile = cpu_profile

    def run(self) -> None:
        from plivoxml_fs.config import Settings
        from plivoxml_fs.esl import transport
        from plivoxml_fs.service import Daemon

        setup_s: list[float] = []
        accepted: dict[int, float] = {}
        original_init = transport.OutboundConnection.__init__
        original_send = transport.EslConnection._send
        # the join's execute, however it is written (alone, or with its variables)
        join = b"\nexecute-app-name: conference\n"

        def timed_init(self, *args, **kwargs):
            accepted[id(self)] = time.monotonic()
            original_init(self, *args, **kwargs)

        def timed_send(self, data, *args, **kwargs):
            if join in data:
                started = accepted.pop(id(self), None)
                if started is not None:
                    setup_s.append(time.monotonic() - started)
            return original_send(self, data, *args, **kwargs)

        transport.OutboundConnection.__init__ = timed_init
        transport.EslConnection._send = timed_send
        if self.count_events:
            counted: dict[str, int] = {}
            original_deliver = transport.EslConnection._deliver

            def counted_deliver(self, event):
                side = "outbound" if isinstance(self, transport.OutboundConnection) else "inbound"
                what = event.get("Action") if event.name == "CUSTOM" else event.name
                key = f"{side} {what}"
                counted[key] = counted.get(key, 0) + 1
                return original_deliver(self, event)

            transport.EslConnection._deliver = counted_deliver
            self.counted = counted
            hub = gevent.get_hub()
            original_apply = type(hub.threadpool).apply

            def counted_apply(pool, func, args=None, kwds=None):
                key = f"threadpool {getattr(func, '__name__', func)}"
                counted[key] = counted.get(key, 0) + 1
                return original_apply(pool, func, args, kwds)

            type(hub.threadpool).apply = counted_apply
        fs: dict = {}
        if self.freeswitch:
            host, _, port = self.freeswitch.rpartition(":")
            fs = {"freeswitch_host": host, "freeswitch_port": int(port),
                  "freeswitch_password": self.password}
        with tempfile.TemporaryDirectory(prefix="plivoxml-fs-bench-") as state:
            settings = Settings(
                listen_port=self.listen_port,
                metrics_port=0,
                max_calls=self.concurrency * 2,
                answer_url=self.answer_url,
                hangup_url=self.hangup_url,
                state_dir=state,
                linger_s=1,
                # on a loaded shared machine FreeSWITCH's connect reply can take seconds: a
                # call refused for it would drop out of the per-call figures (the baseline
                # has no such deadline)
                connect_timeout_s=10,
                log_level="WARNING",
                mpc_time_scale=self.mpc_time_scale,
                **fs,
            )
            daemon = Daemon(settings)
            if self.freeswitch:
                daemon.start()
                deadline = time.monotonic() + 10
                while not daemon.freeswitch_connected() and time.monotonic() < deadline:
                    gevent.sleep(0.05)
            else:
                daemon.start_server()
            _report_and_wait(daemon.address[1], setup_s, _latency_means, self.counted,
                             self.cpu_profile)
            daemon.stop(drain_timeout_s=5)


def run_baseline_child(base: str, wait_s: int, listen_port: int = 0) -> None:
    """A minimal outbound ESL handler doing the daemon's exchange for the default document:
    the call setup, answer, the join's variables, `conference`, the member kicked at the time
    limit, hangup.
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

        def executes(*apps):
            """sendmsg execute of each (app, arg) in one write; their Event-UUIDs."""
            uuids, data = [], b""
            for app, arg in apps:
                uuids.append(str(uuidlib.uuid4()))
                headers = [("call-command", "execute"), ("execute-app-name", app),
                           ("event-lock", "true"), ("Event-UUID", uuids[-1])]
                if arg:
                    headers.append(("content-type", "text/plain"))
                data += encode_command("sendmsg", headers, arg.encode() if arg else None)
            sock.sendall(data)
            for _ in apps:
                read_until(lambda m: m.content_type == "command/reply")
            return uuids

        reply = command("connect")
        room = room_for(reply.get("Caller-Destination-Number") or "") if reply else "bench-0"
        # the daemon's call setup (esl/session.call_setup), in one write as it sends it
        setup = call_setup(1)
        sock.sendall(b"".join(encode_command(line) for line in setup))
        for _ in setup:
            read_until(lambda m: m.content_type == "command/reply")
        answered, = executes(("answer", ""))
        if read_until(lambda m: _completes(m, answered)) is None:
            return
        setup_s.append(time.monotonic() - started)
        _, joined = executes(("multiset", BASELINE_MULTISET),
                             ("conference", f"{room}@default{BASELINE_FLAGS}"))
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

    server = StreamServer(("127.0.0.1", listen_port), handle)
    server.start()
    _report_and_wait(server.address[1], setup_s)



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
    if report.get("cpu_profile"):
        result["cpu_profile"] = report["cpu_profile"]
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


#: Seconds each --hold call stays up after the last one should have arrived.
HOLD_MARGIN_S = 10


def hold(fs, app: WebApp, base: str, opts) -> dict:
    """`--hold N`: N calls through a fresh daemon, each in its room (the default document)
    until every one is up; how many were up at once and how many failed."""
    import argparse

    stay_s = int(opts.hold / opts.hold_rate) + HOLD_MARGIN_S
    app.callbacks.clear()
    app.conference_callbacks = 0
    app.document = DEFAULT_DOCUMENT.replace("{wait}", str(stay_s)).replace("{base}", base).encode()
    phase = argparse.Namespace(calls=opts.hold, concurrency=opts.hold, rate=opts.hold_rate)
    child = Child(["--child", "daemon", "--base", base, "--concurrency", str(opts.hold),
                   "--wait", str(stay_s)])
    result = drive(fs, child, app, phase)
    return {"calls": opts.hold, "rate": opts.hold_rate, "stay_s": stay_s,
            **{k: result[k] for k in ("failed", "executed", "peak_concurrent", "setup_ms_p50",
                                      "setup_ms_p99", "cpu_ms_per_call", "rss_mb_at_end")}}


def _spread(values: list) -> dict:
    ordered = sorted(v for v in values if v is not None)
    if not ordered:
        return {"min": None, "median": None, "max": None}
    return {"min": ordered[0], "median": ordered[len(ordered) // 2], "max": ordered[-1]}


def burst(app: WebApp, base: str, count: int, code: str | None = None) -> dict:
    """Emit `count` webhooks in a fresh outbox child (plivoxml_fs from `code`, another
    checkout, when given); measure delivery at the receiver."""
    child = Child(["--child", "outbox", "--base", base, "--burst", str(count)], code=code)
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
    "cpu_profile": "with --cpu-profile FILE: samples of the daemon child's CPU time (SIGPROF "
    "after each ms of its user+system CPU, at most the kernel's HZ a CPU second) from its start "
    "to the stop, each given to the part of the daemon its innermost plivoxml_fs frame is in "
    "(gevent's hub when there is none): by_part_pct; the stacks are in FILE",
    "cpu_ratio_to_baseline": "daemon cpu_ms_per_call / baseline cpu_ms_per_call",
    "outbox_burst": "a child process emits `webhooks` signed POST webhooks (a hangup callback's "
    "parameters, one call uuid each) back to back into a fresh Outbox (its own SQLite file, "
    "default callback settings, pool_size workers), yielding after each emit; a small keep-alive "
    "HTTP/1.1 receiver in the bench process (bench_common.BurstReceiver, not the web app's WSGI "
    "server, which cost more CPU a request than the outbox) checks each signature "
    "(bad_signatures) and notes when each arrived",
    "outbox_burst.delivered_per_s": "webhooks received by the web app / seconds from the first "
    "emit to the last receipt",
    "outbox_burst.lag_ms": "a webhook's emit (outbox.emit called, monotonic clock) -> its request "
    "received by the web app; includes waiting behind the rest of the burst",
    "outbox_burst_runs": "with --burst-runs N > 1, the burst is run N times (a fresh outbox "
    "child each time): min/median/max of each run's figure; outbox_burst is the median run",
    "reference_outbox_burst": "with --reference-code DIR: the same bursts through the outbox of "
    "that checkout (the code before a change), alternating with this one's, same receiver",
    "hold": "--hold N: N calls at --hold-rate/s into rooms of 4 whose timeLimit outlasts the "
    "arrival of the last (stay_s); peak_concurrent = calls up at once in the embedded "
    "FreeSWITCH, failed = calls that did not end by their hangup (target: N held, 0 failed)",
    "outbox_burst.emit_ms_mean": "mean time inside outbox.emit (the SQLite write)",
    "outbox_burst.cpu_ms_per_callback": "the outbox child's CPU from the first emit to the end of "
    "its flush / webhooks delivered",
}


def bench(opts) -> dict:
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
    if opts.cpu_profile:
        profile += ["--cpu-profile", opts.cpu_profile]
    out = {
        "document": name,
        "options": {
            k: getattr(opts, k)
            for k in ("calls", "concurrency", "rate", "wait", "burst", "burst_runs")
        },
        "definitions": DEFINITIONS,
    }
    if not opts.burst_only:
        _calls(opts, out, app, base, common, profile)
    if opts.burst > 0:
        receiver = BurstReceiver(app)
        receiver_base = receiver.start()
        codes = [("", None)]
        if opts.reference_code:  # before/after in one run: the reference's burst alternates
            codes.insert(0, ("reference_", opts.reference_code))
        runs: dict[str, list[dict]] = {prefix: [] for prefix, _ in codes}
        for _ in range(max(1, opts.burst_runs)):
            for prefix, code in codes:
                runs[prefix].append(burst(app, receiver_base, opts.burst, code))
        receiver.stop()
        for prefix, results in runs.items():
            by_rate = sorted(results, key=lambda r: r["delivered_per_s"] or 0)
            out[f"{prefix}outbox_burst"] = by_rate[len(by_rate) // 2]  # the median run
            if len(results) > 1:
                out[f"{prefix}outbox_burst_runs"] = {
                    key: _spread([r[key] for r in results])
                    for key in ("delivered_per_s", "lag_ms_p99", "cpu_ms_per_callback")
                }
    web.stop(timeout=1)
    d = out.get("daemon")
    if d is not None:
        first, last = d.get("rss_mb_at_first_tenth"), d.get("rss_mb_at_end")
        d["rss_mb_growth_pct"] = round(100 * (last - first) / first, 1) if first and last else None
    return out


def _calls(opts, out: dict, app: WebApp, base: str, common: list[str],
           profile: list[str]) -> None:
    """The call phases: the daemon, then the baseline, through the embedded FreeSWITCH."""
    from plivoxml_fs.simulator import EmbeddedFreeSwitch

    with tempfile.TemporaryDirectory() as media:
        fs = EmbeddedFreeSwitch(time_scale=opts.time_scale, media_dir=media)
        fs.start()
        out["daemon"] = drive(fs, Child(["--child", "daemon", *common, *profile]), app, opts)
        if not opts.no_baseline:
            out["baseline"] = drive(fs, Child(["--child", "baseline", *common]), None, opts)
            base_cpu = out["baseline"]["cpu_ms_per_call"]
            out["cpu_ratio_to_baseline"] = (
                round(out["daemon"]["cpu_ms_per_call"] / base_cpu, 2) if base_cpu else None
            )
        if opts.hold > 0:
            out["hold"] = hold(fs, app, base, opts)
        fs.stop()
