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

TRANSCRIBED = recording_scenarios.transcribed_mpc_recording_has_the_words


@pytest.mark.parametrize("scenario", [s for s in recording_scenarios.SCENARIOS
                                      if s is not TRANSCRIBED], ids=lambda s: s.__name__)
def test_mpc_recording_on_real_freeswitch(scene: Scene, scenario):  # noqa: F811
    scenario(scene)


def test_a_transcribed_mpc_is_ungated_on_real_freeswitch(scene: Scene):  # noqa: F811
    """The members' energy is 0 in FreeSWITCH's json_list, exactly; the words are held to one
    of the sentence's: the MPC's recording is its recorder member's, whose audio crosses two
    loopback legs, and on a loaded machine (CI: three workers and three FreeSWITCHes on two
    cores) those lose frames and the decoder words with them ("we'd call me back and turn
    the meaning", "the commie that had a meeting"); 3 of 6 came through on a quiet one."""
    TRANSCRIBED(scene, words=1)
