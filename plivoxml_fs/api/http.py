"""The operator HTTP server: GET /metrics (Prometheus text) and GET /health (JSON).

/health answers 200 `{"status": "ok", "freeswitch": "connected"}` while the inbound event-socket
connection is up and 503 `{"status": "degraded", "freeswitch": "disconnected"}` otherwise (calls
still arrive on the outbound socket, but room-wide events and api commands cannot). It runs on a
gevent WSGI server bound to `metrics_host:metrics_port`; it has no authentication, so keep it on
a local or firewalled address.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

import gevent.pywsgi

from plivoxml_fs import metrics

log = logging.getLogger("plivoxml_fs.api.http")

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class OperatorApp:
    """The WSGI application; `connected()` says whether the inbound connection is up."""

    def __init__(self, connected: Callable[[], bool]) -> None:
        self._connected = connected

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method, path = environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", "")
        if path not in ("/metrics", "/health"):
            return _reply(start_response, "404 Not Found", b"not found: try /metrics or /health\n")
        if method not in ("GET", "HEAD"):
            return _reply(start_response, "405 Method Not Allowed", b"only GET\n")
        if path == "/metrics":
            body, content_type = metrics.exposition()
            return _reply(start_response, "200 OK", body, content_type)
        return self._health(start_response)

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

    def __init__(self, address: tuple[str, int], connected: Callable[[], bool]) -> None:
        self._server = gevent.pywsgi.WSGIServer(address, OperatorApp(connected), log=None)

    @property
    def address(self) -> tuple[str, int]:
        return self._server.address[:2]

    def start(self) -> None:
        self._server.start()
        log.info("operator HTTP (/metrics, /health) on http://%s:%d", *self.address)

    def stop(self) -> None:
        self._server.stop(timeout=1)
