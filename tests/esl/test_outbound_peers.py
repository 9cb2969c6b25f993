"""What the outbound server does with connections before they are calls: who may connect, how
long and how much a connect reply may take, the confirmation hook, the one log line for a
connection that is no call, and the "call pool full" episode lines."""

from __future__ import annotations

import logging
import time

import gevent
import gevent.event
import gevent.socket
import pytest
from waiting import until

from esl.fakefs import answer_call, channel_data, dial
from plivoxml_fs.esl.codec import encode_message
from plivoxml_fs.esl.server import OutboundServer, PeerFilter

TRANSPORT = "plivoxml_fs.esl.transport"


@pytest.fixture
def make_server():
    """Start OutboundServers on 127.0.0.1:0 and stop them after the test."""
    servers = []

    def make(handler, **kwargs):
        kwargs.setdefault("max_calls", 10)
        kwargs.setdefault("command_timeout_s", 5.0)
        server = OutboundServer(("127.0.0.1", 0), handler, **kwargs)
        server.start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop(timeout=0.2)


def _lines(caplog, level=logging.INFO):
    return [(r.levelname, r.getMessage()) for r in caplog.records
            if r.name == TRANSPORT and r.levelno >= level and "listening on" not in r.getMessage()]


def _peer(side) -> str:
    host, port = side.sock.getsockname()[:2]
    return f"{host}:{port}"


def _wait_for(predicate, timeout=3.0):
    until("the condition", predicate, timeout)


def test_a_peer_not_allowed_is_closed_before_anything_is_sent(make_server, caplog):
    """A connection from an address outside allowed_peers gets no `connect`, is closed, and is
    one WARNING naming the peer and the allowed list; the handler never runs."""
    calls = []
    server = make_server(calls.append, allowed_peers=["10.9.9.9", "192.0.2.0/24"])
    side = dial(server.address)
    assert side.read(timeout=2) is None
    assert calls == []
    assert _lines(caplog) == [("WARNING", f"refused a connection from the peer {_peer(side)}: "
                               "not an allowed peer (allowed_peers: 10.9.9.9, 192.0.2.0/24)")]


def test_allowed_peers_take_networks_names_and_mapped_addresses():
    """Networks match their addresses, IPv4-mapped IPv6 peers match their IPv4 entry, and host
    names match the addresses they resolve to."""
    peers = PeerFilter(["127.0.0.0/8", "2001:db8::/32"])
    assert peers.refusal("127.0.0.5") is None
    assert peers.refusal("::ffff:127.0.0.1") is None
    assert peers.refusal("2001:db8::10") is None
    assert peers.refusal("10.0.0.1") == (
        "not an allowed peer (allowed_peers: 127.0.0.0/8, 2001:db8::/32)")
    assert PeerFilter(["10.0.0.1"]).refusal("not-an-address") is not None
    by_name = PeerFilter(["10.0.0.0/8", "localhost"])
    assert by_name.refusal("127.0.0.1") is None
    assert by_name.refusal("192.0.2.1") is not None


def test_an_empty_connection_is_one_info_line(make_server, caplog):
    """Connect and close without a byte (a TCP health check) is one INFO naming the peer."""
    caplog.set_level(logging.DEBUG, TRANSPORT)
    server = make_server(lambda conn: None)
    side = dial(server.address)
    peer = _peer(side)
    assert side.read().line == "connect"
    side.close()
    _wait_for(lambda: _lines(caplog))
    assert _lines(caplog) == [("INFO", f"the peer {peer} closed the connection without sending "
                               "anything (a TCP check?): no call")]


def test_http_on_the_call_port_is_one_warning_from_the_peer(make_server, caplog):
    """`GET / HTTP/1.1` is one WARNING saying malformed ESL from the peer, never an ERROR."""
    caplog.set_level(logging.DEBUG, TRANSPORT)
    server = make_server(lambda conn: None)
    side = dial(server.address)
    peer = _peer(side)
    assert side.read().line == "connect"
    side.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert side.read(timeout=2) is None
    _wait_for(lambda: _lines(caplog))
    assert _lines(caplog) == [("WARNING", f"no call: malformed ESL from the peer {peer}: ESL "
                               "message: header line without ': ' ('GET / HTTP/1.1')")]


def test_a_connect_reply_over_the_cap_is_dropped_before_it_is_read_whole(make_server, caplog):
    """A peer announcing a 60 MB connect reply is cut off once it sent more than
    max_connect_reply_bytes; one WARNING names the limit and the peer."""
    calls = []
    server = make_server(calls.append, max_connect_reply_bytes=64 * 1024)
    side = dial(server.address)
    peer = _peer(side)
    assert side.read().line == "connect"
    side.send(b"Content-Type: command/reply\nContent-Length: 60000000\n\n")
    side.send(b"x" * 128 * 1024)
    assert side.read(timeout=2) is None  # closed, not waiting for the other 59.9 MB
    assert calls == []
    _wait_for(lambda: _lines(caplog))
    assert _lines(caplog) == [("WARNING", f"no call: the peer {peer} sent more than 65536 bytes "
                               "before a call existed (max_connect_reply_bytes)")]


def test_the_cap_ends_when_the_call_exists(make_server):
    """Once connected, a call may receive more than max_connect_reply_bytes (a large api reply)."""
    out = gevent.event.AsyncResult()
    server = make_server(lambda conn: out.set(conn.api("show channels")),
                         max_connect_reply_bytes=len(channel_data("big")) + 10)
    side = dial(server.address)
    answer_call(side, "big")
    assert side.read().line == "api show channels"
    side.api_response("x" * 200_000)
    assert out.get(timeout=3) == "x" * 200_000


def test_a_unique_id_that_is_no_channel_id_is_refused(make_server, caplog):
    """A connect reply whose Unique-ID could not name a channel is one WARNING, no call."""
    calls = []
    server = make_server(calls.append)
    side = dial(server.address)
    peer = _peer(side)
    assert side.read().line == "connect"
    side.send(encode_message([("Content-Type", "command/reply"), ("Reply-Text", "+OK"),
                              ("Unique-ID", "a b\nc")], urlencode=True))
    assert side.read(timeout=2) is None
    assert calls == []
    assert _lines(caplog) == [("WARNING", f"no call: the peer {peer} sent a Unique-ID that is "
                               "no channel id ('a b\\nc')")]


def test_confirm_refusal_closes_the_call_before_the_handler(make_server, caplog):
    """When confirm(conn) gives a reason, the socket is closed, the handler never runs, and one
    WARNING names the call, the peer and the reason."""
    calls, asked = [], []

    def confirm(conn):
        asked.append(conn.uuid)
        return None if conn.uuid == "live" else "FreeSWITCH has no live channel"

    server = make_server(calls.append, confirm=confirm)
    forged = dial(server.address)
    peer = _peer(forged)
    answer_call(forged, "forged-0001")
    assert forged.read(timeout=2) is None
    real = dial(server.address)
    answer_call(real, "live")
    _wait_for(lambda: calls)
    assert asked == ["forged-0001", "live"] and [c.uuid for c in calls] == ["live"]
    assert _lines(caplog) == [("WARNING", f"refused call forged-0001 from the peer {peer}: "
                               "FreeSWITCH has no live channel")]


def test_idle_sockets_hold_call_slots_only_for_connect_timeout(make_server):
    """With max_calls 2 taken by two idle sockets, a real call waits about connect_timeout_s,
    not the command timeout."""
    served = gevent.event.Event()
    server = make_server(lambda conn: served.set(), max_calls=2, command_timeout_s=30,
                         connect_timeout_s=0.3)
    idle = [dial(server.address) for _ in range(2)]
    for side in idle:
        assert side.read().line == "connect"
    started = time.monotonic()
    real = dial(server.address)
    answer_call(real, "real-call")
    assert served.wait(5)
    assert 0.15 < time.monotonic() - started < 2.0


def test_call_pool_full_is_one_warning_and_room_again_one_info(make_server, caplog):
    """Filling the pool logs "call pool full" once; when the connections end, "room again"
    is logged once, at INFO."""
    caplog.set_level(logging.INFO, TRANSPORT)
    server = make_server(lambda conn: None, max_calls=4, connect_timeout_s=0.3)
    idle = [dial(server.address) for _ in range(4)]
    for side in idle:
        assert side.read().line == "connect"
    for side in idle:
        assert side.read(timeout=3) is None
    _wait_for(lambda: server.active == 0)
    pool = [(level, text) for level, text in _lines(caplog) if "call pool" in text]
    assert len(pool) == 2
    assert pool[0] == ("WARNING", "call pool full: 4 connections being handled (max_calls 4); "
                       "further calls wait in the listen backlog")
    assert pool[1][0] == "INFO" and pool[1][1].startswith(
        "call pool has room again: 3 connections being handled (max_calls 4), full for 0.")


def test_a_failing_confirm_refuses_the_call(make_server, caplog):
    """A confirm hook that raises refuses the call (fails closed): its traceback once, then
    the refusal line; the handler never runs."""
    calls = []

    def confirm(conn):
        raise RuntimeError("boom")

    server = make_server(calls.append, confirm=confirm)
    side = dial(server.address)
    peer = _peer(side)
    answer_call(side, "c-1")
    assert side.read(timeout=2) is None
    assert calls == []
    assert _lines(caplog) == [
        ("ERROR", "call c-1: confirm failed"),
        ("WARNING", f"refused call c-1 from the peer {peer}: the check failed (see the "
                    "traceback above)"),
    ]
