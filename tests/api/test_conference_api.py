"""The Conference control API through the official SDK, on the embedded FreeSWITCH."""

from __future__ import annotations

import pytest

from api import api_scenarios


@pytest.mark.parametrize("scenario", api_scenarios.SCENARIOS, ids=lambda s: s.__name__)
def test_conference_api(api_scene, scenario):
    scenario(api_scene())


def test_history_after_a_restart(api_scene):
    api_scenarios.history_survives_a_restart(api_scene())
