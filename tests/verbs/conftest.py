"""An ExecContext for executor tests: a FakeConnection, default settings, and a room engine
whose edge (`ctx.edge`, a testing.FakeEdge) answers commands at once and keeps timers."""

from __future__ import annotations

import logging

import attrs
import pytest

from plivoxml_fs.config import Settings
from plivoxml_fs.rooms.model import RoomContext
from plivoxml_fs.rooms.registry import RoomEngine
from plivoxml_fs.testing import FakeConnection, FakeEdge, RecordingOutbox


@attrs.define
class Ctx:
    conn: FakeConnection
    settings: Settings = attrs.field(factory=Settings)
    fetcher: object = None
    outbox: RecordingOutbox = attrs.field(factory=RecordingOutbox)
    log: logging.LoggerAdapter = attrs.field(
        factory=lambda: logging.LoggerAdapter(logging.getLogger("plivoxml_fs.call"), {})
    )
    params: dict = attrs.field(factory=dict)
    answered: bool = True
    first_verb: bool = False
    edge: FakeEdge = attrs.field(default=attrs.Factory(lambda self: FakeEdge(self.outbox),
                                                       takes_self=True))
    rooms: RoomEngine = attrs.field(default=attrs.Factory(
        lambda self: RoomEngine(RoomContext(self.settings, lambda: "rec-1"), self.edge),
        takes_self=True))
    clock: object = attrs.field(default=attrs.Factory(lambda self: self.edge.now,
                                                      takes_self=True))
    new_id: object = lambda: "id-1"  # noqa: E731


@pytest.fixture
def ctx() -> Ctx:
    return Ctx(FakeConnection())
