"""Strings for a room's recorder member and for recording one leg (`<MultiPartyCall>` recording).

mod_conference's own recorder (`conference <room> recording start`) is no member `relate` can
name, so it always holds a whispering supervisor (reference/mod_conference.md §6, §9). An MPC
recorded without the coach's voice is recorded by a member of its own instead: a loopback call
whose A leg joins the room muted and whose B leg only answers and parks
(`loopback/^^!answer!park/default/inline`, FreeSWITCH's inline dialplan, so the call never
reaches the daemon's socket). `relate <recorder> <supervisor> nohear` takes the supervisor out
of what that member hears, and `uuid_record` on the A leg with RECORD_WRITE_ONLY (what the room
sends the member) writes the file. Measured on FreeSWITCH 1.10.12 (tests/fs/test_recorder_real.py):
the file holds every other member's tone at full level and the supervisor's not at all, and a
lone member is in it too, because the recorder is no `ghost` (mod_conference mixes nobody while
the room counts fewer than two members; a ghost recorder heard a lone member at -45 dBFS).

The recorder is joined with `conference_member_flags_*` variables rather than `+flags{a|b}`, as
an originate string splits on `|` and `,`; its enter and exit sounds are 20 ms of silence so
the room hears no beep for it; `nomoh` keeps the room's alone-music off while it is in.
"""

from __future__ import annotations

import re

from plivoxml_fs.fs.commands import PROFILE_NAME, _check_text, _match, identifier, room_name

#: The B leg's inline dialplan (`!` between applications: a `,` would split the originate and
#: `;` the lines of `conference list`): answer (so the originate succeeds), hang up by itself
#: after `max_s` (a recorder the daemon can no longer reach never outlives its MPC), park.
RECORDER_DESTINATION = "loopback/^^!answer!sched_hangup:+{max_s}!park/default/inline"
#: Enter and exit sound of the recorder: the room hears nothing when it joins or leaves.
QUIET = "silence_stream://20"
#: Seconds the originate waits for the inline B leg (it answers at once).
ORIGINATE_TIMEOUT_S = 10
#: What `uuid_record` is asked to do with a leg's recording.
RECORD_ACTIONS = ("start", "stop", "pause", "resume")
#: Paths recordings are written to: absolute, no spaces or characters FreeSWITCH splits on.
RECORD_PATH = re.compile(r"/[A-Za-z0-9_./-]{1,1024}\.(wav|mp3)")


def recorder_originate(room: str, profile: str, uuid: str, *, max_s: int = 28_800 + 60) -> str:
    """`originate` of the recorder member `uuid` (its A leg) into room `room@profile`.

    The reply (`+OK <uuid>`) comes once the B leg answered; the A leg then joins the room, so its
    add-member (Unique-ID `uuid`) follows. RECORD_WRITE_ONLY=true is set on it for the
    `uuid_record` that writes the file."""
    room_name(room)
    _match(PROFILE_NAME, profile, "conference profile")
    identifier(uuid, "recorder uuid")
    if not isinstance(max_s, int) or isinstance(max_s, bool) or not 0 < max_s <= 10**6:
        raise ValueError(f"recorder: max_s {max_s!r} is not 1..1000000 seconds")
    variables = (
        f"origination_uuid={uuid}",
        f"originate_timeout={ORIGINATE_TIMEOUT_S}",
        "conference_member_flags_mute=true",
        "conference_member_flags_nomoh=true",
        f"conference_enter_sound={QUIET}",
        f"conference_exit_sound={QUIET}",
        "conference_controls=none",
        "RECORD_WRITE_ONLY=true",
    )
    destination = RECORDER_DESTINATION.format(max_s=max_s)
    return f"originate {{{','.join(variables)}}}{destination} &conference({room}@{profile})"


def uuid_record(uuid: str, action: str, path: str, *, read_only: bool = False) -> str:
    """`uuid_record <uuid> start|stop|pause|resume <path>`; `read_only` (start only) records
    what the leg receives alone (`0 {RECORD_READ_ONLY=true}`: no limit, the recording's own
    variable, so the channel's stay as they are): on a participant's leg, its own voice."""
    identifier(uuid, "uuid_record uuid")
    if action not in RECORD_ACTIONS:
        raise ValueError(f"uuid_record: {action!r} is not one of {RECORD_ACTIONS}")
    _check_text(path, "uuid_record path")
    _match(RECORD_PATH, path, "uuid_record path")
    if read_only and action != "start":
        raise ValueError("uuid_record: read_only is for start")
    suffix = " 0 {RECORD_READ_ONLY=true}" if read_only else ""
    return f"uuid_record {uuid} {action} {path}{suffix}"


def uuid_kill(uuid: str, cause: str = "NORMAL_CLEARING") -> str:
    """`uuid_kill <uuid> <cause>`: hang up a leg the daemon made (the recorder)."""
    identifier(uuid, "uuid_kill uuid")
    _match(re.compile(r"[A-Z_]{1,64}"), cause, "hangup cause")
    return f"uuid_kill {uuid} {cause}"

