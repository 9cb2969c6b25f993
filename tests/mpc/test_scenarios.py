"""`<MultiPartyCall>` through the daemon on the embedded FreeSWITCH (scenarios.py)."""

from __future__ import annotations

import pytest

from mpc import scenarios
from mpc.conftest import MPC_TIME_SCALE


@pytest.mark.parametrize("scenario", scenarios.SCENARIOS, ids=lambda s: s.__name__)
def test_mpc_scenario(scene, scenario):
    scenario(scene(mpc_time_scale=MPC_TIME_SCALE))
