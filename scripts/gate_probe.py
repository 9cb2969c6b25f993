"""mod_conference's energy gate, probed: a signal of known frame levels through a recorded room.

`make DIR` writes DIR/s1.wav (8 kHz; 20 ms frames of a 500 Hz sine, whose mean absolute
sample is the same in every frame whatever the frame's phase, at the scores of PROBE) and
DIR/sentences.txt, for `scripts/transcription_bench.py --speech DIR --keep STATE` to play into a
recorded <Conference> (embedded, or a real FreeSWITCH with --freeswitch).

`trace WAV RECORDING` finds the probe in the room's recording (best sample offset) and prints,
as JSON, per input frame whether it is in the recording ("1") or not ("0"), and the frames
plivoxml_fs.simulator.gate predicts at energy level 100, and where they differ.

`speech LEVEL WAV...` says, per WAV, how many of its frames (and how much of its energy) the
gate drops at LEVEL, from the start of the file (as a member that has been silent).
"""

from __future__ import annotations

import json
import math
import sys
import wave
from array import array
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from plivoxml_fs.simulator.gate import mixed_frames, score  # noqa: E402

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


def make(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    frames = {s: _frame(s) for s in set(probe_scores())}
    samples = [x for s in probe_scores() for x in frames[s]]
    with wave.open(str(out / "s1.wav"), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(array("h", samples).tobytes())
    (out / "sentences.txt").write_text("gate probe\n")


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
            if at < 0 or at + FRAME > len(rec):
                r = 0
            else:
                r = (sums[at + FRAME] - sums[at]) // FRAME
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
        got.append(score(rec[at:at + FRAME]) if 0 <= at and at + FRAME <= len(rec) else 0)
    return offset, runs(got)


def predicted_runs(level: int = 100) -> list[list]:
    scores = probe_scores()
    return runs(scores, mixed_frames(scores, level))


def same_runs(got: list[list], want: list[list], slip: int = 1) -> bool:
    """The same frames heard: equal scores, run by run, each run starting within `slip` frames
    of the other's (the room's buffering may delay a member's frames by one; a run it splits
    by a frame lost to timing is joined again)."""
    joined: list[list] = []
    for start, scores in got:
        if joined and start - (joined[-1][0] + len(joined[-1][1])) <= slip:
            joined[-1][1] += scores
        else:
            joined.append([start, list(scores)])
    return len(joined) == len(want) and all(
        a[1] == b[1] and abs(a[0] - b[0]) <= slip for a, b in zip(joined, want, strict=True))


def trace(wav: Path, recording: Path, level: int = 100) -> dict:
    offset, got = recorded_runs(wav, recording)
    want = predicted_runs(level)
    return {"offset_samples": offset, "frames": len(probe_scores()),
            "recorded_runs": got, "predicted_runs": want, "same": same_runs(got, want)}


def speech(level: int, paths: list[Path]) -> dict:
    out = {}
    for path in paths:
        samples = read(path)
        frames = [samples[i:i + FRAME] for i in range(0, len(samples) - FRAME + 1, FRAME)]
        scores = [score(f) for f in frames]
        mixed = mixed_frames(scores, level)
        voiced = [s > 0 for s in scores]
        energy = [sum(x * x for x in f) for f in frames]
        lost = sum(e for e, m in zip(energy, mixed, strict=True) if not m)
        out[path.name] = {
            "frames": len(frames), "voiced": sum(voiced),
            "dropped_voiced": sum(1 for v, m in zip(voiced, mixed, strict=True) if v and not m),
            "dropped_energy_pct": round(100 * lost / max(1, sum(energy)), 3),
        }
    return out


def main(argv: list[str]) -> int:
    if argv[:1] == ["make"]:
        make(Path(argv[1]))
    elif argv[:1] == ["trace"]:
        print(json.dumps(trace(Path(argv[1]), Path(argv[2])), indent=1))
    elif argv[:1] == ["speech"]:
        print(json.dumps(speech(int(argv[1]), [Path(p) for p in argv[2:]]), indent=1))
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
