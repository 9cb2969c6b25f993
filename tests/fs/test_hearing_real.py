"""Who hears whom on a real FreeSWITCH 1.10.12, measured from the audio each caller receives.

The cases of tests/simulator/hearing_cases.py (callers joined by a stub standing where the
daemon would), the uuid_record ones of tests/simulator/leg_record_cases.py, the
`<Conference>` ones of tests/conference/hearing_scenarios.py and the `<MultiPartyCall>` call
centre of tests/conference/call_centre_scenarios.py (both through the daemon), as the embedded
FreeSWITCH runs them. The stub and the daemon listen on
127.0.0.1:PLIVOXML_FS_TEST_SOCKET_PORT (default 8084), where the dialplan sends calls; the
recordings are written by FreeSWITCH into the test's tmp_path (it must run on this machine).
Skipped, with the reason, when no FreeSWITCH answers (see conftest.py).
"""

from __future__ import annotations

import uuid

import pytest
from conference import call_centre_scenarios, hearing_scenarios
from simulator import leg_record_cases
from simulator.conference_helpers import inbound
from simulator.hearing_cases import CASES, Rooms

from fs.real import SocketStub, real_scene, stub_rooms


@pytest.fixture
def rooms(freeswitch, socket_port, tmp_path):
    yield from stub_rooms(freeswitch, socket_port, Rooms, 10.0, tmp_path / "heard")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__)
def test_hearing_on_real_freeswitch(rooms, case):
    """The case's who-hears-whom, from audio, on FreeSWITCH 1.10.12."""
    case(rooms)


@pytest.fixture
def leg_wire(freeswitch, socket_port):
    host, port, _ = freeswitch
    stub = SocketStub(socket_port)
    wire = inbound((host, port), leg_record_cases.EVENTS)
    yield wire, stub
    wire.close()
    stub.stop()


def test_uuid_record_on_real_freeswitch(leg_wire, tmp_path):
    """uuid_record's replies and events on FreeSWITCH 1.10.12."""
    wire, stub = leg_wire
    leg_record_cases.uuid_record_replies_and_events(wire, stub, tmp_path / "rec",
                                                    f"lr1-{uuid.uuid4().hex[:8]}")


def test_record_modes_on_real_freeswitch(leg_wire, tmp_path):
    """What RECORD_READ_ONLY/WRITE_ONLY/STEREO record, and where bleg/both play, on 1.10.12."""
    wire, stub = leg_wire
    leg_record_cases.record_modes_and_broadcast_legs(wire, stub, tmp_path / "rec",
                                                     f"lr2-{uuid.uuid4().hex[:8]}")


@pytest.fixture
def scene(freeswitch, socket_port, tmp_path):
    yield from real_scene(freeswitch, socket_port, tmp_path, conference_profile="wideband")


@pytest.mark.parametrize("scenario", hearing_scenarios.SCENARIOS, ids=lambda s: s.__name__)
def test_conference_hearing_on_real_freeswitch(scene, scenario):
    """The `<Conference>` scenario's who-hears-whom, from audio, on FreeSWITCH 1.10.12."""
    scenario(scene)


@pytest.mark.parametrize("scenario", call_centre_scenarios.SCENARIOS, ids=lambda s: s.__name__)
def test_call_centre_hearing_on_real_freeswitch(scene, scenario):
    """The call centre's who-hears-whom (`<MultiPartyCall>`), from audio, on FreeSWITCH 1.10.12."""
    scenario(scene)
