"""A `<Conference>` room's spoken wait music: a waitSound with Speaks, played by the room.

FreeSWITCH 1.10.12 cannot speak a room's music (rooms/room_sounds.py: no `tts://`;
`conference_moh_sound=say:` is silent in a wait-mod room; a room `play say:` fires no done, and
a marker queued after it completes only when stopped), so such a waitSound is not the room's
moh: the room plays it to each waiting member as member plays, the way MPC wait music is
played (rooms/mpc_media.py, measured there): a file part as
`play '{play_id=wN}file_string://<part>' <id>`, a Speech as `play 'say:#<voice>#<text>' <id>`
followed by the marker `'{play_id=wN}file_string://silence_stream://1'` (member plays queue,
so the marker's done is the speech's end); each play-file-member-done of the member's current
id starts the next part, after the last the first again.

When the room waits, as FreeSWITCH plays its moh: while no moderator (startConferenceOnEnter
true) has entered (FreeSWITCH's wait-mod, cleared for good by the first moderator), and while
one member is alone. Then every member of ours in the room hears the music; when the room
stops waiting, each one's music is stopped (`stop all <id>`). A cycle that played under
MIN_LOOP_MS is a broken source: one WARNING, silence. A refused `say:`: that member's music
stops (silence, never a loop of refusals).

Pure: no gevent, no I/O; the room (rooms/room.py) calls these with its events.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import attrs

from plivoxml_fs.errors import UnsafeValue
from plivoxml_fs.fs import member_commands
from plivoxml_fs.fs.events import ConferenceEvent
from plivoxml_fs.rooms.model import Command, CommandDone, Decision, Member
from plivoxml_fs.rooms.mpc_media import MARKER, MIN_LOOP_MS
from plivoxml_fs.rooms.mpc_model import Music, Speech

if TYPE_CHECKING:
    from plivoxml_fs.rooms.room import Room

log = logging.getLogger("plivoxml_fs.rooms")

#: The tokens of the music's commands (told apart in the room's answers).
TOKEN = "music"


@attrs.define
class Playing:
    """One member's music: its current part and play id."""

    play_id: str | None = None
    part: int = 0
    cycle_ms: int = 0  # media ms the parts of this cycle played so far
    started_us: int | None = None  # when FreeSWITCH queued the current part


@attrs.define
class WaitMusic:
    """The room's spoken wait music and what it knows to decide when it plays."""

    music: Music = ()
    moderated: bool = False  # a moderator entered: FreeSWITCH's wait-mod is over
    size: int = 0  # members in FreeSWITCH's room (Conference-Size)
    playing: dict[str, Playing] = attrs.field(factory=dict)  # call uuid -> its music
    tokens: int = 0


def set_music(room: Room, music: Music) -> list[Decision]:
    """The creator's resolved waitSound (with Speaks): the room plays it from now on."""
    room.wait_music.music = tuple(music)
    return reconcile(room)


def waiting(room: Room) -> bool:
    """FreeSWITCH's moh rule: no moderator yet (wait-mod), or one member alone."""
    state = room.wait_music
    return bool(state.music) and state.size >= 1 and (not state.moderated or state.size == 1)


def reconcile(room: Room) -> list[Decision]:
    """Every member of ours in the room hears the music while the room waits; no one else."""
    state = room.wait_music
    if not state.music:
        return []
    wanted = waiting(room)
    decisions: list[Decision] = []
    for member in room.members.values():
        here = member.in_room and member.member_id is not None and member.reason is None
        playing = state.playing.get(member.call_uuid)
        if wanted and here and playing is None:
            state.playing[member.call_uuid] = Playing()
            decisions += _play(room, member, 0)
        elif playing is not None and not (wanted and here):
            del state.playing[member.call_uuid]
            if here and playing.play_id is not None:
                decisions += _send(room, member_commands.conference_stop_member, member.member_id,
                                   call_uuid=member.call_uuid)
    return decisions


def sized(room: Room, event: ConferenceEvent) -> list[Decision]:
    """add-member / del-member: the room's size, a moderator's entry, then who hears."""
    state = room.wait_music
    if event.size is not None:
        state.size = event.size
    if event.action == "add-member" and event.get("Member-Type") == "moderator":
        state.moderated = True
    return reconcile(room)


def play_started(room: Room, event: ConferenceEvent) -> list[Decision]:
    """play-file-member of a member's current play id: when FreeSWITCH queued it (a marker
    is queued right after its speech, so this is when the speech began)."""
    member, playing = _of(room, event)
    if playing is not None and playing.play_id is not None \
            and (event.get("File") or "").startswith(f"{{play_id={playing.play_id}}}"):
        playing.started_us = _stamp(event)
    return []


def play_done(room: Room, event: ConferenceEvent) -> list[Decision]:
    """The member's current part ended: the next one, or the first again."""
    member, playing = _of(room, event)
    if member is None or playing is None or playing.play_id is None \
            or event.get("play_id") != playing.play_id:
        return []  # another play, or one the room stopped
    parts = room.wait_music.music
    playing.play_id = None
    playing.cycle_ms += _played_ms(playing, parts, event)
    following = playing.part + 1
    if following < len(parts):
        return _play(room, member, following)
    if playing.cycle_ms < MIN_LOOP_MS:
        log.warning("conference %s: member %s: its waitSound ended after %s ms; not looped "
                    "(silence)", room.name, member.member_id, playing.cycle_ms,
                    extra=room._extra(member.call_uuid))
        return []
    return _play(room, member, 0)


def answered(room: Room, done: CommandDone, call_uuid: str) -> list[Decision]:
    """A refused command of the music: one WARNING; a refused `say:` stops that member's
    music (its marker's done then carries another id)."""
    if done.ok:
        return []
    sent = done.token.split(" ", 1)[-1]
    log.warning("call %s: conference %s: FreeSWITCH refused %r: %s", call_uuid, room.name,
                room.shown(sent), room.shown(done.text.strip()), extra=room._extra(call_uuid))
    playing = room.wait_music.playing.get(call_uuid)
    if playing is not None and sent.startswith(f"conference {room.fs_name} play 'say:"):
        playing.play_id = None
    return []


def _play(room: Room, member: Member, part: int) -> list[Decision]:
    state = room.wait_music
    playing = state.playing[member.call_uuid]
    state.tokens += 1
    play_id = f"w{state.tokens}"
    what, mid, uuid = state.music[part], member.member_id, member.call_uuid
    if isinstance(what, Speech):
        decisions = _send(room, member_commands.conference_member_say, what.text, what.voice, mid,
                          call_uuid=uuid)
        if decisions:
            decisions += _send(room, member_commands.conference_member_play, MARKER, mid, play_id,
                               call_uuid=uuid)
    else:
        decisions = _send(room, member_commands.conference_member_play, what, mid, play_id,
                          call_uuid=uuid)
    if decisions:
        playing.play_id, playing.part, playing.started_us = play_id, part, None
        if part == 0:
            playing.cycle_ms = 0
    return decisions


def _send(room: Room, build: Any, *args: Any, call_uuid: str) -> list[Decision]:
    """The Command `build(fs_name, *args)` makes; none (one ERROR) when it cannot be sent."""
    try:
        cmd = build(room.fs_name, *args)
    except UnsafeValue as exc:
        log.error("call %s: conference %s: waitSound not played: %s", call_uuid, room.name,
                  exc, extra=room._extra(call_uuid))
        return []
    room.wait_music.tokens += 1
    command = Command(cmd, f"{TOKEN}#{room.wait_music.tokens} {cmd}", call_uuid,
                      room=f"conference {room.name}")
    room._sent[command.token] = call_uuid
    return [command]


def _of(room: Room, event: ConferenceEvent) -> tuple[Member | None, Playing | None]:
    member = room.by_member_id(event.member_id) if event.member_id is not None else None
    if member is None or not member.in_room:
        return None, None
    return member, room.wait_music.playing.get(member.call_uuid)


def _played_ms(playing: Playing, parts: Music, event: ConferenceEvent) -> int:
    """Media ms the part played: a file's own `milliseconds`; a speech's from its marker's
    queueing to its done (FreeSWITCH's event times), 0 when unknown."""
    if isinstance(parts[playing.part], Speech):
        done = _stamp(event)
        if playing.started_us is None or done is None:
            return 0
        return max(0, (done - playing.started_us) // 1000)
    raw = event.get("milliseconds") or ""
    return int(raw) if raw.isdigit() else MIN_LOOP_MS


def _stamp(event: ConferenceEvent) -> int | None:
    raw = event.get("Event-Date-Timestamp") or ""
    return int(raw) if raw.isdigit() else None
