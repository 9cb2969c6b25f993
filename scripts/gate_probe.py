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
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from plivoxml_fs.simulator.gate import mixed_frames, score  # noqa: E402
from plivoxml_fs.simulator.gate_probe import (  # noqa: E402
    FRAME,
    predicted_runs,
    probe_scores,
    read,
    recorded_runs,
    same_runs,
    write_probe,
)


def make(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    write_probe(out / "s1.wav")
    (out / "sentences.txt").write_text("gate probe\n")


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
