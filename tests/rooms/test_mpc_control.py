"""The Multi-party Call API's pure inputs on an MPC room (rooms/mpc_control.py): which
participants a spec names, the coach-mode beep, member plays; no gevent, no sockets."""

from __future__ import annotations

import pytest

from plivoxml_fs.rooms import mpc_control as control
from plivoxml_fs.rooms.model import Role
from rooms.test_mpc import T0, cmds, enter, make, names, seat


def _room():
    room = make()
    for call, role, member_id in (("c1", Role.CUSTOMER, 11), ("a1", Role.AGENT, 12),
                                  ("s1", Role.SUPERVISOR, 13)):
        room.join(seat(call, role, coach_mode=False), T0)
        enter(room, call, member_id)
    return room


def test_specs_name_participants_present():
    room = _room()
    assert [m.member_id for m in control.participants_of(room, "all")] == [11, 12, 13]
    assert [m.member_id for m in control.participants_of(room, "13,11,13")] == [13, 11]
    with pytest.raises(control.NoSuchParticipant, match="no participant 99"):
        control.participants_of(room, "11,99")
    with pytest.raises(ValueError, match="all is not allowed"):
        control.participants_of(room, "all", allow_all=False)
    for bad in ("", "0", "1;2", "all,11", "-1"):
        with pytest.raises(ValueError, match="must be a member id"):
            control.participants_of(room, bad)


def test_coach_mode_change_beeps_into_the_room_once():
    room = _room()
    (sup,) = control.participants_of(room, "13")
    decisions = control.coach(room, sup, True, T0 + 2)
    assert names(decisions) == ["ParticipantCoachModeStart"]
    played = [c for c in cmds(decisions) if c.startswith("play ")]
    assert played == ["play tone_stream://%(200,0,400) async"]
    assert "relate 13 11 nospeak" in cmds(decisions)
    assert control.coach(room, sup, True, T0 + 3) == []  # no change: no callback, no beep
    (agent,) = control.participants_of(room, "12")
    assert control.coach(room, agent, True, T0 + 3) == []  # not a supervisor


def test_member_play_and_stop_are_the_members_own():
    room = _room()
    members = control.participants_of(room, "11,12")
    played = cmds(control.play(room, members, "http://app/x.wav"))
    assert [c.split("'")[2].strip() for c in played] == ["11", "12"]
    assert all("{play_id=api" in c and "http_cache://http://app/x.wav" in c for c in played)
    assert cmds(control.stop_play(room, members)) == ["stop all 11", "stop all 12"]
    with pytest.raises(ValueError):
        control.play(room, members, "ftp://app/x.wav")


def test_kick_lets_the_participant_go_and_a_repeat_does_nothing():
    room = _room()
    (customer,) = control.participants_of(room, "11")
    decisions = control.kick(room, [customer], T0 + 2)
    assert "hup 11" in cmds(decisions)
    assert [m.member_id for m in control.participants_of(room, "all")] == [12, 13]
    with pytest.raises(control.NoSuchParticipant):  # the API cannot address it any more
        control.participants_of(room, "11")
    assert control.kick(room, [customer], T0 + 3) == []
