"""add participant's dial_music URL fetched and handed to the room (api/mpc_dial_music.py):
the fetch's parameters and method, a URL that cannot be fetched (one WARNING, no music), a
dial over before its music arrived (never played), nothing fetched with no MPC yet."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import gevent.event

from plivoxml_fs.api.mpc_dial_music import DialMusic
from plivoxml_fs.api.server import ApiRequest
from plivoxml_fs.errors import FetchError

URL = "http://app/dial-music?token=secret"
DOC = b"<Response><Play>http://app/dial.wav</Play><Wait length=\"1\"/></Response>"


class Fetcher:
    def __init__(self, answer=DOC, gate=None):
        self.answer, self.gate, self.asked = answer, gate, []

    def fetch_sound(self, url, method, params):
        self.asked.append((url, method, dict(params)))
        if self.gate is not None:
            self.gate.wait()
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer, url


class Room:
    def __init__(self):
        self.told = []

    def view(self):
        return SimpleNamespace(mpc_uuid="mpc-1", name="sales")

    def dial_music(self, request, music):
        self.told.append((request, music))
        return []


def _setup(fetcher):
    room = Room()
    rooms = SimpleNamespace(decide=lambda r, change: change(0.0))
    ctx = SimpleNamespace(fetcher=fetcher, rooms=rooms,
                          settings=SimpleNamespace(max_document_bytes=65536))
    return ctx, room, ApiRequest("POST", "/", "MA00000000000000000A", {}, {}, "req-1")


def test_the_music_is_fetched_with_post_and_played_until_stopped():
    fetcher = Fetcher()
    ctx, room, req = _setup(fetcher)
    music = DialMusic.start(ctx, req, room, URL)
    gevent.wait(timeout=5)
    assert fetcher.asked == [(URL, "POST", {"MPCUUID": "mpc-1", "MPCName": "sales",
                                            "RequestUUID": "req-1"})]
    ((request, parts),) = room.told
    assert request == "req-1"
    assert parts == ("file_string://http_cache://http://app/dial.wav!silence_stream://1000",)
    music.stop()
    assert room.told[-1] == ("req-1", None)
    music.stop()  # twice: told once
    assert len(room.told) == 2


def test_a_url_that_cannot_be_fetched_is_one_warning_and_no_music(caplog):
    ctx, room, req = _setup(Fetcher(FetchError("POST http://app/dial-music: 404")))
    with caplog.at_level(logging.WARNING, logger="plivoxml_fs.api"):
        music = DialMusic.start(ctx, req, room, URL)
        gevent.wait(timeout=5)
    (line,) = [r.getMessage() for r in caplog.records]
    assert "dial_music" in line and "404" in line and "secret" not in line
    music.stop()
    assert room.told == []


def test_a_dial_over_before_its_music_arrives_never_plays_it():
    gate = gevent.event.Event()
    ctx, room, req = _setup(Fetcher(gate=gate))
    music = DialMusic.start(ctx, req, room, URL)
    gevent.sleep(0)
    music.stop()
    gate.set()
    gevent.wait(timeout=5)
    assert room.told == []


def test_nothing_is_fetched_without_a_url_or_an_mpc():
    fetcher = Fetcher()
    ctx, room, req = _setup(fetcher)
    assert DialMusic.start(ctx, req, None, URL) is None
    assert DialMusic.start(ctx, req, room, "") is None
    assert fetcher.asked == []
