"""replay's web app: serves the documents (and files beside them), records every request.

Split from replay.py (which re-exports its names); see there for how replay uses it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl

import attrs
from gevent.pywsgi import WSGIServer

from plivoxml_fs.rooms import recordings

#: Callback paths the web app records (everything under it answers 200 with an empty body).
CALLBACK_PREFIX = "/callbacks/"
#: With several documents, the answer URL: it answers each call with its caller's document,
#: told apart by the called number (`To`).
ANSWER_PATH = "/replay/answer"
#: Content types of the files the web app serves, by suffix (XML for anything else).
CONTENT_TYPES = {".wav": "audio/wav", ".mp3": "audio/mpeg"}
#: Host and default port of the web app; documents name it as http://127.0.0.1:<default port>.
HTTP_HOST = "127.0.0.1"
DEFAULT_HTTP_PORT = 8089

@attrs.frozen
class HttpHit:
    """One request the web app received."""

    at: float
    method: str
    path: str
    params: dict[str, str]


class WebApp:
    """Serves documents from one directory and records every request, callbacks included.

    In the XML files it serves, `named_url` (the address documents use for it) is replaced by
    its actual address.
    """

    def __init__(self, root: Path, port: int, on_hit: Callable[[HttpHit], None],
                 named_url: str = f"http://{HTTP_HOST}:{DEFAULT_HTTP_PORT}") -> None:
        self.root = root.resolve()
        self.on_hit = on_hit
        self.answers: dict[str, str] = {}  # called number -> document path under root
        self.recordings: Path | None = None  # served at /recordings/ (the daemon's RecordUrl)
        self.hits: list[HttpHit] = []
        self.named = re.compile(re.escape(named_url.encode()) + rb"(?![0-9])")
        self.server = WSGIServer((HTTP_HOST, port), self._app, log=None, error_log=None)

    @property
    def base_url(self) -> str:
        host, port = self.server.address[:2]
        return f"http://{host}:{port}"

    def _served(self, target: Path) -> tuple[str, bytes]:
        """Content type and body of a file: XML with the named address made the actual one."""
        kind = CONTENT_TYPES.get(target.suffix.lower())
        if kind is not None:
            return kind, target.read_bytes()
        return "application/xml", self.named.sub(self.base_url.encode(), target.read_bytes())

    def start(self) -> None:
        self.server.start()

    def stop(self) -> None:
        self.server.stop(timeout=1)

    def _app(self, environ, start_response):
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO", "/")
        query = environ.get("QUERY_STRING", "")
        raw = environ["wsgi.input"].read() if method == "POST" else b""
        params = dict(parse_qsl(query, keep_blank_values=True))
        params.update(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        hit = HttpHit(time.monotonic(), method, path, params)
        self.hits.append(hit)
        self.on_hit(hit)
        if path.startswith(CALLBACK_PREFIX):
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b""]
        if path.startswith(recordings.URL_PATH):
            return self._recording(path[len(recordings.URL_PATH):], start_response)
        if path == ANSWER_PATH and params.get("To") in self.answers:
            # a redirect, so that the daemon names the document's own file in what it logs
            start_response("302 Found", [("Location", self.answers[params["To"]])])
            return [b""]
        target = (self.root / path.lstrip("/")).resolve()
        if not target.is_relative_to(self.root) or not target.is_file():
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found\n"]
        kind, body = self._served(target)
        start_response("200 OK", [("Content-Type", kind)])
        return [body]


    def _recording(self, name: str, start_response):
        """A recording the daemon made (replay starts no operator server to serve them)."""
        found = self.recordings / name if self.recordings is not None else None
        if found is None or not recordings.is_recording_name(name) or not found.is_file():
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"no such recording\n"]
        kind = recordings.CONTENT_TYPES[name.rsplit(".", 1)[1]]
        start_response("200 OK", [("Content-Type", kind)])
        return [found.read_bytes()]
