"""`<MultiPartyCall>` recording through the daemon on a real FreeSWITCH 1.10.12: the scenarios
of tests/mpc/recording_scenarios.py, as the embedded FreeSWITCH runs them (the scene of
test_mpc_real.py: the daemon on PLIVOXML_FS_TEST_SOCKET_PORT, the `default` profile). The
recordings are written by FreeSWITCH into the test's tmp_path (it must run on this machine).
Skipped, with the reason, when no FreeSWITCH answers."""

from __future__ import annotations

import pytest
from conference.scene import Scene
from mpc import recording_scenarios

from fs.test_mpc_real import scene  # noqa: F401  (the fixture)


@pytest.mark.parametrize("scenario", recording_scenarios.SCENARIOS, ids=lambda s: s.__name__)
def test_mpc_recording_on_real_freeswitch(scene: Scene, scenario):  # noqa: F811
    scenario(scene)
