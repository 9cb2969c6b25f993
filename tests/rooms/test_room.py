"""The room transition table in plivoxml_fs.rooms.room, driven by conference::maintenance events."""

from __future__ import annotations

import pytest

from plivoxml_fs.esl.messages import Event
from plivoxml_fs.fs.events import ConferenceEvent
from plivoxml_fs.rooms import room as r

UID = "c0ffee00-0000-4000-8000-000000000001"


def _ev(action: str, **headers: str) -> ConferenceEvent:
    base = {
        "Event-Name": "CUSTOM",
        "Event-Subclass": "conference::maintenance",
        "Action": action,
        "Conference-Name": "room1",
        "Conference-Unique-ID": UID,
    }
    base.update({k.replace("_", "-"): v for k, v in headers.items()})
    return ConferenceEvent.from_event(Event(base))


def _joined() -> r.Room:
    room = r.Room(UID, "room1")
    room.apply(_ev("add-member", Member_ID="1", Unique_ID="call-a"))
    room.apply(_ev("add-member", Member_ID="2", Unique_ID="call-b"))
    return room


def test_add_member_enters() -> None:
    """add-member records the member's channel and decides an enter."""
    room = r.Room(UID, "room1")
    assert room.apply(_ev("add-member", Member_ID="3", Unique_ID="call-x")) == [
        r.MemberEntered(UID, 3, "call-x")
    ]
    assert room.members == {3: "call-x"}


def test_del_member_leaves_and_frees_floor() -> None:
    """del-member decides an exit and clears the floor if the leaver held it."""
    room = _joined()
    room.apply(_ev("floor-change", Old_ID="none", New_ID="2"))
    assert room.floor == 2
    assert room.apply(_ev("del-member", Member_ID="2", Unique_ID="call-b")) == [
        r.MemberLeft(UID, 2, "call-b")
    ]
    assert room.floor is None


def test_unknown_member_left_is_ignored() -> None:
    """A del-member for a member never seen decides nothing."""
    assert _joined().apply(_ev("del-member", Member_ID="9", Unique_ID="call-z")) == []


def test_recording_start_and_stop() -> None:
    """A started recording is owned by the room; its stop reports the elapsed milliseconds."""
    room = _joined()
    path = "/var/lib/freeswitch/rec/room1.wav"
    assert room.apply(_ev("start-recording", Path=path)) == [r.RecordingStarted(UID, path)]
    assert room.apply(_ev("stop-recording", Path=path, Milliseconds_Elapsed="920")) == [
        r.RecordingStopped(UID, path, 920)
    ]
    assert room.recording is None


def test_failed_recording_decides_nothing() -> None:
    """start-recording with Error, then an empty stop, never reports a recording."""
    room = _joined()
    assert room.apply(_ev("start-recording", Path="/nope/x.wav", Error="File could not be opened")) == []
    assert room.apply(_ev("stop-recording", Path="", Milliseconds_Elapsed="0")) == []


def test_destroy_ends_with_members_left_behind() -> None:
    """conference-destroy ends the room, owing an exit to every member still in it."""
    room = _joined()
    assert room.apply(_ev("conference-destroy")) == [
        r.RoomEnded(UID, (r.MemberLeft(UID, 1, "call-a"), r.MemberLeft(UID, 2, "call-b")))
    ]
    assert room.state == r.ENDED
    assert room.apply(_ev("add-member", Member_ID="4", Unique_ID="late")) == []


def test_end_on_lost_connection_owes_every_exit_once() -> None:
    """end() (inbound connection lost) owes each member its exit, and only once."""
    room = _joined()
    first = room.end()
    assert first[0].left_behind == (r.MemberLeft(UID, 1, "call-a"), r.MemberLeft(UID, 2, "call-b"))
    assert room.end() == []


def test_event_of_another_room_refused() -> None:
    """An event for another Conference-Unique-ID is an error naming both rooms."""
    room = r.Room("other-uid", "room1")
    with pytest.raises(ValueError, match="room room1 \\(other-uid\\): event for " + UID):
        room.apply(_ev("add-member", Member_ID="1", Unique_ID="a"))
