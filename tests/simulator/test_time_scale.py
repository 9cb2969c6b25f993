"""time_scale: media runs faster than real time, yet events and histories report media time."""

from __future__ import annotations

import time

from plivoxml_fs.simulator import EmbeddedFreeSwitch
from simulator.helpers import DaemonStub, complete, execute, set_up, start_call


def test_two_seconds_of_media_in_a_fraction_of_a_second():
    """At time_scale 0.01 a 2 s playback takes < 0.5 s wall; history and variables say 2000 ms."""
    daemon = DaemonStub()
    sim = EmbeddedFreeSwitch(socket_address=daemon.address, time_scale=0.01)
    sim.start()
    try:
        _, wire, _, reply = start_call(sim, daemon)
        set_up(wire)
        execute(wire, "answer", uuid="a")
        wire.until(complete("a"))
        started = time.monotonic()
        execute(wire, "playback", "silence_stream://2000", uuid="p")
        event = wire.until(complete("p"))[-1].event()
        wall = time.monotonic() - started
        assert wall < 0.5
        assert event.variable("playback_ms") == "2000"
        answered = int(event["Caller-Channel-Answered-Time"])
        assert int(event["Event-Date-Timestamp"]) - answered >= 2_000_000
        record = sim.channel(reply.get("Unique-ID")).history[-1]
        assert (record.kind, record.ms) == ("played", 2000)
    finally:
        sim.stop()
        daemon.stop()
