"""Channel variables holding URLs with reserved characters, as probe-urls.txt recorded them.

The connect reply encodes them as switch_url_encode does (an upper-case `%XX` kept, the rest
encoded), `getvar` answers the raw value cut to 511 bytes, `api uuid_getvar` the whole value,
and a channel that hung up is no longer found by `uuid_exists` / `uuid_getvar`.
"""

from __future__ import annotations

import re

from simulator.helpers import LOCAL_TRACES, authed_inbound, is_final_notice, trace_messages

PROBE = LOCAL_TRACES / "probe-urls.txt"
NAMES = ("plivoxml_answer_url", "plivoxml_hangup_url", "plivoxml_fallback_url")


def _recorded():
    return trace_messages(PROBE)


def _originate_line() -> str:
    line = next(t for d, c, t in _recorded() if d == ">>>" and t.startswith("bgapi originate"))
    return line.split("\n", 1)[0]


def _variables() -> str:
    return re.search(r"\{(.*)\}loopback", _originate_line()).group(1)


def _recorded_lines(prefix: str) -> list[str]:
    return [line for d, c, t in _recorded() if d == "<<<" and c == "outbound-1"
            for line in t.split("\n") if line.startswith(prefix)]


def _replies(conn: str, command: str) -> list[str]:
    """What FreeSWITCH answered on `conn` to each command starting with `command`."""
    messages = _recorded()
    out = []
    for i, (d, c, t) in enumerate(messages):
        if d == ">>>" and c == conn and t.startswith(command):
            out.append(next(t2 for d2, c2, t2 in messages[i + 1:] if d2 == "<<<" and c2 == conn))
    return out


def _call(sim, daemon):
    sim.originate(f"{{{_variables()}}}loopback/U1/default")
    wire = daemon.next_call()
    wire.send("connect")
    raw, reply = wire.read_raw()
    return wire, raw.decode(), reply.get("Unique-ID")


def test_connect_reply_encodes_url_variables_as_freeswitch(sim, daemon):
    """The connect reply's variable_plivoxml_* lines equal the recorded ones byte for byte."""
    _, raw, _ = _call(sim, daemon)
    mine = [line for line in raw.split("\n") if line.startswith("variable_plivoxml_")]
    assert mine == _recorded_lines("variable_plivoxml_")
    assert "%2Bb%26c%3Dd%40e%25f%26plus%3D1%2B2%26low%3D%252b" in mine[0]


def test_getvar_answers_raw_values_cut_to_511_bytes(sim, daemon):
    """getvar replies (exact, cut at 511 bytes, -ERR for an unset one) equal the recorded ones."""
    wire, _, _ = _call(sim, daemon)
    for name in (*NAMES, "no_such_var"):
        wire.send(f"getvar {name}")
        raw, _ = wire.read_raw()
        assert raw.decode() + "\n" == _replies("outbound-1", f"getvar {name}\n")[0]


def test_uuid_getvar_answers_whole_values_and_nothing_once_hung_up(sim, daemon):
    """uuid_getvar gives each value whole; after uuid_kill, uuid_exists is false and
    uuid_getvar answers -ERR No such channel!, as recorded."""
    wire, _, uuid = _call(sim, daemon)
    wire.send(f"api uuid_getvar {uuid} plivoxml_answer_url")
    assert wire.read_raw()[0].decode() + "\n" == _replies("outbound-1", "api uuid_getvar")[0]
    wire.send("linger 1")
    assert wire.read().reply_text == "+OK will linger 1 seconds"
    inbound = authed_inbound(sim)
    recorded = _replies("in", "api uuid_")
    asked = [f"uuid_getvar {uuid} {name}" for name in (*NAMES, "no_such_var")]
    asked += [f"uuid_exists {uuid}", f"uuid_kill {uuid}"]
    for cmd, expected in zip(asked, recorded, strict=False):
        assert inbound.command(f"api {cmd}").body.decode() == expected.split("\n\n", 1)[1][:-1]
    assert wire.until(lambda m: m.get("Content-Disposition") == "linger")
    after = [inbound.command(f"api {cmd}").body.decode()
             for cmd in (f"uuid_exists {uuid}", f"uuid_getvar {uuid} plivoxml_answer_url")]
    assert after == [r.split("\n\n", 1)[1][:-1] for r in recorded[-2:]]
    assert after == ["false", "-ERR No such channel!\n"]
    assert wire.until(is_final_notice, timeout=5)
