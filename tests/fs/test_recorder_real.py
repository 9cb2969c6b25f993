"""The MPC recorder member on a real FreeSWITCH 1.10.12: tests/simulator/recorder_cases.py, the
cases the embedded FreeSWITCH runs in tests/simulator/test_recorder.py. Callers are sent to the
stub on PLIVOXML_FS_TEST_SOCKET_PORT; FreeSWITCH writes the recordings into the test's tmp_path
(it must run on this machine). Skipped, with the reason, when no FreeSWITCH answers."""

from __future__ import annotations

import pytest
from simulator.recorder_cases import CASES, Recorded

from fs.real import stub_rooms


@pytest.fixture
def rec(freeswitch, socket_port, tmp_path):
    yield from stub_rooms(freeswitch, socket_port, Recorded, 15.0, tmp_path / "rec")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__)
def test_recorder_on_real_freeswitch(rec, case):
    """The case's recording, from audio, on FreeSWITCH 1.10.12."""
    case(rec)
