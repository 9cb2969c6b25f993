"""add participant's dial music in the room (rooms/mpc.py `MpcRoom.dial_music`): while a
dial with a dial_music URL is on, every member but held ones and ai-agents hears it (over the
room once the MPC started, in place of the wait music before); when the dial is over each
member's music is what it was."""

from __future__ import annotations

import attrs

from plivoxml_fs.rooms.model import Role
from rooms.test_mpc import PLAIN, T0, cmds, enter, make, seat

DIAL = ("http_cache://http://app/dial.wav",)


def _plays(decisions) -> list[str]:
    return [c for c in cmds(decisions) if c.startswith(("play", "stop"))]


def test_the_dial_music_plays_to_those_who_hear_the_room_and_stops_after():
    room = make()
    for call, role, member_id, held in (("c1", Role.CUSTOMER, 1, False),
                                        ("a1", Role.AGENT, 2, True),
                                        ("ai", Role.AI_AGENT, 3, False)):
        room.join(seat(call, role, held=held), T0)
        enter(room, call, member_id)
    held_play = room.media["a1"].play_id
    started = room.dial_music("req-1", DIAL)
    play_id = room.media["c1"].play_id
    assert cmds(started) == [f"play '{{play_id={play_id}}}file_string://"
                             "http_cache://http://app/dial.wav' 1"]  # hears the room still
    assert room.media["a1"].play_id == held_play and room.media["ai"].play_id is None
    assert room.dial_music("req-1", DIAL) == []  # the same dial again: nothing
    assert cmds(room.dial_music("req-1", None)) == ["stop all 1"]
    assert room.dial_music("req-1", None) == []  # over already


def test_before_the_start_the_dial_music_replaces_the_wait_music_then_it_comes_back():
    room = make(attrs.evolve(PLAIN, wait_for_agent=True))
    room.join(seat("c1"), T0)
    enter(room, "c1", 5)
    started = _plays(room.dial_music("req-1", DIAL))
    assert started[0] == "stop all 5" and "dial.wav" in started[1]
    back = _plays(room.dial_music("req-1", None))
    assert back[0] == "stop all 5" and "silence_stream://2000" in back[1]


def test_the_latest_of_two_dials_is_heard_and_an_ended_mpc_plays_nothing():
    room = make()
    room.join(seat("c1"), T0)
    enter(room, "c1", 1)
    room.dial_music("req-1", DIAL)
    second = _plays(room.dial_music("req-2", ("http_cache://http://app/other.wav",)))
    assert second[0] == "stop all 1" and "other.wav" in second[1]
    back = _plays(room.dial_music("req-2", None))
    assert "dial.wav" in back[1]  # the first dial is still on
    room.hangup(T0 + 5)
    assert room.dial_music("req-3", DIAL) == []
