"""The MPC recorder member on the embedded FreeSWITCH (recorder_cases.py; the same cases run on
FreeSWITCH 1.10.12 in tests/fs/test_recorder_real.py)."""

from __future__ import annotations

import pytest

from simulator.recorder_cases import CASES


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__)
def test_recorder_on_the_embedded_freeswitch(rec, case):
    """The case's recording, from audio, as on FreeSWITCH 1.10.12."""
    case(rec)
