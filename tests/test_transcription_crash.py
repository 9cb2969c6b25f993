"""kill -9 of a `serve` daemon while a recording is being transcribed: the restarted daemon
runs the stored job and posts its transcription (real processes: `plivoxml-fs simulate` and
`plivoxml-fs serve`, a fake OpenAI-compatible engine in this process)."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from gevent.pywsgi import WSGIServer
from test_crash_recovery import (
    WAIT_S,
    channels,
    daemon_config,
    free_port,
    inbound_client,
    originate,
    serve,
    spawn,
    stop,
    wait_for,
)
from transcription.engine_server import EngineServer

from plivoxml_fs.effects.transcriber import JobStore

SPEECH = Path(__file__).resolve().parent.parent / "examples" / "speech" / "s6.wav"
ROOM = ("<Response><Conference record='true' recordFileFormat='wav' "
        "transcriptionUrl='{base}/tx'>crash-tx</Conference></Response>")


class App:
    """Serves the room document; keeps the transcription callbacks (form fields)."""

    def __init__(self) -> None:
        self.base = ""
        self.transcriptions: list[dict] = []
        self.hangups: list[dict] = []

    def __call__(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        form = dict(parse_qsl(environ["wsgi.input"].read(length).decode(),
                              keep_blank_values=True))
        if environ["PATH_INFO"] == "/tx":
            self.transcriptions.append(form)
        if environ["PATH_INFO"] == "/hangup":
            self.hangups.append(form)
        if environ["PATH_INFO"] == "/room.xml":
            start_response("200 OK", [("Content-Type", "application/xml")])
            return [ROOM.format(base=self.base).encode()]
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b""]


@pytest.fixture
def world(tmp_path):
    app = App()
    web = WSGIServer(("127.0.0.1", 0), app, log=None, error_log=None)
    web.start()
    app.base = f"http://127.0.0.1:{web.server_port}"
    engine = EngineServer("the quick brown fox after the restart").start()
    esl_port, call_port = free_port(), free_port()
    sim = spawn(["simulate", "--listen", f"127.0.0.1:{esl_port}",
                 "--socket", f"127.0.0.1:{call_port}"], tmp_path / "simulate.log")
    config = tmp_path / "serve.toml"
    config.write_text(
        daemon_config(call_port, esl_port, tmp_path, f"{app.base}/room.xml",
                      f"{app.base}/hangup",
                      f'transcription_engine = "http"\ntranscription_http_url = "{engine.url}"\n'
                      'transcription_http_key = "sk-crash-test-key"\n'), "utf-8")
    client = inbound_client(esl_port)
    try:
        yield app, engine, client, config, tmp_path
    finally:
        client.stop()
        stop(sim)
        engine.stop()
        web.stop(timeout=1)


def test_kill_9_while_transcribing_then_restart_posts_the_transcription(world):
    app, engine, client, config, tmp_path = world
    engine.release.clear()  # the engine holds the first daemon's request: the job is running
    daemon = serve(config, tmp_path, client)
    try:
        originate(client, "tx-call")
        wait_for(lambda: "tx-call" in client.api("show channels"), "the call to be up")
        # the caller's B leg is the member (its room has a name of the daemon's making)
        wait_for(lambda: "loopback/2125550199-b" in client.api("conference list", check=False),
                 "the caller to be in the room")
        wait_for(lambda: list((tmp_path / "state" / "recordings").glob("*.wav")),
                 "the room's recording to start")
        assert client.api(f"uuid_broadcast tx-call {SPEECH} aleg").startswith("+OK")
        wait_for(lambda: client.api("uuid_getvar tx-call playback_ms").strip()
                 not in ("", "_undef_"), "the sentence to be played")
        client.api("uuid_kill tx-call")
        wait_for(lambda: channels(client) == 0, "the call to end")
        wait_for(lambda: engine.requests, "the transcription job to reach the engine")
        jobs = JobStore(str(tmp_path / "state" / "transcriptions.sqlite3"))
        assert len(jobs.ids()) == 1  # accepted and stored, not done
        daemon.send_signal(signal.SIGKILL)
        daemon.wait(timeout=WAIT_S)
        assert app.transcriptions == []
        engine.release.set()
        daemon = serve(config, tmp_path, client)
        wait_for(lambda: app.transcriptions, "the transcription callback after the restart")
        wait_for(lambda: app.hangups, "the call's hangup callback")
        wait_for(lambda: jobs.ids() == [], "the job to be done")
    finally:
        stop(daemon)
    assert daemon.returncode == 0
    (posted,) = app.transcriptions
    assert posted["transcription"] == "the quick brown fox after the restart"
    assert posted["error"] == ""
    assert posted["call_uuid"] == app.hangups[0]["CallUUID"] and posted["recording_id"]
    # the second daemon sent the recording itself to the engine
    assert engine.requests[-1]["file"][:4] == b"RIFF"
    assert engine.requests[-1]["form"]["model"] == "whisper-1"
    log = (tmp_path / "serve.log").read_text()
    assert "transcription: 1 job(s) left by an earlier process, queued again" in log
    assert "sk-crash-test-key" not in log
    assert json.dumps(posted)  # plain strings
