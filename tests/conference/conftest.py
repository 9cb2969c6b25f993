"""The conference scene against the embedded FreeSWITCH (media time runs 50 times faster)."""

from __future__ import annotations

import pytest

from conference.scene import Scene, embedded_scene

#: Media seconds per wall second is 1 / TIME_SCALE.
TIME_SCALE = 0.02


@pytest.fixture
def scene(tmp_path, free_port):
    """Builds a Scene: daemon (outbound server, inbound connection, outbox), embedded
    FreeSWITCH, web app; everything is stopped at the end of the test."""
    stops = []

    def build(**overrides) -> Scene:
        return embedded_scene(stops, tmp_path, free_port, TIME_SCALE, **overrides)

    yield build
    for stop in reversed(stops):
        stop()
