"""uuid_record and uuid_broadcast on the embedded FreeSWITCH, as FreeSWITCH 1.10.12 answers
them (leg_record_cases.py; the same run on the real one in tests/fs/test_hearing_real.py)."""

from __future__ import annotations

import pytest

from simulator import leg_record_cases as cases
from simulator.conference_helpers import inbound


@pytest.fixture
def wire(sim):
    connection = inbound(sim.inbound_address, cases.EVENTS)
    yield connection
    connection.close()


def test_uuid_record_replies_and_events(wire, daemon, tmp_path):
    """Replies, RECORD_START/RECORD_STOP, the limit and the hangup as on FreeSWITCH 1.10.12."""
    cases.uuid_record_replies_and_events(wire, daemon, tmp_path / "rec", "lr1")


def test_record_modes_and_broadcast_legs(wire, daemon, tmp_path):
    """RECORD_READ_ONLY/WRITE_ONLY/STEREO choose what the file holds; bleg/both never reach the
    B leg of a loopback call."""
    cases.record_modes_and_broadcast_legs(wire, daemon, tmp_path / "rec", "lr2")


def test_uuid_record_without_a_directory_creates_it(sim, wire, daemon, tmp_path):
    """A path in a directory that does not exist yet: the directory is made (as FreeSWITCH's
    switch_dir_make_recursive does) and the recording written there."""
    from simulator.conference_helpers import api

    a_leg, _ = cases.parked_call(wire, daemon, "lr3")
    path = tmp_path / "new" / "dir" / "leg.wav"
    assert api(wire, f"uuid_record {a_leg} start {path}") == "+OK Success\n"
    assert api(wire, f"uuid_record {a_leg} stop {path}") == "+OK Success\n"
    assert path.is_file()
