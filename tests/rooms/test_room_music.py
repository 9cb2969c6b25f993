"""A `<Conference>` room's spoken wait music (rooms/room_music.py): a waitSound with Speaks is
played by the room to each waiting member as member plays (`say:` then a marker; FreeSWITCH
1.10.12 cannot speak a room's moh), while no moderator has entered and while one member is
alone; stopped when the room starts; a refused `say:` stops it."""

from __future__ import annotations

import logging

from plivoxml_fs.fs.events import ConferenceEvent
from plivoxml_fs.rooms import room_music
from plivoxml_fs.rooms.model import Command, CommandDone
from plivoxml_fs.rooms.mpc_model import Speech
from plivoxml_fs.testing import conference_event
from rooms.test_room import NAME, UID, cmds, make_room, seat

MUSIC = (Speech("Please hold", "slt"), "http_cache://http://a.example/x.wav")


def _added(room, call, member_id, size, moderator=False):
    event = conference_event("add-member", NAME, uid=UID, member_id=member_id, uuid=call,
                             size=size, **{"Member-Type": "moderator" if moderator else "member"})
    return cmds(room.apply(ConferenceEvent.from_event(event), 1001.0))


def _done(room, member_id, call, play_id, ms="5"):
    event = conference_event("play-file-member-done", NAME, uid=UID, member_id=member_id,
                             uuid=call, milliseconds=ms)
    event.headers["play_id"] = play_id
    return cmds(room.apply(ConferenceEvent.from_event(event), 1002.0))


def _room():
    room = make_room()
    room.join(seat("a"), 1000.0)
    room.join(seat("b"), 1000.0)
    assert room_music.set_music(room, MUSIC) == []  # nobody in yet
    return room


def test_the_waiting_member_hears_the_parts_in_turn_and_the_loop():
    room = _room()
    first = _added(room, "a", 5, 1)
    marker = room.wait_music.playing["a"].play_id
    assert first == [f"conference {room.fs_name} play 'say:#slt#Please hold' 5",
                     f"conference {room.fs_name} play '{{play_id={marker}}}file_string://"
                     "silence_stream://1' 5"]
    assert _done(room, 5, "a", "other") == []  # not its current play
    file_id = f"w{room.wait_music.tokens + 1}"
    assert _done(room, 5, "a", marker) == [
        f"conference {room.fs_name} play '{{play_id={file_id}}}file_string://"
        "http_cache://http://a.example/x.wav' 5"]
    looped = _done(room, 5, "a", file_id, ms="3000")
    assert looped[0] == f"conference {room.fs_name} play 'say:#slt#Please hold' 5"


def test_a_second_waiting_member_hears_it_and_a_moderator_stops_it():
    room = _room()
    _added(room, "a", 5, 1)
    assert len(_added(room, "b", 6, 2)) == 2  # wait-mod: both hear it
    stopped = _added(room, "c", 7, 3, moderator=True)  # not ours: no music for it
    assert stopped == [f"conference {room.fs_name} stop all 5",
                       f"conference {room.fs_name} stop all 6"]
    assert room.wait_music.playing == {}


def test_a_lone_moderator_hears_it():
    room = _room()
    assert len(_added(room, "a", 5, 1, moderator=True)) == 2
    assert _added(room, "b", 6, 2) == [f"conference {room.fs_name} stop all 5"]


def test_a_refused_say_is_one_warning_and_silence(caplog):
    room = _room()
    decisions = room.apply(ConferenceEvent.from_event(conference_event(
        "add-member", NAME, uid=UID, member_id=5, uuid="a", size=1)), 1001.0)
    marker = room.wait_music.playing["a"].play_id
    (say,) = [d for d in decisions if isinstance(d, Command) and "'say:" in d.cmd]
    with caplog.at_level(logging.WARNING, logger="plivoxml_fs.rooms"):
        room.apply(CommandDone(say.token, "-ERR (play) File: say:... not found.\n"), 1001.5)
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert NAME in caplog.records[0].getMessage()
    assert _done(room, 5, "a", marker) == []  # no loop of refusals
