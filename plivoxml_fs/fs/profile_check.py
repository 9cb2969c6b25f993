"""What FreeSWITCH's conference profile makes the rooms say by themselves, checked at start.

Plivo plays nothing in a room the XML does not ask for, but mod_conference 1.10.12 greets the
first member of every new room (`conference_member_add`): with the profile's `alone-sound` it
plays that file to the room; without one, when the profile has a `tts-engine` and `tts-voice`
(which `<Speak>` in a room needs), it says "You are currently the only person in this
conference." to that member — about 3 s in which the member hears nothing of the room (heard on
1.10.12: a customer missed the AI participant's first words). No channel variable turns it
off (`conference_silent_entry` would also drop the add-member event the daemon needs), so the
profile has to: freeswitch/autoload_configs/conference.conf.xml sets
`alone-sound` to `silence_stream://20`.

`problems(conf_xml, profile)` reads the conference.conf section FreeSWITCH answers to
`xml_locate configuration configuration name conference.conf`; `check(api, profile)` asks for it
and returns what it finds wrong, one sentence each; the daemon logs them as WARNINGs when its
inbound connection first comes up (service.py) and the real-FreeSWITCH tests refuse to run on a
FreeSWITCH that would talk over them (tests/fs/conftest.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from defusedxml import ElementTree

log = logging.getLogger(__name__)

LOCATE = "xml_locate configuration configuration name conference.conf"
#: What the shipped profiles set (freeswitch/autoload_configs/conference.conf.xml).
QUIET_ALONE_SOUND = "silence_stream://20"


def _params(profile) -> dict[str, str]:
    return {p.get("name", "").lower(): p.get("value", "") for p in profile.iter("param")}


def problems(conf_xml: str, profile: str) -> list[str]:
    """What profile `profile` of this conference.conf section makes a room say unasked."""
    try:
        root = ElementTree.fromstring(conf_xml)
    except ElementTree.ParseError as exc:
        return [f"conference.conf from FreeSWITCH is not XML ({exc}); its profile {profile!r} "
                f"was not checked"]
    found = [p for p in root.iter("profile") if p.get("name") == profile]
    if not found:
        return [f"conference profile {profile!r} (setting conference_profile) is not in "
                f"FreeSWITCH's conference.conf: rooms get mod_conference's defaults"]
    params = _params(found[0])
    alone = params.get("alone-sound", "").strip()
    if alone and not alone.startswith("silence_stream://"):
        return [f"conference profile {profile!r} has alone-sound {alone!r}: every new room's "
                f"first member hears it (Plivo plays nothing); set alone-sound to "
                f"{QUIET_ALONE_SOUND} as freeswitch/autoload_configs/conference.conf.xml does"]
    if not alone and params.get("tts-engine") and params.get("tts-voice"):
        return [f"conference profile {profile!r} has a tts-engine and no alone-sound: "
                f"FreeSWITCH says \"You are currently the only person in this conference\" to "
                f"every new room's first member, who hears nothing else for about 3 s (Plivo "
                f"says nothing); set alone-sound to {QUIET_ALONE_SOUND} as "
                f"freeswitch/autoload_configs/conference.conf.xml does"]
    return []


def check(api: Callable[[str], str], profiles: list[str]) -> list[str]:
    """Ask FreeSWITCH (`api`: one API command -> its reply) and check each of `profiles`."""
    reply = api(LOCATE)
    if not reply.lstrip().startswith("<"):
        return [f"FreeSWITCH did not give its conference.conf ({reply.strip()[:80]!r}); the "
                f"conference profiles were not checked"]
    found: list[str] = []
    for profile in profiles:
        found += problems(reply, profile)
    return found


def warn(api: Callable[[str], str], profiles: list[str]) -> list[str]:
    """check(), each problem logged as a WARNING (a failed ask too); the problems."""
    try:
        found = check(api, profiles)
    except Exception as exc:  # noqa: BLE001 - a check must never stop the daemon
        found = [f"the conference profiles were not checked: {exc}"]
    for problem in found:
        log.warning("%s", problem)
    return found
