"""A local HTTP app (gevent.pywsgi on 127.0.0.1, ephemeral port) for fetch and outbox tests."""

from __future__ import annotations

from urllib.parse import parse_qsl

import attrs
import gevent
import gevent.event
import pytest
from serving import served

XML = b'<?xml version="1.0"?><Response><Speak>Hi</Speak></Response>'
#: A billion-laughs document: nested entities that would expand a thousandfold.
BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
    b"<Response><Speak>&c;</Speak></Response>"
)


@attrs.define
class Hit:
    method: str
    path: str
    query: dict
    form: dict


@attrs.define
class App:
    """Routes by path; `hits` records every request; `statuses` scripts replies per path."""

    hits: list = attrs.field(factory=list)
    statuses: dict = attrs.field(factory=dict)  # path -> list of statuses, used in order
    delay_s: float = 0.0
    base: str = ""

    def __call__(self, environ, start_response):
        path = environ["PATH_INFO"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        hit = Hit(
            environ["REQUEST_METHOD"],
            path,
            dict(parse_qsl(environ.get("QUERY_STRING", ""))),
            dict(parse_qsl(body.decode())),
        )
        self.hits.append(hit)
        route = getattr(self, "route_" + path.strip("/").replace("-", "_"), None)
        if route is not None:
            return route(environ, start_response)
        scripted = self.statuses.get(path)
        status = scripted.pop(0) if scripted else 200
        if self.delay_s:
            gevent.sleep(self.delay_s)
        start_response(f"{status} X", [("Content-Type", "text/plain")])
        return [b""]

    def route_ok(self, environ, start_response):
        start_response("200 OK", [("Content-Type", "application/xml")])
        return [XML]

    def route_flaky_doc(self, environ, start_response):
        status = self.statuses["/flaky-doc"].pop(0)
        start_response(f"{status} X", [("Content-Type", "application/xml")])
        return [XML if status == 200 else b""]

    def route_textxml(self, environ, start_response):
        start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8")])
        return [XML]

    def route_xhtml(self, environ, start_response):
        start_response("200 OK", [("Content-Type", "application/xhtml+xml")])
        return [XML]

    def route_html(self, environ, start_response):
        start_response("200 OK", [("Content-Type", "text/html")])
        return [b"<html>login</html>"]

    def route_error(self, environ, start_response):
        start_response("500 Internal Server Error", [("Content-Type", "application/xml")])
        return [XML]

    def route_slow(self, environ, start_response):
        gevent.sleep(2.0)
        start_response("200 OK", [("Content-Type", "application/xml")])
        return [XML]

    def route_trickle(self, environ, start_response):
        start_response("200 OK", [("Content-Type", "application/xml")])

        def body():
            for _ in range(40):
                gevent.sleep(0.05)
                yield b" "

        return body()

    def route_huge(self, environ, start_response):
        start_response("200 OK", [("Content-Type", "application/xml")])
        return (b"x" * 65536 for _ in range(160))  # 10 MB, chunked, no Content-Length

    def route_declared_huge(self, environ, start_response):
        start_response(
            "200 OK", [("Content-Type", "application/xml"), ("Content-Length", "10485760")]
        )
        return [b"x" * 10]

    def route_slowcb(self, environ, start_response):
        gevent.sleep(0.3)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b""]

    def route_bomb(self, environ, start_response):
        start_response("200 OK", [("Content-Type", "application/xml")])
        return [BOMB]

    def route_music(self, environ, start_response):
        start_response("200 OK", [("Content-Type", "audio/mpeg")])
        return (b"\xff" * 65536 for _ in range(160))  # 10 MB of audio: never read to its end

    def route_moved(self, environ, start_response):
        start_response("302 Found", [("Location", self.base + "/ok")])
        return [b""]

    def route_loop(self, environ, start_response):
        start_response("302 Found", [("Location", self.base + "/loop")])
        return [b""]


@pytest.fixture
def http_app():
    app = App()
    with served(app):
        yield app


class GatedReceiver:
    """A callback receiver gone slow: holds every request until `gate` is set (at most
    `hold_s`), then answers 200; `/gone` is a 404 at once. `hits`: (path, form, delivery id)
    in the order answered; `calls`: their CallUUIDs."""

    def __init__(self, hold_s: float = 30.0) -> None:
        self.gate = gevent.event.Event()
        self.hold_s = hold_s
        self.hits: list[tuple[str, dict[str, str], str]] = []
        self.base = ""

    @property
    def calls(self) -> list[str]:
        return [form["CallUUID"] for _, form, _ in self.hits]

    def __call__(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        form = dict(parse_qsl(environ["wsgi.input"].read(length).decode()))
        path = environ["PATH_INFO"]
        if path != "/gone":
            self.gate.wait(self.hold_s)
        self.hits.append((path, form, environ.get("HTTP_X_PLIVOXML_DELIVERY_ID", "")))
        status = "404 Not Found" if path == "/gone" else "200 OK"
        start_response(status, [("Content-Type", "text/plain")])
        return [b""]


@pytest.fixture
def gated():
    app = GatedReceiver()
    with served(app):
        try:
            yield app
        finally:
            app.gate.set()
