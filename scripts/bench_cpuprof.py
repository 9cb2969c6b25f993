"""Where the daemon child's CPU goes: a sampler driven by the process's own CPU time.

py-spy (`--py-spy`) samples wall time: a thread waiting in gevent's hub (epoll_wait) or
holding the GIL while the kernel runs FreeSWITCH on both cores is sampled as busy, so the hub
looked like a fifth of the daemon's work when it was its idle time. This sampler asks the
kernel for SIGPROF after every millisecond of the process's CPU (user + system; the kernel
delivers it at its clock tick, so at most HZ samples a CPU second) and counts the stack of
whatever greenlet runs then: each sample is CPU spent, nothing else. C code and system calls
are counted to the Python frame that called them. Python's handler runs between bytecodes, so
the signal costs the daemon ~1% of its CPU.

`Sampler` runs in the daemon child (bench.py `--cpu-profile FILE`) from its port line to the
parent's stop; the child writes the stacks collapsed (`frame;frame;... count`, flame-graph
tools read it) to FILE and reports `summary()`: the share of samples by part of the daemon,
each sample given to the innermost plivoxml_fs frame's part (PARTS) or, with none, to what
runs it (gevent's hub and its callbacks).
"""

from __future__ import annotations

import collections
import os
import signal
from pathlib import Path

#: (part, paths inside plivoxml_fs/): the first part with a path the innermost plivoxml_fs
#: frame's file starts with takes the sample.
PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ESL framing and event parsing", ("esl/codec.py", "esl/messages.py", "esl/session.py",
                                       "fs/events.py")),
    ("ESL transport: sockets, command waits, dispatch", ("esl/",)),
    ("SQLite: outbox rows, call journal, room history", ("effects/store.py", "effects/history.py",
                                                          "effects/outbox_journal.py",
                                                          "effects/outbox_backlog.py")),
    ("HTTP client: document fetch and callbacks", ("effects/http11.py", "effects/fetch.py",
                                                   "effects/urls.py")),
    ("callback delivery: outbox workers, signing", ("effects/outbox", "effects/signing.py",
                                                    "effects/webhook.py")),
    ("room engine", ("rooms/", "effects/rooms.py")),
    ("call driver and verbs", ("call/", "verbs/", "fs/")),
    ("documents: parse and check", ("documents/",)),
    ("metrics and logs", ("metrics.py", "logs.py")),
    ("the rest of plivoxml_fs", ("",)),
)
OUTSIDE = "gevent's hub and its callbacks (no plivoxml_fs frame)"


class Sampler:
    """Counts the running stack at every SIGPROF (ITIMER_PROF: the process's CPU time)."""

    def __init__(self, interval_s: float = 0.001) -> None:
        self.interval_s = interval_s
        self.counts: collections.Counter[tuple] = collections.Counter()

    def _sample(self, _signum, frame) -> None:
        codes = []
        while frame is not None:
            codes.append(frame.f_code)
            frame = frame.f_back
        self.counts[tuple(codes)] += 1

    def start(self) -> None:
        signal.signal(signal.SIGPROF, self._sample)
        signal.setitimer(signal.ITIMER_PROF, self.interval_s, self.interval_s)

    def stop(self) -> None:
        signal.setitimer(signal.ITIMER_PROF, 0, 0)
        signal.signal(signal.SIGPROF, signal.SIG_IGN)

    def write(self, path: str) -> None:
        """The stacks, outermost frame first, one `a;b;c count` line each."""
        lines = []
        for codes, n in self.counts.items():
            frames = ";".join(f"{_name(c)} ({_where(c)})" for c in reversed(codes))
            lines.append(f"{frames} {n}\n")
        Path(path).write_text("".join(lines))

    def summary(self) -> dict:
        """Samples, and the share (percent) of each part of the daemon, largest first."""
        total = sum(self.counts.values())
        parts: collections.Counter[str] = collections.Counter()
        for codes, n in self.counts.items():
            parts[_part(codes)] += n
        return {
            "samples": total,
            "by_part_pct": {part: round(100 * n / total, 1) for part, n in parts.most_common()}
            if total else {},
        }


def _name(code) -> str:
    return getattr(code, "co_qualname", code.co_name)


def _where(code) -> str:
    path = code.co_filename
    at = path.rfind("plivoxml_fs" + os.sep)
    return path[at:] if at >= 0 else os.path.basename(path)


def _part(codes: tuple) -> str:
    """The part of the innermost plivoxml_fs frame (codes run innermost first)."""
    for code in codes:
        path = code.co_filename.replace(os.sep, "/")
        at = path.rfind("plivoxml_fs/")
        if at < 0:
            continue
        inside = path[at + len("plivoxml_fs/"):]
        for part, prefixes in PARTS:
            if inside.startswith(prefixes):
                return part
    return OUTSIDE
