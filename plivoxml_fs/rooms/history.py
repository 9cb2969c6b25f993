"""What a room leaves behind: each member's stay and each recording, kept while the room lives
and handed over as one `RoomRecord` when it is over (the control API's history, effects/history.py).

Pure data, filled by the room engine (rooms/registry.py): `left` when a member that entered
leaves, `recorded` whenever the room holds a recording, `ended` once the room is over.
A `<MultiPartyCall>` room leaves the same record (kind `multipartycall`).
"""

from __future__ import annotations

from typing import Any

import attrs

from plivoxml_fs.rooms.model import Member, Recording


@attrs.frozen
class Stay:
    """One member's time in the room."""

    member_id: int
    call_uuid: str
    params: dict[str, str]  # the call's Plivo parameters (From, To, CallerName, Direction...)
    joined_at: float  # epoch seconds
    left_at: float
    reason: str  # ExitReason value
    muted: bool
    deaf: bool
    role: str = ""  # an MPC participant's (Role value)
    options: dict[str, Any] = attrs.field(factory=dict)  # an MPC participant's own flags


@attrs.frozen
class RoomRecord:
    """An ended room: who, when, what was recorded."""

    kind: str
    account: str
    name: str
    uuid: str
    started_at: float
    ended_at: float
    stays: tuple[Stay, ...]
    recordings: tuple[dict[str, Any], ...]


@attrs.define
class RoomLog:
    """A live room's stays and recordings so far."""

    stays: list[Stay] = attrs.field(factory=list)
    recordings: dict[str, dict[str, Any]] = attrs.field(factory=dict)  # recording id -> facts

    def left(self, member: Member, now: float, reason: str) -> None:
        assert member.member_id is not None
        participant = member.seat.participant
        options = {} if participant is None else {
            "start_mpc_on_enter": bool(participant.start_mpc_on_enter),
            "end_mpc_on_exit": bool(participant.end_mpc_on_exit)}
        self.stays.append(Stay(member.member_id, member.call_uuid, dict(member.seat.call_params),
                               member.joined_at or now, now, reason, member.muted, member.deaf,
                               member.role.value, options))

    def recorded(self, rec: Recording) -> None:
        if rec.recording_id not in self.recordings:
            self.recordings[rec.recording_id] = {
                "recording_id": rec.recording_id, "url": rec.record_url,
                "start_ms": rec.started_ms, "member_id": str(rec.member_id),
            }

    def ended(self, room: Any, now: float) -> RoomRecord:
        return RoomRecord(room.kind.value, room.scope, room.name, room.uid or "", room.since,
                          now, tuple(self.stays), tuple(self.recordings.values()))
