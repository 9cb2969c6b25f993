"""An AI participant added by the control API, through the official SDK, on the embedded
FreeSWITCH in real media time (tests/api/ai_scenarios.py; the same on a real one in
tests/fs/test_api_ai_real.py)."""

from __future__ import annotations

import pytest
from conference.scene import embedded_scene

from api import ai_scenarios
from api.api_scenarios import API_AUTH
from api.conftest import unused_port, with_api


@pytest.fixture
def scene(tmp_path, free_port):
    stops: list = []
    built = embedded_scene(stops, tmp_path, free_port, 1.0, api_port=unused_port(free_port),
                           api_auth=API_AUTH)
    yield with_api(built)
    for stop in reversed(stops):
        stop()


@pytest.mark.parametrize("scenario", ai_scenarios.SCENARIOS, ids=lambda s: s.__name__)
def test_ai_agent_by_api(scene, scenario, tmp_path):
    scenario(scene, tmp_path / "heard")
