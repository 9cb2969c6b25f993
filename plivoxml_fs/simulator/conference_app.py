"""The `conference` application of the embedded FreeSWITCH (`room[@profile][+flags{a|b}]`):
joins a channel to a room of conference.py and blocks until the member leaves; the member's
flags and channel variables as mod_conference sets them, its DTMF (dist-dtmf, caller
controls); and the playback hook by which a loopback partner's file makes its member talk.
"""

from __future__ import annotations

import gevent

from plivoxml_fs.simulator.apps import PLAYBACK_HOOKS, application
from plivoxml_fs.simulator.channels import Channel
from plivoxml_fs.simulator.conference import (
    CONTROL_GROUPS,
    CREATE,
    MEMBER_FLAGS,
    Conferences,
    JoinSpec,
    Member,
    Room,
    _bool,
    parse_join,
)

#: Sources that carry no audio: playing them does not make a member talk.
SILENT_PREFIXES = ("silence_stream://",)


def _partner_talks(channel: Channel, piece) -> None:
    """A channel plays a file: if its loopback partner is a member, that member talks while it
    lasts (the A leg of a test call sending audio into the room)."""
    partner = channel.partner
    if partner is None or not piece.ms or piece.source.startswith(SILENT_PREFIXES):
        return
    partner.sim.conferences.talk(partner.uuid, piece.ms, piece.source)


PLAYBACK_HOOKS.append(_partner_talks)


# -- the application -------------------------------------------------------------------------
@application("conference")
def _conference(channel: Channel, arg: str) -> None:
    spec = parse_join(arg)
    if not spec.room:
        return None
    confs: Conferences = channel.sim.conferences
    profile = confs.profiles.get(spec.profile, confs.profiles["default"])
    if not channel.answered_us:
        channel.mark_answered()
    room = confs.rooms.get(spec.room)
    if room is None:
        room = Room(channel.sim, spec.room, profile, channel)
        confs.rooms[spec.room] = room
        room.room_event(CREATE, "conference-create")
    channel.set_var("conference_name", room.name)
    channel.set_var("app_session_uuid", room.uuid)
    if room.is_full() or room.locked:
        if not room.members:
            room.destroy()
        return None
    member = Member(room, channel, confs.next_id(), _member_flags(channel, spec) & MEMBER_FLAGS)
    _set_member_variables(channel, member)
    on_dtmf = _dtmf_handler(member)
    channel.dtmf_handlers.append(on_dtmf)
    try:
        room.add(member)
        gevent.wait([member.gone, channel.hungup], count=1)
    finally:
        channel.dtmf_handlers.remove(on_dtmf)
        room.remove(member)
    channel.record("conference", f"{room.name} member {member.id} ({member.reason or 'hangup'})")
    if member.reason == "ended" and channel.is_up and (
        channel.get_var("hangup_after_conference") or "true"
    ).lower() not in ("false", "0", "no", "off"):
        channel.hangup("NORMAL_CLEARING")
    return None


def _member_flags(channel: Channel, spec: JoinSpec) -> frozenset[str]:
    """`+flags{}`, then the channel's `conference_member_flags` (`|` or `,` between flags) and
    every `conference_member_flags_<flag>=true` (conference_utils_combine_flag_var)."""
    flags = set(spec.flags)
    listed = channel.get_var("conference_member_flags") or ""
    flags.update(f.strip() for f in listed.replace(",", "|").split("|") if f.strip())
    prefix = "conference_member_flags_"
    for name, value in channel.variables.items():
        if name.startswith(prefix) and (value or "").strip().lower() == "true":
            flags.add(name[len(prefix):])
    return frozenset(flags)


def _set_member_variables(channel: Channel, member: Member) -> None:
    """The variables mod_conference sets on a member's channel, in lifecycle.txt's order."""
    for name, value in (
        ("conference_member_id", str(member.id)), ("conference_moderator", _bool(member.moderator)),
        ("conference_ghost", "false"), ("conference_uuid", member.room.uuid),
        ("read_codec", "L16"), ("read_rate", "8000"),
    ):
        channel.set_var(name, value)


def _dtmf_handler(member: Member):
    """dist-dtmf relays digits to the other members; otherwise the caller-controls group acts."""
    group_name = member.channel.get_var("conference_controls") or member.room.profile.caller_controls
    controls = CONTROL_GROUPS.get(group_name, {})

    def on_dtmf(channel: Channel, digit: str) -> None:
        if "dist-dtmf" in member.flags:
            for other in list(member.room.members.values()):
                if other is not member:
                    other.send_dtmf(digit)
            return
        if controls.get(digit) == "hangup":
            member.leave("hangup-on-star")

    return on_dtmf
