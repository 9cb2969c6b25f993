"""The `conference` API's member commands of the embedded FreeSWITCH (`conference <room>
<command> <member selector> ...`): mute/unmute/tmute, deaf/undeaf, hold/unhold, kick, hup,
dtmf, energy, volume_in/volume_out, with FreeSWITCH 1.10.12's replies and events. Registered
in conference_api.MEMBER_COMMANDS when conference_api imports this module.
"""

from __future__ import annotations

from plivoxml_fs.simulator.conference import Member, Room
from plivoxml_fs.simulator.conference_api import MEMBER_USAGE, _at, member_command


@member_command("mute")
def _mute(room: Room, member: Member, args: list[str]) -> str:
    member.can_speak = False
    member.talking = False
    room.audio_changed()
    room.member_event(_at("conference_api_sub_mute", 339), member, "mute-member")
    return f"+OK mute {member.id}\n"


@member_command("unmute")
def _unmute(room: Room, member: Member, args: list[str]) -> str:
    member.can_speak = True
    room.audio_changed()
    room.member_event(_at("conference_api_sub_unmute", 492), member, "unmute-member")
    return f"+OK unmute {member.id}\n"


@member_command("tmute")
def _tmute(room: Room, member: Member, args: list[str]) -> str:
    return _unmute(room, member, args) if not member.can_speak else _mute(room, member, args)


def _hearing(name: str, hears: bool, line: int):
    """`deaf` / `undeaf`: the member stops (or starts again) hearing the room."""
    @member_command(name)
    def command(room: Room, member: Member, args: list[str]) -> str:
        member.can_hear = hears
        room.audio_changed()
        room.member_event(_at(f"conference_api_sub_{name}", line), member, f"{name}-member")
        return f"+OK {name} {member.id}\n"

    return command


_deaf = _hearing("deaf", False, 797)
_undeaf = _hearing("undeaf", True, 839)


@member_command("hold")
def _hold(room: Room, member: Member, args: list[str]) -> str:
    member.hold = True
    room.audio_changed()
    room.member_event(_at("conference_api_sub_hold", 440), member, "hold-member")
    if args and member.hold_playback is None:  # heard alone (mux=false), not mixed with the room
        member.hold_playback = room.play(args[0], member, mux=False)
    return f"+OK hold {member.id}\n"


@member_command("unhold")
def _unhold(room: Room, member: Member, args: list[str]) -> str:
    member.hold = False
    room.audio_changed()
    room.member_event(_at("conference_api_sub_unhold", 389), member, "unhold-member")
    if member.hold_playback is not None:
        member.hold_playback.stop.set()
        member.hold_playback = None
    return f"+OK unhold {member.id}\n"


@member_command("kick")
def _kick(room: Room, member: Member, args: list[str]) -> str:
    room.member_event(_at("conference_api_sub_kick", 902), member, "kick-member")
    member.leave("kicked")
    return f"+OK kicked {member.id}\n"


@member_command("hup")
def _hup(room: Room, member: Member, args: list[str]) -> str:
    room.member_event(_at("conference_api_sub_hup", 871), member, "hup-member")
    member.leave("hup")
    return f"+OK hup {member.id}\n"


@member_command("dtmf")
def _dtmf(room: Room, member: Member, args: list[str]) -> str:
    if not args:
        return MEMBER_USAGE["dtmf"]
    digits = args[0]
    room.member_event(_at("conference_api_sub_dtmf", 1049), member, "dtmf-member",
                      [("Digits", digits)])
    member.send_dtmf(digits)
    return f"+OK sent {digits} to {member.id}\n"


@member_command("energy")
def _energy(room: Room, member: Member, args: list[str]) -> str:
    if args:
        if not args[0].lstrip("-").isdigit():
            return f"-ERR energy: {args[0]} is not a number\n"
        member.energy = max(0, int(args[0]))
        room.audio_changed()  # the mixer's gate takes the new level from the next frame
        room.member_event(_at("conference_api_sub_energy", 1228), member, "energy-level-member",
                          [("Energy-Level", str(member.energy))])
    return f"Energy {member.id} = {member.energy}\n"


def _volume(room: Room, member: Member, args: list[str], side: str) -> str:
    attr = "volume_in" if side == "IN" else "volume_out"
    if args:
        if not args[0].lstrip("-").isdigit():
            return f"-ERR volume: {args[0]} is not a number\n"
        value = max(-4, min(4, int(args[0])))
        setattr(member, attr, value)
        line = 1574 if side == "IN" else 1623
        room.member_event(_at(f"conference_api_sub_{attr}", line), member,
                          f"volume-{side.lower()}-member", [("Volume-Level", str(value))])
    return f"+OK Volume {side} {member.id} = {getattr(member, attr)}\n"


@member_command("volume_in")
def _volume_in(room: Room, member: Member, args: list[str]) -> str:
    return _volume(room, member, args, "IN")


@member_command("volume_out")
def _volume_out(room: Room, member: Member, args: list[str]) -> str:
    return _volume(room, member, args, "OUT")
