"""`<MultiPartyCall>` through the daemon on a real FreeSWITCH 1.10.12: the scenarios and the
who-hears-whom of tests/mpc/, as the embedded FreeSWITCH runs them. The daemon listens on
127.0.0.1:PLIVOXML_FS_TEST_SOCKET_PORT; the `default` conference profile (its moh-sound set:
MPC members join with `nomoh`). Skipped, with the reason, when no FreeSWITCH answers."""

from __future__ import annotations

import pytest
from conference.scene import Scene
from mpc import bad_input_scenarios, hearing_scenarios, scenarios

from fs.real import real_scene

#: Wall seconds per MPC second (maxDuration="300" lasts 3 s).
MPC_TIME_SCALE = 0.01


@pytest.fixture
def scene(freeswitch, socket_port, tmp_path):
    yield from real_scene(freeswitch, socket_port, tmp_path, mpc_time_scale=MPC_TIME_SCALE)


@pytest.mark.parametrize("scenario", scenarios.SCENARIOS, ids=lambda s: s.__name__)
def test_mpc_on_real_freeswitch(scene: Scene, scenario):
    scenario(scene)


@pytest.mark.parametrize("scenario", hearing_scenarios.SCENARIOS, ids=lambda s: s.__name__)
def test_mpc_hearing_on_real_freeswitch(scene: Scene, scenario):
    scenario(scene)


@pytest.mark.parametrize("scenario", bad_input_scenarios.SCENARIOS, ids=lambda s: s.__name__)
def test_mpc_bad_input_on_real_freeswitch(scene: Scene, scenario):
    scenario(scene)
