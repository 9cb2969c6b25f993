"""The gevent side of the event socket: connections, the outbound server, the inbound client.

`EslConnection` owns one socket: one reader greenlet feeds the sans-IO `MessageParser`, writes
go out whole (`sendall`) under a lock together with the registration of their waiter, so the
FIFO of command/reply and api/response waiters is in wire order. BACKGROUND_JOB events are
matched by Job-UUID, CHANNEL_EXECUTE_COMPLETE by Application-UUID. Every wait has a deadline
(`CommandTimeout`, naming the command); EOF, a reset, a malformed frame or a final
`text/disconnect-notice` fails every pending waiter at once with `ConnectionLost`.

`OutboundConnection` is one call handed over by `socket ... async full`; `OutboundServer`
accepts those into a bounded pool; `InboundClient` keeps one authenticated, subscribed
connection to FreeSWITCH alive with exponential back-off.

Before a call exists the outbound side trusts nothing: a peer not in `allowed_peers` is closed
unread; the connect reply has its own deadline (`connect_timeout_s`) and a byte cap
(`max_connect_reply_bytes`); an optional `confirm(conn)` (the driver's check over the inbound
connection) may still refuse it. Each connection that never becomes a call is one log line
naming the peer: INFO when it sent nothing (a TCP check), WARNING otherwise.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import socket
import time
import uuid as uuidlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import gevent
import gevent.event
import gevent.lock
import gevent.pool
import gevent.queue
import gevent.server
import gevent.socket

from plivoxml_fs import metrics
from plivoxml_fs.errors import (
    CommandFailed,
    CommandTimeout,
    ConnectionLost,
    EventOverflow,
    PlivoXMLError,
    ProtocolError,
)
from plivoxml_fs.esl.codec import MessageParser, encode_command
from plivoxml_fs.esl.messages import Event, Headers, Message
from plivoxml_fs.fs import commands

log = logging.getLogger("plivoxml_fs.esl.transport")

#: Bytes asked of the socket per read.
READ_CHUNK_BYTES = 64 * 1024
#: Events a subscription holds before it fails with EventOverflow (when no maxsize is given).
DEFAULT_SUBSCRIPTION_EVENTS = 10_000
#: How long the on_event greenlet waits per get before looking again (it ends on loss).
DELIVER_POLL_S = 60.0
#: Connections the kernel queues for the outbound server while we accept (gevent's default is
#: 128, too few for a burst of calls; the kernel caps it at net.core.somaxconn).
LISTEN_BACKLOG = 4096
#: How long stop() gives connections it closed after the drain timeout to end, in seconds.
CLOSE_GRACE_S = 1.0
#: Share of max_calls that must be free again before "call pool has room again" is logged (so
#: a pool that stays about full is one episode, not a line per call ending).
POOL_ROOM_SHARE = 0.1
#: Host names in allowed_peers are resolved again, on a refusal, at most this often (seconds).
PEER_RESOLVE_INTERVAL_S = 30.0

_REPLY_TYPES = ("command/reply", "api/response")


def _shown(line: str) -> str:
    """A command line safe to log or put in an error: never a password."""
    if line.startswith("auth "):
        return "auth <redacted>"
    return line if len(line) <= 120 else line[:117] + "..."


def _event_summary(event: Event) -> str:
    """One readable line for an event in debug logs and transcripts."""
    name = event.get("Action", "") if event.name == "CUSTOM" else event.name
    if event.name.startswith("CHANNEL_EXECUTE"):
        detail = f"{event.get('Application', '')} -> {event.get('Application-Response', '')}"
        if event.name == "CHANNEL_EXECUTE":
            detail = event.get("Application", "")
    elif event.name == "DTMF":
        detail = event.get("DTMF-Digit", "")
    elif event.name.startswith("CHANNEL_HANGUP"):
        detail = event.get("Hangup-Cause", "")
    elif event.name == "BACKGROUND_JOB":
        detail = event.body_text.strip()[:80]
    else:
        detail = ""
    return f"{name} {detail}".rstrip()


def _describe(line: str, headers: Sequence[tuple[str, str]]) -> str:
    """How a command is named in errors and logs: its line, and the app of a sendmsg."""
    what = _shown(line)
    if line == "sendmsg" or line.startswith("sendmsg "):
        app = next((v for k, v in headers if k.lower() == "execute-app-name"), None)
        command = next((v for k, v in headers if k.lower() == "call-command"), "")
        what = f"{what} {app or command}".rstrip()
    return what


def _remaining(deadline: float) -> float:
    return max(0.0, deadline - time.monotonic())


def _within(result: gevent.event.AsyncResult, timeout: float) -> bool:
    """Wait up to `timeout` s for `result`; True when it is ready (value or error).

    Waiting this way, rather than catching gevent.Timeout around get(), leaves a caller's own
    gevent.Timeout alone: it propagates instead of being mistaken for ours.
    """
    result.wait(timeout)
    return result.ready()


def backoff(min_s: float, max_s: float) -> Iterator[float]:
    """Reconnect delays in seconds: min_s, doubling each time, never above max_s."""
    if not 0 < min_s <= max_s:
        raise ValueError(f"backoff: need 0 < min_s <= max_s (got {min_s}, {max_s})")
    delay = min_s
    while True:
        yield delay
        delay = min(delay * 2, max_s)


class _Reply:
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

    def wait(self, timeout: float) -> Event:
        """The CHANNEL_EXECUTE_COMPLETE event; `CommandTimeout` or `ConnectionLost` otherwise."""
        if not _within(self._result, timeout):
            raise CommandTimeout(
                f"{self._conn.name}: {self.app} (Application-UUID {self.app_uuid}) "
                f"did not complete within {timeout} s"
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
        try:
            item = self._queue.get(timeout=timeout)
        except gevent.queue.Empty:
            return None
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


class EslConnection:
    """One event socket: a reader greenlet, serialised writes, correlated waiters."""

    def __init__(self, sock: Any, *, name: str, command_timeout_s: float) -> None:
        self.name = name
        self.command_timeout_s = command_timeout_s
        self.log_extra: dict[str, str] = {}
        self._sock = sock
        self._parser = MessageParser()
        self._write_lock = gevent.lock.Semaphore(1)
        self._replies: deque[_Reply] = deque()
        self._jobs: dict[str, gevent.event.AsyncResult] = {}
        self._executions: dict[str, Execution] = {}
        self._subscriptions: set[Subscription] = set()
        self._auth_request: gevent.event.AsyncResult = gevent.event.AsyncResult()
        self._closed = gevent.event.Event()
        self._close_reason = ""
        self._reader: gevent.Greenlet | None = None
        #: Who is on the other end, in loss reasons (an outbound peer is not trusted at first).
        self.peer = "FreeSWITCH"
        #: Bytes received so far, and at most how many may come (None: no cap).
        self.bytes_received = 0
        self.read_limit: int | None = None
        #: When set, the loss is logged at DEBUG only: the owner writes the one line about it.
        self.quiet_loss = False

    # -- life cycle -----------------------------------------------------------------------

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

    def _send(self, data: bytes, waiter: _Reply | None, deadline: float, what: str) -> None:
        """Register `waiter` and write `data` as one step, so the FIFO matches the wire."""
        if not self._write_lock.acquire(timeout=_remaining(deadline)):
            raise CommandTimeout(f"{self.name}: could not send {what} within the deadline")
        try:
            if self.closed:
                raise ConnectionLost(f"{self.name}: cannot send {what}: {self._close_reason}")
            if waiter is not None:
                self._replies.append(waiter)
            timer = gevent.Timeout(_remaining(deadline))
            timer.start()
            try:
                self._sock.sendall(data)
            except BaseException as exc:
                # A write cut short may leave half a command on the wire: the connection can
                # no longer be trusted, whatever interrupted it (even a caller's own timeout).
                if exc is timer:
                    self._lost("a write timed out (FreeSWITCH not reading)", level=logging.WARNING)
                    raise CommandTimeout(f"{self.name}: could not send {what} in time") from None
                if isinstance(exc, OSError):
                    self._lost(f"write failed: {exc}", level=logging.WARNING)
                    raise ConnectionLost(f"{self.name}: cannot send {what}: {exc}") from None
                self._lost(f"a write was interrupted ({exc!r})", level=logging.WARNING)
                raise
            finally:
                timer.close()
        finally:
            self._write_lock.release()

    def _await(self, waiter: _Reply, deadline: float, timeout: float) -> Message:
        if not _within(waiter.result, _remaining(deadline)):
            raise CommandTimeout(f"{self.name}: no reply to {waiter.what!r} within {timeout} s")
        return waiter.result.get()

    def request(
        self,
        line: str,
        headers: Sequence[tuple[str, str]] = (),
        body: bytes | None = None,
        *,
        timeout: float | None = None,
    ) -> Message:
        """Send one command and return its reply as it came, `-ERR` or not."""
        timeout = self._timeout(timeout)
        started = time.monotonic()
        deadline = started + timeout
        data = encode_command(line, headers, body)
        waiter = _Reply(_describe(line, headers))
        self._send(data, waiter, deadline, waiter.what)
        if log.isEnabledFor(logging.DEBUG):
            shown = f" {body[:120].decode('utf-8', 'replace')}" if body else ""
            log.debug("%s: -> %s%s", self.name, waiter.what, shown, extra=self.log_extra)
        reply = self._await(waiter, deadline, timeout)
        metrics.command_latency.labels(metrics.command_kind(line)).observe(
            time.monotonic() - started
        )
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s: <- %s", self.name, reply.reply_text[:120], extra=self.log_extra)
        return reply

    def command(
        self,
        line: str,
        headers: Sequence[tuple[str, str]] = (),
        body: bytes | None = None,
        *,
        timeout: float | None = None,
    ) -> Message:
        """Send one command and return its reply; a `-ERR` reply raises CommandFailed."""
        reply = self.request(line, headers, body, timeout=timeout)
        if reply.reply_text.startswith("-ERR"):
            raise CommandFailed(_describe(line, headers), reply.reply_text)
        return reply

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
        self._jobs[job.job_uuid] = result
        try:
            self.command(job.line, job.headers, timeout=_remaining(deadline))
            if not _within(result, _remaining(deadline)):
                raise CommandTimeout(
                    f"{self.name}: no BACKGROUND_JOB for {_shown(job.line)!r} "
                    f"(Job-UUID {job.job_uuid}) within {timeout} s"
                )
            return result.get()
        finally:
            self._jobs.pop(job.job_uuid, None)

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
        app_uuid = str(uuidlib.uuid4())
        msg = commands.execute(app, arg, event_uuid=app_uuid, event_lock=event_lock, uuid=uuid)
        execution = Execution(self, app, app_uuid)
        self._executions[app_uuid] = execution
        try:
            self.command(msg.line, msg.headers, msg.body, timeout=timeout)
        except BaseException:
            self._executions.pop(app_uuid, None)
            raise
        return execution

    def execute(
        self,
        app: str,
        arg: str = "",
        *,
        uuid: str | None = None,
        timeout: float | None = None,
        event_lock: bool = True,
    ) -> Event:
        """Run a dialplan application; returns its CHANNEL_EXECUTE_COMPLETE event."""
        timeout = self._timeout(timeout)
        deadline = time.monotonic() + timeout
        execution = self.execute_async(app, arg, uuid=uuid, event_lock=event_lock, timeout=timeout)
        if not _within(execution._result, _remaining(deadline)):
            raise CommandTimeout(
                f"{self.name}: {app} (Application-UUID {execution.app_uuid}) "
                f"did not complete within {timeout} s"
            )
        return execution._result.get()

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
        if not _within(self._auth_request, timeout):
            raise CommandTimeout(f"{self.name}: no auth/request within {timeout} s")
        self._auth_request.get()

    # -- reading --------------------------------------------------------------------------

    def _read_loop(self) -> None:
        try:
            while not self.closed:
                try:
                    data = self._sock.recv(READ_CHUNK_BYTES)
                except OSError as exc:
                    self._lost(f"read failed: {exc}", level=logging.WARNING)
                    return
                if not data:
                    self._lost(f"connection closed by {self.peer}", level=logging.INFO)
                    return
                self.bytes_received += len(data)
                if self.read_limit is not None and self.bytes_received > self.read_limit:
                    self._lost(
                        f"{self.peer} sent more than {self.read_limit} bytes before a call "
                        f"existed (max_connect_reply_bytes)",
                        level=logging.WARNING,
                    )
                    return
                for message in self._parser.feed(data):
                    self._dispatch(message)
                    if self.closed:  # a message (or a subscriber's overflow) ended it
                        return
        except ProtocolError as exc:
            self._lost(f"malformed ESL from {self.peer}: {exc}", level=logging.ERROR)
        except Exception:
            log.exception("%s: reader failed", self.name, extra=self.log_extra)
            self._lost("reader failed (see the traceback above)", level=logging.ERROR)

    def _dispatch(self, message: Message) -> None:
        kind = message.content_type
        if kind in _REPLY_TYPES:
            self._on_reply(message)
        elif message.is_event:
            self._on_event_message(message.event())
        elif kind == "text/disconnect-notice":
            self._on_disconnect_notice(message)
        elif kind == "auth/request":
            self._auth_request.set(message)
        elif kind == "text/rude-rejection":
            text = message.body.decode("utf-8", "replace").strip()
            self._lost(f"FreeSWITCH rejected the connection: {text}", level=logging.ERROR)
        elif kind == "log/data":
            log.debug("%s: log/data %r", self.name, message.body[:200], extra=self.log_extra)
        else:
            log.debug("%s: ignored %s message", self.name, kind, extra=self.log_extra)

    def _on_reply(self, message: Message) -> None:
        if not self._replies:
            raise ProtocolError(f"{message.content_type} with no command waiting for it")
        waiter = self._replies.popleft()
        waiter.result.set(message)

    def _on_event_message(self, event: Event) -> None:
        if log.isEnabledFor(logging.DEBUG):
            extra = {**self.log_extra, "event": event.get("Action") or event.name}
            if event.get("Conference-Name"):  # FreeSWITCH's room id, not the user's name
                extra["fs_room"] = event.get("Conference-Name")
            if "call_uuid" not in extra and event.get("Unique-ID"):
                extra["call_uuid"] = event.get("Unique-ID")
            log.debug("%s: <- event %s", self.name, _event_summary(event), extra=extra)
        if event.name == "BACKGROUND_JOB":
            job = self._jobs.get(event.get("Job-UUID", ""))
            if job is not None:
                job.set(event)
        elif event.name == "CHANNEL_EXECUTE_COMPLETE":
            execution = self._executions.pop(event.get("Application-UUID", ""), None)
            if execution is not None:
                execution._result.set(event)
        self._on_event(event)
        for sub in list(self._subscriptions):
            sub._put(event)

    def _on_event(self, event: Event) -> None:
        """Hook for subclasses: every event, before the subscriptions see it."""

    def _on_disconnect_notice(self, message: Message) -> None:
        disposition = message.get("Content-Disposition", "")
        if disposition == "linger":
            log.debug("%s: hung up, lingering", self.name, extra=self.log_extra)
            self._on_linger()
            return
        self._lost(f"disconnect-notice ({disposition or 'no disposition'})", level=logging.DEBUG)

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
        while self._replies:
            self._replies.popleft().result.set_exception(error)
        for job in list(self._jobs.values()):
            job.set_exception(error)
        executions, self._executions = self._executions, {}
        for execution in executions.values():
            execution._result.set_exception(error)
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
    """One call handed to us by the dialplan's `socket <addr> async full`."""

    def __init__(
        self,
        sock: Any,
        address: tuple[str, int],
        *,
        command_timeout_s: float,
        read_limit: int | None = None,
    ) -> None:
        super().__init__(
            sock, name=f"outbound {address[0]}:{address[1]}", command_timeout_s=command_timeout_s
        )
        self.address = f"{address[0]}:{address[1]}"
        self.channel: Event = Event({})
        self.uuid = ""
        self.hangup = gevent.event.Event()
        self.hangup_event: Event | None = None
        # Until established(): a peer, capped, whose loss the server reports in one line.
        self.peer = f"the peer {self.address}"
        self.read_limit = read_limit
        self.quiet_loss = True

    def connect(self, timeout: float | None = None) -> Event:
        """Send `connect`; keep the channel data of its reply and the channel's Unique-ID."""
        self.start()
        self.command(commands.connect(), timeout=timeout)
        if not self.uuid:
            reason = f"{self.peer} sent a connect reply without Unique-ID"
        elif not commands.IDENTIFIER.fullmatch(self.uuid):
            reason = f"{self.peer} sent a Unique-ID that is no channel id ({self.uuid[:60]!r})"
        else:
            return self.channel
        self._lost(reason, level=logging.ERROR)
        raise ProtocolError(f"{self.name}: {reason}")

    def established(self) -> None:
        """The connection is a call: no byte cap any more, FreeSWITCH named, losses logged."""
        self.read_limit = None
        self.peer = "FreeSWITCH"
        self.quiet_loss = False

    def no_call_reason(self, error: Exception) -> str:
        """Why this connection did not become a call, naming the peer (from `error` or the loss)."""
        if self.closed:
            return self.close_reason
        text = str(error)
        prefix = f"{self.name}: "
        text = text[len(prefix):] if text.startswith(prefix) else text
        return f"{text} (the peer {self.address})"

    def _on_reply(self, message: Message) -> None:
        # Adopt the channel in the reader, before any later message of the same read is seen.
        if not self.uuid and self._replies and self._replies[0].what == "connect":
            unique_id = message.get("Unique-ID") or message.get("Channel-Unique-ID") or ""
            if unique_id:
                headers = message.headers
                self.channel = Event(
                    headers.without("Reply-Text") if isinstance(headers, Headers)
                    else {k: v for k, v in headers.items() if k != "Reply-Text"}
                )
                self.uuid = unique_id
                self.name = f"call {unique_id}"
                self.log_extra = {"call_uuid": unique_id}
        super()._on_reply(message)

    def _on_event(self, event: Event) -> None:
        if event.name not in ("CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE"):
            return
        if self.uuid and event.unique_id and event.unique_id != self.uuid:
            return
        if self.hangup_event is None:
            self.hangup_event = event
        self.hangup.set()

    def _on_linger(self) -> None:
        self.hangup.set()

    def _on_lost(self) -> None:
        self.hangup.set()


def _peer_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """A peer's address as ipaddress sees it (IPv4-mapped IPv6 as IPv4, scope dropped)."""
    try:
        addr = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


class PeerFilter:
    """Which peers may hand calls to the outbound server: addresses, networks, host names.

    Host names are resolved when first needed and again, at most every PEER_RESOLVE_INTERVAL_S,
    when a peer is not found among their addresses (FreeSWITCH's address may change).
    """

    def __init__(self, entries: Sequence[str]) -> None:
        self.entries = tuple(entries)
        self._networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        self._names: list[str] = []
        for entry in self.entries:
            try:
                self._networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self._names.append(entry)
        self._resolved: set[Any] = set()
        self._resolved_at: float | None = None

    def refusal(self, host: str) -> str | None:
        """Why `host` may not connect, or None when it may."""
        addr = _peer_address(host)
        if addr is not None:
            if any(addr in network for network in self._networks):
                return None
            if self._names:
                if addr in self._resolved:
                    return None
                if self._resolved_at is None or (
                    time.monotonic() - self._resolved_at >= PEER_RESOLVE_INTERVAL_S
                ):
                    self.resolve()
                    if addr in self._resolved:
                        return None
        return f"not an allowed peer (allowed_peers: {', '.join(self.entries)})"

    def resolve(self) -> None:
        """Look the host names up again; a name that does not resolve is one WARNING."""
        resolved: set[Any] = set()
        for name in self._names:
            try:
                infos = gevent.socket.getaddrinfo(name, None, 0, socket.SOCK_STREAM)
            except OSError as exc:
                log.warning("allowed_peers: cannot resolve %r (%s); its calls are refused",
                            name, exc)
                continue
            for info in infos:
                addr = _peer_address(str(info[4][0]))
                if addr is not None:
                    resolved.add(addr)
        self._resolved, self._resolved_at = resolved, time.monotonic()


class OutboundServer:
    """Accepts outbound-socket calls into a bounded pool and runs `handler(conn)` for each.

    `allowed_peers` (None: anyone) is checked before anything is read; `connect_timeout_s`
    (default: command_timeout_s) bounds the connect reply, `max_connect_reply_bytes` (None: no
    cap) what a peer may send before a call exists; `confirm(conn)` returns why a connected
    call is refused (a str) or None, and runs before the handler.
    """

    def __init__(
        self,
        address: tuple[str, int],
        handler: Callable[[OutboundConnection], object],
        *,
        max_calls: int,
        command_timeout_s: float,
        connect_timeout_s: float | None = None,
        max_connect_reply_bytes: int | None = None,
        allowed_peers: Sequence[str] | None = None,
        confirm: Callable[[OutboundConnection], str | None] | None = None,
    ) -> None:
        if max_calls < 1:
            raise ValueError(f"OutboundServer: max_calls must be >= 1 (got {max_calls})")
        self._handler = handler
        self._command_timeout_s = command_timeout_s
        self._connect_timeout_s = connect_timeout_s or command_timeout_s
        self._read_limit = max_connect_reply_bytes
        self._peers = None if allowed_peers is None else PeerFilter(allowed_peers)
        self._confirm = confirm
        self._max_calls = max_calls
        self._room_mark = max_calls - max(1, int(max_calls * POOL_ROOM_SHARE))
        self._full_since: float | None = None
        self._pool = gevent.pool.Pool(max_calls)
        self._server = gevent.server.StreamServer(
            address, self._serve, backlog=LISTEN_BACKLOG, spawn=self._pool
        )
        self._conns: set[OutboundConnection] = set()

    @property
    def allowed_peers(self) -> tuple[str, ...] | None:
        return None if self._peers is None else self._peers.entries

    @allowed_peers.setter
    def allowed_peers(self, entries: Sequence[str] | None) -> None:
        self._peers = None if entries is None else PeerFilter(entries)
        if self._server.started and self._peers is not None:
            self._peers.resolve()

    def start(self) -> None:
        if self._peers is not None:
            self._peers.resolve()
        self._server.start()
        log.info("outbound event socket listening on %s:%d", *self.address[:2])

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.address[:2]
        return host, port

    @property
    def active(self) -> int:
        """Calls being handled now."""
        return len(self._pool)

    def stop(self, timeout: float) -> bool:
        """Stop accepting, wait up to `timeout` s for active calls; True if all ended.

        Calls still running after that have their connection closed (their waiters fail with
        ConnectionLost, so their handlers end).
        """
        self._server.close()
        drained = self._pool.join(timeout=timeout)
        if not drained:
            log.warning(
                "stop: %d calls still active after %s s; closing them", self.active, timeout
            )
            for conn in list(self._conns):
                conn.close()
            self._pool.join(timeout=CLOSE_GRACE_S)
        return bool(drained)

    def _serve(self, sock: Any, address: tuple[str, int]) -> None:
        refusal = None if self._peers is None else self._peers.refusal(str(address[0]))
        if refusal is not None:
            log.warning("refused a connection from the peer %s:%s: %s", *address[:2], refusal)
            with contextlib.suppress(OSError):
                sock.close()
            return
        self._note_taken()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = OutboundConnection(
            sock, address, command_timeout_s=self._command_timeout_s, read_limit=self._read_limit
        )
        self._conns.add(conn)
        try:
            if not self._connected(conn):
                return
            try:
                self._handler(conn)
            except Exception:
                log.exception("call %s: handler failed", conn.uuid, extra=conn.log_extra)
        finally:
            conn.close()
            self._conns.discard(conn)
            self._note_freed()

    def _connected(self, conn: OutboundConnection) -> bool:
        """Connect and confirm; False (after its one log line) when this is not a call."""
        try:
            conn.connect(timeout=self._connect_timeout_s)
        except PlivoXMLError as exc:
            if conn.bytes_received == 0 and conn.close_reason.startswith("connection closed"):
                log.info("the peer %s closed the connection without sending anything "
                         "(a TCP check?): no call", conn.address)
            else:
                log.warning("no call: %s", conn.no_call_reason(exc))
            return False
        if self._confirm is not None:
            try:
                reason = self._confirm(conn)
            except Exception:  # a bug: refuse (fail closed), say so once
                log.exception("call %s: confirm failed", conn.uuid, extra=conn.log_extra)
                reason = "the check failed (see the traceback above)"
            if reason is not None:
                log.warning("refused call %s from the peer %s: %s", conn.uuid, conn.address,
                            reason, extra=conn.log_extra)
                return False
        conn.established()
        return True

    def _note_taken(self) -> None:
        """One WARNING when the last call slot is taken (this connection holds one)."""
        if self._full_since is None and self._pool.full():
            self._full_since = time.monotonic()
            log.warning(
                "call pool full: %d connections being handled (max_calls %d); further calls "
                "wait in the listen backlog", len(self._pool), self._max_calls,
            )

    def _note_freed(self) -> None:
        """One INFO once enough slots are free again after the pool was full."""
        left = len(self._pool) - 1  # this connection's slot frees as it returns
        if self._full_since is not None and left <= self._room_mark:
            log.info("call pool has room again: %d connections being handled (max_calls %d), "
                     "full for %.1f s", left, self._max_calls, time.monotonic() - self._full_since)
            self._full_since = None


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
        names = [e for e in events if "::" not in e]
        custom = [e for e in events if "::" in e]
        self._subscription = commands.event_plain(names, custom) if names or custom else None
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

    @property
    def connected(self) -> bool:
        return self._up.is_set() and self._conn is not None and not self._conn.closed

    def wait_connected(self, timeout: float) -> bool:
        return self._up.wait(timeout)

    def _connection(self, deadline: float) -> EslConnection:
        """The live connection, waiting for a reconnect up to `deadline`."""
        while self._up.wait(_remaining(deadline)):
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
            return conn.api(cmd, timeout=_remaining(deadline), check=check)
        except CommandTimeout:  # say the caller's deadline, not what was left of it
            raise CommandTimeout(
                f"{self.name}: no reply to {_shown(commands.api(cmd))!r} within {timeout} s"
            ) from None

    def bgapi(self, cmd: str, *, timeout: float | None = None) -> Event:
        timeout = self._command_timeout_s if timeout is None else timeout
        deadline = time.monotonic() + timeout
        conn = self._connection(deadline)
        return conn.bgapi(cmd, timeout=_remaining(deadline))

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
            conn.wait_auth_request(_remaining(deadline))
            reply = conn.command(self._auth, timeout=_remaining(deadline))
            if not reply.reply_text.startswith("+OK"):
                raise CommandFailed("auth <redacted>", reply.reply_text)
            if self._subscription is not None:
                conn.command(self._subscription, timeout=_remaining(deadline))
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
