"""The room engine: a Room's decisions for each input, under plain pytest (no gevent, no sockets)."""

from __future__ import annotations

import logging

import attrs
import pytest

from plivoxml_fs.config import Settings
from plivoxml_fs.fs.events import ConferenceEvent, Dtmf
from plivoxml_fs.rooms.model import (
    ArmTimer,
    Command,
    CommandDone,
    Emit,
    ExitReason,
    Relation,
    Release,
    RoomContext,
    RoomSettings,
    RoomState,
    Seat,
    Transcribe,
)
from plivoxml_fs.rooms.room import Room
from plivoxml_fs.testing import conference_event, dtmf_event

NAME, UID, T0 = "room1", "uid-1", 1_000.0
PLAIN = RoomSettings(max_members=20, time_limit_s=600, wait_sound=None, record=False,
                     record_file_format="mp3")
RECORDED = attrs.evolve(PLAIN, record=True, record_file_format="wav")


def make_room(settings: RoomSettings = PLAIN, **daemon) -> Room:
    values = {"record_base_url": "http://rec.example.com/r/", "recordings_dir": "/rec"}
    ctx = RoomContext(Settings(**{**values, **daemon}), new_id=lambda: "rec-1")
    return Room(NAME, ctx, settings, T0)


def seat(call: str, settings: RoomSettings = PLAIN, **kw) -> Seat:
    return Seat(name=NAME, call_uuid=call, settings=settings, callback_url="http://app/cb",
                call_params={"CallUUID": call, "To": "5000"}, **kw)


def added(room: Room, call: str, member_id: int, size: int = 1, now: float = T0 + 1, seq=None):
    headers = {"Event_Sequence": str(seq)} if seq else {}
    event = conference_event("add-member", NAME, uid=UID, member_id=member_id, uuid=call,
                             size=size, **headers)
    return room.apply(ConferenceEvent.from_event(event), now)


def event(room: Room, action: str, now: float = T0 + 2, **kw):
    return room.apply(ConferenceEvent.from_event(conference_event(action, NAME, uid=UID, **kw)),
                      now)


def hooks(decisions) -> list[tuple[str, dict]]:
    return [(d.webhook.kind, dict(d.webhook.params)) for d in decisions if isinstance(d, Emit)]


def cmds(decisions) -> list[str]:
    return [d.cmd for d in decisions if isinstance(d, Command)]


def test_the_first_claimants_settings_win_and_a_later_difference_is_logged(caplog) -> None:
    """A second caller asking maxMembers=5 gets the room's 20, with one INFO line naming both."""
    room = make_room()
    room.join(seat("a"), T0)
    with caplog.at_level(logging.INFO, logger="plivoxml_fs.rooms"):
        room.join(seat("b", attrs.evolve(PLAIN, max_members=5)), T0 + 1)
    assert room.settings.max_members == 20 and room.is_creator("a")
    (line,) = [r.getMessage() for r in caplog.records]
    assert line == ("conference room1: this call asks for other room settings than the first "
                    "caller (max_members: first 20, this 5); the first caller's are kept")


def test_the_first_join_arms_the_time_limit_from_the_claim() -> None:
    """The time limit counts from the first claim: one ArmTimer at claim + timeLimit."""
    room = make_room()
    _, decisions = room.join(seat("a"), T0)
    assert decisions == [ArmTimer(T0 + 600)]
    assert room.join(seat("b"), T0 + 5)[1] == []


def test_add_member_posts_the_enter_callback_once_whichever_socket_brings_it() -> None:
    """add-member: the enter callback with the room, member and call ids and the call's
    parameters; the same event again (inbound and own socket) decides nothing."""
    room = make_room()
    room.join(seat("a"), T0)
    first = added(room, "a", 7, seq=41)
    assert hooks(first) == [("conference-enter", {
        "CallUUID": "a", "To": "5000", "ConferenceAction": "enter", "ConferenceName": NAME,
        "ConferenceUUID": UID, "ConferenceMemberID": "7"})]
    assert list(hooks(first)[0][1]) == ["CallUUID", "To", "ConferenceAction", "ConferenceName",
                                        "ConferenceUUID", "ConferenceMemberID"]
    assert added(room, "a", 7, seq=41) == []
    assert added(room, "a", 7, seq=42) == []  # a second add-member for a seated member
    assert room.state == RoomState.OPEN and room.uid == UID
    assert room.member("a").joined_at == T0 + 1


def test_max_members_one_locks_the_room_once_its_member_entered() -> None:
    """maxMembers=1 (FreeSWITCH refuses that limit): `lock` when the member enters."""
    room = make_room(attrs.evolve(PLAIN, max_members=1))
    room.join(seat("a", attrs.evolve(PLAIN, max_members=1)), T0)
    assert cmds(added(room, "a", 1)) == ["conference room1 lock"]


def test_send_digits_go_to_the_member_once_it_entered() -> None:
    """sendDigits: `conference <room> dtmf <id> <digits>` after the enter callback."""
    room = make_room()
    room.join(seat("a", send_digits="1w2#"), T0)
    decisions = added(room, "a", 3)
    assert [type(d) for d in decisions] == [Emit, Command]
    assert cmds(decisions) == ["conference room1 dtmf 3 1w2#"]


def test_the_room_starts_its_recording_and_holds_the_enter_until_it_runs() -> None:
    """record="true": `recording start <dir>/<uid>_<id>.wav` (its folder made first); the enter
    callback waits for the answer and then carries RecordUrl and RecordingID."""
    room = make_room(RECORDED)
    room.join(seat("a", RECORDED), T0)
    decisions = added(room, "a", 1)
    (start,) = [d for d in decisions if isinstance(d, Command)]
    assert start.cmd == "conference room1 recording start /rec/uid-1_rec-1.wav"
    assert start.make_dir == "/rec" and start.call_uuid == "a"
    assert hooks(decisions) == []
    answered = room.apply(CommandDone(start.token, "+OK Record file /rec/uid-1_rec-1.wav\n"),
                          T0 + 1)
    ((kind, params),) = hooks(answered)
    assert kind == "conference-enter"
    assert (params["RecordUrl"], params["RecordingID"]) == (
        "http://rec.example.com/r/uid-1_rec-1.wav", "rec-1")
    assert room.recording_live


def test_stop_recording_posts_the_record_callback_to_the_member_who_started_it() -> None:
    """stop-recording: ConferenceAction=record with FreeSWITCH's duration, to the starter."""
    room = make_room(RECORDED)
    room.join(seat("a", RECORDED), T0)
    (start,) = cmds_of(added(room, "a", 1))
    room.apply(CommandDone(start.token, "+OK Record file"), T0 + 1)
    room.join(seat("b", RECORDED), T0)
    added(room, "b", 2, size=2)
    decisions = event(room, "stop-recording", Path="/rec/uid-1_rec-1.wav",
                      Milliseconds_Elapsed="2500")
    ((kind, params),) = hooks(decisions)
    assert kind == "conference-record" and params["CallUUID"] == "a"
    assert (params["RecordingDurationMs"], params["RecordingDuration"]) == ("2500", "2")
    assert params["RecordingStartMs"] == str(int((T0 + 1) * 1000))
    assert event(room, "stop-recording", Path="/rec/uid-1_rec-1.wav") == []  # once


def cmds_of(decisions) -> list[Command]:
    return [d for d in decisions if isinstance(d, Command)]


def test_a_refused_recording_is_logged_and_the_enter_carries_no_record_url(caplog) -> None:
    """`recording start` answered -ERR: one ERROR naming the call and the room; the held enter
    goes without RecordUrl; no record callback ever."""
    room = make_room(RECORDED)
    room.join(seat("a", RECORDED), T0)
    (start,) = cmds_of(added(room, "a", 1))
    with caplog.at_level(logging.ERROR):
        answered = room.apply(CommandDone(start.token, "-ERR [Errno 20] Not a directory"),
                              T0 + 1)
    ((_, params),) = hooks(answered)
    assert "RecordUrl" not in params
    assert [r.getMessage() for r in caplog.records] == [
        "call a: conference room1: the recording could not start: -ERR [Errno 20] Not a "
        "directory"]
    assert event(room, "stop-recording", Path="/rec/uid-1_rec-1.wav") == []


def test_no_url_to_serve_a_recording_means_no_recording(caplog) -> None:
    """No record_base_url and no operator server: no recording start, one ERROR saying why."""
    room = make_room(RECORDED, record_base_url="", metrics_port=0)
    room.join(seat("a", RECORDED), T0)
    with caplog.at_level(logging.ERROR):
        decisions = added(room, "a", 1)
    assert cmds(decisions) == [] and "RecordUrl" not in hooks(decisions)[0][1]
    (line,) = [r.getMessage() for r in caplog.records]
    assert line.startswith("call a: conference room1: the recording could not start: no URL")


def test_record_when_alone_false_waits_for_the_second_member() -> None:
    """recordWhenAlone="false": the member alone is not recorded; the one making two starts it
    and owns its record callback."""
    alone = attrs.evolve(RECORDED, record_when_alone=False)
    room = make_room(alone)
    room.join(seat("a", alone), T0)
    assert cmds(added(room, "a", 1, size=1)) == []
    room.join(seat("b", alone), T0)
    (start,) = cmds_of(added(room, "b", 2, size=2))
    assert start.call_uuid == "b" and room.recording.call_uuid == "b"


def test_start_recording_with_an_error_forgets_the_recording(caplog) -> None:
    """start-recording with Error (the file cannot be opened): ERROR naming the file; later
    callbacks carry no RecordUrl and no record callback comes."""
    room = make_room(RECORDED)
    room.join(seat("a", RECORDED), T0)
    (start,) = cmds_of(added(room, "a", 1))
    room.apply(CommandDone(start.token, "+OK Record file"), T0 + 1)
    with caplog.at_level(logging.ERROR):
        event(room, "start-recording", Path="/rec/uid-1_rec-1.wav",
              Error="File could not be opened for recording")
    assert [r.getMessage() for r in caplog.records] == [
        "conference room1: FreeSWITCH could not record to /rec/uid-1_rec-1.wav: File could "
        "not be opened for recording"]
    exit_, decisions = room.leave("a", T0 + 3, hung_up=False)
    assert "RecordUrl" not in exit_.params and "RecordUrl" not in hooks(decisions)[0][1]


def test_the_time_limit_kicks_every_member_in_the_room() -> None:
    """tick before the limit re-arms; at the limit each member is kicked once (time-limit)."""
    room = make_room(attrs.evolve(PLAIN, time_limit_s=60))
    for call, mid in (("a", 1), ("b", 2)):
        room.join(seat(call, attrs.evolve(PLAIN, time_limit_s=60)), T0)
        added(room, call, mid)
    assert room.tick(T0 + 30) == [ArmTimer(T0 + 60)]
    decisions = room.tick(T0 + 60)
    assert cmds(decisions) == ["conference room1 kick 1", "conference room1 kick 2"]
    assert [d.reason for d in decisions if isinstance(d, Release)] == [ExitReason.TIME_LIMIT] * 2
    assert room.tick(T0 + 61) == []
    assert room.leave("a", T0 + 62, hung_up=False)[0].reason == ExitReason.TIME_LIMIT


def test_a_member_entering_after_the_limit_is_kicked_at_once() -> None:
    """A member whose add-member comes after the room's time limit is kicked on entry."""
    short = attrs.evolve(PLAIN, time_limit_s=10)
    room = make_room(short)
    room.join(seat("a", short), T0)
    assert cmds(added(room, "a", 1, now=T0 + 11)) == ["conference room1 kick 1"]


def test_star_with_hangup_on_star_hups_the_member() -> None:
    """`*` from a hangupOnStar member: `hup <id>`, released with hangup-on-star; a second `*`
    decides nothing more."""
    room = make_room()
    room.join(seat("a", hangup_on_star=True), T0)
    added(room, "a", 4)
    star = Dtmf.from_event(dtmf_event("*", "a"))
    decisions = room.apply(star, T0 + 2)
    assert cmds(decisions) == ["conference room1 hup 4"]
    assert decisions[0] == Release("a", 4, ExitReason.HANGUP_ON_STAR)
    assert room.apply(star, T0 + 3) == []
    event(room, "hup-member", member_id=4, uuid="a")
    assert room.leave("a", T0 + 3, hung_up=False)[0].reason == ExitReason.HANGUP_ON_STAR


def test_digits_match_posts_the_pattern() -> None:
    """digitsMatch="12": pressing 3, 1, 2 posts ConferenceAction=digits with 12."""
    room = make_room()
    room.join(seat("a", digits_match=("12",)), T0)
    added(room, "a", 4)
    decided = [room.apply(Dtmf.from_event(dtmf_event(d, "a")), T0 + 2) for d in "312"]
    assert [hooks(d) for d in decided[:2]] == [[], []]
    ((kind, params),) = hooks(decided[2])
    assert (kind, params["ConferenceDigitsMatch"]) == ("conference-digits", "12")


def test_digits_before_entering_decide_nothing() -> None:
    """Digits of a seated member that is not in the room yet are not the room's."""
    room = make_room()
    room.join(seat("a", hangup_on_star=True), T0)
    assert room.apply(Dtmf.from_event(dtmf_event("*", "a")), T0) == []


def test_floor_change_posts_the_floor_callback_once() -> None:
    """floor-change to a floorEvent member: one floor callback, even when the event comes
    twice; another member's floor does not call it."""
    room = make_room()
    room.join(seat("a", floor_event=True), T0)
    room.join(seat("b"), T0)
    added(room, "a", 1)
    added(room, "b", 2, size=2)
    assert [k for k, _ in hooks(event(room, "floor-change", New_ID="1"))] == ["conference-floor"]
    assert event(room, "floor-change", New_ID="1") == []
    assert event(room, "floor-change", New_ID="2") == []
    assert len(hooks(event(room, "floor-change", New_ID="1"))) == 1


def test_leaving_without_entering_is_room_full() -> None:
    """A seat whose app completed with no add-member: room-full, no exit callback, no room id."""
    room = make_room()
    room.join(seat("a"), T0)
    added(room, "a", 1)
    room.join(seat("c"), T0)
    exit_, decisions = room.leave("c", T0 + 1, hung_up=False)
    assert exit_.reason == ExitReason.ROOM_FULL and decisions == []
    assert dict(exit_.params) == {"ConferenceName": NAME, "ConferenceUUID": "",
                                  "ConferenceMemberID": ""}


def test_leave_after_the_room_ended_or_a_kick_or_a_hangup() -> None:
    """Why a member left: kicked (kick-member), conference-ended (destroy), hangup (the call)."""
    room = make_room()
    for call, mid in (("a", 1), ("b", 2), ("c", 3)):
        room.join(seat(call), T0)
        added(room, call, mid)
    event(room, "kick-member", member_id=1, uuid="a")
    event(room, "conference-destroy")
    assert room.state == RoomState.ENDED
    reasons = [room.leave(c, T0 + 3, hung_up=c == "c") for c in "abc"]
    assert [e.reason for e, _ in reasons] == [ExitReason.KICKED, ExitReason.ENDED,
                                              ExitReason.HANGUP]
    assert [hooks(d)[0][0] for _, d in reasons] == ["conference-exit"] * 3
    assert room.done


def test_the_exit_of_a_member_whose_enter_is_held_posts_the_enter_first() -> None:
    """A member leaving before `recording start` is answered: enter, then exit."""
    room = make_room(RECORDED)
    room.join(seat("a", RECORDED), T0)
    added(room, "a", 1)
    _, decisions = room.leave("a", T0 + 1, hung_up=True)
    assert [k for k, _ in hooks(decisions)] == ["conference-enter", "conference-exit"]


def test_lost_connection_reports_a_recording_by_the_daemon_clock(caplog) -> None:
    """The inbound connection is lost mid-recording: the record callback at once, its duration
    by our clock, with a WARNING saying so; once."""
    room = make_room(RECORDED)
    room.join(seat("a", RECORDED), T0)
    (start,) = cmds_of(added(room, "a", 1))
    room.apply(CommandDone(start.token, "+OK"), T0 + 1)
    with caplog.at_level(logging.WARNING):
        ((_, params),) = hooks(room.lost_connection(T0 + 4))
    assert params["RecordingDurationMs"] == "3000"
    assert "the inbound connection was lost while recording rec-1" in caplog.text
    assert room.lost_connection(T0 + 5) == []


def test_mute_hold_and_relate_are_commands_and_events_keep_the_state() -> None:
    """The control API's inputs: mute/hold/relate commands; the events set the member's flags;
    relations are kept per member and cleared by CLEAR."""
    room = make_room()
    room.join(seat("a"), T0)
    room.join(seat("b"), T0)
    added(room, "a", 1)
    added(room, "b", 2, size=2)
    assert cmds(room.mute(1)) == ["conference room1 mute 1"]
    assert cmds(room.hold(2, on=False)) == ["conference room1 unhold 2"]
    assert cmds(room.relate(1, 2, Relation.NOHEAR)) == ["conference room1 relate 1 2 nohear"]
    assert room.member("a").relations == {2: Relation.NOHEAR}
    room.relate(1, 2, Relation.CLEAR)
    assert room.member("a").relations == {}
    event(room, "mute-member", member_id=1, uuid="a")
    event(room, "hold-member", member_id=2, uuid="b")
    assert (room.member("a").muted, room.member("b").held) == (True, True)


def test_a_failed_command_is_one_warning(caplog) -> None:
    """A command FreeSWITCH refuses: one WARNING naming the member's call and the command, or
    the room when the command is about no member."""
    room = make_room(attrs.evolve(PLAIN, max_members=1))
    room.join(seat("a", attrs.evolve(PLAIN, max_members=1)), T0)
    (lock,) = cmds_of(added(room, "a", 1))
    (mute,) = cmds_of(room.mute(1))
    with caplog.at_level(logging.WARNING):
        room.apply(CommandDone(lock.token, "-ERR Conference room1 not found\n"), T0)
        room.apply(CommandDone(mute.token, "-ERR Non-Existant ID 1\n"), T0)
    assert [r.getMessage() for r in caplog.records] == [
        "call a: conference room1 lock: -ERR Conference room1 not found",
        "conference room1: conference room1 mute 1: -ERR Non-Existant ID 1"]
    assert caplog.records[0].call_uuid == "a"


def test_other_inputs_are_refused() -> None:
    """Anything but a ConferenceEvent, Dtmf or CommandDone is a TypeError naming the room."""
    with pytest.raises(TypeError, match="room room1: cannot apply str"):
        make_room().apply("add-member", T0)


def test_a_member_entering_while_the_recording_starts_gets_its_record_url() -> None:
    """Two members enter before `recording start` is answered: both enter callbacks wait for
    it and both carry RecordUrl (no enter can see a recording half made)."""
    room = make_room(RECORDED)
    for call in "ab":
        room.join(seat(call, RECORDED), T0)
    (start,) = cmds_of(added(room, "a", 1))
    assert hooks(added(room, "b", 2, size=2)) == []
    answered = room.apply(CommandDone(start.token, "+OK Record file"), T0 + 1)
    assert [(k, p["CallUUID"], p["RecordingID"]) for k, p in hooks(answered)] == [
        ("conference-enter", "a", "rec-1"), ("conference-enter", "b", "rec-1")]


def recording_room(call: str = "a") -> tuple[Room, Command]:
    room = make_room(RECORDED)
    room.join(seat(call, RECORDED), T0)
    (start,) = cmds_of(added(room, call, 1))
    room.apply(CommandDone(start.token, "+OK Record file"), T0 + 1)
    return room, start


def test_a_stop_recording_after_the_destroy_still_posts_the_record_callback() -> None:
    """The recorder thread may finish after conference-destroy: its stop still reports."""
    room, _ = recording_room()
    event(room, "conference-destroy")
    ((kind, _),) = hooks(event(room, "stop-recording", Path="/rec/uid-1_rec-1.wav",
                               Milliseconds_Elapsed="900"))
    assert kind == "conference-record"


def test_an_overdue_stop_recording_is_reported_by_the_daemon_clock(caplog) -> None:
    """The last member left a recorded room and no stop-recording came within
    command_timeout_s (the inbound connection was down): the record callback goes anyway,
    timed by our clock, with a WARNING; it is not posted twice."""
    room, _ = recording_room()
    _, decisions = room.leave("a", T0 + 5, hung_up=True)
    (timer,) = [d for d in decisions if isinstance(d, ArmTimer)]
    assert timer.at == T0 + 5 + Settings().command_timeout_s
    assert room.tick(timer.at - 1) == []
    with caplog.at_level(logging.WARNING):
        ((kind, params),) = hooks(room.tick(timer.at))
    assert (kind, params["RecordingDurationMs"]) == ("conference-record",
                                                     str(int((timer.at - T0 - 1) * 1000)))
    assert "no stop-recording came for rec-1" in caplog.text
    assert room.done and event(room, "stop-recording", Path="/rec/uid-1_rec-1.wav") == []


TRANSCRIBED = attrs.evolve(RECORDED, transcription_type="hybrid",
                           transcription_url="http://app/tx", transcription_method="GET")


@pytest.mark.parametrize("callback_url", ["http://app/cb", None])
def test_stop_recording_of_a_transcribed_room_decides_its_transcription(callback_url) -> None:
    """transcriptionUrl: stop-recording also decides Transcribe (the file, the URL and method,
    the recording id, the starter's call, FreeSWITCH's duration), after the record callback,
    with or without a callbackUrl to tell."""
    room = make_room(TRANSCRIBED)
    room.join(Seat(name=NAME, call_uuid="a", settings=TRANSCRIBED, callback_url=callback_url,
                   call_params={"CallUUID": "a"}), T0)
    (start,) = cmds_of(added(room, "a", 1))
    room.apply(CommandDone(start.token, "+OK Record file"), T0 + 1)
    decisions = event(room, "stop-recording", Path="/rec/uid-1_rec-1.wav",
                      Milliseconds_Elapsed="2500")
    assert decisions[-1] == Transcribe("/rec/uid-1_rec-1.wav", "http://app/tx", "GET", "rec-1",
                                       "a", 2500)
    assert len(hooks(decisions)) == (1 if callback_url else 0)


def test_a_recorded_room_without_transcription_url_decides_no_transcription() -> None:
    room = make_room(RECORDED)
    room.join(seat("a", RECORDED), T0)
    (start,) = cmds_of(added(room, "a", 1))
    room.apply(CommandDone(start.token, "+OK Record file"), T0 + 1)
    decisions = event(room, "stop-recording", Path="/rec/uid-1_rec-1.wav")
    assert not [d for d in decisions if isinstance(d, Transcribe)]
