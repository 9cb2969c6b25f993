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
    from waiting import until

    from simulator.conference_helpers import api

    a_leg, _ = cases.parked_call(wire, daemon, "lr3")
    path = tmp_path / "new" / "dir" / "leg.wav"
    assert api(wire, f"uuid_record {a_leg} start {path}") == "+OK Success\n"
    started = sim.clock.now_us()
    until("two media frames", lambda: sim.clock.now_us() - started > 40_000)  # not empty
    assert api(wire, f"uuid_record {a_leg} stop {path}") == "+OK Success\n"
    assert path.is_file()


def test_a_recording_with_no_frame_is_discarded(sim, wire, daemon, tmp_path, monkeypatch):
    """Stopped within the frame it started in (no frame captured): discarded as 1.10.12 does
    (start then stop at once there): the file removed, RECORD_DISCARDED=true, record_samples 0,
    Record-Completion-Cause empty-file."""
    from plivoxml_fs.simulator import leg_record
    from simulator.conference_helpers import api

    a_leg, _ = cases.parked_call(wire, daemon, "lr4")
    path = tmp_path / "empty.wav"
    monkeypatch.setattr(leg_record, "now_ms", lambda sim: 1_796_000_000_010)  # one frame
    assert api(wire, f"uuid_record {a_leg} start {path}") == "+OK Success\n"
    assert api(wire, f"uuid_record {a_leg} stop {path}") == "+OK Success\n"
    cases._wait_event(wire, f"RECORD_STOP {path.name} empty-file CS_EXECUTE", a_leg)
    (stop,) = [m.event() for _, m in wire.received if m.is_event
               and m.event().name == "RECORD_STOP"]
    assert not path.exists()
    assert [(k, stop[k]) for k in stop.headers if k.startswith(("variable_record_",
                                                                "variable_RECORD_DISC"))] == [
        ("variable_record_file_size", "44"), ("variable_RECORD_DISCARDED", "true"),
        ("variable_record_samples", "0"), ("variable_record_seconds", "0"),
        ("variable_record_ms", "0"), ("variable_record_completion_cause", "empty-file")]
