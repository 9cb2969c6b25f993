"""What a caller waits on while the transport's reader works: replies, executions, event queues.

Split from esl/transport.py (which creates and completes them): `Reply` (one command's reply),
`Execution` (one `sendmsg execute` until its CHANNEL_EXECUTE_COMPLETE), `Subscription` (a
bounded queue of every event). Every wait has a deadline; the transport ends them all with
`ConnectionLost` when the connection goes.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import gevent.event
import gevent.queue

from plivoxml_fs.errors import CommandTimeout, ConnectionLost, EventOverflow, PlivoXMLError
from plivoxml_fs.esl.greenio import Expired, expiring
from plivoxml_fs.esl.messages import Event

if TYPE_CHECKING:
    from plivoxml_fs.esl.transport import EslConnection

#: The transport's logger: these lines are the connection's.
log = logging.getLogger("plivoxml_fs.esl.transport")


def remaining(deadline: float) -> float:
    return max(0.0, deadline - time.monotonic())


def within(result: gevent.event.AsyncResult, timeout: float) -> bool:
    """Wait up to `timeout` s for `result`; True when it is ready (value or error).

    The deadline is a bare loop timer (greenio.expiring) that throws `Expired`: a caller's own
    gevent.Timeout (or any other exception thrown into it) propagates instead of being taken
    for ours. `result.wait(timeout)` did the same with a gevent.Timeout object made, started,
    cancelled and closed for every wait: the transport waits a dozen times a call, and that
    object was most of the cost of a wait (measured: 4.9-6.8 -> 3.0 us a reply).
    """
    if result.ready():
        return True
    if timeout <= 0:
        return False
    timer = expiring(timeout)
    try:
        result.wait()
    except Expired:
        pass
    finally:
        timer.close()
    return result.ready()


class Reply:
    """One waiter in the reply FIFO."""

    __slots__ = ("what", "result")

    def __init__(self, what: str) -> None:
        self.what = what
        self.result: gevent.event.AsyncResult = gevent.event.AsyncResult()


class Execution:
    """One `sendmsg execute` in flight, completed by its CHANNEL_EXECUTE_COMPLETE."""

    def __init__(self, conn: EslConnection, app: str, app_uuid: str) -> None:
        self.app = app
        self.app_uuid = app_uuid
        self._conn = conn
        self._result: gevent.event.AsyncResult = gevent.event.AsyncResult()

    @property
    def done(self) -> bool:
        return self._result.ready()

    def wait(self, timeout: float, *, shown_s: float | None = None) -> Event:
        """The CHANNEL_EXECUTE_COMPLETE event; `CommandTimeout` (naming `shown_s`, default
        `timeout`, as the limit) or `ConnectionLost` otherwise."""
        if not within(self._result, timeout):
            raise CommandTimeout(
                f"{self._conn.name}: {self.app} (Application-UUID {self.app_uuid}) "
                f"did not complete within {timeout if shown_s is None else shown_s} s"
            )
        return self._result.get()


_END = object()


class Subscription:
    """A bounded queue fed every event the connection receives, in order."""

    def __init__(
        self,
        conn: EslConnection,
        maxsize: int,
        on_overflow: Callable[[EventOverflow], object] | None = None,
    ) -> None:
        self._conn = conn
        self._queue: gevent.queue.Queue = gevent.queue.Queue(maxsize)
        self._error: PlivoXMLError | None = None
        self._on_overflow = on_overflow

    def _put(self, event: Event) -> None:
        if self._error is not None:
            return
        try:
            self._queue.put_nowait(event)
        except gevent.queue.Full:
            error = EventOverflow(
                f"{self._conn.name}: subscription fell {self._queue.maxsize} events behind; "
                f"later events were dropped"
            )
            self._end(error)
            if self._on_overflow is not None:
                self._on_overflow(error)
            else:
                log.warning("%s", error, extra=self._conn.log_extra)

    def _end(self, error: PlivoXMLError) -> None:
        if self._error is None:
            self._error = error
        # When full, no getter is waiting: they meet the error once the queue drains.
        with contextlib.suppress(gevent.queue.Full):
            self._queue.put_nowait(_END)

    def get(self, timeout: float) -> Event | None:
        """The next event, or None if none arrives within `timeout` seconds.

        Once the connection is gone (or the subscription closed or overflowed) and the queued
        events are drained, raises that error (`ConnectionLost`, `EventOverflow`).
        """
        if self._error is not None and self._queue.empty():
            raise self._error
        if self._queue.qsize():
            item = self._queue.get_nowait()
        elif timeout <= 0:
            return None
        else:
            # not queue.get(timeout=...): that makes a gevent.Timeout a wait (within says why)
            timer = expiring(timeout)
            try:
                item = self._queue.get()
            except Expired:
                return None  # an event that came meanwhile stays queued for the next get
            finally:
                timer.close()
        if item is _END:
            assert self._error is not None
            raise self._error
        return item

    def close(self) -> None:
        self._conn._subscriptions.discard(self)
        self._end(ConnectionLost(f"{self._conn.name}: subscription closed"))

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
