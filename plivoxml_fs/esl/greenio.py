"""Waits on gevent sockets and results without a gevent.Timeout made for each one.

A gevent.Timeout is an object made, started, cancelled and closed for every wait it bounds,
and a gevent socket's recv tries the system call before it waits (after nearly every message
that fails with EAGAIN: an exception and a system call for nothing). The ESL transport and
its waiters (transport.py, waiters.py) and the HTTP client (effects/http11.py) wait a dozen
times a call, so they use these instead: `expiring` arms a bare loop timer that throws
`Expired`, and `recv_when_readable` waits for a socket and then reads it once.
"""

from __future__ import annotations

import gevent
import gevent.socket


class Expired(BaseException):
    """Thrown by an `expiring` timer into the greenlet that armed it. The waits it bounds
    never nest (each blocks its greenlet), so the one caught is the waiter's own; a caller's
    gevent.Timeout, or anything else thrown in, is not one and propagates."""


def expiring(timeout: float):
    """A started loop timer that throws `Expired` into this greenlet in `timeout` s; the
    caller closes it once its wait is over (nothing is thrown after that)."""
    timer = gevent.get_hub().loop.timer(timeout)
    timer.start(gevent.getcurrent().throw, Expired)
    return timer


def plain(sock) -> bool:
    """Whether `sock` is a plain gevent socket, whose raw socket (`_sock`) carries its bytes
    as they are (not TLS) and whose read watcher (`_read_event`) can be waited on."""
    return type(sock) is gevent.socket.socket


def recv_when_readable(sock, size: int) -> bytes:
    """Up to `size` bytes of the plain gevent socket `sock` (`plain`), waited for first and
    read once (b"" at EOF); a read that still finds nothing waits again. No deadline of its
    own: the caller arms one (`expiring`) if it wants one."""
    wait, readable, raw = gevent.get_hub().wait, sock._read_event, sock._sock
    while True:
        wait(readable)
        try:
            return raw.recv(size)
        except BlockingIOError:
            continue  # woken with nothing to read: wait again
