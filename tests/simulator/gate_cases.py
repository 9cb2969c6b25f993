"""mod_conference's energy gate, from audio: written once, run on the embedded FreeSWITCH
(test_gate.py) and on a real FreeSWITCH 1.10.12 (tests/fs/test_gate_real.py).

A caller plays the probe of plivoxml_fs/simulator/gate_probe.py (20 ms frames of known
scores: quiet frames, soft and loud starts, a ramp through the level, hangover) into a room of
the `default` profile (energy-level 100) with the room's own recording (`conference <room>
recording start`) and the MPC recorder member's (`uuid_record` on its leg) running; both files
must hold exactly the probe frames FreeSWITCH 1.10.12 let through when measured
(fs-traces/gate-probe.json), which are those plivoxml_fs/simulator/gate.py predicts; with the
caller at energy level 0 (conference_join_energy_level, or the `energy` API), every frame. On
a real FreeSWITCH, where load loses frames, each file is held to those frames in order with
some missing (`_held_to`).
"""

from __future__ import annotations

import json
from pathlib import Path

from conference.hearing import _written

from plivoxml_fs.simulator.gate_probe import (
    FRAME,
    RATE,
    heard_runs,
    predicted_runs,
    probe_scores,
    recorded_runs,
    same_runs,
    write_probe,
)
from simulator.recorder_cases import Recorded, _until

FIGURES = Path(__file__).parent / "fs-traces" / "gate-probe.json"
#: Frames a loaded real FreeSWITCH may lose to timing in the whole probe (one of two runs lost
#: one, gate-probe.json); the embedded one loses none.
REAL_LOST_FRAMES = 2


def measured() -> list[list[list]]:
    """The runs of probe frames each measured recording held."""
    return [run["recorded_runs"] for run in json.loads(FIGURES.read_text())["runs"]]


def probe_is_gated(rec: Recorded, lost: int = 0) -> None:
    """Energy level 100 (the profile's): the frames 1.10.12 let through."""
    _probe(rec, 100, (), lost)


def join_energy_level_zero_mixes_everything(rec: Recorded, lost: int = 0) -> None:
    """`conference_join_energy_level=0` on the caller's leg (what the daemon sets in a
    transcribed room): no gate, every frame of the probe is in both recordings."""
    _probe(rec, 0, ("conference_join_energy_level=0",), lost)


def energy_api_zero_mixes_everything(rec: Recorded, lost: int = 0) -> None:
    """`conference <room> energy <id> 0` before the caller plays: no gate from then on."""
    _probe(rec, 0, (), lost, api_level=0)


def _probe(rec: Recorded, level: int, sets, lost: int, api_level: int | None = None) -> None:
    room, parties, members, (member_id,) = rec.room(1, sets=sets)
    if api_level is not None:
        reply = rec.api(f"conference {room} energy {member_id} {api_level}")
        assert reply == f"Energy {member_id} = {api_level}\n", reply
    listed = [line.split(";") for line in rec.api(f"conference {room} list").splitlines()]
    assert [f[8] for f in listed if len(f) > 8 and f[2] == members[0]] == [str(level)], listed
    uuid, _ = rec.recorder(room)
    probe = write_probe(rec.record_dir / "gate-probe-in.wav")
    member_file = rec.record_dir / f"{room}-recorder.wav"
    room_file = rec.record_dir / f"{room}-room.wav"
    rec.record(uuid, "start", member_file)
    reply = rec.api(f"conference {room} recording start {room_file}")
    assert reply == f"+OK Record file {room_file}\n", reply
    ms = len(probe_scores()) * FRAME * 1000 // RATE
    a_leg = parties[0].a_leg
    assert rec.api(f"uuid_setvar {a_leg} playback_ms").startswith("+OK")
    assert rec.api(f"uuid_broadcast {a_leg} {probe} aleg").startswith("+OK")
    _until(lambda: rec.api(f"uuid_getvar {a_leg} playback_ms").strip() not in ("", "_undef_"),
           "the probe to be played", ms / 1000 * rec.time_scale + 15)
    rec.record(uuid, "stop", member_file)
    assert f"Stopped recording file {room_file}" in rec.api(f"conference {room} recording stop {room_file}")
    want = predicted_runs(level)
    for path in (room_file, member_file):
        _until(lambda path=path: _written(path), f"{path.name} to be written")
        if lost:
            _held_to(path.name, heard_runs(path), want)
            continue
        _, got = recorded_runs(probe, path)
        assert same_runs(got, want), (path.name, got)


#: The share of the frames gate.py lets through that a loaded real FreeSWITCH must record.
REAL_HEARD_SHARE = 0.8


def _held_to(name: str, got: list[list], want: list[list]) -> None:
    """A real FreeSWITCH's recording (`heard_runs`: [score, frames]) against gate.py's frames,
    where load may lose frames and move the rest: its frames are the predicted ones in order
    with some missing (a subsequence: none invented, none the gate drops), at least
    REAL_HEARD_SHARE of them. CI's three workers and three FreeSWITCHes on two cores lost runs
    of 24 frames, and moved parts of a recording by a frame (a recording with a silent frame
    written in the middle: no frame grid fits both halves, so the scores come from heard_runs,
    which needs none; the exact runs held on a quiet machine, gate-probe.json); the gate at
    100 keeps 240 of the probe's 373 frames, so the share still tells gated from not."""
    heard = [score for score, frames in got for _ in range(frames)]
    predicted = [score for _, scores in want for score in scores]
    rest = iter(predicted)
    assert all(score in rest for score in heard), (name, "frames the gate drops", got)
    assert len(heard) >= REAL_HEARD_SHARE * len(predicted), (name, len(heard), len(predicted), got)
