"""One conference room's state as a transition table: `Room.apply(event)` returns decisions.

Driven by conference::maintenance events (`fs.events.ConferenceEvent`) for one
Conference-Unique-ID. Pure Python, no gevent: the caller performs the decisions (callbacks,
commands). Members are keyed by FreeSWITCH member id and remember their channel uuid, so a
MultiPartyCall layer can hang roles and relations on them later without changing the table.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from plivoxml_fs.fs.events import ConferenceEvent

#: Room states: `open` from conference-create (or the first event seen), `ended` after destroy.
OPEN = "open"
ENDED = "ended"


@attrs.frozen
class MemberEntered:
    room_uid: str
    member_id: int
    call_uuid: str


@attrs.frozen
class MemberLeft:
    room_uid: str
    member_id: int
    call_uuid: str


@attrs.frozen
class FloorChanged:
    room_uid: str
    member_id: int | None


@attrs.frozen
class RecordingStarted:
    room_uid: str
    path: str


@attrs.frozen
class RecordingStopped:
    room_uid: str
    path: str
    milliseconds: int | None


@attrs.frozen
class RoomEnded:
    room_uid: str
    #: members still in the room when it ended (each still owed its exit)
    left_behind: tuple[MemberLeft, ...]


Decision = MemberEntered | MemberLeft | FloorChanged | RecordingStarted | RecordingStopped | RoomEnded


@attrs.define
class Room:
    """A room's members, floor holder and recording, changed only through `apply`."""

    uid: str
    name: str
    state: str = OPEN
    members: dict[int, str] = attrs.field(factory=dict)  # member id -> call uuid
    floor: int | None = None
    recording: str | None = None

    def apply(self, event: ConferenceEvent) -> list[Decision]:
        """Apply one event of this room; events after the room ended change nothing."""
        if event.conference_uid != self.uid:
            raise ValueError(f"room {self.name} ({self.uid}): event for {event.conference_uid}")
        if self.state == ENDED:
            return []
        handler = _TABLE.get(event.action)
        return handler(self, event) if handler else []

    def end(self) -> list[Decision]:
        """End the room without a destroy event (e.g. the inbound connection was lost)."""
        if self.state == ENDED:
            return []
        self.state = ENDED
        left = tuple(MemberLeft(self.uid, mid, uuid) for mid, uuid in sorted(self.members.items()))
        self.members.clear()
        return [RoomEnded(self.uid, left)]


def _add(room: Room, event: ConferenceEvent) -> list[Decision]:
    if event.member_id is None or event.unique_id is None:
        return []
    room.members[event.member_id] = event.unique_id
    return [MemberEntered(room.uid, event.member_id, event.unique_id)]


def _delete(room: Room, event: ConferenceEvent) -> list[Decision]:
    if event.member_id is None or event.member_id not in room.members:
        return []
    uuid = room.members.pop(event.member_id)
    if room.floor == event.member_id:
        room.floor = None
    return [MemberLeft(room.uid, event.member_id, uuid)]


def _floor(room: Room, event: ConferenceEvent) -> list[Decision]:
    new = event.get("New-ID")
    room.floor = int(new) if new and new.isdigit() else None
    return [FloorChanged(room.uid, room.floor)]


def _start_recording(room: Room, event: ConferenceEvent) -> list[Decision]:
    path = event.get("Path") or ""
    if event.get("Error"):
        return []
    room.recording = path
    return [RecordingStarted(room.uid, path)]


def _stop_recording(room: Room, event: ConferenceEvent) -> list[Decision]:
    path = event.get("Path") or ""
    if room.recording is None or (path and path != room.recording):
        return []
    room.recording = None
    ms = event.get("Milliseconds-Elapsed")
    return [RecordingStopped(room.uid, path, int(ms) if ms and ms.isdigit() else None)]


def _destroy(room: Room, event: ConferenceEvent) -> list[Decision]:
    return room.end()


_TABLE: dict[str, Callable[[Room, ConferenceEvent], list[Decision]]] = {
    "add-member": _add,
    "del-member": _delete,
    "floor-change": _floor,
    "start-recording": _start_recording,
    "stop-recording": _stop_recording,
    "conference-destroy": _destroy,
}
