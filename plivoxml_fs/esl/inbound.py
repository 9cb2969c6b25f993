"""The inbound client: one authenticated, subscribed connection to FreeSWITCH, kept alive.

`InboundClient` connects (TCP, auth/request, auth, the event subscription under one
connect_timeout_s deadline), hands every event to `on_event` in its own greenlet, and
reconnects with exponential back-off (`backoff`) when the connection goes. Its lines go to the
transport's logger, as before the split.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable, Iterable, Iterator

import gevent
import gevent.event
import gevent.socket

from plivoxml_fs import metrics
from plivoxml_fs.errors import (
    CommandFailed,
    CommandTimeout,
    ConnectionLost,
    EventOverflow,
    PlivoXMLError,
)
from plivoxml_fs.esl.messages import Event, Message
from plivoxml_fs.esl.session import shown
from plivoxml_fs.esl.transport import EslConnection, Subscription
from plivoxml_fs.esl.waiters import remaining
from plivoxml_fs.fs import commands

log = logging.getLogger("plivoxml_fs.esl.transport")

#: How long the on_event greenlet waits per get before looking again (it ends on loss).
DELIVER_POLL_S = 60.0


def backoff(min_s: float, max_s: float) -> Iterator[float]:
    """Reconnect delays in seconds: min_s, doubling each time, never above max_s."""
    if not 0 < min_s <= max_s:
        raise ValueError(f"backoff: need 0 < min_s <= max_s (got {min_s}, {max_s})")
    delay = min_s
    while True:
        yield delay
        delay = min(delay * 2, max_s)


class InboundClient:
    """One authenticated, subscribed inbound connection, reconnected with back-off."""

    def __init__(
        self,
        host: str,
        port: int,
        password: str,
        *,
        events: Iterable[str],
        on_event: Callable[[Event], object] | None = None,
        on_down: Callable[[], object] | None = None,
        reconnect_min_s: float,
        reconnect_max_s: float,
        command_timeout_s: float,
        connect_timeout_s: float | None = None,
    ) -> None:
        self._events = tuple(events)
        self._wanted: dict[str, int] = {}  # event name -> how many want it now (`want`)
        self._asked: set[str] = set()  # the wanted ones the connection subscribed
        if self._events:
            commands.event_plain(*self._split(self._events))  # a bad name: here, not later
        self._auth = commands.auth(password)
        self._host, self._port = host, port
        self._on_event = on_event
        self._on_down = on_down
        next(backoff(reconnect_min_s, reconnect_max_s))  # refuse a bad range here, not later
        self._min_s, self._max_s = reconnect_min_s, reconnect_max_s
        self._command_timeout_s = command_timeout_s
        self._connect_timeout_s = connect_timeout_s or command_timeout_s
        self._conn: EslConnection | None = None
        self._up = gevent.event.Event()
        self._runner: gevent.Greenlet | None = None
        self._stopping = False
        self.name = f"inbound {host}:{port}"

    def start(self) -> None:
        if self._runner is None:
            self._stopping = False
            self._runner = gevent.spawn(self._run)

    def stop(self) -> None:
        self._stopping = True
        if self._runner is not None:
            self._runner.kill()
            self._runner = None
        if self._conn is not None:
            self._conn.close()
        self._up.clear()

    @staticmethod
    def _split(events: Iterable[str]) -> tuple[list[str], list[str]]:
        names = [e for e in events if "::" not in e]
        return names, [e for e in events if "::" in e]

    @property
    def _subscription(self) -> str | None:
        """The `event plain` of a new connection: the fixed events and those wanted now."""
        events = [*self._events, *(e for e in self._wanted if e not in self._events)]
        return commands.event_plain(*self._split(events)) if events else None

    @property
    def wanted(self) -> list[str]:
        """The events subscribed beyond the fixed ones, now (`want`)."""
        return list(self._wanted)

    def want(self, name: str, on: bool) -> None:
        """Ask FreeSWITCH for event `name` too while someone needs it (counted: it is nixed
        when the last `want(name, False)` comes), on this connection (`event plain` /
        `nixevent`, its reply awaited, so what is asked next comes after it) and every later
        one. FreeSWITCH sends every channel's events of a type, so a type only a few calls
        need (an orphan's CHANNEL_HANGUP_COMPLETE) is asked for only while they are there.
        Not connected, or no reply: the next connection subscribes what is wanted then."""
        commands.nixevent([name])  # one plain event name (UnsafeValue otherwise)
        count = self._wanted.get(name, 0) + (1 if on else -1)
        if count > 0:
            self._wanted[name] = count
        else:
            self._wanted.pop(name, None)
        self._sync()

    def _sync(self) -> None:
        """Make this connection's subscription what is wanted now (what it was asked for
        differs when a `want` came while it was being opened)."""
        conn = self._conn
        if conn is None or conn.closed or not self._up.is_set():
            return
        wanted = set(self._wanted) - set(self._events)
        for name, on in [*((n, True) for n in sorted(wanted - self._asked)),
                         *((n, False) for n in sorted(self._asked - wanted))]:
            line = commands.event_plain([name]) if on else commands.nixevent([name])
            (self._asked.add if on else self._asked.discard)(name)
            try:
                conn.command(line, timeout=self._command_timeout_s)
            except PlivoXMLError as exc:  # the connection went: its successor subscribes anew
                log.warning("%s: %s not sent: %s", self.name, line, exc)
                return

    @property
    def connected(self) -> bool:
        return self._up.is_set() and self._conn is not None and not self._conn.closed

    def wait_connected(self, timeout: float) -> bool:
        return self._up.wait(timeout)

    def _connection(self, deadline: float) -> EslConnection:
        """The live connection, waiting for a reconnect up to `deadline`."""
        while self._up.wait(remaining(deadline)):
            conn = self._conn
            if conn is not None and not conn.closed:
                return conn
            gevent.sleep(0)  # lost an instant ago: let the reconnect loop notice
        raise ConnectionLost(f"{self.name}: not connected to FreeSWITCH")

    def api(self, cmd: str, *, timeout: float | None = None, check: bool = True) -> str:
        timeout = self._command_timeout_s if timeout is None else timeout
        deadline = time.monotonic() + timeout
        conn = self._connection(deadline)
        try:
            return conn.api(cmd, timeout=remaining(deadline), check=check)
        except CommandTimeout:  # say the caller's deadline, not what was left of it
            raise CommandTimeout(
                f"{self.name}: no reply to {shown(commands.api(cmd))!r} within {timeout} s"
            ) from None

    def bgapi(self, cmd: str, *, timeout: float | None = None) -> Event:
        timeout = self._command_timeout_s if timeout is None else timeout
        deadline = time.monotonic() + timeout
        conn = self._connection(deadline)
        return conn.bgapi(cmd, timeout=remaining(deadline))

    def sendmsg(self, message: commands.Sendmsg, *, timeout: float | None = None) -> Message:
        """`sendmsg <uuid>` (commands.unicast, commands.execute with a uuid): its reply; -ERR
        raises CommandFailed."""
        timeout = self._command_timeout_s if timeout is None else timeout
        deadline = time.monotonic() + timeout
        conn = self._connection(deadline)
        return conn.command(message.line, message.headers, message.body,
                            timeout=remaining(deadline))

    # -- the reconnect loop ---------------------------------------------------------------

    def _run(self) -> None:
        delays = backoff(self._min_s, self._max_s)
        delay = next(delays)
        down_since: float | None = None
        attempts = 0
        while not self._stopping:
            attempts += 1
            try:
                conn = self._open()
            except (OSError, PlivoXMLError) as exc:
                if down_since is None:
                    down_since = time.monotonic()
                    log.warning(
                        "%s: cannot reach FreeSWITCH (%s); retrying every %s..%s s",
                        self.name,
                        exc,
                        self._min_s,
                        self._max_s,
                    )
                else:
                    log.debug("%s: attempt %d failed: %s", self.name, attempts, exc)
                gevent.sleep(delay)
                delay = next(delays)
                continue
            if down_since is not None:
                log.warning(
                    "%s: FreeSWITCH is back after %.1f s (%d attempts)",
                    self.name,
                    time.monotonic() - down_since,
                    attempts,
                )
            else:
                log.info("%s: connected to FreeSWITCH", self.name)
            delays, down_since, attempts = backoff(self._min_s, self._max_s), None, 0
            delay = next(delays)
            self._up.set()
            self._sync()  # a `want` while it was being opened
            conn.wait_closed(None)
            self._up.clear()
            if self._stopping:
                return
            self._went_down()
            down_since = time.monotonic()
            metrics.esl_reconnects.inc()
            log.warning("%s: FreeSWITCH went away (%s); reconnecting", self.name, conn.close_reason)
            gevent.sleep(delay)

    def _went_down(self) -> None:
        """Tell `on_down` the connection was lost (events may have been missed meanwhile)."""
        if self._on_down is None:
            return
        try:
            self._on_down()
        except Exception:
            log.exception("%s: on_down failed", self.name)

    def _open(self) -> EslConnection:
        """Connect, authenticate and subscribe, all within connect_timeout_s."""
        deadline = time.monotonic() + self._connect_timeout_s
        sock = gevent.socket.create_connection(
            (self._host, self._port), timeout=self._connect_timeout_s
        )
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = EslConnection(sock, name=self.name, command_timeout_s=self._command_timeout_s)
        conn._on_lost = self._up.clear  # api/bgapi wait for the next connection at once
        conn.start()
        try:
            sub = None
            if self._on_event is not None:
                sub = conn.subscribe(on_overflow=lambda error: self._overflowed(conn, error))
            conn.wait_auth_request(remaining(deadline))
            reply = conn.command(self._auth, timeout=remaining(deadline))
            if not reply.reply_text.startswith("+OK"):
                raise CommandFailed("auth <redacted>", reply.reply_text)
            subscription, self._asked = self._subscription, set(self._wanted) - set(self._events)
            if subscription is not None:
                conn.command(subscription, timeout=remaining(deadline))
            if sub is not None:
                gevent.spawn(self._deliver, sub)
        except CommandTimeout as exc:
            conn.close()
            step = str(exc).removeprefix(f"{self.name}: ").split(" within ")[0]
            raise CommandTimeout(
                f"{self.name}: {step} within connect_timeout_s ({self._connect_timeout_s} s)"
            ) from None
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        return conn

    def _overflowed(self, conn: EslConnection, error: EventOverflow) -> None:
        """on_event fell too far behind and events were dropped: say so and reconnect.

        Closing makes the gap loud (one ERROR line, then the usual went-away/back lines) and
        starts a fresh connection, rather than running on with events silently missing.
        """
        log.error("%s; reconnecting", error)
        conn.close()

    def _deliver(self, sub: Subscription) -> None:
        """Hand every event to on_event, in order, in this greenlet (never the reader's)."""
        assert self._on_event is not None
        while True:
            try:
                event = sub.get(timeout=DELIVER_POLL_S)
            except (ConnectionLost, EventOverflow):
                return
            if event is None:
                continue
            try:
                self._on_event(event)
            except Exception:
                log.exception("%s: on_event failed for %s", self.name, event.name,
                              extra={"event": event.get("Action") or event.name,
                                     "call_uuid": event.get("Unique-ID") or "",
                                     "fs_room": event.get("Conference-Name") or ""})
