"""What an ai-agent participant hears (ours, docs/ai-agent.md): with `aiAgentHears` naming
roles, `relate <ai> <x> nohear` for every member x of another role; the whole room otherwise.
Its coach mode (heard by Agents only) is the supervisors' (rooms/mpc_media.relations, with
mpc_model.COACHES). `audio` is its participant-audio-events (ParticipantAudioStart/Stop)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from plivoxml_fs.fs import commands
from plivoxml_fs.rooms.model import Decision, Role
from plivoxml_fs.rooms.mpc_model import MpcState

if TYPE_CHECKING:
    from plivoxml_fs.rooms.mpc import MpcRoom


def relations(self: MpcRoom) -> list[Decision]:
    inside = [m for m in self.members.values() if m.in_room and m.member_id is not None]
    wanted = set()
    for ai in inside:
        hears = ai.seat.participant.hears if ai.seat.participant is not None else None
        if ai.role != Role.AI_AGENT or hears is None:
            continue
        wanted |= {(ai.member_id, x.member_id) for x in inside
                   if x is not ai and x.role not in hears}
    decisions: list[Decision] = []
    for ai, other in sorted(wanted - self.ai_related):
        decisions += self._send(commands.conference_api, "relate", str(ai), str(other),
                                "nohear", call_uuid=_uuid_of(self, ai))
    self.ai_related = wanted
    return decisions


def _uuid_of(self: MpcRoom, member_id: int) -> str:
    member = self.by_member_id(member_id)
    return member.call_uuid if member is not None else ""


def audio(self: MpcRoom, call_uuid: str, on: bool, now: float) -> list[Decision]:
    """The AI participant's audio into the room started (`on`: the service's playAudio began
    to play) or stopped (it ran out, or clearAudio): ParticipantAudioStart / Stop, in the
    participant-audio-events group, while the MPC is Active and the AI is in the room
    (docs/ai-agent.md, "Audio events")."""
    member = self.member(call_uuid)
    if (member is None or member.role != Role.AI_AGENT or not member.in_room
            or self.status != MpcState.ACTIVE):
        return []
    return self._status("ParticipantAudioStart" if on else "ParticipantAudioStop", now, member)
