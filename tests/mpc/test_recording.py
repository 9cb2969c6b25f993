"""`<MultiPartyCall>` recording, from the recording's audio and callbacks, on the embedded
FreeSWITCH (recording_scenarios.py; the same on FreeSWITCH 1.10.12 in
tests/fs/test_mpc_recording_real.py)."""

from __future__ import annotations

import pytest

from mpc import recording_scenarios
from mpc.conftest import MPC_TIME_SCALE, TIME_SCALE


@pytest.mark.parametrize("scenario", recording_scenarios.SCENARIOS, ids=lambda s: s.__name__)
def test_mpc_recording(scene, tmp_path, scenario):
    built = scene(mpc_time_scale=MPC_TIME_SCALE)
    built.record_dir = tmp_path / "heard"
    built.time_scale = TIME_SCALE
    scenario(built)
