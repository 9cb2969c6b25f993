"""Who may hand the daemon a call, and what it takes from them: the whole daemon against the
embedded FreeSWITCH. A forged connect reply and a peer outside allowed_peers get no fetch and
no callback; the URL channel variables are fetched exactly as the dialplan set them."""

from __future__ import annotations

import logging

import gevent
import gevent.socket
import pytest
from gevent.pywsgi import WSGIServer
from waiting import until

from plivoxml_fs.config import Settings
from plivoxml_fs.esl.codec import encode_message
from plivoxml_fs.service import Daemon
from plivoxml_fs.simulator import EmbeddedFreeSwitch

TRANSPORT = "plivoxml_fs.esl.transport"
#: Query strings with reserved characters and escapes, as a dialplan may set them.
ANSWER_QUERY = "sig=a%2Bb%26c%3Dd%40e%25f&plus=1+2&sp=a%20b"
FALLBACK_QUERY = "token=t%2Bk%3D%3D&n=100%25"
HANGUP_QUERY = "sig=h%2Bh%26x%3Dy&t=1+1"


class App:
    """Answers /answer with a broken document and /fallback with a Hangup; records each
    request's path and raw query string."""

    def __init__(self) -> None:
        self.hits: list[tuple[str, str]] = []
        self.base = ""

    def __call__(self, environ, start_response):
        path = environ["PATH_INFO"]
        self.hits.append((path, environ.get("QUERY_STRING", "")))
        start_response("200 OK", [("Content-Type", "application/xml")])
        if path == "/answer":
            return [b"<Response><NoSuchVerb/></Response>"]
        return [b"<Response><Hangup/></Response>"]


def _wait_for(predicate, timeout=5.0):
    until("the condition", predicate, timeout)


@pytest.fixture
def world(tmp_path):
    """Build the web app, the daemon and the embedded FreeSWITCH; stop them at the end."""
    stops = []

    def build(*, inbound: bool = True, **overrides):
        app = App()
        web = WSGIServer(("127.0.0.1", 0), app, log=None, error_log=None)
        web.start()
        stops.append(lambda: web.stop(timeout=1))
        app.base = f"http://127.0.0.1:{web.server_port}"
        values = dict(listen_port=0, metrics_port=0, state_dir=str(tmp_path), linger_s=1,
                      answer_url=f"{app.base}/answer", hangup_url=f"{app.base}/hangup",
                      reconnect_min_s=0.05, reconnect_max_s=0.1, connect_timeout_s=1.0)
        values.update(overrides)
        daemon = Daemon(Settings(**values))
        daemon.start_server()
        stops.append(lambda: daemon.stop(drain_timeout_s=1))
        fs = EmbeddedFreeSwitch(socket_address=daemon.address, time_scale=0.02,
                                media_dir=str(tmp_path))
        fs.start()
        stops.append(fs.stop)
        if inbound:
            daemon.start_inbound(*fs.inbound_address)
            assert daemon.inbound.wait_connected(5)
        else:  # an inbound connection that cannot be made: nothing listens there
            with gevent.socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                dead_port = probe.getsockname()[1]
            daemon.start_inbound("127.0.0.1", dead_port)
        return app, daemon, fs

    yield build
    for stop in reversed(stops):
        stop()


def _forged_reply(base: str, uuid: str) -> bytes:
    """The 10-line connect reply of reliability-probe.md D3: a made-up call and URLs."""
    return encode_message([
        ("Event-Name", "CHANNEL_DATA"),
        ("Unique-ID", uuid),
        ("Caller-Caller-ID-Number", "14155550111"),
        ("Caller-Destination-Number", "2125550199"),
        ("variable_plivoxml_answer_url", f"{base}/forged-answer"),
        ("variable_plivoxml_hangup_url", f"{base}/forged-hangup"),
        ("Content-Type", "command/reply"),
        ("Reply-Text", "+OK\n"),
        ("Socket-Mode", "async"),
        ("Control", "full"),
    ], urlencode=True)


def _closed(sock, timeout=5.0) -> bool:
    with gevent.Timeout(timeout, False):
        while True:
            try:
                if not sock.recv(65536):
                    return True
            except OSError:
                return True
    return False


def test_url_variables_are_fetched_exactly_as_set(world, caplog):
    """Answer, fallback and hangup URLs from channel variables reach the web app with their
    %XX escapes, + and %20 unchanged (the connect reply alone would turn %2B into +)."""
    app, daemon, fs = world()
    variables = ",".join([
        f"plivoxml_answer_url='{app.base}/answer?{ANSWER_QUERY}'",
        f"plivoxml_fallback_url='{app.base}/fallback?{FALLBACK_QUERY}'",
        f"plivoxml_hangup_url='{app.base}/hangup?{HANGUP_QUERY}'",
    ])
    a_leg = fs.originate(f"{{{variables}}}loopback/u1/default")
    assert fs.wait_hangup(a_leg, 10)
    _wait_for(lambda: any(path == "/hangup" for path, _ in app.hits))
    assert app.hits == [("/answer", ANSWER_QUERY), ("/fallback", FALLBACK_QUERY),
                        ("/hangup", HANGUP_QUERY)]
    assert not [r for r in caplog.records if "cannot read" in r.getMessage()]


def test_a_forged_connect_reply_gets_no_fetch_and_no_callback(world, caplog):
    """A peer that is not FreeSWITCH's socket application, naming a channel that does not
    exist, is refused in one WARNING; nothing is fetched or posted."""
    app, daemon, fs = world()
    sock = gevent.socket.create_connection(daemon.address, timeout=5)
    assert sock.recv(100) == b"connect\n\n"
    sock.sendall(_forged_reply(app.base, "forged-0001"))
    assert _closed(sock)
    peer = f"127.0.0.1:{sock.getsockname()[1]}"
    _wait_for(lambda: daemon.server.active == 0)
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == [f"refused call forged-0001 from the peer {peer}: FreeSWITCH has no live "
                        "channel with this Unique-ID (uuid_exists: 'false')"]
    assert app.hits == []


def test_a_peer_outside_allowed_peers_is_closed_unread(world, caplog):
    """With allowed_peers naming another address, a connection from 127.0.0.1 is closed before
    `connect` is sent, in one WARNING; the embedded FreeSWITCH's call fetches nothing."""
    app, daemon, fs = world(allowed_peers="192.0.2.10")
    sock = gevent.socket.create_connection(daemon.address, timeout=5)
    assert _closed(sock)
    a_leg = fs.originate("loopback/u2/default")
    assert fs.wait_hangup(a_leg, 10)
    refused = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING
               and r.name == TRANSPORT]
    assert len(refused) == 2
    assert all(line.startswith("refused a connection from the peer 127.0.0.1:") and
               line.endswith(": not an allowed peer (allowed_peers: 192.0.2.10)")
               for line in refused)
    assert app.hits == []


def test_calls_are_refused_while_the_inbound_connection_is_down(world, caplog):
    """When the inbound connection cannot be made, a call cannot be confirmed: after
    connect_timeout_s it is refused in one WARNING, nothing fetched."""
    app, daemon, fs = world(inbound=False, connect_timeout_s=0.3)
    a_leg = fs.originate("loopback/u3/default")
    assert fs.wait_hangup(a_leg, 10)
    _wait_for(lambda: any(r.getMessage().startswith("refused call") for r in caplog.records))
    refused = [r.getMessage() for r in caplog.records if r.getMessage().startswith("refused")]
    assert len(refused) == 1 and refused[0].endswith(
        ": cannot confirm it: the inbound connection to FreeSWITCH is down (waited 0.3 s)")
    assert app.hits == []
