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


@pytest.fixture
def rec(sim, daemon, tmp_path):
    """A recorded room's helpers (recorder_cases.Recorded) over an inbound connection."""
    from simulator.conference_helpers import inbound
    from simulator.recorder_cases import Recorded

    wire = inbound(sim.inbound_address)
    built = Recorded(sim.api, wire, daemon, tmp_path / "rec", time_scale=TIME_SCALE)
    yield built
    built.close()
    wire.close()
