"""Who hears whom, measured from audio: one tone per caller, what each caller receives, a
Goertzel filter per tone.

`measure(api, parties, record_dir)` drives any FreeSWITCH (the embedded one or a real one) with
API commands only: each party is a loopback call whose A leg stands for the caller's phone. It
gives each party its own tone (`uuid_broadcast <A> tone_stream://... aleg`: the A leg sends it,
so the B leg, the room member, says it), records what each A leg receives (`uuid_record` with
RECORD_READ_ONLY=true: what the member hears), and reads every tone's level in every recording
(`hearing_matrix`). `Hearing.hears(listener, speaker)` is that level against HEARS_DBFS.

Used by `plivoxml-fs replay --hearing` (plivoxml_fs/replay_hearing.py) and by the tests
(tests/conference/hearing.py); plivoxml_fs.testing re-exports the analysis for users' tests.
No gevent here: `measure` waits with the `sleep` it is given (time.sleep by default, which
gevent's monkey-patching makes cooperative).
"""

from __future__ import annotations

import math
import sys
import time
import wave
from array import array
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import attrs

#: One tone per caller: each an exact Goertzel bin of a 200 ms window at 8 and 16 kHz, apart
#: enough that a window's leakage from one never reaches another's threshold.
TONES_HZ = (500, 800, 1200, 1700, 2300, 2900)
#: Goertzel window, in ms.
WINDOW_MS = 200
#: A tone at or above this level (dBFS, peak amplitude) in some window counts as heard; a
#: FreeSWITCH tone_stream is -10.2 dBFS, what a relate or mute removes comes out below -40.
HEARS_DBFS = -30.0
#: The level reported for digital silence.
SILENT_DBFS = -120.0


def read_wav(path) -> tuple[list[int], int]:
    """The first channel of a 16-bit WAV file and its sample rate."""
    with wave.open(str(path), "rb") as wav:
        channels, rate = wav.getnchannels(), wav.getframerate()
        if wav.getsampwidth() != 2:
            raise ValueError(f"{path}: not 16-bit PCM")
        data = array("h")
        frames = wav.readframes(wav.getnframes())
        data.frombytes(frames[: len(frames) // 2 * 2])
    if sys.byteorder != "little":
        data.byteswap()
    return list(data[::channels]), rate


def goertzel(samples, rate: int, hz: float) -> float:
    """Peak amplitude of the `hz` component of `samples`, as a fraction of full scale."""
    if not samples:
        return 0.0
    coeff = 2 * math.cos(2 * math.pi * hz / rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + coeff * s1 - s2, s1
    power = max(0.0, s1 * s1 + s2 * s2 - coeff * s1 * s2)
    return 2 * math.sqrt(power) / len(samples) / 32768


def dbfs(amplitude: float) -> float:
    """A fraction of full scale in dBFS (SILENT_DBFS for nothing)."""
    return 20 * math.log10(amplitude) if amplitude > 10 ** (SILENT_DBFS / 20) else SILENT_DBFS


def tone_levels(samples, rate: int, freqs, window_ms: int = WINDOW_MS) -> dict[float, float]:
    """Each frequency's loudest level (dBFS) over consecutive windows of `samples`."""
    step = max(1, rate * window_ms // 1000)
    windows = [samples[i : i + step] for i in range(0, max(1, len(samples) - step + 1), step)]
    return {hz: max((dbfs(goertzel(w, rate, hz)) for w in windows), default=SILENT_DBFS)
            for hz in freqs}


class Hearing:
    """Who hears whom: `levels[listener][speaker]` in dBFS, and `hears(listener, speaker)`."""

    def __init__(self, levels: Mapping[str, Mapping[str, float]], threshold: float = HEARS_DBFS,
                 paths: Mapping[str, object] | None = None):
        self.levels = {name: dict(row) for name, row in levels.items()}
        self.threshold = threshold
        self.paths = dict(paths or {})  # listener -> the recording its levels come from

    def level_of(self, listener: str, hz: float) -> float:
        """The loudest level (dBFS) of any frequency `hz` in what `listener` received."""
        samples, rate = read_wav(self.paths[listener])
        return tone_levels(samples, rate, [hz])[hz]

    def hears(self, listener: str, speaker: str) -> bool:
        return self.levels[listener][speaker] >= self.threshold

    def matrix(self) -> dict[str, dict[str, bool]]:
        """listener -> speaker -> heard (a speaker's own tone included: it should be False)."""
        return {a: {b: self.hears(a, b) for b in row} for a, row in self.levels.items()}

    def heard_by(self, listener: str) -> set[str]:
        return {b for b, heard in self.matrix()[listener].items() if heard and b != listener}

    def __str__(self) -> str:
        listeners = list(self.levels)
        speakers = list(next(iter(self.levels.values()), {}))
        width = max([9, *(len(s) for s in speakers)])
        left = max([18, *(len(n) for n in listeners)])
        corner = "listener \\ speaker"
        rows = [f"{corner:>{left}} " + " ".join(f"{s:>{width}}" for s in speakers)]
        for a in listeners:
            rows.append(f"{a:>{left}} " + " ".join(f"{self.levels[a][b]:{width}.1f}"
                                                     for b in speakers))
        return "\n".join(rows)


def hearing_matrix(recordings: Mapping[str, object], tones: Mapping[str, float],
                   threshold: float = HEARS_DBFS) -> Hearing:
    """From each listener's recording of what it received (name -> WAV path) and each speaker's
    tone (name -> Hz), the level of every speaker's tone in every listener's audio."""
    levels = {}
    for listener, path in recordings.items():
        samples, rate = read_wav(path)
        found = tone_levels(samples, rate, list(tones.values()))
        levels[listener] = {speaker: found[hz] for speaker, hz in tones.items()}
    return Hearing(levels, threshold, recordings)


# -- measuring over FreeSWITCH's API --------------------------------------------------------------
#: Media ms each caller's tone lasts. On a real FreeSWITCH 1.10.12 the first member of a room
#: received 2 to 3.2 s of distorted audio (no tested tone above -34 dBFS) instead of the mix
#: during each measurement, clean before and after; the tones outlast that, and a tone counts as
#: heard from its loudest 200 ms window.
TONE_MS = 4000
#: Wall seconds allowed beyond the tone for the playbacks to end and the files to be written
#: (waits on the condition: a quiet machine takes well under one; a loaded CI run on a real
#: FreeSWITCH once took more than 10 for a 4 s tone).
SLACK_S = 30.0


@attrs.frozen
class Party:
    """One caller: a name for the matrix and the uuid of its A leg (the caller's phone)."""

    name: str
    a_leg: str


class MeasureError(AssertionError):
    """FreeSWITCH refused a measuring command, or the measurement did not end in time."""


def _ok(api: Callable[[str], str], command: str, expected: str) -> None:
    reply = api(command)
    if not reply.startswith(expected):
        raise MeasureError(f"{command}: {reply!r}")


def _wait(what: str, ready: Callable[[], bool], timeout_s: float, sleep) -> None:
    deadline = time.monotonic() + timeout_s
    while not ready():
        if time.monotonic() > deadline:
            raise MeasureError(f"timed out waiting for {what}")
        sleep(0.02)


def written(path: Path) -> bool:
    """Whether `path` is a WAV file with at least one frame (FreeSWITCH has written it)."""
    try:
        with wave.open(str(path), "rb") as wav:
            return wav.getnframes() > 0
    except (OSError, EOFError, wave.Error):
        return False


def measure(api: Callable[[str], str], parties: Sequence[Party], record_dir: Path, *,
            tone_ms: int = TONE_MS, time_scale: float = 1.0,
            sleep: Callable[[float], None] = time.sleep,
            extra_tones: Mapping[str, float] | None = None) -> Hearing:
    """Each party plays its own tone (TONES_HZ, in order) while every party's received audio is
    recorded; the levels of every tone in every recording. `extra_tones` (name -> Hz) are read
    too, as columns of the matrix (music a test plays at a known frequency)."""
    if len(parties) > len(TONES_HZ):
        raise ValueError(f"at most {len(TONES_HZ)} parties (one tone each)")
    record_dir = Path(record_dir)
    record_dir.mkdir(parents=True, exist_ok=True)
    tones = {p.name: hz for p, hz in zip(parties, TONES_HZ, strict=False)}
    paths = {p.name: record_dir / f"heard-{_file_part(p.name)}-{p.a_leg}.wav" for p in parties}
    for party in parties:
        _ok(api, f"uuid_setvar {party.a_leg} RECORD_READ_ONLY true", "+OK")
        _ok(api, f"uuid_setvar {party.a_leg} playback_ms", "+OK")  # set again when the tone ends
    for party in parties:
        _ok(api, f"uuid_record {party.a_leg} start {paths[party.name]}", "+OK Success")
    for party in parties:
        tone = f"tone_stream://%({tone_ms},0,{tones[party.name]})"
        _ok(api, f"uuid_broadcast {party.a_leg} {tone} aleg", "+OK Message sent")
    timeout = tone_ms / 1000 * time_scale + SLACK_S
    _wait("the tones to end", lambda: all(
        api(f"uuid_getvar {p.a_leg} playback_ms").strip() not in ("", "_undef_")
        for p in parties), timeout, sleep)
    for party in parties:
        _ok(api, f"uuid_record {party.a_leg} stop {paths[party.name]}", "+OK Success")
    _wait("the recordings to be written", lambda: all(written(p) for p in paths.values()),
          SLACK_S, sleep)
    return hearing_matrix(paths, {**tones, **(extra_tones or {})})


def _file_part(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)


def tone_wav(hz: float, ms: int = 3000, rate: int = 8000, amplitude: float = 0.3) -> bytes:
    """A mono 16-bit WAV file of a sine at `hz`: music at a known frequency, so a matrix can
    tell it apart from the callers' tones (`measure(..., extra_tones=...)`)."""
    import io

    count = rate * ms // 1000
    samples = array("h", (round(amplitude * 32767 * math.sin(2 * math.pi * hz * i / rate))
                          for i in range(count)))
    if sys.byteorder != "little":
        samples.byteswap()
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(samples.tobytes())
    return out.getvalue()
