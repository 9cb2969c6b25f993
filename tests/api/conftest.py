"""The control API scene: the conference scene's daemon with the API on, SDK clients for two
accounts, on the embedded FreeSWITCH."""

from __future__ import annotations

import pytest
from conference.conftest import TIME_SCALE
from conference.scene import Scene, embedded_scene
from ports import unused_port

from api.api_scenarios import ACCOUNT_A, ACCOUNT_B, API_AUTH, TOKEN_A, TOKEN_B
from api.mpc_scenarios import CONFIRM_TIMEOUT_S, DIAL_STRING
from plivoxml_fs.client import rest_client


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
        overrides.setdefault("mpc_dial_string", DIAL_STRING)
        overrides.setdefault("confirm_key_timeout_s", CONFIRM_TIMEOUT_S)
        built = embedded_scene(stops, tmp_path, free_port, TIME_SCALE,
                               api_port=unused_port(free_port), api_auth=API_AUTH, **overrides)
        built.record_dir = tmp_path / "heard"
        built.time_scale = TIME_SCALE
        return with_api(built)

    yield build
    for stop in reversed(stops):
        stop()
