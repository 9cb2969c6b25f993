"""The MPC recorder member on a real FreeSWITCH 1.10.12: tests/simulator/recorder_cases.py, the
cases the embedded FreeSWITCH runs in tests/simulator/test_recorder.py. Callers are sent to the
stub on PLIVOXML_FS_TEST_SOCKET_PORT; FreeSWITCH writes the recordings into the test's tmp_path
(it must run on this machine). Skipped, with the reason, when no FreeSWITCH answers."""

from __future__ import annotations

import pytest
from simulator.conference_helpers import api, inbound
from simulator.recorder_cases import CASES, Recorded

from fs.test_hearing_real import _SocketStub


@pytest.fixture
def rec(freeswitch, socket_port, tmp_path):
    host, port, _ = freeswitch
    stub = _SocketStub(socket_port)
    calls = inbound((host, port), "BACKGROUND_JOB")
    commands = inbound((host, port), "HEARTBEAT")
    built = Recorded(lambda cmd: api(commands, cmd, timeout=15.0), calls, stub, tmp_path / "rec")
    yield built
    built.close()
    calls.close()
    commands.close()
    stub.stop()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__)
def test_recorder_on_real_freeswitch(rec, case):
    """The case's recording, from audio, on FreeSWITCH 1.10.12."""
    case(rec)
