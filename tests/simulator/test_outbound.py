"""The outbound socket: connect, setup replies and a whole call's events, as lifecycle.txt."""

from __future__ import annotations

import re

import gevent

from simulator.helpers import (
    LOCAL_TRACES,
    SHARED_TRACES,
    complete,
    event_names_on,
    execute,
    header_names,
    is_event,
    is_final_notice,
    set_up,
    start_call,
    summary,
    trace_messages,
)

LIFECYCLE = SHARED_TRACES / "lifecycle.txt"


def _sent_on(path, conn):
    return [text for d, c, text in trace_messages(path) if d == "<<<" and c == conn]


def _header_values(raw: bytes) -> list[tuple[str, str]]:
    return [tuple(line.split(": ", 1)) for line in raw.decode().split("\n") if ": " in line]


def test_connect_reply_has_the_traces_headers(sim, daemon):
    """The connect reply carries the channel data with the trace's headers, in its order."""
    _, _, raw, reply = start_call(sim, daemon)
    recorded = _sent_on(LIFECYCLE, "outbound-1")[0]
    assert [n for n, _ in _header_values(raw)] == header_names(recorded)
    values = dict(_header_values(raw))
    assert values["Reply-Text"] == "%2BOK%0A"
    assert values["Socket-Mode"] == "async" and values["Control"] == "full"
    assert values["Content-Type"] == "command/reply"
    assert values["Event-Name"] == "CHANNEL_DATA"
    assert values["variable_DP_MATCH"] == "ARRAY%3A%3AL1%7C%3AL1"
    assert values["Channel-Callee-ID-Name"] == "Outbound%20Call"
    host, port = daemon.address
    assert values["variable_current_application_data"] == f"{host}%3A{port}%20async%20full"
    assert reply.reply_text == "+OK"
    assert reply.get("Channel-Name") == "loopback/L1-b"
    assert reply.get("Caller-Caller-ID-Number") == "1001"
    assert reply.get("variable_other_loopback_leg_uuid") == "aleg-L1"
    assert reply.get("variable_loopback_leg") == "B"


def test_setup_replies_byte_for_byte(sim, daemon):
    """myevents, event plain ... and linger 5 replies equal the trace's bytes."""
    _, wire, _, _ = start_call(sim, daemon)
    raws = set_up(wire, linger=5)
    recorded = [t for t in _sent_on(LIFECYCLE, "outbound-1")[1:4]]
    assert [r.decode() for r in raws] == [t.rstrip("\n") + "\n\n" for t in recorded]
    assert wire.command("myevents").reply_text == "-ERR aready enabled."
    assert wire.command("nolinger").reply_text == "+OK will not linger"
    assert wire.command("linger").reply_text == "+OK will linger"
    assert wire.command("getvar loopback_leg").reply_text == "B"
    assert wire.command("bogus").reply_text == "-ERR command not found"


def test_whole_call_event_order(sim, daemon):
    """answer, set, playback, then uuid_kill: the events and notices in the traces' order."""
    a_uuid, wire, _, _ = start_call(sim, daemon)
    set_up(wire, linger=1)
    execute(wire, "answer", uuid="ans-L1")
    execute(wire, "set", "hangup_after_conference=false", header=True)
    execute(wire, "playback", "tone_stream://%(300,0,440)", uuid="play-L1")
    execute(wire, "playback", "silence_stream://100000", uuid="long")
    seen = wire.until(is_event("CHANNEL_EXECUTE", "playback"))
    seen += wire.until(is_event("CHANNEL_EXECUTE", "playback"))
    got = [s for s in summary(seen) if not s.startswith(("reply", "CHANNEL_PARK"))]
    recorded = event_names_on(LIFECYCLE, "outbound-1")
    start = recorded.index("CHANNEL_EXECUTE answer")
    end = recorded.index("CHANNEL_EXECUTE_COMPLETE playback") + 1
    assert got == recorded[start:end] + ["CHANNEL_EXECUTE playback"]
    assert sim.api(f"uuid_kill {a_uuid} USER_BUSY") == "+OK\n"
    tail = summary(wire.until(is_final_notice))
    assert tail == [
        "CHANNEL_HANGUP",
        "notice linger",
        "CHANNEL_EXECUTE_COMPLETE playback",
        "CHANNEL_UNPARK",
        "CHANNEL_EXECUTE_COMPLETE socket",
        "CHANNEL_STATE",
        "CHANNEL_STATE",
        "CHANNEL_HANGUP_COMPLETE",
        "notice disconnect",
    ]
    real = [s for s in event_names_on(LOCAL_TRACES / "probe-apps.txt", "outbound-1")
            if not s.startswith("notice")]
    real_tail = real[real.index("CHANNEL_HANGUP"):]
    assert [s for s in tail if not s.startswith("notice")] == real_tail
    assert wire.closed()


def test_execute_events_carry_the_event_uuid(sim, daemon):
    """Event-UUID comes back as Application-UUID; without it FreeSWITCH makes one up."""
    _, wire, _, _ = start_call(sim, daemon)
    set_up(wire)
    execute(wire, "answer", uuid="ans-1")
    execute(wire, "set", "a=b")
    done = wire.until(is_event("CHANNEL_EXECUTE_COMPLETE", "set"))
    events = [m.event() for m in done if m.is_event and m.event().name.startswith("CHANNEL_EXEC")]
    assert [e.get("Application-UUID") for e in events[:2]] == ["ans-1", "ans-1"]
    assert re.fullmatch(r"[0-9a-f-]{36}", events[-1]["Application-UUID"])
    assert events[-1]["Application-Data"] == "a=b"
    assert events[-1]["Application-Response"] == "_none_"
    assert events[-1].variable("a") == "b"


def test_event_headers_match_the_trace(sim, daemon):
    """Each event the simulator sends has the trace's header names, in order (variables aside)."""
    a_uuid, wire, _, _ = start_call(sim, daemon)
    set_up(wire, linger=1)
    execute(wire, "answer", uuid="a")
    execute(wire, "playback", "tone_stream://%(100,0,440)", uuid="p")
    execute(wire, "playback", "silence_stream://100000", uuid="long")
    wire.until(is_event("CHANNEL_EXECUTE_COMPLETE", "playback"))
    sim.api(f"uuid_kill {a_uuid}")
    wire.until(is_final_notice)
    mine: dict[str, list[str]] = {}
    for raw, message in wire.received:
        if message.is_event:
            name = message.event().name
            body = raw.decode().split("\n\n", 1)[1]
            if name == "CHANNEL_EXECUTE" and "Application-Data" not in body:
                continue
            mine.setdefault(name, [n for n in header_names(body) if not n.startswith("variable_")])
    for name in ("CHANNEL_EXECUTE", "CHANNEL_ANSWER", "CHANNEL_EXECUTE_COMPLETE", "CHANNEL_PARK",
                 "CHANNEL_HANGUP", "CHANNEL_UNPARK", "CHANNEL_STATE", "CHANNEL_HANGUP_COMPLETE"):
        source = LIFECYCLE if name in ("CHANNEL_PARK", "CHANNEL_EXECUTE", "CHANNEL_ANSWER") \
            else LOCAL_TRACES / "probe-apps.txt"
        recorded = _first_event(source, name)
        assert mine[name] == [n for n in header_names(recorded) if not n.startswith("variable_")], name


def _first_event(path, name):
    for d, c, text in trace_messages(path):
        if d == "<<<" and c.startswith("outbound") and f"\nEvent-Name: {name}\n" in text:
            if name == "CHANNEL_EXECUTE" and "Application-Data" not in text:
                continue
            return text.split("\n\n", 1)[1]
    raise AssertionError(name)


def test_hangup_notices_byte_for_byte(sim, daemon):
    """The linger and final disconnect notices are the trace's bytes for this channel."""
    a_uuid, wire, _, reply = start_call(sim, daemon)
    set_up(wire, linger=5)
    sim.api(f"uuid_kill {a_uuid}")
    wire.until(is_final_notice, timeout=5)
    notices = [raw for raw, m in wire.received if m.content_type == "text/disconnect-notice"]
    b_uuid = reply.get("Unique-ID")
    recorded = [t for t in _sent_on(LIFECYCLE, "outbound-1") if "disconnect-notice" in t]
    real_uuid = "fb118d4e-457b-4ae3-ba78-63b3e536d86f"
    expected = [t.replace(real_uuid, b_uuid).rstrip("\n") + "\n" for t in recorded]
    assert notices[0].decode() == expected[0] + "\n"
    assert notices[1].decode() == expected[1]


def test_linger_time_is_media_time(sim, daemon):
    """linger 5 at time_scale 0.05 closes about 0.25 s after the hangup, not 5 s."""
    a_uuid, wire, _, _ = start_call(sim, daemon)
    set_up(wire, linger=5)
    started = gevent.get_hub().loop.now()
    sim.api(f"uuid_kill {a_uuid}")
    wire.until(is_final_notice, timeout=3)
    assert 0.2 <= gevent.get_hub().loop.now() - started < 2.0


def test_nolinger_disconnects_after_hangup_complete(sim, daemon):
    """Without linger: no linger notice, the final notice right after CHANNEL_HANGUP_COMPLETE."""
    _, wire, _, _ = start_call(sim, daemon)
    set_up(wire, linger=None)
    execute(wire, "answer", uuid="a3")
    wire.until(complete("a3"))
    wire.send("sendmsg", [("call-command", "hangup"), ("hangup-cause", "CALL_REJECTED")])
    tail = wire.until(is_final_notice)
    got = summary(tail)
    assert got[0] == "reply +OK"
    assert got[1:] == [s for s in event_names_on(LOCAL_TRACES / "probe-apps.txt", "outbound-3")
                       if s != "notice linger"][-7:]
    assert tail[1].event()["Hangup-Cause"] == "CALL_REJECTED"
    assert wire.closed()


def test_sendmsg_hangup_waits_for_the_running_application(sim, daemon):
    """A sendmsg hangup queued behind a playback runs after it completes (FILE PLAYED)."""
    _, wire, _, _ = start_call(sim, daemon)
    set_up(wire, linger=None)
    execute(wire, "playback", "silence_stream://200", uuid="after")
    wire.send("sendmsg", [("call-command", "hangup"), ("hangup-cause", "NORMAL_CLEARING")])
    got = summary(wire.until(is_final_notice))
    played = got.index("CHANNEL_EXECUTE_COMPLETE playback")
    assert got.index("CHANNEL_HANGUP") == played + 1


def test_exit_hangs_the_call_up(sim, daemon):
    """exit on the outbound socket: +OK bye, the notice with the session, then the hangup."""
    a_uuid, wire, _, reply = start_call(sim, daemon)
    set_up(wire)
    assert wire.command("exit").reply_text == "+OK bye"
    notice = wire.read()
    assert notice.content_type == "text/disconnect-notice"
    assert notice.get("Controlled-Session-UUID") == reply.get("Unique-ID")
    assert notice.get("Content-Disposition") == "disconnect"
    assert wire.closed()
    assert sim.wait_hangup(reply.get("Unique-ID"), 3)
    assert str(sim.channel(reply.get("Unique-ID")).history[-1]) == "hangup NORMAL_CLEARING"
    assert sim.wait_hangup(a_uuid, 3)


def test_daemon_closing_the_socket_hangs_up(sim, daemon):
    """When the daemon drops the socket the channel hangs up with NORMAL_CLEARING."""
    _, wire, _, reply = start_call(sim, daemon)
    wire.close()
    assert sim.wait_hangup(reply.get("Unique-ID"), 3)
    assert sim.channel(reply.get("Unique-ID")).hangup_cause == "NORMAL_CLEARING"


def test_bgapi_on_the_outbound_socket(sim, daemon):
    """bgapi there: `+OK Job-UUID`, and BACKGROUND_JOB with Job-Owner-UUID on that socket."""
    _, wire, _, reply = start_call(sim, daemon)
    set_up(wire)
    b_uuid = reply.get("Unique-ID")
    execute(wire, "set", "hangup_after_conference=false", uuid="s")
    wire.until(complete("s"))
    wire.send("bgapi", [])  # a bare bgapi: not found
    assert wire.read().reply_text == "-ERR command not found"
    wire.send(f"bgapi uuid_getvar {b_uuid} hangup_after_conference", [("Job-UUID", "job-L1")])
    assert wire.read().reply_text == "+OK Job-UUID: job-L1"
    event = wire.read().event()
    assert event.name == "BACKGROUND_JOB"
    assert event["Job-Owner-UUID"] == b_uuid
    assert event.body == b"false"
    recorded = [t for t in _sent_on(LIFECYCLE, "outbound-1") if "BACKGROUND_JOB" in t][0]
    assert list(event.headers) == [
        n for n in header_names(recorded.split("\n\n", 1)[1]) if n != "Content-Length"
    ]


def test_api_on_the_outbound_socket(sim, daemon):
    """api works on the outbound socket too."""
    _, wire, _, reply = start_call(sim, daemon)
    message = wire.command(f"api uuid_getvar {reply.get('Unique-ID')} loopback_leg")
    assert message.content_type == "api/response"
    assert message.body == b"B"


def test_sendmsg_after_hangup_is_accepted_and_ignored(sim, daemon):
    """After the hangup a sendmsg still gets +OK and nothing runs (as FreeSWITCH)."""
    a_uuid, wire, _, _ = start_call(sim, daemon)
    set_up(wire, linger=2)
    sim.api(f"uuid_kill {a_uuid}")
    wire.until(is_event("CHANNEL_HANGUP_COMPLETE"))
    execute(wire, "playback", "silence_stream://10", uuid="late")
    assert wire.read().reply_text == "+OK"
    assert is_final_notice(wire.read())


def test_originate_variables_reach_the_b_leg(sim, daemon):
    """Variables given to originate are in the B leg's channel data (the daemon reads them)."""
    url = "http://127.0.0.1:5000/answer?x=1"
    _, _, _, reply = start_call(sim, daemon, dest="V1", variables=f"plivoxml_answer_url={url}")
    assert reply.get("variable_plivoxml_answer_url") == url
    assert reply.get("Caller-Caller-ID-Number") == "0000000000"


def test_variables_in_the_traces_order(sim, daemon):
    """answer, set, playback as lifecycle.txt: every event's variable_ names in the same order."""
    _, wire, _, _ = start_call(sim, daemon)
    set_up(wire, linger=5)
    execute(wire, "answer", uuid="ans-L1")
    execute(wire, "set", "hangup_after_conference=false", header=True)
    execute(wire, "playback", "tone_stream://%(300,0,440)", uuid="play-L1")
    wire.until(complete("play-L1"))

    def variables(text):
        return [n for n in header_names(text) if n.startswith("variable_")]

    mine = [variables(raw.decode().split("\n\n", 1)[1]) for raw, m in wire.received
            if m.is_event and m.event().name != "CHANNEL_PARK"]
    recorded = [variables(t.split("\n\n", 1)[1]) for t in _sent_on(LIFECYCLE, "outbound-1")
                if "text/event-plain" in t and "CHANNEL_PARK" not in t][:len(mine)]
    assert mine == recorded
