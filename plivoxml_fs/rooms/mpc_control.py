"""What the Multi-party Call API asks of an MPC room, as pure inputs (api/mpc.py calls them
through `RoomEngine.control`, as api/conference.py does rooms/control.py's).

They change the room only through its own methods (rooms/mpc.py `activate`, `hangup`,
`mute`, `hold`, `coach`, `kick`) so the status callbacks, music and relations follow as they
do for the XML; what the API adds is here:

- `participants_of(room, spec, allow_all)`: one member id, a comma list or `all` (the
  participants in the room now, not being let go); ValueError for a malformed spec (and for
  `all` where it is refused), NoSuchParticipant naming the ids the MPC does not have.
- `coach(...)`: the supervisor's coach mode, then `beep:1` played into the room (Plivo: a
  change by REST is heard by everyone) as `conference <room> play <tone> async`.
- `play(room, members, url)` / `stop_play`: a member play of the URL (`{play_id=apiN}`, so
  the room's own music loop tells it apart) and `stop all <id>` (the member's music, if it
  has some, is played again by its done event: rooms/mpc_media.py).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from plivoxml_fs.errors import UnsafeValue
from plivoxml_fs.fs import arguments, commands, member_commands
from plivoxml_fs.rooms.model import Decision, Member
from plivoxml_fs.rooms.mpc_model import MpcState

if TYPE_CHECKING:
    from plivoxml_fs.rooms.mpc import MpcRoom

#: member ids as the API takes them: `all`, or ids separated by commas.
PARTICIPANT_SPEC = re.compile(r"all|[1-9][0-9]{0,9}(?:,[1-9][0-9]{0,9})*")
#: beep:1 (one 400 Hz tone), what a coach-mode change plays into the MPC.
BEEP = arguments.tone_stream((200, 0, 400))


class NoSuchParticipant(LookupError):
    """The MPC has no participant with these ids (the message lists them)."""


def present(room: MpcRoom) -> list[Member]:
    """Participants in the room now and not being let go, in join order."""
    return [m for m in room.members.values()
            if m.in_room and m.member_id is not None and m.reason is None]


def participants_of(room: MpcRoom, spec: str, *, allow_all: bool = True) -> list[Member]:
    spec = str(spec).strip()
    if not PARTICIPANT_SPEC.fullmatch(spec):
        raise ValueError("must be a member id, a comma-separated list of ids, or all")
    here = present(room)
    if spec == "all":
        if not allow_all:
            raise ValueError("must name one member id (all is not allowed here)")
        return here
    by_id = {m.member_id: m for m in here}
    wanted = list(dict.fromkeys(int(i) for i in spec.split(",")))
    missing = [str(i) for i in wanted if i not in by_id]
    if missing:
        raise NoSuchParticipant(f"multi party call {room.name!r} has no participant "
                                f"{', '.join(missing)}")
    return [by_id[i] for i in wanted]


def _id(member: Member) -> int:
    assert member.member_id is not None
    return member.member_id


def activate(room: MpcRoom, now: float) -> list[Decision]:
    return room.activate(now)


def hangup(room: MpcRoom, now: float) -> list[Decision]:
    return room.hangup(now)


def mute(room: MpcRoom, members: list[Member], on: bool, now: float) -> list[Decision]:
    return [d for m in members for d in room.mute(_id(m), on, now)]


def hold(room: MpcRoom, members: list[Member], on: bool, now: float) -> list[Decision]:
    return [d for m in members for d in room.hold(_id(m), on, now)]


def coach(room: MpcRoom, member: Member, on: bool, now: float) -> list[Decision]:
    decisions = room.coach(_id(member), on, now)
    if decisions and room.status != MpcState.ENDED:
        decisions += room._send(commands.conference_api, "play", BEEP, "async",
                                call_uuid=member.call_uuid)
    return decisions


def kick(room: MpcRoom, members: list[Member], now: float) -> list[Decision]:
    return [d for m in members for d in room.kick(_id(m), now)]


def play(room: MpcRoom, members: list[Member], url: str) -> list[Decision]:
    """ValueError (naming why) for a URL FreeSWITCH cannot be handed."""
    try:
        source = arguments.http_audio(url)
    except UnsafeValue as exc:
        raise ValueError(str(exc)) from None
    decisions: list[Decision] = []
    for member in members:
        room._tokens += 1
        decisions += room._send(member_commands.conference_member_play, source, _id(member),
                                f"api{room._tokens}", call_uuid=member.call_uuid)
    return decisions


def stop_play(room: MpcRoom, members: list[Member]) -> list[Decision]:
    return [d for m in members for d in room._send(member_commands.conference_stop_member, _id(m),
                                                   call_uuid=m.call_uuid)]
