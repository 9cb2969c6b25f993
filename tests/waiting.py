"""Waiting in tests: on a condition, with a deadline, never on a length of time alone.

A loaded machine (both cores busy) can take far longer than a quiet one to get somewhere, so
a test that sleeps "long enough" fails there; `until` polls its condition and gives up only at
a generous deadline, naming what it waited for.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import gevent

T = TypeVar("T")
#: Wall seconds a test waits for something that comes at once on a quiet machine.
DEADLINE_S = 10.0
#: Wall seconds between two looks at the condition.
POLL_S = 0.005


def until(what: str, ready: Callable[[], T], timeout: float = DEADLINE_S,
          poll_s: float = POLL_S) -> T:
    """Wait until `ready()` is truthy and return its value, looking every `poll_s`;
    AssertionError naming `what` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = ready()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        gevent.sleep(poll_s)
