"""Who receives which events (sub-*.txt): myevents, CUSTOM subclasses, ALL with a filter."""

from __future__ import annotations

from plivoxml_fs.simulator.bus import Calling
from simulator.helpers import (
    SHARED_TRACES,
    authed_inbound,
    complete,
    execute,
    header_names,
    is_event,
    start_call,
    trace_event,
    trace_messages,
)

MAINTENANCE = "conference::maintenance"
CONFERENCE = Calling("conference_member.c", "conference_member_add_event_data", 1)


def _fire_custom(sim, unique_id: str, action: str) -> None:
    headers = [("Conference-Name", "room1"), ("Unique-ID", unique_id), ("Action", action)]
    sim.bus.fire(sim.factory.make("CUSTOM", CONFERENCE, headers, subclass=MAINTENANCE))


def _actions(wire) -> list[str]:
    out = []
    while not wire.quiet(0.15):
        message = wire.received[-1][1]
        if message.is_event and message.event().subclass == MAINTENANCE:
            out.append(message.event()["Action"])
    return out


def _call_with(sim, daemon, commands, name="s1"):
    _, wire, _, reply = start_call(sim, daemon, variables=f"origination_uuid=aleg-{name}")
    for line in commands:
        wire.command(line)
    wire.quiet(0.1)  # CHANNEL_PARK and the like
    return wire, reply.get("Unique-ID")


def test_myevents_alone_gets_no_conference_events(sim, daemon):
    """An outbound socket with only myevents receives no conference events."""
    wire, b_uuid = _call_with(sim, daemon, ["myevents"])
    _fire_custom(sim, b_uuid, "add-member")
    assert _actions(wire) == []


def test_myevents_and_custom_get_only_own_channel(sim, daemon):
    """myevents + CUSTOM conference::maintenance (either order): only this channel's events."""
    orders = (["myevents", f"event plain CUSTOM {MAINTENANCE}"],
              [f"event plain CUSTOM {MAINTENANCE}", "myevents"])
    for index, commands in enumerate(orders):
        wire, b_uuid = _call_with(sim, daemon, commands, name=f"o{index}")
        _fire_custom(sim, b_uuid, "add-member")
        _fire_custom(sim, "someone-else", "add-member")
        _fire_custom(sim, "", "conference-create")
        assert _actions(wire) == ["add-member"]


def test_all_with_a_unique_id_filter(sim, daemon):
    """`event plain ALL` + `filter Unique-ID <uuid>`: the trace's reply, only own events."""
    _, wire, _, reply = start_call(sim, daemon, variables="origination_uuid=aleg-f1")
    b_uuid = reply.get("Unique-ID")
    assert wire.command("event plain ALL").reply_text == "+OK event listener enabled plain"
    wire.quiet(0.15)  # CHANNEL_PARK follows the first command after connect
    raw_reply = wire.command(f"filter Unique-ID {b_uuid}").reply_text
    assert raw_reply == f"+OK filter added. [Unique-ID]=[{b_uuid}]"
    recorded = [t for d, c, t in trace_messages(SHARED_TRACES / "sub-filter.txt")
                if d == "<<<" and "filter added" in t][0]
    assert "Reply-Text: +OK filter added. [Unique-ID]=[" in recorded
    wire.quiet(0.1)
    _fire_custom(sim, b_uuid, "add-member")
    _fire_custom(sim, "someone-else", "add-member")
    assert _actions(wire) == ["add-member"]
    assert wire.command(f"filter delete Unique-ID {b_uuid}").reply_text == (
        f"+OK filter deleted. [Unique-ID][{b_uuid}]"
    )


def test_inbound_gets_every_subscribed_subclass_event(sim):
    """An inbound subscriber to the subclass gets room-level and members' events alike."""
    wire = authed_inbound(sim)
    wire.command(f"event plain CHANNEL_ANSWER CUSTOM {MAINTENANCE}")
    _fire_custom(sim, "a", "add-member")
    _fire_custom(sim, "", "conference-create")
    assert _actions(wire) == ["add-member", "conference-create"]


def test_custom_without_the_subclass_gets_nothing(sim):
    """`event plain CUSTOM` with no subclass named receives no subclassed events."""
    wire = authed_inbound(sim)
    wire.command("event plain CUSTOM")
    _fire_custom(sim, "a", "add-member")
    assert _actions(wire) == []


def test_custom_event_headers_start_with_the_subclass(sim):
    """A CUSTOM event starts with Event-Subclass, then Event-Name: CUSTOM, as the traces."""
    wire = authed_inbound(sim)
    wire.command(f"event plain CUSTOM {MAINTENANCE}")
    _fire_custom(sim, "a", "add-member")
    event = wire.read().event()
    assert list(event.headers)[:2] == ["Event-Subclass", "Event-Name"]
    assert (event.subclass, event.name) == (MAINTENANCE, "CUSTOM")


def test_all_subscribers_get_callstate_changes(sim, daemon):
    """`event plain ALL` also carries CHANNEL_CALLSTATE after the answer, headers as recorded."""
    _, wire, _, reply = start_call(sim, daemon, variables="origination_uuid=aleg-c1")
    wire.command("event plain ALL")
    wire.command(f"filter Unique-ID {reply.get('Unique-ID')}")
    execute(wire, "answer", uuid="a")
    seen = wire.until(complete("a"))
    names = [m.event().name for m in seen if m.is_event]
    assert names[-3:] == ["CHANNEL_ANSWER", "CHANNEL_CALLSTATE", "CHANNEL_EXECUTE_COMPLETE"]
    raw = [r for r, m in wire.received if is_event("CHANNEL_CALLSTATE")(m)][0]
    mine = header_names(raw.decode().split("\n\n", 1)[1])
    recorded = header_names(trace_event(SHARED_TRACES / "sub-filter.txt", "CHANNEL_CALLSTATE"))
    assert mine == recorded
    event = [m.event() for m in seen if is_event("CHANNEL_CALLSTATE")(m)][0]
    assert (event["Original-Channel-Call-State"], event["Channel-Call-State"]) == ("RINGING", "ACTIVE")
