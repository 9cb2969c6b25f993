"""uuid_send_dtmf on the A leg: the digits reach the B leg as DTMF events (digits.txt)."""

from __future__ import annotations

from simulator.helpers import (
    SHARED_TRACES,
    authed_inbound,
    complete,
    execute,
    header_names,
    is_event,
    set_up,
    start_call,
    trace_event,
    trace_messages,
)


def test_digits_reach_the_b_leg(sim, daemon):
    """Three digits: the reply text, then three DTMF events on the call's socket."""
    _, wire, _, reply = start_call(sim, daemon, variables="origination_uuid=aleg-D1")
    set_up(wire)
    assert sim.api("uuid_send_dtmf aleg-D1 12*") == "+OK aleg-D1 sent DTMF 12*.\n"
    recorded = [t for d, c, t in trace_messages(SHARED_TRACES / "digits.txt")
                if d == "<<<" and c == "in" and "sent DTMF" in t][0]
    assert "+OK aleg-D1 sent DTMF 12*.\n" in recorded
    events = []
    for _ in range(3):
        events.append(wire.until(is_event("DTMF"))[-1].event())
    assert [e["DTMF-Digit"] for e in events] == ["1", "2", "*"]
    assert {e["DTMF-Duration"] for e in events} == {"2000"}
    assert {e["DTMF-Source"] for e in events} == {"UNKNOWN"}
    assert {e.unique_id for e in events} == {reply.get("Unique-ID")}
    history = [str(r) for r in sim.channel(reply.get("Unique-ID")).history]
    assert history == ["dtmf 1", "dtmf 2", "dtmf *"]


def test_dtmf_headers_match_the_trace(sim, daemon):
    """A DTMF event has digits.txt's headers in its order, and no variables."""
    _, wire, _, _ = start_call(sim, daemon, variables="origination_uuid=aleg-D1")
    set_up(wire)
    sim.api("uuid_send_dtmf aleg-D1 5")
    wire.until(is_event("DTMF"))
    raw = [r for r, m in wire.received if is_event("DTMF")(m)][0]
    mine = header_names(raw.decode().split("\n\n", 1)[1])
    recorded = header_names(trace_event(SHARED_TRACES / "digits.txt", "DTMF"))
    assert mine == recorded
    assert not [n for n in mine if n.startswith("variable_")]


def test_dtmf_duration_and_inbound_subscribers(sim, daemon):
    """`1@500` lasts 500 ms (4000 samples); an inbound DTMF subscriber gets it too."""
    inbound = authed_inbound(sim)
    inbound.command("event plain DTMF")
    _, _, _, reply = start_call(sim, daemon, variables="origination_uuid=aleg-D2")
    assert sim.api("uuid_send_dtmf aleg-D2 1@500") == "+OK aleg-D2 sent DTMF 1@500.\n"
    event = inbound.read().event()
    assert (event["DTMF-Digit"], event["DTMF-Duration"]) == ("1", "4000")
    assert event.unique_id == reply.get("Unique-ID")


def test_dtmf_usage_and_unknown_channel(sim):
    """Missing digits: the usage line; an unknown uuid: -ERR Cannot locate session!."""
    assert sim.api("uuid_send_dtmf aleg-x") == "-USAGE: <uuid> <dtmf_data>\n"
    assert sim.api("uuid_send_dtmf aleg-x 1") == "-ERR Cannot locate session!\n"


def test_star_stops_a_playback(sim, daemon):
    """`*` ends a playback (FILE PLAYED, playback_terminator_used); other digits do not."""
    _, wire, _, reply = start_call(sim, daemon, variables="origination_uuid=aleg-T1")
    set_up(wire)
    execute(wire, "playback", "silence_stream://100000", uuid="long")
    wire.until(is_event("CHANNEL_EXECUTE", "playback"))
    sim.api("uuid_send_dtmf aleg-T1 1")
    wire.until(is_event("DTMF"))
    assert wire.quiet(0.1)
    sim.api("uuid_send_dtmf aleg-T1 *")
    event = wire.until(complete("long"))[-1].event()
    assert event["Application-Response"] == "FILE PLAYED"
    assert event.variable("playback_terminator_used") == "*"
    history = sim.channel(reply.get("Unique-ID")).history
    assert [r.kind for r in history] == ["pre_answered", "dtmf", "dtmf", "played"]
    assert history[-1].ms < 100000


def test_playback_terminators_none(sim, daemon):
    """With playback_terminators=none a `*` does not stop the playback."""
    _, wire, _, _ = start_call(sim, daemon, variables="origination_uuid=aleg-T2")
    set_up(wire)
    execute(wire, "set", "playback_terminators=none", uuid="s")
    execute(wire, "playback", "silence_stream://2000", uuid="p")
    wire.until(is_event("CHANNEL_EXECUTE", "playback"))
    sim.api("uuid_send_dtmf aleg-T2 *")
    seen = wire.until(complete("p"))
    assert seen[-1].event().variable("playback_ms") == "2000"


def test_send_dtmf_reaches_the_far_end(sim, daemon):
    """The send_dtmf application sends its digits out: the loopback partner (the far end)
    receives them, `w` being a pause, not a digit."""
    _, wire, _, reply = start_call(sim, daemon, variables="origination_uuid=aleg-S1")
    set_up(wire)
    execute(wire, "send_dtmf", "1w2", uuid="sent")
    wire.until(complete("sent"))
    far = sim.channel("aleg-S1")
    assert [str(r) for r in far.history if str(r).startswith("dtmf")] == ["dtmf 1", "dtmf 2"]


def test_sleep_eat_digits_lets_a_terminator_end_a_sleep(sim, daemon):
    """sleep_eat_digits=true: a terminator digit ends `sleep` (mod_dptools' on_dtmf); without
    it the sleep runs its length."""
    _, wire, _, reply = start_call(sim, daemon, variables="origination_uuid=aleg-E1")
    set_up(wire)
    execute(wire, "set", "playback_terminators=any", uuid="t")
    execute(wire, "set", "sleep_eat_digits=true", uuid="e")
    execute(wire, "sleep", "100000", uuid="long")
    wire.until(is_event("CHANNEL_EXECUTE", "sleep"))
    sim.api("uuid_send_dtmf aleg-E1 7")
    wire.until(complete("long"))
    heard = [str(r) for r in sim.channel(reply.get("Unique-ID")).history if "slept" in str(r)]
    assert heard and "of 100000 ms" in heard[-1]
