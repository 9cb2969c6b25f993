"""The same conference scenario against a real FreeSWITCH 1.10.12 and the embedded one.

Marker `freeswitch`, skipped with the reason when no FreeSWITCH answers on 127.0.0.1:8021 or
8084 is taken (see test_differential.py). Member ids and uuids differ between the two, so they
are replaced by labels (M1, M2; A, B) before comparing: every api reply, the conference events
each command caused (Action and member), the events each member's socket received, and the
header names of every kind of event seen.
"""

from __future__ import annotations

import itertools
import re
import wave
from pathlib import Path

import gevent
import pytest

from plivoxml_fs.simulator.conference import Profile
from simulator.conference_helpers import MAINTENANCE, api, inbound, join, names_of, wait_alone
from simulator.helpers import complete
from simulator.test_differential import REAL_ESL, on_both

FRAME_MS = 20
#: Wall seconds between steps: enough for a 200 ms tone on the real FreeSWITCH.
STEP_S = 0.4
COMMANDS = [
    "list", "count", "mute {B}", "unmute {B}", "tmute {B}", "tmute {B}", "deaf {A}",
    "undeaf {A}", "hold {B}", "unhold {B}", "relate {A} {B} nospeak", "relate {A} {B} clear",
    "relate {A} 999999 nohear", "relate {A} {B}", "floor {B}", "floor {A}", "floor {B}",
    "dtmf {B} 12", "play tone_stream://%(200,0,500) async", "play tone_stream://%(200,0,700) {A}",
    "play /nonexistent/file.wav", "play silence_stream://60000", "play silence_stream://60000",
    "play silence_stream://60000 async", "stop current", "stop async", "stop all", "stop all",
    "get-uuid {B}", "lock", "unlock", "get count", "get max_members",
    "energy {A} 300", "energy {A}", "volume_in {A} 2", "volume_out {A} -1", "recording check",
    "mute 999999", "bogus", "kick {B}",
]


def _drain(wire) -> None:
    while not wire.quiet(0.05):
        pass


def _scenario(address, daemon, tag: str):
    inb = inbound(address, f"DTMF CUSTOM {MAINTENANCE}")
    room = f"room-{tag}"
    a = join(inb, daemon, f"{tag}a", f"{room}@default+flags{{moderator}}",
             sets=["conference_controls=none"])
    wait_alone(inb)  # 440 ms after the join on both (the leadin), before the next one
    gevent.sleep(STEP_S)
    b = join(inb, daemon, f"{tag}b", f"{room}@default+flags{{mute}}",
             sets=["conference_enter_sound=tone_stream://%(100,0,900)"])
    gevent.sleep(STEP_S * 2)
    _drain(inb)
    ids = {}
    for _, message in inb.received:
        if message.is_event and message.event().get("Action") == "add-member":
            ids[message.event()["Unique-ID"]] = message.event()["Member-ID"]
    labels = {ids[a.b_uuid]: "M1", ids[b.b_uuid]: "M2"}
    uuids = {a.b_uuid: "B1", b.b_uuid: "B2", a.a_uuid: "A1", b.a_uuid: "A2"}

    def norm(text: str, members: bool = True) -> str:
        for uuid, label in uuids.items():
            text = text.replace(uuid, label)
        text = text.replace(room, "ROOM")
        if members:
            for member_id, label in labels.items():
                # not the last field of a `list` line: that is the member's energy level
                # (100), which a real FreeSWITCH that has seated 99 members before gives an id
                text = re.sub(rf"(?<![\w.%-]){member_id}(?![\w.%])(?!\n)|"
                              rf"(?<![\w.%;-]){member_id}(?=\n)", label, text)
        return text

    def events_since(start: int) -> list[str]:
        out = []
        for _, message in inb.received[start:]:
            if not message.is_event:
                continue
            event = message.event()
            if event.name == "DTMF":
                out.append(f"DTMF {norm(event.unique_id)} {event['DTMF-Digit']}")
            else:
                who = labels.get(event.get("Member-ID") or "", "")
                out.append(f"{event['Action']} {who}".strip())
        return out

    steps = [("joined", "", events_since(0))]
    for command in COMMANDS:
        line = command.format(A=ids[a.b_uuid], B=ids[b.b_uuid])
        start = len(inb.received)
        reply = api(inb, f"conference {room} {line}")
        gevent.sleep(STEP_S)
        _drain(inb)
        members = not command.endswith(("count", "max_members"))
        steps.append((norm(command.format(A="M1", B="M2")), norm(reply, members),
                      events_since(start)))
    b.wire.until(complete(f"conf-{tag}b"), timeout=5)
    start = len(inb.received)
    steps.append(("kick all", norm(api(inb, f"conference {room} kick all")), []))
    a.wire.until(complete(f"conf-{tag}a"), timeout=5)
    gevent.sleep(STEP_S)
    _drain(inb)
    steps[-1] = (*steps[-1][:2], events_since(start))
    steps.append(("gone", norm(api(inb, f"conference {room} list")), []))
    sockets = []
    for member in (a, b):
        _drain(member.wire)
        sockets.append([f"{m.event()['Action']} {labels.get(m.event().get('Member-ID'), '')}"
                        .strip() for _, m in member.wire.received
                        if m.is_event and m.event().subclass == MAINTENANCE])
    headers = {}
    for raw, message in inb.received:
        if message.is_event and message.event().subclass == MAINTENANCE:
            action = message.event()["Action"]
            headers.setdefault(action, names_of(raw.decode().split("\n\n", 1)[1]))
    for wire in (a.wire, b.wire, inb):
        wire.close()
    return steps, sockets, headers


class _Steps:
    """A scenario as named steps, each with the events it caused on the inbound wire (members
    labelled M1, M2, ... by their add-member; channels A-/B-<key>)."""

    def __init__(self, inb, daemon, tag: str, room: str) -> None:
        self.inb, self.daemon, self.tag, self.room = inb, daemon, tag, room
        self.labels: dict[str, str] = {}
        self.uuids: dict[str, str] = {}
        self.members: dict = {}
        self.steps: list = []

    def events_since(self, start: int) -> list[str]:
        out = []
        for _, message in self.inb.received[start:]:
            if not message.is_event:
                continue
            event = message.event()
            who = self.uuids.get(event.unique_id, "?")
            # only this scenario's: a real FreeSWITCH may still be ending an earlier test's
            # room and channels (their del-member, conference-destroy, hangups) meanwhile
            if event.name == "CUSTOM" and event.get("Conference-Name") != self.room:
                continue
            if event.name != "CUSTOM" and who == "?":
                continue
            if event.name == "DTMF":
                out.append(f"DTMF {who} {event['DTMF-Digit']}")
            elif event.name == "CHANNEL_HANGUP":
                out.append(f"HANGUP {who}")
            elif event.name == "CHANNEL_EXECUTE_COMPLETE":
                if event.get("Application") == "conference":
                    out.append(f"COMPLETE {who}")
            else:
                if event.get("Action") == "add-member":
                    self.labels[event["Member-ID"]] = f"M{len(self.labels) + 1}"
                member = self.labels.get(event.get("Member-ID") or "", "")
                played = event.get("File") or ""
                out.append(f"{event['Action']} {member} {played}".strip())
        return out

    def step(self, name: str, action) -> None:
        start = len(self.inb.received)
        action()
        gevent.sleep(STEP_S * 2)
        _drain(self.inb)
        self.steps.append((name, _digits_by_channel(self.events_since(start))))

    def joiner(self, key: str, flags: str, sets: list[str]):
        def run() -> None:
            member = join(self.inb, self.daemon, f"{self.tag}{key}",
                          f"{self.room}@default+flags{{{flags}}}",
                          sets=["conference_controls=none", "conference_max_members=3", *sets])
            self.members[key] = member
            self.uuids[member.a_uuid], self.uuids[member.b_uuid] = f"A-{key}", f"B-{key}"

        return run

    def close(self) -> None:
        for member in self.members.values():
            self.inb.send(f"api uuid_kill {member.a_uuid}")
            member.wire.close()


def _flags_scenario(address, daemon, tag: str):
    """wait-mod with hold music, enter/exit sounds, a full room, dist-dtmf relaying, digits of a
    member without it, a kick, then the endconf moderator hanging up while the first member has
    hangup_after_conference=false and the second would be hung up."""
    inb = inbound(address, f"DTMF CHANNEL_HANGUP CHANNEL_EXECUTE_COMPLETE CUSTOM {MAINTENANCE}")
    room = f"room-{tag}"
    run = _Steps(inb, daemon, tag, room)
    members = run.members
    run.step("join waiter", run.joiner("w", "wait-mod", ["hangup_after_conference=false"]))
    run.step("join relay", run.joiner("r", "dist-dtmf", [
        "conference_enter_sound=tone_stream://%(100,0,900)",
        "conference_exit_sound=tone_stream://%(100,0,300)"]))
    run.step("join moderator", run.joiner("m", "moderator|endconf", [
        "conference_exit_sound=tone_stream://%(100,0,200)"]))
    run.step("join refused", run.joiner("x", "", []))
    run.step("relayed digits", lambda: api(inb, f"uuid_send_dtmf {members['r'].a_uuid} 12"))
    run.step("own digits", lambda: api(inb, f"uuid_send_dtmf {members['w'].a_uuid} 3"))
    run.step("kick relay", lambda: api(inb, f"conference {room} kick {_id(run.labels, 'M2')}"))
    run.step("moderator hangs up", lambda: api(inb, f"uuid_kill {members['m'].a_uuid}"))
    still_up = api(inb, f"uuid_exists {members['w'].b_uuid}")
    api(inb, f"uuid_kill {members['w'].a_uuid}")
    api(inb, f"uuid_kill {members['x'].a_uuid}")
    for member in members.values():
        member.wire.close()
    inb.close()
    return run.steps, still_up


def _moderator_leaves_scenario(address, daemon, tag: str):
    """Two wait-mod members (hold music), a moderator joins (music stops) and hangs up: no music
    plays to the two (1.10.12 keeps CFLAG_WAIT_MOD cleared); kicking them shows whether any
    did (a play-file-done of the music), then one alone hears the alone-sound."""
    # conference::maintenance only: a channel's CHANNEL_EXECUTE_COMPLETE comes before or
    # after the room's floor-change as FreeSWITCH's threads go
    inb = inbound(address, f"CUSTOM {MAINTENANCE}")
    room = f"room-{tag}"
    run = _Steps(inb, daemon, tag, room)
    run.step("join first waiter", run.joiner("w", "wait-mod", []))
    run.step("join second waiter", run.joiner("v", "wait-mod", []))
    run.step("join moderator", run.joiner("m", "moderator", []))
    run.step("moderator hangs up", lambda: api(inb, f"uuid_kill {run.members['m'].a_uuid}"))
    wait_mod = api(inb, f"conference {room} json_list").split('"wait_mod":')[1].split(",")[0]
    run.step("kick one", lambda: api(inb, f"conference {room} kick {_id(run.labels, 'M1')}"))
    run.close()
    inb.close()
    return run.steps, wait_mod.strip()


def _digits_by_channel(events: list[str]) -> list[str]:
    """Each run of DTMF events grouped by channel, each channel's digits in order: a digit
    relayed to several members reaches each caller's leg in that leg's own thread, so the
    legs' events interleave as the threads run (on 1.10.12, A-m before A-w or after)."""
    out: list[str] = []
    for is_dtmf, run in itertools.groupby(events, key=lambda e: e.startswith("DTMF ")):
        items = list(run)
        out += sorted(items, key=lambda e: e.split()[1]) if is_dtmf else items
    return out


def _talk_scenario(address, daemon, tag: str, tone: str):
    """A tone broadcast on a member's A leg: that member talks and takes the floor; the event
    sequence and the header names of start-talking/stop-talking."""
    inb = inbound(address, f"CUSTOM {MAINTENANCE}")
    room = f"room-{tag}"
    first = join(inb, daemon, f"{tag}1", room)
    gevent.sleep(STEP_S)
    second = join(inb, daemon, f"{tag}2", room)
    gevent.sleep(STEP_S)
    _drain(inb)
    start = len(inb.received)
    reply = api(inb, f"uuid_broadcast {second.a_uuid} {tone} aleg")
    gevent.sleep(2.5)
    _drain(inb)
    seen, headers, talked = [], {}, []
    for raw, message in inb.received[start:]:
        if message.is_event:
            event = message.event()
            who = {first.b_uuid: "M1", second.b_uuid: "M2"}.get(event.unique_id, "")
            seen.append(f"{event['Action']} {who} {event.get('Talking') or ''}".strip())
            if event.get("talking-duration-ms"):
                talked.append(int(event["talking-duration-ms"]))
            headers.setdefault(event["Action"], names_of(raw.decode().split("\n\n", 1)[1]))
    api(inb, f"conference {room} kick all")
    for wire in (first.wire, second.wire, inb):
        wire.close()
    return reply, seen, headers, talked


def _record_scenario(address, daemon, tag: str, folder: Path):
    """Record a narrowband and a wideband room with a pause; replies, events, header names and
    for each file: (channels, sample width, rate, whether its length is Milliseconds-Elapsed)."""
    inb = inbound(address, f"CUSTOM {MAINTENANCE}")
    rooms = {"nb": f"room-{tag}", "wb": f"roomw-{tag}"}
    members = [join(inb, daemon, f"{tag}n", f"{rooms['nb']}@default"),
               join(inb, daemon, f"{tag}w", f"{rooms['wb']}@wideband")]
    wait_alone(inb)  # each room's first member brings the alone-sound's done
    wait_alone(inb)
    gevent.sleep(STEP_S)
    _drain(inb)
    start = len(inb.received)
    replies = []
    for key, room in rooms.items():
        path = folder / f"{key}.wav"
        replies.append(api(inb, f"conference {room} recording start {path}"))
    gevent.sleep(STEP_S)
    nb = f"conference {rooms['nb']} recording"
    for command in (f"{nb} check", f"{nb} pause {folder / 'nb.wav'}"):
        replies.append(api(inb, command))
    gevent.sleep(STEP_S)
    replies.append(api(inb, f"{nb} resume {folder / 'nb.wav'}"))
    gevent.sleep(STEP_S)
    for room in rooms.values():
        replies.append(api(inb, f"conference {room} recording stop all"))
    gevent.sleep(STEP_S)
    (folder / "blocker").write_text("a file, not a folder")
    replies.append(api(inb, f"{nb} start {folder / 'blocker' / 'x.wav'}"))
    gevent.sleep(STEP_S)
    _drain(inb)
    # per room: each room's recording runs in its own thread on a real FreeSWITCH, so the two
    # rooms' events interleave either way (seen both ways); within a room the order holds
    seen: dict[str, list[str]] = {}
    headers, files = {}, {}
    for raw, message in inb.received[start:]:
        if message.is_event:
            event = message.event()
            room = event["Conference-Name"].split("-")[0]
            seen.setdefault(room, []).append(
                f"{event['Action']} {room} {event.get('Error') or ''}".strip())
            headers.setdefault(event["Action"], names_of(raw.decode().split("\n\n", 1)[1]))
            if event["Action"] == "stop-recording" and event.get("Record-File-Size"):
                with wave.open(event["Path"], "rb") as wav:
                    ms = wav.getnframes() * 1000 // wav.getframerate()
                    files[Path(event["Path"]).name] = (
                        wav.getnchannels(), wav.getsampwidth(), wav.getframerate(),
                        abs(ms - int(event["Milliseconds-Elapsed"])) <= 2 * FRAME_MS)
    for room in rooms.values():
        api(inb, f"conference {room} kick all")
    for wire in (*[m.wire for m in members], inb):
        wire.close()
    replies = [r.replace(str(folder), "DIR").replace(tag, "TAG") for r in replies]
    return replies, seen, headers, files


def _header_diff(mine: dict[str, list[str]], real: dict[str, list[str]]) -> dict:
    """Per event kind whose header names differ: (names only mine has, only real has, both
    lists' lengths), so a failure says what differs."""
    out = {}
    for action in sorted(set(mine) | set(real)):
        a, b = mine.get(action, []), real.get(action, [])
        if a != b:
            out[action] = ([n for n in a if n not in b], [n for n in b if n not in a],
                           len(a), len(b))
    return out


def _moh_default(fs) -> None:
    """The test FreeSWITCH's default profile has moh-sound local_stream://moh."""
    fs.conferences.profiles["default"] = Profile("default", 8000, "local_stream://moh")


def _id(labels: dict[str, str], label: str) -> str:
    return next(member_id for member_id, name in labels.items() if name == label)


@pytest.mark.freeswitch
def test_conference_flags_same_as_freeswitch():
    """wait-mod, sounds, a full room, dist-dtmf, kick and endconf: the same events per step."""
    real, mine = on_both(lambda address, daemon: _flags_scenario(address, daemon, "cf1"),
                         _moh_default)
    for real_step, my_step in zip(real[0], mine[0], strict=True):
        assert my_step == real_step
    assert mine[1] == real[1] == "true"


@pytest.mark.freeswitch
def test_no_hold_music_when_the_moderator_leaves_same_as_freeswitch():
    """Measured on 1.10.12: the two wait-mod members a moderator leaves hear no music."""
    real, mine = on_both(lambda address, daemon: _moderator_leaves_scenario(address, daemon,
                                                                            "cw1"), _moh_default)
    for real_step, my_step in zip(real[0], mine[0], strict=True):
        assert my_step == real_step
    assert mine[1] == real[1] == "false"
    assert not any("moh" in line for name, lines in real[0][3:] for line in lines)


@pytest.mark.freeswitch
def test_conference_same_as_freeswitch():
    """Replies, the events each command causes, each member socket's events and every event's
    header names match the real FreeSWITCH's."""
    def prepare(fs) -> None:
        _moh_default(fs)
        for _ in range(50):  # member ids past the small ones the commands use ({A}, {B})
            fs.conferences.next_id()

    real, mine = on_both(lambda address, daemon: _scenario(address, daemon, "cd1"), prepare)
    for real_step, my_step in zip(real[0], mine[0], strict=True):
        assert my_step == real_step
    assert mine[1] == real[1]
    assert _header_diff(mine[2], real[2]) == {}


#: Sounds whose stop-talking statistics do not depend on timing (simulator/talking.py): a level
#: step gives the talking-* headers every time, a steady 500 Hz tone never. (A steady 600 Hz
#: tone gives them only when the first frame is counted: 8 runs in 10 on 1.10.12.)
TALK_TONES = {
    "level-step": ("tone_stream://v=-7;%(500,0,600);v=-13;%(500,0,600)", 1),
    "steady-500": ("tone_stream://%(1000,0,500)", 0),
}


@pytest.mark.freeswitch
@pytest.mark.parametrize("kind", sorted(TALK_TONES))
def test_conference_talking_same_as_freeswitch(kind):
    """Audio a member's caller plays (uuid_broadcast on its A leg): the same talking events, and
    the talking-* statistics on stop-talking exactly when the real FreeSWITCH sends them."""
    tone, with_statistics = TALK_TONES[kind]
    real, mine = on_both(lambda address, daemon: _talk_scenario(address, daemon, "ct1", tone))
    assert real[1] == ["start-talking M2 true", "floor-change M2 true", "stop-talking M2 false"]
    assert mine[:2] == real[:2]
    assert _header_diff(mine[2], real[2]) == {}
    assert len(real[3]) == len(mine[3]) == with_statistics
    # the real one counts frames in real time: allow two frames either way under load
    assert all(abs(m - r) <= 2 * FRAME_MS for m, r in zip(mine[3], real[3], strict=True))


@pytest.mark.freeswitch
def test_conference_recording_same_as_freeswitch(tmp_path):
    """Recording two rooms (8 and 16 kHz) with a pause: replies, events, headers and the WAV
    files' format and length match the real FreeSWITCH's."""
    (tmp_path / "real").mkdir()
    (tmp_path / "mine").mkdir()
    real, mine = on_both(lambda address, daemon: _record_scenario(
        address, daemon, "cr1", tmp_path / ("real" if address == REAL_ESL else "mine")))
    assert mine[:2] == real[:2] and mine[3] == real[3]
    assert _header_diff(mine[2], real[2]) == {}
