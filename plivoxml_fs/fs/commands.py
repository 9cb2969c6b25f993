"""Every string sent to FreeSWITCH is built here, validated, and pinned byte for byte by tests.

The first section holds the ESL-level builders (auth, connect, subscriptions, linger, api, bgapi,
sendmsg execute and hangup); then test calls (originate) and the mod_conference strings. The
arguments of the media applications (playback sources, speak, sleep, detect_silence,
sched_hangup) live beside this module in fs/arguments.py. Builders return a command line `str`,
a `Bgapi` or a `Sendmsg`; `encode()` on the latter two gives the exact bytes for the socket.

Nothing here trusts its input: CR, LF and NUL are refused everywhere (`UnsafeValue`), names are
matched against strict patterns, and application arguments travel in a length-framed body.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import attrs

from plivoxml_fs.errors import UnsafeValue
from plivoxml_fs.esl.codec import check_line, encode_command

# ---------------------------------------------------------------------------------------------
# Section 1: ESL-level builders (event socket commands, sendmsg)
# ---------------------------------------------------------------------------------------------

#: Event names: FreeSWITCH's upper-case identifiers (CHANNEL_HANGUP, BACKGROUND_JOB, ALL, ...).
EVENT_NAME = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
#: CUSTOM subclasses such as `conference::maintenance` or `plivoxml::digits`.
EVENT_SUBCLASS = re.compile(r"[A-Za-z0-9_]+(::[A-Za-z0-9_.-]+)*")
#: Dialplan application names (answer, playback, play_and_get_digits, ...).
APP_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
#: Channel, event and job identifiers: RFC 4122 UUIDs and the ids dialplans set themselves.
IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
#: Channel variable names (plivoxml_answer_url, origination_uuid, ...).
VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
#: Hangup causes are the upper-case Q.850 names (NORMAL_CLEARING, USER_BUSY, ...).
HANGUP_CAUSE = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
#: Largest linger we ask for, in seconds (FreeSWITCH takes any positive int; an hour is plenty).
MAX_LINGER_S = 3600

_EVENT_FORMATS = ("plain", "json", "xml")


def _match(pattern: re.Pattern[str], value: object, what: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise UnsafeValue(f"{what}: {value!r} does not match {pattern.pattern}")
    return value


def _check_text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise UnsafeValue(f"{what}: expected text, got {type(value).__name__}")
    return check_line(value, what)


def _no_expansion(value: str, what: str) -> str:
    """`value`, unless FreeSWITCH would expand a `${` in it (execute arguments, `set`)."""
    if "${" in value:
        raise UnsafeValue(f"{what}: '${{' would be expanded by FreeSWITCH ({value[:60]!r})")
    return value


def identifier(value: object, what: str = "uuid") -> str:
    """Return `value` if it is a safe channel/event/job id, else raise `UnsafeValue`."""
    return _match(IDENTIFIER, value, what)


@attrs.frozen
class Bgapi:
    """A `bgapi` command: its line and the Job-UUID its BACKGROUND_JOB will carry."""

    line: str
    job_uuid: str

    @property
    def headers(self) -> tuple[tuple[str, str], ...]:
        return (("Job-UUID", self.job_uuid),)

    def encode(self) -> bytes:
        return encode_command(self.line, self.headers)


@attrs.frozen
class Sendmsg:
    """A `sendmsg` command: headers in order, optional body, and the target channel.

    `uuid` None means the channel of this outbound socket (`sendmsg` alone); on an inbound
    connection it names the channel (`sendmsg <uuid>`).
    """

    headers: tuple[tuple[str, str], ...]
    body: bytes | None = None
    uuid: str | None = None

    @property
    def line(self) -> str:
        return "sendmsg" if self.uuid is None else f"sendmsg {self.uuid}"

    def get(self, name: str) -> str | None:
        """Header value by name, ignoring case."""
        lowered = name.lower()
        return next((v for k, v in self.headers if k.lower() == lowered), None)

    def encode(self) -> bytes:
        return encode_command(self.line, self.headers, self.body)


def auth(password: str) -> str:
    """`auth <password>`: the first command on an inbound connection. Never log the result."""
    # The messages never show the value: it is a secret.
    if not isinstance(password, str) or not password:
        raise UnsafeValue("auth password: must be non-empty text")
    if any(ch in password for ch in " \r\n\0"):
        raise UnsafeValue("auth password: must not contain spaces, CR, LF or NUL (not shown)")
    return f"auth {password}"


def connect() -> str:
    """`connect`: the first command on an outbound socket; the reply carries the channel data."""
    return "connect"


def myevents(uuid: str | None = None) -> str:
    """`myevents`: subscribe an outbound socket to its own channel's events (or `uuid`'s)."""
    return "myevents" if uuid is None else f"myevents {identifier(uuid)}"


def event_subscription(
    names: Iterable[str] = (), custom: Iterable[str] = (), *, fmt: str = "plain"
) -> str:
    """`event <fmt> <names...> CUSTOM <subclass...>`; CUSTOM goes last, as FreeSWITCH requires.

    After `CUSTOM` FreeSWITCH reads every further word as a subclass, so an event name placed
    after it would silently subscribe to nothing.
    """
    if fmt not in _EVENT_FORMATS:
        raise UnsafeValue(f"event subscription: format {fmt!r} is not one of {_EVENT_FORMATS}")
    names = list(names)
    custom = list(custom)
    for name in names:
        _match(EVENT_NAME, name, "event name")
        if name == "CUSTOM":
            raise UnsafeValue("event name: pass CUSTOM subclasses in `custom`, not as a name")
    for subclass in custom:
        _match(EVENT_SUBCLASS, subclass, "event subclass")
    if not names and not custom:
        raise UnsafeValue("event subscription: no event names and no CUSTOM subclasses")
    words = ["event", fmt, *dict.fromkeys(names)]
    if custom:
        words += ["CUSTOM", *dict.fromkeys(custom)]
    return " ".join(words)


def nixevent(names: Iterable[str]) -> str:
    """`nixevent <names...>`: stop receiving these events (some that `myevents` turned on)."""
    names = list(dict.fromkeys(names))
    for name in names:
        _match(EVENT_NAME, name, "event name")
        if name in ("CUSTOM", "ALL"):
            raise UnsafeValue(f"nixevent: {name} is not one event name")
    if not names:
        raise UnsafeValue("nixevent: no event names")
    return " ".join(["nixevent", *names])


def event_plain(names: Iterable[str] = (), custom: Iterable[str] = ()) -> str:
    """`event plain <names...> CUSTOM <subclass...>`."""
    return event_subscription(names, custom, fmt="plain")


def filter_events(header: str, value: str) -> str:
    """`filter <header> <value>`: deliver only events whose header equals value."""
    _match(re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}"), header, "filter header")
    _check_text(value, "filter value")
    if not value or " " in value:
        raise UnsafeValue(f"filter value: must be one non-empty word (got {value!r})")
    return f"filter {header} {value}"


def linger(seconds: int) -> str:
    """`linger <seconds>`: keep the socket open that long after hangup for the last events."""
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        raise UnsafeValue(f"linger: seconds must be an int (got {seconds!r})")
    if not 1 <= seconds <= MAX_LINGER_S:
        raise UnsafeValue(f"linger: seconds must be 1..{MAX_LINGER_S} (got {seconds})")
    return f"linger {seconds}"


def exit_() -> str:
    """`exit`: ask FreeSWITCH to close this event socket."""
    return "exit"


def _api_text(command: str, what: str) -> str:
    _check_text(command, what)
    if not command.strip() or command != command.strip():
        raise UnsafeValue(f"{what}: empty or padded with spaces ({command!r})")
    return command


def api(command: str) -> str:
    """`api <command>`: run an API command; the answer is an api/response."""
    return f"api {_api_text(command, 'api command')}"


def uuid_exists(uuid: str) -> str:
    """`uuid_exists <uuid>` (for api): `true` while the channel is up, `false` otherwise
    (also once it hung up, lingering socket or not)."""
    return f"uuid_exists {identifier(uuid)}"


def uuid_kill(uuid: str, cause: str = "NORMAL_CLEARING") -> str:
    """`uuid_kill <uuid> <cause>` (for api/bgapi): hang the channel up with `cause`."""
    return f"uuid_kill {identifier(uuid)} {_match(HANGUP_CAUSE, cause, 'hangup cause')}"


DTMF_DIGITS = re.compile(r"[0-9*#A-Da-d]{1,32}")


def uuid_send_dtmf(uuid: str, digits: str) -> str:
    """`uuid_send_dtmf <uuid> <digits>` (for api): the channel sends the digits (on a loopback
    leg, its partner receives them)."""
    return f"uuid_send_dtmf {identifier(uuid)} {_match(DTMF_DIGITS, digits, 'DTMF digits')}"


def uuid_getvar(uuid: str, name: str) -> str:
    """`uuid_getvar <uuid> <name>` (for api): the variable exactly as set, whole; `_undef_` when
    unset, `-ERR No such channel!` once the channel is down. (`getvar` on the call's socket
    cuts values at 511 bytes; the connect reply's copy is URL-encoded without being one-to-one.)"""
    return f"uuid_getvar {identifier(uuid)} {_match(VARIABLE_NAME, name, 'variable name')}"


def bgapi(command: str, job_uuid: str) -> Bgapi:
    """`bgapi <command>` with a Job-UUID header: the BACKGROUND_JOB event carries the same id."""
    return Bgapi(f"bgapi {_api_text(command, 'bgapi command')}", identifier(job_uuid, "Job-UUID"))


STATUS = "status"
"""`status` for `api`: FreeSWITCH's uptime and session counts (the health probe's question)."""


def execute(
    app: str,
    arg: str = "",
    *,
    event_uuid: str,
    event_lock: bool = True,
    uuid: str | None = None,
    loops: int | None = None,
) -> Sendmsg:
    """`sendmsg` execute: run dialplan application `app` with `arg` on the channel.

    The argument travels in a `text/plain` body with a byte-accurate length (never in an
    `execute-app-arg` header), and `Event-UUID` comes back as `Application-UUID` on the
    CHANNEL_EXECUTE / CHANNEL_EXECUTE_COMPLETE events of this execution.
    """
    _match(APP_NAME, app, "application name")
    _check_text(arg, f"{app} argument")
    headers = [("call-command", "execute"), ("execute-app-name", app)]
    if loops is not None:
        if isinstance(loops, bool) or not isinstance(loops, int) or loops < 1:
            raise UnsafeValue(f"{app} loops: must be a positive int (got {loops!r})")
        headers.append(("loops", str(loops)))
    if event_lock:
        headers.append(("event-lock", "true"))
    headers.append(("Event-UUID", identifier(event_uuid, "Event-UUID")))
    body = None
    if arg:
        headers.append(("content-type", "text/plain"))
        body = arg.encode("utf-8")
    target = None if uuid is None else identifier(uuid)
    return Sendmsg(tuple(headers), body, target)


def hangup(cause: str = "NORMAL_CLEARING", *, uuid: str | None = None) -> Sendmsg:
    """`sendmsg` hangup with `hangup-cause`."""
    _match(HANGUP_CAUSE, cause, "hangup cause")
    target = None if uuid is None else identifier(uuid)
    return Sendmsg((("call-command", "hangup"), ("hangup-cause", cause)), None, target)


_IPV4 = re.compile(r"(?:(?:25[0-5]|2[0-4][0-9]|1?[0-9]{1,2})\.){3}(?:25[0-5]|2[0-4][0-9]|1?[0-9]{1,2})")


def _port(value: object, what: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise UnsafeValue(f"{what}: must be a port 1..65535 (got {value!r})")
    return str(value)


def unicast(uuid: str, *, local: tuple[str, int], remote: tuple[str, int]) -> Sendmsg:
    """`sendmsg <uuid>` call-command unicast: while parked, the channel sends each 20 ms frame
    it receives (L16, 8 kHz on a loopback leg) to `remote` over UDP and plays what arrives on
    `local` (the address FreeSWITCH binds). Checked on 1.10.12 (docs/ai-agent.md)."""
    headers = [("call-command", "unicast")]
    for (ip, port), side in ((local, "local"), (remote, "remote")):
        headers.append((f"{side}-ip", _match(_IPV4, ip, f"unicast {side}-ip")))
        headers.append((f"{side}-port", _port(port, f"unicast {side}-port")))
    headers.append(("transport", "udp"))
    return Sendmsg(tuple(headers), None, identifier(uuid))


# ---------------------------------------------------------------------------------------------
# Section 3: test calls (replay and the scenario tests)
# ---------------------------------------------------------------------------------------------

#: Endpoints replay may dial: a loopback leg into a dialplan context.
LOOPBACK_ENDPOINT = re.compile(r"loopback/[A-Za-z0-9_+*#.-]{1,64}/[A-Za-z0-9_-]{1,64}")
#: Channel variable names in an originate `{...}` block.
VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
#: Characters that would end or split a `{name=value,...}` block, or expand on FreeSWITCH.
_DIAL_STRING_SPECIALS = frozenset("{}[],'\"$ ")


def originate(endpoint: str, variables: dict[str, str], app: str = "&park") -> str:
    """`originate {vars}loopback/<dest>/<context> <app>`: the A leg of a test call.

    Values may not hold the characters that split or end the `{}` block; they are refused
    rather than escaped, since test calls only need plain values.
    """
    _match(LOOPBACK_ENDPOINT, endpoint, "originate endpoint")
    pairs = []
    for name, value in variables.items():
        _match(VARIABLE_NAME, name, "originate variable name")
        _check_text(value, f"originate variable {name}")
        if any(ch in _DIAL_STRING_SPECIALS for ch in value):
            raise UnsafeValue(f"originate variable {name}: {value!r} holds one of {{}}[],'\"$ or space")
        pairs.append(f"{name}={value}")
    if app not in ("&park", "&echo") and not re.fullmatch(r"&[a-z_]+\([A-Za-z0-9_ ]*\)", app):
        raise UnsafeValue(f"originate application: {app!r} is not &park, &echo or &app(args)")
    block = "{" + ",".join(pairs) + "}" if pairs else ""
    return f"originate {block}{endpoint} {app}"


# ---------------------------------------------------------------------------------------------
# Section 4: mod_conference (the `conference` application argument and `conference` API strings)
# ---------------------------------------------------------------------------------------------

#: FreeSWITCH room ids we send: no `@`, `+`, `{`, `}`, `|`, `'`, `\`, space or `$`
#: (FreeSWITCH splits, groups or expands on them). Users' room names are free text: the room
#: engine maps each to such an id (rooms/names.py), and only the id comes here.
ROOM_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
#: `conference list <cmd>` reaches a room `list` only while it lives; otherwise FreeSWITCH
#: answers with its list of every room (1.10.12), which nothing reading the answer expects.
_NOT_A_ROOM = frozenset({"list"})
#: Conference profiles from conference.conf.xml.
PROFILE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: Member flags the `conference` application takes in `+flags{a|b}` (freeswitch-verified.md).
MEMBER_FLAGS = frozenset(
    {"mute", "deaf", "moderator", "endconf", "mintwo", "wait-mod", "dist-dtmf", "nomoh",
     "ghost", "join-only", "video-floor-only", "mandatory_member_endconf"}
)
#: The highest energy level mod_conference takes (conference_member.c: -1..1800).
MAX_ENERGY_LEVEL = 1800
#: Subcommands of `conference <room> ...` the daemon sends, with how many arguments each takes.
ROOM_SUBCOMMANDS = {
    "list": 0, "json_list": 0, "xml_list": 0, "count": 0, "kick": 1, "hup": 1, "mute": 1,
    "unmute": 1, "tmute": 1, "deaf": 1, "undeaf": 1, "hold": 1, "unhold": 1, "floor": 1,
    "dtmf": 2, "relate": 3, "recording": 2, "play": 2, "lock": 0, "unlock": 0, "stop": 2,
    "energy": 2,
}
#: What `conference <room> dtmf <id> <digits>` sends: mod_conference queues each character and
#: sends it to the member's channel; `w` and `W` are pauses of 0.5 s and 1 s there
#: (switch_core_session_send_dtmf), not digits. At most MAX_SEND_DIGITS of them (FreeSWITCH's
#: own limit on a DTMF string, switch_core_session_send_dtmf_string).
SEND_DIGITS = re.compile(r"[0-9A-D*#wW]+")
MAX_SEND_DIGITS = 99
#: Member ids are FreeSWITCH's positive integers; `all` and `last` address groups.
_MEMBER_ID = re.compile(r"[1-9][0-9]{0,9}|all|last|non_moderator")
_API_ARGUMENT = re.compile(r"[A-Za-z0-9_.:/%(),*#@=+-]{1,2048}")


def room_name(value: object) -> str:
    """Return `value` if it is a room id FreeSWITCH takes whole, else raise `UnsafeValue`."""
    _match(ROOM_NAME, value, "conference room name")
    if value in _NOT_A_ROOM:
        raise UnsafeValue(f"conference room name: {value!r} is FreeSWITCH's own command "
                          "(its list of every room)")
    return value


def conference_app(room: str, profile: str = "default", flags: Iterable[str] = ()) -> str:
    """The `conference` application argument: `room@profile` plus `+flags{a|b}` when any."""
    room_name(room)
    _match(PROFILE_NAME, profile, "conference profile")
    flag_list = list(flags)
    for flag in flag_list:
        if flag not in MEMBER_FLAGS:
            raise UnsafeValue(f"conference member flag: {flag!r} is not one of {sorted(MEMBER_FLAGS)}")
    if len(set(flag_list)) != len(flag_list):
        raise UnsafeValue(f"conference member flags: {flag_list!r} repeats a flag")
    suffix = "+flags{" + "|".join(flag_list) + "}" if flag_list else ""
    return f"{room}@{profile}{suffix}"


def conference_api(room: str, subcommand: str, *args: str) -> str:
    """`conference <room> <subcommand> <args>` for `api`/`bgapi`; member ids checked."""
    room_name(room)
    if subcommand not in ROOM_SUBCOMMANDS:
        raise UnsafeValue(f"conference subcommand: {subcommand!r} is not one of {sorted(ROOM_SUBCOMMANDS)}")
    wanted = ROOM_SUBCOMMANDS[subcommand]
    if len(args) != wanted:
        raise UnsafeValue(f"conference {subcommand}: takes {wanted} argument(s), got {len(args)}")
    for arg in args:
        _check_text(arg, f"conference {subcommand} argument")
        _match(_API_ARGUMENT, arg, f"conference {subcommand} argument")
    if subcommand in ("kick", "hup", "mute", "unmute", "tmute", "deaf", "undeaf", "hold",
                      "unhold", "floor", "dtmf", "energy"):
        _match(_MEMBER_ID, args[0], f"conference {subcommand} member id")
    if subcommand == "energy" and not (args[1].isdigit() and int(args[1]) <= MAX_ENERGY_LEVEL):
        raise UnsafeValue(f"conference energy: {args[1]!r} is not a level 0..{MAX_ENERGY_LEVEL}")
    if subcommand == "recording" and args[0] not in ("start", "stop", "pause", "resume"):
        raise UnsafeValue(f"conference recording: {args[0]!r} is not start|stop|pause|resume")
    return " ".join(("conference", room, subcommand, *args))


#: Channel variables the `<Conference>` executor sets before `conference` (freeswitch-verified.md;
#: conference_join_energy_level: conference_member.c conference_member_add, -1..1800).
CONFERENCE_VARIABLES = frozenset(
    {"hangup_after_conference", "conference_max_members", "conference_enter_sound",
     "conference_exit_sound", "conference_moh_sound", "conference_join_energy_level"}
)


def conference_variable(name: str, value: object) -> str:
    """The `set` application argument `name=value` for a conference channel variable.

    `set` expands `${...}` in its argument, so that is refused, as are CR/LF.
    """
    if name not in CONFERENCE_VARIABLES:
        raise UnsafeValue(f"conference variable: {name!r} is not one of {sorted(CONFERENCE_VARIABLES)}")
    text = _no_expansion(_check_text(value, f"conference variable {name}"), f"conference variable {name}")
    if not text:
        raise UnsafeValue(f"conference variable {name}: empty value")
    return f"{name}={text}"


#: Separators `multiset` may be given (`^^<sep>`): one that no assignment contains is used.
MULTISET_SEPARATORS = "|~^,;#!"
#: What `multiset` splits specially whatever the separator: FreeSWITCH 1.10.12's
#: switch_separate_string groups on single quotes (and drops them) and takes a backslash as
#: an escape (measured: `pa=it's 'q' x|pb=..` set `pa` to `its q x|pb=..`); such an
#: assignment goes in a `set` of its own.
_MULTISET_UNSPLITTABLE = ("'", "\\")


def conference_variables(variables: Iterable[tuple[str, object]]) -> list[tuple[str, str]]:
    """The applications that set `variables` (name, value) before `conference`, in order.

    One `multiset ^^<sep>a=1<sep>b=2` where it can say them all (one execution, one
    CHANNEL_EXECUTE_COMPLETE instead of one per variable), else one `set` each. Each
    assignment is checked as `conference_variable` checks it."""
    assignments = [conference_variable(name, value) for name, value in variables]
    if len(assignments) < 2:
        return [("set", text) for text in assignments]
    joined = "".join(assignments)
    sep = next((s for s in MULTISET_SEPARATORS if s not in joined), None)
    if sep is None or any(mark in joined for mark in _MULTISET_UNSPLITTABLE):
        return [("set", text) for text in assignments]
    return [("multiset", f"^^{sep}{sep.join(assignments)}")]
