"""What the tests against a real FreeSWITCH share: a stub taking the calls FreeSWITCH sends to
the socket port, the stub-joined rooms built on it, and the daemon scene (tests/conference/scene.py)
on the real event socket."""

from __future__ import annotations

import gevent.event
import gevent.queue
from conference.scene import Scene, WebApp, scene_settings
from gevent.server import StreamServer
from simulator.conference_helpers import api, inbound
from simulator.helpers import Wire

from fs.instances import FS_HOST, FS_PASSWORD, FS_PORT
from plivoxml_fs.fs import profile_check
from plivoxml_fs.service import Daemon


class SocketStub:
    """Accepts the calls FreeSWITCH sends to `port`; `next_call()` gives each call's Wire."""

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


def stub_rooms(freeswitch, socket_port: int, make, api_timeout: float, record_dir):
    """Generator for a fixture: `make(api, calls, stub, record_dir)` (Rooms, Recorded) on the
    real FreeSWITCH, its callers taken by a SocketStub; closed after the test."""
    host, port, _ = freeswitch
    stub = SocketStub(socket_port)
    calls = inbound((host, port), "BACKGROUND_JOB")
    commands = inbound((host, port), "HEARTBEAT")
    built = make(lambda cmd: api(commands, cmd, timeout=api_timeout), calls, stub, record_dir)
    yield built
    built.close()
    calls.close()
    commands.close()
    stub.stop()


def real_scene(freeswitch, socket_port: int, tmp_path, *, hearing: bool = True,
               hang_up: bool = False, **overrides):
    """Generator for a fixture: a Scene whose daemon listens on `socket_port` and whose inbound
    connection and observer use the real event socket (scene_settings with `overrides`).
    `hearing`: who-hears-whom recordings in tmp_path/heard at real time; `hang_up`: every
    caller hung up after the test. `settings` on the Scene are the daemon's as made."""
    host, port, password = freeswitch
    app = WebApp()
    app.start()
    settings = scene_settings(app, tmp_path, listen_port=socket_port, freeswitch_host=host,
                              freeswitch_port=port, freeswitch_password=password, **overrides)
    daemon = Daemon(settings)
    daemon.start_server()
    daemon.start_inbound()
    assert daemon.inbound.wait_connected(5)
    built = Scene(daemon, app, (host, port), password)
    if hearing:
        built.record_dir = tmp_path / "heard"
        built.time_scale = 1.0
    built.settings = settings
    yield built
    if hang_up:
        built.hang_up_all()
    built.stop()
    daemon.stop(drain_timeout_s=5)
    app.stop()


def profile_problems() -> list[str]:
    """What the real FreeSWITCH's room profiles would say by themselves (fs/profile_check.py),
    asked over an ESL connection of its own."""
    wire = Wire.connect((FS_HOST, FS_PORT))
    try:
        wire.read()
        assert wire.command(f"auth {FS_PASSWORD}").reply_text == "+OK accepted"
        return profile_check.check(lambda cmd: api(wire, cmd), ["default", "wideband"])
    finally:
        wire.close()
