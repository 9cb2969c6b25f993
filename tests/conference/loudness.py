"""Speech in a recording, measured: the RMS level of each 200 ms window (what a tone's
Goertzel level cannot tell: speech is no tone). Used where a promise is "the member hears
speech" (Speak music, spoken enter sounds) on both FreeSWITCHes."""

from __future__ import annotations

import math

from plivoxml_fs.testing import read_wav

#: RMS level (dBFS) of a 200 ms window that counts as speech: mod_flite speaks at -20 to -34
#: dBFS RMS (measured on FreeSWITCH 1.10.12); silence and comfort-free rooms are below -80.
SPEECH_DBFS = -45.0


def loudness(path, window_ms: int = 200) -> list[float]:
    """RMS level (dBFS) of each consecutive `window_ms` window of a recording."""
    samples, rate = read_wav(path)
    step = max(1, rate * window_ms // 1000)
    levels = []
    for at in range(0, len(samples) - step + 1, step):
        window = samples[at:at + step]
        rms = (sum(x * x for x in window) / len(window)) ** 0.5 / 32768
        levels.append(20 * math.log10(rms) if rms > 1e-6 else -120.0)
    return levels


def spoken_ms(path, window_ms: int = 200) -> int:
    """How many ms of a recording are at speech level (SPEECH_DBFS)."""
    return window_ms * sum(1 for level in loudness(path, window_ms) if level >= SPEECH_DBFS)
