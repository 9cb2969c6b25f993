"""Transcription of a room's recording through the daemon and the embedded FreeSWITCH."""

from __future__ import annotations

from conference import transcription_scenarios


def test_recorded_room_posts_a_transcription_with_the_spoken_words(scene):
    """flite's "the quick brown fox jumps over the lazy dog" played into a recorded room comes
    back in the transcription callback (pocketsphinx, offline)."""
    transcription_scenarios.recorded_room_posts_its_transcription(scene())


def test_a_rate_prices_the_transcription_by_the_started_minute(scene):
    """transcription_rate_per_minute 0.05: a recording under a minute costs one minute."""
    transcription_scenarios.recorded_room_posts_its_transcription(
        scene(transcription_rate_per_minute=0.05), rate=0.05)
