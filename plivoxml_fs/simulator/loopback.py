"""`originate {vars}loopback/<dest>[/<context>[/<dialplan>]] &app(args)`: the two legs mod_loopback
makes.

The A leg (`loopback/<dest>-a`, outbound, uuid = origination_uuid) runs the application (or,
given an extension instead of `&app`, the dialplan); the B leg (`loopback/<dest>-b`, inbound)
runs the dialplan. The XML dialplan is the test configuration's: every destination goes to the
daemon's socket (`socket <addr> async full`). With the `inline` dialplan the destination is
the B leg's applications, `app[:arg]` separated by `,` or, after a leading `^^<c>`, by `<c>`
(`loopback/^^;answer;park/default/inline`: the B leg answers and parks), as FreeSWITCH 1.10.12's
inline dialplan (mod_dptools) runs them; the B leg hangs up after the last one.
Both carry the `{}` variables, each other's uuid in other_loopback_leg_uuid, and the caller id
flipped on the A leg, as the traces show (origination_caller_id_number -> the B leg's
Caller-Caller-ID-Number; 0000000000 when not given).
Several legs separated by `,` (each may start with its own `[vars]`) ring in parallel
(`parse_all`; server.py: the first B leg to answer wins, the others end with LOSE_RACE).
"""

from __future__ import annotations

import re
import uuid as uuidlib

import attrs

from plivoxml_fs.simulator.channels import Channel

_APP = re.compile(r"^&([A-Za-z0-9_]+)(?:\((.*)\))?$", re.DOTALL)
DEFAULT_CID_NUMBER = "0000000000"


class OriginateError(ValueError):
    """The dial string cannot be originated; str(exc) is FreeSWITCH's reply text."""


@attrs.frozen
class DialString:
    variables: tuple[tuple[str, str], ...]
    destination: str
    context: str
    app: str | None  # None: the A leg runs the dialplan (extension `target`)
    app_arg: str
    dialplan: str = "xml"  # "inline": the B leg runs `inline_apps` instead of the socket
    inline_apps: tuple[tuple[str, str], ...] = ()


def inline_apps(destination: str) -> tuple[tuple[str, str], ...]:
    """The `(app, arg)` pairs an inline dialplan destination names."""
    separator = ","
    if destination.startswith("^^") and len(destination) > 2:
        separator, destination = destination[2], destination[3:]
    apps = []
    for item in destination.split(separator):
        app, _, arg = item.partition(":")
        if app.strip():
            apps.append((app.strip(), arg))
    return tuple(apps)


def parse(dial: str, target: str) -> DialString:
    """Split an originate dial string and its `&app(args)`; OriginateError on what we refuse."""
    variables: list[tuple[str, str]] = []
    if dial.startswith("{"):
        end = dial.find("}")
        if end == -1:
            raise OriginateError("-ERR INVALID_URL\n")
        for item in _split_vars(dial[1:end]):
            name, _, value = item.partition("=")
            if name.strip():
                variables.append((name.strip(), value))
        dial = dial[end + 1 :]
    parts = dial.split("/")
    if parts[0] != "loopback" or len(parts) < 2 or not parts[1]:
        raise OriginateError("-ERR CHAN_NOT_IMPLEMENTED\n")
    match = _APP.match(target)
    app, app_arg = (match.group(1), match.group(2) or "") if match else (None, "")
    context = parts[2] if len(parts) > 2 and parts[2] else "default"
    dialplan = parts[3] if len(parts) > 3 and parts[3] else "xml"
    if dialplan not in ("xml", "inline"):
        raise OriginateError("-ERR NO_ROUTE_DESTINATION\n")
    inline = inline_apps(parts[1]) if dialplan == "inline" else ()
    return DialString(tuple(variables), parts[1], context, app, app_arg, dialplan, inline)


def parse_all(dial: str, target: str) -> list[DialString]:
    """`{vars}[leg vars]loopback/a,[leg vars]loopback/b`: one DialString per leg, ringing in
    parallel (FreeSWITCH's `,`); a leg's `[...]` variables override the `{...}` ones."""
    common = ""
    if dial.startswith("{"):
        end = dial.find("}")
        if end == -1:
            raise OriginateError("-ERR INVALID_URL\n")
        common, dial = dial[1:end], dial[end + 1 :]
    legs = []
    for leg in _split_legs(dial):
        own = ""
        if leg.startswith("["):
            end = leg.find("]")
            if end == -1:
                raise OriginateError("-ERR INVALID_URL\n")
            own, leg = leg[1:end], leg[end + 1 :]
        joined = ",".join(v for v in (common, own) if v)
        legs.append(parse(f"{{{joined}}}{leg}" if joined else leg, target))
    return legs


def _split_legs(dial: str) -> list[str]:
    """Split at `,` outside `[...]` and single quotes."""
    legs, current, depth, quoted = [], "", 0, False
    for ch in dial:
        if ch == "'":
            quoted = not quoted
        elif ch == "[" and not quoted:
            depth += 1
        elif ch == "]" and not quoted:
            depth -= 1
        if ch == "," and not quoted and depth == 0:
            legs.append(current)
            current = ""
        else:
            current += ch
    return [*legs, current]


def _split_vars(text: str) -> list[str]:
    """`a=1,b='x,y'` -> ["a=1", "b=x,y"]: single quotes hold commas and are dropped, as
    switch_separate_string does (probe-urls.txt: `{plivoxml_answer_url='...'}`)."""
    items, current, escaped, quoted = [], "", False, False
    for ch in text:
        if escaped:
            current += ch
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "'":
            quoted = not quoted
        elif ch == "," and not quoted:
            items.append(current)
            current = ""
        else:
            current += ch
    items.append(current)
    return items


def make_legs(sim, dial: DialString, session_ids, taken) -> tuple[Channel, Channel]:
    """The A and B legs of one loopback call, linked to each other.

    An origination_uuid already in use (`taken(uuid)` is not None) is ignored and a new uuid
    made up, as FreeSWITCH does.
    """
    given = dict(dial.variables)
    a_uuid = given.get("origination_uuid") or ""
    if not a_uuid or taken(a_uuid) is not None:
        a_uuid = str(uuidlib.uuid4())
    b_uuid = str(uuidlib.uuid4())
    cid_number = given.get("origination_caller_id_number", DEFAULT_CID_NUMBER)
    cid_name = given.get("origination_caller_id_name")
    dest, context = dial.destination, dial.context
    a_name, b_name = f"loopback/{dest}-a", f"loopback/{dest}-b"

    b_profile = [("Direction", "inbound"), ("Logical-Direction", "inbound"),
                 ("Dialplan", dial.dialplan)]
    if cid_name is not None:
        b_profile.append(("Caller-ID-Name", cid_name))
    b_profile += [
        ("Caller-ID-Number", cid_number), ("Orig-Caller-ID-Number", cid_number),
        ("Callee-ID-Name", "Outbound Call"), ("Callee-ID-Number", context),
        ("ANI", cid_number), ("Destination-Number", dest), ("Unique-ID", b_uuid),
        ("Source", "mod_loopback"), ("Context", context),
    ]
    a_profile = [
        ("Direction", "outbound"), ("Logical-Direction", "outbound"),
        ("Dialplan", dial.dialplan),
        # the A leg's flipped caller id number: the dial string's last part (1.10.12 showed
        # `default` for loopback/x/default and `inline` for loopback/x/default/inline)
        ("Caller-ID-Name", "Outbound Call"),
        ("Caller-ID-Number", dial.dialplan if dial.dialplan == "inline" else context),
        ("Orig-Caller-ID-Number", cid_number), ("Callee-ID-Number", cid_number),
        ("ANI", cid_number), ("Destination-Number", dest), ("Unique-ID", a_uuid),
        ("Source", "mod_loopback"), ("Context", context),
    ]
    a_sid, b_sid = next(session_ids), next(session_ids)
    a_vars = {
        "direction": "outbound", "is_outbound": "true", "session_id": str(a_sid),
        "read_codec": "L16", "read_rate": "8000", "write_codec": "L16", "write_rate": "8000",
        "channel_name": a_name, "uuid": a_uuid, **given,
        "originate_early_media": "true", "originate_endpoint": "loopback",
        "other_loopback_leg_uuid": b_uuid, "loopback_leg": "A",
        "channel_cid_flipped": "yes", "call_uuid": a_uuid,
    }
    b_vars = {
        "direction": "inbound", "uuid": b_uuid, "session_id": str(b_sid),
        "channel_name": b_name, "read_codec": "L16", "read_rate": "8000",
        "write_codec": "L16", "write_rate": "8000", **given,
        "other_loopback_leg_uuid": a_uuid, "loopback_leg": "B",
        "DP_MATCH": f"ARRAY::{dest}|:{dest}", "call_uuid": b_uuid,
    }
    a_leg = Channel(sim, uuid=a_uuid, name=a_name, direction="outbound", profile=a_profile,
                    variables=a_vars, session_id=a_sid)
    b_leg = Channel(sim, uuid=b_uuid, name=b_name, direction="inbound", profile=b_profile,
                    variables=b_vars, session_id=b_sid)
    a_leg.partner, b_leg.partner = b_leg, a_leg
    return a_leg, b_leg
