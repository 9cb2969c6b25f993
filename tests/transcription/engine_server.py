"""A tiny OpenAI-compatible /v1/audio/transcriptions server for the tests (gevent WSGI).

It records every request (form fields, the file's name and bytes, Authorization) and answers
with `reply` (status, body), or holds the request until `release` is set."""

from __future__ import annotations

import json

import gevent.event
from gevent.pywsgi import WSGIServer
from werkzeug.wrappers import Request

PATH = "/v1/audio/transcriptions"


class EngineServer:
    def __init__(self, text: str = "hello from the engine") -> None:
        self.requests: list[dict] = []
        self.reply: tuple[str, bytes] = ("200 OK", json.dumps({"text": text}).encode())
        self.release = gevent.event.Event()
        self.release.set()
        self.server = WSGIServer(("127.0.0.1", 0), self, log=None, error_log=None)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}{PATH}"

    def start(self) -> EngineServer:
        self.server.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.server.stop(timeout=1)

    def __call__(self, environ, start_response):
        request = Request(environ)
        upload = request.files.get("file")
        self.requests.append({
            "path": request.path, "method": request.method,
            "authorization": request.headers.get("Authorization"),
            "form": dict(request.form),
            "file_name": upload.filename if upload else None,
            "file": upload.read() if upload else None,
        })
        self.release.wait()
        status, body = self.reply
        start_response(status, [("Content-Type", "application/json")])
        return [body]
