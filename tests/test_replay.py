"""`plivoxml-fs replay` end to end: embedded FreeSWITCH, daemon and web app in one process."""

from __future__ import annotations

import io

from plivoxml_fs.replay import ReplayOptions, run_replay

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
    """busy.xml hangs up with USER_BUSY without answering, and the callback says so."""
    root, port = examples
    status, text = _replay(str(root / "busy.xml"), port)
    assert status == 0, text
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
    """A document that does not validate ends the call and replay exits 1 naming the problem."""
    doc = tmp_path / "bad.xml"
    doc.write_text('<Response>\n  <Conference maxMembers="500">room</Conference>\n</Response>\n')
    status, text = _replay(str(doc), free_port)
    assert status == 1
    failed = [line for line in text.splitlines() if "FAILED" in line]
    assert len(failed) == 1
    assert "maxMembers: must be an integer 1..20 (got '500')" in failed[0]
    assert len(_callback_lines(text)) == 1  # the hangup callback still arrives


def test_unreachable_answer_url_fails_with_the_cause(free_port):
    """An answer URL answering 404 fails the call; replay exits 1 naming the URL and status."""
    port = free_port
    status, text = _replay(f"http://127.0.0.1:{port}/nowhere.xml", port)
    assert status == 1
    failed = [line for line in text.splitlines() if "FAILED" in line]
    assert len(failed) == 1
    assert "404" in failed[0] and "/nowhere.xml" in failed[0]
    assert len(_callback_lines(text)) == 1
