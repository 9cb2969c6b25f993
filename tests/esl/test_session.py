"""The sans-IO session: correlation and the outbound sequence, fed bytes, no sockets, no gevent."""

from __future__ import annotations

import logging

import pytest

from plivoxml_fs.errors import ProtocolError
from plivoxml_fs.esl.codec import encode_event_plain, encode_message, frame_event
from plivoxml_fs.esl.session import (
    PHASES,
    UNUSED_CALL_EVENTS,
    AuthRequested,
    CallSession,
    Ended,
    Executed,
    HungUp,
    Ignored,
    JobDone,
    Phase,
    Received,
    Replied,
    Session,
    call_setup,
    describe,
    event_summary,
    shown,
)


def reply(text: str, *extra: tuple[str, str]) -> bytes:
    return encode_message([("Content-Type", "command/reply"), ("Reply-Text", text), *extra])


def api_response(text: str) -> bytes:
    return encode_message([("Content-Type", "api/response")], text.encode())


def event(*headers: tuple[str, str], body: bytes = b"") -> bytes:
    return frame_event(encode_event_plain(list(headers), body))


def notice(disposition: str) -> bytes:
    return encode_message([("Content-Type", "text/disconnect-notice"),
                           ("Content-Disposition", disposition), ("Content-Length", "0")])


def connect_reply(uuid: str) -> bytes:
    """A connect reply as FreeSWITCH sends it: URL-encoded channel data."""
    return encode_message(
        [("Event-Name", "CHANNEL_DATA"), ("Unique-ID", uuid), ("Caller-Caller-ID-Number", "1001"),
         ("Content-Type", "command/reply"), ("Reply-Text", "+OK\n"), ("Socket-Mode", "async")],
        urlencode=True,
    )


def kinds(happenings) -> list[str]:
    return [type(h).__name__ for h in happenings]


# -- correlation ------------------------------------------------------------------------------


def test_replies_go_to_the_oldest_waiting_command_whatever_their_type():
    """command/reply and api/response share one FIFO in wire order."""
    session = Session()
    for name in ("one", "two", "three"):
        session.sent(name, name)
    got = list(session.feed(reply("+OK a") + api_response("b") + reply("-ERR c")))
    assert [(h.waiter, h.message.reply_text) for h in got] == [
        ("one", "+OK a"), ("two", "b"), ("three", "-ERR c"),
    ]
    assert session.waiting() == 0


def test_a_reply_nobody_waits_for_is_a_protocol_error():
    with pytest.raises(ProtocolError, match="command/reply with no command waiting"):
        list(Session().feed(reply("+OK")))


def test_a_message_split_across_reads_is_one_happening_once_whole():
    session = Session()
    session.sent("x", "w")
    data = reply("+OK split")
    assert list(session.feed(data[:7])) == []
    (got,) = session.feed(data[7:])
    assert got == Replied("w", got.message) and got.message.reply_text == "+OK split"
    assert session.bytes_received == len(data)


def test_feed_is_lazy_so_the_transport_can_stop_after_an_ending():
    """What follows an ending in the same read is never looked at (no waiter is consumed)."""
    session = Session()
    session.sent("later", "w")
    happenings = session.feed(notice("disconnect") + reply("+OK too late"))
    assert next(happenings) == Ended("disconnect-notice (disconnect)", logging.DEBUG)
    assert session.waiting() == 1  # the reply behind it is still unread
    assert session.drain().replies == ("w",)


def test_background_job_is_matched_by_job_uuid_and_kept_until_forgotten():
    session = Session()
    session.expect_job("job-1", "bg")
    done = event(("Event-Name", "BACKGROUND_JOB"), ("Job-UUID", "job-1"), body=b"+OK done\n")
    first = list(session.feed(done))
    assert kinds(first) == ["JobDone", "Received"]
    assert first[0] == JobDone("bg", first[0].event) and first[0].event.body_text == "+OK done\n"
    assert first[1].event is first[0].event
    assert kinds(session.feed(done)) == ["JobDone", "Received"]
    session.forget_job("job-1")
    assert kinds(session.feed(done)) == ["Received"]
    other = event(("Event-Name", "BACKGROUND_JOB"), ("Job-UUID", "job-2"))
    assert kinds(session.feed(other)) == ["Received"]


def test_execute_complete_is_matched_by_application_uuid_once():
    session = Session()
    session.expect_execution("app-1", "exe")
    session.expect_execution("app-2", "other")
    complete = event(("Event-Name", "CHANNEL_EXECUTE_COMPLETE"), ("Application", "playback"),
                     ("Application-UUID", "app-1"))
    got = list(session.feed(complete))
    assert kinds(got) == ["Executed", "Received"] and got[0] == Executed("exe", got[0].event)
    assert kinds(session.feed(complete)) == ["Received"]  # matched once, then forgotten
    session.forget_execution("app-2")
    assert session.drain().executions == ()


def test_drain_hands_back_every_open_waiter_and_forgets_them():
    session = Session()
    session.sent("a", "r1")
    session.sent("b", "r2")
    session.expect_job("j", "job")
    session.expect_execution("e", "exe")
    pending = session.drain()
    assert (pending.replies, pending.jobs, pending.executions) == (("r1", "r2"), ("job",), ("exe",))
    assert session.drain().replies == () and session.waiting() == 0


def test_what_other_messages_mean():
    session = Session()
    auth = encode_message([("Content-Type", "auth/request")])
    rude = encode_message([("Content-Type", "text/rude-rejection")], b"Access Denied, go away.\n")
    logged = encode_message([("Content-Type", "log/data")], b"a log line")
    got = list(session.feed(auth + logged + rude))
    assert kinds(got) == ["AuthRequested", "Ignored", "Ended"]
    assert isinstance(got[0], AuthRequested) and isinstance(got[1], Ignored)
    assert got[2] == Ended("FreeSWITCH rejected the connection: Access Denied, go away.",
                           logging.ERROR)
    assert kinds(session.feed(notice("linger"))) == ["HungUp"]


def test_the_byte_cap_ends_before_anything_is_parsed():
    session = Session(peer="the peer 10.0.0.9:4000")
    session.read_limit = 10
    session.sent("connect", "w")
    assert list(session.feed(reply("+OK"))) == [
        Ended("the peer 10.0.0.9:4000 sent more than 10 bytes before a call existed "
              "(max_connect_reply_bytes)", logging.WARNING)
    ]
    assert session.waiting() == 1


def test_a_malformed_frame_raises_protocol_error():
    with pytest.raises(ProtocolError):
        list(Session().feed(b"Content-Length: nope\n\n"))


# -- the outbound sequence --------------------------------------------------------------------


def test_a_call_goes_through_its_phases_in_order():
    call = CallSession("127.0.0.1:5000", read_limit=4096)
    assert call.phase is Phase.ACCEPTED and call.peer == "the peer 127.0.0.1:5000"
    line = call.connect()
    assert line == "connect" and call.phase is Phase.CONNECTING
    call.sent(line, "w")
    (got,) = call.feed(connect_reply("call-a"))
    assert isinstance(got, Replied) and got.waiter == "w"
    assert call.uuid == "call-a" and call.channel.get("Caller-Caller-ID-Number") == "1001"
    assert call.channel.get("Reply-Text") is None
    assert call.connect_refusal() is None and call.phase is Phase.CONNECTED
    call.confirmed()
    assert (call.phase, call.read_limit, call.peer) == (Phase.ESTABLISHED, None, "FreeSWITCH")
    hangup = event(("Event-Name", "CHANNEL_HANGUP"), ("Unique-ID", "call-a"),
                   ("Hangup-Cause", "NORMAL_CLEARING"))
    got = list(call.feed(hangup))
    assert kinds(got) == ["HungUp", "Received"]  # the call knows before any subscriber
    assert call.phase is Phase.HUNG_UP and call.hangup_event["Hangup-Cause"] == "NORMAL_CLEARING"


def test_the_channel_is_adopted_before_the_next_message_of_the_same_read():
    """A hangup right behind the connect reply is recognised as the call's own."""
    call = CallSession("h:1")
    call.sent(call.connect(), "w")
    mine = event(("Event-Name", "CHANNEL_HANGUP"), ("Unique-ID", "call-b"), ("Hangup-Cause", "X"))
    theirs = event(("Event-Name", "CHANNEL_HANGUP_COMPLETE"), ("Unique-ID", "other"))
    got = list(call.feed(connect_reply("call-b") + theirs + mine))
    assert kinds(got) == ["Replied", "Received", "HungUp", "Received"]
    assert got[2].event.unique_id == "call-b"
    assert call.hangup_event is got[2].event


def test_only_the_first_hangup_event_is_kept_and_linger_is_a_hangup_without_event():
    call = CallSession("h:1")
    call.sent(call.connect(), "w")
    list(call.feed(connect_reply("c")))
    call.connect_refusal()
    call.confirmed()
    list(call.feed(event(("Event-Name", "CHANNEL_HANGUP"), ("Unique-ID", "c"),
                         ("Hangup-Cause", "FIRST"))))
    list(call.feed(event(("Event-Name", "CHANNEL_HANGUP_COMPLETE"), ("Unique-ID", "c"),
                         ("Hangup-Cause", "SECOND"))))
    assert call.hangup_event["Hangup-Cause"] == "FIRST"
    assert list(call.feed(notice("linger"))) == [HungUp(None)]


@pytest.mark.parametrize(
    ("unique_id", "why"),
    [("", "sent a connect reply without Unique-ID"),
     ("../../etc", "sent a Unique-ID that is no channel id ('../../etc')")],
)
def test_a_connect_reply_that_names_no_channel_is_refused(unique_id, why):
    call = CallSession("10.1.1.1:7")
    call.sent(call.connect(), "w")
    headers = [("Content-Type", "command/reply"), ("Reply-Text", "+OK")]
    if unique_id:
        headers.append(("Unique-ID", unique_id))
    list(call.feed(encode_message(headers)))
    assert call.connect_refusal() == f"the peer 10.1.1.1:7 {why}"
    assert call.phase is Phase.CONNECTING


def test_only_the_connect_reply_names_the_channel():
    """A reply to another command carrying a Unique-ID header does not become the channel."""
    call = CallSession("h:1")
    call.sent("myevents", "w")
    list(call.feed(reply("+OK", ("Unique-ID", "not-the-call"))))
    assert call.uuid == ""


def test_phases_not_in_the_table_stay_put():
    call = CallSession("h:1")
    call.confirmed()  # confirming before a channel was named changes no phase
    assert call.phase is Phase.ACCEPTED
    assert all(after is not Phase.ACCEPTED for after in PHASES.values())


def test_call_setup_is_myevents_then_the_events_then_linger():
    """myevents, less what nothing reads (every event the verbs read is kept; CHANNEL_ANSWER,
    which only a transcript line read, is not), the conference events, linger."""
    assert call_setup(30) == (
        "myevents",
        "nixevent " + " ".join(UNUSED_CALL_EVENTS),
        "event plain BACKGROUND_JOB CUSTOM conference::maintenance",
        "linger 30",
    )
    read = {"CHANNEL_EXECUTE_COMPLETE", "CHANNEL_HANGUP", "DTMF"}
    assert not read & set(UNUSED_CALL_EVENTS) and "CHANNEL_ANSWER" in UNUSED_CALL_EVENTS


# -- naming -----------------------------------------------------------------------------------


def test_commands_are_named_without_secrets():
    assert shown("auth ClueCon") == "auth <redacted>"
    assert shown("x" * 200) == "x" * 117 + "..."
    assert describe("sendmsg u1", [("call-command", "execute"), ("execute-app-name", "playback")]) \
        == "sendmsg u1 playback"
    assert describe("sendmsg", [("call-command", "hangup")]) == "sendmsg hangup"


def test_event_summary_names_what_matters():
    (got,) = Session().feed(event(("Event-Name", "CHANNEL_EXECUTE_COMPLETE"),
                                  ("Application", "playback"),
                                  ("Application-Response", "FILE PLAYED")))
    assert isinstance(got, Received)
    assert event_summary(got.event) == "CHANNEL_EXECUTE_COMPLETE playback -> FILE PLAYED"
    (got,) = Session().feed(event(("Event-Name", "CUSTOM"), ("Event-Subclass", "conference::maintenance"),
                                  ("Action", "add-member")))
    assert event_summary(got.event) == "add-member"
