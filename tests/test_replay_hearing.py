"""`plivoxml-fs replay --hearing` / `--hangup-after` and the callers' roles, with `<Conference>`
documents on the embedded FreeSWITCH (the call-centre ones are in test_replay_call_centre.py)."""

from __future__ import annotations

import io

from click.testing import CliRunner

from plivoxml_fs import cli
from plivoxml_fs.replay import Replay, ReplayOptions, run
from plivoxml_fs.replay_hearing import Role, role_of


def _run(root, port: int, documents, **options) -> tuple[int, str, Replay]:
    out = io.StringIO()
    first, *others = [str(root / d) for d in documents]
    replay = Replay(ReplayOptions(document=first, other_documents=tuple(others), http_port=port,
                                  time_scale=0.05, call_timeout_s=30, **options), out)
    status = run(replay)
    return status, out.getvalue(), replay


def _matrix(text: str) -> list[list[str]]:
    """The matrix rows the transcript ends with: [listener, cell, cell, ...]."""
    lines = [ln.split("hearing    ", 1)[1] for ln in text.splitlines() if "] hearing " in ln]
    start = next(i for i, ln in enumerate(lines) if ln.lstrip().startswith("heard by"))
    rows = []
    for ln in lines[start + 1:]:
        name, rest = ln.split(None, 1)
        rows.append([name, *[c for c in rest.split("  ") if c.strip()]])
    return rows


def test_moderated_room_everyone_hears_everyone(examples):
    """Two participants wait, the moderator joins: the measurement starts once all three are in
    the room, and each hears the two others' tones at a tone_stream's full level."""
    root, port = examples
    status, text, replay = _run(root, port, ["conference-participant.xml",
                                             "conference-participant.xml",
                                             "conference-moderator.xml"],
                                digits="*", digits_delay_s=4, hearing=True)
    assert status == 0, text
    hearing = replay.watch.result
    names = ["call1", "call2", "call3"]
    assert {n: hearing.heard_by(n) for n in names} == {
        n: {m for m in names if m != n} for n in names}, str(hearing)
    assert all(-10.6 < hearing.levels[a][b] < -9.8 for a in names for b in names if a != b)
    assert "call3 runs conference-moderator.xml: member of <Conference> demo-moderated" in text
    rows = _matrix(text)
    assert [r[0] for r in rows] == names
    assert rows[0][1].strip() == "(self)" and rows[0][2].strip().startswith("heard -10.")
    # measured after the moderator joined (the last caller in), before anyone left
    lines = text.splitlines()
    joined = next(i for i, ln in enumerate(lines) if "call3      <- event add-member" in ln)
    measured = next(i for i, ln in enumerate(lines) if "each caller plays its tone" in ln)
    left = next(i for i, ln in enumerate(lines) if "<- event del-member" in ln)
    assert joined < measured < left


def test_muted_room_nobody_hears_anybody(examples):
    """conference-muted.xml: both callers muted, so neither tone reaches the other."""
    root, port = examples
    status, text, replay = _run(root, port, ["conference-muted.xml"], callers=2, hearing=True)
    assert status == 0, text
    hearing = replay.watch.result
    assert hearing.heard_by("call1") == hearing.heard_by("call2") == set(), str(hearing)
    assert hearing.levels["call1"]["call2"] < -40 and hearing.levels["call2"]["call1"] < -40
    rows = _matrix(text)
    assert rows[0][2].strip().startswith("- ") and rows[1][1].strip().startswith("- ")


def test_recorded_room_has_every_caller_in_its_recording(examples):
    """conference-recorded.xml: the matrix ends with the room's recording, which holds both
    callers' tones (read from the file the record callback named)."""
    root, port = examples
    status, text, _ = _run(root, port, ["conference-recorded.xml"], callers=2, hearing=True)
    assert status == 0, text
    rows = _matrix(text)
    assert rows[-1][0] == "recording", rows
    assert [c.split()[0] for c in rows[-1][1:]] == ["heard", "heard"], rows


def test_callers_that_never_meet_fail_the_run(examples):
    """--hearing with a document that joins no room: the run fails naming the caller."""
    root, port = examples
    status, text, replay = _run(root, port, ["welcome.xml"], hearing=True)
    assert status == 7, text
    assert replay.watch.result is None
    assert "FAILED hearing: not measured: call1 ended without all callers in their rooms" in text
    assert "call1 runs welcome.xml: joins no room" in text


def test_calls_ending_during_the_measurement_fail_the_run(examples, monkeypatch):
    """The room ends while the tones play (a measurement far longer than the room's 4 s time
    limit): no matrix, and the run fails saying so rather than passing without one."""
    import functools

    from plivoxml_fs import hearing, replay_hearing

    monkeypatch.setattr(replay_hearing, "measure",
                        functools.partial(hearing.measure, tone_ms=600_000))
    root, port = examples
    status, text, replay = _run(root, port, ["conference-muted.xml"], callers=2, hearing=True)
    assert status == 7, text
    assert replay.watch.result is None
    assert "FAILED hearing: not measured: " in text, text
    assert "who hears whom" not in text


def test_hangup_after_hangs_the_callers_up(examples, tmp_path):
    """--hangup-after: a room without a time limit ends because its callers hang up, after
    the measurement; the run completes."""
    root, port = examples
    (root / "open-room.xml").write_text(
        "<Response><Conference>open-room</Conference><Speak>never heard</Speak></Response>")
    status, text, replay = _run(root, port, ["open-room.xml"], callers=2, hearing=True,
                                hangup_after_s=0.2)
    assert status == 0, text
    assert "2 call(s) completed" in text
    lines = text.splitlines()
    measured = next(i for i, ln in enumerate(lines) if "measured (the matrix" in ln)
    hung = [i for i, ln in enumerate(lines) if "hangs up (--hangup-after 0.2)" in ln]
    assert len(hung) == 2 and measured < hung[0]
    assert "call1/A    hangs up" in lines[hung[0]] and "call2/A    hangs up" in lines[hung[1]]
    assert replay.watch.result.heard_by("call1") == {"call2"}


def test_roles_come_from_the_documents(tmp_path):
    """The first room verb's role, as Plivo spells it; Conference members have none."""
    mpc = tmp_path / "agent.xml"
    mpc.write_text('<Response><Speak>hi</Speak><MultiPartyCall role="aGeNt">'
                   "desk-1</MultiPartyCall></Response>")
    conf = tmp_path / "member.xml"
    conf.write_text("<Response><Conference>room-1</Conference></Response>")
    broken = tmp_path / "broken.xml"
    broken.write_text("<Response><MultiPartyCall>no role</MultiPartyCall></Response>")
    assert role_of(str(mpc)) == Role("MultiPartyCall", "desk-1", "Agent")
    assert role_of(str(mpc)).describe() == "Agent in <MultiPartyCall> desk-1"
    assert role_of(str(conf)) == Role("Conference", "room-1")
    assert role_of(str(broken)) == Role() and role_of(str(tmp_path / "none.xml")) == Role()


def test_hearing_tells_at_most_six_callers_apart(examples):
    """One tone per caller: seven callers with --hearing is a usage error naming the limit."""
    root, _ = examples
    result = CliRunner().invoke(cli.main, ["replay", str(root / "conference-muted.xml"),
                                           "--callers", "7", "--hearing"])
    assert result.exit_code == 2, result.output
    assert "at most 6 callers can be told apart by their tones (got 7)" in result.output
    from plivoxml_fs import replay_hearing

    assert cli.HEARING_MAX_CALLERS == replay_hearing.MAX_CALLERS
