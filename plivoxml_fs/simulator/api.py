"""API commands of the embedded FreeSWITCH (`api` / `bgapi` on either socket).

Each command is `func(sim, arg, owner) -> str`, the exact text FreeSWITCH 1.10.12 answers
(mod_commands.c; error texts checked on a running instance): `originate` (loopback only),
`uuid_send_dtmf`, `uuid_broadcast`, `uuid_kill`, `hupall`, `show channels [count]`, `uuid_getvar`,
`uuid_setvar`, `uuid_exists`, `status`, `version`, `hostname`. Anything else is
`-ERR <cmd> Command not found!`. Other parts add theirs with `api_command` (the conference:
conference_api.py; `uuid_record`: leg_record.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING
from xml.sax.saxutils import quoteattr

import gevent

from plivoxml_fs.simulator.apps import Execute
from plivoxml_fs.simulator.bus import local_stamp
from plivoxml_fs.simulator.causes import cause_from
from plivoxml_fs.simulator.channels import DTMF_DEFAULT_SAMPLES, SAMPLES_PER_MS

if TYPE_CHECKING:
    from plivoxml_fs.simulator.server import EmbeddedFreeSwitch

ApiFunc = Callable[["EmbeddedFreeSwitch", str, object], str]
API_COMMANDS: dict[str, ApiFunc] = {}

ORIGINATE_USAGE = (
    "-USAGE: <call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] "
    "[<cid_name>] [<cid_num>] [<timeout_sec>]\n"
)
SHOW_CHANNELS_COLUMNS = (
    "uuid,direction,created,created_epoch,name,state,cid_name,cid_num,ip_addr,dest,application,"
    "application_data,dialplan,context,read_codec,read_rate,read_bit_rate,write_codec,write_rate,"
    "write_bit_rate,secure,hostname,presence_id,presence_data,accountcode,callstate,callee_name,"
    "callee_num,callee_direction,call_uuid,sent_callee_name,sent_callee_num,initial_cid_name,"
    "initial_cid_num,initial_ip_addr,initial_dest,initial_dialplan,initial_context"
)
#: Media time between the api reply to uuid_send_dtmf and the digits' arrival, in ms.
DTMF_DELAY_MS = 20
DTMF_DIGITS = frozenset("0123456789*#ABCDabcd")


def api_command(name: str) -> Callable[[ApiFunc], ApiFunc]:
    """Register an API command under `name`."""

    def register(func: ApiFunc) -> ApiFunc:
        API_COMMANDS[name] = func
        return func

    return register


def split_words(text: str) -> list[str]:
    """Split an API argument into words as FreeSWITCH 1.10.12 does (the `conference` API, seen
    on a running instance): on spaces; `'...'` groups (the quotes go); a backslash keeps the
    next character from splitting or quoting, and only `\\\\` and `\\'` lose it (`a\\ b` stays
    one word `a\\ b`); double quotes are plain characters."""
    words: list[str] = []
    word: list[str] | None = None
    quoted = False
    chars = iter(text)
    for char in chars:
        if char == "\\":
            nxt = next(chars, "")
            word = (word or []) + ([nxt] if nxt in ("\\", "'") else [char, nxt])
        elif char == "'":
            quoted, word = not quoted, word or []
        elif char == " " and not quoted:
            if word is not None:
                words.append("".join(word))
            word = None
        else:
            word = (word or []) + [char]
    if word is not None:
        words.append("".join(word))
    return words


def run_api(sim: EmbeddedFreeSwitch, text: str, owner=None) -> str:
    """Answer one API command line as FreeSWITCH does."""
    name, _, arg = text.strip().partition(" ")
    func = API_COMMANDS.get(name)
    if func is None:
        return f"-ERR {name} Command not found!\n"
    return func(sim, arg.strip(), owner)


@api_command("originate")
def _originate(sim: EmbeddedFreeSwitch, arg: str, owner) -> str:
    parts = _words(arg)
    if len(parts) < 2:
        return ORIGINATE_USAGE
    return sim.originate_call(parts[0], parts[1], wait=True)


def _words(text: str) -> list[str]:
    """The API's arguments: split at spaces outside single quotes, the quotes kept (as
    FreeSWITCH 1.10.12 splits originate's: `{origination_caller_id_name='Help Desk'}...`)."""
    words, current, quoted = [], "", False
    for ch in text:
        if ch == "'":
            quoted = not quoted
        if ch.isspace() and not quoted:
            if current:
                words.append(current)
            current = ""
        else:
            current += ch
    return [*words, current] if current else words


@api_command("uuid_send_dtmf")
def _uuid_send_dtmf(sim: EmbeddedFreeSwitch, arg: str, owner) -> str:
    parts = arg.split()
    if len(parts) < 2:
        return "-USAGE: <uuid> <dtmf_data>\n"
    uuid, data = parts[0], parts[1]
    channel = sim.channels.get(uuid)
    if channel is None or not channel.is_up:
        return "-ERR Cannot locate session!\n"
    digits, _, duration = data.partition("@")
    samples = DTMF_DEFAULT_SAMPLES
    if duration.isdigit():
        samples = int(duration) * SAMPLES_PER_MS
    target = channel.partner if channel.partner is not None else channel
    keys = [d for d in digits if d in DTMF_DIGITS]
    gevent.spawn_later(sim.clock.wall_s(DTMF_DELAY_MS), _deliver_dtmf, target, keys, samples)
    return f"+OK {uuid} sent DTMF {data}.\n"


def _deliver_dtmf(channel, digits: list[str], samples: int) -> None:
    for digit in digits:
        channel.receive_dtmf(digit.upper(), samples)


@api_command("uuid_broadcast")
def _uuid_broadcast(sim: EmbeddedFreeSwitch, arg: str, owner) -> str:
    """Queue `playback <path>` (or `<app>::<arg>`) on the channel, as a parked channel runs it;
    `+OK Message sent` as media.txt shows. The legs word is matched as mod_commands does
    (substrings; none given: aleg): `aleg` and `both` play on this channel; `bleg` plays on its
    bridged partner only, and a loopback leg has none (FreeSWITCH 1.10.12: a `bleg` or `both`
    broadcast on a loopback A leg never reaches the B leg), so the simulator's never do."""
    parts = arg.split()
    if len(parts) < 2:
        return "-USAGE: <uuid> <path> [aleg|bleg|holdb|both]\n"
    channel = sim.channels.get(parts[0])
    if channel is None or not channel.is_up:
        return "-ERR invalid uuid\n"  # FreeSWITCH 1.10.12's text
    legs = parts[2].lower() if len(parts) > 2 else "aleg"
    app, sep, app_arg = parts[1].partition("::")
    if not sep:
        app, app_arg = "playback", parts[1]
    if "aleg" in legs or "both" in legs:
        channel.commands.put(Execute(app, app_arg))
    return "+OK Message sent\n"


@api_command("uuid_kill")
def _uuid_kill(sim: EmbeddedFreeSwitch, arg: str, owner) -> str:
    if not arg:
        return "-USAGE: <uuid> [cause]\n"
    uuid, _, cause = arg.partition(" ")
    channel = sim.channels.get(uuid)
    if channel is None or not channel.is_up:
        return "-ERR No such channel!\n"
    channel.hangup(cause_from(cause) if cause.strip() else "NORMAL_CLEARING")
    return "+OK\n"


@api_command("hupall")
def _hupall(sim: EmbeddedFreeSwitch, arg: str, owner) -> str:
    first = arg.split()[0] if arg.split() else ""
    cause = cause_from(first, default="MANAGER_REQUEST") if first else "MANAGER_REQUEST"
    for channel in list(sim.channels.values()):
        channel.hangup(cause)
    return f"+OK hangup all channels with cause {cause}\n"


@api_command("uuid_break")
def _uuid_break(sim: EmbeddedFreeSwitch, arg: str, owner) -> str:
    uuid = arg.split()[0] if arg.split() else ""
    if not uuid:
        return "-USAGE: <uuid> [all]\n"
    channel = sim.channels.get(uuid)
    if channel is None or not channel.is_up:
        return "-ERR No such channel!\n"
    channel.breaker.set()
    return "+OK\n"


@api_command("uuid_getvar")
def _uuid_getvar(sim: EmbeddedFreeSwitch, arg: str, owner) -> str:
    parts = arg.split()
    if len(parts) < 2:
        return "-USAGE: <uuid> <var>\n"
    channel = sim.channels.get(parts[0])
    if channel is None or not channel.is_up:  # a channel that hung up cannot be located
        return "-ERR No such channel!\n"
    value = channel.get_var(parts[1])
    return "_undef_" if value is None else value


@api_command("uuid_setvar")
def _uuid_setvar(sim: EmbeddedFreeSwitch, arg: str, owner) -> str:
    parts = arg.split(" ", 2)
    if len(parts) < 2 or not parts[0]:
        return "-USAGE: <uuid> <var> [value]\n"
    channel = sim.channels.get(parts[0])
    if channel is None:
        return "-ERR No such channel!\n"
    if not parts[1]:
        return "-ERR No variable specified\n"
    value = parts[2] if len(parts) > 2 and parts[2] else None
    channel.set_var(parts[1], value)
    return "+OK\n"


@api_command("uuid_exists")
def _uuid_exists(sim: EmbeddedFreeSwitch, arg: str, owner) -> str:
    channel = sim.channels.get(arg)
    return "true" if channel is not None and channel.is_up else "false"


@api_command("show")
def _show(sim: EmbeddedFreeSwitch, arg: str, owner) -> str:
    words = arg.split()
    if not words or words[0] not in ("channels", "calls"):
        return "-USAGE: codec|endpoint|application|api|dialplan|file|timer|calls [count]|channels [count|like <match string>]|calls|detailed_calls|bridged_calls|detailed_bridged_calls|aliases|complete|chat|management|modules|nat_map|say|interfaces|interface_types|tasks|limits|status\n"
    channels = list(sim.channels.values())
    if words[0] == "calls":
        channels = [c for c in channels if c.direction == "outbound"]
    if words[1:2] == ["count"]:
        return f"\n{len(channels)} total.\n"
    if not channels:
        return "\n0 total.\n"
    rows = [SHOW_CHANNELS_COLUMNS] + [_channel_row(sim, c) for c in channels]
    return "\n".join(rows) + f"\n\n{len(channels)} total.\n"


def _channel_row(sim: EmbeddedFreeSwitch, c) -> str:
    profile = dict(c.profile)
    app = c.current_app or ""
    data = (c.current_arg or "") if app else ""
    cid_name = profile.get("Caller-ID-Name", "")
    cid_num = profile.get("Caller-ID-Number", "")
    dest = profile.get("Destination-Number", "")
    fields = [
        c.uuid, c.direction, local_stamp(c.created_us), str(c.created_us // 1_000_000), c.name,
        c.state, cid_name, cid_num, "", dest, app, data, "xml", profile.get("Context", ""),
        "L16", "8000", "128000", "L16", "8000", "128000", "", sim.hostname, "", "", "",
        c.call_state, profile.get("Callee-ID-Name", ""), profile.get("Callee-ID-Number", ""),
        "RECV" if c.direction == "outbound" else "", c.uuid if c.direction == "outbound" else "",
        "", "", "", profile.get("Orig-Caller-ID-Number", cid_num), "", dest, "xml",
        profile.get("Context", ""),
    ]
    return ",".join(fields)


@api_command("status")
def _status(sim: EmbeddedFreeSwitch, arg: str, owner) -> str:
    up_us = sim.clock.now_us() - sim.started_us
    seconds, micro = divmod(up_us, 1_000_000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    years, days = divmod(days, 365)
    count = len(sim.channels)
    return (
        f"UP {years} years, {days} days, {hours} hours, {minutes} minutes, {seconds} seconds, "
        f"{micro // 1000} milliseconds, {micro % 1000} microseconds\n"
        f"FreeSWITCH (Version {sim.version} 64bit) is ready\n"
        f"{sim.sessions_since_startup} session(s) since startup\n"
        f"{count} session(s) - peak {sim.peak_sessions}, last 5min {sim.peak_sessions} \n"
        f"0 session(s) per Sec out of max 1000, peak 0, last 5min 0 \n"
        "4000 session(s) max\n"
        "min idle cpu 0.00/100.00\n"
        "Current Stack Size/Max 240K/8192K\n"
    )


@api_command("version")
def _version(sim: EmbeddedFreeSwitch, arg: str, owner) -> str:
    return f"FreeSWITCH Version {sim.version} (embedded plivoxml-fs simulator)\n"


@api_command("hostname")
def _hostname(sim: EmbeddedFreeSwitch, arg: str, owner) -> str:
    return sim.hostname


@api_command("xml_locate")
def _xml_locate(sim: EmbeddedFreeSwitch, arg: str, owner) -> str:
    """`xml_locate configuration configuration name conference.conf`: the room profiles as
    FreeSWITCH 1.10.12 answers them (one `<param>` per setting the profile has; the daemon
    checks alone-sound and tts at start, fs/profile_check.py); any other section: "can't find
    anything", as 1.10.12 answers a configuration it does not hold."""
    words = arg.split()
    if len(words) < 4:
        return "-ERR bad args\n"
    if words != ["configuration", "configuration", "name", "conference.conf"]:
        return "can't find anything\n"
    profiles = []
    for profile in sim.conferences.profiles.values():
        params = [("rate", str(profile.rate)), ("interval", "20"), ("energy-level", "100"),
                  ("caller-controls", profile.caller_controls),
                  ("moh-sound", profile.moh_sound or "silence")]
        if profile.tts:
            params += [("tts-engine", "flite"), ("tts-voice", "slt")]
        if profile.alone_sound:
            params.append(("alone-sound", profile.alone_sound))
        lines = "".join(f'\n      <param name={quoteattr(k)} value={quoteattr(v)}></param>'
                        for k, v in params)
        profiles.append(f"\n    <profile name={quoteattr(profile.name)}>{lines}\n    </profile>")
    return ('<configuration name="conference.conf" description="Audio Conference">\n'
            f'  <profiles>{"".join(profiles)}\n  </profiles>\n</configuration>\n')
