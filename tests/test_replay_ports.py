"""replay's web app when its default port is taken: a free port, and documents that still reach it."""

from __future__ import annotations

import io
import shutil
import socket
from pathlib import Path

import pytest

from plivoxml_fs import cli, replay
from plivoxml_fs.errors import ListenError
from plivoxml_fs.replay import ReplayOptions, WebApp, run_replay

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
#: The web app's default address, as examples/ name it.
NAMED = f"127.0.0.1:{replay.DEFAULT_HTTP_PORT}"
FAST = 0.05


@pytest.fixture
def held(tmp_path):
    """A port some other program holds (listening, never answering), and a copy of examples/
    naming it as the web app's default address, as examples/ name 8089."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        target = tmp_path / "examples"
        shutil.copytree(EXAMPLES, target)
        for doc in target.rglob("*.xml"):
            doc.write_text(doc.read_text().replace(NAMED, f"127.0.0.1:{port}"))
        yield target, port


def _replay(document: Path, default_port: int, **options) -> tuple[int, str]:
    out = io.StringIO()
    status = run_replay(ReplayOptions(document=str(document), default_http_port=default_port,
                                      time_scale=FAST, call_timeout_s=20, **options), out)
    return status, out.getvalue()


def _web_app_port(transcript: str) -> int:
    (line,) = [ln for ln in transcript.splitlines() if " web app on http://127.0.0.1:" in ln]
    return int(line.split("web app on http://127.0.0.1:", 1)[1].split(",", 1)[0])


def test_cli_names_the_same_default_port_as_replay():
    """The --help default and replay's DEFAULT_HTTP_PORT are one number (examples/ name it)."""
    assert cli.DEFAULT_HTTP_PORT == replay.DEFAULT_HTTP_PORT
    assert f"http://{NAMED}/callbacks/" in (EXAMPLES / "conference-recorded.xml").read_text()


def test_a_taken_default_port_falls_back_and_redirect_and_play_still_reach_the_web_app(held):
    """With the default port held by another program, the web app takes a free port, says so,
    and welcome.xml's Play, Redirect and hangup callback all reach it there."""
    root, taken = held
    status, text = _replay(root / "welcome.xml", taken)
    assert status == 0, text
    port = _web_app_port(text)
    assert port != taken
    assert (f"127.0.0.1:{taken} is taken: the web app took http://127.0.0.1:{port}, and the XML "
            f"it serves names it where it names http://127.0.0.1:{taken}") in text
    assert f"-> sendmsg playback file_string://http_cache://http://127.0.0.1:{port}/sounds/" in text
    assert "fetch POST /next/goodbye.xml" in text
    assert "-> sendmsg speak flite|kal|Goodbye." in text
    assert f"127.0.0.1:{taken}/" not in text.split(" is taken: ", 1)[1].split("\n", 1)[1]
    assert text.rstrip().endswith("1 call(s) completed")


def test_a_taken_default_port_still_gets_conference_callbacks_and_the_action_url(held):
    """A recorded room on the fallback port: the conference callbacks (callbackUrl) and the
    action URL named in the document both arrive at the web app."""
    root, taken = held
    status, text = _replay(root / "conference-recorded.xml", taken, callers=2)
    assert status == 0, text
    assert "callback POST /callbacks/conference" in text
    assert "ConferenceAction=record" in text
    assert len([ln for ln in text.splitlines() if "callback POST /callbacks/recorded" in ln]) == 2
    assert "2 call(s) completed" in text


def test_an_explicit_http_port_that_is_taken_is_an_error(held):
    """A given http_port is used as given: taken, replay stops naming it and the option."""
    root, taken = held
    with pytest.raises(ListenError) as failed:
        _replay(root / "busy.xml", taken, http_port=taken)
    assert str(failed.value) == (f"cannot listen on 127.0.0.1:{taken} (--http-port): "
                                 f"Address already in use")


def test_only_the_named_address_is_rewritten_and_only_in_xml(tmp_path):
    """The web app replaces the default address in XML it serves, not a longer port number
    that starts with the same digits, and leaves audio files as they are."""
    (tmp_path / "a.xml").write_text("<Response><Play>http://127.0.0.1:8089/x.wav</Play>"
                                    "<Play>http://127.0.0.1:80890/y.wav</Play></Response>")
    (tmp_path / "b.wav").write_bytes(b"RIFF http://127.0.0.1:8089/")
    app = WebApp(tmp_path, 0, lambda hit: None, "http://127.0.0.1:8089")
    app.server.init_socket()
    try:
        base = app.base_url
        assert app._served(tmp_path / "a.xml") == ("application/xml", (
            f"<Response><Play>{base}/x.wav</Play>"
            "<Play>http://127.0.0.1:80890/y.wav</Play></Response>").encode())
        assert app._served(tmp_path / "b.wav") == ("audio/wav", b"RIFF http://127.0.0.1:8089/")
    finally:
        app.server.close()
