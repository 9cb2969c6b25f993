"""RoomRegistry: routing by Conference-Unique-ID, the call <-> member map, first settings win."""

from __future__ import annotations

import logging

import pytest

from plivoxml_fs.esl.messages import Event
from plivoxml_fs.fs.events import ConferenceEvent
from plivoxml_fs.rooms.registry import RoomRegistry
from plivoxml_fs.rooms.room import MemberLeft, RoomEnded


def _ev(uid: str, action: str, **headers: str) -> ConferenceEvent:
    base = {"Event-Name": "CUSTOM", "Event-Subclass": "conference::maintenance",
            "Action": action, "Conference-Name": "room1", "Conference-Unique-ID": uid}
    base.update({k.replace("_", "-"): v for k, v in headers.items()})
    return ConferenceEvent.from_event(Event(base))


def test_same_name_different_uid_are_different_rooms() -> None:
    """Rooms are keyed by Conference-Unique-ID, so a reused name is a new room."""
    reg = RoomRegistry()
    reg.apply(_ev("u1", "add-member", Member_ID="1", Unique_ID="a"))
    reg.apply(_ev("u2", "add-member", Member_ID="1", Unique_ID="b"))
    assert reg.seat("a") == ("u1", 1)
    assert reg.seat("b") == ("u2", 1)


def test_seat_follows_leave_and_destroy() -> None:
    """A member's seat goes when it leaves; the room goes when destroyed."""
    reg = RoomRegistry()
    reg.apply(_ev("u1", "add-member", Member_ID="1", Unique_ID="a"))
    reg.apply(_ev("u1", "add-member", Member_ID="2", Unique_ID="b"))
    reg.apply(_ev("u1", "del-member", Member_ID="1", Unique_ID="a"))
    assert reg.seat("a") is None
    reg.apply(_ev("u1", "conference-destroy"))
    assert reg.seat("b") is None
    assert reg.rooms == {}


def test_lost_connection_owes_every_member_its_exit() -> None:
    """Losing the inbound connection ends every room with each member left behind."""
    reg = RoomRegistry()
    reg.apply(_ev("u1", "add-member", Member_ID="1", Unique_ID="a"))
    reg.apply(_ev("u2", "add-member", Member_ID="4", Unique_ID="b"))
    ended = reg.lost_connection()
    assert ended == [RoomEnded("u1", (MemberLeft("u1", 1, "a"),)),
                     RoomEnded("u2", (MemberLeft("u2", 4, "b"),))]
    assert reg.seats == {}


def test_first_settings_win_and_conflict_logged(caplog: pytest.LogCaptureFixture) -> None:
    """A later caller's different settings are not applied, and a WARNING says so."""
    reg = RoomRegistry()
    assert reg.claim("room1", ("maxMembers", 5)) == ("maxMembers", 5)
    with caplog.at_level(logging.WARNING):
        assert reg.claim("room1", ("maxMembers", 9)) == ("maxMembers", 5)
    assert "conference room1: settings ('maxMembers', 9) differ" in caplog.text
