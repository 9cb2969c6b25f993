"""EslConnection against a scripted FreeSWITCH on real TCP sockets: correlation, deadlines, loss."""

from __future__ import annotations

import logging
import random
import socket

import gevent
import gevent.socket
import pytest

from esl.fakefs import FakeSide
from plivoxml_fs.errors import (
    CommandFailed,
    CommandTimeout,
    ConnectionLost,
    EventOverflow,
    UnsafeValue,
)
from plivoxml_fs.esl.codec import encode_event_json, frame_event
from plivoxml_fs.esl.transport import EslConnection


@pytest.fixture
def pair():
    """An EslConnection wired over TCP to FreeSWITCH's end, a FakeSide."""
    listener = gevent.socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    client = gevent.socket.create_connection(listener.getsockname())
    server, _ = listener.accept()
    conn = EslConnection(client, name="test-conn", command_timeout_s=2.0)
    conn.start()
    yield conn, FakeSide(server)
    conn.close()
    server.close()
    listener.close()


def _answer_in_order(side: FakeSide, count: int) -> None:
    """FreeSWITCH answers commands strictly in the order it read them."""
    for _ in range(count):
        command = side.read()
        gevent.sleep(random.random() * 0.002)
        if command.line.startswith("api "):
            side.api_response(command.line[len("api ") :])
        else:
            side.reply(f"+OK {command.line}")


def test_replies_match_commands_under_concurrency(pair):
    """Fifty greenlets mixing api and plain commands each get their own reply."""
    conn, side = pair
    server = gevent.spawn(_answer_in_order, side, 50)

    def one(i):
        if i % 2:
            return conn.api(f"echo {i}")
        return conn.command(f"filter Unique-ID u{i}").reply_text

    results = gevent.joinall([gevent.spawn(one, i) for i in range(50)], raise_error=True)
    for i, greenlet in enumerate(results):
        assert greenlet.value == (f"echo {i}" if i % 2 else f"+OK filter Unique-ID u{i}")
    server.get(timeout=2)


def test_large_concurrent_writes_never_interleave(pair):
    """Big sendmsg bodies written by many greenlets at once arrive whole, each with its own +OK."""
    conn, side = pair
    count, size = 8, 200_000
    conn._sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)  # make sendall yield

    def fs():
        bodies = []
        for _ in range(count):
            command = side.read(timeout=10)
            bodies.append(command.body)
            side.reply("+OK")
        return bodies

    server = gevent.spawn(fs)
    args = [chr(ord("a") + i) * size for i in range(count)]
    calls = [gevent.spawn(conn.execute_async, "speak", arg, timeout=10) for arg in args]
    gevent.joinall(calls, raise_error=True)
    assert sorted(server.get(timeout=10)) == sorted(a.encode() for a in args)


def test_bgapi_results_correlate_by_job_uuid_out_of_order(pair):
    """BACKGROUND_JOB events arriving in reverse order reach the bgapi that started them."""
    conn, side = pair

    def fs():
        jobs = []
        for _ in range(3):
            command = side.read()
            job = command.get("Job-UUID")
            side.reply(f"+OK Job-UUID: {job}", ("Job-UUID", job))
            jobs.append((job, command.line))
        side.event([("Event-Name", "BACKGROUND_JOB"), ("Job-UUID", "someone-else")], b"-ERR x")
        for job, line in reversed(jobs):
            side.event(
                [("Event-Name", "BACKGROUND_JOB"), ("Job-UUID", job)],
                f"+OK {line}\n".encode(),
            )

    server = gevent.spawn(fs)
    calls = [gevent.spawn(conn.bgapi, f"status {i}") for i in range(3)]
    gevent.joinall(calls, raise_error=True)
    assert [c.value.body_text for c in calls] == [f"+OK bgapi status {i}\n" for i in range(3)]
    server.get(timeout=2)


def test_json_events_correlate_too(pair):
    """With `event json` the BACKGROUND_JOB arrives as text/event-json and still resolves."""
    conn, side = pair

    def fs():
        command = side.read()
        job = command.get("Job-UUID")
        side.reply(f"+OK Job-UUID: {job}", ("Job-UUID", job))
        body = encode_event_json([("Event-Name", "BACKGROUND_JOB"), ("Job-UUID", job)], b"+OK\n")
        side.send(frame_event(body, "text/event-json"))

    server = gevent.spawn(fs)
    assert conn.bgapi("status").body == b"+OK\n"
    server.get(timeout=2)


def test_execute_correlates_by_application_uuid(pair):
    """CHANNEL_EXECUTE_COMPLETE is matched on Application-UUID, not on the app name."""
    conn, side = pair

    def fs():
        seen = []
        for _ in range(3):
            command = side.read()
            assert command.line == "sendmsg"
            assert command.get("call-command") == "execute"
            side.reply("+OK")
            seen.append((command.get("Event-UUID"), command.body.decode()))
        side.event([("Event-Name", "CHANNEL_EXECUTE_COMPLETE"), ("Application-UUID", "stale")])
        for app_uuid, arg in reversed(seen):
            side.event(
                [
                    ("Event-Name", "CHANNEL_EXECUTE_COMPLETE"),
                    ("Application", "playback"),
                    ("Application-Data", arg),
                    ("Application-UUID", app_uuid),
                ]
            )

    server = gevent.spawn(fs)
    calls = [gevent.spawn(conn.execute, "playback", f"file{i}.wav") for i in range(3)]
    gevent.joinall(calls, raise_error=True)
    assert [c.value["Application-Data"] for c in calls] == [f"file{i}.wav" for i in range(3)]
    server.get(timeout=2)


def test_execute_async_reports_done(pair):
    """execute_async returns once accepted; its Execution completes on the matching event."""
    conn, side = pair
    server = gevent.spawn(lambda: (side.read(), side.reply("+OK")))
    execution = conn.execute_async("answer")
    server.get(timeout=2)
    assert not execution.done
    with pytest.raises(CommandTimeout) as info:
        execution.wait(0.02)
    assert f"answer (Application-UUID {execution.app_uuid}) did not complete" in str(info.value)
    side.event(
        [("Event-Name", "CHANNEL_EXECUTE_COMPLETE"), ("Application-UUID", execution.app_uuid)]
    )
    assert execution.wait(1).get("Application-UUID") == execution.app_uuid
    assert execution.done


def test_execute_many_writes_every_execute_at_once_and_completes_each(pair):
    """execute_many sends its executes in one write, in order, each with its own Event-UUID;
    each Execution completes on its own CHANNEL_EXECUTE_COMPLETE."""
    conn, side = pair
    reads = []

    def fs():
        data = side.sock.recv(65536)  # the whole batch arrives in one read
        reads.append(data)
        commands = side.parser.feed(data)
        for _ in commands:
            side.reply("+OK")
        return commands

    server = gevent.spawn(fs)
    first, join = conn.execute_many([("multiset", "^^|a=1|b=2"), ("conference", "r@default")])
    sent = server.get(timeout=2)
    assert [(c.get("execute-app-name"), c.body.decode()) for c in sent] == [
        ("multiset", "^^|a=1|b=2"), ("conference", "r@default")]
    assert [c.get("Event-UUID") for c in sent] == [first.app_uuid, join.app_uuid]
    assert first.app_uuid != join.app_uuid and len(reads) == 1
    side.event([("Event-Name", "CHANNEL_EXECUTE_COMPLETE"), ("Application-UUID", join.app_uuid)])
    assert join.wait(1).get("Application-UUID") == join.app_uuid and not first.done


def test_execute_many_with_a_refused_execute_raises_and_forgets_them(pair):
    """A `-ERR` to any execute of the batch raises CommandFailed naming that application; none
    of its executions is waited for any more."""
    conn, side = pair

    def fs():
        side.read()
        side.reply("+OK")
        side.read()
        side.reply("-ERR invalid session id")

    server = gevent.spawn(fs)
    with pytest.raises(CommandFailed) as info:
        conn.execute_many([("multiset", "^^|a=1|b=2"), ("conference", "r@default")])
    server.get(timeout=2)
    assert "sendmsg conference" in str(info.value) and "invalid session id" in str(info.value)
    assert conn._session.drain().executions == ()


def test_deadline_raises_command_timeout_naming_the_command(pair):
    """A reply that never comes raises CommandTimeout naming the command and the deadline."""
    conn, side = pair
    with pytest.raises(CommandTimeout) as info:
        conn.api("conference room1 list", timeout=0.05)
    assert str(info.value) == "test-conn: no reply to 'api conference room1 list' within 0.05 s"


def test_late_reply_goes_to_the_timed_out_command(pair):
    """After a timeout the late reply is consumed by its own waiter, not the next command."""
    conn, side = pair
    with pytest.raises(CommandTimeout):
        conn.api("slow", timeout=0.02)
    server = gevent.spawn(_answer_in_order, side, 2)
    assert conn.api("fast") == "fast"
    server.get(timeout=2)


def test_callers_own_timeout_is_not_mistaken_for_ours(pair):
    """A gevent.Timeout the caller set propagates as itself; the connection stays in step."""
    conn, side = pair
    with pytest.raises(gevent.Timeout), gevent.Timeout(0.02):
        conn.api("slow", timeout=5)
    server = gevent.spawn(_answer_in_order, side, 2)
    assert conn.api("next") == "next"
    server.get(timeout=2)


def test_write_to_a_peer_that_does_not_read_times_out_and_closes(pair, caplog):
    """A write that cannot finish by the deadline raises CommandTimeout and closes the socket."""
    conn, _side = pair
    conn._sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    with pytest.raises(CommandTimeout) as info:
        conn.execute_async("speak", "x" * 20_000_000, timeout=0.1)
    assert str(info.value) == "test-conn: could not send sendmsg speak in time"
    assert conn.closed and conn.close_reason == "a write timed out (FreeSWITCH not reading)"
    assert "a write timed out" in caplog.text


def test_sendmsg_timeout_names_the_application(pair):
    """A sendmsg that is never acknowledged is named with its application."""
    conn, side = pair
    with pytest.raises(CommandTimeout) as info:
        conn.execute("playback", "x.wav", timeout=0.05)
    assert "no reply to 'sendmsg playback' within 0.05 s" in str(info.value)


def test_eof_fails_every_waiter_at_once(pair):
    """EOF while api, bgapi, execute and a subscription wait fails all with ConnectionLost."""
    conn, side = pair
    sub = conn.subscribe()

    def fs():
        bg = side.read()
        side.reply("+OK Job-UUID", ("Job-UUID", bg.get("Job-UUID")))
        side.read()
        side.reply("+OK")  # sendmsg accepted, never completes
        side.read()  # api: never answered
        side.event([("Event-Name", "HEARTBEAT")])
        gevent.sleep(0.02)
        side.close()

    server = gevent.spawn(fs)
    bgapi = gevent.spawn(conn.bgapi, "status", timeout=5)
    gevent.sleep(0.01)
    execute = gevent.spawn(conn.execute, "park", timeout=5)
    gevent.sleep(0.01)
    api = gevent.spawn(conn.api, "status", timeout=5)
    started = gevent.get_hub().loop.now()
    gevent.joinall([api, bgapi, execute], timeout=2)
    assert gevent.get_hub().loop.now() - started < 1
    for greenlet in (api, bgapi, execute):
        assert isinstance(greenlet.exception, ConnectionLost), greenlet.exception
        assert "connection closed by FreeSWITCH" in str(greenlet.exception)
    assert sub.get(timeout=1).name == "HEARTBEAT"
    with pytest.raises(ConnectionLost, match="connection closed by FreeSWITCH"):
        sub.get(timeout=1)
    assert conn.closed and conn.wait_closed(0)
    with pytest.raises(ConnectionLost, match="cannot send api status"):
        conn.api("status")
    server.get(timeout=2)


def test_final_disconnect_notice_fails_waiters(pair):
    """A disconnect-notice with disposition `disconnect` closes and fails pending waiters."""
    conn, side = pair
    server = gevent.spawn(lambda: (side.read(), side.notice("disconnect")))
    with pytest.raises(ConnectionLost) as info:
        conn.api("status")
    assert str(info.value) == "test-conn: disconnect-notice (disconnect)"
    server.get(timeout=2)


def test_linger_notice_keeps_reading(pair):
    """A linger disconnect-notice keeps the connection: later events and replies still arrive."""
    conn, side = pair
    sub = conn.subscribe()
    side.notice("linger")
    side.event([("Event-Name", "CHANNEL_HANGUP_COMPLETE")])
    assert sub.get(timeout=1).name == "CHANNEL_HANGUP_COMPLETE"
    assert not conn.closed
    server = gevent.spawn(_answer_in_order, side, 1)
    assert conn.api("status") == "status"
    server.get(timeout=2)


@pytest.mark.parametrize(
    ("garbage", "reason"),
    [
        (b"this line has no colon\n\n", "header line without ': '"),
        (b"Content-Type: api/response\nContent-Length: ten\n\n", "Content-Length is not a number"),
        (b"Content-Length: 0\n\n", "no Content-Type header"),
        (
            b"Content-Type: text/event-json\nContent-Length: 5\n\n[1,2]",
            "text/event-json body is not a JSON object",
        ),
    ],
)
def test_malformed_frame_closes_with_a_clear_log_line(pair, caplog, garbage, reason):
    """A malformed frame closes the connection, logs why at ERROR and fails the waiters."""
    conn, side = pair
    subscription = conn.subscribe()
    caplog.set_level(logging.DEBUG, logger="plivoxml_fs.esl")
    waiting = gevent.spawn(conn.api, "status", timeout=5)
    side.read()
    side.send(garbage)
    with pytest.raises(ConnectionLost) as info:
        waiting.get(timeout=2)
    assert "malformed ESL from FreeSWITCH" in str(info.value) and reason in str(info.value)
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and reason in errors[0].getMessage()
    with pytest.raises(ConnectionLost):
        subscription.get(timeout=1)


def test_unsolicited_reply_closes_the_connection(pair, caplog):
    """A reply when no command waits means replies no longer line up: the connection closes."""
    conn, side = pair
    side.reply("+OK")
    assert conn.wait_closed(1)
    assert conn.close_reason == (
        "malformed ESL from FreeSWITCH: command/reply with no command waiting for it"
    )
    assert any(r.levelno == logging.ERROR for r in caplog.records)


def test_unsafe_command_is_refused_before_anything_is_sent(pair):
    """A CR/LF in a command raises UnsafeValue and leaves the connection usable."""
    conn, side = pair
    with pytest.raises(UnsafeValue, match="api command contains CR, LF or NUL"):
        conn.api("status\n\nexit")
    server = gevent.spawn(_answer_in_order, side, 1)
    assert conn.api("status") == "status"
    server.get(timeout=2)
    assert [c.line for c in side.received] == ["api status"]


def test_err_replies_raise_command_failed(pair):
    """-ERR in a command/reply or an api/response body raises CommandFailed with the text."""
    conn, side = pair

    def fs():
        side.read()
        side.reply("-ERR invalid")
        side.read()
        side.api_response("-ERR Conference nosuch not found\n")
        side.read()
        side.api_response("-ERR no such channel\n")

    server = gevent.spawn(fs)
    with pytest.raises(CommandFailed) as info:
        conn.command("event plain BOGUS")
    assert str(info.value) == "'event plain BOGUS' failed: -ERR invalid"
    with pytest.raises(CommandFailed) as info:
        conn.api("conference nosuch list")
    assert info.value.reply.startswith("-ERR Conference nosuch not found")
    assert conn.api("uuid_getvar x y", check=False) == "-ERR no such channel\n"
    server.get(timeout=2)


def test_subscription_overflow_is_reported_not_silent(pair, caplog):
    """A subscription that falls behind its bound raises EventOverflow after the kept events."""
    conn, side = pair
    sub = conn.subscribe(maxsize=2)
    for i in range(4):
        side.event([("Event-Name", "CUSTOM"), ("Seq", str(i))])
    side.event([("Event-Name", "HEARTBEAT")])
    gevent.sleep(0.05)
    assert [sub.get(timeout=1)["Seq"], sub.get(timeout=1)["Seq"]] == ["0", "1"]
    with pytest.raises(EventOverflow, match="subscription fell 2 events behind"):
        sub.get(timeout=1)
    assert any("fell 2 events behind" in r.getMessage() for r in caplog.records)


def test_subscription_get_times_out_with_none_and_close(pair):
    """get returns None when nothing arrives in time; a closed subscription raises."""
    conn, _side = pair
    sub = conn.subscribe()
    assert sub.get(timeout=0.01) is None
    sub.close()
    with pytest.raises(ConnectionLost, match="subscription closed"):
        sub.get(timeout=0.01)


def test_events_are_url_decoded_and_bodies_kept(pair):
    """Event header values are URL-decoded after splitting; a BACKGROUND_JOB body is kept."""
    conn, side = pair
    sub = conn.subscribe()
    side.event([("Event-Name", "CUSTOM"), ("Caller-Name", "a: b\nEvil: yes")], b"body\n")
    event = sub.get(timeout=1)
    assert event["Caller-Name"] == "a: b\nEvil: yes"
    assert event.get("Evil") is None
    assert event.body == b"body\n"


def test_event_log_lines_carry_the_event_the_conference_and_the_call(pair, caplog):
    """The DEBUG line of a received event carries event (Action or name), fs_room (FreeSWITCH's
    room id: `conference` is kept for the user's name, which the wire does not know) and
    call_uuid fields, so JSON logs can be filtered by them."""
    conn, side = pair
    with caplog.at_level(logging.DEBUG, logger="plivoxml_fs.esl.transport"), conn.subscribe() as sub:
        side.event([("Event-Name", "CUSTOM"), ("Event-Subclass", "conference::maintenance"),
                    ("Action", "add-member"), ("Conference-Name", "room1"),
                    ("Unique-ID", "call-7")])
        assert sub.get(2.0) is not None
    (record,) = [r for r in caplog.records if "<- event" in r.getMessage()]
    assert (record.event, record.fs_room, record.call_uuid) == ("add-member", "room1", "call-7")
    assert not hasattr(record, "conference")


# -- waits and socket calls without a gevent.Timeout each (greenio.expiring, the reader, writes)


def test_a_wait_that_ended_leaves_no_deadline_behind(pair):
    """A reply and an event that came before their deadlines: once the deadlines pass, nothing
    is thrown into the greenlet that waited (its timers were closed with the waits)."""
    conn, side = pair
    sub = conn.subscribe()

    def fs():
        side.read()
        side.reply("+OK")
        side.event([("Event-Name", "HEARTBEAT")])

    server = gevent.spawn(fs)

    def waits_then_lives_on():
        conn.command("noop", timeout=0.05)
        event = sub.get(timeout=0.05)
        gevent.sleep(0.15)  # three times both deadlines
        return event.name

    assert gevent.spawn(waits_then_lives_on).get(timeout=2) == "HEARTBEAT"
    server.get(timeout=2)


def test_an_event_after_a_get_timed_out_waits_for_the_next_get(pair):
    conn, side = pair
    sub = conn.subscribe()
    assert sub.get(timeout=0.01) is None
    side.event([("Event-Name", "CUSTOM"), ("Seq", "1")])
    assert sub.get(timeout=1)["Seq"] == "1"
    assert sub.get(timeout=0) is None  # nothing queued, no wait


def test_callers_own_timeout_propagates_out_of_a_subscription_wait(pair):
    conn, side = pair
    sub = conn.subscribe()
    with pytest.raises(gevent.Timeout), gevent.Timeout(0.02):
        sub.get(timeout=5)
    side.event([("Event-Name", "CUSTOM"), ("Seq", "2")])
    assert sub.get(timeout=1)["Seq"] == "2"  # the subscription is still in step


def test_a_socket_with_a_timeout_is_read_and_written_through_its_own_calls():
    """A socket that is not a plain (timeout-less) gevent socket goes through recv/send: the
    same replies and events."""
    listener = gevent.socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    client = gevent.socket.create_connection(listener.getsockname())
    client.settimeout(30)
    server, _ = listener.accept()
    conn = EslConnection(client, name="timed-conn", command_timeout_s=2.0)
    conn.start()
    side = FakeSide(server)
    try:
        sub = conn.subscribe()
        answering = gevent.spawn(_answer_in_order, side, 3)
        assert [conn.api(f"n{i}") for i in range(3)] == ["n0", "n1", "n2"]
        answering.get(timeout=2)
        side.event([("Event-Name", "HEARTBEAT")])
        assert sub.get(timeout=1).name == "HEARTBEAT"
    finally:
        conn.close()
        server.close()
        listener.close()


def test_closing_while_the_reader_waits_ends_it_and_every_waiter(pair):
    conn, side = pair
    api = gevent.spawn(conn.api, "status", timeout=5)
    assert side.read().line == "api status"  # the reader now waits for the reply
    conn.close()
    with pytest.raises(ConnectionLost, match="closed by us"):
        api.get(timeout=2)
    conn._reader.join(timeout=2)
    assert conn._reader.dead


def test_a_command_larger_than_the_socket_buffer_goes_out_whole(pair):
    """What the socket does not take at once is written as it drains, within the deadline."""
    conn, side = pair
    conn._sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    text = "".join(chr(ord("a") + i % 26) for i in range(3_000_000))

    def fs():
        command = side.read()
        side.reply("+OK")
        return command

    server = gevent.spawn(fs)
    conn.execute_async("speak", text, timeout=5)
    command = server.get(timeout=5)
    assert command.get("execute-app-name") == "speak"
    assert command.body == text.encode()  # every byte, in order
    assert not conn.closed
