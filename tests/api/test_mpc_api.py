"""The Multi-party Call control API through the official SDK, on the embedded FreeSWITCH."""

from __future__ import annotations

import pytest

from api import mpc_scenarios


@pytest.mark.parametrize("scenario", mpc_scenarios.SCENARIOS, ids=lambda s: s.__name__)
def test_mpc_api(api_scene, scenario):
    scenario(api_scene())


def test_mpc_history_after_a_restart(api_scene):
    mpc_scenarios.history_survives_a_restart(api_scene())
