"""`scripts/bench.py --freeswitch HOST:PORT`: the daemon's CPU beside a real FreeSWITCH's own.

The bench connects to FreeSWITCH's inbound event socket (HOST:PORT, `--password`), whose
dialplan hands every dialled call to 127.0.0.1:`--socket-port` (`socket ... async full`, as
../shared/tools/fs-conf does). For each workload it starts a child there, originates `--calls`
loopback calls at `--rate`/s (`originate loopback/b<n>/default &park`: the b leg is handed to
the child), waits for every A leg's CHANNEL_HANGUP_COMPLETE (and, for the daemon, every hangup
callback), and reads utime+stime of the child and of the FreeSWITCH process from /proc before
and after. Workloads, each measured in the same run:

- `conference`: the daemon with `<Conference>` rooms of 4 callers (entry beep, enter/exit
  callbacks, timeLimit `--wait` s), then the bare hand-written outbound handler of
  bench_embedded.py doing the same ESL exchange for the same calls (its `baseline`);
- `mpc`: the daemon with `<MultiPartyCall>`s of a customer, an agent and a coaching supervisor
  with status callbacks, ended by maxDuration (300, made `--wait` s by `mpc_time_scale`).

With `--reference-code DIR` each daemon workload is run first through the daemon of another
checkout (the code before a change), so a before/after pair comes from the same run.

FreeSWITCH's process is the one listening on HOST's port (found through /proc/net/tcp), or
`--freeswitch-pid`. The machine is shared: the figures that mean something are the ratios of
two processes measured over the same seconds, and the load average is printed beside them.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid as uuidlib
from pathlib import Path

import gevent
import gevent.event
import gevent.lock
from bench_common import Child, NoDelayServer, WebApp, _ms, _pct, proc_cpu_s

from plivoxml_fs.esl.transport import EslConnection

#: Callers per <MultiPartyCall>: customer, agent, supervisor (in that order).
MPC_SIZE = 3
CONFERENCE_SIZE = 4
CONFERENCE_DOCUMENT = """<Response>
    <Conference enterSound="beep:1" timeLimit="{wait}" callbackUrl="{base}/cb">{room}</Conference>
</Response>"""
MPC_DOCUMENTS = tuple(
    f"""<Response>
    <MultiPartyCall role="{role}"{extra} maxDuration="300"
                    statusCallbackUrl="{{base}}/cb">{{room}}</MultiPartyCall>
</Response>"""
    for role, extra in (("Customer", ""), ("Agent", ""), ("Supervisor", ' coachMode="true"'))
)
#: MPC seconds are scaled so that maxDuration="300" lasts `wait` seconds (mpc_time_scale).
MPC_MAX_DURATION = 300
#: Seconds of FreeSWITCH idling measured before the load (its own timers and threads).
IDLE_S = 2.0

DEFINITIONS = {
    "cpu_ms_per_call": "the child's (daemon's or bare handler's) utime+stime from /proc over the "
    "workload (first originate -> last hangup and, for the daemon, last hangup callback) / "
    "completed calls",
    "freeswitch_cpu_ms_per_call": "FreeSWITCH's utime+stime over the same seconds / completed "
    "calls (includes what the bench's own originates and hangup events cost it, the same "
    "for every child)",
    "cpu_pct_of_freeswitch": "cpu_ms_per_call / freeswitch_cpu_ms_per_call, in percent: the "
    "target is daemon <= 12",
    "freeswitch_idle_ms_per_s": "FreeSWITCH's CPU per wall second while no call was up, "
    "measured before the workloads",
    "setup_ms": "in the child: outbound socket accepted -> the join (`conference`) execute sent",
    "cpu_profile": "with --cpu-profile FILE: samples of the daemon child's CPU time (SIGPROF "
    "after each ms of its user+system CPU, at most the kernel's HZ a CPU second) from its start "
    "to the stop, each given to the part of the daemon its innermost plivoxml_fs frame is in "
    "(gevent's hub when there is none): by_part_pct; the stacks are in FILE",
    "executed": "calls that reached the join",
    "callbacks": "posts the web app received: hangup callbacks (one a call) and the room's "
    "(conference enter/exit, MPC status)",
    "load": "/proc/loadavg before and after the run (2 cores, shared with other work)",
    "reference_daemon": "with --reference-code DIR: the same workload, just before, through "
    "the daemon imported from DIR (the code before a change), measured the same way",
}


def add_options(parser) -> None:
    group = parser.add_argument_group("real FreeSWITCH (--freeswitch)")
    group.add_argument("--freeswitch", metavar="HOST:PORT",
                       help="drive loopback calls through this real FreeSWITCH's event socket")
    group.add_argument("--password", default="ClueCon", help="its event-socket password")
    group.add_argument("--socket-port", type=int, default=8084,
                       help="where its dialplan sends calls (the children listen there)")
    group.add_argument("--freeswitch-pid", type=int,
                       help="FreeSWITCH's process (default: the one listening on PORT)")
    group.add_argument("--py-spy", metavar="FILE",
                       help="sample the daemon child with py-spy (collapsed stacks) into "
                       "FILE.<workload> while the calls run (wall time: a greenlet idle in "
                       "the hub is sampled too; --cpu-profile counts CPU only)")
    group.add_argument("--reference-code", metavar="DIR",
                       help="also run each daemon workload with plivoxml_fs imported from DIR "
                       "(another checkout: the code before a change), in the same run")
    group.add_argument("--workloads", default="conference,mpc",
                       help="comma-separated: conference (daemon and bare handler), mpc")


def listener_pid(port: int) -> int | None:
    """The process with a TCP socket listening on `port` (from /proc/net/tcp and fds)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    wanted = {f"socket:[{inode}]" for inode in inodes}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if os.readlink(f"/proc/{pid}/fd/{fd}") in wanted:
                    return int(pid)
        except OSError:
            continue
    return None


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


class Controller:
    """The bench's inbound connection: originates calls and notes when each A leg hung up."""

    def __init__(self, host: str, port: int, password: str) -> None:
        sock = socket.create_connection((host, port), timeout=5)
        sock.settimeout(None)
        self.conn = EslConnection(sock, name="bench inbound", command_timeout_s=30)
        self.conn.start()
        self.conn.wait_auth_request(5)
        self.conn.command(f"auth {password}")
        self.conn.command("event plain BACKGROUND_JOB CHANNEL_HANGUP_COMPLETE")
        self.hung_up: dict[str, gevent.event.Event] = {}
        self._sub = self.conn.subscribe()
        self._reader = gevent.spawn(self._read)

    def _read(self) -> None:
        while True:
            event = self._sub.get(3600)
            if event is not None and event.name == "CHANNEL_HANGUP_COMPLETE":
                done = self.hung_up.get(event.unique_id)
                if done is not None:
                    done.set()

    def call(self, n: int, timeout: float) -> bool:
        """Originate call n (the b leg dials `b<n>`); True when it was answered and hung up."""
        a_leg = f"bench-{n}-{uuidlib.uuid4()}"
        done = self.hung_up[a_leg] = gevent.event.Event()
        try:
            job = self.conn.bgapi(
                f"originate {{origination_uuid={a_leg}}}loopback/b{n}/default &park",
                timeout=timeout)
            if not job.body_text.startswith("+OK"):
                return False
            return done.wait(timeout)
        finally:
            self.hung_up.pop(a_leg, None)

    def close(self) -> None:
        self._reader.kill()
        self.conn.close()


def _spy(pid: int, out: str) -> subprocess.Popen:
    """py-spy sampling `pid` into `out` until it is sent SIGINT (not counted as a child's CPU)."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    return subprocess.Popen([spy, "record", "-p", str(pid), "-r", "200", "-f", "raw", "-o", out],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def run_workload(ctl: Controller, fs_pid: int, app: WebApp, child_args: list[str], opts,
                 *, daemon: bool, name: str, code: str | None = None) -> dict:
    """One child, `calls` calls at `rate`/s; both processes' CPU over the same seconds."""
    if daemon and opts.cpu_profile:
        child_args = [*child_args, "--cpu-profile", f"{opts.cpu_profile}.{name}"]
    child = Child(child_args, code)
    spy = _spy(child.proc.pid, f"{opts.py_spy}.{name}") if daemon and opts.py_spy else None
    app.callbacks.clear()
    app.conference_callbacks = 0
    gate = gevent.lock.BoundedSemaphore(opts.concurrency)
    ok = [0]
    failed = [0]

    def one(n: int) -> None:
        try:
            if ctl.call(n, opts.wait + 60):
                ok[0] += 1
            else:
                failed[0] += 1
        except Exception:  # count it, keep the load going
            failed[0] += 1
        finally:
            gate.release()

    fs0, cpu0, t0 = proc_cpu_s(fs_pid), child.cpu_s(), time.monotonic()
    greenlets = []
    for n in range(opts.calls):
        gate.acquire()
        greenlets.append(gevent.spawn(one, n))
        gevent.sleep(max(0.0, t0 + (n + 1) / opts.rate - time.monotonic()))
    gevent.joinall(greenlets)
    if daemon:
        deadline = time.monotonic() + 30
        while len(app.callbacks) < ok[0] and time.monotonic() < deadline:
            gevent.sleep(0.05)
    elapsed = time.monotonic() - t0
    fs_cpu, cpu = proc_cpu_s(fs_pid) - fs0, child.cpu_s() - cpu0
    if spy is not None:
        spy.send_signal(signal.SIGINT)
        spy.wait(30)
    report = child.finish()
    setup = report["setup_s"]
    calls = max(1, ok[0])
    result = {
        "calls": opts.calls,
        "completed": ok[0],
        "failed": failed[0],
        "executed": len(setup),
        "seconds": round(elapsed, 2),
        "setup_ms_p50": _ms(_pct(setup, 50)),
        "setup_ms_p99": _ms(_pct(setup, 99)),
        "cpu_ms_per_call": round(1000 * cpu / calls, 3),
        "freeswitch_cpu_ms_per_call": round(1000 * fs_cpu / calls, 3),
        "cpu_pct_of_freeswitch": round(100 * cpu / fs_cpu, 1) if fs_cpu else None,
    }
    if daemon:
        result["hangup_callbacks"] = len(app.callbacks)
        result["room_callbacks"] = app.conference_callbacks
    if report["mean_ms"]:
        result["mean_ms_by_command"] = report["mean_ms"]
    if report.get("cpu_profile"):
        result["cpu_profile"] = report["cpu_profile"]
    if report.get("events"):
        result["events_per_call"] = {k: round(v / calls, 2)
                                     for k, v in sorted(report["events"].items())}
    return result


def bench(opts) -> dict:
    host, _, port = opts.freeswitch.rpartition(":")
    fs_pid = opts.freeswitch_pid or listener_pid(int(port))
    if fs_pid is None:
        raise SystemExit(f"no process of ours listens on port {port}: give --freeswitch-pid")
    app = WebApp("")
    web = NoDelayServer(("127.0.0.1", 0), app, log=None, error_log=None)
    web.start()
    base = f"http://127.0.0.1:{web.server_port}"
    ctl = Controller(host or "127.0.0.1", int(port), opts.password)
    out: dict = {
        "freeswitch": opts.freeswitch,
        "freeswitch_pid": fs_pid,
        "options": {k: getattr(opts, k) for k in ("calls", "concurrency", "rate", "wait")},
        "definitions": DEFINITIONS,
        "load": {"before": load()},
    }
    idle0 = proc_cpu_s(fs_pid)
    gevent.sleep(IDLE_S)
    out["freeswitch_idle_ms_per_s"] = round(1000 * (proc_cpu_s(fs_pid) - idle0) / IDLE_S, 2)
    common = ["--base", base, "--concurrency", str(opts.concurrency), "--wait", str(opts.wait),
              "--listen-port", str(opts.socket_port)]
    daemon = ["--child", "daemon", *common, "--freeswitch", opts.freeswitch,
              "--password", opts.password]
    if opts.profile:
        daemon += ["--profile", opts.profile]
    if opts.count_events:
        daemon += ["--count-events"]
    workloads = [w.strip() for w in opts.workloads.split(",") if w.strip()]
    try:
        if "conference" in workloads:
            app.group, app.documents = CONFERENCE_SIZE, []
            app.document = (CONFERENCE_DOCUMENT.replace("{wait}", str(opts.wait))
                            .replace("{base}", base).encode())
            result = {"document": f"<Conference> rooms of {CONFERENCE_SIZE} callers, entry beep, "
                                  f"enter/exit callbacks, timeLimit {opts.wait} s"}
            if opts.reference_code:
                result["reference_daemon"] = run_workload(
                    ctl, fs_pid, app, daemon, opts, daemon=True, name="conference-reference",
                    code=opts.reference_code)
            result["daemon"] = run_workload(ctl, fs_pid, app, daemon, opts, daemon=True,
                                             name="conference")
            if not opts.no_baseline:
                result["baseline"] = run_workload(ctl, fs_pid, app,
                                                  ["--child", "baseline", *common], opts,
                                                  daemon=False, name="baseline")
            out["conference"] = result
        if "mpc" in workloads:
            app.group = MPC_SIZE
            app.documents = [d.replace("{base}", base).encode() for d in MPC_DOCUMENTS]
            scale = opts.wait / MPC_MAX_DURATION
            result = {"document": "<MultiPartyCall> of Customer, Agent and coaching Supervisor, "
                                  f"status callbacks, maxDuration {MPC_MAX_DURATION} "
                                  f"(mpc_time_scale {scale:g}: {opts.wait} s)"}
            mpc_daemon = [*daemon, "--mpc-time-scale", str(scale)]
            if opts.reference_code:
                result["reference_daemon"] = run_workload(
                    ctl, fs_pid, app, mpc_daemon, opts, daemon=True, name="mpc-reference",
                    code=opts.reference_code)
            result["daemon"] = run_workload(ctl, fs_pid, app, mpc_daemon, opts, daemon=True,
                                            name="mpc")
            out["mpc"] = result
    finally:
        ctl.close()
        web.stop(timeout=1)
    out["load"]["after"] = load()
    return out
