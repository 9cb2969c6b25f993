"""Handing the C heap's free memory back to the system: glibc's `malloc_trim(0)` every
`heap_trim_interval_s`.

Why: each call allocates and frees many buffers (event texts, documents, HTTP bodies,
greenlet stacks) through malloc. glibc keeps freed pages inside its heap unless they sit at its
very top, so the daemon's resident set kept growing with the calls it had served, while
Python's own heap stayed flat (tracemalloc: 5.11 -> 5.15 MB from the 500th to the 1,900th
call). Measured in `make bench` (2,000 calls, embedded FreeSWITCH, RSS after the 200th call ->
after the 2,000th): +7.0% and +7.7% without, -1.1% and -1.5% with a trim every second. A trim
walks the heap with malloc's lock held: 0.06-1.5 ms at 50-100 MB (mean 0.39 ms a second with
1,000 calls held), about 0.04% of one core, so it runs in the hub, not in a thread (malloc's
lock would stall the hub all the same).

Only on glibc (`malloc_trim` is its own): elsewhere (musl, macOS) nothing runs, with one
DEBUG line. No library does this (gevent, Python and the allocators leave it to the program);
the call is one `ctypes` function.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from collections.abc import Callable

import gevent

log = logging.getLogger("plivoxml_fs.heap")


def malloc_trim() -> Callable[[], object] | None:
    """glibc's `malloc_trim(0)` as a function of no arguments, or None where there is none."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return None
    trim = getattr(libc, "malloc_trim", None)
    if trim is None:
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return lambda: trim(0)


class HeapTrimmer:
    """Calls `trim` every `interval_s` seconds in its own greenlet until `stop` (0: never;
    `trim` None: there is nothing to call)."""

    def __init__(self, interval_s: float, trim: Callable[[], object] | None) -> None:
        self.interval_s = interval_s
        self._trim = trim
        self._greenlet: gevent.Greenlet | None = None
        self.trims = 0

    @classmethod
    def of_this_process(cls, interval_s: float) -> HeapTrimmer:
        """A trimmer of this process's C heap (glibc's malloc_trim, where there is one)."""
        return cls(interval_s, malloc_trim())

    @property
    def running(self) -> bool:
        return self._greenlet is not None and not self._greenlet.dead

    def start(self) -> None:
        if self._greenlet is not None or self.interval_s <= 0:
            return
        if self._trim is None:
            log.debug("no malloc_trim in this C library: the heap is not trimmed")
            return
        self._greenlet = gevent.spawn(self._run)

    def _run(self) -> None:
        trim = self._trim
        assert trim is not None
        while True:
            gevent.sleep(self.interval_s)
            trim()
            self.trims += 1

    def stop(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill()
            self._greenlet = None
