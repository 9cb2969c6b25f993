"""The operator HTTP server: GET /metrics (Prometheus text), GET /health (JSON), and the
conference recordings at GET /recordings/<name>.

/health answers 200 `{"status": "ok", "freeswitch": "connected"}` while the inbound event-socket
connection is up and 503 `{"status": "degraded", "freeswitch": "disconnected"}` otherwise (calls
still arrive on the outbound socket, but room-wide events and api commands cannot). It runs on a
gevent WSGI server bound to `metrics_host:metrics_port`; it has no authentication, so keep it on
a local or firewalled address.

/recordings/<name> streams a file of the recordings directory when `name` is one the daemon
derives (`rooms.recordings.RECORDING_NAME`: no other name, no path, is ever opened), as
audio/mpeg or audio/wav; 404 otherwise. It is RecordUrl when `record_base_url` is not set.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import gevent.pywsgi

from plivoxml_fs import metrics
from plivoxml_fs.rooms import recordings

log = logging.getLogger("plivoxml_fs.api.http")

#: Bytes read from a recording at a time.
CHUNK_BYTES = 64 * 1024

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class OperatorApp:
    """The WSGI application; `connected()` says whether the inbound connection is up."""

    def __init__(self, connected: Callable[[], bool], recordings_dir: Path | None = None) -> None:
        self._connected = connected
        self._recordings = recordings_dir

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method, path = environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", "")
        if path.startswith(recordings.URL_PATH) and method in ("GET", "HEAD"):
            return self._recording(path[len(recordings.URL_PATH):], environ, start_response)
        if path not in ("/metrics", "/health"):
            return _reply(start_response, "404 Not Found", b"not found: try /metrics or /health\n")
        if method not in ("GET", "HEAD"):
            return _reply(start_response, "405 Method Not Allowed", b"only GET\n")
        if path == "/metrics":
            body, content_type = metrics.exposition()
            return _reply(start_response, "200 OK", body, content_type)
        return self._health(start_response)

    def _recording(
        self, name: str, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        if self._recordings is None or not recordings.is_recording_name(name):
            return _reply(start_response, "404 Not Found", b"no such recording\n")
        path = self._recordings / name
        try:
            handle = path.open("rb")
            size = path.stat().st_size
        except OSError:
            return _reply(start_response, "404 Not Found", b"no such recording\n")
        kind = recordings.CONTENT_TYPES[name.rsplit(".", 1)[1]]
        start_response("200 OK", [("Content-Type", kind), ("Content-Length", str(size))])
        wrapper = environ.get("wsgi.file_wrapper")
        return wrapper(handle, CHUNK_BYTES) if wrapper else iter(lambda: handle.read(CHUNK_BYTES), b"")

    def _health(self, start_response: StartResponse) -> Iterable[bytes]:
        up = self._connected()
        status = "200 OK" if up else "503 Service Unavailable"
        body = {"status": "ok" if up else "degraded"}
        body["freeswitch"] = "connected" if up else "disconnected"
        return _reply(start_response, status, json.dumps(body).encode(), "application/json")


def _reply(
    start_response: StartResponse, status: str, body: bytes, content_type: str = "text/plain"
) -> list[bytes]:
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


class OperatorServer:
    """/metrics and /health on `address`; port 0 binds an ephemeral port (see `address`)."""

    def __init__(
        self,
        address: tuple[str, int],
        connected: Callable[[], bool],
        recordings_dir: Path | None = None,
    ) -> None:
        app = OperatorApp(connected, recordings_dir)
        self._server = gevent.pywsgi.WSGIServer(address, app, log=None)

    @property
    def address(self) -> tuple[str, int]:
        return self._server.address[:2]

    def start(self) -> None:
        self._server.start()
        log.info("operator HTTP (/metrics, /health, /recordings/) on http://%s:%d", *self.address)

    def stop(self) -> None:
        self._server.stop(timeout=1)
