"""What the control API reads of a room: snapshots the room makes, which nothing can change.

A room's state is the room's (changed only by its inputs, rooms/room.py and rooms/mpc.py); the
API reads a copy taken at one moment and hands ids back to the room's inputs:

- `MemberView`: one member as it is now (its `Seat`, FreeSWITCH's member id, when it entered,
  mute/deaf/hold and, in an MPC, coach mode). `Room.present()` / `MpcRoom.present()` give the
  members in the room now, `MpcRoom.member_view(call_uuid)` one seat (in the room or not yet).
- `ConferenceView` (`Room.view()`): the conference's name, uid, start, members present, every
  seat's call and the members without a seat of ours.
- `MpcView` (`MpcRoom.view()`): the MPC's state, times, limits, creator, recording state and
  the files being recorded (`RecordingFile`: id and URL), and the rate it is billed at.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from plivoxml_fs.rooms.model import Member, Seat, Seated


@attrs.frozen
class MemberView(Seated):
    """One member at one moment."""

    seat: Seat
    member_id: int | None
    joined_at: float | None
    muted: bool
    deaf: bool
    held: bool
    coaching: bool = False  # an MPC supervisor's (or coaching ai-agent's) coach mode

    @classmethod
    def of(cls, member: Member, coaching: bool = False) -> MemberView:
        return cls(member.seat, member.member_id, member.joined_at, member.muted, member.deaf,
                   member.held, coaching)

    @property
    def call_params(self) -> Mapping[str, str]:
        return self.seat.call_params

    @property
    def participant(self) -> Any:
        """The MPC participant's own attributes (rooms/mpc_model.Participant), None in a
        `<Conference>`."""
        return self.seat.participant


@attrs.frozen
class ConferenceView:
    """A `<Conference>` room at one moment."""

    name: str
    uid: str | None
    since: float
    members: tuple[MemberView, ...]  # in the room now, in join order
    seats: tuple[str, ...] = ()  # every seat's call uuid (in the room or not yet)
    others: tuple[int, ...] = ()  # member ids in FreeSWITCH's room without a seat of ours


@attrs.frozen
class RecordingFile:
    """A file an MPC records (the MPC's, or a participant's track)."""

    recording_id: str
    url: str


@attrs.frozen
class MpcView:
    """A `<MultiPartyCall>` at one moment."""

    name: str
    mpc_uuid: str
    status: Any  # mpc_model.MpcState
    since: float
    started_at: float | None
    ended_at: float | None
    termination: Any  # mpc_model.Termination | None
    max_participants: int
    max_duration_s: int
    creator: MemberView | None  # the first participant, while seated
    recording: str  # not-recording, recording, paused (Plivo's words)
    recording_file: RecordingFile | None  # the MPC's current (or last) recording
    tracks: Mapping[str, RecordingFile]  # participant call uuid -> its track being recorded
    rate_per_minute: float  # mpc_rate_per_minute: what its minutes are billed at
