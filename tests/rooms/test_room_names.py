"""Rooms of free-text names in the engine: FreeSWITCH is addressed by the room's id, callbacks
and log lines carry the user's name, scopes keep rooms of one name apart."""

from __future__ import annotations

import logging

from plivoxml_fs.config import Settings
from plivoxml_fs.fs.events import Dtmf
from plivoxml_fs.rooms.model import ExitReason, RoomContext, RoomSettings, Seat
from plivoxml_fs.rooms.names import fs_room_name
from plivoxml_fs.rooms.registry import RoomEngine
from plivoxml_fs.testing import FakeEdge, conference_event, dtmf_event

SETTINGS = RoomSettings(max_members=20, time_limit_s=60, wait_sound=None, record=True,
                        record_file_format="wav")
NAME = "Gasteiz / Vitoria"
FS = fs_room_name(NAME)


def engine() -> tuple[RoomEngine, FakeEdge]:
    edge = FakeEdge()
    settings = Settings(record_base_url="http://rec.example.com/", recordings_dir="/rec")
    return RoomEngine(RoomContext(settings, new_id=lambda: "rec-1"), edge), edge


def seat(call: str, name: str = NAME, **kw) -> Seat:
    return Seat(name=name, call_uuid=call, settings=SETTINGS, callback_url="http://app/cb",
                hangup_on_star=True, **kw)


def add(rooms: RoomEngine, call: str, member_id: int, fs_name: str = FS, uid: str = "u1"):
    rooms.on_event(conference_event("add-member", fs_name, uid=uid, member_id=member_id,
                                    uuid=call, size=member_id))


def test_freeswitch_is_sent_the_id_and_callbacks_carry_the_name(caplog) -> None:
    """Commands address the room's id; every callback says ConferenceName=<the user's name>;
    log lines name the user's room, never the id, even when FreeSWITCH's answer echoes it."""
    rooms, edge = engine()
    room, _ = rooms.join(seat("a"))
    assert (room.name, room.fs_name) == (NAME, FS) and FS.startswith("Gasteiz-Vitoria--")
    edge.answer(f"conference {FS} hup", f"-ERR Conference {FS} not found\n")
    add(rooms, "a", 1)
    with caplog.at_level(logging.DEBUG, logger="plivoxml_fs.rooms"):
        rooms.own_event("a", Dtmf.from_event(dtmf_event("*", "a")))
    assert edge.commands == [f"conference {FS} recording start /rec/u1_rec-1.wav",
                             f"conference {FS} hup 1"]
    rooms.on_event(conference_event("hup-member", FS, uid="u1", member_id=1, uuid="a"))
    rooms.on_event(conference_event("stop-recording", FS, uid="u1", Path="/rec/u1_rec-1.wav",
                                    Milliseconds_Elapsed="2000"))
    assert rooms.leave("a", hung_up=False).reason == ExitReason.HANGUP_ON_STAR
    hooks = edge.outbox.emitted
    assert [w.kind for w in hooks] == ["conference-enter", "conference-record", "conference-exit"]
    assert {w.params["ConferenceName"] for w in hooks} == {NAME}
    lines = [r.getMessage() for r in caplog.records]
    assert lines and not [line for line in lines if FS in line]
    assert f"call a: conference {NAME} hup 1: -ERR Conference {NAME} not found" in lines
    assert {getattr(r, "conference", NAME) for r in caplog.records} == {NAME}


def test_two_names_that_slug_alike_are_two_rooms() -> None:
    """`My Conf Room` and `My/Conf/Room` share a slug, not a room: events of one never reach
    the other."""
    rooms, edge = engine()
    one, _ = rooms.join(seat("a", "My Conf Room"))
    two, _ = rooms.join(seat("b", "My/Conf/Room"))
    assert one is not two and one.fs_name != two.fs_name
    assert one.fs_name.split("--")[0] == two.fs_name.split("--")[0] == "My-Conf-Room"
    add(rooms, "a", 1, one.fs_name, "u1")
    add(rooms, "b", 2, two.fs_name, "u2")
    assert (one.uid, two.uid) == ("u1", "u2")
    assert {w.params["CallUUID"]: w.params["ConferenceName"]
            for w in edge.outbox.of_kind("conference-enter")} == {"a": "My Conf Room",
                                                                   "b": "My/Conf/Room"}


def test_two_callers_of_one_name_share_one_room() -> None:
    rooms, _ = engine()
    first, _ = rooms.join(seat("a", "Tikrīt"))
    second, _ = rooms.join(seat("b", "Tikrīt"))
    assert first is second and first.fs_name == fs_room_name("Tikrīt")


def test_scopes_keep_two_accounts_rooms_of_one_name_apart() -> None:
    """The same name in two scopes: two rooms, two ids, both showing the user's name."""
    rooms, edge = engine()
    mine, _ = rooms.join(seat("a", "room1", scope="MA1"))
    theirs, _ = rooms.join(seat("b", "room1", scope="MA2"))
    plain, _ = rooms.join(seat("c", "room1"))
    assert len({id(mine), id(theirs), id(plain)}) == 3
    assert (mine.fs_name.split(".")[0], theirs.fs_name.split(".")[0], plain.fs_name) == (
        "MA1", "MA2", "room1")
    for call, room, member_id in (("a", mine, 1), ("b", theirs, 2), ("c", plain, 3)):
        add(rooms, call, member_id, room.fs_name, f"u{member_id}")
        assert room.uid == f"u{member_id}"
    assert {w.params["ConferenceName"] for w in edge.outbox.of_kind("conference-enter")} == {
        "room1"}
    again, _ = rooms.join(seat("d", "room1", scope="MA1"))
    assert again is mine
