"""Benchmark: N calls through the daemon against the embedded FreeSWITCH, and a baseline.

Two modes. Without `--freeswitch` (`make bench`, scripts/bench_embedded.py), as below. With
`--freeswitch HOST:PORT` (scripts/bench_real.py) the calls are loopback calls originated on that
real FreeSWITCH, whose dialplan hands them to `--socket-port`; both processes' CPU is read from
/proc and reported per call, with their ratio (bench_real.py's docstring says how).

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
import sys  # noqa: E402
import time  # noqa: E402

import bench_embedded  # noqa: E402
import bench_real  # noqa: E402
from bench_common import _latency_means  # noqa: E402, F401  (re-exported for old callers)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, help="calls (default 2000; --freeswitch: 200)")
    parser.add_argument("--concurrency", type=int, default=500)
    parser.add_argument("--rate", type=float,
                        help="new calls per second (default 50; --freeswitch: 25)")
    parser.add_argument("--wait", type=int,
                        help="timeLimit (s) of the default document's rooms: how long calls last "
                        "(default 2; --freeswitch: 6)")
    parser.add_argument("--time-scale", type=float, default=1.0, help="simulator media speed")
    parser.add_argument("--document", help="XML file to answer with ({base} = web app URL)")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--profile", help="write the daemon child's cProfile stats here")
    parser.add_argument("--cpu-profile", metavar="FILE",
                        help="sample the daemon child's CPU time (SIGPROF) while the calls run: "
                        "collapsed stacks into FILE (--freeswitch: FILE.<workload>) and the "
                        "share of each part of the daemon in the report")
    parser.add_argument("--quick", action="store_true", help="200 calls, 100 at once")
    parser.add_argument(
        "--burst", type=int, default=2000, help="webhooks in the outbox burst phase (0: none)"
    )
    parser.add_argument("--hold", type=int, default=0,
                        help="a last phase: this many calls up at once in the daemon (each stays "
                        "until all are up), e.g. 1000; 0 (default): none")
    parser.add_argument("--hold-rate", type=float, default=100.0,
                        help="new calls per second in the --hold phase")
    parser.add_argument("--burst-runs", type=int, default=3,
                        help="how many times the burst runs (min/median/max printed)")
    parser.add_argument("--burst-only", action="store_true",
                        help="only the outbox burst phase (no calls, no embedded FreeSWITCH)")
    bench_real.add_options(parser)
    parser.add_argument("--child", choices=("daemon", "baseline", "outbox"), help=argparse.SUPPRESS)
    parser.add_argument("--base", help=argparse.SUPPRESS)
    parser.add_argument("--listen-port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--count-events", action="store_true",
                        help="count the events the daemon receives per call, by side and name "
                        "(costs some of its CPU: not for the CPU figures)")
    parser.add_argument("--mpc-time-scale", type=float, default=1.0, help=argparse.SUPPRESS)
    opts = parser.parse_args(argv)
    for name, embedded, real in (("calls", 2000, 200), ("rate", 50.0, 25.0), ("wait", 2, 6)):
        if getattr(opts, name) is None:
            setattr(opts, name, real if opts.freeswitch and not opts.child else embedded)
    if opts.child == "daemon":
        child = bench_embedded.DaemonChild(
            f"{opts.base}/answer.xml", f"{opts.base}/hangup", opts.concurrency,
            listen_port=opts.listen_port, freeswitch=opts.freeswitch, password=opts.password,
            mpc_time_scale=opts.mpc_time_scale, count_events=opts.count_events,
            cpu_profile=opts.cpu_profile,
        )
        if not opts.profile:
            child.run()
            return 0
        import cProfile

        profiler = cProfile.Profile(time.process_time)  # CPU, not greenlet waits
        profiler.runcall(child.run)
        profiler.dump_stats(opts.profile)
        return 0
    if opts.child == "baseline":
        bench_embedded.run_baseline_child(opts.base, opts.wait, opts.listen_port)
        return 0
    if opts.child == "outbox":
        bench_embedded.run_outbox_child(f"{opts.base}/burst", opts.burst)
        return 0
    if opts.freeswitch:
        print(json.dumps(bench_real.bench(opts), indent=2))
        return 0
    if opts.quick:
        opts.calls, opts.concurrency = min(opts.calls, 200), min(opts.concurrency, 100)
    print(json.dumps(bench_embedded.bench(opts), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
