"""`<Conference>` as a unit: a FakeConnection, the room engine on a FakeEdge, no sockets."""

from __future__ import annotations

import attrs

from plivoxml_fs.config import Settings
from plivoxml_fs.documents.build import parse_document
from plivoxml_fs.testing import conference_event, dtmf_event
from plivoxml_fs.verbs.base import NEXT, Gone, Goto
from plivoxml_fs.verbs.conference import run

ROOM = "room1"


def conf(attributes: str = ""):
    xml = (f'<Response><Conference callbackUrl="http://app/cb" {attributes}>{ROOM}</Conference>'
           "</Response>").encode()
    return parse_document(xml, source="test", max_bytes=65536).verbs[0]


def added(ctx, member_id: int = 7, size: int = 1):
    return conference_event("add-member", ROOM, member_id=member_id, uuid=ctx.conn.uuid,
                            size=size)


def kinds(ctx) -> list[str]:
    return [w.kind for w in ctx.outbox.emitted]


def test_a_stay_sends_the_join_and_reports_enter_and_exit(ctx) -> None:
    """The variables (one multiset), the conference app, then enter and exit callbacks; the
    next verb."""
    ctx.params = {"CallUUID": ctx.conn.uuid}
    ctx.conn.script("conference", [added(ctx)])
    assert run(conf(), ctx) == NEXT
    assert ctx.conn.apps == [("multiset", "^^|hangup_after_conference=false"
                                          "|conference_max_members=20"),
                             ("conference", f"{ROOM}@default+flags{{moderator|dist-dtmf}}")]
    assert kinds(ctx) == ["conference-enter", "conference-exit"]
    assert ctx.outbox.emitted[0].params["ConferenceMemberID"] == "7"
    assert ctx.rooms.owner.rooms() == []  # the room went with its last seat


def test_star_hups_the_member_and_the_action_says_why(ctx) -> None:
    """hangupOnStar: `*` makes the room send `hup <id>`; the action Goto carries
    ConferenceExitReason=hangup-on-star and the room's ids."""
    ctx.conn.script("conference", [added(ctx), dtmf_event("*", ctx.conn.uuid)])
    outcome = run(conf('hangupOnStar="true" action="http://app/next"'), ctx)
    assert ctx.edge.commands == [f"conference {ROOM} hup 7"]
    assert isinstance(outcome, Goto) and outcome.url == "http://app/next"
    assert dict(outcome.params) == {"ConferenceName": ROOM, "ConferenceUUID": "room-uid-1",
                                    "ConferenceMemberID": "7",
                                    "ConferenceExitReason": "hangup-on-star"}


def test_a_full_room_is_told_apart_without_callbacks(ctx) -> None:
    """The app completes with no add-member: room-full in the posted action, no callbacks."""
    outcome = run(conf('action="http://app/act" redirect="false"'), ctx)
    assert outcome == NEXT
    (action,) = ctx.outbox.emitted
    assert (action.kind, action.params["ConferenceExitReason"],
            action.params["ConferenceMemberID"]) == ("conference-action", "room-full", "")


def test_a_hangup_in_the_room_posts_the_action_as_completed(ctx) -> None:
    """The caller hangs up in the room: Gone; exit, then the action with CallStatus=completed
    and ConferenceExitReason=hangup, whatever redirect says."""
    ctx.conn.script("conference", [added(ctx), ctx.conn.caller_hangs_up])
    outcome = run(conf('action="http://app/next"'), ctx)
    assert isinstance(outcome, Gone)
    assert kinds(ctx) == ["conference-enter", "conference-exit", "conference-action"]
    params = ctx.outbox.emitted[-1].params
    assert (params["CallStatus"], params["ConferenceExitReason"]) == ("completed", "hangup")


def test_the_time_limit_kicks_the_member(ctx) -> None:
    """timeLimit="30": when the edge's clock passes it the room kicks the member; the action
    says time-limit."""
    ctx.conn.script("conference", [added(ctx), lambda: ctx.edge.advance(31)])
    outcome = run(conf('timeLimit="30" action="http://app/next"'), ctx)
    assert ctx.edge.commands == [f"conference {ROOM} kick 7"]
    assert outcome.params["ConferenceExitReason"] == "time-limit"


def test_the_room_records_and_every_callback_names_the_recording(ctx, tmp_path) -> None:
    """record="true": the room starts the recording; enter, exit and action carry RecordUrl."""
    ctx.settings = Settings(record_base_url="http://rec/", recordings_dir=str(tmp_path))
    ctx.rooms.ctx = attrs.evolve(ctx.rooms.ctx, settings=ctx.settings)
    ctx.conn.script("conference", [added(ctx)])
    outcome = run(conf('record="true" recordFileFormat="wav" action="http://app/next"'), ctx)
    assert ctx.edge.commands == [
        f"conference {ROOM} recording start {tmp_path}/room-uid-1_rec-1.wav"]
    url = "http://rec/room-uid-1_rec-1.wav"
    assert [w.params.get("RecordUrl") for w in ctx.outbox.emitted] == [url, url]
    assert outcome.params["RecordUrl"] == url


def test_only_the_rooms_creator_sets_the_wait_sound(ctx) -> None:
    """waitSound: a caller joining a room someone else claimed first sets no
    conference_moh_sound (mod_conference reads it from the creator) and fetches nothing."""
    ctx.conn.script("conference", [added(ctx)])
    ctx.rooms.join(attrs.evolve(_other_seat(ctx), call_uuid="first-caller"))
    run(conf('waitSound="http://app/moh.wav"'), ctx)
    assert not [a for a in ctx.conn.apps if a[1].startswith("conference_moh_sound")]


def _other_seat(ctx):
    from plivoxml_fs.rooms.model import RoomSettings, Seat

    return Seat(name=ROOM, call_uuid="x", settings=RoomSettings.of(conf()))


def test_a_free_text_name_joins_the_rooms_id_and_reports_the_name(ctx) -> None:
    """`Gasteiz / Vitoria`: the conference app and the room's commands name the room's id;
    enter, exit and the action carry the name as written."""
    from plivoxml_fs.rooms.names import fs_room_name

    name, room_id = "Gasteiz / Vitoria", fs_room_name("Gasteiz / Vitoria")
    event = conference_event("add-member", room_id, member_id=7, uuid=ctx.conn.uuid, size=1)
    ctx.conn.script("conference", [event, dtmf_event("*", ctx.conn.uuid)])
    xml = (f'<Response><Conference callbackUrl="http://app/cb" hangupOnStar="true" '
           f'action="http://app/next">{name}</Conference></Response>').encode()
    outcome = run(parse_document(xml, source="test", max_bytes=65536).verbs[0], ctx)
    assert ctx.conn.apps[-1] == ("conference", f"{room_id}@default+flags{{moderator|dist-dtmf}}")
    assert ctx.edge.commands == [f"conference {room_id} hup 7"]
    assert [w.params["ConferenceName"] for w in ctx.outbox.emitted] == [name, name]
    assert isinstance(outcome, Goto) and outcome.params["ConferenceName"] == name
