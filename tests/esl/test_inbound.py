"""InboundClient against a scripted FreeSWITCH: auth, subscription, reconnect with back-off."""

from __future__ import annotations

import logging
import time

import gevent
import gevent.event
import gevent.queue
import pytest
from waiting import until

from esl.fakefs import FakeInbound, FakeSide
from plivoxml_fs.errors import CommandFailed, ConnectionLost
from plivoxml_fs.esl.codec import encode_message
from plivoxml_fs.esl.inbound import InboundClient, backoff

PASSWORD = "s3cret-Pw"
EVENTS = ("CHANNEL_HANGUP_COMPLETE", "BACKGROUND_JOB", "conference::maintenance")
SUBSCRIPTION = "event plain CHANNEL_HANGUP_COMPLETE BACKGROUND_JOB CUSTOM conference::maintenance"


def freeswitch(side: FakeSide, *, password: str = PASSWORD) -> None:
    """FreeSWITCH's inbound port: auth/request, auth, then answer api/bgapi/event until EOF."""
    side.send(encode_message([("Content-Type", "auth/request")]))
    command = side.read()
    if command is None:
        return
    if command.line != f"auth {password}":
        side.reply("-ERR invalid")
        side.notice("disconnect")
        return
    side.reply("+OK accepted")
    while (command := side.read(timeout=30)) is not None:
        if command.line.startswith("event "):
            side.reply("+OK event listener enabled plain")
        elif command.line.startswith("nixevent "):
            side.reply("+OK events nixed")
        elif command.line.startswith("api "):
            side.api_response(f"+OK {command.line[4:]}\n")
        elif command.line.startswith("bgapi "):
            job = command.get("Job-UUID")
            side.reply(f"+OK Job-UUID: {job}", ("Job-UUID", job))
            side.event([("Event-Name", "BACKGROUND_JOB"), ("Job-UUID", job)], b"+OK done\n")
        else:
            side.reply("-ERR command not found")


def _subscribed(side: FakeSide) -> None:
    """Wait until the client has authenticated and subscribed on this connection."""
    until("auth and the subscription", lambda: len(side.received) >= 2)


def _attempts(caplog) -> list:
    """The client's reconnect attempts logged so far."""
    return [r for r in caplog.records if "attempt" in r.getMessage()]


@pytest.fixture
def clients():
    """InboundClients made by the test, stopped after it."""
    made = []

    def make(port, password=PASSWORD, on_event=None):
        client = InboundClient(
            "127.0.0.1",
            port,
            password,
            events=EVENTS,
            on_event=on_event,
            reconnect_min_s=0.01,
            reconnect_max_s=0.08,
            command_timeout_s=1.0,
        )
        made.append(client)
        client.start()
        return client

    yield make
    for client in made:
        client.stop()


def test_backoff_doubles_up_to_the_cap():
    """Reconnect delays start at the minimum, double, and stay at the maximum."""
    delays = backoff(0.5, 30.0)
    assert [next(delays) for _ in range(9)] == [0.5, 1, 2, 4, 8, 16, 30, 30, 30]
    with pytest.raises(ValueError, match=r"backoff: need 0 < min_s <= max_s \(got 2, 1\)"):
        next(backoff(2, 1))
    with pytest.raises(ValueError, match="backoff: need"):
        InboundClient(
            "127.0.0.1",
            1,
            PASSWORD,
            events=(),
            reconnect_min_s=0,
            reconnect_max_s=1,
            command_timeout_s=1,
        )


def test_connects_authenticates_and_subscribes(clients):
    """The client authenticates, subscribes with CUSTOM last, and runs api and bgapi."""
    fake = FakeInbound(freeswitch).start()
    try:
        client = clients(fake.port)
        assert client.wait_connected(2) and client.connected
        side = fake.sides.get(timeout=1)
        assert client.api("status") == "+OK status\n"
        assert client.bgapi("originate x").body_text == "+OK done\n"
        assert [c.line for c in side.received] == [
            f"auth {PASSWORD}",
            SUBSCRIPTION,
            "api status",
            "bgapi originate x",
        ]
    finally:
        fake.stop()


def test_events_reach_on_event_in_order_and_a_failing_callback_is_contained(clients, caplog):
    """on_event sees every event in order; an exception in it is logged and delivery goes on."""
    seen = gevent.queue.Queue()

    def on_event(event):
        if event.get("Seq") == "1":
            raise ValueError("bad handler")
        seen.put(event.get("Seq"))

    sides = gevent.queue.Queue()

    def script(side):
        sides.put(side)
        freeswitch(side)

    fake = FakeInbound(script).start()
    try:
        clients(fake.port, on_event=on_event)
        side = sides.get(timeout=2)
        _subscribed(side)
        for i in range(4):
            side.event([("Event-Name", "CUSTOM"), ("Seq", str(i))])
        assert [seen.get(timeout=2) for _ in range(3)] == ["0", "2", "3"]
        assert "on_event failed for CUSTOM" in caplog.text and "bad handler" in caplog.text
    finally:
        fake.stop()


def test_reconnects_with_backoff_and_resubscribes(clients, caplog):
    """After FreeSWITCH goes away and comes back the client re-authenticates and re-subscribes.

    The outage is logged as one WARNING line when it starts and one when it ends.
    """
    caplog.set_level(logging.DEBUG, logger="plivoxml_fs.esl")
    fake = FakeInbound(freeswitch).start()
    port = fake.port
    client = clients(port)
    assert client.wait_connected(2)
    first = fake.sides.get(timeout=1)
    _subscribed(first)
    fake.stop()  # stop listening: reconnect attempts are refused
    first.close()
    outage = time.monotonic()
    until("several refused attempts", lambda: len(_attempts(caplog)) >= 3)
    assert not client.connected
    with pytest.raises(ConnectionLost, match="inbound 127.0.0.1:.*: not connected"):
        client.api("status", timeout=0.02)
    fake = FakeInbound(freeswitch, port=port).start()
    try:
        assert client.wait_connected(2)
        down_s = time.monotonic() - outage
        second = fake.sides.get(timeout=1)
        assert client.api("status") == "+OK status\n"
        assert [c.line for c in second.received[:2]] == [f"auth {PASSWORD}", SUBSCRIPTION]
    finally:
        fake.stop()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2, warnings
    assert "FreeSWITCH went away (connection closed by FreeSWITCH); reconnecting" in warnings[0]
    assert "FreeSWITCH is back after" in warnings[1]
    # doubling from 10 ms to an 80 ms cap: at most the attempt at once, those after 10, 20 and
    # 40 ms and one each 80 ms after that (a fixed 10 ms delay would make eight times as many)
    assert 3 <= len(_attempts(caplog)) <= 5 + down_s / 0.08
    assert PASSWORD not in caplog.text


def test_a_wanted_event_is_asked_for_while_wanted_and_on_every_new_connection(clients):
    """want(name): `event plain name` on the live connection, counted (nixevent after the
    last want off, nothing for the others); a new connection subscribes what is wanted then
    with the fixed events; a fixed event is never nixed."""
    fake = FakeInbound(freeswitch).start()
    port = fake.port
    client = clients(port)
    try:
        assert client.wait_connected(2)
        first = fake.sides.get(timeout=1)
        _subscribed(first)
        client.want("DTMF", True)
        client.want("DTMF", True)
        client.want("BACKGROUND_JOB", True)  # subscribed anyway
        client.want("DTMF", False)
        assert client.wanted == ["DTMF", "BACKGROUND_JOB"]
        assert [c.line for c in first.received[2:]] == ["event plain DTMF"]
        fake.stop()
        first.close()
        until("the connection to go", lambda: not client.connected)
        fake = FakeInbound(freeswitch, port=port).start()
        assert client.wait_connected(2)
        second = fake.sides.get(timeout=1)
        _subscribed(second)
        assert second.received[1].line == (
            "event plain CHANNEL_HANGUP_COMPLETE BACKGROUND_JOB DTMF CUSTOM "
            "conference::maintenance")
        client.want("DTMF", False)
        client.want("BACKGROUND_JOB", False)
        client.want("DTMF", False)  # one off too many: nothing
        assert client.wanted == []
        assert [c.line for c in second.received[2:]] == ["nixevent DTMF"]
    finally:
        fake.stop()


def test_api_during_a_reconnect_waits_for_the_new_connection(clients):
    """An api call made while the client is reconnecting waits for and runs on the new one."""
    fake = FakeInbound(freeswitch).start()
    try:
        client = clients(fake.port)
        assert client.wait_connected(2)
        first = fake.sides.get(timeout=1)
        _subscribed(first)
        first.close()
        with gevent.Timeout(2):
            while client.connected:  # until the client's reader has seen the EOF
                gevent.sleep(0.001)
        assert client.api("status", timeout=2) == "+OK status\n"
        second = fake.sides.get(timeout=1)
        assert "api status" in [c.line for c in second.received]
        assert "api status" not in [c.line for c in first.received]
    finally:
        fake.stop()


def test_unreachable_at_start_logs_once_then_connects(clients, caplog):
    """A FreeSWITCH that is not up yet is reported once; the client connects when it appears."""
    placeholder = FakeInbound(freeswitch).start()
    port = placeholder.port
    placeholder.stop()
    client = clients(port)
    until("the first refused attempt", lambda: "cannot reach FreeSWITCH" in caplog.text)
    assert not client.connected
    fake = FakeInbound(freeswitch, port=port).start()
    try:
        assert client.wait_connected(2)
    finally:
        fake.stop()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2, warnings
    assert "cannot reach FreeSWITCH" in warnings[0] and "is back" in warnings[1]


def test_wrong_password_is_refused_and_never_logged(clients, caplog):
    """A refused password keeps the client disconnected, with one warning and no password."""
    caplog.set_level(logging.DEBUG, logger="plivoxml_fs.esl")
    fake = FakeInbound(lambda side: freeswitch(side, password="other")).start()
    try:
        client = clients(fake.port)
        assert not client.wait_connected(0.2)
        with pytest.raises(ConnectionLost):
            client.api("status", timeout=0.01)
    finally:
        fake.stop()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "'auth <redacted>' failed: -ERR invalid" in warnings[0]
    assert PASSWORD not in caplog.text


def test_slow_on_event_overflow_reconnects_loudly(clients, caplog, monkeypatch):
    """An on_event that falls behind its bound makes the client reconnect, with an ERROR line."""
    monkeypatch.setattr("plivoxml_fs.esl.transport.DEFAULT_SUBSCRIPTION_EVENTS", 3)
    release = gevent.event.Event()
    sides = gevent.queue.Queue()

    def script(side):
        sides.put(side)
        freeswitch(side)

    fake = FakeInbound(script).start()
    try:
        clients(fake.port, on_event=lambda event: release.wait(2))
        first = sides.get(timeout=2)
        _subscribed(first)
        for i in range(6):
            first.event([("Event-Name", "CUSTOM"), ("Seq", str(i))])
        second = sides.get(timeout=2)  # the client came back on a new connection
        release.set()
        _subscribed(second)
        assert [c.line for c in second.received[:2]] == [f"auth {PASSWORD}", SUBSCRIPTION]
    finally:
        fake.stop()
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors == [
        f"inbound 127.0.0.1:{fake.port}: subscription fell 3 events behind; "
        "later events were dropped; reconnecting"
    ]


def test_api_err_raises_command_failed(clients):
    """An -ERR api/response through the inbound client raises CommandFailed."""

    def script(side):
        side.send(encode_message([("Content-Type", "auth/request")]))
        side.read()
        side.reply("+OK accepted")
        side.read()
        side.reply("+OK event listener enabled plain")
        side.read()
        side.api_response("-ERR Conference nosuch not found\n")
        side.read(timeout=5)

    fake = FakeInbound(script).start()
    try:
        client = clients(fake.port)
        assert client.wait_connected(2)
        with pytest.raises(CommandFailed, match="-ERR Conference nosuch not found"):
            client.api("conference nosuch list")
    finally:
        fake.stop()


def test_a_silent_freeswitch_fails_the_handshake_after_connect_timeout_s(caplog):
    """A port that accepts but never sends auth/request fails the connection after
    connect_timeout_s, not command_timeout_s: the warning names that deadline."""
    fake = FakeInbound(lambda side: side.read(timeout=30)).start()
    client = InboundClient("127.0.0.1", fake.port, PASSWORD, events=EVENTS,
                           reconnect_min_s=5.0, reconnect_max_s=5.0,
                           command_timeout_s=30.0, connect_timeout_s=0.1)
    try:
        client.start()
        deadline = gevent.Timeout(3)
        deadline.start()
        try:
            while not any("cannot reach FreeSWITCH" in r.getMessage() for r in caplog.records):
                gevent.sleep(0.01)
        finally:
            deadline.close()
    finally:
        client.stop()
        fake.stop()
    warning = next(r.getMessage() for r in caplog.records if "cannot reach" in r.getMessage())
    assert f"(inbound 127.0.0.1:{fake.port}: no auth/request within connect_timeout_s (0.1 s))" in warning
