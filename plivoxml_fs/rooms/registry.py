"""Every live room, keyed by Conference-Unique-ID, with the call <-> member map across rooms.

Routes conference::maintenance events to their `Room` (creating it on first sight) and keeps
which room and member each call is in. Room settings come from the first caller that claims a
room name; later callers with different settings keep the first ones and the conflict is logged.
Pure Python, no gevent.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable

from plivoxml_fs.fs.events import ConferenceEvent
from plivoxml_fs.rooms.room import Decision, MemberEntered, MemberLeft, Room, RoomEnded

log = logging.getLogger(__name__)


class RoomRegistry:
    """Rooms by uid, the settings each room name was first claimed with, and calls' seats."""

    def __init__(self) -> None:
        self.rooms: dict[str, Room] = {}
        self.settings: dict[str, Hashable] = {}  # room name -> first claimant's settings
        self.seats: dict[str, tuple[str, int]] = {}  # call uuid -> (room uid, member id)

    def claim(self, name: str, settings: Hashable) -> Hashable:
        """The settings room `name` runs with: the first claimant's; a different later one is logged."""
        first = self.settings.setdefault(name, settings)
        if first != settings:
            log.warning("conference %s: settings %r differ from the first caller's %r; "
                        "the first caller's are kept", name, settings, first)
        return first

    def apply(self, event: ConferenceEvent) -> list[Decision]:
        """Route one event to its room and keep the seat map in step with the decisions."""
        room = self.rooms.get(event.conference_uid)
        if room is None:
            room = self.rooms[event.conference_uid] = Room(event.conference_uid,
                                                          event.conference_name)
        decisions = room.apply(event)
        self._follow(decisions)
        if room.state != "open":
            self._forget(room)
        return decisions

    def lost_connection(self) -> list[Decision]:
        """End every room (no more events will come); each member is owed its exit."""
        decisions: list[Decision] = []
        for room in list(self.rooms.values()):
            ended = room.end()
            self._follow(ended)
            decisions.extend(ended)
            self._forget(room)
        return decisions

    def seat(self, call_uuid: str) -> tuple[str, int] | None:
        """(room uid, member id) of the call, or None when it is in no room."""
        return self.seats.get(call_uuid)

    def _follow(self, decisions: list[Decision]) -> None:
        for decision in decisions:
            if isinstance(decision, MemberEntered):
                self.seats[decision.call_uuid] = (decision.room_uid, decision.member_id)
            elif isinstance(decision, MemberLeft):
                self.seats.pop(decision.call_uuid, None)
            elif isinstance(decision, RoomEnded):
                for left in decision.left_behind:
                    self.seats.pop(left.call_uuid, None)

    def _forget(self, room: Room) -> None:
        self.rooms.pop(room.uid, None)
        if not any(other.name == room.name for other in self.rooms.values()):
            self.settings.pop(room.name, None)
