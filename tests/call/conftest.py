"""The local HTTP app of tests/effects, for driver tests that fetch over real HTTP."""

from __future__ import annotations

import pytest
from effects.conftest import App
from gevent.pywsgi import WSGIServer


@pytest.fixture
def http_app():
    app = App()
    server = WSGIServer(("127.0.0.1", 0), app, log=None, error_log=None)
    server.start()
    app.base = f"http://127.0.0.1:{server.server_port}"
    try:
        yield app
    finally:
        server.stop(timeout=1)
