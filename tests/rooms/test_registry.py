"""RoomEngine and LocalRooms: rooms by name then Conference-Unique-ID, one path for decisions."""

from __future__ import annotations

import attrs

from plivoxml_fs.config import Settings
from plivoxml_fs.fs.events import ConferenceEvent
from plivoxml_fs.rooms.model import ExitReason, RoomContext, RoomSettings, RoomState, Seat
from plivoxml_fs.rooms.registry import RoomEngine
from plivoxml_fs.testing import FakeEdge, conference_event, dtmf_event

SETTINGS = RoomSettings(max_members=20, time_limit_s=60, wait_sound=None, record=False,
                        record_file_format="mp3")


def engine(edge: FakeEdge | None = None) -> tuple[RoomEngine, FakeEdge]:
    edge = edge or FakeEdge()
    settings = Settings(record_base_url="http://rec.example.com/", recordings_dir="/rec")
    return RoomEngine(RoomContext(settings, new_id=lambda: "rec-1"), edge), edge


def seat(call: str, name: str = "r1", **kw) -> Seat:
    return Seat(name=name, call_uuid=call, settings=SETTINGS, callback_url="http://app/cb", **kw)


def add(rooms: RoomEngine, call: str, member_id: int, uid: str = "u1", name: str = "r1"):
    rooms.on_event(conference_event("add-member", name, uid=uid, member_id=member_id, uuid=call,
                                    size=1))


def test_events_reach_the_room_by_name_then_by_uid() -> None:
    """A claimed room learns its uid from its first event; later events find it by uid."""
    rooms, edge = engine()
    room, _ = rooms.join(seat("a"))
    add(rooms, "a", 1)
    assert room.uid == "u1"
    rooms.on_event(conference_event("floor-change", "other", uid="u9", New_ID="3"))
    rooms.on_event(conference_event("kick-member", "r1", uid="u1", member_id=1, uuid="a"))
    assert rooms.leave("a", hung_up=False).reason == ExitReason.KICKED
    assert [w.kind for w in edge.outbox.emitted] == ["conference-enter", "conference-exit"]


def test_a_name_reused_after_the_room_ended_is_a_new_room() -> None:
    """After conference-destroy a new claim of the name makes a new room with its own settings."""
    rooms, _ = engine()
    first, _ = rooms.join(seat("a"))
    add(rooms, "a", 1)
    rooms.on_event(conference_event("conference-destroy", "r1", uid="u1"))
    second, _ = rooms.join(attrs.evolve(seat("b"), settings=attrs.evolve(SETTINGS,
                                                                          max_members=3)))
    assert second is not first and second.settings.max_members == 3
    add(rooms, "b", 2, uid="u2")
    assert second.uid == "u2" and first.state == RoomState.ENDED
    assert rooms.leave("a", hung_up=False).reason == ExitReason.ENDED


def test_seats_waiting_follow_a_new_freeswitch_room_of_their_name() -> None:
    """FreeSWITCH made a new room of the name before its old one's destroy came: a seat not yet
    in moves to the new room; the old one keeps its members."""
    rooms, _ = engine()
    old, _ = rooms.join(seat("a"))
    add(rooms, "a", 1)
    rooms.join(seat("b"))
    add(rooms, "b", 2, uid="u2")
    new = rooms.room_of("a"), rooms.room_of("b")
    assert new[0] is old and new[1] is not old
    assert new[1].uid == "u2" and new[1].member("b").member_id == 2


def test_a_members_own_events_reach_its_room_once() -> None:
    """The member's own socket and the inbound connection bring one add-member: one enter."""
    rooms, edge = engine()
    rooms.join(seat("a", hangup_on_star=True))
    event = conference_event("add-member", "r1", uid="u1", member_id=5, uuid="a", size=1,
                             Event_Sequence="900")
    rooms.own_event("a", ConferenceEvent.from_event(event))
    rooms.on_event(event)
    assert [w.kind for w in edge.outbox.emitted] == ["conference-enter"]
    from plivoxml_fs.fs.events import Dtmf

    rooms.own_event("a", Dtmf.from_event(dtmf_event("*", "a")))
    assert edge.commands == ["conference r1 hup 5"]


def test_the_time_limit_fires_through_the_edge_timer() -> None:
    """The room's ArmTimer is armed on the edge; when due, its tick kicks the member."""
    rooms, edge = engine()
    rooms.join(seat("a"))
    add(rooms, "a", 1)
    assert [at for at, _ in edge.timers] == [edge.clock + 60]
    edge.advance(61)
    assert edge.commands == ["conference r1 kick 1"]
    assert rooms.leave("a", hung_up=False).reason == ExitReason.TIME_LIMIT


def test_commands_about_a_member_carry_its_connection() -> None:
    """A command about a member is handed to the edge with that member's own connection."""
    rooms, edge = engine()
    conn = object()
    rooms.join(seat("a", send_digits="12"), conn)
    add(rooms, "a", 1)
    assert (edge.commands, edge.vias) == (["conference r1 dtmf 1 12"], [conn])


def test_a_lost_connection_forgets_rooms_nobody_holds() -> None:
    """On loss: rooms with seats stay (members carry on); the others are forgotten."""
    rooms, _ = engine()
    kept, _ = rooms.join(seat("a"))
    add(rooms, "a", 1)
    rooms.join(seat("b", name="r2"))
    rooms.leave("b", hung_up=True)
    rooms.lost_connection()
    assert rooms.owner.rooms() == [kept]
    assert kept.state == RoomState.OPEN


def test_settings_go_with_the_last_seat() -> None:
    """Once every seat left (and the room owes nothing), a new claim starts afresh."""
    rooms, _ = engine()
    first, _ = rooms.join(seat("a"))
    rooms.leave("a", hung_up=True)
    assert rooms.owner.rooms() == []
    second, _ = rooms.join(seat("b"))
    assert second is not first


def test_a_room_that_owes_nothing_cancels_its_timer() -> None:
    """The last seat leaves a room with no recording running: its time-limit timer is
    cancelled (a default timeLimit of a day would hold the room that long)."""
    rooms, edge = engine()
    rooms.join(seat("a"))
    add(rooms, "a", 1)
    assert len(edge.timers) == 1
    rooms.leave("a", hung_up=True)
    assert edge.timers == []


def test_a_bare_sync_edge_sends_over_the_members_socket(tmp_path) -> None:
    """SyncEdge (a CallDriver built without the daemon): `api` on the member's connection,
    answered at once; no connection or a folder that cannot be made answers -ERR."""
    from plivoxml_fs.rooms.model import Command
    from plivoxml_fs.rooms.registry import SyncEdge
    from plivoxml_fs.testing import FakeConnection, RecordingOutbox

    edge = SyncEdge(RecordingOutbox(), clock=lambda: 5.0)
    conn, got = FakeConnection(), []
    edge.send(Command("conference r1 kick 1", "kick#1"), got.append, conn)
    edge.send(Command("conference r1 kick 1", "kick#2"), got.append, None)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    edge.send(Command("conference r1 recording start /x.wav", "rec#3",
                      make_dir=str(blocker / "d")), got.append, conn)
    assert conn.lines == ["api conference r1 kick 1"]
    assert [d.text for d in got[:2]] == ["+OK", "-ERR no connection to send it on"]
    assert got[2].text.startswith("-ERR [Errno 20] Not a directory")


def test_a_late_event_of_a_forgotten_room_does_not_take_the_name() -> None:
    """A del-member of a room already forgotten, arriving after the name was claimed again,
    is dropped: the new claim learns its uid from its own seat's add-member."""
    rooms, edge = engine()
    rooms.join(seat("a"))
    add(rooms, "a", 1)
    rooms.on_event(conference_event("conference-destroy", "r1", uid="u1"))
    rooms.leave("a", hung_up=True)
    room, _ = rooms.join(seat("b"))
    rooms.on_event(conference_event("del-member", "r1", uid="u1", member_id=1, uuid="a"))
    assert room.uid is None
    add(rooms, "b", 2, uid="u2")
    assert room.uid == "u2" and rooms.room_of("b") is room
    assert [w.params["CallUUID"] for w in edge.outbox.of_kind("conference-enter")] == ["a", "b"]
