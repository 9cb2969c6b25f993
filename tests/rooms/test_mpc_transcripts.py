"""MPC transcription decisions (rooms/mpc_transcripts.py) inside an MPC room: which files are
transcribed, to which URL, named by which participant."""

from __future__ import annotations

from plivoxml_fs.rooms.model import Role, Transcribe
from rooms.test_mpc import T0
from rooms.test_mpc_recording import answer, commands_of, enter, make, start_recording


def transcribes(decisions) -> list[Transcribe]:
    return [d for d in decisions if isinstance(d, Transcribe)]


def finish(room, now, calls=("c1",)):
    """The calls leave (the MPC ends); FreeSWITCH answers the stop and the file's length."""
    gone = []
    for call in calls:
        gone += room.leave(call, now, hung_up=True)[1]
    length = answer(room, gone, now + 0.4)
    return answer(room, length, now + 0.5, text="9980")


def test_the_mpc_recording_is_transcribed_once_per_url_asked_for():
    room = make()
    room.decisions = enter(room, "c1", 5, T0 + 1, transcript=True,
                           transcription_url="http://app/tx")
    started = start_recording(room, T0 + 2)
    assert transcribes(started) == []
    enter(room, "a1", 6, T0 + 3, Role.AGENT, transcript=True, transcription_url="http://app/tx")
    enter(room, "a2", 7, T0 + 3, Role.AGENT, transcript=True, transcription_url="http://b/tx")
    enter(room, "a3", 8, T0 + 3, Role.AGENT, transcription_url="http://c/tx")  # no transcript
    jobs = transcribes(finish(room, T0 + 12, ("a1", "a2", "a3", "c1")))
    assert [(j.url, j.call_uuid) for j in jobs] == [("http://app/tx", "c1"), ("http://b/tx", "a2")]
    (first, _) = jobs
    assert (first.path, first.recording_id, first.duration_ms, first.method) == (
        "/var/rec/id1_id2.wav", "id2", 9980, "POST")
    assert first.order_key == "mpc-id1"


def test_no_transcript_asked_no_job():
    room = make()
    room.decisions = enter(room, "c1", 5, T0 + 1, transcription_url="http://app/tx")
    start_recording(room, T0 + 2)
    assert transcribes(finish(room, T0 + 12)) == []


def _energy(decisions) -> list[str]:
    return [c.cmd for c in commands_of(decisions) if c.token.endswith(" energy")]


def test_a_transcribed_mpc_turns_every_members_energy_gate_off():
    """Once a participant asks for transcripts, each member in the room (and each joining
    later) gets `energy <id> 0`, once; the answers change nothing else; a refusal is a
    WARNING. Without a transcript asked, nobody's gate is touched."""
    room = make()
    first = enter(room, "c1", 5, T0 + 1)  # no transcript: its gate stays
    assert _energy(first) == []
    asked = enter(room, "a1", 6, T0 + 2, Role.AGENT, transcript=True,
                  transcription_url="http://app/tx")
    fs = room.fs_name
    assert sorted(_energy(asked)) == [f"conference {fs} energy 5 0", f"conference {fs} energy 6 0"]
    later = enter(room, "a2", 7, T0 + 3, Role.AGENT)
    assert _energy(later) == [f"conference {fs} energy 7 0"]
    energy = [c for c in commands_of(asked + later) if c.token.endswith(" energy")]
    assert answer(room, energy[:1], T0 + 3) == []
    assert answer(room, energy[1:], T0 + 3, text="-ERR Member 6 not found\n") == []
    again = enter(room, "a3", 8, T0 + 4, Role.AGENT)
    assert _energy(again) == [f"conference {fs} energy 8 0"]
