"""The embedded FreeSWITCH's energy gate (plivoxml_fs/simulator/gate.py, mixer.py) against what
FreeSWITCH 1.10.12 did with the same probe (fs-traces/gate-probe.json, measured; the same
case runs on a real one in tests/fs/test_gate_real.py)."""

from __future__ import annotations

from plivoxml_fs.simulator.gate import Gate, mixed_frames
from plivoxml_fs.simulator.gate_probe import predicted_runs, probe_scores, runs, same_runs
from simulator.gate_cases import (
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
