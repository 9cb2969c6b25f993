"""The Conference and Multi-party Call control APIs through the official Plivo SDK on a real
FreeSWITCH 1.10.12: the scenarios of tests/api/api_scenarios.py and mpc_scenarios.py (who hears whom after a mute measured from audio), the
daemon listening where the dialplan sends calls (PLIVOXML_FS_TEST_SOCKET_PORT). Skipped, with
the reason, when no FreeSWITCH answers (see conftest.py)."""

from __future__ import annotations

import pytest
from api import api_scenarios, mpc_scenarios
from api.conftest import unused_port, with_api

from fs.real import real_scene


@pytest.fixture
def api_scene(freeswitch, socket_port, tmp_path):
    for built in real_scene(freeswitch, socket_port, tmp_path, api_port=unused_port(socket_port),
                            api_auth=api_scenarios.API_AUTH,
                            mpc_dial_string=mpc_scenarios.DIAL_STRING,
                            confirm_key_timeout_s=mpc_scenarios.CONFIRM_TIMEOUT_S):
        yield with_api(built)


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
