"""The conference scene against the embedded FreeSWITCH (media time runs 50 times faster)."""

from __future__ import annotations

import pytest

from conference.scene import Scene, WebApp, scene_settings
from plivoxml_fs.service import Daemon
from plivoxml_fs.simulator import EmbeddedFreeSwitch

#: Media seconds per wall second is 1 / TIME_SCALE.
TIME_SCALE = 0.02


@pytest.fixture
def scene(tmp_path, free_port):
    """Builds a Scene: daemon (outbound server, inbound connection, outbox), embedded
    FreeSWITCH, web app; everything is stopped at the end of the test."""
    stops = []

    def build(**overrides) -> Scene:
        app = WebApp()
        app.start()
        stops.append(app.stop)
        settings = scene_settings(app, tmp_path, listen_port=free_port, **overrides)
        daemon = Daemon(settings)
        daemon.start_server()
        stops.append(lambda: daemon.stop(drain_timeout_s=2))
        fs = EmbeddedFreeSwitch(socket_address=daemon.address, time_scale=TIME_SCALE,
                                media_dir=str(tmp_path))
        fs.start()
        stops.append(fs.stop)
        daemon.start_inbound(*fs.inbound_address)
        assert daemon.inbound.wait_connected(5)
        built = Scene(daemon, app, fs.inbound_address, fs.password)
        stops.append(built.stop)
        built.fs = fs
        return built

    yield build
    for stop in reversed(stops):
        stop()
