"""The Conference and Multi-party Call control APIs through the official Plivo SDK on a real
FreeSWITCH 1.10.12: the scenarios of tests/api/api_scenarios.py and mpc_scenarios.py (who hears whom after a mute measured from audio), the
daemon listening where the dialplan sends calls (PLIVOXML_FS_TEST_SOCKET_PORT). Skipped, with
the reason, when no FreeSWITCH answers (see conftest.py)."""

from __future__ import annotations

import pytest
from api import api_scenarios, mpc_scenarios
from api.conftest import unused_port, with_api
from conference.scene import Scene, WebApp, scene_settings

from plivoxml_fs.service import Daemon


@pytest.fixture
def api_scene(freeswitch, socket_port, tmp_path):
    host, port, password = freeswitch
    app = WebApp()
    app.start()
    settings = scene_settings(app, tmp_path, listen_port=socket_port, freeswitch_host=host,
                              freeswitch_port=port, freeswitch_password=password,
                              api_port=unused_port(socket_port), api_auth=api_scenarios.API_AUTH,
                              mpc_dial_string=mpc_scenarios.DIAL_STRING)
    daemon = Daemon(settings)
    daemon.start_server()
    daemon.start_inbound()
    assert daemon.inbound.wait_connected(5)
    built = Scene(daemon, app, (host, port), password)
    built.record_dir = tmp_path / "heard"
    built.time_scale = 1.0
    built.settings = settings
    yield with_api(built)
    built.stop()
    daemon.stop(drain_timeout_s=5)
    app.stop()


@pytest.mark.parametrize("scenario", [*api_scenarios.SCENARIOS,
                                      api_scenarios.history_survives_a_restart],
                         ids=lambda s: s.__name__)
def test_conference_api_on_real_freeswitch(api_scene, scenario):
    scenario(api_scene)


@pytest.mark.parametrize("scenario", [*mpc_scenarios.SCENARIOS,
                                      mpc_scenarios.history_survives_a_restart],
                         ids=lambda s: s.__name__)
def test_mpc_api_on_real_freeswitch(api_scene, scenario):
    scenario(api_scene)
