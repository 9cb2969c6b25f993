"""The recording scenarios through the daemon and the embedded FreeSWITCH."""

from __future__ import annotations

from conference import recording_scenarios


def test_record_when_alone_false_pauses_while_one_is_left(scene):
    """recordWhenAlone="false": paused while one member is left, resumed at two; the WAV has
    no audio of the pause and lasts the time recorded."""
    recording_scenarios.record_when_alone_false_pauses_while_one_is_left(scene())
