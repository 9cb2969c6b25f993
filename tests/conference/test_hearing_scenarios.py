"""`<Conference>` rooms through the daemon on the embedded FreeSWITCH: who hears whom, from
audio (hearing_scenarios.py; the same run on FreeSWITCH 1.10.12 in tests/fs/)."""

from __future__ import annotations

import pytest

from conference import hearing_scenarios
from conference.conftest import TIME_SCALE


@pytest.mark.parametrize("scenario", hearing_scenarios.SCENARIOS, ids=lambda s: s.__name__)
def test_conference_hearing(scene, tmp_path, scenario):
    """The scenario's who-hears-whom, from audio, as on FreeSWITCH 1.10.12."""
    built = scene()
    built.record_dir = tmp_path / "heard"
    built.time_scale = TIME_SCALE
    scenario(built)
