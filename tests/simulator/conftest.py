"""Fixtures: an embedded FreeSWITCH on ephemeral ports with a daemon stub behind it."""

from __future__ import annotations

import pytest

from plivoxml_fs.simulator import EmbeddedFreeSwitch
from simulator.helpers import DaemonStub

#: Media runs 20x faster than real time in these tests.
TIME_SCALE = 0.05


@pytest.fixture
def daemon():
    stub = DaemonStub()
    yield stub
    stub.stop()


@pytest.fixture
def sim(daemon, tmp_path):
    fs = EmbeddedFreeSwitch(
        socket_address=daemon.address, time_scale=TIME_SCALE, media_dir=str(tmp_path)
    )
    fs.start()
    yield fs
    fs.stop()


def embedded_rooms(sim, daemon, make, record_dir):
    """Generator for a fixture: `make(api, calls, daemon, record_dir)` (hearing_cases.Rooms,
    recorder_cases.Recorded) on the embedded FreeSWITCH, its callers' inbound connection closed
    after the test (tests/fs/real.py `stub_rooms` is the same on a real one)."""
    from simulator.conference_helpers import inbound

    wire = inbound(sim.inbound_address)
    built = make(sim.api, wire, daemon, record_dir, time_scale=TIME_SCALE)
    yield built
    built.close()
    wire.close()


@pytest.fixture
def rec(sim, daemon, tmp_path):
    """A recorded room's helpers (recorder_cases.Recorded)."""
    from simulator.recorder_cases import Recorded

    yield from embedded_rooms(sim, daemon, Recorded, tmp_path / "rec")
