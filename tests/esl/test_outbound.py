"""OutboundServer and OutboundConnection against calls dialled by a scripted FreeSWITCH."""

from __future__ import annotations

import logging

import gevent
import gevent.event
import pytest

from esl.fakefs import answer_call, channel_data, dial
from plivoxml_fs.errors import CommandFailed, ConnectionLost
from plivoxml_fs.esl.codec import encode_event_plain, frame_event
from plivoxml_fs.esl.server import OutboundServer
from plivoxml_fs.esl.transport import OutboundConnection


@pytest.fixture
def make_server():
    """Start OutboundServers on 127.0.0.1:0 and stop them after the test."""
    servers = []

    def make(handler, max_calls=10):
        server = OutboundServer(
            ("127.0.0.1", 0), handler, max_calls=max_calls, command_timeout_s=2.0
        )
        server.start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop(timeout=0.2)


def test_connect_keeps_channel_data_and_uuid(make_server):
    """`connect` is sent first; the URL-encoded channel data and Unique-ID are kept decoded."""
    seen = gevent.event.AsyncResult()
    server = make_server(lambda conn: seen.set(conn))
    side = dial(server.address)
    answer_call(side, "call-a")
    conn: OutboundConnection = seen.get(timeout=2)
    assert conn.uuid == "call-a"
    assert conn.channel.get("variable_plivoxml_answer_url") == "http://example.test/answer?a=1&b=2"
    assert conn.channel.get("Caller-Caller-ID-Number") == "1001"
    assert conn.channel.get("Reply-Text") is None
    assert conn.log_extra == {"call_uuid": "call-a"}


def test_hangup_flag_on_channel_hangup(make_server):
    """CHANNEL_HANGUP for this call sets `hangup` and keeps the event; another uuid's does not."""
    done = gevent.event.AsyncResult()

    def handler(conn):
        conn.command("myevents")
        conn.hangup.wait(2)
        done.set((conn.hangup.is_set(), conn.hangup_event))

    server = make_server(handler)
    side = dial(server.address)
    answer_call(side, "call-h")
    assert side.read().line == "myevents"
    side.reply("+OK Events Enabled")
    side.event([("Event-Name", "CHANNEL_HANGUP"), ("Unique-ID", "other-call")])
    gevent.sleep(0.02)
    assert not done.ready()
    side.event(
        [("Event-Name", "CHANNEL_HANGUP"), ("Unique-ID", "call-h"), ("Hangup-Cause", "USER_BUSY")]
    )
    flag, event = done.get(timeout=2)
    assert flag and event["Hangup-Cause"] == "USER_BUSY"


def test_linger_notice_sets_hangup_but_keeps_the_call(make_server):
    """A linger disconnect-notice marks the call hung up; the socket keeps delivering events."""
    out = gevent.event.AsyncResult()

    def handler(conn):
        with conn.subscribe() as sub:
            conn.command("myevents")
            conn.hangup.wait(2)
            out.set((conn.closed, sub.get(timeout=2).name))

    server = make_server(handler)
    side = dial(server.address)
    answer_call(side, "call-l")
    assert side.read().line == "myevents"
    side.reply("+OK Events Enabled")
    side.notice("linger", "call-l")
    side.event([("Event-Name", "CHANNEL_HANGUP_COMPLETE"), ("Unique-ID", "call-l")])
    assert out.get(timeout=2) == (False, "CHANNEL_HANGUP_COMPLETE")


def test_loss_sets_hangup_and_fails_waiters(make_server):
    """When the call's socket drops, hangup is set and the waiting execute fails at once."""
    out = gevent.event.AsyncResult()

    def handler(conn):
        try:
            conn.execute("playback", "x.wav", timeout=5)
        except ConnectionLost as exc:
            out.set((conn.hangup.is_set(), str(exc)))

    server = make_server(handler)
    side = dial(server.address)
    answer_call(side, "call-x")
    assert side.read().get("execute-app-name") == "playback"
    side.reply("+OK")
    side.close()
    flag, message = out.get(timeout=2)
    assert flag and message == "call call-x: connection closed by FreeSWITCH"


def test_pool_bounds_concurrent_calls(make_server):
    """With max_calls=2 a third call is not served until one of the first two ends."""
    release = gevent.event.Event()
    server = make_server(lambda conn: release.wait(5), max_calls=2)
    first, second = dial(server.address), dial(server.address)
    answer_call(first, "c1")
    answer_call(second, "c2")
    third = dial(server.address)
    with pytest.raises(gevent.Timeout):
        third.read(timeout=0.1)
    assert server.active == 2
    release.set()
    answer_call(third, "c3")
    assert third.read(timeout=2) is None  # handler returned: the socket is closed


def test_handler_exception_is_logged_and_spares_other_calls(make_server, caplog):
    """A failing handler is logged with its call uuid; other calls and the server go on."""
    results = gevent.event.AsyncResult()

    def handler(conn):
        if conn.uuid == "bad":
            raise RuntimeError("boom")
        results.set(conn.api("status"))

    server = make_server(handler)
    bad = dial(server.address)
    answer_call(bad, "bad")
    assert bad.read(timeout=2) is None
    good = dial(server.address)
    answer_call(good, "good")
    assert good.read().line == "api status"
    good.api_response("UP 0 years")
    assert results.get(timeout=2) == "UP 0 years"
    failures = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(failures) == 1
    assert failures[0].getMessage() == "call bad: handler failed"
    assert failures[0].call_uuid == "bad" and "boom" in caplog.text


def test_stop_drains_active_calls(make_server):
    """stop(timeout) refuses new calls and waits for active ones that end in time."""
    ended = []

    def handler(conn):
        gevent.sleep(0.1)
        ended.append(conn.uuid)

    server = make_server(handler)
    side = dial(server.address)
    answer_call(side, "drain-me")
    assert server.stop(timeout=2) is True
    assert ended == ["drain-me"]
    with pytest.raises(OSError):
        dial(server.address)


def test_stop_closes_calls_that_outlive_the_timeout(make_server, caplog):
    """Calls still active after the drain timeout have their socket closed and end."""
    out = gevent.event.AsyncResult()

    def handler(conn):
        try:
            conn.execute("conference", "room@default", timeout=10)
        except ConnectionLost as exc:
            out.set(str(exc))

    server = make_server(handler)
    side = dial(server.address)
    answer_call(side, "stuck")
    side.read()
    side.reply("+OK")
    assert server.stop(timeout=0.05) is False
    assert out.get(timeout=2) == "call stuck: closed by us"
    assert server.active == 0
    assert "stop: 1 calls still active after 0.05 s; closing them" in caplog.text


def test_events_in_the_same_read_as_the_connect_reply_see_the_uuid(make_server):
    """An event glued to the connect reply is already judged against this call's uuid."""
    out = gevent.event.AsyncResult()
    server = make_server(lambda conn: out.set(conn.hangup.is_set()))
    side = dial(server.address)
    assert side.read().line == "connect"
    other = frame_event(
        encode_event_plain([("Event-Name", "CHANNEL_HANGUP"), ("Unique-ID", "other")])
    )
    side.send(channel_data("mine") + other)
    assert out.get(timeout=2) is False


def test_connect_without_reply_is_dropped(caplog):
    """A caller that never answers `connect` is dropped after connect_timeout_s (not the
    command timeout), in one WARNING naming the peer; the handler never runs."""
    calls = []
    server = OutboundServer(("127.0.0.1", 0), calls.append, max_calls=2, command_timeout_s=30,
                            connect_timeout_s=0.05)
    server.start()
    try:
        side = dial(server.address)
        assert side.read().line == "connect"
        assert side.read(timeout=2) is None
        assert calls == []
        peer = f"127.0.0.1:{side.sock.getsockname()[1]}"
        lines = [(r.levelname, r.getMessage()) for r in caplog.records
                 if r.levelno >= logging.WARNING]
        assert lines == [("WARNING", f"no call: no reply to 'connect' within 0.05 s (the peer {peer})")]
    finally:
        server.stop(timeout=0.2)


def test_many_concurrent_calls_each_get_their_own_answers(make_server):
    """Two hundred calls at once: each handler sees its own uuid, api answer and execution."""
    results = {}

    def handler(conn):
        status = conn.api(f"uuid_exists {conn.uuid}")
        done = conn.execute("answer", timeout=5)
        results[conn.uuid] = (status, done["Unique-ID"])

    def freeswitch(uuid):
        side = dial(server.address)
        answer_call(side, uuid)
        side.read()
        side.api_response(f"true {uuid}")
        command = side.read()
        side.reply("+OK")
        side.event(
            [
                ("Event-Name", "CHANNEL_EXECUTE_COMPLETE"),
                ("Unique-ID", uuid),
                ("Application-UUID", command.get("Event-UUID")),
            ]
        )
        assert side.read(timeout=5) is None
        side.close()

    server = make_server(handler, max_calls=300)
    calls = [gevent.spawn(freeswitch, f"call-{i}") for i in range(200)]
    gevent.joinall(calls, timeout=20, raise_error=True)
    assert results == {f"call-{i}": (f"true call-{i}", f"call-{i}") for i in range(200)}


def test_commands_go_in_one_write_and_each_reply_is_its_own(make_server):
    """`commands` writes every line before any reply (FreeSWITCH reads them all at once) and
    hands back the replies in order; an -ERR among them raises naming that command."""
    out = gevent.event.AsyncResult()

    def handler(conn):
        replies = conn.commands(["myevents", "linger 5"])
        try:
            conn.commands(["nixevent TALK", "linger 5"])
        except CommandFailed as exc:
            out.set(([r.reply_text for r in replies], str(exc)))

    server = make_server(handler)
    side = dial(server.address)
    answer_call(side, "call-p")
    # both commands arrive before anything is answered
    assert [side.read().line, side.read().line] == ["myevents", "linger 5"]
    side.reply("+OK Events Enabled")
    side.reply("+OK will linger 5 seconds")
    assert [side.read().line, side.read().line] == ["nixevent TALK", "linger 5"]
    side.reply("-ERR not subscribed")
    side.reply("+OK will linger 5 seconds")
    texts, error = out.get(timeout=2)
    assert texts == ["+OK Events Enabled", "+OK will linger 5 seconds"]
    assert "nixevent TALK" in error and "not subscribed" in error
