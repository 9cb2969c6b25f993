"""mod_conference's energy gate on a real FreeSWITCH 1.10.12: tests/simulator/gate_cases.py, the
case the embedded FreeSWITCH runs in tests/simulator/test_gate.py. FreeSWITCH reads the probe
and writes the recordings in the test's tmp_path (it must run on this machine). Skipped, with
the reason, when no FreeSWITCH answers."""

from __future__ import annotations

import pytest
from simulator.gate_cases import (
    REAL_LOST_FRAMES,
    energy_api_zero_mixes_everything,
    join_energy_level_zero_mixes_everything,
    probe_is_gated,
)
from simulator.recorder_cases import Recorded

from fs.real import stub_rooms


@pytest.fixture
def rec(freeswitch, socket_port, tmp_path):
    yield from stub_rooms(freeswitch, socket_port, Recorded, 15.0, tmp_path / "rec")


def test_the_real_room_gates_as_measured(rec):
    """Room recording and recorder member: the frames gate.py predicts, in order, some perhaps
    lost to load (gate_cases._held_to)."""
    probe_is_gated(rec, lost=REAL_LOST_FRAMES)


def test_a_member_joined_at_level_zero_is_not_gated(rec):
    join_energy_level_zero_mixes_everything(rec, lost=REAL_LOST_FRAMES)


def test_the_energy_api_opens_the_gate(rec):
    energy_api_zero_mixes_everything(rec, lost=REAL_LOST_FRAMES)
