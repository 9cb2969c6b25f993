"""replay of calls that completed with warnings: exit 0, the warnings listed, --strict fails."""

from __future__ import annotations

from click.testing import CliRunner

from plivoxml_fs.cli import main
from plivoxml_fs.errors import ExitCode

#: Plays a file the web app does not have (FreeSWITCH: FILE NOT FOUND), then waits and hangs up.
MISSING_PLAY = """<Response>
    <Play>http://127.0.0.1:8089/sounds/missing.wav</Play>
    <Wait length="1"/>
    <Hangup/>
</Response>
"""
WARNING = "<Play> http://127.0.0.1:{port}/sounds/missing.wav: FreeSWITCH could not play it (FILE NOT FOUND)"


def _replay(tmp_path, *options: str):
    doc = tmp_path / "missing.xml"
    doc.write_text(MISSING_PLAY)
    result = CliRunner().invoke(main, ["replay", str(doc), "--http-port", "0",
                                       "--time-scale", "0.05", *options])
    (web,) = [ln for ln in result.output.splitlines() if " web app on http://127.0.0.1:" in ln]
    port = int(web.split("web app on http://127.0.0.1:", 1)[1].split(",", 1)[0])
    return result, WARNING.format(port=port)


def test_a_call_that_skipped_a_play_completes_and_lists_the_warning(tmp_path):
    """A <Play> FreeSWITCH cannot play is skipped as Plivo skips it: the Wait and the Hangup run,
    the call completes, replay exits 0 and lists the warning again at the end."""
    result, warning = _replay(tmp_path)
    assert result.exit_code == ExitCode.OK, result.output
    lines = result.output.rstrip().splitlines()
    text = result.output
    assert text.index("-> sendmsg playback") < text.index("-> sendmsg sleep 1000") \
        < text.index("-> sendmsg hangup")
    assert "CallStatus=completed" in text and "FAILED" not in text
    assert lines[-2].split(" replay     ", 1)[1].startswith("WARNING call1: call ")
    assert lines[-2].endswith(warning)
    assert lines[-1].endswith(" replay     1 call(s) completed, with 1 warning(s) listed above")


def test_strict_fails_a_run_whose_calls_completed_with_warnings(tmp_path):
    """--strict: the same run exits 8, with the warning listed and a FAILED line saying why."""
    result, warning = _replay(tmp_path, "--strict")
    assert result.exit_code == ExitCode.WARNINGS, result.output
    lines = result.output.rstrip().splitlines()
    assert lines[-2].endswith(warning)
    assert lines[-1].endswith(" replay     FAILED (--strict) 1 call(s) completed with 1 "
                              "warning(s), listed above")


def test_strict_passes_a_run_without_warnings(tmp_path):
    """--strict changes nothing for calls that completed without a warning: exit 0."""
    doc = tmp_path / "plain.xml"
    doc.write_text("<Response><Wait length=\"1\"/><Hangup/></Response>")
    result = CliRunner().invoke(main, ["replay", str(doc), "--http-port", "0",
                                       "--time-scale", "0.05", "--strict"])
    assert result.exit_code == ExitCode.OK, result.output
    assert result.output.rstrip().endswith(" replay     1 call(s) completed")
