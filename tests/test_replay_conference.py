"""`plivoxml-fs replay` with the conference examples: several callers, several documents."""

from __future__ import annotations

import io

import pytest

from plivoxml_fs.replay import ReplayOptions, run_replay


def _replay(root, port: int, document: str, *others: str, **options) -> tuple[int, str]:
    out = io.StringIO()
    status = run_replay(
        ReplayOptions(document=str(root / document),
                      other_documents=tuple(str(root / d) for d in others), http_port=port,
                      time_scale=0.05, call_timeout_s=30, **options),
        out,
    )
    return status, out.getvalue()


def test_each_caller_runs_its_own_document(examples):
    """Two documents: caller 1 dials To, caller 2 To+1, each gets its own document (named in
    the transcript) and both complete."""
    root, port = examples
    status, text = _replay(root, port, "conference-muted.xml", "conference-digits.xml",
                           digits="123", digits_delay_s=0.5)
    assert status == 0, text
    assert "loopback/2000/default" in text and "loopback/2001/default" in text
    assert f"call1      verb <Conference> at http://127.0.0.1:{port}/conference-muted.xml" in text
    assert f"call2      verb <Conference> at http://127.0.0.1:{port}/conference-digits.xml" in text
    (digits,) = [ln for ln in text.splitlines() if "ConferenceAction=digits" in ln]
    assert digits.split("]", 1)[1].split()[0] == "call2" and "ConferenceDigitsMatch=123" in digits
    assert "2 call(s) completed" in text


def test_several_documents_must_be_files(examples, tmp_path):
    """A URL among several documents is refused with the reason."""
    root, port = examples
    with pytest.raises(FileNotFoundError, match="with several documents each must be a file"):
        run_replay(ReplayOptions(document=str(root / "welcome.xml"),
                                 other_documents=("http://example.com/x.xml",), http_port=port),
                   io.StringIO())


def test_recorded_room_gets_a_record_url_the_web_app_serves(examples):
    """replay starts no operator server, so its web app serves the recordings: RecordUrl names
    it, and fetching that URL gives the WAV."""
    import urllib.request

    from plivoxml_fs.replay import Replay

    root, port = examples
    replay = Replay(ReplayOptions(document=str(root / "conference-recorded.xml"), http_port=port,
                                  time_scale=0.05, call_timeout_s=30), io.StringIO())
    try:
        replay.start()
        assert replay.run() == 0
        urls = {h.params["RecordUrl"] for h in replay.webapp.hits if "RecordUrl" in h.params}
        assert urls and all(u.startswith(f"http://127.0.0.1:{port}/recordings/") for u in urls)
        with urllib.request.urlopen(urls.pop(), timeout=5) as reply:
            assert reply.headers["Content-Type"] == "audio/wav"
            assert reply.read(4) == b"RIFF"
    finally:
        replay.stop()
