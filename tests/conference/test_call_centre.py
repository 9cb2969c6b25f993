"""The call centre (`<MultiPartyCall>` Customer, Agent, Supervisor) through the daemon on the
embedded FreeSWITCH: who hears whom, from audio (call_centre_scenarios.py; the same run on
FreeSWITCH 1.10.12 in tests/fs/test_hearing_real.py)."""

from __future__ import annotations

import pytest

from conference import call_centre_scenarios
from conference.conftest import TIME_SCALE


@pytest.mark.parametrize("scenario", call_centre_scenarios.SCENARIOS, ids=lambda s: s.__name__)
def test_call_centre_hearing(scene, tmp_path, scenario):
    """The scenario's who-hears-whom, from audio, as on FreeSWITCH 1.10.12."""
    built = scene()
    built.record_dir = tmp_path / "heard"
    built.time_scale = TIME_SCALE
    scenario(built)
