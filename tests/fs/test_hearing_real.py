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

import gevent
import gevent.event
import gevent.queue
import pytest
from conference import call_centre_scenarios, hearing_scenarios
from conference.scene import Scene, WebApp, scene_settings
from gevent.server import StreamServer
from simulator import leg_record_cases
from simulator.conference_helpers import api, inbound
from simulator.hearing_cases import CASES, Rooms
from simulator.helpers import Wire

from plivoxml_fs.service import Daemon


class _SocketStub:
    """Accepts the calls the real FreeSWITCH sends to the socket port."""

    def __init__(self, port: int) -> None:
        self.calls: gevent.queue.Queue = gevent.queue.Queue()
        self._hold = gevent.event.Event()
        self.server = StreamServer(("127.0.0.1", port), self._accept)
        self.server.start()

    def _accept(self, sock, address) -> None:
        self.calls.put(Wire(sock))
        self._hold.wait()

    def next_call(self, timeout: float = 10.0) -> Wire:
        return self.calls.get(timeout=timeout)

    def stop(self) -> None:
        self._hold.set()
        self.server.stop(timeout=1)


@pytest.fixture
def rooms(freeswitch, socket_port, tmp_path):
    host, port, _ = freeswitch
    stub = _SocketStub(socket_port)
    calls = inbound((host, port), "BACKGROUND_JOB")
    commands = inbound((host, port), "HEARTBEAT")
    built = Rooms(lambda cmd: api(commands, cmd, timeout=10.0), calls, stub, tmp_path / "heard")
    yield built
    built.close()
    calls.close()
    commands.close()
    stub.stop()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__)
def test_hearing_on_real_freeswitch(rooms, case):
    """The case's who-hears-whom, from audio, on FreeSWITCH 1.10.12."""
    case(rooms)


@pytest.fixture
def leg_wire(freeswitch, socket_port):
    host, port, _ = freeswitch
    stub = _SocketStub(socket_port)
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
    host, port, password = freeswitch
    app = WebApp()
    app.start()
    settings = scene_settings(app, tmp_path, listen_port=socket_port, freeswitch_host=host,
                              freeswitch_port=port, freeswitch_password=password,
                              conference_profile="wideband")
    daemon = Daemon(settings)
    daemon.start_server()
    daemon.start_inbound()
    assert daemon.inbound.wait_connected(5)
    built = Scene(daemon, app, (host, port), password)
    built.record_dir = tmp_path / "heard"
    built.time_scale = 1.0
    yield built
    built.stop()
    daemon.stop(drain_timeout_s=5)
    app.stop()


@pytest.mark.parametrize("scenario", hearing_scenarios.SCENARIOS, ids=lambda s: s.__name__)
def test_conference_hearing_on_real_freeswitch(scene, scenario):
    """The `<Conference>` scenario's who-hears-whom, from audio, on FreeSWITCH 1.10.12."""
    scenario(scene)


@pytest.mark.parametrize("scenario", call_centre_scenarios.SCENARIOS, ids=lambda s: s.__name__)
def test_call_centre_hearing_on_real_freeswitch(scene, scenario):
    """The call centre's who-hears-whom (`<MultiPartyCall>`), from audio, on FreeSWITCH 1.10.12."""
    scenario(scene)
