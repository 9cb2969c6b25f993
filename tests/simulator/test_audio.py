"""Audio of the embedded FreeSWITCH: tone_stream as libteletone renders it, files, timelines."""

from __future__ import annotations

import math
import wave

import pytest

from plivoxml_fs.simulator.audio import Silence, Tone, Track, WavFile, tone_amplitude, write_wav
from plivoxml_fs.testing import dbfs, goertzel, read_wav, tone_levels


def test_a_tone_is_libteletones_level():
    """%(on,off,hz) at the default -7 dB peaks at 10184 (+128 offset): -10.2 dBFS, as FreeSWITCH
    1.10.12 measured."""
    assert tone_amplitude() == 10184
    samples = Tone("%(200,0,500)").render(0, 1600, 8000)
    assert max(samples) == 10184 + 128
    assert dbfs(goertzel(samples, 8000, 500)) == pytest.approx(-10.15, abs=0.05)
    assert samples[0] == 128  # phase 0 at the segment's start


def test_volume_frequencies_silences_and_loops():
    """v= sets the level; two frequencies share one segment; off times are silence; loops."""
    quiet = Tone("v=-20;%(200,0,500)").render(0, 1600, 8000)
    assert dbfs(goertzel(quiet, 8000, 500)) == pytest.approx(-23.15, abs=0.1)
    pair = Tone("%(200,0,500,1200)").render(0, 1600, 8000)
    assert dbfs(goertzel(pair, 8000, 500)) == pytest.approx(-16.2, abs=0.1)  # half each
    assert dbfs(goertzel(pair, 8000, 1200)) == pytest.approx(-16.2, abs=0.1)
    gapped = Tone("%(100,100,500);loops=3")
    assert gapped.ms == 600
    samples = gapped.render(0, 6400, 8000)
    assert set(samples[800:1600]) == {0} and set(samples[4800:]) == {0}
    assert max(samples[1600:2400]) == 10184 + 128
    assert Tone("%(100,100,800);loops=-1").ms is None
    assert Tone("%(100,0,800)").render(0, 160, 16000)[1] != 0  # any rate


def test_track_segments_and_stops():
    """A track sums its segments over the asked window; a stopped segment ends there."""
    track = Track()
    first = track.start(Tone("%(1000,0,500)"), 1000)
    track.stop(first, 1100)
    track.start(Silence(500), 1200)  # silence is not kept
    assert len(track.segments) == 1
    samples = track.render(1000, 1200, 8000)
    assert len(samples) == 1600
    assert max(samples[:800]) > 10000 and set(samples[800:]) == {0}
    assert track.render(2000, 2100, 8000) is None


def test_wav_files_are_resampled(tmp_path):
    """A WAV file plays at any rate, by nearest sample."""
    path = tmp_path / "t.wav"
    tone = [int(8000 * math.sin(2 * math.pi * 800 * n / 8000)) for n in range(8000)]
    write_wav(path, [tone], 8000)
    source = WavFile(path)
    assert source.ms == 1000
    wide = source.render(0, 16000, 16000)
    assert tone_levels(wide, 16000, [800])[800] == pytest.approx(dbfs(8000 / 32768), abs=0.2)
    assert source.render(7990, 20, 8000)[10:] == [0] * 10  # past the end: silence


def test_write_wav_stereo_interleaves(tmp_path):
    """Two channels are interleaved left, right; samples are clipped to 16 bits."""
    path = tmp_path / "s.wav"
    write_wav(path, [[1, 40000], [-1, -40000]], 8000)
    with wave.open(str(path)) as wav:
        assert wav.getnchannels() == 2
    assert read_wav(path) == ([1, 32767], 8000)
