"""The outbound server: FreeSWITCH's `socket ... async full` calls, accepted into a bounded pool.

`OutboundServer` accepts each call's connection (an `OutboundConnection`, esl/transport.py) and
runs the handler (the driver) for it; `PeerFilter` says which peers may connect.

Before a call exists the outbound side trusts nothing: a peer not in `allowed_peers` is closed
unread; the connect reply has its own deadline (`connect_timeout_s`) and a byte cap
(`max_connect_reply_bytes`); an optional `confirm(conn)` (the driver's check over the inbound
connection) may still refuse it. Each connection that never becomes a call is one log line
naming the peer: INFO when it sent nothing (a TCP check), WARNING otherwise. Its lines go to
the transport's logger, as before the split.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import socket
import time
from collections.abc import Callable, Sequence
from typing import Any

import gevent.pool
import gevent.server
import gevent.socket

from plivoxml_fs.errors import PlivoXMLError
from plivoxml_fs.esl.transport import OutboundConnection

log = logging.getLogger("plivoxml_fs.esl.transport")

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
