"""greenswitch, an independent ESL client, against the embedded FreeSWITCH's inbound port."""

from __future__ import annotations

import gevent
import greenswitch

from simulator.helpers import complete, execute, set_up


def _answer_next_call(daemon) -> str:
    """Play the daemon: take the call, connect, answer; the B leg's uuid."""
    wire = daemon.next_call()
    wire.send("connect")
    b_uuid = wire.read().get("Unique-ID")
    set_up(wire)
    execute(wire, "answer", uuid="a")
    wire.until(complete("a"))
    return b_uuid


def test_greenswitch_status_originate_and_events(sim, daemon):
    """greenswitch connects, runs api status and originate, and receives the call's events."""
    host, port = sim.inbound_address
    client = greenswitch.InboundESL(host=host, port=port, password="ClueCon")
    client.connect()
    seen = []
    client.register_handle("CHANNEL_HANGUP_COMPLETE", seen.append)
    client.register_handle("BACKGROUND_JOB", seen.append)
    try:
        status = client.send("api status")
        assert status.data.startswith("UP 0 years")
        subscribed = client.send("event plain CHANNEL_HANGUP_COMPLETE BACKGROUND_JOB")
        assert subscribed.data == "+OK event listener enabled plain"
        answering = gevent.spawn(_answer_next_call, daemon)
        reply = client.send("api originate {origination_uuid=aleg-g1}loopback/G1/default &park")
        assert reply.data == "+OK aleg-g1\n"
        b_uuid = answering.get(timeout=3)
        job = client.send("bgapi uuid_getvar aleg-g1 loopback_leg")
        assert job.data.startswith("+OK Job-UUID: ")
        assert client.send("api uuid_kill aleg-g1").data == "+OK\n"
        with gevent.Timeout(3):
            while len(seen) < 3:
                gevent.sleep(0.01)
    finally:
        client.stop()
    jobs = [e for e in seen if e.headers["Event-Name"] == "BACKGROUND_JOB"]
    assert jobs[0].headers["Job-Command"] == "uuid_getvar"
    done = {e.headers["Unique-ID"] for e in seen if e.headers["Event-Name"] != "BACKGROUND_JOB"}
    assert done == {"aleg-g1", b_uuid}


def test_greenswitch_wrong_password(sim):
    """greenswitch reports a wrong password as the refusal it is."""
    host, port = sim.inbound_address
    client = greenswitch.InboundESL(host=host, port=port, password="nope")
    try:
        client.connect()
    except ValueError as exc:
        assert str(exc) == "Invalid password."
    else:
        raise AssertionError("a wrong password was accepted")
    finally:
        client.stop()
