"""The operator HTTP server: GET /metrics (Prometheus text), GET /health (JSON), and the
conference recordings at GET /recordings/<name>.

/health answers 200 `{"status": "ok", "freeswitch": "connected", "outbox_durable": true}` while
the inbound event-socket connection is up and FreeSWITCH answers it, and 503 with `"status":
"degraded"` and `"freeswitch": "disconnected"` (no connection) or `"not responding"` (connected,
but the last `api status` of `FreeSwitchProbe` went unanswered for `health_probe_timeout_s`: a
frozen or overloaded FreeSWITCH). Calls still arrive on the outbound socket while degraded, but
room-wide events and api commands cannot. `outbox_durable` false (callbacks in memory only:
the outbox file would not open and is being retried) does not make /health 503: restarting
would not fix the disk and would lose those callbacks; alert on the `outbox_durable` gauge. It
runs on a gevent WSGI server bound to `metrics_host:metrics_port`; it has no authentication, so
keep it on a local or firewalled address.

/recordings/<name> streams a file of the recordings directory when `name` is one the daemon
derives (`rooms.recordings.RECORDING_NAME`: no other name, no path, is ever opened), as
audio/mpeg or audio/wav; 404 otherwise. It is RecordUrl when `record_base_url` is not set.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import gevent
import gevent.pywsgi

from plivoxml_fs import metrics
from plivoxml_fs.errors import CommandTimeout, ConnectionLost, PlivoXMLError
from plivoxml_fs.fs import commands
from plivoxml_fs.rooms import recordings

log = logging.getLogger("plivoxml_fs.api.http")

#: Bytes read from a recording at a time.
CHUNK_BYTES = 64 * 1024

#: What /health says of FreeSWITCH.
CONNECTED, DISCONNECTED, NOT_RESPONDING = "connected", "disconnected", "not responding"

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class FreeSwitchProbe:
    """Asks FreeSWITCH `api status` every `interval_s`, each under `timeout_s`: `responsive`
    turns False when one goes unanswered (one WARNING), True at the next answer (one WARNING).

    `api(command, timeout)` runs an api command on the inbound connection; ConnectionLost (no
    connection) leaves `responsive` as it was, since /health then says disconnected anyway.
    """

    def __init__(self, api: Callable[[str, float], object], *, interval_s: float,
                 timeout_s: float) -> None:
        self._api = api
        self._interval_s, self._timeout_s = interval_s, timeout_s
        self.responsive = True
        self._runner: gevent.Greenlet | None = None

    def start(self) -> None:
        if self._runner is None:
            self._runner = gevent.spawn(self._run)

    def stop(self) -> None:
        if self._runner is not None:
            self._runner.kill()
            self._runner = None

    def _run(self) -> None:
        while True:
            started = time.monotonic()
            self.probe()
            gevent.sleep(max(0.0, self._interval_s - (time.monotonic() - started)))

    def probe(self) -> None:
        """One question; `responsive` says how it went."""
        try:
            self._api(commands.STATUS, self._timeout_s)
        except ConnectionLost:
            return
        except CommandTimeout:
            if self.responsive:
                log.warning("FreeSWITCH did not answer `api status` within %s s: /health reports "
                            "it not responding", self._timeout_s)
            self.responsive = False
            return
        except PlivoXMLError:
            pass  # an -ERR is an answer
        if not self.responsive:
            log.warning("FreeSWITCH answers `api status` again: /health reports it connected")
        self.responsive = True


class OperatorApp:
    """The WSGI application; `freeswitch()` says what /health reports of FreeSWITCH
    (CONNECTED, DISCONNECTED or NOT_RESPONDING; True/False stand for the first two), and
    `outbox_durable()` whether callbacks are written to the outbox file."""

    def __init__(
        self,
        freeswitch: Callable[[], str | bool],
        recordings_dir: Path | None = None,
        outbox_durable: Callable[[], bool] = lambda: True,
    ) -> None:
        self._freeswitch = freeswitch
        self._recordings = recordings_dir
        self._durable = outbox_durable

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
        state = self._freeswitch()
        if isinstance(state, bool):
            state = CONNECTED if state else DISCONNECTED
        up = state == CONNECTED
        status = "200 OK" if up else "503 Service Unavailable"
        body = {"status": "ok" if up else "degraded", "freeswitch": state,
                "outbox_durable": bool(self._durable())}
        return _reply(start_response, status, json.dumps(body).encode(), "application/json")


def _reply(
    start_response: StartResponse, status: str, body: bytes, content_type: str = "text/plain"
) -> list[bytes]:
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


class WsgiService:
    """A WSGI app on `address`; port 0 binds an ephemeral port (see `address`). `start` says
    where on `logger`, `shown` formatting the host and port."""

    def __init__(self, address: tuple[str, int], app: Any, logger: logging.Logger,
                 shown: str) -> None:
        self._server = gevent.pywsgi.WSGIServer(address, app, log=None)
        self._log, self._shown = logger, shown

    @property
    def address(self) -> tuple[str, int]:
        return self._server.address[:2]

    def start(self) -> None:
        self._server.start()
        self._log.info(self._shown, *self.address)

    def stop(self) -> None:
        self._server.stop(timeout=1)


class OperatorServer(WsgiService):
    """/metrics and /health on `address`; port 0 binds an ephemeral port (see `address`)."""

    def __init__(
        self,
        address: tuple[str, int],
        freeswitch: Callable[[], str | bool],
        recordings_dir: Path | None = None,
        outbox_durable: Callable[[], bool] = lambda: True,
    ) -> None:
        super().__init__(address, OperatorApp(freeswitch, recordings_dir, outbox_durable), log,
                         "operator HTTP (/metrics, /health, /recordings/) on http://%s:%d")
