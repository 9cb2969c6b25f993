"""Who may hand the daemon a call, on a real FreeSWITCH: URL channel variables with reserved
characters are fetched exactly as set, and a forged connect reply is refused because the real
FreeSWITCH has no such channel. The daemon listens on PLIVOXML_FS_TEST_SOCKET_PORT (8084)."""

from __future__ import annotations

import logging

import gevent
import gevent.socket
import pytest
from call.test_trust import App
from gevent.pywsgi import WSGIServer
from waiting import until

from fs.conftest import FS_SOCKET_PORT
from plivoxml_fs.config import Settings
from plivoxml_fs.esl.codec import encode_message
from plivoxml_fs.service import Daemon

ANSWER_QUERY = "sig=a%2Bb%26c%3Dd%40e%25f&plus=1+2&sp=a%20b"
FALLBACK_QUERY = "token=t%2Bk%3D%3D&n=100%25"
HANGUP_QUERY = "sig=h%2Bh%26x%3Dy&t=1+1"



def _wait_for(predicate, timeout=15.0):
    until("the condition", predicate, timeout)


@pytest.fixture
def world(freeswitch, tmp_path):
    """The web app and the daemon on FS_SOCKET_PORT, connected to the real FreeSWITCH."""
    host, port, password = freeswitch
    app = App()
    web = WSGIServer(("127.0.0.1", 0), app, log=None, error_log=None)
    web.start()
    base = f"http://127.0.0.1:{web.server_port}"
    daemon = Daemon(Settings(
        listen_port=FS_SOCKET_PORT, metrics_port=0, state_dir=str(tmp_path), linger_s=1,
        freeswitch_host=host, freeswitch_port=port, freeswitch_password=password,
        answer_url=f"{base}/answer"))
    daemon.start_server()
    daemon.start_inbound()
    assert daemon.inbound.wait_connected(5)
    yield app, base, daemon
    daemon.stop(drain_timeout_s=5)
    web.stop(timeout=1)


def test_url_variables_are_fetched_exactly_as_set_on_real_freeswitch(world, caplog):
    """Answer, fallback and hangup URLs set on a real call reach the web app with their %XX
    escapes, + and %20 unchanged."""
    app, base, daemon = world
    variables = ",".join([
        f"plivoxml_answer_url='{base}/answer?{ANSWER_QUERY}'",
        f"plivoxml_fallback_url='{base}/fallback?{FALLBACK_QUERY}'",
        f"plivoxml_hangup_url='{base}/hangup?{HANGUP_QUERY}'",
    ])
    # bgapi: a blocking `api originate` would hold the inbound connection (FreeSWITCH runs one
    # connection's api commands one after the other), and with it the call's uuid_exists.
    gevent.spawn(daemon.inbound.bgapi, f"originate {{{variables}}}loopback/trust1/default &park",
                 timeout=20)
    _wait_for(lambda: any(path == "/hangup" for path, _ in app.hits))
    assert app.hits == [("/answer", ANSWER_QUERY), ("/fallback", FALLBACK_QUERY),
                        ("/hangup", HANGUP_QUERY)]
    assert not [r for r in caplog.records if "cannot read" in r.getMessage()]


def test_a_forged_connect_reply_is_refused_by_real_freeswitch(world, caplog):
    """A forged connect reply naming a channel the real FreeSWITCH does not have is refused in
    one WARNING; nothing is fetched or posted."""
    app, base, daemon = world
    sock = gevent.socket.create_connection(daemon.address, timeout=5)
    assert sock.recv(100) == b"connect\n\n"
    sock.sendall(encode_message([
        ("Event-Name", "CHANNEL_DATA"), ("Unique-ID", "forged-0001"),
        ("Caller-Caller-ID-Number", "14155550111"),
        ("variable_plivoxml_answer_url", f"{base}/forged-answer"),
        ("variable_plivoxml_hangup_url", f"{base}/forged-hangup"),
        ("Content-Type", "command/reply"), ("Reply-Text", "+OK\n"),
        ("Socket-Mode", "async"), ("Control", "full"),
    ], urlencode=True))
    with gevent.Timeout(5):
        assert sock.recv(100) == b""
    _wait_for(lambda: daemon.server.active == 0)
    peer = f"127.0.0.1:{sock.getsockname()[1]}"
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == [f"refused call forged-0001 from the peer {peer}: FreeSWITCH has no live "
                        "channel with this Unique-ID (uuid_exists: 'false')"]
    assert app.hits == []
