"""The gevent side of one event socket: the socket, its reader greenlet, writes and waiters.

`EslConnection` owns one socket: one reader greenlet feeds what it reads to the sans-IO
`Session` (esl/session.py), which says what each message means; the connection performs that
(wakes a waiter, delivers an event to the subscriptions, ends). Writes go out whole
(`sendall`) under a lock together with the registration of their waiter in the session, so
the FIFO of command/reply and api/response waiters is in wire order. BACKGROUND_JOB events are
matched by Job-UUID, CHANNEL_EXECUTE_COMPLETE by Application-UUID (in the session). Every wait
has a deadline (`CommandTimeout`, naming the command); EOF, a reset, a malformed frame or a
final `text/disconnect-notice` fails every pending waiter at once with `ConnectionLost`.

`OutboundConnection` is one call handed over by `socket ... async full`; its `CallSession`
holds the outbound sequence (connect reply, trust, hangup). The outbound server
(esl/server.py) accepts those into a bounded pool; the inbound client (esl/inbound.py) keeps
one authenticated, subscribed connection to FreeSWITCH alive with exponential back-off.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import socket
import time
import uuid as uuidlib
from collections.abc import Callable, Sequence
from typing import Any

import gevent
import gevent.event
import gevent.lock

from plivoxml_fs import metrics
from plivoxml_fs.errors import (
    CommandFailed,
    CommandTimeout,
    ConnectionLost,
    EventOverflow,
    ProtocolError,
)
from plivoxml_fs.esl import greenio
from plivoxml_fs.esl import session as sessions
from plivoxml_fs.esl.codec import encode_command
from plivoxml_fs.esl.messages import Event, Message
from plivoxml_fs.esl.session import CallSession, Session, describe, event_summary, shown
from plivoxml_fs.esl.waiters import Execution, Reply, Subscription, remaining, within
from plivoxml_fs.fs import commands

log = logging.getLogger("plivoxml_fs.esl.transport")

#: Bytes asked of the socket per read.
READ_CHUNK_BYTES = 64 * 1024
#: Events a subscription holds before it fails with EventOverflow (when no maxsize is given).
DEFAULT_SUBSCRIPTION_EVENTS = 10_000


class EslConnection:
    """One event socket: a reader greenlet, serialised writes, correlated waiters."""

    def __init__(
        self, sock: Any, *, name: str, command_timeout_s: float, session: Session | None = None
    ) -> None:
        self.name = name
        self.command_timeout_s = command_timeout_s
        self.log_extra: dict[str, str] = {}
        self._sock = sock
        #: The sans-IO state table: correlation, and for a call the outbound sequence.
        self._session = session or Session()
        self._write_lock = gevent.lock.Semaphore(1)
        self._subscriptions: set[Subscription] = set()
        self._auth_request: gevent.event.AsyncResult = gevent.event.AsyncResult()
        self._closed = gevent.event.Event()
        self._close_reason = ""
        self._reader: gevent.Greenlet | None = None
        #: When set, the loss is logged at DEBUG only: the owner writes the one line about it.
        self.quiet_loss = False

    # -- life cycle -----------------------------------------------------------------------

    @property
    def peer(self) -> str:
        """Who is on the other end, in loss reasons (an outbound peer is not trusted at first)."""
        return self._session.peer

    @property
    def bytes_received(self) -> int:
        return self._session.bytes_received

    @property
    def read_limit(self) -> int | None:
        """At most how many bytes may come (None: no cap); more ends the connection."""
        return self._session.read_limit

    @read_limit.setter
    def read_limit(self, value: int | None) -> None:
        self._session.read_limit = value

    def start(self) -> None:
        """Start the reader greenlet."""
        if self._reader is None:
            self._reader = gevent.spawn(self._read_loop)

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    @property
    def close_reason(self) -> str:
        return self._close_reason

    def wait_closed(self, timeout: float) -> bool:
        return self._closed.wait(timeout)

    def close(self) -> None:
        """Close the socket; every pending waiter fails with ConnectionLost."""
        self._lost("closed by us", level=logging.DEBUG)

    # -- commands -------------------------------------------------------------------------

    def _timeout(self, timeout: float | None) -> float:
        return self.command_timeout_s if timeout is None else timeout

    def _send(self, data: bytes, waiters: Sequence[Reply], deadline: float, what: str) -> None:
        """Register `waiters` and write `data` as one step, so the FIFO matches the wire."""
        if not self._write_lock.acquire(timeout=remaining(deadline)):
            raise CommandTimeout(f"{self.name}: could not send {what} within the deadline")
        try:
            if self.closed:
                raise ConnectionLost(f"{self.name}: cannot send {what}: {self._close_reason}")
            for waiter in waiters:
                self._session.sent(waiter.what, waiter)
            timer = None
            try:
                rest = self._write_now(data)
                if rest:  # the socket's buffer is full: wait for room, within the deadline
                    timer = gevent.Timeout(remaining(deadline))
                    timer.start()
                    self._write(rest)
            except BaseException as exc:
                # A write cut short may leave half a command on the wire: the connection can
                # no longer be trusted, whatever interrupted it (even a caller's own timeout).
                if timer is not None and exc is timer:
                    self._lost("a write timed out (FreeSWITCH not reading)", level=logging.WARNING)
                    raise CommandTimeout(f"{self.name}: could not send {what} in time") from None
                if isinstance(exc, OSError):
                    self._lost(f"write failed: {exc}", level=logging.WARNING)
                    raise ConnectionLost(f"{self.name}: cannot send {what}: {exc}") from None
                self._lost(f"a write was interrupted ({exc!r})", level=logging.WARNING)
                raise
            finally:
                if timer is not None:
                    timer.close()
        finally:
            self._write_lock.release()

    def _write_now(self, data: bytes) -> bytes:
        """As much of `data` as the socket takes at once, without waiting; what is left.

        A command fits the socket's buffer nearly always, so it needs no timer: the deadline
        (a gevent.Timeout made, started and closed) is armed only for what is left."""
        if not greenio.plain(self._sock) or self._sock.gettimeout() is not None:
            return data  # all through _write
        try:
            return data[self._sock._sock.send(data):]
        except BlockingIOError:
            return data

    def _write(self, data: bytes) -> None:
        """`sendall` without its per-call SO_SNDBUF query: a command fits one send."""
        while data:
            data = data[self._sock.send(data):]

    def _await(self, waiter: Reply, deadline: float, timeout: float) -> Message:
        if not within(waiter.result, remaining(deadline)):
            raise CommandTimeout(f"{self.name}: no reply to {waiter.what!r} within {timeout} s")
        return waiter.result.get()

    def request(self, line: str, headers: Sequence[tuple[str, str]] = (),
                body: bytes | None = None, *, timeout: float | None = None) -> Message:
        """Send one command and return its reply as it came, `-ERR` or not."""
        timeout = self._timeout(timeout)
        started = time.monotonic()
        deadline = started + timeout
        data = encode_command(line, headers, body)
        waiter = Reply(describe(line, headers))
        self._send(data, (waiter,), deadline, waiter.what)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s: -> %s%s", self.name, waiter.what, _shown(body), extra=self.log_extra)
        return self._replied(line, started, self._await(waiter, deadline, timeout))

    def _replied(self, line: str, started: float, reply: Message) -> Message:
        metrics.command_latency.labels(metrics.command_kind(line)).observe(
            time.monotonic() - started
        )
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s: <- %s", self.name, reply.reply_text[:120], extra=self.log_extra)
        return reply

    def command(self, line: str, headers: Sequence[tuple[str, str]] = (),
                body: bytes | None = None, *, timeout: float | None = None) -> Message:
        """Send one command and return its reply; a `-ERR` reply raises CommandFailed."""
        reply = self.request(line, headers, body, timeout=timeout)
        if reply.reply_text.startswith("-ERR"):
            raise CommandFailed(describe(line, headers), reply.reply_text)
        return reply

    def commands(self, lines: Sequence[str], *, timeout: float | None = None) -> list[Message]:
        """Send header-less commands in one write (`batch`)."""
        return self.batch([(line, (), None) for line in lines], timeout=timeout)

    def batch(self, items: Sequence[tuple[str, Sequence[tuple[str, str]], bytes | None]], *,
              timeout: float | None = None) -> list[Message]:
        """Commands (line, headers, body) in one write, under one deadline: their replies in
        (wire) order, which the FIFO pairs; the first `-ERR` raises CommandFailed."""
        timeout = self._timeout(timeout)
        deadline = (started := time.monotonic()) + timeout
        waiters = [Reply(describe(line, headers)) for line, headers, _ in items]
        self._send(b"".join(encode_command(*item) for item in items), waiters, deadline,
                   " + ".join(w.what for w in waiters))
        if log.isEnabledFor(logging.DEBUG):
            for (_, _, body), waiter in zip(items, waiters, strict=True):
                log.debug("%s: -> %s%s", self.name, waiter.what, _shown(body),
                          extra=self.log_extra)
        replies = [self._replied(line, started, self._await(waiter, deadline, timeout))
                   for (line, _, _), waiter in zip(items, waiters, strict=True)]
        for waiter, reply in zip(waiters, replies, strict=True):
            if reply.reply_text.startswith("-ERR"):
                raise CommandFailed(waiter.what, reply.reply_text)
        return replies

    def api(self, cmd: str, *, timeout: float | None = None, check: bool = True) -> str:
        """Run `api <cmd>` and return the response body; `-ERR` raises CommandFailed if check."""
        timeout = self._timeout(timeout)
        line = commands.api(cmd)
        reply = self.request(line, timeout=timeout)
        if reply.content_type != "api/response":  # e.g. -ERR before auth
            raise CommandFailed(line, reply.reply_text)
        text = reply.body.decode("utf-8", "replace")
        if check and text.startswith("-ERR"):
            raise CommandFailed(line, text)
        return text

    def bgapi(self, cmd: str, *, timeout: float | None = None) -> Event:
        """Run `bgapi <cmd>` and return its BACKGROUND_JOB event (matched by Job-UUID)."""
        timeout = self._timeout(timeout)
        deadline = time.monotonic() + timeout
        job = commands.bgapi(cmd, str(uuidlib.uuid4()))
        result: gevent.event.AsyncResult = gevent.event.AsyncResult()
        self._session.expect_job(job.job_uuid, result)
        try:
            self.command(job.line, job.headers, timeout=remaining(deadline))
            if not within(result, remaining(deadline)):
                raise CommandTimeout(
                    f"{self.name}: no BACKGROUND_JOB for {shown(job.line)!r} "
                    f"(Job-UUID {job.job_uuid}) within {timeout} s"
                )
            return result.get()
        finally:
            self._session.forget_job(job.job_uuid)

    def execute_async(
        self,
        app: str,
        arg: str = "",
        *,
        uuid: str | None = None,
        event_lock: bool = True,
        timeout: float | None = None,
    ) -> Execution:
        """Send `sendmsg execute` with a fresh Event-UUID; returns once FreeSWITCH accepted it.

        `timeout` bounds the wait for that acceptance (the command/reply), not the execution.
        """
        return self.execute_many([(app, arg)], uuid=uuid, event_lock=event_lock, timeout=timeout)[0]

    def execute_many(self, apps: Sequence[tuple[str, str]], *, uuid: str | None = None,
                     event_lock: bool = True, timeout: float | None = None) -> list[Execution]:
        """`execute_async` of each (app, arg) in one write: FreeSWITCH queues them in wire
        order (event-lock); returns once it accepted them all."""
        executions = [Execution(self, app, str(uuidlib.uuid4())) for app, _ in apps]
        sends = [commands.execute(app, arg, event_uuid=run.app_uuid, event_lock=event_lock,
                                  uuid=uuid)
                 for (app, arg), run in zip(apps, executions, strict=True)]
        for execution in executions:
            self._session.expect_execution(execution.app_uuid, execution)
        try:
            self.batch([(msg.line, msg.headers, msg.body) for msg in sends], timeout=timeout)
        except BaseException:
            for execution in executions:
                self._session.forget_execution(execution.app_uuid)
            raise
        return executions

    def execute(self, app: str, arg: str = "", *, uuid: str | None = None,
                timeout: float | None = None, event_lock: bool = True) -> Event:
        """Run a dialplan application; returns its CHANNEL_EXECUTE_COMPLETE event."""
        timeout = self._timeout(timeout)
        deadline = time.monotonic() + timeout
        execution = self.execute_async(app, arg, uuid=uuid, event_lock=event_lock, timeout=timeout)
        return execution.wait(remaining(deadline), shown_s=timeout)

    def subscribe(
        self,
        maxsize: int | None = None,
        *,
        on_overflow: Callable[[EventOverflow], object] | None = None,
    ) -> Subscription:
        """A queue of every event from now on; bounded (EventOverflow when it falls behind).

        `on_overflow(error)` runs in the reader the moment the bound is hit (default: a
        WARNING line); the subscriber meets the error once it has drained the kept events.
        """
        sub = Subscription(self, maxsize or DEFAULT_SUBSCRIPTION_EVENTS, on_overflow)
        if self.closed:
            sub._end(ConnectionLost(f"{self.name}: {self._close_reason}"))
        else:
            self._subscriptions.add(sub)
        return sub

    def wait_auth_request(self, timeout: float) -> None:
        """Wait for the `auth/request` an inbound connection starts with."""
        if not within(self._auth_request, timeout):
            raise CommandTimeout(f"{self.name}: no auth/request within {timeout} s")
        self._auth_request.get()

    # -- reading --------------------------------------------------------------------------

    def _receiver(self) -> Callable[[], bytes]:
        """What the reader calls for the next bytes (b"" at EOF).

        A gevent socket's recv tries the system call first and waits for the socket only when
        it fails with EAGAIN, which is what happens after nearly every message: FreeSWITCH's
        reply or event was read whole, so the next recv finds nothing, and raises (an
        exception and a system call a message). Waiting first for the socket to be readable
        and then reading once (greenio.recv_when_readable) saves both."""
        sock = self._sock
        if not greenio.plain(sock) or sock.gettimeout() is not None:
            return lambda: sock.recv(READ_CHUNK_BYTES)
        return functools.partial(greenio.recv_when_readable, sock, READ_CHUNK_BYTES)

    def _read_loop(self) -> None:
        receive = self._receiver()
        try:
            while not self.closed:
                try:
                    data = receive()
                except OSError as exc:
                    self._lost(f"read failed: {exc}", level=logging.WARNING)
                    return
                if not data:
                    self._lost(f"connection closed by {self.peer}", level=logging.INFO)
                    return
                for happening in self._session.feed(data):
                    self._perform(happening)
                    if self.closed:  # a message (or a subscriber's overflow) ended it
                        return
        except ProtocolError as exc:
            self._lost(f"malformed ESL from {self.peer}: {exc}", level=logging.ERROR)
        except Exception:
            log.exception("%s: reader failed", self.name, extra=self.log_extra)
            self._lost("reader failed (see the traceback above)", level=logging.ERROR)

    def _perform(self, happening: sessions.Happening) -> None:
        """Do what the session says a message means: wake its waiter, deliver, or end."""
        if isinstance(happening, sessions.Replied):
            happening.waiter.result.set(happening.message)  # type: ignore[attr-defined]
        elif isinstance(happening, sessions.JobDone):
            happening.waiter.set(happening.event)  # type: ignore[attr-defined]
        elif isinstance(happening, sessions.Executed):
            happening.waiter._result.set(happening.event)  # type: ignore[attr-defined]
        elif isinstance(happening, sessions.HungUp):
            if happening.event is None:
                log.debug("%s: hung up, lingering", self.name, extra=self.log_extra)
                self._on_linger()
            else:
                self._on_hangup(happening.event)
        elif isinstance(happening, sessions.Received):
            self._deliver(happening.event)
        elif isinstance(happening, sessions.AuthRequested):
            self._auth_request.set(happening.message)
        elif isinstance(happening, sessions.Ended):
            self._lost(happening.reason, level=happening.level)
        elif happening.message.content_type == "log/data":
            log.debug("%s: log/data %r", self.name, happening.message.body[:200],
                      extra=self.log_extra)
        else:
            log.debug("%s: ignored %s message", self.name, happening.message.content_type,
                      extra=self.log_extra)

    def _deliver(self, event: Event) -> None:
        if log.isEnabledFor(logging.DEBUG):
            extra = {**self.log_extra, "event": event.get("Action") or event.name}
            if event.get("Conference-Name"):  # FreeSWITCH's room id, not the user's name
                extra["fs_room"] = event.get("Conference-Name")
            if "call_uuid" not in extra and event.get("Unique-ID"):
                extra["call_uuid"] = event.get("Unique-ID")
            log.debug("%s: <- event %s", self.name, event_summary(event), extra=extra)
        for sub in list(self._subscriptions):
            sub._put(event)

    def _on_hangup(self, event: Event) -> None:
        """Hook for subclasses: the call's own channel hung up (before subscriptions see it)."""

    def _on_linger(self) -> None:
        """Hook for subclasses: the call hung up and FreeSWITCH lingers."""

    def _on_lost(self) -> None:
        """Hook for subclasses: the connection is gone."""

    # -- loss -----------------------------------------------------------------------------

    def _lost(self, reason: str, *, level: int) -> None:
        """Mark the connection closed and fail every waiter at once with ConnectionLost."""
        if self.closed:
            return
        self._close_reason = reason
        self._closed.set()
        if self.quiet_loss:
            level = logging.DEBUG
        log.log(level, "%s: connection ended: %s", self.name, reason, extra=self.log_extra)
        error = ConnectionLost(f"{self.name}: {reason}")
        pending = self._session.drain()
        for waiter in pending.replies:
            waiter.result.set_exception(error)  # type: ignore[attr-defined]
        for job in pending.jobs:
            job.set_exception(error)  # type: ignore[attr-defined]
        for execution in pending.executions:
            execution._result.set_exception(error)  # type: ignore[attr-defined]
        for sub in list(self._subscriptions):
            sub._end(error)
        self._subscriptions.clear()
        if not self._auth_request.ready():
            self._auth_request.set_exception(error)
        self._close_socket()
        self._on_lost()

    def _close_socket(self) -> None:
        with contextlib.suppress(OSError):  # already gone
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()


class OutboundConnection(EslConnection):
    """One call handed to us by the dialplan's `socket <addr> async full`.

    Its CallSession holds the outbound sequence (esl/session.py PHASES): the channel from the
    connect reply, the byte cap and the peer's name until the call is confirmed, the hangup.
    """

    def __init__(
        self,
        sock: Any,
        address: tuple[str, int],
        *,
        command_timeout_s: float,
        read_limit: int | None = None,
    ) -> None:
        self.address = f"{address[0]}:{address[1]}"
        self._call = CallSession(self.address, read_limit=read_limit)
        super().__init__(
            sock, name=f"outbound {address[0]}:{address[1]}", command_timeout_s=command_timeout_s,
            session=self._call,
        )
        self.hangup = gevent.event.Event()
        # Until established(): a peer whose loss the server reports in one line.
        self.quiet_loss = True

    @property
    def channel(self) -> Event:
        """The connect reply's channel data (no Reply-Text)."""
        return self._call.channel

    @property
    def uuid(self) -> str:
        """The channel's Unique-ID ("" until the connect reply named it)."""
        return self._call.uuid

    @property
    def hangup_event(self) -> Event | None:
        """The call's own CHANNEL_HANGUP (or _COMPLETE) event, when there was one."""
        return self._call.hangup_event

    @property
    def phase(self) -> sessions.Phase:
        return self._call.phase

    def connect(self, timeout: float | None = None) -> Event:
        """Send `connect`; keep the channel data of its reply and the channel's Unique-ID."""
        self.start()
        self.command(self._call.connect(), timeout=timeout)
        reason = self._call.connect_refusal()
        if reason is None:
            return self.channel
        self._lost(reason, level=logging.ERROR)
        raise ProtocolError(f"{self.name}: {reason}")

    def established(self) -> None:
        """The connection is a call: no byte cap any more, FreeSWITCH named, losses logged."""
        self._call.confirmed()
        self.quiet_loss = False

    def no_call_reason(self, error: Exception) -> str:
        """Why this connection did not become a call, naming the peer (from `error` or the loss)."""
        if self.closed:
            return self.close_reason
        text = str(error)
        prefix = f"{self.name}: "
        text = text[len(prefix):] if text.startswith(prefix) else text
        return f"{text} (the peer {self.address})"

    def _perform(self, happening: sessions.Happening) -> None:
        # The connect reply named the channel: name the connection after it at once, before
        # any later message of the same read is logged.
        if isinstance(happening, sessions.Replied) and self._call.uuid and not self.log_extra:
            self.name = f"call {self._call.uuid}"
            self.log_extra = {"call_uuid": self._call.uuid}
        super()._perform(happening)

    def _on_hangup(self, event: Event) -> None:
        self.hangup.set()

    def _on_linger(self) -> None:
        self.hangup.set()

    def _on_lost(self) -> None:
        self.hangup.set()


def _shown(body: bytes | None) -> str:
    """A command's body as a DEBUG line shows it (an execute's app argument): 120 bytes."""
    return f" {body[:120].decode('utf-8', 'replace')}" if body else ""
