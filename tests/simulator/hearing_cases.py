"""Who-hears-whom cases, written once, run on the embedded FreeSWITCH (test_hearing.py) and on
a real FreeSWITCH 1.10.12 (tests/fs/test_hearing_real.py).

Each caller is a loopback call whose B leg joins the room through the daemon stub (`join`); its
A leg plays the caller's tone and records what it receives (conference/hearing.py). Every case
takes `Rooms` and asserts from the audio, with the conference API's real reply texts.
"""

from __future__ import annotations

import itertools
import time
import uuid
from pathlib import Path

import gevent
from conference.hearing import Party, everyone_but, heard, measure
from conference.loudness import loudness, spoken_ms

from plivoxml_fs.testing import read_wav, tone_levels
from simulator.conference_helpers import join


class Rooms:
    """Rooms of callers joined by the test (no daemon): build(n, flags) and hear(parties)."""

    def __init__(self, api, inbound_wire, daemon, record_dir: Path, *, time_scale: float = 1.0,
                 profile: str = "default") -> None:
        self.api, self.inbound, self.daemon = api, inbound_wire, daemon
        self.record_dir, self.time_scale, self.profile = record_dir, time_scale, profile
        self._tags = itertools.count()
        self._run = uuid.uuid4().hex[:6]
        self._a_legs: list[str] = []

    def build(self, n: int, flags: dict[int, str] | None = None):
        """n callers in one new room (caller i with flags[i]); (room, parties, member ids)."""
        name = f"hear-{self._run}-{next(self._tags)}"
        parties, ids = [], []
        for i in range(n):
            tag = f"{name}-{i}"
            flag = (flags or {}).get(i)
            arg = f"{name}@{self.profile}" + (f"+flags{{{flag}}}" if flag else "")
            member = join(self.inbound, self.daemon, tag, arg)
            self._a_legs.append(member.a_uuid)
            ids.append(self._member_id(name, member.b_uuid))
            parties.append(Party(f"c{i}", member.a_uuid))
        return name, parties, ids

    def close(self) -> None:
        """Hang up every call these rooms made."""
        for a_leg in self._a_legs:
            self.api(f"uuid_kill {a_leg}")

    def _member_id(self, room: str, b_uuid: str, timeout_s: float = 10.0) -> int:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for line in self.api(f"conference {room} list").splitlines():
                fields = line.split(";")
                if len(fields) > 5 and fields[2] == b_uuid:
                    return int(fields[0])
            gevent.sleep(0.02)
        raise AssertionError(f"{b_uuid} never joined {room}")

    def hear(self, parties):
        return measure(self.api, parties, self.record_dir, time_scale=self.time_scale)

    def conference(self, room: str, command: str) -> str:
        return self.api(f"conference {room} {command}")


NAMES = ["c0", "c1", "c2"]
#: A tone_stream tone as FreeSWITCH 1.10.12 mixes it: -10.2 dBFS (its peak, 10184 of 32767).
FULL_LEVEL = (-10.6, -9.8)


def everyone_hears_everyone_but_themselves(rooms: Rooms) -> None:
    """Three callers: each hears the two others' tones at full level and not its own."""
    _, parties, _ = rooms.build(3)
    hearing = rooms.hear(parties)
    assert heard(hearing) == everyone_but(NAMES), str(hearing)
    for listener in NAMES:
        for speaker in NAMES:
            level = hearing.levels[listener][speaker]
            if listener == speaker:
                assert level < -40, str(hearing)
            else:
                assert FULL_LEVEL[0] < level < FULL_LEVEL[1], str(hearing)


def muted_member_is_heard_by_nobody(rooms: Rooms) -> None:
    """A member joined with flags{mute} hears the room; nobody hears it."""
    _, parties, _ = rooms.build(3, {1: "mute"})
    hearing = rooms.hear(parties)
    assert heard(hearing) == everyone_but(NAMES, "c1"), str(hearing)


def deaf_member_hears_nobody(rooms: Rooms) -> None:
    """A member joined with flags{deaf} hears nothing; the others hear it."""
    _, parties, _ = rooms.build(3, {2: "deaf"})
    hearing = rooms.hear(parties)
    assert heard(hearing) == {"c0": {"c1", "c2"}, "c1": {"c0", "c2"}, "c2": set()}, str(hearing)


def relate_nohear(rooms: Rooms) -> None:
    """relate 3 1 nohear: member 3 hears silence at member 1's tone and member 2's at full
    level; 1 and 2 still hear 3."""
    room, parties, (m1, _, m3) = rooms.build(3)
    assert rooms.conference(room, f"relate {m3} {m1} nohear") == f"+OK {m3}->{m1} nohear set\n"
    hearing = rooms.hear(parties)
    assert heard(hearing) == {"c0": {"c1", "c2"}, "c1": {"c0", "c2"}, "c2": {"c1"}}, str(hearing)
    assert hearing.levels["c2"]["c0"] < -40, str(hearing)
    assert FULL_LEVEL[0] < hearing.levels["c2"]["c1"] < FULL_LEVEL[1], str(hearing)


def relate_nospeak_then_clear(rooms: Rooms) -> None:
    """relate 2 3 nospeak: member 3 does not hear member 2, the others do; clear gives the
    room back."""
    room, parties, (_, m2, m3) = rooms.build(3)
    assert rooms.conference(room, f"relate {m2} {m3} nospeak") == f"+OK {m2}->{m3} nospeak set\n"
    hearing = rooms.hear(parties)
    assert heard(hearing) == {"c0": {"c1", "c2"}, "c1": {"c0", "c2"}, "c2": {"c0"}}, str(hearing)
    assert rooms.conference(room, f"relate {m2} {m3} clear") == (
        f"+OK relationship {m2}->{m3} cleared.\n")
    hearing = rooms.hear(parties)
    assert heard(hearing) == everyone_but(NAMES), str(hearing)


def relate_lists_of_members(rooms: Rooms) -> None:
    """relate 1,2 3 nospeak,nohear: one reply line per pair; 3 hears neither, neither hears 3."""
    room, parties, (m1, m2, m3) = rooms.build(3)
    reply = rooms.conference(room, f"relate {m1},{m2} {m3} nospeak,nohear")
    assert reply == f"+OK {m1}->{m3} nospeak,nohear set\n+OK {m2}->{m3} nospeak,nohear set\n"
    assert rooms.conference(room, f"relate {m1}") == f"{m1} -> {m3} NOSPEAK NOHEAR NOSENDVIDEO \n"
    hearing = rooms.hear(parties)
    assert heard(hearing) == {"c0": {"c1"}, "c1": {"c0"}, "c2": set()}, str(hearing)


#: The hold sound of the hold case: a tone no caller plays.
HOLD_HZ = 2900


def held_member_hears_the_hold_sound(rooms: Rooms) -> None:
    """hold <id> <file>: the held member hears the file alone (at full level) and nobody hears
    the member; unhold gives the room back."""
    room, parties, (_, _, m3) = rooms.build(3)
    hold_sound = f"tone_stream://%(60000,0,{HOLD_HZ})"
    assert rooms.conference(room, f"hold {m3} {hold_sound}") == f"+OK hold {m3}\n"
    hearing = rooms.hear(parties)
    assert heard(hearing) == {"c0": {"c1"}, "c1": {"c0"}, "c2": set()}, str(hearing)
    assert FULL_LEVEL[0] < hearing.level_of("c2", HOLD_HZ) < FULL_LEVEL[1], str(hearing)
    assert hearing.level_of("c0", HOLD_HZ) < -40
    assert rooms.conference(room, f"unhold {m3}") == f"+OK unhold {m3}\n"
    hearing = rooms.hear(parties)
    assert heard(hearing) == everyone_but(NAMES), str(hearing)


def hold_without_a_file(rooms: Rooms) -> None:
    """hold <id> alone: the held member still hears the room; nobody hears it."""
    room, parties, (_, _, m3) = rooms.build(3)
    assert rooms.conference(room, f"hold {m3}") == f"+OK hold {m3}\n"
    hearing = rooms.hear(parties)
    assert heard(hearing) == everyone_but(NAMES, "c2"), str(hearing)


def files_to_the_room_and_to_a_deaf_member(rooms: Rooms) -> None:
    """A file played to the room reaches every member that hears; a file played to a deaf
    member reaches it all the same, and only it."""
    room, parties, (_, _, m3) = rooms.build(3, {2: "deaf"})
    to_room, to_member = "tone_stream://%(60000,0,2300)", "tone_stream://%(60000,0,2900)"
    assert rooms.conference(room, f"play {to_room} async") == f"+OK (play) Playing file {to_room}\n"
    assert rooms.conference(room, f"play {to_member} {m3}") == (
        f"+OK (play) Playing file {to_member} to member {m3}\n")
    hearing = rooms.hear(parties)
    levels = {name: (hearing.level_of(name, 2300), hearing.level_of(name, 2900)) for name in NAMES}
    assert heard(hearing) == {"c0": {"c1", "c2"}, "c1": {"c0", "c2"}, "c2": set()}, str(hearing)
    assert all(FULL_LEVEL[0] < levels[n][0] < FULL_LEVEL[1] for n in ("c0", "c1")), levels
    assert levels["c2"][0] < -40 and FULL_LEVEL[0] < levels["c2"][1] < FULL_LEVEL[1], levels
    assert levels["c0"][1] < -40 and levels["c1"][1] < -40, levels
    rooms.conference(room, "stop all")
    rooms.conference(room, f"stop all {m3}")


def muted_then_unmuted_through_the_api(rooms: Rooms) -> None:
    """conference mute <id>: nobody hears the member; unmute: everybody does again."""
    room, parties, (m1, _, _) = rooms.build(3)
    assert rooms.conference(room, f"mute {m1}") == f"+OK mute {m1}\n"
    assert heard(rooms.hear(parties)) == everyone_but(NAMES, "c0")
    assert rooms.conference(room, f"unmute {m1}") == f"+OK unmute {m1}\n"
    assert heard(rooms.hear(parties)) == everyone_but(NAMES)


def room_recording_holds_the_mix(rooms: Rooms) -> None:
    """`recording start`: the file holds every member that speaks, whatever `relate` says (the
    recorder is no member it can name); a muted member is not in it."""
    room, parties, (m1, _, m3) = rooms.build(3, {1: "mute"})
    assert rooms.conference(room, f"relate {m1} {m3} nospeak") == f"+OK {m1}->{m3} nospeak set\n"
    path = rooms.record_dir / f"{room}.wav"
    rooms.record_dir.mkdir(parents=True, exist_ok=True)
    assert rooms.conference(room, f"recording start {path}") == f"+OK Record file {path}\n"
    hearing = rooms.hear(parties)
    assert heard(hearing)["c2"] == set(), str(hearing)  # c0 nospeak to c2, c1 muted
    assert rooms.conference(room, f"recording stop {path}") == (
        f"Stopped recording file {path}\n+OK Stopped recording 0 files\n")
    levels = _settled_levels(path, [500, 800, 1200])
    assert levels[500] > -10.6 and levels[1200] > -10.6, levels  # c0 and c2
    assert levels[800] < -40, levels  # c1 is muted


def _settled_levels(path: Path, freqs) -> dict:
    """Tone levels of a room recording once FreeSWITCH has finished writing it."""
    sizes = []

    def settled() -> bool:
        try:
            size = path.stat().st_size
        except OSError:
            return False
        sizes.append(size)
        return len(sizes) > 2 and sizes[-1] == sizes[-2] == sizes[-3] and size > 44

    deadline = time.monotonic() + 10
    while not settled():
        assert time.monotonic() < deadline, f"{path} never finished"
        gevent.sleep(0.1)
    samples, rate = read_wav(path)
    return tone_levels(samples, rate, freqs)


#: What the speech case says: about 2 s of speech (mod_flite at ~70 ms a character), within
#: the 4 s a measurement records.
SAID = "please hold the line, thanks"


def member_say_speaks_before_the_queued_file(rooms: Rooms) -> None:
    """play 'say:#kal#<text>' <id> (quoted: the text has spaces) speaks to the member at speech
    level; a file played to it after waits until the speech ends (member plays queue), and
    `{play_id=...}` before `say:` is not found (say: is read only at the start)."""
    room, parties, (m1,) = rooms.build(1)
    said = f"'say:#kal#{SAID}'"
    assert rooms.conference(room, f"play {said} {m1}") == (
        f"+OK (play) Playing file say:#kal#{SAID} to member {m1}\n")
    tone = f"tone_stream://%(60000,0,{HOLD_HZ})"
    assert rooms.conference(room, f"play {tone} {m1}").startswith("+OK (play)")
    assert rooms.conference(room, f"play '{{play_id=x}}say:#kal#hi there' {m1}") == (
        "-ERR (play) File: {play_id=x}say:#kal#hi there not found.\n")
    hearing = rooms.hear(parties)
    path = hearing.paths["c0"]
    assert spoken_ms(path) >= 1000, loudness(path)
    samples, rate = read_wav(path)
    second = rate  # the tone is not heard in the first second (the speech is)
    assert tone_levels(samples[:second], rate, [HOLD_HZ])[HOLD_HZ] < -40, loudness(path)
    assert FULL_LEVEL[0] < tone_levels(samples, rate, [HOLD_HZ])[HOLD_HZ] < FULL_LEVEL[1]
    rooms.conference(room, f"stop all {m1}")


CASES = [
    everyone_hears_everyone_but_themselves,
    muted_member_is_heard_by_nobody,
    deaf_member_hears_nobody,
    relate_nohear,
    relate_nospeak_then_clear,
    relate_lists_of_members,
    held_member_hears_the_hold_sound,
    muted_then_unmuted_through_the_api,
    room_recording_holds_the_mix,
    hold_without_a_file,
    files_to_the_room_and_to_a_deaf_member,
    member_say_speaks_before_the_queued_file,
]
