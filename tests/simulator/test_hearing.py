"""Who hears whom on the embedded FreeSWITCH, measured from the audio each caller receives.

The cases (hearing_cases.py) are the ones tests/fs/test_hearing_real.py runs on FreeSWITCH
1.10.12, whose results the embedded FreeSWITCH must give.
"""

from __future__ import annotations

import pytest

from simulator.conftest import embedded_rooms
from simulator.hearing_cases import CASES, Rooms


@pytest.fixture
def rooms(sim, daemon, tmp_path):
    yield from embedded_rooms(sim, daemon, Rooms, tmp_path / "heard")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__)
def test_hearing_on_the_embedded_freeswitch(rooms, case):
    """The case's who-hears-whom, from audio, as on FreeSWITCH 1.10.12."""
    case(rooms)
