"""The seams of an MPC room: what it tells FreeSWITCH about one member (`Media`), and its
recording component (`MpcRecorder`; engineer m2's). `make_recorder(room)` makes a new MPC's
component: NoRecording until the recording component replaces it (set the module attribute,
or have rooms/mpc.py import the real one).
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

import attrs

if TYPE_CHECKING:
    from plivoxml_fs.rooms.model import Decision, Member
    from plivoxml_fs.rooms.mpc import MpcRoom


@attrs.define
class Media:
    """What the room last told FreeSWITCH about one member."""

    speaks: bool
    hears: bool
    music: Any = None  # the Music playing (mpc_model.music_parts), None: none
    play_id: str | None = None
    wait_deadline: float | None = None
    part: int = 0  # the part of `music` playing
    cycle_ms: int = 0  # media ms the parts of this cycle played so far
    started_us: int | None = None  # when FreeSWITCH queued the current part (its timestamp)


class MpcRecorder(Protocol):
    """The MPC's recording component (m2): each hook returns decisions."""

    def started(self, room: MpcRoom, now: float) -> list[Decision]: ...
    def joined(self, room: MpcRoom, member: Member, now: float) -> list[Decision]: ...
    def left(self, room: MpcRoom, member: Member, now: float) -> list[Decision]: ...
    def ended(self, room: MpcRoom, now: float) -> list[Decision]: ...
    def apply(self, room: MpcRoom, event: Any, now: float) -> list[Decision]: ...
    def lost_connection(self, room: MpcRoom, now: float) -> list[Decision]: ...

    @property
    def done(self) -> bool: ...

    # what the control API reads (MpcRoom.view): Plivo's recording state, the files
    shown: str
    file: Any
    tracks: Mapping[str, Any]


class NoRecording:
    """An MPC without a recording component."""

    done = True
    shown = "not-recording"
    file = None
    tracks: Mapping[str, Any] = types.MappingProxyType({})

    def started(self, room, now):
        return []

    joined = left = apply = lambda self, room, x, now: []  # noqa: E731

    def ended(self, room, now):
        return []

    def lost_connection(self, room, now):
        return []


def _recording(room: MpcRoom) -> MpcRecorder:
    """rooms/mpc_recording.py's component (imported here: it imports this module)."""
    from plivoxml_fs.rooms.mpc_recording import MpcRecording

    return MpcRecording(room)


#: Makes the recording component of a new MPC.
make_recorder: Any = _recording


