"""A WSGI app of a test on its own HTTP server."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from gevent.pywsgi import WSGIServer


@contextlib.contextmanager
def served(app: Any) -> Iterator[Any]:
    """`app` served on 127.0.0.1 (a free port; `app.base` its http://host:port) while the block
    runs, and stopped after it."""
    server = WSGIServer(("127.0.0.1", 0), app, log=None, error_log=None)
    server.start()
    app.base = f"http://127.0.0.1:{server.server_port}"
    try:
        yield app
    finally:
        server.stop(timeout=1)
