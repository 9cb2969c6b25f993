"""What each MPC member hears and says, as commands (rooms/mpc.py decides when).

- `reconcile(room, member)`: the member's FreeSWITCH state made what the MPC's says: before the
  start and while held it is muted and deaf (`mute <id> quiet`, `deaf <id>`) and hears its
  music as a member play (`play '{play_id=pN}file_string://<music>' <id>`): the wait music
  before the start, its role's hold music while held (none: silence); otherwise it hears the
  room and speaks unless muted.
- `play_done(room, event)`: a play-file-member-done of the member's current play id replays
  its music (FreeSWITCH's member plays do not loop); a done of another id is one the room
  stopped or replaced. A play that ended within MIN_LOOP_MS is a broken source: one WARNING,
  silence.
- `relations(room)`: coach mode as `relate <supervisor> <x> nospeak` for every member x but
  Agents, cleared when no longer wanted (coach mode stopped).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from plivoxml_fs.fs import commands
from plivoxml_fs.fs.events import ConferenceEvent
from plivoxml_fs.rooms.model import Decision, Member, Role
from plivoxml_fs.rooms.mpc_hooks import Media
from plivoxml_fs.rooms.mpc_model import MpcState

if TYPE_CHECKING:
    from plivoxml_fs.rooms.mpc import MpcRoom

log = logging.getLogger("plivoxml_fs.rooms")

#: A member play that ends within this many (media) ms is not replayed: its source is broken.
MIN_LOOP_MS = 100

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
    else:
        music = None if active else self.settings.wait_music
    mid, decisions = member.member_id, []
    if media.speaks != speaks:
        media.speaks = speaks
        decisions += self._send(commands.conference_member_quiet, "unmute" if speaks
                                else "mute", mid, call_uuid=member.call_uuid)
    if media.hears != hears:
        media.hears = hears
        decisions += self._send(commands.conference_api, "undeaf" if hears else "deaf",
                                str(mid), call_uuid=member.call_uuid)
    if media.music != music or (music and media.play_id is None):
        if media.play_id is not None:
            media.play_id = None
            decisions += self._send(commands.conference_stop_member, mid,
                                    call_uuid=member.call_uuid)
        media.music = None
        if music:
            decisions += _play(self, member, media, music)
    return decisions

def _play(self: MpcRoom, member: Member, media: Media, music: str) -> list[Decision]:
    self._tokens += 1
    play_id = f"p{self._tokens}"
    decisions = self._send(commands.conference_member_play, music, member.member_id,
                           play_id, call_uuid=member.call_uuid)
    if decisions:
        media.music, media.play_id = music, play_id
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

def _uuid_of(self: MpcRoom, member_id: int) -> str:
    member = self.by_member_id(member_id)
    return member.call_uuid if member is not None else ""



def play_done(self: MpcRoom, event: ConferenceEvent) -> list[Decision]:
    member = self.by_member_id(event.member_id) if event.member_id is not None else None
    media = self.media.get(member.call_uuid) if member is not None else None
    if member is None or media is None or not member.in_room:
        return []
    if media.play_id is None or event.get("play_id") != media.play_id:
        return []  # a play the room stopped or replaced
    media.play_id = None
    raw = event.get("milliseconds") or ""
    if raw.isdigit() and int(raw) < MIN_LOOP_MS:
        log.warning("MPC %s (%s): member %s: its music %s ended after %s ms; not looped "
                    "(silence)", self.name, self.mpc_uuid, member.member_id, media.music, raw,
                    extra=self._extra(member.call_uuid))
        return []
    music, media.music = media.music, None
    return _play(self, member, media, music) if music else []
