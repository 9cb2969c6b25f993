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
  when the reply says HTTP/1.1 without `Connection: close`, its body was read to its end and
  nothing came after it. Refused as malformed, as h11 refuses them (tests/effects/
  test_http11.py has each): a status that is not three digits, a header line without a colon,
  a Content-Length that is not ASCII digits or two different ones, a chunk size that is not
  bare hex (no sign, `0x`, `_`), a chunk longer than its size;
- credentials in the URL (`http://user:pass@host/`) are sent as HTTP Basic, as requests does;
  the request target is percent-encoded where the URL has characters a request line cannot
  carry (spaces, non-ASCII), as requests and urllib3 do;
- redirects are never followed here (fetch.py follows them itself; callbacks do not).

Errors: `ConnectError` (refused, unreachable, name unknown, TLS handshake failed),
`ConnectTimeout`, `ReadTimeout`, `ProtocolError` (closed early, malformed reply); all are
`HttpError`. Plain gevent-patched sockets (cli.py patches); no third-party code.

Why not h11 for the framing and parsing (tried 2026-12-02, commit b24e85f on branch h-h11:
an `h11.Connection` per socket, everything else as here): h11 0.16 alone costs about 120 µs
a request (60 µs to validate and send a Request with its Data and EndOfMessage, 60 µs to
parse a reply and start the next cycle), twice this whole client's request. Measured with
scripts/bench_http.py (both clients in one process, taking turns every 100 requests, 3
rounds, load 4-6): a callback POST 33.6-42.3 µs of client CPU here, 139-162 µs through
h11 (3.7-4.1x; urllib3's PoolManager 328-389 µs); a document fetch through fetch.py 73-92 µs
here, 182-214 µs through h11 (2.3-2.5x); chunked 82-96 vs 204-239 µs; a second run (load
6): medians 52 vs 190 µs a callback, 102 vs 235 µs a fetch. The outbox burst
(`scripts/bench.py --burst-only --reference-code`, three runs each, alternating): 0.187-
0.212 ms of CPU a signed callback and 3,433 / 4,450 / 4,690 per s here, 0.345-0.398 ms and
2,059 / 2,415 / 2,647 per s through h11. What the trial brought back instead is h11's
strictness on the malformed replies listed above, which this parser accepted before
(a negative chunk size sliced the buffer from its end).
"""

from __future__ import annotations

import base64
import socket
import ssl
from collections.abc import Mapping
from urllib.parse import quote, unquote, urlsplit

from gevent import monkey

from plivoxml_fs.esl import greenio

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
_NO_BODY_STATUSES = frozenset({204, 304})
_HEX_DIGITS = b"0123456789abcdefABCDEF"
#: The stdlib's own poll (not gevent's): a zero-timeout check that never yields.
_poll = monkey.get_original("select", "poll")
_POLLIN = 0x001


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
    """One socket with its unread bytes."""

    __slots__ = ("sock", "buf", "key", "reused")

    def __init__(self, sock: socket.socket, key: tuple[str, str, int]) -> None:
        self.sock = sock
        self.buf = bytearray()
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

    def fill(self) -> int:
        """Receive more bytes into `buf`; how many (0: the server closed)."""
        try:
            data = self._receive()
        except TimeoutError:
            raise ReadTimeout("timed out") from None
        except OSError as exc:
            raise ProtocolError(_os_cause(exc)) from None
        self.buf += data
        return len(data)

    def _receive(self) -> bytes:
        """The next bytes, within the socket's read timeout.

        A gevent socket's recv tries the system call first, which right after a request finds
        nothing yet (EAGAIN: an exception and a system call for nothing), then waits for the
        socket under a gevent.Timeout made, started, cancelled and closed for that one wait.
        A plain one (not TLS: its bytes are not the reply's) is waited on first and read once
        (greenio), with a bare loop timer as the deadline; any other socket, or one without a
        timeout, reads through its own recv."""
        sock = self.sock
        timeout = sock.gettimeout()
        if not greenio.plain(sock) or not timeout:
            return sock.recv(RECV_BYTES)
        timer = greenio.expiring(timeout)
        try:
            return greenio.recv_when_readable(sock, RECV_BYTES)
        except greenio.Expired:
            raise TimeoutError("timed out") from None
        finally:
            timer.close()


class Response:
    """A reply whose status and headers are read; the body is read by `read` (or not)."""

    __slots__ = ("status", "headers", "url", "_conn", "_client", "_keep", "_length",
                 "_chunked", "_done")

    def __init__(self, client: HttpClient, conn: _Connection, url: str, status: int,
                 headers: dict[str, str], keep: bool, no_body: bool) -> None:
        self.status = status
        #: Header names in lower case; repeated headers joined by ", ".
        self.headers = headers
        self.url = url
        self._client, self._conn, self._keep = client, conn, keep
        self._chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        self._length = _content_length(headers.get("content-length"))
        if no_body:
            self._length, self._chunked = 0, False
        elif self._length is None and not self._chunked:
            self._keep = False  # the body ends with the connection
        self._done = False
        if self._length == 0 and not self._chunked:
            self._finish(b"", keep=self._keep)

    def __enter__(self) -> Response:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Done with it: a body not read to its end closes the connection."""
        if not self._done:
            self._finish(b"", keep=False)

    def read(self, limit: int) -> bytes | None:
        """The whole body, or None (and the connection closed) when it is longer than
        `limit` bytes. A Content-Length above `limit` is refused before reading."""
        if self._done:
            return b""
        try:
            if self._chunked:
                body = self._read_chunked(limit)
            elif self._length is not None:
                body = self._read_length(self._length, limit)
            else:
                body = self._read_to_close(limit)
        except BaseException:
            self._finish(b"", keep=False)
            raise
        return self._finish(body, keep=self._keep and body is not None)

    def _finish(self, body: bytes | None, *, keep: bool) -> bytes | None:
        self._done = True
        conn, self._conn = self._conn, None
        if conn is not None:
            if keep:
                self._client._release(conn)
            else:
                conn.close()
        return body

    def _read_length(self, length: int, limit: int) -> bytes | None:
        if length > limit:
            return None
        conn = self._conn
        while len(conn.buf) < length:
            if not conn.fill():
                raise ProtocolError("connection closed before the end of the reply")
        body = bytes(conn.buf[:length])
        del conn.buf[:length]
        return body

    def _read_to_close(self, limit: int) -> bytes | None:
        conn = self._conn
        while conn.fill():
            if len(conn.buf) > limit:
                return None
        body = bytes(conn.buf)
        conn.buf.clear()
        return body

    def _line(self) -> bytes:
        conn = self._conn
        while True:
            end = conn.buf.find(b"\r\n")
            if end >= 0:
                line = bytes(conn.buf[:end])
                del conn.buf[:end + 2]
                return line
            if len(conn.buf) > MAX_HEADER_BYTES:
                raise ProtocolError("malformed chunked reply")
            if not conn.fill():
                raise ProtocolError("connection closed before the end of the reply")

    def _read_chunked(self, limit: int) -> bytes | None:
        parts: list[bytes] = []
        size = 0
        while True:
            text = self._line().split(b";", 1)[0].strip()
            if not text or text.strip(_HEX_DIGITS):  # no sign, 0x, _ or space: int() takes those
                raise ProtocolError("malformed chunked reply")
            chunk = int(text, 16)
            if chunk == 0:
                while self._line():  # trailers, up to the empty line
                    pass
                return b"".join(parts)
            size += chunk
            if size > limit:
                return None
            parts.append(self._read_length(chunk, chunk))
            if self._line():
                raise ProtocolError("malformed chunked reply")


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
              headers: Mapping[str, str] | None) -> bytes:
        target = parts.path or "/"
        if parts.query:
            target = f"{target}?{parts.query}"
        if not target.isascii() or not target.isprintable() or " " in target:
            target = quote(target, safe=_TARGET_SAFE)
        shown_host = f"[{host}]" if ":" in host else host
        if port != _DEFAULT_PORTS[parts.scheme]:
            shown_host = f"{shown_host}:{port}"
        lines = [f"{method} {target} HTTP/1.1", f"Host: {shown_host}",
                 f"User-Agent: {self._user_agent}", "Accept: */*", "Accept-Encoding: identity"]
        if parts.username is not None:
            pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            lines.append("Authorization: Basic " + base64.b64encode(pair.encode()).decode())
        for name, value in (headers or {}).items():
            if "\r" in value or "\n" in value or "\r" in name or "\n" in name:
                raise ValueError(f"header {name!r} holds a line break")
            lines.append(f"{name}: {value}")
        if body is not None:
            lines.append(f"Content-Length: {len(body)}")
        lines.append("\r\n")
        return "\r\n".join(lines).encode("latin-1")

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

    def _exchange(self, conn: _Connection, head: bytes, body: bytes | None, url: str,
                  method: str) -> Response:
        try:
            conn.sock.sendall(head + body if body else head)
        except TimeoutError:
            raise ReadTimeout("timed out") from None
        except OSError as exc:
            if conn.reused:
                raise _Stale() from None
            raise ProtocolError(_os_cause(exc)) from None
        while True:
            status, headers, keep = self._reply_head(conn)
            if 100 <= status < 200 and status != 101:
                continue
            no_body = method == "HEAD" or status in _NO_BODY_STATUSES or status < 200
            return Response(self, conn, url, status, headers, keep, no_body)

    def _reply_head(self, conn: _Connection) -> tuple[int, dict[str, str], bool]:
        buf = conn.buf
        while True:
            end = buf.find(b"\r\n\r\n")
            if end > MAX_HEADER_BYTES or (end < 0 and len(buf) > MAX_HEADER_BYTES):
                raise ProtocolError("reply headers longer than 64 KiB")
            if end >= 0:
                break
            try:
                more = conn.fill()
            except ProtocolError:
                if conn.reused and not buf:
                    raise _Stale() from None
                raise
            if not more:
                if conn.reused and not buf:
                    raise _Stale()
                raise ProtocolError("connection closed before the reply"
                                    if not buf else "connection closed in the reply's headers")
        lines = bytes(buf[:end]).decode("latin-1").split("\r\n")
        del buf[:end + 4]
        version, _, rest = lines[0].partition(" ")
        code = rest[:3]
        if not version.startswith("HTTP/1.") or len(code) != 3 or code.strip("0123456789") \
                or rest[3:4] not in ("", " "):
            raise ProtocolError("not an HTTP reply")
        headers: dict[str, str] = {}
        name = ""
        for line in lines[1:]:
            if line[:1] in (" ", "\t") and name:  # an obsolete folded line
                headers[name] += " " + line.strip()
                continue
            name, colon, value = line.partition(":")
            if not colon:
                raise ProtocolError("malformed reply header")
            name = name.strip().lower()
            value = value.strip()
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        keep = version == "HTTP/1.1" and "close" not in headers.get("connection", "").lower()
        return int(code), headers, keep

    def _release(self, conn: _Connection) -> None:
        if conn.buf:  # bytes past the reply: not a connection to trust
            conn.close()
            return
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


def _content_length(value: str | None) -> int | None:
    """A reply's Content-Length; repeated equal values (`5, 5`) are one. Anything else (not
    ASCII digits, two different values) frames no body we could trust: a ProtocolError."""
    if value is None:
        return None
    values = {part.strip() for part in value.split(",")}
    length = values.pop() if len(values) == 1 else ""
    if not length or length.strip("0123456789"):
        raise ProtocolError("malformed reply (bad Content-Length)")
    return int(length)


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
