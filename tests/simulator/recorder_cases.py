"""The MPC recorder member (plivoxml_fs/fs/recorder.py), written once, run on the embedded
FreeSWITCH (test_recorder.py) and on a real FreeSWITCH 1.10.12 (tests/fs/test_recorder_real.py).

Callers join a room through the daemon stub (conference_helpers.join: B leg in the room, A leg
the caller's phone). The recorder is originated with the daemon's own command string: its A
leg joins the room muted, its inline B leg answers and parks; `uuid_record` on the A leg
(RECORD_WRITE_ONLY) writes what the room sends it. Every assertion is on audio: each caller
plays its own tone (conference/hearing.py), and the recording's level of each tone is read
with the Goertzel helpers of plivoxml_fs.testing.
"""

from __future__ import annotations

import itertools
import time
import uuid as uuidlib
import wave
from pathlib import Path

import gevent
from conference.hearing import Party, _written, heard, measure
from waiting import until

from plivoxml_fs.fs import arguments, recorder
from plivoxml_fs.testing import TONES_HZ, hearing_matrix, tone_levels
from simulator.conference_helpers import join
from simulator.hearing_cases import FULL_LEVEL

#: Below this a tone counts as absent from a recording (dBFS).
ABSENT_DBFS = -40


class Recorded:
    """Rooms of callers and a recorder, for one FreeSWITCH: `api(cmd) -> reply`."""

    def __init__(self, api, inbound_wire, daemon, record_dir: Path, *, time_scale: float = 1.0,
                 profile: str = "default") -> None:
        self.api, self.inbound, self.daemon = api, inbound_wire, daemon
        self.record_dir, self.time_scale, self.profile = record_dir, time_scale, profile
        self._tags = itertools.count()
        self._run = uuidlib.uuid4().hex[:6]
        self._legs: list[str] = []
        record_dir.mkdir(parents=True, exist_ok=True)

    def room(self, n: int, sets=()):
        """n callers in a new room: (room, [Party], [member leg uuid], [member id]); `sets`:
        channel variables (`name=value`) each caller's leg sets before joining."""
        name = f"rec-{self._run}-{next(self._tags)}"
        parties, members, ids = [], [], []
        for i in range(n):
            member = join(self.inbound, self.daemon, f"{name}-{i}", f"{name}@{self.profile}",
                          sets=sets)
            self._legs.append(member.a_uuid)
            parties.append(Party(f"c{i}", member.a_uuid))
            members.append(member.b_uuid)
            ids.append(self.member_id(name, member.b_uuid))
        return name, parties, members, ids

    def recorder(self, room: str) -> tuple[str, int]:
        """The recorder joined to `room`: (its uuid, its member id)."""
        uuid = f"recorder-{room}"
        reply = self.api(recorder.recorder_originate(room, self.profile, uuid))
        assert reply == f"+OK {uuid}\n", reply
        self._legs.append(uuid)
        return uuid, self.member_id(room, uuid)

    def member_id(self, room: str, uuid: str, timeout_s: float = 10.0) -> int:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for line in self.api(f"conference {room} list").splitlines():
                fields = line.split(";")
                if len(fields) > 5 and fields[2] == uuid:
                    return int(fields[0])
            gevent.sleep(0.02)
        raise AssertionError(f"{uuid} never joined {room}")

    def list_flags(self, room: str, uuid: str) -> str:
        for line in self.api(f"conference {room} list").splitlines():
            fields = line.split(";")
            if len(fields) > 5 and fields[2] == uuid:
                return fields[5]
        raise AssertionError(f"{uuid} is not in {room}")

    def record(self, uuid: str, action: str, path: Path) -> None:
        reply = self.api(recorder.uuid_record(uuid, action, str(path)))
        assert reply == "+OK Success\n", f"uuid_record {action}: {reply!r}"

    def hear(self, parties, tone_ms: int = 4000):
        return measure(self.api, parties, self.record_dir / "heard", tone_ms=tone_ms,
                       time_scale=self.time_scale)

    def play(self, party: Party, hz: int, ms: int) -> None:
        """`party` plays a tone of `ms`; returns once it has played."""
        assert self.api(f"uuid_setvar {party.a_leg} playback_ms").startswith("+OK")
        tone = arguments.tone_stream((ms, 0, hz))
        assert self.api(f"uuid_broadcast {party.a_leg} {tone} aleg").startswith("+OK")
        _until(lambda: self.api(f"uuid_getvar {party.a_leg} playback_ms").strip()
               not in ("", "_undef_"), f"{party.name}'s tone", ms / 1000 * self.time_scale + 10)

    def close(self) -> None:
        for uuid in self._legs:
            self.api(f"uuid_kill {uuid}")


def _until(ready, what: str, timeout_s: float = 10.0):
    return until(what, ready, timeout_s, poll_s=0.02)


def levels_in(path: Path, hzs) -> dict[int, float]:
    """The level (dBFS) of each tone in the recording at `path`."""
    _until(lambda: _written(path), f"{path.name} to be written")
    matrix = hearing_matrix({"file": path}, {str(hz): hz for hz in hzs})
    return {hz: matrix.levels["file"][str(hz)] for hz in hzs}


def seconds_of(path: Path) -> float:
    with wave.open(str(path)) as wav:
        return wav.getnframes() / wav.getframerate()


def _coached_room(rec: Recorded):
    """Customer c0, agent c1, supervisor c2 coaching (c2 -> c0 nospeak), and a recorder."""
    room, parties, members, (m0, _, m2) = rec.room(3)
    assert rec.api(f"conference {room} relate {m2} {m0} nospeak") == f"+OK {m2}->{m0} nospeak set\n"
    uuid, rid = rec.recorder(room)
    return room, parties, members, (m0, m2), (uuid, rid)


def recording_leaves_out_the_supervisor(rec: Recorded) -> None:
    """relate <recorder> <supervisor> nohear: the file holds customer and agent at full level
    and no supervisor; the callers hear each other as before (the recorder is muted, no
    ghost, joined with the flags the daemon sends)."""
    room, parties, _, (_, m2), (uuid, rid) = _coached_room(rec)
    assert rec.list_flags(room, uuid) == "hear"
    assert rec.api(f"conference {room} relate {rid} {m2} nohear") == f"+OK {rid}->{m2} nohear set\n"
    path = rec.record_dir / f"{room}.wav"
    rec.record(uuid, "start", path)
    hearing = rec.hear(parties)
    rec.record(uuid, "stop", path)
    assert heard(hearing) == {"c0": {"c1"}, "c1": {"c0", "c2"}, "c2": {"c0", "c1"}}, str(hearing)
    levels = levels_in(path, TONES_HZ[:3])
    assert all(FULL_LEVEL[0] < levels[hz] < FULL_LEVEL[1] for hz in TONES_HZ[:2]), levels
    assert levels[TONES_HZ[2]] < ABSENT_DBFS, levels


def recording_with_the_supervisor(rec: Recorded) -> None:
    """Without the relate the recorder hears the coaching supervisor like everyone else."""
    room, parties, _, _, (uuid, _) = _coached_room(rec)
    path = rec.record_dir / f"{room}.wav"
    rec.record(uuid, "start", path)
    rec.hear(parties)
    rec.record(uuid, "stop", path)
    levels = levels_in(path, TONES_HZ[:3])
    assert all(FULL_LEVEL[0] < levels[hz] < FULL_LEVEL[1] for hz in TONES_HZ[:3]), levels


def recording_holds_a_lone_member(rec: Recorded) -> None:
    """One caller and the recorder: the caller is in the file at full level (the recorder
    counts as a member, so mod_conference mixes the caller)."""
    room, parties, _, _ = rec.room(1)
    uuid, _ = rec.recorder(room)
    path = rec.record_dir / f"{room}.wav"
    rec.record(uuid, "start", path)
    rec.hear(parties)
    rec.record(uuid, "stop", path)
    level = levels_in(path, TONES_HZ[:1])[TONES_HZ[0]]
    assert FULL_LEVEL[0] < level < FULL_LEVEL[1], level


#: The tones of the pause case: before the pause, during it, after it.
BEFORE_HZ, DURING_HZ, AFTER_HZ = 800, 2300, 1200
#: What is left of the tone played while paused: FreeSWITCH 1.10.12 let one 20 ms frame of it
#: through at a pause edge (-30 dBFS in the loudest 200 ms window, against -10 for a tone).
PAUSED_DBFS = -25


def pause_leaves_out_the_paused_time(rec: Recorded) -> None:
    """uuid_record pause/resume (WAV and MP3 at once): what was said while paused is not in the
    file and its time is not either; the hangup of the recorder ends both files."""
    room, parties, _, _ = rec.room(1)
    uuid, _ = rec.recorder(room)
    wav, mp3 = rec.record_dir / f"{room}.wav", rec.record_dir / f"{room}.mp3"
    for path in (wav, mp3):
        rec.record(uuid, "start", path)
    rec.play(parties[0], BEFORE_HZ, 2000)
    for path in (wav, mp3):
        rec.record(uuid, "pause", path)
    rec.play(parties[0], DURING_HZ, 4000)
    for path in (wav, mp3):
        rec.record(uuid, "resume", path)
    rec.play(parties[0], AFTER_HZ, 2000)
    assert rec.api(recorder.uuid_kill(uuid)).startswith("+OK")
    # The hangup closes both files as the channel goes, after uuid_kill has replied: read them
    # once it is gone (CI read a real FreeSWITCH's MP3 half-written: 2.05 s against 4.08).
    _until(lambda: rec.api(f"uuid_exists {uuid}").strip() == "false", "the recorder to be gone")
    levels = levels_in(wav, (BEFORE_HZ, DURING_HZ, AFTER_HZ))
    assert levels[DURING_HZ] < PAUSED_DBFS, levels
    assert levels[BEFORE_HZ] > -20 and levels[AFTER_HZ] > -20, levels
    seconds = seconds_of(wav)
    assert 3.5 <= seconds < 6.5, seconds  # 4 s recorded (+ the gaps between tones), not 8
    data = mp3.read_bytes()
    assert data[:2] == b"\xff\xe3", data[:4].hex()  # MPEG-2.5 layer III (8 kHz mono)
    mp3_seconds = len(data) / 144 * 576 / 8000
    assert abs(mp3_seconds - seconds) < 0.75, (mp3_seconds, seconds)


def participant_track_is_its_own_voice(rec: Recorded) -> None:
    """uuid_record on a member's own leg with RECORD_READ_ONLY in its recording variables: the
    member's voice only, none of the room."""
    room, parties, members, _ = rec.room(2)
    path = rec.record_dir / f"{room}-track.wav"
    reply = rec.api(recorder.uuid_record(members[0], "start", str(path), read_only=True))
    assert reply == "+OK Success\n", reply
    rec.hear(parties)
    rec.record(members[0], "stop", path)
    levels = levels_in(path, TONES_HZ[:2])
    assert levels[TONES_HZ[0]] > -20, levels
    assert levels[TONES_HZ[1]] < ABSENT_DBFS, levels


#: A tone played to one member only (conference play <file> <id>): no caller plays it.
MEMBER_PLAY_HZ = 2900


def member_plays_are_not_in_the_recording(rec: Recorded) -> None:
    """A file played to one member (how startRecordingAudio is played) reaches that member
    and not the recorder; the member's own voice is recorded as ever."""
    room, parties, _, (m0,) = rec.room(1)
    uuid, _ = rec.recorder(room)
    path = rec.record_dir / f"{room}.wav"
    rec.record(uuid, "start", path)
    tone = arguments.tone_stream((3000, 0, MEMBER_PLAY_HZ))
    assert rec.api(f"conference {room} play {tone} {m0}").startswith("+OK")
    hearing = rec.hear(parties)
    rec.record(uuid, "stop", path)
    assert hearing.level_of("c0", MEMBER_PLAY_HZ) > -20, str(hearing)
    found = levels_in(path, (TONES_HZ[0], MEMBER_PLAY_HZ))
    assert FULL_LEVEL[0] < found[TONES_HZ[0]] < FULL_LEVEL[1], found
    assert found[MEMBER_PLAY_HZ] < ABSENT_DBFS, found


def recorder_hangs_itself_up(rec: Recorded) -> None:
    """The recorder's B leg hangs up by itself after max_s (sched_hangup): its A leg leaves
    the room and is gone, so a recorder the daemon lost never outlives its MPC."""
    room, _, _, _ = rec.room(1)
    uuid = f"recorder-{room}"
    cmd = recorder.recorder_originate(room, rec.profile, uuid, max_s=1)
    assert rec.api(cmd) == f"+OK {uuid}\n"
    rec.member_id(room, uuid)
    _until(lambda: rec.api(f"uuid_exists {uuid}").strip() == "false", "the recorder to hang up",
           10 * max(rec.time_scale, 0.2))
    # gone from the room too: on a loaded real FreeSWITCH `conference list` may still show the
    # member for a moment after uuid_exists says false (the member leaves on the room's thread)
    _until(lambda: all(uuid not in line for line in rec.api(f"conference {room} list")
                       .splitlines()), "the recorder to leave the room", 10 * max(rec.time_scale, 0.2))


CASES = [recording_leaves_out_the_supervisor, recording_with_the_supervisor,
         recording_holds_a_lone_member, pause_leaves_out_the_paused_time,
         participant_track_is_its_own_voice, member_plays_are_not_in_the_recording,
         recorder_hangs_itself_up]


__all__ = ["CASES", "Recorded", "tone_levels"]
