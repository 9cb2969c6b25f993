"""The control API scene: the conference scene's daemon with the API on, SDK clients for two
accounts, on the embedded FreeSWITCH."""

from __future__ import annotations

import socket

import pytest
from conference.conftest import TIME_SCALE
from conference.scene import Scene, WebApp, scene_settings

from api.api_scenarios import ACCOUNT_A, ACCOUNT_B, API_AUTH, TOKEN_A, TOKEN_B
from api.mpc_scenarios import DIAL_STRING
from plivoxml_fs.client import rest_client
from plivoxml_fs.service import Daemon
from plivoxml_fs.simulator import EmbeddedFreeSwitch


def unused_port(besides: int) -> int:
    """A free port other than `besides` (the OS may hand a just-freed port out again)."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port != besides:
            return port


def with_api(scene: Scene) -> Scene:
    """Give `scene` SDK clients for the daemon's control API."""
    host, port = scene.daemon.api.address
    scene.api_base = f"http://{host}:{port}"
    scene.sdk = lambda auth_id, token: rest_client(scene.api_base, auth_id, token)
    scene.client = scene.sdk(ACCOUNT_A, TOKEN_A)
    scene.client_b = scene.sdk(ACCOUNT_B, TOKEN_B)
    return scene


@pytest.fixture
def api_scene(tmp_path, free_port):
    stops = []

    def build(**overrides) -> Scene:
        app = WebApp()
        app.start()
        stops.append(app.stop)
        overrides.setdefault("mpc_dial_string", DIAL_STRING)
        settings = scene_settings(app, tmp_path, listen_port=free_port, api_port=unused_port(free_port),
                                  api_auth=API_AUTH, **overrides)
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
        built.record_dir = tmp_path / "heard"
        built.time_scale = TIME_SCALE
        built.settings = settings
        return with_api(built)

    yield build
    for stop in reversed(stops):
        stop()
