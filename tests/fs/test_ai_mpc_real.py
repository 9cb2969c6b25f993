"""`<MultiPartyCall role="ai-agent">` through the daemon on a real FreeSWITCH 1.10.12, the
official plivo-stream-sdk as the AI service: the scenarios tests/aiagent/test_mpc_ai.py runs on
the embedded FreeSWITCH."""

from __future__ import annotations

import pytest
from aiagent import mpc_cases, recording_cases
from conference.scene import Scene

from fs.real import real_scene


@pytest.fixture
def scene(freeswitch, socket_port, tmp_path):
    yield from real_scene(freeswitch, socket_port, tmp_path, hearing=False)


@pytest.mark.parametrize("scenario", mpc_cases.SCENARIOS + recording_cases.SCENARIOS, ids=lambda s: s.__name__)
def test_ai_agent_in_an_mpc(scene: Scene, scenario, tmp_path):
    scenario(scene, tmp_path / "heard")
