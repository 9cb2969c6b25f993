"""effects/http11.py against a scripted TCP server: framing of replies (length, chunked, to the
end of the connection, 1xx), which connections are kept and reused, a kept connection the server
closed, the request as sent (target encoding, Basic credentials), its errors, and TLS
verification of a certificate nobody signed."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess

import gevent
import pytest
from gevent.server import StreamServer

from plivoxml_fs.effects import http11
from plivoxml_fs.effects.http11 import (
    MAX_HEADER_BYTES,
    ConnectError,
    HttpClient,
    ProtocolError,
    ReadTimeout,
)

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


class Script:
    """A server answering each request with the next reply of `replies` (bytes, or a callable
    taking the socket); `requests` holds each request's bytes, `accepted` the connections."""

    def __init__(self, *replies, close_after: bool = False) -> None:
        self.replies = list(replies)
        self.requests: list[bytes] = []
        self.accepted = 0
        self.close_after = close_after
        self.server = StreamServer(("127.0.0.1", 0), self._handle)

    def __enter__(self) -> Script:
        self.server.start()
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        return self

    def __exit__(self, *exc) -> None:
        self.server.stop(timeout=1)

    def _handle(self, sock, _address) -> None:
        self.accepted += 1
        buf = b""
        while self.replies:
            while b"\r\n\r\n" not in buf:
                data = sock.recv(65536)
                if not data:
                    return
                buf += data
            head, _, buf = buf.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            while len(buf) < length:
                buf += sock.recv(65536)
            self.requests.append(head + b"\r\n\r\n" + buf[:length])
            buf = buf[length:]
            reply = self.replies.pop(0)
            if callable(reply):
                reply(sock)
            else:
                sock.sendall(reply)
            if self.close_after:
                break
        sock.close()


def client(**overrides) -> HttpClient:
    values = dict(per_host=4, connect_timeout_s=0.5, read_timeout_s=0.5)
    values.update(overrides)
    return HttpClient(**values)


def read(http: HttpClient, url: str, limit: int = 1 << 20, **kwargs):
    with http.request(kwargs.pop("method", "GET"), url, **kwargs) as response:
        return response.status, response.headers, response.read(limit)


def test_kept_connection_is_reused():
    with Script(OK, OK, OK) as server:
        http = client()
        assert [read(http, server.base + "/a")[2] for _ in range(3)] == [b"ok"] * 3
    assert server.accepted == 1


def test_chunked_reply_with_trailers_then_reuse():
    chunked = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"3;x=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n")
    with Script(chunked, OK) as server:
        http = client()
        assert read(http, server.base + "/")[2] == b"abcde"
        assert read(http, server.base + "/")[2] == b"ok"
    assert server.accepted == 1


def test_reply_to_the_end_of_the_connection_is_not_kept():
    with Script(b"HTTP/1.0 200 OK\r\n\r\nall of it") as server:
        http = client()
        assert read(http, server.base + "/")[2] == b"all of it"
        assert not any(http._idle.values())


def test_connection_close_is_not_kept():
    with Script(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
                OK, close_after=True) as server:
        http = client()
        assert read(http, server.base + "/")[2] == b"ok"
        assert not any(http._idle.values())


def test_interim_replies_are_skipped():
    with Script(b"HTTP/1.1 100 Continue\r\n\r\n" + OK) as server:
        assert read(client(), server.base + "/", method="POST", body=b"x=1")[:1] == (200,)


def test_repeated_headers_are_joined_and_names_lower_case():
    with Script(b"HTTP/1.1 204 No Content\r\nX-A: 1\r\nx-a: 2\r\nContent-Type: text/xml\r\n\r\n",
                OK) as server:
        http = client()
        status, headers, body = read(http, server.base + "/")
        assert (status, headers["x-a"], headers["content-type"], body) == (204, "1, 2",
                                                                           "text/xml", b"")
        assert read(http, server.base + "/")[2] == b"ok"  # no body after a 204: kept
    assert server.accepted == 1


def test_a_body_over_the_limit_is_none_and_its_connection_closed():
    big = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789"
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n012345\r\n6\r\n6789ab\r\n"
    with Script(big, OK) as server, Script(chunked) as chunks:
        http = client()
        assert read(http, server.base + "/", limit=9)[2] is None
        assert read(http, server.base + "/")[2] == b"ok"
        assert read(http, chunks.base + "/", limit=9)[2] is None
    assert server.accepted == 2


def test_a_kept_connection_the_server_closed_is_not_used():
    with Script(OK, OK, close_after=True) as server:
        http = client()
        assert read(http, server.base + "/")[2] == b"ok"
        gevent.sleep(0.05)  # the server has closed its end by now (a poll would see it)
        assert read(http, server.base + "/")[2] == b"ok"
    assert server.accepted == 2


def test_a_reused_connection_closed_before_the_reply_sends_once_more():
    def drop(sock):
        sock.close()

    with Script(OK, drop) as first, Script(OK) as second:
        http = client()
        assert read(http, first.base + "/")[2] == b"ok"
        conn = http._idle[("http", "127.0.0.1", first.server.server_port)][0]
        first.server.stop(timeout=1)  # listener gone; the kept connection still answers
        port = second.server.server_port
        # point the kept connection's key at the second server: a fresh connect lands there
        http._idle = {("http", "127.0.0.1", port): [conn]}
        assert read(http, f"http://127.0.0.1:{port}/again")[2] == b"ok"
    assert len(first.requests) == 2 and len(second.requests) == 1


def test_a_fresh_connection_closed_before_the_reply_is_an_error():
    def drop(sock):
        sock.close()

    with Script(drop) as server, pytest.raises(ProtocolError, match="closed before the reply"):
        read(client(), server.base + "/")


def test_request_line_headers_and_credentials():
    with Script(OK) as server:
        port = server.server.server_port
        read(client(), f"http://us%40r:p%3Ass@127.0.0.1:{port}/a b/é?q=1 2#frag",
             method="POST", body=b"k=v", headers={"X-One": "1"})
    lines = server.requests[0].split(b"\r\n")
    assert lines[0] == b"POST /a%20b/%C3%A9?q=1%202 HTTP/1.1"
    assert f"Host: 127.0.0.1:{port}".encode() in lines
    assert b"Authorization: Basic dXNAcjpwOnNz" in lines  # base64("us@r:p:ss")
    assert b"X-One: 1" in lines and b"Content-Length: 3" in lines
    assert server.requests[0].endswith(b"\r\n\r\nk=v")


def test_header_with_a_line_break_is_refused():
    with pytest.raises(ValueError, match="line break"):
        client().request("GET", "http://127.0.0.1:9/", headers={"X": "a\r\nB: c"})


def test_errors():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ConnectError, match="connection refused"):
        client().request("GET", f"http://127.0.0.1:{port}/")
    with Script(lambda sock: gevent.sleep(2)) as slow, pytest.raises(ReadTimeout):
        read(client(read_timeout_s=0.2), slow.base + "/")
    with Script(b"SSH-2.0-OpenSSH\r\n\r\n") as odd, pytest.raises(ProtocolError, match="not an"):
        read(client(), odd.base + "/")


@pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl to make a certificate")
def test_https_refuses_a_certificate_nobody_signed(tmp_path):
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)

    def handle(sock, _address):
        try:
            tls = context.wrap_socket(sock, server_side=True)
            tls.recv(65536)
            tls.sendall(OK)
        except (OSError, ssl.SSLError):
            pass

    server = StreamServer(("127.0.0.1", 0), handle)
    server.start()
    try:
        with pytest.raises(ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            client().request("GET", f"https://127.0.0.1:{server.server_port}/")
    finally:
        server.stop(timeout=1)


def test_an_ip_address_is_connected_to_without_a_name_lookup(monkeypatch):
    """No getaddrinfo (which gevent runs in its threadpool) for http://127.0.0.1:...: not
    socket.create_connection, which looks every host up."""
    looked_up = []
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: looked_up.append(a))
    with Script(OK) as server:
        assert read(client(), server.base + "/")[2] == b"ok"
    assert looked_up == []


def test_idle_connections_are_kept_for_the_hosts_used_last(monkeypatch):
    monkeypatch.setattr(http11, "MAX_HOSTS", 2)
    servers = [Script(OK, OK) for _ in range(3)]
    for server in servers:
        server.__enter__()
    try:
        http = client()
        for server in (servers[0], servers[1], servers[0], servers[2]):
            assert read(http, server.base + "/")[2] == b"ok"
        kept = {port for _, _, port in http._idle}
        assert kept == {servers[0].server.server_port, servers[2].server.server_port}
    finally:
        for server in servers:
            server.__exit__()


def _trickle(*pieces: bytes):
    """A reply sent piece by piece (each its own send), then the connection closed."""
    def send(sock):
        for piece in pieces:
            sock.sendall(piece)
            gevent.sleep(0.001)
        sock.close()
    return send


HEADER_LINES = [b"X-Filler-%06d: %s\r\n" % (i, b"a" * 1000) for i in range(2 * MAX_HEADER_BYTES // 1000)]


@pytest.mark.parametrize(("reply", "cause"), [
    pytest.param(b"SSH-2.0-OpenSSH_9.6\r\n\r\n", "not an HTTP reply", id="not-http"),
    pytest.param(b"HTTP/1.1 2OO OK\r\nContent-Length: 2\r\n\r\nok", "not an HTTP reply",
                 id="bad-status-code"),
    pytest.param(b"HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\nok", "not an HTTP reply",
                 id="four-digit-status"),
    pytest.param(b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "malformed reply header",
                 id="bad-header-line"),
    pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: 1O\r\n\r\nok",
                 "malformed reply (bad Content-Length)", id="bad-content-length"),
    pytest.param("HTTP/1.1 200 OK\r\nContent-Length: \u00b2\r\n\r\nok".encode("latin-1"),
                 "malformed reply (bad Content-Length)", id="non-ascii-digit-length"),
    pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok",
                 "malformed reply (bad Content-Length)", id="two-lengths"),
    pytest.param(_trickle(b"HTTP/1.1 200 OK\r\n", *HEADER_LINES),
                 "reply headers longer than 64 KiB", id="oversized-headers"),
    pytest.param(b"HTTP/1.1 200 OK\r\nX: " + b"a" * (2 * MAX_HEADER_BYTES) + b"\r\n\r\n",
                 "reply headers longer than 64 KiB", id="oversized-header-line"),
    pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort",
                 "connection closed before the end of the reply", id="body-short-of-length"),
    pytest.param(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n",
                 "malformed chunked reply", id="bad-chunk-size"),
    pytest.param(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-2\r\nab\r\n0\r\n\r\n",
                 "malformed chunked reply", id="negative-chunk-size"),
    pytest.param(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x2\r\nab\r\n0\r\n\r\n",
                 "malformed chunked reply", id="0x-chunk-size"),
    pytest.param(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n",
                 "malformed chunked reply", id="chunk-longer-than-its-size"),
    pytest.param(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
                 "connection closed before the end of the reply", id="chunk-cut-short"),
    pytest.param(b"HTTP/1.1 200 OK\r\nContent-", "connection closed in the reply's headers",
                 id="closed-in-headers"),
])
def test_malformed_replies_are_protocol_errors_and_their_connection_closed(reply, cause):
    """Every malformed reply is a ProtocolError (an HttpError: fetch.py and the outbox treat it
    as a failed attempt) with a short cause that does not echo the server's bytes; the
    connection is never kept, and the next request is made on a new one."""
    with Script(reply, OK, close_after=True) as bad:
        http = client()
        with pytest.raises(ProtocolError) as info:
            read(http, bad.base + "/")
        assert str(info.value).startswith(cause)
        assert b"aaaa" not in str(info.value).encode() and "OpenSSH" not in str(info.value)
        assert not any(http._idle.values())
        assert read(http, bad.base + "/")[2] == b"ok"
    assert bad.accepted == 2


def test_bytes_after_the_reply_are_not_trusted():
    """A reply followed by bytes nobody asked for (a body longer than its Content-Length): its
    connection is closed, not kept for the next request."""
    with Script(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n", OK) as server:
        http = client()
        assert read(http, server.base + "/")[2] == b"ok"
        assert read(http, server.base + "/")[2] == b"ok"
    assert server.accepted == 2


def test_a_repeated_equal_content_length_is_one():
    with Script(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok", OK) as server:
        http = client()
        assert read(http, server.base + "/")[2] == b"ok"
        assert read(http, server.base + "/")[2] == b"ok"
    assert server.accepted == 1


def _in_pieces(sock) -> None:
    sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab")
    gevent.sleep(0.15)
    sock.sendall(b"cd")


def test_the_read_timeout_is_each_waits_not_the_whole_replys():
    """The reply's two pieces come 0.15 s apart, each within the 0.25 s read timeout, the
    whole after it: read; then the same wait with a 0.1 s read timeout is a ReadTimeout."""
    with Script(_in_pieces) as slow:
        assert read(client(read_timeout_s=0.25), slow.base + "/")[::2] == (200, b"abcd")
    with Script(_in_pieces) as slow, pytest.raises(ReadTimeout):
        read(client(read_timeout_s=0.1), slow.base + "/")


def test_a_request_that_ended_leaves_no_read_timer_behind():
    """Once a reply is read, its read deadline is gone: nothing is thrown into the greenlet
    that made the request when it passes."""
    with Script(OK) as server:
        def request_then_live_on():
            got = read(client(read_timeout_s=0.05), server.base + "/")
            gevent.sleep(0.2)  # four times the read timeout
            return got[0], got[2]

        assert gevent.spawn(request_then_live_on).get(timeout=2) == (200, b"ok")


def test_the_callers_own_timeout_ends_a_read_as_itself():
    """A caller's gevent.Timeout (the outbox's total deadline) thrown into a read waiting for
    the server is the caller's, not a ReadTimeout; the connection is not kept."""
    http = client(read_timeout_s=2)
    with Script(lambda sock: gevent.sleep(1)) as slow:
        deadline = gevent.Timeout(0.1)
        with pytest.raises(gevent.Timeout) as raised, deadline:
            read(http, slow.base + "/")
        assert raised.value is deadline
    assert not any(http._idle.values())
