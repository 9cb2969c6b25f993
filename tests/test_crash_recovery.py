"""kill -9 of a `serve` daemon with calls in progress: the next daemon posts each of their
hangup callbacks once (real processes: `plivoxml-fs simulate` and `plivoxml-fs serve`)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qsl

import gevent
import pytest
from gevent.pywsgi import WSGIServer
from waiting import until

from plivoxml_fs.effects.store import OutboxStore
from plivoxml_fs.errors import PlivoXMLError
from plivoxml_fs.esl.inbound import InboundClient
from plivoxml_fs.fs import commands

LONG = b"<Response><Speak>Hello there.</Speak><Wait length='120'/></Response>"
SHORT = b"<Response><Hangup/></Response>"
CALLS = 10
WAIT_S = 20.0
CLI = [sys.executable, "-c", "from plivoxml_fs.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class App:
    """Serves the two documents; records answer fetches and hangup callbacks (form fields)."""

    def __init__(self) -> None:
        self.answers: list[dict] = []
        self.hangups: list[dict] = []

    def __call__(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        form = dict(parse_qsl(environ["wsgi.input"].read(length).decode()))
        path = environ["PATH_INFO"]
        if path == "/hangup":
            self.hangups.append(form)
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b""]
        self.answers.append(form)
        start_response("200 OK", [("Content-Type", "application/xml")])
        return [SHORT if path == "/short.xml" else LONG]


def wait_for(predicate, what: str, timeout: float = WAIT_S) -> None:
    until(what, predicate, timeout)


def spawn(args: list[str], log: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLIVOXML_FS_")}
    return subprocess.Popen(CLI + args, stdout=log.open("ab"), stderr=subprocess.STDOUT, env=env)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=WAIT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=WAIT_S)


def daemon_config(call_port: int, esl_port: int, tmp_path: Path, answer_url: str,
                  hangup_url: str, extra: str = "") -> str:
    """The `serve` config of a crash test: quick reconnects and retries, state in tmp_path."""
    return (f'listen_port = {call_port}\nfreeswitch_port = {esl_port}\n'
            f'metrics_port = {free_port()}\nstate_dir = "{tmp_path / "state"}"\n'
            f'answer_url = "{answer_url}"\nhangup_url = "{hangup_url}"\n'
            'reconnect_min_s = 0.1\nreconnect_max_s = 0.5\nlinger_s = 1\nlog_json = false\n'
            'callback_max_retries = 2\ncallback_backoff_base_s = 0.1\n'
            'callback_backoff_max_s = 0.2\n' + extra)


def inbound_client(esl_port: int) -> InboundClient:
    """An inbound connection to the `simulate` process, once it answers."""
    client = InboundClient("127.0.0.1", esl_port, "ClueCon", events=(), reconnect_min_s=0.1,
                           reconnect_max_s=0.5, command_timeout_s=10)
    client.start()
    assert client.wait_connected(WAIT_S), "the simulate process did not come up"
    return client


@pytest.fixture
def world(tmp_path):
    """The web app, a `simulate` process and the config of a `serve` process for it."""
    app = App()
    web = WSGIServer(("127.0.0.1", 0), app, log=None, error_log=None)
    web.start()
    base = f"http://127.0.0.1:{web.server_port}"
    esl_port, call_port = free_port(), free_port()
    sim = spawn(["simulate", "--listen", f"127.0.0.1:{esl_port}",
                 "--socket", f"127.0.0.1:{call_port}"], tmp_path / "simulate.log")
    config = tmp_path / "serve.toml"
    config.write_text(daemon_config(call_port, esl_port, tmp_path, f"{base}/long.xml",
                                    f"{base}/hangup"), "utf-8")
    client = inbound_client(esl_port)
    try:
        yield app, base, client, config, tmp_path
    finally:
        client.stop()
        stop(sim)
        web.stop(timeout=1)


def serve(config: Path, tmp_path: Path, client: InboundClient) -> subprocess.Popen:
    """A `serve` process, once its inbound connection is up (the simulator has two clients)."""
    process = spawn(["serve", "--config", str(config)], tmp_path / "serve.log")

    def daemon_connected() -> bool:
        assert process.poll() is None, (tmp_path / "serve.log").read_text()
        listing = client.api("show channels count")  # any answer means the simulator is up
        return bool(listing) and _daemon_listening(config)

    wait_for(daemon_connected, "the daemon to listen")
    return process


def _daemon_listening(config: Path) -> bool:
    port = int(config.read_text().split("listen_port = ")[1].split("\n")[0])
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


def originate(client: InboundClient, uuid: str, **variables: str) -> None:
    line = commands.originate("loopback/2125550199/default",
                              {"origination_uuid": uuid, **variables})

    def place() -> None:
        # the job ends with the call, or the test's connection closes first
        with contextlib.suppress(PlivoXMLError):
            client.bgapi(line, timeout=WAIT_S * 3)

    gevent.spawn(place)


def channels(client: InboundClient) -> int:
    return int(client.api("show channels count").split()[0])


def test_kill_9_mid_call_then_restart_posts_each_hangup_callback_once(world):
    """Calls in progress at a kill -9 get one hangup callback each from the restarted daemon
    (HangupSource "Daemon Restart", with their start and answer times); a call that had ended
    before the kill keeps its one normal callback; the journal and the outbox end empty."""
    app, base, client, config, tmp_path = world
    daemon = serve(config, tmp_path, client)
    try:
        originate(client, "done-1", plivoxml_answer_url=f"{base}/short.xml")
        wait_for(lambda: len(app.hangups) == 1, "the short call's hangup callback")
        for n in range(CALLS):
            originate(client, f"crash-{n}")
        outbox = OutboxStore(str(tmp_path / "state" / "outbox.sqlite3"))

        def all_answered() -> bool:
            calls = outbox.calls()
            return len(calls) == CALLS and all(c.answered_us for c in calls)

        wait_for(all_answered, "every call journalled and answered")
        daemon.send_signal(signal.SIGKILL)
        daemon.wait(timeout=WAIT_S)
        wait_for(lambda: channels(client) == 0, "FreeSWITCH to end the orphaned calls")
        assert len(app.hangups) == 1
        daemon = serve(config, tmp_path, client)
        wait_for(lambda: len(app.hangups) == CALLS + 1, "the orphans' hangup callbacks")
    finally:
        stop(daemon)
    assert daemon.returncode == 0
    by_call: dict[str, list[dict]] = {}
    for form in app.hangups:
        by_call.setdefault(form["CallUUID"], []).append(form)
    assert all(len(forms) == 1 for forms in by_call.values()), by_call
    [done] = by_call.pop(next(u for u in by_call if by_call[u][0]["HangupSource"] != "Daemon Restart"))
    assert done["HangupSource"] == "Answer XML"
    assert len(by_call) == CALLS
    for [form] in by_call.values():
        assert (form["Event"], form["HangupCause"], form["HangupSource"], form["CallStatus"]) == (
            "Hangup", "NORMAL_UNSPECIFIED", "Daemon Restart", "completed")
        assert form["StartTime"] and form["AnswerTime"] and form["EndTime"] >= form["AnswerTime"]
        assert form["To"] == "2125550199"
    assert outbox.calls() == [] and outbox.rows() == []
    log = (tmp_path / "serve.log").read_text()
    assert (f"{CALLS} call(s) were in progress when an earlier daemon stopped: posting their "
            "hangup callbacks (HangupSource=Daemon Restart)") in log
