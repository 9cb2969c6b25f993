"""An AI participant added by the control API through the official SDK on a real FreeSWITCH
1.10.12, the official plivo-stream-sdk as the service: the scenarios tests/api/test_mpc_ai_api.py
runs on the embedded FreeSWITCH (tests/api/ai_scenarios.py)."""

from __future__ import annotations

import pytest
from api import ai_scenarios, api_scenarios
from api.conftest import unused_port, with_api

from fs.real import real_scene


@pytest.fixture
def scene(freeswitch, socket_port, tmp_path):
    for built in real_scene(freeswitch, socket_port, tmp_path, hearing=False,
                            api_port=unused_port(socket_port), api_auth=api_scenarios.API_AUTH):
        yield with_api(built)


@pytest.mark.parametrize("scenario", ai_scenarios.SCENARIOS, ids=lambda s: s.__name__)
def test_ai_agent_by_api_on_real_freeswitch(scene, scenario, tmp_path):
    scenario(scene, tmp_path / "heard")
