"""How a `<Conference>` member joins: its member flags and channel variables (pure, no I/O).

Mapping (spec/plivo-conference.md, reference/freeswitch-verified.md):
- startConferenceOnEnter=true -> `moderator`; false -> `wait-mod` (waits for a true member).
- endConferenceOnExit=true -> `endconf`; muted=true -> `mute`; relayDTMF=true -> `dist-dtmf`.
- stayAlone=false -> `mintwo` (the room ends when one member is left); true (default) adds
  nothing, so a lone caller stays until timeLimit.
- maxMembers -> `conference_max_members` (it acts when set on the room's creator).
- enterSound/exitSound `beep:1`/`beep:2` -> `conference_enter_sound`/`conference_exit_sound`
  as one or two short tones. URL sounds need a fetch and are not mapped here.
- `hangup_after_conference=false` always: the channel goes on to the next verb.
"""

from __future__ import annotations

import attrs

from plivoxml_fs.documents.models import Conference
from plivoxml_fs.fs import commands

#: beep:1 is one 400 Hz tone, beep:2 two (what the member hears on entry / exit).
BEEP_SOUNDS = {
    "beep:1": commands.tone_stream((200, 0, 400)),
    "beep:2": commands.tone_stream((200, 100, 400), (200, 0, 400)),
}


@attrs.frozen
class JoinPlan:
    """The `conference` app argument and the channel variables to set before it."""

    app_arg: str
    variables: tuple[tuple[str, str], ...]


def member_flags(conf: Conference) -> tuple[str, ...]:
    """The member flags of `conf`, in a fixed order."""
    flags = ["moderator" if conf.start_conference_on_enter else "wait-mod"]
    if conf.muted:
        flags.append("mute")
    if conf.end_conference_on_exit:
        flags.append("endconf")
    if not conf.stay_alone:
        flags.append("mintwo")
    if conf.relay_dtmf:
        flags.append("dist-dtmf")
    return tuple(flags)


def join_plan(conf: Conference, profile: str = "default") -> JoinPlan:
    """What to send for `conf`: variables first (in order), then `conference <app_arg>`."""
    variables = [("hangup_after_conference", "false"),
                 ("conference_max_members", str(conf.max_members))]
    for name, sound in (("conference_enter_sound", conf.enter_sound),
                        ("conference_exit_sound", conf.exit_sound)):
        if sound in BEEP_SOUNDS:
            variables.append((name, BEEP_SOUNDS[sound]))
    app_arg = commands.conference_app(conf.name, profile, member_flags(conf))
    return JoinPlan(app_arg, tuple(variables))
