"""The who-hears-whom helpers shipped in plivoxml_fs.testing: Goertzel levels and the matrix."""

from __future__ import annotations

import math
import wave

import pytest

from plivoxml_fs.testing import (
    HEARS_DBFS,
    SILENT_DBFS,
    Hearing,
    dbfs,
    goertzel,
    hearing_matrix,
    read_wav,
    tone_levels,
)


def _sine(hz: float, amplitude: float, rate: int = 8000, ms: int = 1000) -> list[int]:
    return [int(amplitude * 32767 * math.sin(2 * math.pi * hz * n / rate))
            for n in range(rate * ms // 1000)]


def _wav(path, samples, rate: int = 8000) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"".join(int(s).to_bytes(2, "little", signed=True) for s in samples))


def test_goertzel_reads_a_tones_amplitude():
    """A sine at half scale reads 0.5 (-6 dBFS) at its frequency and next to nothing at another."""
    samples = _sine(800, 0.5)
    assert goertzel(samples, 8000, 800) == pytest.approx(0.5, abs=0.001)
    assert dbfs(goertzel(samples, 8000, 1200)) < -80
    assert dbfs(0.0) == SILENT_DBFS
    assert goertzel([], 8000, 800) == 0.0


def test_tone_levels_take_the_loudest_window():
    """A tone present in part of the audio reads its full level (the loudest 200 ms window)."""
    samples = [0] * 8000 + _sine(500, 0.25, ms=400) + [0] * 8000
    levels = tone_levels(samples, 8000, [500, 1700])
    assert levels[500] == pytest.approx(dbfs(0.25), abs=0.3)
    assert levels[1700] < -60


def test_hearing_matrix_from_recordings(tmp_path):
    """Each listener's recording gives every speaker's level; hears() is the threshold."""
    mix = [a + b for a, b in zip(_sine(800, 0.3), _sine(1200, 0.3), strict=True)]
    _wav(tmp_path / "a.wav", mix)
    _wav(tmp_path / "b.wav", _sine(500, 0.3))
    _wav(tmp_path / "c.wav", [0] * 8000)
    hearing = hearing_matrix({"a": tmp_path / "a.wav", "b": tmp_path / "b.wav",
                              "c": tmp_path / "c.wav"}, {"a": 500, "b": 800, "c": 1200})
    assert hearing.matrix() == {"a": {"a": False, "b": True, "c": True},
                                "b": {"a": True, "b": False, "c": False},
                                "c": {"a": False, "b": False, "c": False}}
    assert hearing.heard_by("a") == {"b", "c"}
    assert hearing.levels["a"]["b"] == pytest.approx(dbfs(0.3), abs=0.2)
    assert hearing.levels["c"]["a"] == SILENT_DBFS
    assert hearing.level_of("b", 500) == pytest.approx(dbfs(0.3), abs=0.2)
    assert "listener" in str(hearing) and "-10.5" in str(hearing)


def test_threshold_and_read_wav_errors(tmp_path):
    """A level just under HEARS_DBFS is not heard; a file that is not 16-bit is refused."""
    assert not Hearing({"a": {"b": HEARS_DBFS - 0.1}}).hears("a", "b")
    assert Hearing({"a": {"b": HEARS_DBFS}}).hears("a", "b")
    path = tmp_path / "u8.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(8000)
        out.writeframes(b"\x80" * 80)
    with pytest.raises(ValueError, match="not 16-bit PCM"):
        read_wav(path)
