"""Who hears whom on the embedded FreeSWITCH, measured from the audio each caller receives.

The cases (hearing_cases.py) are the ones tests/fs/test_hearing_real.py runs on FreeSWITCH
1.10.12, whose results the embedded FreeSWITCH must give.
"""

from __future__ import annotations

import pytest

from simulator.conference_helpers import inbound
from simulator.conftest import TIME_SCALE
from simulator.hearing_cases import CASES, Rooms


@pytest.fixture
def rooms(sim, daemon, tmp_path):
    wire = inbound(sim.inbound_address)
    built = Rooms(sim.api, wire, daemon, tmp_path / "heard", time_scale=TIME_SCALE)
    yield built
    built.close()
    wire.close()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__)
def test_hearing_on_the_embedded_freeswitch(rooms, case):
    """The case's who-hears-whom, from audio, as on FreeSWITCH 1.10.12."""
    case(rooms)
