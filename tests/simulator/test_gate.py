"""The embedded FreeSWITCH's energy gate (plivoxml_fs/simulator/gate.py, mixer.py) against what
FreeSWITCH 1.10.12 did with the same probe (fs-traces/gate-probe.json, measured; the same
case runs on a real one in tests/fs/test_gate_real.py)."""

from __future__ import annotations

import pytest

from plivoxml_fs.simulator.gate import Gate, mixed_frames
from plivoxml_fs.simulator.gate_probe import (
    FRAME,
    heard_runs,
    predicted_runs,
    probe_scores,
    read,
    runs,
    same_runs,
    write,
    write_probe,
)
from simulator.gate_cases import (
    _held_to,
    energy_api_zero_mixes_everything,
    join_energy_level_zero_mixes_everything,
    measured,
    probe_is_gated,
)


def test_the_model_lets_through_what_freeswitch_did():
    """gate.py on the probe's scores: the frames the real recordings held (run 2 exactly; run 1
    less one frame lost to timing, one frame late after it)."""
    first, second = measured()
    want = runs(probe_scores(), mixed_frames(probe_scores(), 100))
    assert want == predicted_runs(100)
    assert second == want
    assert not same_runs(first, want) and same_runs(first, want, lost=1)


def test_soft_and_loud_starts_and_the_hangover():
    """The measured figures in words: a soft start (101-499) loses 4 frames, a loud one (>= 500)
    none; 39 frames after the talk are mixed; passing and failing frames count net."""
    assert mixed_frames([150] * 6, 100) == [False] * 4 + [True] * 2
    assert mixed_frames([500], 100) == [True] and mixed_frames([499], 100) == [False]
    assert mixed_frames([101] * 5, 100)[-1] and not any(mixed_frames([100] * 50, 100))
    after = mixed_frames([800] + [50] * 45, 100)
    assert after[:40] == [True] * 40 and not any(after[40:])
    # 3 passing, 1 failing (count 2), 3 passing: the talk starts on the 7th frame
    assert mixed_frames([150, 150, 150, 50, 150, 150, 150], 100).index(True) == 6
    assert mixed_frames([0, 5, 0], 0) == [True] * 3  # level 0: everything
    gate = Gate()
    assert gate.frame(900, 100) and not gate.frame(900, 100, speaks=False)  # mute ends the talk
    assert not gate.talking


def test_the_embedded_room_gates_as_freeswitch_did(rec):
    """Room recording and recorder member: exactly the frames 1.10.12 let through."""
    probe_is_gated(rec)


def test_a_member_joined_at_level_zero_is_not_gated(rec):
    join_energy_level_zero_mixes_everything(rec)


def test_the_energy_api_opens_the_gate(rec):
    energy_api_zero_mixes_everything(rec)


def _gated(probe, level=100):
    """The probe as a room records it at `level`: the mixed frames, and FreeSWITCH's silence
    (samples of -1) for the rest."""
    silence = [-1] * FRAME
    return [x for k, mixed in enumerate(mixed_frames(probe_scores(), level))
            for x in (probe[k * FRAME:(k + 1) * FRAME] if mixed else silence)]


def test_a_recording_moved_by_a_frame_midway_is_read_without_a_grid(tmp_path):
    """What a loaded real FreeSWITCH wrote in CI: the probe 24 samples into a frame, one frame
    dropped, one replaced by FreeSWITCH's silence and one silent frame written between two
    parts. (There the best single offset of recorded_runs was 24 samples off everywhere, so
    every run's first and last frame straddled two and scored as neither.) heard_runs needs no
    frame grid: it finds the gated frames, less the two lost."""
    probe = read(write_probe(tmp_path / "probe.wav"))
    gated = _gated(probe)
    silence = [-1] * FRAME

    def frame(k):
        return gated[k * FRAME:(k + 1) * FRAME]

    kept = [frame(k) for k in range(len(gated) // FRAME)]
    kept[320] = silence  # in the ramp: 122 replaced
    kept[376:376] = [silence]  # written between the ramp's hangover and the last loud frame
    del kept[60]  # a 50 of the first hangover dropped
    samples = [-1] * 24 + [x for f in kept for x in f]
    path = write(tmp_path / "moved.wav", samples)
    want = predicted_runs(100)
    predicted = [score for _, scores in want for score in scores]
    heard = [score for score, frames in heard_runs(path) for _ in range(frames)]
    assert len(heard) == len(predicted) - 2 and heard.count(50) == predicted.count(50) - 1
    assert [s for s in heard if s != 50] == [s for s in predicted if s not in (50, 122)]
    _held_to(path.name, heard_runs(path), want)


def test_an_ungated_recording_is_not_held_to_the_gated_frames(tmp_path):
    """The real cases can fail: every probe frame recorded (no gate) is more than the gate
    lets through, and a recording of half the gated frames is too few."""
    probe = read(write_probe(tmp_path / "probe.wav"))
    want = predicted_runs(100)
    ungated = write(tmp_path / "ungated.wav", _gated(probe, level=0))
    with pytest.raises(AssertionError, match="frames the gate drops"):
        _held_to("ungated.wav", heard_runs(ungated), want)
    gated = _gated(probe)
    half = write(tmp_path / "half.wav", gated[:len(gated) // 2])
    with pytest.raises(AssertionError):
        _held_to("half.wav", heard_runs(half), want)
    _held_to("gated.wav", heard_runs(write(tmp_path / "gated.wav", gated)), want)
