"""Plivo's Conference API on this daemon's rooms (docs/api.md; the routes: api/routes.py).

Each handler takes the `ApiContext` and the request, finds the account's room (404 when the
account has no live room of that name: another account's room is never found), checks the
parameters (400 naming one), runs the room input (rooms/control.py) through the room engine
(`decide`), and answers as Plivo does. It reads rooms through their snapshots
(rooms/views.py: `Room.view()`, `present()`), never their state. Commands are sent as every room command is (bgapi over the inbound
connection); the answer does not wait for FreeSWITCH's, as Plivo's "queued" answers do not.
GET of a room that is over answers from the history (effects/history.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from plivoxml_fs.api import objects
from plivoxml_fs.api.server import ApiError, ApiRequest, bad
from plivoxml_fs.documents.models import SPEAK_LANGUAGES
from plivoxml_fs.rooms import control, recordings
from plivoxml_fs.rooms.history import RoomRecord
from plivoxml_fs.rooms.model import Decision, RoomKind
from plivoxml_fs.rooms.room import Room
from plivoxml_fs.rooms.views import MemberView

KIND = RoomKind.CONFERENCE.value


@attrs.define
class ApiContext:
    """What handlers use: the room engine, the history, the clock (epoch seconds), the
    daemon's settings (where recordings go) and its id source."""

    rooms: Any  # rooms.registry.RoomEngine
    history: Any  # effects.history.HistoryStore
    clock: Callable[[], float]
    settings: Any = None  # config.Settings
    new_id: Callable[[], str] = lambda: ""
    #: whether FreeSWITCH is connected (the inbound connection): no change is tried without it
    connected: Callable[[], bool] = lambda: True
    #: documents given to calls (the call driver's `inline`: api/mpc_add.py)
    inline: dict[str, str] = attrs.field(factory=dict)
    #: `originate` over the inbound connection: (command, timeout s) -> FreeSWITCH's reply
    originate: Callable[[str, float], str] | None = None
    #: the outbox's emit: callbacks with no room to go through (api/mpc_add.py)
    emit: Callable[[Any], None] | None = None
    #: confirm steps of dialled calls (the call driver's `confirms`: call/confirm.py)
    confirms: dict[str, Any] = attrs.field(factory=dict)
    #: an AI participant made by the daemon (effects/aiagent.add_by_api): (the
    #: `<MultiPartyCall role="ai-agent">`, its document, the account) -> the room leg's call
    #: uuid, or None when it was not made
    add_ai: Callable[[Any, Any, str], str | None] | None = None
    #: the document fetcher (effects/fetch.py): add participant's dial_music URL
    fetcher: Any = None

    def keep(self, room: Room, record: RoomRecord) -> None:
        """The room engine's `on_ended`: an ended conference goes into the history."""
        if record.kind == KIND:
            self.history.add(KIND, record.account, record.name, record.uuid, record.ended_at,
                             objects.ended_conference(record))
        elif record.kind == RoomKind.MULTIPARTY_CALL.value:
            from plivoxml_fs.api import mpc  # it imports this module

            mpc.keep(self, room, record)


def _room(ctx: ApiContext, req: ApiRequest) -> Room:
    name = req.values["name"]
    room = ctx.rooms.find(req.account, name)
    if room is None:
        raise ApiError(404, f"conference {name!r} not found")
    return room


def _members(room: Room, req: ApiRequest) -> list[MemberView]:
    try:
        return control.members_of(room, req.values["member_id"])
    except control.NoSuchMember as exc:
        raise ApiError(404, str(exc)) from None
    except ValueError as exc:
        raise bad("member_id", str(exc)) from None


def decide(ctx: ApiContext, req: ApiRequest, room: Any,
           change: Callable[[float], list[Decision]]) -> None:
    """Run a room input (`change(now)`, the room engine's clock) through the room engine's
    `decide`; 503 (nothing changed, so the SDK's repeats do no harm) while FreeSWITCH is not
    connected: its commands could not be sent."""
    if not ctx.connected():
        raise ApiError(503, "FreeSWITCH is not connected: nothing was changed; try again")
    req.acted = True
    ctx.rooms.decide(room, change)


def _member_answer(req: ApiRequest, message: str) -> tuple[int, dict[str, Any]]:
    return 202, {"message": message, "member_id": req.values["member_id"]}


# -- conferences ------------------------------------------------------------------------------

def list_conferences(ctx: ApiContext, req: ApiRequest):
    return 200, {"conferences": [room.name for room in ctx.rooms.live(req.account)]}


def get_conference(ctx: ApiContext, req: ApiRequest):
    name = req.values["name"]
    room = ctx.rooms.find(req.account, name)
    if room is not None:
        return 200, objects.conference(room.view(), ctx.clock())
    ended = ctx.history.by_name(KIND, req.account, name)
    if ended is None:
        raise ApiError(404, f"conference {name!r} not found")
    return 200, ended


def _hang_up(ctx: ApiContext, req: ApiRequest, room: Room) -> None:
    decide(ctx, req, room, lambda _: control.hang_up_room(room))


def hang_up_conference(ctx: ApiContext, req: ApiRequest):
    _hang_up(ctx, req, _room(ctx, req))
    return 204, None


def hang_up_all(ctx: ApiContext, req: ApiRequest):
    for room in ctx.rooms.live(req.account):
        _hang_up(ctx, req, room)
    return 204, None


# -- members ------------------------------------------------------------------------------------

def _member_input(message: str,
                  change: Callable[[Room, list[MemberView]], list[Decision]]):
    def handler(ctx: ApiContext, req: ApiRequest):
        room = _room(ctx, req)
        members = _members(room, req)
        decide(ctx, req, room, lambda _: change(room, members))
        return _member_answer(req, message)

    return handler


mute = _member_input("muted", lambda r, ms: control.mute(r, ms, True))
unmute = _member_input("unmuted", lambda r, ms: control.mute(r, ms, False))
deaf = _member_input("deaf", lambda r, ms: control.deaf(r, ms, True))
undeaf = _member_input("undeaf", lambda r, ms: control.deaf(r, ms, False))
kick = _member_input("kicked", control.kick)
hang_up_member = _member_input("hangup", control.hang_up)
stop_play = _member_input("playing in conference stopped", control.stop_play)


def play(ctx: ApiContext, req: ApiRequest):
    room = _room(ctx, req)
    members = _members(room, req)
    url = req.text("url", required=True)
    try:
        decisions = control.play(room, members, url)
    except ValueError as exc:
        raise bad("url", str(exc)) from None
    decide(ctx, req, room, lambda _: decisions)
    return _member_answer(req, "play queued into conference")


stop_speak = _member_input("speak stopped", control.stop_play)


def speak(ctx: ApiContext, req: ApiRequest):
    """text (required), voice WOMAN|MAN, language of Plivo's Speak table (as `<Speak>`)."""
    room = _room(ctx, req)
    members = _members(room, req)
    text = req.text("text", required=True)
    voice = req.text("voice", default="WOMAN")
    language = req.text("language", default="en-US")
    if language not in SPEAK_LANGUAGES:
        raise bad("language", f"must be one of {', '.join(SPEAK_LANGUAGES)} (got {language!r})")
    if voice not in SPEAK_LANGUAGES[language]:
        raise bad("voice", f"{language} has {', '.join(SPEAK_LANGUAGES[language])} "
                           f"(got {voice!r})")
    try:
        decisions = control.speak(room, members, text, voice)
    except ValueError as exc:
        raise bad("text", str(exc)) from None
    decide(ctx, req, room, lambda _: decisions)
    return _member_answer(req, "speak queued into conference")


RECORD_FORMATS = ("mp3", "wav")


def record(ctx: ApiContext, req: ApiRequest):
    """file_format mp3|wav; callback_url/callback_method: told when the recording ends;
    transcription_url/transcription_method: the transcript is posted there (transcription_type
    auto, hybrid or manual: all machine transcription, docs/transcription.md)."""
    room = _room(ctx, req)
    fmt = req.text("file_format", default="mp3")
    if fmt not in RECORD_FORMATS:
        raise bad("file_format", f"must be mp3 or wav (got {fmt!r})")
    callback, method = req.callback("callback_url", "callback_method")
    transcribe_to, transcribe_method = req.callback("transcription_url", "transcription_method")
    if control.recording_busy(room):
        raise bad("conference_name", f"conference {room.name!r} is being recorded already")
    try:
        rec = recordings.api_recording(ctx.settings, room.name, room.view().uid or "",
                                       ctx.new_id(), fmt, int(ctx.clock() * 1000), callback,
                                       method, req.api_id, transcribe_to, transcribe_method)
    except ValueError as exc:
        raise bad("conference_name", f"cannot be recorded: {exc}") from None
    decide(ctx, req, room, lambda _: control.record(room, rec))
    return 202, {"message": "conference recording started", "recording_id": rec.recording_id,
                 "url": rec.record_url}


#: callback_url is the recording's callback here (Plivo's Record API), not an asynchronous
#: answer (api/server.py)
record.own_callback_url = True  # type: ignore[attr-defined]


def record_stop(ctx: ApiContext, req: ApiRequest):
    """Stops the room's recording; a room not recording: nothing to do (204 all the same)."""
    room = _room(ctx, req)
    decide(ctx, req, room, lambda _: control.stop_recording(room))
    return 204, None
