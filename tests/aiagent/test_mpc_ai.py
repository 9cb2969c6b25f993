"""`<MultiPartyCall role="ai-agent">` on the embedded FreeSWITCH, media in real time
(tests/aiagent/mpc_cases.py; the same scenarios as tests/fs/test_ai_mpc_real.py)."""

from __future__ import annotations

import pytest
from conference.scene import Scene, WebApp, scene_settings

from aiagent import mpc_cases, recording_cases
from plivoxml_fs.service import Daemon
from plivoxml_fs.simulator import EmbeddedFreeSwitch


@pytest.fixture
def scene(tmp_path, free_port):
    app = WebApp()
    app.start()
    settings = scene_settings(app, tmp_path, listen_port=free_port)
    daemon = Daemon(settings)
    daemon.start_server()
    fs = EmbeddedFreeSwitch(socket_address=daemon.address, time_scale=1.0,
                            media_dir=str(tmp_path))
    fs.start()
    daemon.start_inbound(*fs.inbound_address)
    assert daemon.inbound.wait_connected(5)
    built = Scene(daemon, app, fs.inbound_address, fs.password)
    yield built
    built.stop()
    fs.stop()
    daemon.stop(drain_timeout_s=2)
    app.stop()


@pytest.mark.parametrize("scenario", mpc_cases.SCENARIOS + recording_cases.SCENARIOS, ids=lambda s: s.__name__)
def test_ai_agent_in_an_mpc(scene: Scene, scenario, tmp_path):
    scenario(scene, tmp_path / "heard")
