"""An ExecContext for executor tests: a FakeConnection and default settings."""

from __future__ import annotations

import logging

import attrs
import pytest

from plivoxml_fs.config import Settings
from plivoxml_fs.testing import FakeConnection, RecordingOutbox


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


@pytest.fixture
def ctx() -> Ctx:
    return Ctx(FakeConnection())
