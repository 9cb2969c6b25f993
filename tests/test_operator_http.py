"""The operator HTTP server through the whole daemon: /metrics moves after a call through the
embedded FreeSWITCH, /health follows the inbound connection."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import gevent
import pytest
from gevent.pywsgi import WSGIServer
from waiting import until

from plivoxml_fs.config import Settings, load_settings
from plivoxml_fs.errors import ConfigError
from plivoxml_fs.service import Daemon
from plivoxml_fs.simulator import EmbeddedFreeSwitch

DOCUMENT = b"<Response><Speak>Hello.</Speak><Wait length='1'/></Response>"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _web(environ, start_response):
    environ["wsgi.input"].read()
    if environ["PATH_INFO"] == "/answer.xml":
        start_response("200 OK", [("Content-Type", "application/xml")])
        return [DOCUMENT]
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b""]


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _sample(text: str, name: str) -> float:
    """The value of the sample line `name` (with its labels as written) in an exposition."""
    match = re.search(rf"^{re.escape(name)} ([0-9.e+-]+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


@pytest.fixture
def running(tmp_path):
    """Web app, a Daemon with the operator server on a free port, embedded FreeSWITCH."""
    web = WSGIServer(("127.0.0.1", 0), _web, log=None, error_log=None)
    web.start()
    base = f"http://127.0.0.1:{web.server_port}"
    settings = Settings(
        listen_port=0,
        metrics_port=_free_port(),
        answer_url=f"{base}/answer.xml",
        hangup_url=f"{base}/hangup",
        state_dir=str(tmp_path),
        linger_s=1,
        reconnect_min_s=0.05,
        reconnect_max_s=0.1,
    )
    daemon = Daemon(settings)
    daemon.start_server()
    fs = EmbeddedFreeSwitch(socket_address=daemon.address, time_scale=0.02, media_dir=str(tmp_path))
    fs.start()
    daemon.start_inbound(*fs.inbound_address)
    assert daemon.inbound.wait_connected(5)
    yield daemon, fs, f"http://127.0.0.1:{settings.metrics_port}"
    fs.stop()
    daemon.stop(drain_timeout_s=1)
    web.stop(timeout=1)


def test_metrics_count_a_call_and_its_verbs(running):
    """After one call: calls_total +1, Speak and Wait counted as next, commands and fetch timed."""
    daemon, fs, base = running
    _, before = _get(f"{base}/metrics")
    a_leg = fs.originate("{origination_uuid=aleg-m1}loopback/m1/default")
    assert fs.wait_hangup(a_leg, 15)
    with gevent.Timeout(5):
        while daemon.server.active:
            gevent.sleep(0.01)
    status, after = _get(f"{base}/metrics")
    assert status == 200

    def moved(name: str) -> float:
        return _sample(after, name) - _sample(before, name)

    assert moved("plivoxml_fs_calls_total") == 1
    assert _sample(after, "plivoxml_fs_calls_active") == 0
    assert moved('plivoxml_fs_verbs_total{outcome="next",verb="Speak"}') == 1
    assert moved('plivoxml_fs_verbs_total{outcome="next",verb="Wait"}') == 1
    assert moved("plivoxml_fs_fetch_latency_seconds_count") == 1
    assert moved('plivoxml_fs_command_latency_seconds_count{command="sendmsg"}') >= 3


def test_health_follows_the_inbound_connection(running):
    """/health: 200 connected while the simulator runs, 503 disconnected once it stops."""
    daemon, fs, base = running
    assert _get(f"{base}/health") == (200, json.dumps(
        {"status": "ok", "freeswitch": "connected", "outbox_durable": True}))
    reconnects = _sample(_get(f"{base}/metrics")[1], "plivoxml_fs_esl_reconnects_total")
    fs.stop()
    with gevent.Timeout(5):
        while daemon.freeswitch_connected():
            gevent.sleep(0.01)
    status, body = _get(f"{base}/health")
    assert (status, json.loads(body)) == (
        503, {"status": "degraded", "freeswitch": "disconnected", "outbox_durable": True})
    after = _sample(_get(f"{base}/metrics")[1], "plivoxml_fs_esl_reconnects_total")
    assert after == reconnects + 1


def test_unknown_path_and_method_are_refused(running):
    """Other paths get 404 naming the two that exist; POST gets 405."""
    _, _, base = running
    assert _get(f"{base}/nope") == (404, "not found: try /metrics or /health\n")
    request = urllib.request.Request(f"{base}/metrics", data=b"", method="POST")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.code == 405


def test_metrics_port_zero_serves_nothing_and_bad_ports_are_refused(tmp_path):
    """metrics_port 0 means no operator server; a port above 65535 is a ConfigError."""
    assert Daemon(Settings(listen_port=0, metrics_port=0, state_dir=str(tmp_path))).operator is None
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={}, metrics_port=70000)
    assert str(caught.value) == (
        "override: metrics_port must be a port 1..65535, or 0 for none (got 70000)"
    )


def _wait_for(predicate, what: str, timeout: float = 5.0) -> float:
    """Seconds until `predicate()` held (fails after `timeout`)."""
    started = time.monotonic()
    until(what, predicate, timeout)
    return time.monotonic() - started


def test_health_reports_a_frozen_freeswitch_within_the_probe_deadline(tmp_path):
    """A `simulate` process stopped with SIGSTOP keeps its TCP connection but answers nothing:
    /health turns 503 "not responding" within interval + timeout, and 200 after SIGCONT."""
    esl_port = _free_port()
    sim = subprocess.Popen(
        [sys.executable, "-c", "from plivoxml_fs.cli import main; main()", "simulate",
         "--listen", f"127.0.0.1:{esl_port}", "--socket", f"127.0.0.1:{_free_port()}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    settings = Settings(listen_port=0, metrics_port=_free_port(), state_dir=str(tmp_path),
                        freeswitch_port=esl_port, reconnect_min_s=0.05, reconnect_max_s=0.2,
                        health_probe_interval_s=0.2, health_probe_timeout_s=0.5)
    daemon = Daemon(settings)
    base = f"http://127.0.0.1:{settings.metrics_port}"
    try:
        daemon.start()
        assert daemon.inbound.wait_connected(15), "simulate did not come up"
        _wait_for(lambda: _get(f"{base}/health")[0] == 200, "a healthy start")
        sim.send_signal(signal.SIGSTOP)
        took = _wait_for(lambda: _get(f"{base}/health")[0] == 503, "503 while frozen")
        assert took < 0.2 + 0.5 + 0.5
        status, body = _get(f"{base}/health")
        assert (status, json.loads(body)) == (
            503, {"status": "degraded", "freeswitch": "not responding", "outbox_durable": True})
        assert daemon.freeswitch_connected()  # the TCP connection never noticed
        sim.send_signal(signal.SIGCONT)
        _wait_for(lambda: _get(f"{base}/health")[0] == 200, "200 once it runs again")
    finally:
        sim.send_signal(signal.SIGCONT)
        daemon.stop(drain_timeout_s=1)
        sim.terminate()
        sim.wait(timeout=10)


def test_health_and_metrics_say_when_the_outbox_is_memory_only(tmp_path):
    """An outbox file that cannot be opened: /health keeps 200 but says outbox_durable false,
    the gauge is 0; once the directory is usable both turn to durable."""
    blocked = tmp_path / "state"
    blocked.write_text("")
    settings = Settings(listen_port=0, metrics_port=_free_port(), state_dir=str(blocked),
                        outbox_reopen_interval_s=0.05)
    daemon = Daemon(settings)
    base = f"http://127.0.0.1:{settings.metrics_port}"
    fs = EmbeddedFreeSwitch(socket_address=("127.0.0.1", 9), media_dir=str(tmp_path))
    fs.start()
    try:
        daemon.start_server()
        daemon.start_inbound(*fs.inbound_address)
        assert daemon.inbound.wait_connected(5)
        status, body = _get(f"{base}/health")
        assert (status, json.loads(body)) == (
            200, {"status": "ok", "freeswitch": "connected", "outbox_durable": False})
        assert _sample(_get(f"{base}/metrics")[1], "plivoxml_fs_outbox_durable") == 0
        blocked.unlink()
        blocked.mkdir()
        _wait_for(lambda: json.loads(_get(f"{base}/health")[1])["outbox_durable"], "durable")
        assert _sample(_get(f"{base}/metrics")[1], "plivoxml_fs_outbox_durable") == 1
    finally:
        daemon.stop(drain_timeout_s=0)
        fs.stop()
