"""A room's recording (rooms/recordings.py RoomRecording) through the Room: recordWhenAlone
"false" pauses it while one member is left and resumes it at two, and what the record callback
then says. Plain pytest: no gevent, no sockets."""

from __future__ import annotations

import logging

import attrs

from plivoxml_fs.rooms.model import CommandDone
from rooms.test_room import RECORDED, T0, added, cmds, cmds_of, event, hooks, make_room, seat

ALONE = attrs.evolve(RECORDED, record_when_alone=False)
PATH = "/rec/uid-1_rec-1.wav"
PAUSE = f"conference room1 recording pause {PATH}"
RESUME = f"conference room1 recording resume {PATH}"


def running_pair(settings=ALONE):
    """a alone, then b: b starts the recording, it is answered and FreeSWITCH runs it."""
    room = make_room(settings)
    room.join(seat("a", settings), T0)
    added(room, "a", 1, size=1, now=T0 + 1)
    room.join(seat("b", settings), T0 + 2)
    (start,) = cmds_of(added(room, "b", 2, size=2, now=T0 + 2))
    room.apply(CommandDone(start.token, f"+OK Record file {PATH}\n"), T0 + 2)
    assert event(room, "start-recording", now=T0 + 2, Path=PATH) == []
    return room


def test_alone_the_recording_pauses_and_two_resume_it() -> None:
    """b leaves (the room is down to a): `recording pause`; c enters: `recording resume`;
    stop-recording: FreeSWITCH's Milliseconds-Elapsed (the audio, pauses left out) is the
    duration, and RecordingEndMs is when it ended (start + audio + the paused time)."""
    room = running_pair()
    (pause,) = cmds_of(event(room, "del-member", now=T0 + 5, member_id=2, size=1))
    assert pause.cmd == PAUSE and pause.call_uuid == "b"
    room.apply(CommandDone(pause.token, f"+OK Pause recording file {PATH}\n"), T0 + 5)
    assert event(room, "pause-recording", now=T0 + 5, Path=PATH) == []
    room.join(seat("c", ALONE), T0 + 9)
    decisions = added(room, "c", 3, size=2, now=T0 + 9)
    assert cmds(decisions) == [RESUME]
    assert event(room, "resume-recording", now=T0 + 9, Path=PATH) == []
    ((kind, params),) = hooks(event(room, "stop-recording", now=T0 + 12, Path=PATH,
                                    Milliseconds_Elapsed="6000"))
    assert kind == "conference-record" and params["CallUUID"] == "b"
    assert (params["RecordingDurationMs"], params["RecordingDuration"]) == ("6000", "6")
    start_ms = int((T0 + 2) * 1000)
    assert params["RecordingStartMs"] == str(start_ms)
    assert params["RecordingEndMs"] == str(start_ms + 6000 + 4000)


def test_recording_when_alone_true_never_pauses() -> None:
    """recordWhenAlone="true" (the default): a room down to one member goes on recording."""
    room = make_room(RECORDED)
    room.join(seat("a", RECORDED), T0)
    (start,) = cmds_of(added(room, "a", 1, size=1))
    room.apply(CommandDone(start.token, "+OK Record file"), T0 + 1)
    event(room, "start-recording", Path=PATH)
    room.join(seat("b", RECORDED), T0)
    assert cmds(added(room, "b", 2, size=2)) == []
    assert cmds(event(room, "del-member", member_id=2, size=1)) == []


def test_the_last_member_leaving_is_no_pause() -> None:
    """Down to 0 members the room ends and its recording with it: no pause is sent."""
    room = running_pair()
    assert cmds(event(room, "del-member", member_id=2, size=1)) == [PAUSE]
    assert cmds(event(room, "del-member", member_id=1, size=0)) == []


def test_a_pause_waits_for_the_recorder_to_run() -> None:
    """b leaves before FreeSWITCH's start-recording (`recording pause` would find no
    recording yet): the pause goes once start-recording comes."""
    room = make_room(ALONE)
    room.join(seat("a", ALONE), T0)
    added(room, "a", 1, size=1)
    room.join(seat("b", ALONE), T0)
    (start,) = cmds_of(added(room, "b", 2, size=2))
    assert cmds(event(room, "del-member", member_id=2, size=1)) == []
    assert cmds(room.apply(CommandDone(start.token, "+OK Record file"), T0 + 2)) == []
    assert cmds(event(room, "start-recording", Path=PATH)) == [PAUSE]


def test_one_pause_or_resume_at_a_time_ends_in_what_the_room_asks() -> None:
    """c enters while the pause is on its way: nothing more is sent until pause-recording
    comes, which sends the resume; a second pause-recording sends nothing more."""
    room = running_pair()
    assert cmds(event(room, "del-member", member_id=2, size=1)) == [PAUSE]
    room.join(seat("c", ALONE), T0)
    assert cmds(added(room, "c", 3, size=2)) == []
    assert cmds(event(room, "pause-recording", Path=PATH)) == [RESUME]
    assert cmds(event(room, "resume-recording", Path=PATH)) == []
    assert cmds(event(room, "pause-recording", Path="/elsewhere.wav")) == []


def test_a_refused_pause_is_a_warning_and_the_next_change_tries_again(caplog) -> None:
    """`recording pause` answered -ERR non-existant: one WARNING naming the room and the
    command; the next time the room's size changes the pause is asked again."""
    room = running_pair()
    (pause,) = cmds_of(event(room, "del-member", member_id=2, size=1))
    with caplog.at_level(logging.WARNING, logger="plivoxml_fs.rooms"):
        room.apply(CommandDone(pause.token, f"+OK Pause recording file {PATH}\n"
                               f"-ERR non-existant recording '{PATH}'\n"), T0 + 3)
    (line,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert line.startswith(f"conference room1: {PAUSE}: +OK Pause")
    assert cmds(event(room, "del-member", member_id=9, size=1)) == [PAUSE]


def test_a_lost_connection_while_paused_leaves_the_pause_out_of_the_duration() -> None:
    """The inbound connection is lost while the recording is paused: by our clock, the
    duration is the time recorded (start to now, less the pause)."""
    room = running_pair()
    event(room, "del-member", now=T0 + 4, member_id=2, size=1)
    event(room, "pause-recording", now=T0 + 4, Path=PATH)
    ((_, params),) = hooks(room.lost_connection(T0 + 10))
    assert params["RecordingDurationMs"] == "2000"
    assert params["RecordingEndMs"] == str(int((T0 + 10) * 1000))


def test_the_component_alone_as_another_kind_of_room_would_use_it() -> None:
    """RoomRecording without a Room (as a MultiPartyCall room can hold one): its own `send`,
    Policy(start_at=2) without pause_alone starts with the second member and never pauses."""
    from plivoxml_fs.config import Settings
    from plivoxml_fs.rooms.model import Command, Member, RoomContext
    from plivoxml_fs.rooms.recordings import Policy, RoomRecording

    sent = []

    def send(sub, *args, call_uuid="", token=None):
        sent.append(" ".join((sub, *args)))
        return Command(f"conference mpc1 {sent[-1]}", f"{token}#{len(sent)}", call_uuid)

    ctx = RoomContext(Settings(record_base_url="http://r/", recordings_dir="/rec"),
                      new_id=lambda: "rec-9")
    rec = RoomRecording("mpc1", ctx, send, Policy("mp3", start_at=2))
    first = Member(seat("a"), member_id=1, joined_at=T0)
    second = Member(seat("b"), member_id=2, joined_at=T0 + 1)
    assert rec.entered(first, 1, "uid-9") == [] and rec.recording is None
    (start,) = rec.entered(second, 2, "uid-9")
    assert start.cmd == "conference mpc1 recording start /rec/uid-9_rec-9.mp3" and rec.pending
    assert rec.answered(CommandDone(start.token, "+OK Record file")) == [] and rec.owed
    assert rec.sized(1) == [] and sent == ["recording start /rec/uid-9_rec-9.mp3"]
