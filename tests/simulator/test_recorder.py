"""The MPC recorder member on the embedded FreeSWITCH (recorder_cases.py; the same cases run on
FreeSWITCH 1.10.12 in tests/fs/test_recorder_real.py)."""

from __future__ import annotations

import pytest

from simulator.conference_helpers import inbound
from simulator.conftest import TIME_SCALE
from simulator.recorder_cases import CASES, Recorded


@pytest.fixture
def rec(sim, daemon, tmp_path):
    wire = inbound(sim.inbound_address)
    built = Recorded(sim.api, wire, daemon, tmp_path / "rec", time_scale=TIME_SCALE)
    yield built
    built.close()
    wire.close()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__)
def test_recorder_on_the_embedded_freeswitch(rec, case):
    """The case's recording, from audio, as on FreeSWITCH 1.10.12."""
    case(rec)
