"""What the control API asks of a room, as pure inputs: each returns the room's decisions.

The API (api/conference.py) resolves a room and its members (snapshots: rooms/views.py
`MemberView`), then runs one of these through `RoomEngine.decide`, so its commands take the
path every room decision takes (the engine performs them; the answers come back into the
room as `CommandDone`). Only the room's public surface is used; nothing here sends, waits or
reads a clock.

- `members_of(room, spec)`: `spec` is one member id, a comma list (`10,11`) or `all` (the
  members of ours in the room now); ValueError for a malformed spec, NoSuchMember naming the
  ids the room does not have.
- `mute`/`deaf` (on or off) go through `Room.mute`/`Room.deaf`; repeating one does no harm
  (FreeSWITCH answers, the member's flag stays as it is).
- `kick`: out of the room (`Room.kick`, reason kicked); the call goes on with its next verb.
- `hang_up`: the member's call is hung up (`uuid_kill`); `hang_up_room`: every member's.
- `play(url)`/`stop_play`: `conference <room> play http_cache://<url> <id>` to each member,
  and `stop all <id>`; `speak(text, voice)`: `saymember <id> {tts_voice=...}<text>` (the
  room's TTS engine, flite), stopped as a play is.
- `record(rec)`/`stop_recording`: the room's recording, its callback the Record API's
  (`Recording.api_id`); one at a time (`recording_busy`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from plivoxml_fs.errors import UnsafeValue
from plivoxml_fs.fs import arguments, commands, member_commands
from plivoxml_fs.rooms.model import Command, Decision, ExitReason, Recording
from plivoxml_fs.rooms.room import Room
from plivoxml_fs.rooms.views import MemberView

#: `member_id` as the API takes it: `all`, or ids separated by commas.
MEMBER_SPEC = re.compile(r"all|[1-9][0-9]{0,9}(?:,[1-9][0-9]{0,9})*")
#: The hangup cause of a call the API hangs up.
API_HANGUP_CAUSE = "NORMAL_CLEARING"


class NoSuchMember(LookupError):
    """The room has no member of ours with these ids (the message lists them)."""


def members_of(room: Room, spec: str) -> list[MemberView]:
    """The members `spec` names (see the module docstring)."""
    return named(room.present(), spec, lambda ids: NoSuchMember(
        f"conference {room.name!r} has no member {ids}"))


def named(here: list[MemberView], spec: str, missing: Callable[[str], Exception], *,
          allow_all: bool = True) -> list[MemberView]:
    """The members of `here` that `spec` names: one id, a comma list (each once, in the
    order given) or `all`; ValueError for a malformed spec (or `all` without `allow_all`),
    `missing(ids)` raised for ids `here` does not have."""
    spec = str(spec).strip()
    if not MEMBER_SPEC.fullmatch(spec):
        raise ValueError("must be a member id, a comma-separated list of ids, or all")
    if spec == "all":
        if not allow_all:
            raise ValueError("must name one member id (all is not allowed here)")
        return here
    by_id = {m.member_id: m for m in here}
    wanted = list(dict.fromkeys(int(i) for i in spec.split(",")))
    absent = [str(i) for i in wanted if i not in by_id]
    if absent:
        raise missing(", ".join(absent))
    return [by_id[i] for i in wanted]


def mute(room: Room, members: list[MemberView], on: bool) -> list[Decision]:
    return [d for m in members for d in room.mute(_id(m), on)]


def deaf(room: Room, members: list[MemberView], on: bool) -> list[Decision]:
    return [d for m in members for d in room.deaf(_id(m), on)]


def kick(room: Room, members: list[MemberView]) -> list[Decision]:
    return [d for m in members for d in room.kick(_id(m), ExitReason.KICKED)]


def hang_up(room: Room, members: list[MemberView]) -> list[Decision]:
    """Hang up each member's call (its verb then leaves with reason hangup)."""
    return [_kill(m.call_uuid) for m in members]


def hang_up_room(room: Room) -> list[Decision]:
    """Every member's call hung up; members without a seat of ours hung up from the room."""
    seen = room.view()
    decisions: list[Decision] = [_kill(call_uuid) for call_uuid in seen.seats]
    for member_id in seen.others:
        decisions.extend(room.command("hup", str(member_id)))
    return decisions


def play(room: Room, members: list[MemberView], url: str) -> list[Decision]:
    """ValueError (naming why) for a URL FreeSWITCH cannot be handed."""
    try:
        source = arguments.http_audio(url)
    except UnsafeValue as exc:
        raise ValueError(str(exc)) from None
    return [d for m in members for d in room.command("play", source, str(_id(m)),
                                                      call_uuid=m.call_uuid)]


def stop_play(room: Room, members: list[MemberView]) -> list[Decision]:
    return [d for m in members for d in room.command("stop", "all", str(_id(m)),
                                                      call_uuid=m.call_uuid)]


def speak(room: Room, members: list[MemberView], text: str, voice: str) -> list[Decision]:
    """ValueError (naming why) for text or a voice FreeSWITCH cannot be handed."""
    try:
        flat, flite = arguments.speak_text(text), arguments.flite_voice(voice)
        cmds = [member_commands.conference_saymember(room.fs_name, _id(m), flite, flat)
                for m in members]
    except UnsafeValue as exc:
        raise ValueError(str(exc)) from None
    return [Command(cmd, f"api-speak {cmd}", m.call_uuid)
            for cmd, m in zip(cmds, members, strict=True)]


def recording_busy(room: Room) -> bool:
    """Whether the room records already (or is starting to)."""
    return room.recording_live or room.shown_recording is not room.recording


def record(room: Room, rec: Recording) -> list[Decision]:
    return room.record(rec)


def stop_recording(room: Room) -> list[Decision]:
    """Stop the room's recording (its callback follows FreeSWITCH's stop-recording)."""
    if room.recording is None or not room.recording_live:
        return []
    return room.command("recording", "stop", room.recording.path)


def _id(member: MemberView) -> int:
    assert member.member_id is not None
    return member.member_id


def _kill(call_uuid: str) -> Command:
    cmd = commands.uuid_kill(call_uuid, API_HANGUP_CAUSE)
    return Command(cmd, f"api-hangup {cmd}", call_uuid)
