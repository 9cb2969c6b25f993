"""The C heap trimmer: it gives freed pages back (glibc), every interval, and not when 0."""

from __future__ import annotations

import ctypes
import platform

import pytest
from waiting import until

from plivoxml_fs.config import ConfigError, load_settings
from plivoxml_fs.effects.heap import HeapTrimmer, malloc_trim

GLIBC = platform.libc_ver()[0] == "glibc"


def _rss_kib() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4


@pytest.mark.skipif(not GLIBC, reason="malloc_trim is glibc's; this C library has none")
def test_trimming_gives_freed_heap_pages_back():
    """Blocks freed in the middle of glibc's heap stay resident until a trim: 60,000 buffers
    of 1 KiB (malloc's, not Python's small-object arenas), every other one kept."""
    trim = malloc_trim()
    assert trim is not None
    libc = ctypes.CDLL(None)
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    trim()
    blocks = [libc.malloc(1024) for _ in range(60_000)]
    for block in blocks:
        ctypes.memset(block, 1, 1024)  # resident
    for block in blocks[::2]:
        libc.free(block)
    for block in blocks[1:-1:2]:  # the kept ones go too, but the heap's last block holds the top
        libc.free(block)
    before = _rss_kib()
    trim()
    after = _rss_kib()
    libc.free(blocks[-1])
    assert before - after > 30_000, (before, after)  # ~60 MiB freed, most of it handed back


def test_the_trimmer_calls_trim_every_interval_until_stopped():
    calls: list[int] = []
    trimmer = HeapTrimmer(0.01, lambda: calls.append(1))
    trimmer.start()
    until("three trims", lambda: len(calls) >= 3)
    assert trimmer.running
    trimmer.stop()
    assert not trimmer.running and trimmer.trims == len(calls)


def test_no_trimmer_runs_at_0_or_without_malloc_trim():
    calls: list[int] = []
    never = HeapTrimmer(0.0, lambda: calls.append(1))
    never.start()
    nothing = HeapTrimmer(0.01, None)
    nothing.start()
    assert not never.running and not nothing.running and calls == []


def test_the_interval_setting_is_seconds_or_0():
    assert load_settings(environ={}).heap_trim_interval_s == 1.0
    assert load_settings(environ={}, heap_trim_interval_s=0.0).heap_trim_interval_s == 0.0
    with pytest.raises(ConfigError, match="heap_trim_interval_s must be a number of seconds, "
                                          "or 0 for never"):
        load_settings(environ={}, heap_trim_interval_s=-1.0)
