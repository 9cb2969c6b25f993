"""Issue 11's "Bad input" scenarios (bad_input_scenarios.py) on the embedded FreeSWITCH."""

from __future__ import annotations

import pytest

from mpc import bad_input_scenarios
from mpc.conftest import MPC_TIME_SCALE, TIME_SCALE


@pytest.mark.parametrize("scenario", bad_input_scenarios.SCENARIOS, ids=lambda s: s.__name__)
def test_mpc_bad_input(scene, tmp_path, scenario):
    built = scene(mpc_time_scale=MPC_TIME_SCALE)
    built.record_dir = tmp_path / "heard"
    built.time_scale = TIME_SCALE
    scenario(built)
