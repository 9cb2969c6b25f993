"""The inbound port: authentication, command replies and events, byte for byte as FreeSWITCH."""

from __future__ import annotations

import json

from simulator.helpers import LOCAL_TRACES, SHARED_TRACES, Wire, authed_inbound, trace_messages

GOODBYE = b"Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"


def _recorded(path, conn, index):
    """The `index`-th message FreeSWITCH sent on `conn`, as bytes (trailing newline trimmed)."""
    sent = [text for direction, c, text in trace_messages(path) if direction == "<<<" and c == conn]
    return sent[index]


def test_auth_request_is_sent_first():
    """A new client gets exactly the auth/request the trace shows."""
    from plivoxml_fs.simulator import EmbeddedFreeSwitch

    sim = EmbeddedFreeSwitch()
    sim.start()
    try:
        raw, _ = Wire.connect(sim.inbound_address).read_raw()
    finally:
        sim.stop()
    assert raw == b"Content-Type: auth/request\n\n"
    assert _recorded(SHARED_TRACES / "lifecycle.txt", "in", 0).startswith(raw.decode())


def test_auth_accepted_reply_bytes(sim):
    """The right password gets `+OK accepted`, byte for byte."""
    wire = Wire.connect(sim.inbound_address)
    wire.read()
    wire.send("auth ClueCon")
    raw, _ = wire.read_raw()
    assert raw == b"Content-Type: command/reply\nReply-Text: +OK accepted\n\n"


def test_wrong_password_is_refused_and_disconnected(sim):
    """A wrong password gets -ERR invalid, the goodbye notice, and the close."""
    wire = Wire.connect(sim.inbound_address)
    wire.read()
    wire.send("auth nope")
    assert wire.read().reply_text == "-ERR invalid"
    raw, _ = wire.read_raw()
    assert raw == b"Content-Type: text/disconnect-notice\nContent-Length: 67\n\n" + GOODBYE
    assert raw.decode() in _recorded(LOCAL_TRACES / "probe-inbound.txt", "bad", 2)
    assert wire.closed()


def test_commands_before_auth_are_not_found(sim):
    """Before auth every command but auth/exit is `-ERR command not found`; auth still works."""
    wire = Wire.connect(sim.inbound_address)
    wire.read()
    assert wire.command("api status").reply_text == "-ERR command not found"
    assert wire.command("auth ClueCon").reply_text == "+OK accepted"


def test_unknown_command(sim):
    """An unknown command is `-ERR command not found`, as on FreeSWITCH."""
    wire = authed_inbound(sim)
    assert wire.command("foo").reply_text == "-ERR command not found"
    assert wire.command("myevents").reply_text == "-ERR command not found"
    assert wire.command("api").reply_text == "-ERR command not found"


def test_unknown_api_command(sim):
    """`api foo bar` answers `-ERR foo Command not found!` in an api/response."""
    wire = authed_inbound(sim)
    wire.send("api foo bar")
    raw, message = wire.read_raw()
    assert raw == b"Content-Type: api/response\nContent-Length: 28\n\n-ERR foo Command not found!\n"
    assert message.content_type == "api/response"


def test_event_subscription_replies(sim):
    """`event` replies name the format; no known name is `-ERR no keywords supplied`."""
    wire = authed_inbound(sim)
    line = "event plain CHANNEL_HANGUP_COMPLETE BACKGROUND_JOB CUSTOM conference::maintenance"
    wire.send(line)
    raw, _ = wire.read_raw()
    assert raw.decode() == _recorded(SHARED_TRACES / "lifecycle.txt", "in", 2).rstrip("\n") + "\n\n"
    assert wire.command("event json CHANNEL_ANSWER").reply_text == "+OK event listener enabled json"
    assert wire.command("event plain").reply_text == "-ERR no keywords supplied"
    assert wire.command("event plain NOSUCH").reply_text == "-ERR no keywords supplied"
    assert wire.command("noevents").reply_text == "+OK no longer listening for events"
    assert wire.command("noevents").reply_text == "-ERR not listening for events"
    assert wire.command("nixevent CHANNEL_ANSWER").reply_text == "+OK events nixed"


def test_linger_needs_a_session(sim):
    """linger and nolinger on the inbound port: `-ERR not controlling a session`."""
    wire = authed_inbound(sim)
    assert wire.command("linger 5").reply_text == "-ERR not controlling a session"
    assert wire.command("nolinger").reply_text == "-ERR not controlling a session"


def test_exit_says_bye_and_closes(sim):
    """exit: `+OK bye`, the goodbye notice without session headers, then the close."""
    wire = authed_inbound(sim)
    assert wire.command("exit").reply_text == "+OK bye"
    raw, _ = wire.read_raw()
    assert raw == b"Content-Type: text/disconnect-notice\nContent-Length: 67\n\n" + GOODBYE
    assert wire.closed()


def test_bgapi_honours_the_clients_job_uuid(sim):
    """bgapi with a Job-UUID header: that id in the reply and on BACKGROUND_JOB, result as body."""
    wire = authed_inbound(sim)
    wire.command("event plain BACKGROUND_JOB")
    wire.send("bgapi status", [("Job-UUID", "myjob")])
    raw, reply = wire.read_raw()
    assert raw == (
        b"Content-Type: command/reply\nReply-Text: +OK Job-UUID: myjob\nJob-UUID: myjob\n\n"
    )
    event = wire.read().event()
    assert event.name == "BACKGROUND_JOB"
    assert event["Job-UUID"] == "myjob"
    assert event["Job-Command"] == "status"
    assert "Job-Command-Arg" not in event.headers
    assert event.body_text.startswith("UP 0 years, 0 days, 0 hours, 0 minutes, ")


def test_bgapi_generates_a_job_uuid_and_sends_the_argument(sim):
    """Without a Job-UUID one is made up; Job-Command-Arg carries the arguments."""
    wire = authed_inbound(sim)
    wire.command("event plain BACKGROUND_JOB")
    reply = wire.command("bgapi uuid_getvar nosuch x")
    job = reply.get("Job-UUID")
    assert reply.reply_text == f"+OK Job-UUID: {job}" and len(job) == 36
    event = wire.read().event()
    assert event["Job-UUID"] == job
    assert event["Job-Command-Arg"] == "nosuch x"
    assert event.body_text == "-ERR No such channel!\n"


def test_bgapi_event_needs_a_subscription(sim):
    """Without `event ... BACKGROUND_JOB` the job's event is not delivered."""
    wire = authed_inbound(sim)
    assert wire.command("bgapi status").reply_text.startswith("+OK Job-UUID: ")
    assert wire.quiet(0.3)


def test_json_events(sim):
    """`event json` delivers text/event-json with the result in _body."""
    wire = authed_inbound(sim)
    wire.command("event json BACKGROUND_JOB")
    wire.command("bgapi hostname", [("Job-UUID", "j2")])
    message = wire.read()
    assert message.content_type == "text/event-json"
    data = json.loads(message.body)
    assert data["Event-Name"] == "BACKGROUND_JOB"
    assert data["Job-UUID"] == "j2"
    assert data["_body"] == sim.hostname


def test_status_has_freeswitchs_shape(sim):
    """`api status` has the lines FreeSWITCH 1.10.12 prints."""
    lines = sim.api("status").split("\n")
    assert lines[0].startswith("UP 0 years, 0 days, 0 hours, 0 minutes, ")
    assert lines[1] == "FreeSWITCH (Version 1.10.12-release git a88d069 2024-08-02 21:02:27Z 64bit) is ready"
    assert lines[2] == "0 session(s) since startup"
    assert lines[3].startswith("0 session(s) - peak 0")


def test_xml_events_as_recorded(sim):
    """`event xml`: text/event-xml laid out as FreeSWITCH writes it, body escaped."""
    wire = authed_inbound(sim)
    assert wire.command("event xml BACKGROUND_JOB").reply_text == "+OK event listener enabled xml"
    wire.command("bgapi uuid_getvar nosuch x", [("Job-UUID", "jx")])
    raw, message = wire.read_raw()
    assert message.content_type == "text/event-xml"
    mine = raw.decode().split("\n\n", 1)[1]
    recorded = [t for d, c, t in trace_messages(LOCAL_TRACES / "probe-formats.txt")
                if d == "<<<" and "text/event-xml" in t][0].split("\n\n", 1)[1]
    tags = [line.split(">", 1)[0] for line in mine.split("\n")]
    assert tags == [line.split(">", 1)[0] for line in recorded.split("\n")][: len(tags)]
    assert mine.endswith(recorded[recorded.index("  </headers>"):].rstrip("\n") + "\n")
    wire.command("bgapi hostname", [("Job-UUID", "jh")])
    assert f"  <body>{sim.hostname}</body>\n</event>\n" in wire.read_raw()[0].decode()


def test_other_command_texts_as_recorded(sim):
    """log, nolog, divert_events, filter edge cases, myevents <uuid>: the recorded replies."""
    wire = authed_inbound(sim)
    recorded = [t.split("Reply-Text: ", 1)[1].split("\n", 1)[0]
                for d, c, t in trace_messages(LOCAL_TRACES / "probe-formats.txt")
                if d == "<<<" and "command/reply" in t][3:15]
    lines = ["log 7", "nolog", "nolog", "divert_events on", "getvar x", "resume",
             "filter Unique-ID", "filter", "filter delete Unique-ID", "connect",
             "myevents nosuch", "myevents nosuch json"]
    assert [wire.command(line).reply_text for line in lines] == recorded


def test_a_client_that_does_not_read_is_dropped(sim, monkeypatch, caplog):
    """Past the queue bound events are lost; past MAX_MISSED lost ones the client is dropped."""
    from plivoxml_fs.simulator import esl
    from plivoxml_fs.simulator.bus import Calling

    monkeypatch.setattr(esl, "MAX_QUEUE_LEN", 0)
    monkeypatch.setattr(esl, "MAX_MISSED", 3)
    wire = authed_inbound(sim)
    wire.command("event plain CUSTOM test::x")
    for _ in range(4):
        sim.bus.fire(sim.factory.make("CUSTOM", Calling("t.c", "t", 1), subclass="test::x"))
    assert wire.closed()
    assert [r.getMessage() for r in caplog.records if r.name == "plivoxml_fs.simulator"] == [
        "simulator inbound connection: killed after 4 lost events (not reading)"
    ]
