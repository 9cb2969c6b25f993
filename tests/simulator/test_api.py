"""API commands: the reply texts FreeSWITCH 1.10.12 gives, and what they do to calls."""

from __future__ import annotations

import queue

import gevent
import pytest
from waiting import until

from plivoxml_fs.errors import CommandFailed
from plivoxml_fs.simulator import EmbeddedFreeSwitch
from simulator.helpers import (
    LOCAL_TRACES,
    SHARED_TRACES,
    authed_inbound,
    complete,
    execute,
    is_event,
    set_up,
    start_call,
    trace_messages,
)


def _api_bodies(path, conn="in"):
    """(command, reply body) for each `api` sent on `conn` in a trace."""
    out, pending = [], None
    for direction, c, text in trace_messages(path):
        if c != conn:
            continue
        if direction == ">>>" and text.startswith("api "):
            pending = text.split("\n", 1)[0][4:]
        elif direction == "<<<" and pending and "api/response" in text:
            body = text.split("\n\n", 1)[1]
            length = int(text.split("Content-Length: ", 1)[1].split("\n", 1)[0])
            out.append((pending, body[:length]))
            pending = None
    return out


RECORDED = dict(_api_bodies(LOCAL_TRACES / "probe-inbound.txt"))


@pytest.mark.parametrize(
    "command",
    [
        "foo bar",
        "show channels",
        "show calls",
        "uuid_kill nosuch",
        "uuid_getvar nosuch x",
        "uuid_send_dtmf nosuch 1",
        "uuid_setvar nosuch a b",
        "hupall",
        "originate",
        "originate loopback/x/default",
        "uuid_kill",
    ],
)
def test_reply_texts_as_recorded(sim, command):
    """With no calls up, each reply is the recorded FreeSWITCH text."""
    assert sim.api(command) == RECORDED[command]


def test_originate_replies_when_the_b_leg_answers(sim, daemon):
    """api originate replies `+OK <uuid>` once the B leg answers; the legs are linked."""
    wire = authed_inbound(sim)
    line = "originate {origination_uuid=aleg-L1,origination_caller_id_number=1001}loopback/L1/default &park"
    wire.send(f"api {line}")
    call = daemon.next_call()
    call.command("connect")
    assert wire.quiet(0.2)  # not before the answer
    execute(call, "answer", uuid="a")
    raw, _ = wire.read_raw()
    recorded = [t for d, c, t in trace_messages(SHARED_TRACES / "lifecycle.txt")
                if d == "<<<" and c == "in" and "api/response" in t][0]
    assert raw.decode() == recorded.rstrip("\n") + "\n"
    a_leg = sim.channels["aleg-L1"]
    b_leg = a_leg.partner
    assert (a_leg.name, b_leg.name) == ("loopback/L1-a", "loopback/L1-b")
    assert b_leg.variables["other_loopback_leg_uuid"] == "aleg-L1"
    assert a_leg.variables["other_loopback_leg_uuid"] == b_leg.uuid


def test_originate_returns_on_pre_answer(sim, daemon):
    """Early media is enough for the originate to return."""
    reply = gevent.spawn(sim.api, "originate {origination_uuid=aleg-p}loopback/p/default &park")
    call = daemon.next_call()
    call.command("connect")
    execute(call, "pre_answer")
    assert reply.get(timeout=3) == "+OK aleg-p\n"


def test_originate_fails_with_the_b_legs_cause(sim, daemon):
    """B hangs up before answering (an unknown app): `-ERR DESTINATION_OUT_OF_ORDER`, as recorded."""
    reply = gevent.spawn(sim.api, "originate {origination_uuid=aleg-P2}loopback/P2/default &park")
    call = daemon.next_call()
    call.command("connect")
    execute(call, "nosuchapp", "x")
    recorded = [b for c, b in _api_bodies(LOCAL_TRACES / "probe-apps.txt") if "aleg-P2" in c][0]
    assert reply.get(timeout=3) == recorded == "-ERR DESTINATION_OUT_OF_ORDER\n"
    assert sim.wait_hangup("aleg-P2", 2)


def test_originate_without_a_daemon(daemon):
    """Nobody listens on the socket address: the B leg hangs up, `-ERR NORMAL_CLEARING`."""
    port = daemon.address[1]
    daemon.stop()
    fs = EmbeddedFreeSwitch(socket_address=("127.0.0.1", port), time_scale=0.05)
    fs.start()
    try:
        assert fs.api("originate loopback/x/default &park") == "-ERR NORMAL_CLEARING\n"
    finally:
        fs.stop()


def test_originate_timeout(sim, daemon):
    """No answer within originate_timeout: `-ERR NO_ANSWER` and both legs hang up."""
    reply = gevent.spawn(sim.api, "originate {origination_uuid=aleg-t,originate_timeout=2}loopback/t/default &park")
    daemon.next_call().command("connect")
    assert reply.get(timeout=3) == "-ERR NO_ANSWER\n"
    assert sim.wait_hangup("aleg-t", 2)
    assert sim.channel("aleg-t").hangup_cause == "NO_ANSWER"


def test_duplicate_origination_uuid_gets_a_new_one(sim, daemon):
    """An origination_uuid in use is ignored: the second call gets a fresh uuid (as recorded)."""
    assert sim.originate("{origination_uuid=dup-1}loopback/d/default") == "dup-1"
    second = sim.originate("{origination_uuid=dup-1}loopback/d/default")
    assert second != "dup-1" and len(second) == 36
    assert sim.channels[second].partner.uuid != sim.channels["dup-1"].partner.uuid


def test_uuid_break_stops_the_playback(sim, daemon):
    """uuid_break: +OK, the playback ends with FILE PLAYED (mod_dptools), the call stays up."""
    a_uuid, wire, _, reply = start_call(sim, daemon)
    set_up(wire)
    execute(wire, "playback", "silence_stream://100000", uuid="long")
    wire.until(is_event("CHANNEL_EXECUTE", "playback"))
    b_uuid = reply.get("Unique-ID")
    assert sim.api(f"uuid_break {b_uuid}") == "+OK\n"
    event = wire.until(complete("long"))[-1].event()
    assert event["Application-Response"] == "FILE PLAYED"
    assert sim.channels[b_uuid].is_up


def test_originate_refuses_other_endpoints(sim):
    """Only loopback is simulated; other endpoints answer -ERR CHAN_NOT_IMPLEMENTED."""
    assert sim.api("originate sofia/internal/1000 &park") == "-ERR CHAN_NOT_IMPLEMENTED\n"
    with pytest.raises(CommandFailed) as info:
        sim.originate("user/1000")
    assert "CHAN_NOT_IMPLEMENTED" in str(info.value)


def test_show_channels_lists_both_legs(sim, daemon):
    """show channels: the real header line, one row per leg, and `2 total.`."""
    start_call(sim, daemon)
    text = sim.api("show channels")
    recorded = [b for c, b in _api_bodies(LOCAL_TRACES / "probe-apps.txt") if c == "show channels"][0]
    lines = text.split("\n")
    assert lines[0] == recorded.split("\n")[0]
    assert lines[-3:] == ["", "2 total.", ""]
    a_row = [row for row in lines[1:3] if row.startswith("aleg-L1,")][0].split(",")
    recorded_a = [r for r in recorded.split("\n") if r.startswith("aleg-P1,")][0].split(",")
    assert len(a_row) == len(recorded_a) == 38
    assert a_row[1] == "outbound" and a_row[4] == "loopback/L1-a" and a_row[10] == "park"
    assert sim.api("show channels count") == "\n2 total.\n"


def test_uuid_getvar_and_setvar(sim, daemon):
    """uuid_setvar sets (+OK), uuid_getvar reads it; an unset name is _undef_."""
    start_call(sim, daemon)
    assert sim.api("uuid_setvar aleg-L1 plivo_x hello") == "+OK\n"
    assert sim.api("uuid_getvar aleg-L1 plivo_x") == "hello"
    assert sim.api("uuid_getvar aleg-L1 nosuch") == "_undef_"
    assert sim.api("uuid_setvar aleg-L1 plivo_x") == "+OK\n"
    assert sim.api("uuid_getvar aleg-L1 plivo_x") == "_undef_"


def test_uuid_kill_with_cause(sim, daemon):
    """uuid_kill <a-leg> USER_BUSY hangs both legs up with that cause."""
    _, wire, _, reply = start_call(sim, daemon)
    set_up(wire, linger=None)
    assert sim.api("uuid_kill aleg-L1 USER_BUSY") == "+OK\n"
    event = wire.until(is_event("CHANNEL_HANGUP"))[-1].event()
    assert event["Hangup-Cause"] == "USER_BUSY"
    assert sim.wait_hangup("aleg-L1", 2) and sim.wait_hangup(reply.get("Unique-ID"), 2)
    assert sim.channel("aleg-L1").hangup_cause == "USER_BUSY"


def test_hupall_with_a_cause(sim, daemon):
    """hupall CALL_REJECTED hangs up every channel with it and says so."""
    _, _, _, reply = start_call(sim, daemon)
    assert sim.api("hupall CALL_REJECTED") == "+OK hangup all channels with cause CALL_REJECTED\n"
    assert sim.wait_hangup(reply.get("Unique-ID"), 2)
    assert sim.channel(reply.get("Unique-ID")).hangup_cause == "CALL_REJECTED"
    assert sim.api("show channels count") == "\n0 total.\n"


def test_hangup_complete_reaches_inbound_subscribers(sim, daemon):
    """An inbound `event plain CHANNEL_HANGUP_COMPLETE` gets both legs' completions."""
    wire = authed_inbound(sim)
    wire.command("event plain CHANNEL_HANGUP_COMPLETE")
    _, _, _, reply = start_call(sim, daemon)
    sim.api("uuid_kill aleg-L1")
    uuids = {wire.read().event().unique_id, wire.read().event().unique_id}
    assert uuids == {"aleg-L1", reply.get("Unique-ID")}


def test_inbound_sendmsg_to_a_leg(sim, daemon):
    """sendmsg <uuid> on the inbound port queues to that channel; an unknown uuid is refused."""
    start_call(sim, daemon)
    wire = authed_inbound(sim)
    assert wire.command("sendmsg nosuch").reply_text == "-ERR invalid session id [nosuch]"
    reply = wire.command("sendmsg aleg-L1", [("call-command", "hangup"), ("hangup-cause", "USER_BUSY")])
    assert reply.reply_text == "+OK"
    assert sim.wait_hangup("aleg-L1", 2)
    assert sim.channel("aleg-L1").hangup_cause == "USER_BUSY"


def test_serve_forever_until_stop(daemon):
    """serve_forever starts the server and returns once stop() is called; calls are hung up."""
    fs = EmbeddedFreeSwitch(socket_address=daemon.address, time_scale=0.05)
    serving = gevent.spawn(fs.serve_forever)
    until("the inbound port bound", lambda: fs.inbound_address[1] != 0)
    wire = authed_inbound(fs)
    a_uuid = fs.originate("loopback/s/default")
    fs.stop()
    assert serving.join(timeout=3) is None and serving.dead
    assert fs.channel(a_uuid).hangup_cause == "SYSTEM_SHUTDOWN"
    assert wire.closed()
    fs.stop()  # a second stop is harmless


def test_originate_to_an_extension_sends_both_legs_to_the_dialplan(sim, daemon):
    """`originate <dial> <exten>`: the A leg runs the dialplan too, so both reach the socket;
    the A leg only once the B leg answered (FreeSWITCH runs the A leg's destination then)."""
    a_uuid = sim.originate("{origination_uuid=aleg-x}loopback/x/default", "1234")
    b_wire = daemon.next_call()
    assert b_wire.command("connect").get("variable_loopback_leg") == "B"
    with pytest.raises(queue.Empty):
        daemon.next_call(timeout=0.3)  # not before the answer
    execute(b_wire, "answer")
    a_wire = daemon.next_call()
    assert a_wire.command("connect").get("variable_loopback_leg") == "A"
    assert sim.channels[a_uuid].variables["current_application"] == "socket"


def test_originate_arguments_split_outside_single_quotes():
    """A quoted variable value with spaces stays one argument, as on FreeSWITCH 1.10.12."""
    from plivoxml_fs.simulator.api import _words

    assert _words("{a=1,b='Help Desk'}loopback/x/default  7400 XML default") == [
        "{a=1,b='Help Desk'}loopback/x/default", "7400", "XML", "default"]
    assert _words("  ") == []
