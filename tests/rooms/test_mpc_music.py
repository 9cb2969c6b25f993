"""MPC wait/hold music made of parts (rooms/mpc_media.py): a Speak is a `say:` play and a
marker play (FreeSWITCH 1.10.12 has no tts:// file format and a speech play fires no done
event), parts play one after another and the whole loops; a cycle that plays under
MIN_LOOP_MS is a broken source (one WARNING, silence)."""

from __future__ import annotations

import logging

import attrs

from plivoxml_fs.fs.events import ConferenceEvent
from plivoxml_fs.rooms.mpc_model import Speech
from plivoxml_fs.testing import conference_event
from rooms.test_mpc import PLAIN, T0, UID, cmds, enter, make, seat

MUSIC = (Speech("Please hold, it's short", "slt"), "file_string://silence_stream://2000")


def _room(music=MUSIC):
    room = make(attrs.evolve(PLAIN, wait_for_agent=True, wait_music=music))
    room.join(seat("c1"), T0)
    return room


def _event(room, action, at_us, **headers):
    event = conference_event(action, room.fs_name, uid=UID, member_id=5, uuid="c1", **headers)
    event.headers["Event-Date-Timestamp"] = str(at_us)
    return ConferenceEvent.from_event(event)


def _marker_queued(room, at_us):
    play_id = room.media["c1"].play_id
    file = f"{{play_id={play_id}}}file_string://silence_stream://1"
    return room.apply(_event(room, "play-file-member", at_us, File=file), T0)


def _done(room, at_us, ms="2"):
    event = _event(room, "play-file-member-done", at_us, milliseconds=ms)
    event.event.headers["play_id"] = room.media["c1"].play_id
    return room.apply(event, T0)


def test_a_speak_is_said_then_a_marker_then_the_next_part_then_the_loop():
    room = _room()
    first = cmds(enter(room, "c1", 5))
    marker = room.media["c1"].play_id
    assert first == ["play 'say:#slt#Please hold, it\\'s short' 5",
                     f"play '{{play_id={marker}}}file_string://silence_stream://1' 5"]
    _marker_queued(room, 1_000_000)
    following = cmds(_done(room, 2_600_000))  # the speech took 1.6 s
    part = room.media["c1"].play_id
    assert following == [f"play '{{play_id={part}}}file_string://silence_stream://2000' 5"]
    looped = cmds(_done(room, 4_600_000, ms="2000"))
    assert looped[0] == "play 'say:#slt#Please hold, it\\'s short' 5" and len(looped) == 2
    assert room.media["c1"].part == 0 and room.media["c1"].cycle_ms == 0


def test_a_speech_that_says_nothing_is_not_looped(caplog):
    """A profile without tts-engine answers +OK and says nothing: the marker's done follows
    its queueing at once; the cycle is under MIN_LOOP_MS: one WARNING, no replay."""
    room = _room((Speech("hello there", "kal"),))
    enter(room, "c1", 5)
    _marker_queued(room, 1_000_000)
    with caplog.at_level(logging.WARNING):
        assert _done(room, 1_020_000) == []
    (line,) = [r.getMessage() for r in caplog.records]
    assert line.startswith("MPC sales (mpc-uuid-1): member 5: its music say 'hello there'")
    assert "not looped" in line


def test_a_done_without_timestamps_counts_nothing_for_a_speech():
    room = _room((Speech("hello there", "kal"),))
    enter(room, "c1", 5)
    event = _event(room, "play-file-member-done", 0, milliseconds="2")
    del event.event.headers["Event-Date-Timestamp"]
    event.event.headers["play_id"] = room.media["c1"].play_id
    assert room.apply(event, T0) == []  # 0 ms: not looped


def test_a_text_with_an_expansion_is_one_error_and_silence(caplog):
    room = _room((Speech("costs ${price}", "kal"),))
    with caplog.at_level(logging.ERROR):
        assert cmds(enter(room, "c1", 5)) == []
    (line,) = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert line.startswith("MPC sales (mpc-uuid-1): member call c1:") and "${" in line


def test_a_refused_say_is_one_warning_and_silence(caplog):
    from plivoxml_fs.rooms.model import Command, CommandDone

    room = _room()
    say, marker = [d for d in enter(room, "c1", 5) if isinstance(d, Command) and " play " in d.cmd]
    marker_id = room.media["c1"].play_id
    with caplog.at_level(logging.WARNING):
        room.apply(CommandDone(say.token, "-ERR (play) File: say:#slt#x not found.\n"), T0)
        room.apply(CommandDone(marker.token, "+OK (play) Playing file\n"), T0)
        done = _event(room, "play-file-member-done", 2_000_000, milliseconds="2")
        done.event.headers["play_id"] = marker_id
        assert room.apply(done, T0) == []  # the marker's done: no longer the current play
    (line,) = [r.getMessage() for r in caplog.records]
    assert line.startswith("MPC sales (mpc-uuid-1): member 5: FreeSWITCH refused ")
    assert "play 'say:#slt#Please hold" in line and room.media["c1"].music is None
