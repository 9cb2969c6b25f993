"""What the Multi-party Call API asks of an MPC room, as pure inputs (api/mpc.py runs them
through `RoomEngine.decide`, as api/conference.py does rooms/control.py's).

They change the room only through its public methods (rooms/mpc.py `activate`, `hangup`,
`mute`, `hold`, `coach`, `kick`, `command`, `member_play`, `stop_member_play`) so the status
callbacks, music and relations follow as they do for the XML; what the API adds is here:

- `participants_of(room, spec, allow_all)`: one member id, a comma list or `all` (the
  participants in the room now, not being let go: `MpcRoom.present()`, snapshots);
  ValueError for a malformed spec (and for `all` where it is refused), NoSuchParticipant
  naming the ids the MPC does not have.
- `coach(...)`: the supervisor's coach mode, then `beep:1` played into the room (Plivo: a
  change by REST is heard by everyone) as `conference <room> play <tone> async`.
- `play(room, members, url)` / `stop_play`: a member play of the URL (`{play_id=apiN}`, so
  the room's own music loop tells it apart) and `stop all <id>` (the member's music, if it
  has some, is played again by its done event: rooms/mpc_media.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from plivoxml_fs.errors import UnsafeValue
from plivoxml_fs.fs import arguments
from plivoxml_fs.rooms.control import named
from plivoxml_fs.rooms.model import Decision
from plivoxml_fs.rooms.mpc_model import MpcState
from plivoxml_fs.rooms.views import MemberView

if TYPE_CHECKING:
    from plivoxml_fs.rooms.mpc import MpcRoom

#: beep:1 (one 400 Hz tone), what a coach-mode change plays into the MPC.
BEEP = arguments.tone_stream((200, 0, 400))


class NoSuchParticipant(LookupError):
    """The MPC has no participant with these ids (the message lists them)."""


def participants_of(room: MpcRoom, spec: str, *, allow_all: bool = True) -> list[MemberView]:
    return named(room.present(), spec, lambda ids: NoSuchParticipant(
        f"multi party call {room.name!r} has no participant {ids}"), allow_all=allow_all)


def _id(member: MemberView) -> int:
    assert member.member_id is not None
    return member.member_id


def activate(room: MpcRoom, now: float) -> list[Decision]:
    return room.activate(now)


def hangup(room: MpcRoom, now: float) -> list[Decision]:
    return room.hangup(now)


def mute(room: MpcRoom, members: list[MemberView], on: bool, now: float) -> list[Decision]:
    return [d for m in members for d in room.mute(_id(m), on, now)]


def hold(room: MpcRoom, members: list[MemberView], on: bool, now: float) -> list[Decision]:
    return [d for m in members for d in room.hold(_id(m), on, now)]


def coach(room: MpcRoom, member: MemberView, on: bool, now: float) -> list[Decision]:
    decisions = room.coach(_id(member), on, now)
    if decisions and room.view().status != MpcState.ENDED:
        decisions += room.command("play", BEEP, "async", call_uuid=member.call_uuid)
    return decisions


def kick(room: MpcRoom, members: list[MemberView], now: float) -> list[Decision]:
    return [d for m in members for d in room.kick(_id(m), now)]


def play(room: MpcRoom, members: list[MemberView], url: str) -> list[Decision]:
    """ValueError (naming why) for a URL FreeSWITCH cannot be handed."""
    try:
        source = arguments.http_audio(url)
    except UnsafeValue as exc:
        raise ValueError(str(exc)) from None
    return [d for m in members for d in room.member_play(_id(m), source, m.call_uuid)]


def stop_play(room: MpcRoom, members: list[MemberView]) -> list[Decision]:
    return [d for m in members for d in room.stop_member_play(_id(m), m.call_uuid)]
