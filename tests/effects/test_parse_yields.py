"""A large document is parsed in slices: other greenlets (calls, /health) run in between."""

from __future__ import annotations

import contextlib

import gevent
import pytest

from plivoxml_fs.config import Settings
from plivoxml_fs.documents import DocumentInvalid, parse_document
from plivoxml_fs.effects.fetch import DocumentFetcher, yield_to_others
from plivoxml_fs.service import Daemon

#: The probe's document: 60,000 unknown elements in 240 KB, under the 256 KB limit.
FLOOD = b"<Response>" + b"<X/>" * 60_000 + b"</Response>"
#: A valid document of the same size class: 30,000 verbs to validate.
WAITS = b"<Response>" + b"<Wait/>" * 30_000 + b"</Response>"


def ticks_during(parse) -> int:
    """How often a counter greenlet advanced while `parse()` ran in this greenlet."""
    ticks = [0]

    def count():
        while True:
            ticks[0] += 1
            gevent.sleep(0)

    counter = gevent.spawn(count)
    gevent.sleep(0)  # the counter is running
    before = ticks[0]
    try:
        parse()
    finally:
        during = ticks[0] - before
        counter.kill()
    return during


@pytest.mark.parametrize("data", [FLOOD, WAITS], ids=["invalid", "valid"])
def test_another_greenlet_runs_during_the_parse(data):
    """With the daemon's pause, a counter greenlet keeps advancing while the document is parsed."""

    def parse():
        with contextlib.suppress(DocumentInvalid):
            parse_document(data, source="big.xml", max_bytes=256 * 1024, pause=yield_to_others)

    assert ticks_during(parse) >= 20


def test_without_a_pause_the_parse_holds_the_hub():
    """The contrast: parsed without a pause, nothing else runs until the parse is over."""

    def parse():
        with pytest.raises(DocumentInvalid):
            parse_document(FLOOD, source="big.xml", max_bytes=256 * 1024)

    assert ticks_during(parse) == 0


def test_the_daemon_and_sound_fetches_parse_with_the_pause(tmp_path):
    """The daemon's call driver parses with yield_to_others, and so do sound documents."""
    daemon = Daemon(Settings(listen_port=0, metrics_port=0, state_dir=str(tmp_path)))
    try:
        assert daemon.driver._parse.keywords == {"pause": yield_to_others}
    finally:
        daemon.outbox.stop()
        daemon.fetcher.close()
    assert DocumentFetcher.pause is yield_to_others
