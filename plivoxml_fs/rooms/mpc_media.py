"""What each MPC member hears and says, as commands (rooms/mpc.py decides when).

- `reconcile(room, member)`: the member's FreeSWITCH state made what the MPC's says: before the
  start and while held it is muted and deaf (`mute <id> quiet`, `deaf <id>`) and hears its
  music as a member play (`play '{play_id=pN}file_string://<music>' <id>`): the wait music
  before the start, its role's hold music while held (none: silence); otherwise it hears the
  room and speaks unless muted. While an add participant with a dial_music URL dials
  (`MpcRoom.dial_music`), that music replaces the wait music and plays over the room to
  every member but held ones (their hold music) and ai-agents.
- `play_done(room, event)`: a play-file-member-done of the member's current play id replays
  its music (FreeSWITCH's member plays do not loop); a done of another id is one the room
  stopped or replaced. A play that ended within MIN_LOOP_MS is a broken source: one WARNING,
  silence.
- `relations(room)`: coach mode as `relate <supervisor> <x> nospeak` for every member x but
  Agents, cleared when no longer wanted (coach mode stopped).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from plivoxml_fs.fs import commands, member_commands
from plivoxml_fs.fs.events import ConferenceEvent
from plivoxml_fs.rooms.model import CommandDone, Decision, Member, Role
from plivoxml_fs.rooms.mpc_hooks import Media
from plivoxml_fs.rooms.mpc_model import MpcState, Speech, music_parts

if TYPE_CHECKING:
    from plivoxml_fs.rooms.mpc import MpcRoom

log = logging.getLogger("plivoxml_fs.rooms")

#: Music whose whole cycle plays within this many (media) ms is not replayed: its source is
#: broken (a file not found, a TTS engine saying nothing).
MIN_LOOP_MS = 100
#: The play queued after a speech: its done event is the speech's end.
MARKER = "silence_stream://1"

def reconcile(self: MpcRoom, member: Member) -> list[Decision]:
    """Commands that make FreeSWITCH's view of `member` what the MPC's state says."""
    media = self.media.get(member.call_uuid)
    if media is None or member.member_id is None or not member.in_room \
            or self.status == MpcState.ENDED or member.reason is not None:
        return []
    active = self.status == MpcState.ACTIVE
    hears = active and not member.held
    speaks = hears and not member.muted
    if member.held:
        music = self.settings.hold_music(member.role)
    elif self.dialling and member.role != Role.AI_AGENT:
        music = next(reversed(self.dialling.values()))  # the latest add participant's
    else:
        music = None if active else self.settings.wait_music
    mid, decisions = member.member_id, []
    if media.speaks != speaks:
        media.speaks = speaks
        decisions += self._send(member_commands.conference_member_quiet, "unmute" if speaks
                                else "mute", mid, call_uuid=member.call_uuid)
    if media.hears != hears:
        media.hears = hears
        decisions += self._send(commands.conference_api, "undeaf" if hears else "deaf",
                                str(mid), call_uuid=member.call_uuid)
    if media.music != music or (music and media.play_id is None):
        if media.play_id is not None:
            media.play_id = None
            decisions += self._send(member_commands.conference_stop_member, mid,
                                    call_uuid=member.call_uuid)
        media.music = None
        if music:
            decisions += _play(self, member, media, music)
    return decisions

def _play(self: MpcRoom, member: Member, media: Media, music: Any, part: int = 0) -> list[Decision]:
    """Play part `part` of `music` to `member`: a file source as one member play with a new
    play id; a Speech as a `say:` play followed by a marker play with the id (a speech play
    fires no done event; member plays queue, so the marker's done is the speech's end)."""
    parts = music_parts(music)
    self._tokens += 1
    play_id = f"p{self._tokens}"
    what = parts[part]
    mid, uuid = member.member_id, member.call_uuid
    if isinstance(what, Speech):
        decisions = self._send(member_commands.conference_member_say, what.text, what.voice, mid,
                               call_uuid=uuid)
        if decisions:
            decisions += self._send(member_commands.conference_member_play, MARKER, mid, play_id,
                                    call_uuid=uuid)
    else:
        decisions = self._send(member_commands.conference_member_play, what, mid, play_id,
                               call_uuid=uuid)
    if decisions:
        media.music, media.play_id, media.part, media.started_us = music, play_id, part, None
        if part == 0:
            media.cycle_ms = 0
    return decisions

def relations(self: MpcRoom) -> list[Decision]:
    """Coach mode as `relate` commands: every coaching supervisor in the room is not heard
    by anyone but Agents; a pair no longer wanted is cleared."""
    inside = [m for m in self.members.values() if m.in_room and m.member_id is not None]
    wanted = {(s.member_id, x.member_id) for s in inside if self.coaching.get(s.call_uuid)
              for x in inside if x is not s and x.role != Role.AGENT}
    decisions: list[Decision] = []
    for sup, other in sorted(wanted - self.related):
        decisions += self._send(commands.conference_api, "relate", str(sup), str(other),
                                "nospeak", call_uuid=_uuid_of(self, sup))
    for sup, other in sorted(self.related - wanted):
        if self.by_member_id(other) is not None:
            decisions += self._send(commands.conference_api, "relate", str(sup),
                                    str(other), "clear", call_uuid=_uuid_of(self, sup))
    self.related = wanted  # type: ignore[assignment]
    return decisions

def answered(self: MpcRoom, done: CommandDone, call_uuid: str) -> list[Decision]:
    """FreeSWITCH's answer to one of the room's commands. A refusal is one WARNING naming
    the MPC (its friendly name and MPCUUID), the member and the command; a refused
    `relate <sup> <x> nospeak` is forgotten (FreeSWITCH has no such relation), so the room's
    view stays FreeSWITCH's and a later change sets it again; a refused `say:` stops the
    member's music (silence; its marker's done is then another id's)."""
    if done.ok:
        return []
    member = self.members.get(call_uuid)
    sent = done.token.split(" ", 1)[-1]
    words = sent.split(" ")
    if words[2:3] == ["hup"] and done.text.startswith("-ERR Non-Existant ID"):
        # released as it left on its own (its hangup raced the release; h-m3 saw it on
        # 1.10.12): gone anyway, nothing refused
        log.debug("MPC %s (%s): member %s already gone when released", self.name,
                  self.mpc_uuid, words[3] if len(words) > 3 else "?",
                  extra=self._extra(call_uuid))
        return []
    log.warning("MPC %s (%s): member %s: FreeSWITCH refused %r: %s", self.name, self.mpc_uuid,
                member.member_id if member else call_uuid, sent, done.text.strip(),
                extra=self._extra(call_uuid))
    if len(words) == 6 and words[2] == "relate" and words[5] == "nospeak" \
            and words[3].isdigit() and words[4].isdigit():
        self.related.discard((int(words[3]), int(words[4])))
    media = self.media.get(call_uuid)
    if media is not None and sent.startswith(f"conference {self.fs_name} play 'say:"):
        media.music = media.play_id = None  # FreeSWITCH cannot speak: silence, not a loop
    return []


def _uuid_of(self: MpcRoom, member_id: int) -> str:
    member = self.by_member_id(member_id)
    return member.call_uuid if member is not None else ""



def play_started(self: MpcRoom, event: ConferenceEvent) -> list[Decision]:
    """play-file-member of the member's current play id: when FreeSWITCH queued it (a
    marker is queued right after its speech, so this is when the speech began)."""
    media = _media_of(self, event)
    if media is not None and media.play_id is not None \
            and (event.get("File") or "").startswith(f"{{play_id={media.play_id}}}"):
        media.started_us = _stamp(event)
    return []


def play_done(self: MpcRoom, event: ConferenceEvent) -> list[Decision]:
    """The current part ended: the next one, or the first again (the loop). A cycle that
    played under MIN_LOOP_MS is a broken source: one WARNING, silence."""
    member = self.by_member_id(event.member_id) if event.member_id is not None else None
    media = self.media.get(member.call_uuid) if member is not None else None
    if member is None or media is None or not member.in_room:
        return []
    if media.play_id is None or event.get("play_id") != media.play_id:
        return []  # a play the room stopped or replaced
    media.play_id = None
    parts = music_parts(media.music)
    media.cycle_ms += _played_ms(media, parts, event)
    music, media.music = media.music, None
    if not parts:
        return []
    following = media.part + 1
    if following < len(parts):
        return _play(self, member, media, music, following)
    if media.cycle_ms < MIN_LOOP_MS:
        log.warning("MPC %s (%s): member %s: its music %s ended after %s ms; not looped "
                    "(silence)", self.name, self.mpc_uuid, member.member_id, _shown(parts),
                    media.cycle_ms, extra=self._extra(member.call_uuid))
        return []
    return _play(self, member, media, music)


def _played_ms(media: Media, parts: Any, event: ConferenceEvent) -> int:
    """Media ms the part that just ended played: a file's own `milliseconds`; a speech's from
    its marker's queueing to its done (FreeSWITCH's event times), 0 when unknown."""
    raw = event.get("milliseconds") or ""
    if media.part < len(parts) and isinstance(parts[media.part], Speech):
        done = _stamp(event)
        if media.started_us is None or done is None:
            return 0
        return max(0, (done - media.started_us) // 1000)
    return int(raw) if raw.isdigit() else MIN_LOOP_MS


def _stamp(event: ConferenceEvent) -> int | None:
    raw = event.get("Event-Date-Timestamp") or ""
    return int(raw) if raw.isdigit() else None


def _media_of(self: MpcRoom, event: ConferenceEvent) -> Media | None:
    member = self.by_member_id(event.member_id) if event.member_id is not None else None
    return self.media.get(member.call_uuid) if member is not None and member.in_room else None


def _shown(parts: Any) -> str:
    return " then ".join(f"say {p.text!r}" if isinstance(p, Speech) else p for p in parts)
