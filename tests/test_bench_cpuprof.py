"""scripts/bench_cpuprof.py: samples are CPU time, each given to the right part of the daemon."""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

import bench_cpuprof  # noqa: E402
from bench_cpuprof import OUTSIDE, Sampler  # noqa: E402


def _code(path: str, name: str = "f"):
    """A function's code object as if it were defined in the file `path`."""
    scope: dict = {}
    exec(compile(f"def {name}():\n    pass\n", path, "exec"), scope)
    return scope[name].__code__


def test_a_sample_goes_to_the_innermost_plivoxml_fs_frame():
    gevent_wait = _code("/venv/site-packages/gevent/hub.py", "wait")
    codec = _code("/src/plivoxml_fs/esl/codec.py", "feed")
    transport = _code("/src/plivoxml_fs/esl/transport.py", "_read_loop")
    store = _code("/src/plivoxml_fs/effects/store.py", "add")
    journal = _code("/src/plivoxml_fs/effects/outbox_journal.py", "call_started")
    outbox = _code("/src/plivoxml_fs/effects/outbox.py", "emit")
    verb = _code("/src/plivoxml_fs/verbs/conference.py", "run")
    commands = _code("/src/plivoxml_fs/fs/commands.py", "execute")
    hub = _code("/venv/site-packages/gevent/hub.py", "run")
    sampler = Sampler()
    # stacks run innermost first, as the sampler records them
    sampler.counts[(gevent_wait, codec, transport, hub)] = 3  # C code of gevent under the codec
    sampler.counts[(transport, hub)] = 2
    sampler.counts[(store, outbox, verb, hub)] = 1
    sampler.counts[(journal, verb)] = 1
    sampler.counts[(commands, verb)] = 1
    sampler.counts[(outbox, verb)] = 1
    sampler.counts[(hub,)] = 2
    summary = sampler.summary()
    assert summary["samples"] == 11
    parts = summary["by_part_pct"]
    assert parts == {
        "ESL framing and event parsing": 27.3,
        "ESL transport: sockets, command waits, dispatch": 18.2,
        "SQLite: outbox rows, call journal, room history": 18.2,
        OUTSIDE: 18.2,
        "call driver and verbs": 9.1,  # fs/commands.py is the verbs' (fs/events.py is parsing)
        "callback delivery: outbox workers, signing": 9.1,
    }
    assert list(parts) == sorted(parts, key=parts.get, reverse=True)


def test_the_sampler_counts_cpu_time_and_writes_collapsed_stacks(tmp_path):
    sampler = Sampler()

    def burn_cpu() -> None:
        started = time.process_time()
        while time.process_time() - started < 0.3:  # CPU seconds, not a sleep
            sum(range(1000))

    sampler.start()
    try:
        burn_cpu()
    finally:
        sampler.stop()
    taken = sum(sampler.counts.values())
    assert taken > 0
    out = tmp_path / "stacks.txt"
    sampler.write(str(out))
    lines = out.read_text().splitlines()
    assert sum(int(line.rpartition(" ")[2]) for line in lines) == taken
    burning = sum(int(line.rpartition(" ")[2]) for line in lines if "burn_cpu (" in line)
    assert burning >= 0.9 * taken  # the samples are where the CPU went
    # stopped: no more samples, however much CPU is spent
    burn_cpu()
    assert sum(sampler.counts.values()) == taken
    assert bench_cpuprof.signal.getitimer(bench_cpuprof.signal.ITIMER_PROF) == (0.0, 0.0)
