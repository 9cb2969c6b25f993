"""`plivoxml-fs replay` end to end: embedded FreeSWITCH, daemon and web app in one process."""

from __future__ import annotations

import io
from pathlib import Path

from plivoxml_fs.replay import Replay, ReplayOptions, run_replay

FAST = 0.05  # media at 20x real time


def _replay(document: str, port: int, **options) -> tuple[int, str]:
    out = io.StringIO()
    status = run_replay(
        ReplayOptions(document=document, http_port=port, time_scale=FAST, call_timeout_s=20,
                      **options),
        out,
    )
    return status, out.getvalue()


def _callback_lines(transcript: str) -> list[str]:
    return [line for line in transcript.splitlines() if "callback POST /callbacks/hangup" in line]


def test_welcome_example_completes_with_every_verb(examples):
    """welcome.xml pre-answers, speaks, plays twice, waits, redirects and hangs up normally."""
    root, port = examples
    status, text = _replay(str(root / "welcome.xml"), port)
    assert status == 0, text
    order = [
        "-> sendmsg pre_answer",
        "-> sendmsg speak flite|slt|Please hold while we connect you.",
        "-> sendmsg answer",
        "-> sendmsg speak flite|slt|Welcome to plivo XML on FreeSWITCH.",
        f"-> sendmsg playback file_string://http_cache://http://127.0.0.1:{port}/sounds/chime.wav"
        f"!http_cache://http://127.0.0.1:{port}/sounds/chime.wav",
        "-> sendmsg sleep 1000",
        "fetch POST /next/goodbye.xml",
        "-> sendmsg speak flite|kal|Goodbye.",
        "-> sendmsg hangup",
    ]
    positions = [text.index(step) for step in order]
    assert positions == sorted(positions)
    callbacks = _callback_lines(text)
    assert len(callbacks) == 1
    assert "HangupCause=NORMAL_CLEARING" in callbacks[0]
    assert "CallStatus=completed" in callbacks[0]
    assert text.rstrip().endswith("1 call(s) completed")


def test_busy_example_rejects_before_answer(examples):
    """busy.xml hangs up with USER_BUSY without answering, and the callback says so; the call
    ends within milliseconds, yet its lines are still labelled with the test call."""
    root, port = examples
    status, text = _replay(str(root / "busy.xml"), port)
    assert status == 0, text
    assert " call1      -> sendmsg hangup" in text
    assert "-> sendmsg answer" not in text
    (callback,) = _callback_lines(text)
    assert "HangupCause=USER_BUSY" in callback
    assert "BillDuration=0" in callback


def test_several_callers_each_complete(examples):
    """Three callers run the same document at once; each gets its own hangup callback."""
    root, port = examples
    status, text = _replay(str(root / "welcome.xml"), port, callers=3)
    assert status == 0, text
    callbacks = _callback_lines(text)
    assert len(callbacks) == 3
    call_uuids = {part for line in callbacks for part in line.split() if part.startswith("CallUUID=")}
    assert len(call_uuids) == 3
    assert "3 call(s) completed" in text


def test_invalid_document_fails_with_the_problem(tmp_path, free_port):
    """A document that does not validate ends the call and replay exits 7 naming the problem."""
    doc = tmp_path / "bad.xml"
    doc.write_text('<Response>\n  <Conference maxMembers="500">room</Conference>\n</Response>\n')
    status, text = _replay(str(doc), free_port)
    assert status == 7
    failed = [line for line in text.splitlines() if "FAILED" in line]
    assert len(failed) == 1
    assert "maxMembers: must be an integer 1..20 (got '500')" in failed[0]
    assert len(_callback_lines(text)) == 1  # the hangup callback still arrives


def test_unreachable_answer_url_fails_with_the_cause(free_port):
    """An answer URL answering 404 fails the call; replay exits 7 naming the URL and status."""
    port = free_port
    status, text = _replay(f"http://127.0.0.1:{port}/nowhere.xml", port)
    assert status == 7
    failed = [line for line in text.splitlines() if "FAILED" in line]
    assert len(failed) == 1
    assert "404" in failed[0] and "/nowhere.xml" in failed[0]
    assert len(_callback_lines(text)) == 1


def _state_line(transcript: str) -> str:
    (line,) = [line for line in transcript.splitlines() if "state directory " in line]
    return line.split("state directory ", 1)[1]


def test_state_goes_to_a_temporary_directory_removed_at_the_end(examples, tmp_path,
                                                                monkeypatch):
    """Without --config the outbox lives in a fresh temporary directory, gone after the run,
    and nothing is written under the current directory."""
    root, port = examples
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    status, text = _replay(str(root / "busy.xml"), port)
    assert status == 0, text
    state, _, why = _state_line(text).partition(" ")
    assert why == "(temporary, removed at the end)"
    assert Path(state).name.startswith("plivoxml-fs-replay-")
    assert not Path(state).exists()
    assert list(cwd.iterdir()) == []


def test_each_run_has_its_own_state_directory_and_no_metrics_server():
    """Two replays get different state directories (no shared outbox file) and metrics_port 0."""
    first, second = Replay(ReplayOptions(document="a.xml")), Replay(ReplayOptions(document="a.xml"))
    try:
        one = first._settings("http://127.0.0.1:1", "http://127.0.0.1:1/a.xml")
        two = second._settings("http://127.0.0.1:1", "http://127.0.0.1:1/a.xml")
        assert one.state_dir != two.state_dir
        assert Path(one.state_dir).is_dir() and Path(two.state_dir).is_dir()
        assert (one.metrics_port, two.metrics_port) == (0, 0)
    finally:
        first.stop()
        second.stop()
    assert not Path(one.state_dir).exists() and not Path(two.state_dir).exists()


def test_a_config_naming_state_dir_keeps_the_outbox_there(examples, tmp_path):
    """--config with state_dir: the outbox file is made (and left) in that directory."""
    root, port = examples
    state = tmp_path / "state"
    config = tmp_path / "replay.toml"
    config.write_text(f'state_dir = "{state}"\ncallback_max_retries = 1\n')
    status, text = _replay(str(root / "busy.xml"), port, config_path=str(config))
    assert status == 0, text
    assert _state_line(text) == f"{state} (from {config})"
    assert (state / "outbox.sqlite3").is_file()


def test_a_config_without_state_dir_still_gets_a_temporary_one(tmp_path):
    """--config that does not name state_dir: its other settings apply, the state is temporary."""
    config = tmp_path / "replay.toml"
    config.write_text("callback_max_retries = 1\n")
    replay = Replay(ReplayOptions(document="a.xml", config_path=str(config)))
    try:
        settings = replay._settings("http://127.0.0.1:1", "http://127.0.0.1:1/a.xml")
        assert settings.callback_max_retries == 1
        assert settings.state_dir == replay.temp_state_dir
    finally:
        replay.stop()
