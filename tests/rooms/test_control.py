"""The control API's room inputs (rooms/control.py) through the room engine's `decide`, on a
fake edge: which members a spec names, the commands each input decides, the history a room
leaves."""

from __future__ import annotations

import pytest

from plivoxml_fs.config import Settings
from plivoxml_fs.rooms import control, recordings
from plivoxml_fs.rooms.model import RoomContext, RoomSettings, Seat
from plivoxml_fs.rooms.registry import RoomEngine
from plivoxml_fs.testing import FakeEdge, conference_event

SETTINGS = RoomSettings(max_members=20, time_limit_s=60, wait_sound=None, record=False,
                        record_file_format="mp3")
ACCOUNT = "MAPLIVOXMLFSTEST0001"


def room_of_two():
    edge = FakeEdge()
    settings = Settings(record_base_url="http://rec.example.com/", recordings_dir="/rec")
    rooms = RoomEngine(RoomContext(settings, new_id=lambda: "rec-1"), edge)
    ended = []
    rooms.on_ended = lambda room, record: ended.append(record)
    for call, member_id in (("a", 3), ("b", 4)):
        room, _ = rooms.join(Seat(name="r1", call_uuid=call, settings=SETTINGS, scope=ACCOUNT,
                                  call_params={"From": "1001", "To": f"70{member_id}"}))
        rooms.on_event(conference_event("add-member", room.fs_name, uid="u1",
                                        member_id=member_id, uuid=call, size=member_id - 2))
    edge.commands.clear()
    return rooms, room, edge, ended


def test_members_of_one_a_list_all_and_the_unknown():
    rooms, room, _, _ = room_of_two()
    assert [m.member_id for m in control.members_of(room, "4")] == [4]
    assert [m.member_id for m in control.members_of(room, "4,3,4")] == [4, 3]
    assert [m.member_id for m in control.members_of(room, "all")] == [3, 4]
    with pytest.raises(control.NoSuchMember, match="no member 9"):
        control.members_of(room, "3,9")
    for bad in ("", "x", "3,", "0", "-1", "all,3"):
        with pytest.raises(ValueError, match="member id"):
            control.members_of(room, bad)


def test_each_input_is_one_command_path():
    rooms, room, edge, _ = room_of_two()
    both = control.members_of(room, "all")
    fs = room.fs_name
    rooms.decide(room, lambda _: control.mute(room, both, True))
    rooms.decide(room, lambda _: control.deaf(room, both[:1], False))
    rooms.decide(room, lambda _: control.play(room, both[1:], "http://app/a.wav"))
    rooms.decide(room, lambda _: control.stop_play(room, both[1:]))
    rooms.decide(room, lambda _: control.speak(room, both[:1], " Hi\n there ", "MAN"))
    rooms.decide(room, lambda _: control.hang_up(room, both[1:]))
    assert edge.commands == [
        f"conference {fs} mute 3", f"conference {fs} mute 4", f"conference {fs} undeaf 3",
        f"conference {fs} play http_cache://http://app/a.wav 4", f"conference {fs} stop all 4",
        f"conference {fs} saymember 3 #kal#Hi there", "uuid_kill b NORMAL_CLEARING"]
    with pytest.raises(ValueError, match=r"\$\{"):
        control.speak(room, both, "x ${evil}", "WOMAN")
    with pytest.raises(ValueError, match="http"):
        control.play(room, both, "file:///etc/passwd")
    edge.commands.clear()
    rooms.decide(room, lambda _: control.kick(room, both[:1]))
    assert edge.commands == [f"conference {fs} kick 3"]
    rooms.decide(room, lambda _: control.kick(room, both[:1]))  # once kicked: nothing more
    assert edge.commands == [f"conference {fs} kick 3"]


def test_recording_by_the_api_and_the_history_it_leaves():
    rooms, room, edge, ended = room_of_two()
    rec = recordings.api_recording(rooms.ctx.settings, "r1", "u1", "rec-9", "wav", 5000,
                                   "http://app/recorded", "POST", "api-1")
    assert not control.recording_busy(room)
    rooms.decide(room, lambda _: control.record(room, rec))
    assert edge.commands == [f"conference {room.fs_name} recording start /rec/u1_rec-9.wav"]
    assert control.recording_busy(room) and room.recording_live
    rooms.decide(room, lambda _: control.stop_recording(room))
    rooms.on_event(conference_event("stop-recording", room.fs_name, uid="u1",
                                    Path="/rec/u1_rec-9.wav", Milliseconds_Elapsed="2500"))
    (hook,) = edge.outbox.of_kind("conference-record")
    assert hook.url == "http://app/recorded" and hook.params == {
        "api_id": "api-1", "record_url": "http://rec.example.com/u1_rec-9.wav",
        "recording_id": "rec-9", "conference_name": "r1", "recording_duration": "2",
        "recording_duration_ms": "2500", "recording_start_ms": "5000",
        "recording_end_ms": "7500"}
    for call in ("a", "b"):
        rooms.leave(call, hung_up=True)
    (record,) = ended
    assert record.account == ACCOUNT and record.uuid == "u1" and record.kind == "conference"
    assert [(s.member_id, s.reason) for s in record.stays] == [(3, "hangup"), (4, "hangup")]
    assert [r["recording_id"] for r in record.recordings] == ["rec-9"]
    assert rooms.find(ACCOUNT, "r1") is None
