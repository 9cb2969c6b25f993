"""What an MPC does with each conference event of its room (rooms/mpc.py `MpcRoom.apply`).

add-member: the participant is in (ParticipantJoin, its waitTime armed, the recorder told, coach
relations, the start when due, else its media reconciled; one let go before it got in is hung
up); del-member: out (a supervisor coaching no agent now: one INFO line); kick/hup-member: the
room let it go; start/stop-talking: ParticipantSpeakStart/Stop while Active; play-file-member
(-done): the music loop (rooms/mpc_media.py); conference-destroy: the end when no one is left.
Pure: no gevent, no I/O.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from plivoxml_fs.fs import commands
from plivoxml_fs.fs.events import ConferenceEvent
from plivoxml_fs.rooms import mpc_media
from plivoxml_fs.rooms.model import ArmTimer, Decision, ExitReason, Role
from plivoxml_fs.rooms.mpc_model import MpcState, Termination

if TYPE_CHECKING:
    from plivoxml_fs.rooms.mpc import MpcRoom

log = logging.getLogger("plivoxml_fs.rooms")


def added(room: MpcRoom, event: ConferenceEvent, now: float) -> list[Decision]:
    member = room.members.get(event.unique_id or "")
    if member is None or event.member_id is None or member.member_id is not None:
        return []
    member.member_id, member.joined_at, member.in_room = event.member_id, now, True
    decisions: list[Decision] = []
    if member.reason is not None:  # let go before it got in (the MPC ended meanwhile)
        return room._send(commands.conference_api, "hup", str(event.member_id),
                          call_uuid=member.call_uuid)
    decisions.extend(room._status("ParticipantJoin", now, member))
    participant = member.seat.participant
    if participant is not None and participant.wait_time_s is not None \
            and room.status == MpcState.INITIALIZED:
        at = now + participant.wait_time_s * room.scale
        room.media[member.call_uuid].wait_deadline = at
        decisions.append(ArmTimer(at))
    decisions.extend(room.recorder.joined(room, member, now))
    decisions.extend(room._relations())
    if room.status == MpcState.INITIALIZED and may_start(room):
        decisions.extend(room.activate(now))
    else:
        decisions.extend(room._reconcile(member))
    return decisions


def may_start(room: MpcRoom) -> bool:
    inside = [m for m in room.members.values() if m.in_room and m.reason is None]
    starter = any(m.seat.participant is None or m.seat.participant.start_mpc_on_enter
                  for m in inside)
    agent = any(m.role == Role.AGENT for m in inside)
    return starter and (agent or not room.settings.wait_for_agent)


def deleted(room: MpcRoom, event: ConferenceEvent, now: float) -> list[Decision]:
    member = room.by_member_id(event.member_id) if event.member_id is not None else None
    if member is not None:
        member.in_room = False
        if member.role == Role.AGENT and not any(
                m.in_room and m.role == Role.AGENT for m in room.members.values()):
            for sup in room.members.values():
                if sup.in_room and room.coaching.get(sup.call_uuid):
                    log.info("MPC %s (%s): supervisor member %s coaches no agent now",
                             room.name, room.mpc_uuid, sup.member_id,
                             extra=room._extra(sup.call_uuid))
    room.related = {p for p in room.related if event.member_id not in p}
    return []


def kicked(room: MpcRoom, event: ConferenceEvent, now: float) -> list[Decision]:
    member = room.by_member_id(event.member_id) if event.member_id is not None else None
    if member is not None and member.reason is None:
        member.reason = ExitReason.KICKED
    return []


def talking(room: MpcRoom, event: ConferenceEvent, now: float) -> list[Decision]:
    member = room.members.get(event.unique_id or "")
    if member is None or not member.in_room or room.status != MpcState.ACTIVE:
        return []
    name = "ParticipantSpeakStart" if event.action == "start-talking" else "ParticipantSpeakStop"
    return room._status(name, now, member)


def destroyed(room: MpcRoom, event: ConferenceEvent, now: float) -> list[Decision]:
    for member in room.members.values():
        member.in_room = False
    if room.status != MpcState.ENDED and not room._counted():
        return room.end(Termination.NO_ACTIVE_PARTICIPANTS, now)
    return []


TABLE: dict[str, Any] = {
    "add-member": added,
    "del-member": deleted,
    "kick-member": kicked,
    "hup-member": kicked,
    "start-talking": talking,
    "stop-talking": talking,
    "play-file-member": lambda room, event, now: mpc_media.play_started(room, event),
    "play-file-member-done": lambda room, event, now: mpc_media.play_done(room, event),
    "conference-destroy": destroyed,
}
