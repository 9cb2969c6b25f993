"""A small HTTP/1.1 client for the two kinds of request the daemon makes by the thousand:
callbacks (effects/outbox_delivery.py) and XML document fetches (effects/fetch.py).

Why our own: measured on the 2-core machine, one POST of a callback's parameters to a local
gevent server cost 370-540 µs of client CPU through urllib3's PoolManager (1.6-1.8 ms through a
requests Session) and 60-70 µs written as one `sendall` and one status/header parse here.
urllib3's share is in its layers (PoolManager keys, URL parsing, `http.client`'s header parsing
through the email package), not in the socket. What it does, and only that:

- one request at a time per connection; idle connections are kept per (scheme, host, port), up
  to `per_host` of them (any number may be open at once: the callers bound that), for the
  `MAX_HOSTS` hosts used last;
- a kept connection that the server closed (or that has unread bytes) is found before reuse
  (a zero-timeout poll) and dropped. If a reused connection fails before the first byte of the
  reply, the request is sent once more on a new connection (the server cannot have answered
  it; a callback carries its delivery id, so a receiver can drop a repeat anyway);
- an IP address in the URL is connected to without a name lookup (gevent's lookups run in its
  threadpool); connect timeout for the TCP (and TLS) handshake, read timeout for each send and receive;
  the caller puts a total deadline around the request (gevent.Timeout): a connection left in
  the middle of an exchange is closed, never kept;
- https: TLS with certificate and host name verification against certifi's CAs (what requests
  and urllib3 use), SNI;
- the reply: status line, headers (64 KiB at most), a body framed by Content-Length, chunked
  transfer coding or the connection's end; 1xx replies are skipped; a connection is kept only
  when the reply says HTTP/1.1 without `Connection: close` and its body was read to its end;
- credentials in the URL (`http://user:pass@host/`) are sent as HTTP Basic, as requests does;
  the request target is percent-encoded where the URL has characters a request line cannot
  carry (spaces, non-ASCII), as requests and urllib3 do;
- redirects are never followed here (fetch.py follows them itself; callbacks do not).

Errors: `ConnectError` (refused, unreachable, name unknown, TLS handshake failed),
`ConnectTimeout`, `ReadTimeout`, `ProtocolError` (closed early, malformed reply); all are
`HttpError`. Plain gevent-patched sockets (cli.py patches); no third-party code.
"""

from __future__ import annotations

import base64
import socket
import ssl
from collections.abc import Mapping
from urllib.parse import quote, unquote, urlsplit

import h11
from gevent import monkey

#: What every request says it comes from.
USER_AGENT = "plivoxml-fs"
#: Hosts whose idle connections are kept (the least recently used one's are closed first), as
#: urllib3's PoolManager and requests keep 16 pools.
MAX_HOSTS = 16
#: Bytes asked of the socket per receive.
RECV_BYTES = 64 * 1024
#: The most a reply's status line and headers may take.
MAX_HEADER_BYTES = 64 * 1024
#: Characters left as they are when a request target is percent-encoded (requests' set).
_TARGET_SAFE = "!#$%&'()*+,/:;=?@[]~"
_DEFAULT_PORTS = {"http": 80, "https": 443}
#: The stdlib's own poll (not gevent's): a zero-timeout check that never yields.
_poll = monkey.get_original("select", "poll")
_POLLIN = 0x001
_CLOSED_IN_HEAD = "connection closed before the reply"
_CLOSED_IN_BODY = "connection closed before the end of the reply"


class HttpError(Exception):
    """A request that got no complete reply; `str()` is a short cause without the URL."""


class ConnectError(HttpError):
    """The connection (TCP or TLS) could not be made."""


class ConnectTimeout(ConnectError):
    """The connection was not made within the connect timeout."""


class ReadTimeout(HttpError):
    """The server took longer than the read timeout to send (or take) the next bytes."""


class ProtocolError(HttpError):
    """The server closed the connection early or sent something that is not an HTTP reply."""


def _ca_file() -> str | None:
    try:
        import certifi

        return certifi.where()
    except ImportError:  # pragma: no cover - certifi comes with requests
        return None


class _Connection:
    """One socket with its h11 state machine (what it has received and not yet parsed)."""

    __slots__ = ("sock", "h11", "key", "reused")

    def __init__(self, sock: socket.socket, key: tuple[str, str, int]) -> None:
        self.sock = sock
        self.h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEADER_BYTES)
        self.key = key
        self.reused = False  # it carried a request before

    def close(self) -> None:
        self.sock.close()

    def usable(self) -> bool:
        """False when the server closed it (or sent something) while it was idle."""
        poller = _poll()
        try:
            poller.register(self.sock.fileno(), _POLLIN)
            return not poller.poll(0)
        except (OSError, ValueError):
            return False

    def recv(self) -> bytes:
        """The next bytes from the socket (b"": the server closed)."""
        try:
            return self.sock.recv(RECV_BYTES)
        except TimeoutError:
            raise ReadTimeout("timed out") from None
        except OSError as exc:
            raise ProtocolError(_os_cause(exc)) from None

    def next_event(self, closed: str, *, receive: bool = True):
        """h11's next event of the reply, receiving as it needs (or NEED_DATA when not to
        `receive`); what h11 refuses is a ProtocolError, `closed` when the server closed the
        connection before the event was complete."""
        parser = self.h11
        try:
            event = parser.next_event()
            while event is h11.NEED_DATA and receive:
                parser.receive_data(self.recv())
                event = parser.next_event()
        except h11.RemoteProtocolError as exc:
            raise ProtocolError(_h11_cause(exc, parser, closed)) from None
        return event

    def reusable(self) -> bool:
        """The exchange is complete on both sides and nothing came after the reply."""
        parser = self.h11
        if parser.our_state is not h11.DONE or parser.their_state is not h11.DONE \
                or parser.trailing_data[0]:
            return False
        parser.start_next_cycle()
        return True


class Response:
    """A reply whose status and headers are read; the body is read by `read` (or not)."""

    __slots__ = ("status", "headers", "url", "_conn", "_client", "_first", "_done")

    def __init__(self, client: HttpClient, conn: _Connection, url: str,
                 event: h11.Response) -> None:
        self.status = event.status_code
        #: Header names in lower case; repeated headers joined by ", ".
        self.headers: dict[str, str] = {}
        for name, value in event.headers.raw_items():  # a list: cheaper than its lower-case view
            name, value = name.decode("latin-1").lower(), value.decode("latin-1")
            old = self.headers.get(name)
            self.headers[name] = value if old is None else f"{old}, {value}"
        self.url = url
        self._client, self._conn = client, conn
        self._done = False
        # What h11 can tell without waiting: an empty body (204, 304, HEAD, Content-Length: 0)
        # ends here, so its connection goes back at once; bytes already received are kept.
        self._first = conn.next_event(_CLOSED_IN_BODY, receive=False)
        if type(self._first) is h11.EndOfMessage:
            self._finish(b"")

    def __enter__(self) -> Response:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Done with it: a body not read to its end closes the connection."""
        if not self._done:
            self._finish(None)

    def read(self, limit: int) -> bytes | None:
        """The whole body, or None (and the connection closed) when it is longer than
        `limit` bytes. A Content-Length above `limit` is refused before reading."""
        if self._done:
            return b""
        try:
            length = self.headers.get("content-length")
            if length is not None and int(length) > limit:  # h11 checked it is a number
                return self._finish(None)
            parts: list[bytes] = []
            size = 0
            event, self._first = self._first, None
            while True:
                if event is None or event is h11.NEED_DATA:
                    event = self._conn.next_event(_CLOSED_IN_BODY)
                if type(event) is h11.EndOfMessage:
                    return self._finish(b"".join(parts))
                if type(event) is not h11.Data:  # pragma: no cover - h11 allows nothing else
                    raise ProtocolError("malformed reply")
                size += len(event.data)
                if size > limit:
                    return self._finish(None)
                parts.append(event.data)
                event = None
        except BaseException:
            self._finish(None)
            raise

    def _finish(self, body: bytes | None) -> bytes | None:
        """The end of the exchange: `body` None closes the connection (the reply's rest is
        not read); else it goes back to the pool if h11 says it can carry another request."""
        self._done = True
        conn, self._conn = self._conn, None
        if conn is not None:
            if body is not None and conn.reusable():
                self._client._release(conn)
            else:
                conn.close()
        return body


class HttpClient:
    """Keep-alive connections per host; safe to share between greenlets (one request each)."""

    def __init__(self, *, per_host: int, connect_timeout_s: float, read_timeout_s: float,
                 user_agent: str = USER_AGENT) -> None:
        self.per_host = per_host
        self.connect_timeout_s = connect_timeout_s
        self.read_timeout_s = read_timeout_s
        self._user_agent = user_agent
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._tls: ssl.SSLContext | None = None

    def close(self) -> None:
        """Close every idle connection."""
        idle, self._idle = self._idle, {}
        for conns in idle.values():
            for conn in conns:
                conn.close()

    def request(self, method: str, url: str, *, body: bytes | None = None,
                headers: Mapping[str, str] | None = None) -> Response:
        """Send one request and read the reply's status and headers (see the module)."""
        parts = urlsplit(url)
        scheme, host = parts.scheme, parts.hostname
        if scheme not in _DEFAULT_PORTS or not host:
            raise ValueError(f"not an http(s) URL: {url!r}")
        try:
            port = parts.port or _DEFAULT_PORTS[scheme]
        except ValueError:
            raise ValueError(f"bad port in URL {url!r}") from None
        head = self._head(method, parts, host, port, body, headers)
        key = (scheme, host, port)
        while True:
            conn = self._connection(key)
            try:
                return self._exchange(conn, head, body, url, method)
            except _Stale:
                # The server closed its kept connections (restarted?): drop the others too,
                # and send once more, on a new connection (a reused one only if another
                # request gave one back meanwhile, which the server has just answered on).
                conn.close()
                for other in self._idle.pop(key, ()):
                    other.close()
            except BaseException:
                conn.close()
                raise

    def _head(self, method: str, parts, host: str, port: int, body: bytes | None,
              headers: Mapping[str, str] | None) -> h11.Request:
        target = parts.path or "/"
        if parts.query:
            target = f"{target}?{parts.query}"
        if not target.isascii() or not target.isprintable() or " " in target:
            target = quote(target, safe=_TARGET_SAFE)
        shown_host = f"[{host}]" if ":" in host else host
        if port != _DEFAULT_PORTS[parts.scheme]:
            shown_host = f"{shown_host}:{port}"
        fields = [("Host", shown_host), ("User-Agent", self._user_agent), ("Accept", "*/*"),
                  ("Accept-Encoding", "identity")]
        if parts.username is not None:
            pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            fields.append(("Authorization", "Basic " + base64.b64encode(pair.encode()).decode()))
        for name, value in (headers or {}).items():
            if "\r" in value or "\n" in value or "\r" in name or "\n" in name:
                raise ValueError(f"header {name!r} holds a line break")
            fields.append((name, value))
        if body is not None:
            fields.append(("Content-Length", str(len(body))))
        try:
            return h11.Request(method=method, target=target.encode("latin-1"),
                               headers=[(n.encode("latin-1"), v.encode("latin-1"))
                                        for n, v in fields])
        except (h11.LocalProtocolError, UnicodeEncodeError) as exc:
            raise ValueError(f"not a valid request: {exc}") from None

    def _connection(self, key: tuple[str, str, int]) -> _Connection:
        idle = self._idle.get(key)
        while idle:
            conn = idle.pop()
            if conn.usable():
                return conn
            conn.close()
        return self._connect(key)

    def _connect(self, key: tuple[str, str, int]) -> _Connection:
        scheme, host, port = key
        try:
            sock = _dial(host, port, self.connect_timeout_s)
        except TimeoutError:
            raise ConnectTimeout("connect timed out") from None
        except OSError as exc:
            raise ConnectError(_os_cause(exc)) from None
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if scheme == "https":
                sock = self._tls_context().wrap_socket(sock, server_hostname=host)
        except TimeoutError:
            sock.close()
            raise ConnectTimeout("connect timed out") from None
        except (OSError, ssl.SSLError) as exc:
            sock.close()
            raise ConnectError(f"TLS: {exc}" if isinstance(exc, ssl.SSLError)
                               else _os_cause(exc)) from None
        sock.settimeout(self.read_timeout_s)
        return _Connection(sock, key)

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = ssl.create_default_context(cafile=_ca_file())
        return self._tls

    def _exchange(self, conn: _Connection, head: h11.Request, body: bytes | None, url: str,
                  method: str) -> Response:
        parser = conn.h11
        data = parser.send(head)
        if body:
            data += parser.send(h11.Data(data=body))
        data += parser.send(h11.EndOfMessage())
        try:
            conn.sock.sendall(data)
        except TimeoutError:
            raise ReadTimeout("timed out") from None
        except OSError as exc:
            if conn.reused:
                raise _Stale() from None
            raise ProtocolError(_os_cause(exc)) from None
        if conn.reused:  # closed (or reset) before the reply's first byte: the server's
            try:         # idle timeout met our request, which it never read
                first = conn.recv()
            except ProtocolError:
                raise _Stale() from None
            if not first:
                raise _Stale()
            parser.receive_data(first)
        while True:
            event = conn.next_event(_CLOSED_IN_HEAD)
            if type(event) is h11.Response:
                return Response(self, conn, url, event)
            # else an InformationalResponse (1xx): skipped

    def _release(self, conn: _Connection) -> None:
        idle = self._idle.pop(conn.key, None) or []
        self._idle[conn.key] = idle  # the most recently used host last
        if len(idle) < self.per_host:
            conn.reused = True
            idle.append(conn)
        else:
            conn.close()
        if len(self._idle) > MAX_HOSTS:  # the least recently used host's connections go
            for old in self._idle.pop(next(iter(self._idle))):
                old.close()


def _dial(host: str, port: int, timeout: float) -> socket.socket:
    """A connected socket. An IP address is connected to as it is: no name lookup, which
    gevent runs in its threadpool (a thread hand-off each way for nothing)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        socket.inet_pton(family, host)
    except OSError:
        return socket.create_connection((host, port), timeout=timeout)
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


def _h11_cause(exc: h11.RemoteProtocolError, parser: h11.Connection, closed: str) -> str:
    """A short cause for what h11 refused in a reply."""
    if exc.error_status_hint == 431:
        return f"reply headers longer than {MAX_HEADER_BYTES // 1024} KiB"
    if parser.trailing_data[1]:  # the end of the connection came first
        return closed
    return f"malformed reply ({str(exc).split(':', 1)[0]})"  # h11's words, not the bytes


class _Stale(Exception):
    """A reused connection the server had closed: send again on a new one."""


def _os_cause(exc: OSError) -> str:
    if isinstance(exc, socket.gaierror):
        return "name or service not known" if exc.errno in (socket.EAI_NONAME, -2) \
            else f"name lookup failed ({exc.strerror})"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    if isinstance(exc, BrokenPipeError):
        return "connection closed by the server"
    return exc.strerror or type(exc).__name__
