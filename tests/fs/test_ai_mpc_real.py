"""`<MultiPartyCall role="ai-agent">` through the daemon on a real FreeSWITCH 1.10.12, the
official plivo-stream-sdk as the AI service: the scenarios tests/aiagent/test_mpc_ai.py runs on
the embedded FreeSWITCH."""

from __future__ import annotations

import pytest
from aiagent import mpc_cases, recording_cases
from conference.scene import Scene, WebApp, scene_settings

from plivoxml_fs.service import Daemon


@pytest.fixture
def scene(freeswitch, socket_port, tmp_path):
    host, port, password = freeswitch
    app = WebApp()
    app.start()
    settings = scene_settings(app, tmp_path, listen_port=socket_port, freeswitch_host=host,
                              freeswitch_port=port, freeswitch_password=password)
    daemon = Daemon(settings)
    daemon.start_server()
    daemon.start_inbound()
    assert daemon.inbound.wait_connected(5)
    built = Scene(daemon, app, (host, port), password)
    yield built
    built.stop()
    daemon.stop(drain_timeout_s=5)
    app.stop()


@pytest.mark.parametrize("scenario", mpc_cases.SCENARIOS + recording_cases.SCENARIOS, ids=lambda s: s.__name__)
def test_ai_agent_in_an_mpc(scene: Scene, scenario, tmp_path):
    scenario(scene, tmp_path / "heard")
