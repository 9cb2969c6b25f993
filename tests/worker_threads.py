"""pytest-xdist workers under gevent's monkey patches (imported by conftest.py before it patches).

A worker takes its tests from execnet's receiver thread, a real OS thread, through the Event and
RLock of xdist's TestQueue, made by execnet's exec model after conftest.py has patched the
standard library. Patched, they are gevent's (or threading's on gevent's locks): the receiver
thread cannot wake the main one, whose hub then has nothing to wait for and the worker dies in
LoopExit. `keep_real()` makes the exec model hand out an Event and an RLock on the locks of
`_thread` as they were before patching. The main thread waits on them only between two tests.
"""

from __future__ import annotations

import _thread

_allocate = _thread.allocate_lock
_RLock = _thread.RLock


class RealEvent:
    """The part of threading.Event that TestQueue uses, on unpatched locks."""

    def __init__(self) -> None:
        self._guard = _allocate()
        self._flag = False
        self._waiters: list = []

    def is_set(self) -> bool:
        return self._flag

    def set(self) -> None:
        with self._guard:
            self._flag = True
            for waiter in self._waiters:
                waiter.release()
            self._waiters = []

    def clear(self) -> None:
        with self._guard:
            self._flag = False

    def wait(self, timeout: float | None = None) -> bool:
        with self._guard:
            if self._flag:
                return True
            waiter = _allocate()
            waiter.acquire()
            self._waiters.append(waiter)
        woken = waiter.acquire(True, -1 if timeout is None else timeout)
        if not woken:
            with self._guard:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
        return woken or self._flag


def keep_real() -> None:
    """Make execnet's thread exec models (xdist's main_thread_only) hand out unpatched ones."""
    from execnet import gateway_base

    gateway_base.ThreadExecModel.Event = lambda self: RealEvent()
    gateway_base.ThreadExecModel.RLock = lambda self: _RLock()
