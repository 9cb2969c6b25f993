"""The MPC room's decisions for each input (rooms/mpc.py), under plain pytest with a fake clock
(the `now` each input is given): no gevent, no sockets."""

from __future__ import annotations

import logging

import attrs

from plivoxml_fs.config import Settings
from plivoxml_fs.fs.events import ConferenceEvent, Dtmf
from plivoxml_fs.rooms.model import (
    ArmTimer,
    Command,
    CommandDone,
    Emit,
    ExitReason,
    Release,
    Role,
    RoomContext,
    RoomKind,
    Seat,
)
from plivoxml_fs.rooms.mpc import MpcRoom
from plivoxml_fs.rooms.mpc_model import MpcSettings, MpcState, Participant, events_of
from plivoxml_fs.testing import conference_event, dtmf_event

NAME, UID, T0 = "sales", "uid-1", 1_000.0
ALL = events_of(("mpc-state-changes", "participant-state-changes", "participant-speak-events",
                 "participant-digit-input-events"))
PLAIN = MpcSettings(status_callback_url="http://app/mpc", status_events=ALL,
                    wait_music="file_string://silence_stream://2000",
                    agent_hold_music="http_cache://http://app/agent.wav")


def make(settings: MpcSettings = PLAIN, **daemon) -> MpcRoom:
    ctx = RoomContext(Settings(**daemon), new_id=lambda: "mpc-uuid-1")
    return MpcRoom(NAME, ctx, settings, T0)


def seat(call: str, role: Role = Role.CUSTOMER, settings: MpcSettings = PLAIN, *,
         muted=False, held=False, **participant) -> Seat:
    return Seat(name=NAME, call_uuid=call, settings=settings, kind=RoomKind.MULTIPARTY_CALL,
                role=role, muted=muted, held=held, participant=Participant(**participant))


def enter(room: MpcRoom, call: str, member_id: int, now: float = T0 + 1):
    room.entry_flags(call)
    event = conference_event("add-member", room.fs_name, uid=UID, member_id=member_id, uuid=call)
    return room.apply(ConferenceEvent.from_event(event), now)


def cmds(decisions) -> list[str]:
    return [d.cmd.split(" ", 2)[2] for d in decisions if isinstance(d, Command)]


def status(decisions) -> list[dict]:
    return [dict(d.webhook.params) for d in decisions if isinstance(d, Emit)]


def names(decisions) -> list[str]:
    return [p["EventName"] for p in status(decisions)]


def test_first_claim_creates_the_mpc_with_its_uuid_and_room():
    room = make()
    member, decisions = room.join(seat("c1"), T0)
    assert room.status == MpcState.INITIALIZED and room.fs_name == "mpc-mpc-uuid-1"
    (init,) = status(decisions)
    assert init == {"EventName": "MPCInitialized", "EventTimestamp": "1970-01-01 00:16:40+00:00",
                    "MPCUUID": "mpc-uuid-1", "MPCName": NAME, "SequenceNumber": "1"}
    assert ArmTimer(T0 + 14_400) in decisions
    hook = decisions[0].webhook
    assert hook.key == "mpc-mpc-uuid-1" and hook.call_uuid == "c1"


def test_waiting_members_are_deaf_and_muted_with_looped_wait_music():
    """waitForAgent: a customer waits (flags mute|deaf, the wait music); the agent's entry
    starts the MPC: undeaf/unmute both, music stopped."""
    room = make(attrs.evolve(PLAIN, wait_for_agent=True))
    room.join(seat("c1"), T0)
    assert room.entry_flags("c1") == ("nomoh", "mute", "deaf")
    decisions = enter(room, "c1", 5)
    assert names(decisions) == ["ParticipantJoin"]
    (play,) = cmds(decisions)
    first_id = room.media["c1"].play_id
    assert play == f"play '{{play_id={first_id}}}file_string://silence_stream://2000' 5"
    # its done replays under a new id; the old id's done again does nothing
    done = conference_event("play-file-member-done", room.fs_name, uid=UID, member_id=5,
                            uuid="c1", milliseconds="2000")
    done.headers["play_id"] = first_id
    again = room.apply(ConferenceEvent.from_event(done), T0 + 3)
    second_id = room.media["c1"].play_id
    assert second_id != first_id
    assert cmds(again) == [f"play '{{play_id={second_id}}}file_string://silence_stream://2000' 5"]
    done.headers["Event-Sequence"] = "77"
    assert room.apply(ConferenceEvent.from_event(done), T0 + 3) == []  # a stale id
    room.join(seat("a1", Role.AGENT), T0 + 4)
    decisions = enter(room, "a1", 6, T0 + 5)
    assert names(decisions) == ["ParticipantJoin", "MPCStart"]
    assert cmds(decisions) == ["unmute 5 quiet", "undeaf 5", "stop all 5",
                               "unmute 6 quiet", "undeaf 6"]
    assert room.status == MpcState.ACTIVE


def test_a_music_that_ends_at_once_is_not_looped(caplog):
    room = make(attrs.evolve(PLAIN, wait_for_agent=True))
    room.join(seat("c1"), T0)
    enter(room, "c1", 5)
    done = conference_event("play-file-member-done", room.fs_name, uid=UID, member_id=5,
                            uuid="c1", milliseconds="0")
    done.headers["play_id"] = room.media["c1"].play_id
    with caplog.at_level(logging.WARNING):
        assert room.apply(ConferenceEvent.from_event(done), T0 + 2) == []
    (line,) = [r.getMessage() for r in caplog.records]
    assert line.startswith("MPC sales (mpc-uuid-1): member 5: its music") and "not looped" in line


def test_coach_mode_relates_later_joiners_and_stops():
    """The coaching supervisor is nospeak to the customer who joins after it, not to the
    agent; coach off clears it (ParticipantCoachModeStop)."""
    room = make()
    room.join(seat("a1", Role.AGENT), T0)
    enter(room, "a1", 1)
    room.join(seat("s1", Role.SUPERVISOR, coach_mode=True), T0)
    joined = enter(room, "s1", 2)
    assert [p["ParticipantCoachMode"] for p in status(joined)] == ["true"]
    assert not [c for c in cmds(joined) if c.startswith("relate")]
    room.join(seat("c1"), T0)
    assert "relate 2 3 nospeak" in cmds(enter(room, "c1", 3))
    stop = room.coach(2, False, T0 + 5)
    assert names(stop) == ["ParticipantCoachModeStop"] and cmds(stop) == ["relate 2 3 clear"]


def test_hold_plays_the_role_music_and_unhold_brings_the_room_back():
    room = make()
    room.join(seat("a1", Role.AGENT), T0)
    enter(room, "a1", 1)
    held = room.hold(1, True, T0 + 2)
    assert names(held) == ["ParticipantHold"]
    play_id = room.media["a1"].play_id
    assert cmds(held) == ["mute 1 quiet", "deaf 1", f"play '{{play_id={play_id}}}file_string://"
                          "http_cache://http://app/agent.wav' 1"]
    back = room.hold(1, False, T0 + 3)
    assert names(back) == ["ParticipantUnhold"]
    assert cmds(back) == ["unmute 1 quiet", "undeaf 1", "stop all 1"]
    muted = room.mute(1, True, T0 + 4)
    assert names(muted) == ["ParticipantMute"] and cmds(muted) == ["mute 1 quiet"]


def test_a_supervisor_on_hold_hears_silence():
    room = make()
    room.join(seat("s1", Role.SUPERVISOR, held=True), T0)
    assert room.entry_flags("s1") == ("nomoh", "mute", "deaf")
    decisions = enter(room, "s1", 1)
    assert not [c for c in cmds(decisions) if c.startswith("play")]


def test_beyond_max_participants_a_seat_is_refused():
    room = make(attrs.evolve(PLAIN, max_participants=2))
    for n, call in enumerate(("c1", "a1"), 1):
        room.join(seat(call, stay_alone=True), T0)
        enter(room, call, n)
    member, decisions = room.join(seat("a2", Role.AGENT), T0 + 2)
    assert member.reason == ExitReason.ROOM_FULL and decisions == []
    exit_, decisions = room.leave("a2", T0 + 2, hung_up=False)
    assert exit_.reason == ExitReason.ROOM_FULL and decisions == []
    assert exit_.params["ParticipantExitCause"] == "Max Participants Reached"
    assert room.status == MpcState.ACTIVE


def test_left_alone_ends_1010_then_mpcend_after_the_last_exit():
    room = make(mpc_rate_per_minute=0.05)
    room.join(seat("c1"), T0)
    enter(room, "c1", 1)
    room.join(seat("a1", Role.AGENT), T0)
    enter(room, "a1", 2)
    exit_, decisions = room.leave("c1", T0 + 61, hung_up=True)
    assert exit_.reason == ExitReason.HANGUP
    assert names(decisions) == ["ParticipantExit"]
    assert Release("a1", 2, ExitReason.ENDED) in decisions and "hup 2" in cmds(decisions)
    exit_, decisions = room.leave("a1", T0 + 62, hung_up=False)
    assert exit_.reason == ExitReason.ENDED
    exit_event, end = status(decisions)
    assert exit_event["ParticipantExitCause"] == "Multiparty Call Ended"
    assert end["EventName"] == "MPCEnd" and end["MPCTerminationCauseCode"] == "1010"
    assert (end["MPCDuration"], end["MPCBilledDuration"], end["MPCBilledAmount"]) == \
        ("61", "120", "0.10000")
    assert [int(p["SequenceNumber"]) for p in status(decisions)] == [6, 7]
    assert room.done


def test_max_duration_by_the_time_scale():
    room = make(attrs.evolve(PLAIN, max_duration_s=300), mpc_time_scale=0.01)
    _, decisions = room.join(seat("c1", stay_alone=True), T0)
    assert ArmTimer(T0 + 3) in decisions
    enter(room, "c1", 1)
    assert room.tick(T0 + 2) == [ArmTimer(T0 + 3)]
    ended = room.tick(T0 + 3)
    assert room.termination.code == 2000 and Release("c1", 1, ExitReason.ENDED) in ended


def test_digits_and_talking_events():
    room = make()
    room.join(seat("a1", Role.AGENT, stay_alone=True), T0)
    enter(room, "a1", 1)
    (digit,) = status(room.apply(Dtmf.from_event(dtmf_event("5", "a1")), T0 + 2))
    assert digit["EventName"] == "ParticipantDigitInput" and digit["DigitInput"] == "5"
    talk = conference_event("start-talking", room.fs_name, uid=UID, member_id=1, uuid="a1")
    assert names(room.apply(ConferenceEvent.from_event(talk), T0 + 3)) == ["ParticipantSpeakStart"]


def test_other_mpc_attributes_are_logged_once_not_applied(caplog):
    room = make()
    room.join(seat("c1"), T0)
    other = attrs.evolve(PLAIN, max_duration_s=600, wait_for_agent=True)
    with caplog.at_level(logging.INFO, logger="plivoxml_fs.rooms"):
        room.join(seat("a1", Role.AGENT, settings=other), T0 + 1)
    (line,) = [r.getMessage() for r in caplog.records]
    assert "max_duration_s: first 14400, this 600" in line and "wait_for_agent" in line
    assert room.settings.max_duration_s == 14_400


def test_a_refused_relate_is_one_line_naming_the_mpc_and_member(caplog):
    room = make()
    room.join(seat("s1", Role.SUPERVISOR), T0)
    enter(room, "s1", 1)
    room.join(seat("c1"), T0)
    (relate,) = [d for d in enter(room, "c1", 2) if isinstance(d, Command)
                 and " relate " in d.cmd]
    with caplog.at_level(logging.WARNING):
        room.apply(CommandDone(relate.token, "-ERR relationship 1->2 not found.\n"), T0 + 2)
    (line,) = [r.getMessage() for r in caplog.records]
    assert line.startswith("MPC sales (mpc-uuid-1): member 1: FreeSWITCH refused")


def test_a_new_mpc_for_an_ended_name_has_a_new_uuid():
    from plivoxml_fs.rooms.registry import LocalRooms

    owner, ids = LocalRooms(), iter(["u1", "u2"])
    ctx = RoomContext(Settings(), new_id=lambda: next(ids))
    first = owner.for_claim(seat("c1"), lambda: MpcRoom(NAME, ctx, PLAIN, T0))
    first.hangup(T0)
    second = owner.for_claim(seat("c2"), lambda: MpcRoom(NAME, ctx, PLAIN, T0))
    assert (first.mpc_uuid, second.mpc_uuid) == ("u1", "u2")
    assert first.fs_name != second.fs_name


def test_a_caller_gone_before_entering_leaves_nobody_alone():
    """A waits alone; B hangs up before its add-member: the MPC goes on (A was alone before);
    when A leaves too, the empty MPC ends with 1000."""
    room = make(attrs.evolve(PLAIN, wait_for_agent=True))
    room.join(seat("c1"), T0)
    enter(room, "c1", 1)
    room.join(seat("c2"), T0 + 1)
    exit_, decisions = room.leave("c2", T0 + 2, hung_up=True)
    assert exit_.reason == ExitReason.HANGUP and decisions == []
    assert room.status == MpcState.INITIALIZED
    _, decisions = room.leave("c1", T0 + 3, hung_up=True)
    assert names(decisions) == ["ParticipantExit", "MPCEnd"]
    assert status(decisions)[-1]["MPCTerminationCauseCode"] == "1000"
