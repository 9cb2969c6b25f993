"""The stop-talking statistics: when mod_conference adds the `talking-*` headers, and their values."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from plivoxml_fs.simulator.talking import TONE_ENERGY, frame_energies, stop_talking_stats
from simulator.helpers import SHARED_TRACES, trace_messages

ENERGY_LEVEL = 100


def _recorded_stops() -> list[dict[str, str]]:
    """The talking-* headers of each stop-talking media.txt's inbound connection received."""
    stops = []
    for direction, conn, text in trace_messages(SHARED_TRACES / "media.txt"):
        if direction == "<<<" and conn.startswith("in") and "\nAction: stop-talking\n" in text:
            body = unquote(text.split("\n\n", 1)[1])
            stops.append(dict(line.split(": ", 1) for line in body.splitlines()
                              if line.startswith("talking-")))
    return stops


def test_a_steady_600_hz_tone_gives_the_recorded_statistics():
    """1500 ms of 600 Hz: the values media.txt's stop-talking carried, header for header."""
    stats = stop_talking_stats(frame_energies("tone_stream://%(1500,0,600)", 1500), ENERGY_LEVEL)
    assert stats == list(_recorded_stops()[0].items())


def test_a_tone_of_whole_sample_periods_gives_none():
    """2000 ms of 500 Hz (16 samples a period): every frame the same, no talking-* headers, as
    in media.txt's second stop-talking."""
    assert _recorded_stops()[1] == {}
    assert stop_talking_stats(frame_energies("tone_stream://%(2000,0,500)", 2000),
                              ENERGY_LEVEL) == []


@pytest.mark.parametrize("ms", [0, 20, 39])
def test_a_sound_of_one_frame_gives_none(ms):
    """No gate hit after the frame that started the talk: no talking-* headers."""
    assert stop_talking_stats(frame_energies("tone_stream://%(20,0,600)", ms), ENERGY_LEVEL) == []


def test_volume_steps_change_the_level():
    """v= steps: the frames change level, so the headers come, with the change averaged."""
    frames = frame_energies("tone_stream://v=-7;%(500,0,600);v=-13;%(500,0,600)", 1000)
    low = round(TONE_ENERGY * 10 ** (-6 / 20))
    assert frames == [TONE_ENERGY + 1] + [TONE_ENERGY] * 24 + [low] * 25
    stats = dict(stop_talking_stats(frames, ENERGY_LEVEL))
    assert (stats["talking-gate-hits"], stats["talking-duration-ms"]) == ("49", "980")
    assert stats["talking-delta-average"] == f"{(1 + TONE_ENERGY - low) / 49:.6f}"


def test_silent_parts_count_as_packets_not_hits():
    """A tone with pauses: the pauses are packets below the gate, not gate hits."""
    frames = frame_energies("tone_stream://%(100,100,600);loops=3", 600)
    assert frames == ([TONE_ENERGY + 1] + [TONE_ENERGY] * 4 + [0] * 5
                      + ([TONE_ENERGY] * 5 + [0] * 5) * 2)
    stats = dict(stop_talking_stats(frames, ENERGY_LEVEL))
    assert (stats["talking-gate-hits"], stats["talking-total-packets"]) == ("14", "29")


def test_other_sounds_are_steady_with_a_first_frame_step():
    """A file or speech: the steady level, its first frame one more, so the headers come."""
    assert frame_energies("http://example.test/a.wav", 100) == [TONE_ENERGY + 1] + [TONE_ENERGY] * 4
    assert stop_talking_stats(frame_energies("", 600), ENERGY_LEVEL)
