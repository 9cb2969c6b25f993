"""A signal of known frame scores, to measure mod_conference's energy gate (gate.py) through a
recorded room, and what a recording of it shows (scripts/gate_probe.py; tests/simulator/
test_gate.py and tests/fs/test_gate_real.py; figures from FreeSWITCH 1.10.12 in
tests/simulator/fs-traces/gate-probe.json).

`write_probe(path)` writes the probe WAV (8 kHz; 20 ms frames of a 500 Hz sine, whose mean
absolute sample is the same in every frame whatever the frame's phase, at PROBE's scores).
`recorded_runs(probe, recording)` finds it in a recording (best sample offset) and gives the
runs of probe frames heard in it, `[first frame, [their scores]]`; `predicted_runs(level)`
gives the runs gate.py lets through; `same_runs` compares them allowing for the one-frame
timing slips of a real room. `heard_runs(recording)` gives the scores heard in a recording with
no frame grid at all, for a loaded real FreeSWITCH that moves part of a recording by a frame.
"""

from __future__ import annotations

import math
import wave
from array import array
from pathlib import Path

from plivoxml_fs.simulator.gate import mixed_frames, score

RATE = 8000
FRAME = 160
HZ = 500

Q, L, H = 50, 150, 800  # below level 100; above it by less than 400; above it by 400 or more
#: (score, frames) runs.
PROBE = [
    (0, 25), (Q, 20),                      # quiet: never mixed
    (L, 10), (Q, 60),                      # soft start (4 frames lost), hangover (39 frames)
    (0, 10),
    (L, 3), (Q, 1), (L, 3), (Q, 3), (L, 2), (Q, 50),  # the hangunder count goes down too
    (0, 10),
    (H, 1), (Q, 60),                       # a loud frame starts the talk at once
    (0, 20),
    *[(s, 1) for s in range(80, 131)], (Q, 45),  # a ramp through the level
    (0, 10),
    (H, 1), (Q, 30), (L, 3), (Q, 30),      # the hangover count goes down too
    (0, 50),
]


def probe_scores() -> list[int]:
    return [s for s, n in PROBE for _ in range(n)]


def _amplitude(target: int) -> float:
    unit = [abs(math.sin(2 * math.pi * HZ * n / RATE)) for n in range(FRAME)]
    return target / (sum(unit) / FRAME)


def _frame(target: int) -> list[int]:
    if not target:
        return [0] * FRAME
    amp = _amplitude(target)
    for tweak in range(-20, 21):  # the rounded samples' score exactly `target`
        samples = [round((amp + tweak / 10) * math.sin(2 * math.pi * HZ * n / RATE))
                   for n in range(FRAME)]
        if score(samples) == target:
            return samples
    raise ValueError(target)


def read(path: Path) -> list[int]:
    with wave.open(str(path)) as wav:
        assert wav.getsampwidth() == 2 and wav.getnchannels() == 1, path
        assert wav.getframerate() == RATE, (path, wav.getframerate())
        data = array("h", wav.readframes(wav.getnframes()))
    return list(data)


def write(path: Path, samples: list[int]) -> Path:
    """`samples` as a mono 16-bit WAV at RATE, at `path` (what `read` reads)."""
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(array("h", samples).tobytes())
    return path


def write_probe(path: Path) -> Path:
    """The probe as a WAV at `path`."""
    frames = {s: _frame(s) for s in set(probe_scores())}
    return write(path, [x for s in probe_scores() for x in frames[s]])


def _best_offset(probe: list[int], rec: list[int]) -> int:
    """The sample offset of the probe in the recording: the offset at which the recording's
    frame scores best fit the probe's (prefix sums of |sample|: every offset is cheap)."""
    env_p = [score(probe[i:i + FRAME]) for i in range(0, len(probe), FRAME)]
    sums = [0]
    for x in rec:
        sums.append(sums[-1] + abs(x))

    def fit(offset: int) -> float:
        total = 0.0
        for k, p in enumerate(env_p):
            at = offset + k * FRAME
            inside = at >= 0 and at + FRAME <= len(rec)
            r = (sums[at + FRAME] - sums[at]) // FRAME if inside else 0
            total -= abs(p - r)
        return total

    coarse = max(range(-len(probe), len(rec), FRAME // 4), key=fit)
    return max(range(coarse - FRAME // 4, coarse + FRAME // 4 + 1), key=fit)


def runs(scores: list[int], mixed: list[bool] | None = None, floor: int = 25) -> list[list]:
    """[first frame, [scores...]] for each run of consecutive frames heard (score >= floor;
    `mixed` given: the frames it says are mixed, of score > 0)."""
    out: list[list] = []
    for k, s in enumerate(scores):
        on = (mixed[k] and s > 0) if mixed is not None else s >= floor
        if not on:
            continue
        if out and out[-1][0] + len(out[-1][1]) == k:
            out[-1][1].append(s)
        else:
            out.append([k, [s]])
    return out


def recorded_runs(wav: Path, recording: Path) -> tuple[int, list[list]]:
    """(the probe's offset in the recording, the runs of probe frames heard in it)."""
    probe, rec = read(wav), read(recording)
    offset = _best_offset(probe, rec)
    count = len(probe) // FRAME
    got = []
    for k in range(count):
        at = offset + k * FRAME
        got.append(score(rec[at:at + FRAME]) if at >= 0 and at + FRAME <= len(rec) else 0)
    return offset, runs(got)


#: One period of the probe's 500 Hz sine at 8 kHz: every stretch of this many samples inside a
#: frame has the frame's mean |sample|, whatever its phase (the frames are whole periods).
PERIOD = RATE // HZ


def heard_runs(recording: Path, floor: int = 25) -> list[list]:
    """The probe's scores heard in `recording`, in order, as [score, frames] runs, found without
    a frame grid: the mean |sample| of each PERIOD samples, stretches of one value, silences
    (below `floor`) left out. A loaded FreeSWITCH writes a frame of silence into a room's
    recording when the mixer is late and drops frames when a buffer overflows
    (conference_record.c, conference_loop_input): the recording holds the probe's frames whole
    but parts of it a frame or more away from where the rest sits, so no single offset fits it
    all (`recorded_runs` then scores frames that straddle two, as neither). A period that
    straddles two frames has a value of its own, a stretch too short to round to a frame."""
    rec = read(recording)
    stretches: list[list[int]] = []
    for i in range(0, len(rec) - PERIOD + 1, PERIOD):
        value = sum(abs(x) for x in rec[i:i + PERIOD]) // PERIOD
        if stretches and stretches[-1][0] == value:
            stretches[-1][1] += 1
        else:
            stretches.append([value, 1])
    per_frame = FRAME // PERIOD
    heard = [[value, round(count / per_frame)] for value, count in stretches if value >= floor]
    return [run for run in heard if run[1]]


def predicted_runs(level: int = 100) -> list[list]:
    scores = probe_scores()
    return runs(scores, mixed_frames(scores, level))


def same_runs(got: list[list], want: list[list], slip: int = 1, lost: int = 0) -> bool:
    """The same frames heard: equal scores, run by run, each run starting within `slip` frames
    of the other's. A real room's buffering may delay a member's frames by one from some point
    on, or (on a loaded machine) lose one: runs split by a gap of `slip` frames are joined
    again, and up to `lost` frames in all may be missing from the recorded runs."""
    joined: list[list] = []
    for start, scores in got:
        if joined and start - (joined[-1][0] + len(joined[-1][1])) <= slip:
            joined[-1][1] += scores
        else:
            joined.append([start, list(scores)])
    if len(joined) != len(want):
        return False
    for (start, scores), (w_start, w_scores) in zip(joined, want, strict=True):
        missing = len(w_scores) - len(scores)
        if abs(start - w_start) > slip or missing < 0 or missing > lost:
            return False
        if missing and not _deletions_of(w_scores, scores):
            return False
        if scores != w_scores and not missing:
            return False
        lost -= missing
    return True


def _deletions_of(longer: list[int], shorter: list[int]) -> bool:
    """Whether `shorter` is `longer` less some of its frames."""
    it = iter(longer)
    return all(any(x == y for y in it) for x in shorter)
