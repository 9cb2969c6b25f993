"""Plivo's Multi-party Call API on this daemon's `<MultiPartyCall>` rooms (docs/api.md; the
routes: api/routes.py; the objects: api/mpc_objects.py).

`{mpc_id}` is `uuid_<mpc_uuid>` or `name_<friendly_name>`. By name: the account's live MPC
of that name (Plivo: an ended MPC is read by uuid only). By uuid: the live MPC, else the
history's. Another account's MPC is never found (404). Changes run as pure room inputs
(rooms/mpc_control.py) through `RoomEngine.control`, as the Conference API's do.
"""

from __future__ import annotations

import datetime
from typing import Any
from urllib.parse import urlencode

from plivoxml_fs.api import mpc_objects as objects
from plivoxml_fs.api.conference import ApiContext, _act
from plivoxml_fs.api.server import ApiError, ApiRequest, bad
from plivoxml_fs.rooms import mpc_control as control
from plivoxml_fs.rooms import mpc_rec_control
from plivoxml_fs.rooms.model import Member, RoomKind
from plivoxml_fs.rooms.mpc_model import COACHES, MpcState

KIND = RoomKind.MULTIPARTY_CALL
STATUSES = {"initialized": "Initialized", "active": "Active", "ended": "Ended"}
TIME_FILTERS = [f"{field}__{op}" for field in ("creation_time", "end_time")
                for op in ("gt", "gte", "lt", "lte")]
MAX_LIMIT = 20


# -- finding ---------------------------------------------------------------------------------

def _rooms(ctx: ApiContext, account: str) -> list[Any]:
    """The account's MPC rooms FreeSWITCH has made (an ending one too), oldest first."""
    rooms = [r for r in ctx.rooms.owner.rooms() if r.kind == KIND and r.scope == account
             and r.uid is not None]
    return sorted(rooms, key=lambda r: r.since)


def _parse_id(req: ApiRequest) -> tuple[str, str]:
    raw = req.values["mpc_id"]
    for prefix in ("uuid_", "name_"):
        if raw.startswith(prefix) and len(raw) > len(prefix):
            return prefix[:-1], raw[len(prefix):]
    raise ApiError(404, f"multi party call {raw!r} not found: give uuid_<mpc_uuid> or "
                        f"name_<friendly_name>")


def _live(ctx: ApiContext, req: ApiRequest) -> Any | None:
    how, key = _parse_id(req)
    for room in _rooms(ctx, req.account):
        if how == "uuid" and room.mpc_uuid == key:
            return room
        if how == "name" and room.name == key and room.status != MpcState.ENDED:
            return room
    return None


def _room(ctx: ApiContext, req: ApiRequest, *, ended_too: bool = False) -> Any:
    """The live MPC (404 when none; an MPC ending counts only with `ended_too`)."""
    room = _live(ctx, req)
    if room is None or (room.status == MpcState.ENDED and not ended_too):
        raise ApiError(404, f"multi party call {req.values['mpc_id']!r} not found")
    return room


def _ended(ctx: ApiContext, req: ApiRequest) -> dict[str, Any] | None:
    how, key = _parse_id(req)
    if how != "uuid":
        return None
    return ctx.history.by_uuid(objects.KIND, req.account, key)


def _participants(room: Any, req: ApiRequest, *, allow_all: bool = True) -> list[Member]:
    try:
        return control.participants_of(room, req.values["member_id"], allow_all=allow_all)
    except control.NoSuchParticipant as exc:
        raise ApiError(404, str(exc)) from None
    except ValueError as exc:
        raise bad("member_id", str(exc)) from None


def _flag(req: ApiRequest, name: str) -> bool | None:
    raw = req.params.get(name)
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    raise bad(name, f"must be true or false (got {raw!r})")


def _rate(ctx: ApiContext) -> float:
    return getattr(ctx.settings, "mpc_rate_per_minute", 0.0) if ctx.settings else 0.0


def keep(ctx: ApiContext, room: Any, record: Any) -> None:
    """The room engine's `on_ended` for an MPC: into the history, by its MPCUUID."""
    body = objects.ended_mpc(room, record, _rate(ctx))
    ctx.history.add(objects.KIND, record.account, record.name, room.mpc_uuid,
                    record.ended_at, body)


# -- the MPC -------------------------------------------------------------------------------

def _moment(name: str, text: str) -> float:
    for fmt in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"):
        try:
            moment = datetime.datetime.strptime(text, fmt)
        except ValueError:
            continue
        return moment.replace(tzinfo=datetime.UTC).timestamp()
    raise bad(name, f"must be YYYY-MM-DD HH:MM[:SS[.ffffff]] (got {text!r})")


def _number(req: ApiRequest, name: str, default: int, low: int, high: int | None) -> int:
    raw = req.text(name, default=str(default))
    if not raw.isdigit() or int(raw) < low or (high is not None and int(raw) > high):
        top = f"..{high}" if high is not None else " or more"
        raise bad(name, f"must be an integer {low}{top} (got {raw!r})")
    return int(raw)


def _epoch(text: str | None) -> float | None:
    if not text:
        return None
    return datetime.datetime.fromisoformat(text).timestamp()


def list_mpcs(ctx: ApiContext, req: ApiRequest):
    limit = _number(req, "limit", MAX_LIMIT, 1, MAX_LIMIT)
    offset = _number(req, "offset", 0, 0, None)
    status = req.text("status").lower()
    if status and status not in STATUSES:
        raise bad("status", f"must be initialized, active or ended (got {status!r})")
    name = req.text("friendly_name")
    cause = req.text("termination_cause_code")
    sub = req.text("sub_account")
    bounds = [(f, _moment(f, req.text(f))) for f in TIME_FILTERS if req.text(f)]
    now = ctx.clock()
    found: dict[str, dict[str, Any]] = {}
    for room in _rooms(ctx, req.account):
        found[room.mpc_uuid] = objects.mpc(room, req.account, now)
    if status in ("", "ended"):
        ended, _ = ctx.history.ended(objects.KIND, req.account, limit=10_000)
        for body in ended:
            found.setdefault(body["mpc_uuid"], body)
    wanted = []
    for body in found.values():
        if sub and sub != req.account:
            continue
        if status and body["status"] != STATUSES[status]:
            continue
        if name and body["friendly_name"] != name:
            continue
        if cause and str(body.get("termination_cause_code")) != cause:
            continue
        if not all(_within(body, f, at) for f, at in bounds):
            continue
        wanted.append(body)
    wanted.sort(key=lambda b: (b["creation_time"], b["mpc_uuid"]), reverse=True)
    page = [{k: v for k, v in b.items() if k != "participants_list"}
            for b in wanted[offset:offset + limit]]
    return 200, {"meta": _meta(req, len(wanted), limit, offset), "objects": page}


def _within(body: dict[str, Any], name: str, at: float) -> bool:
    field, op = name.split("__")
    value = _epoch(body.get(field))
    if value is None:
        return False
    return {"gt": value > at, "gte": value >= at, "lt": value < at, "lte": value <= at}[op]


def _meta(req: ApiRequest, count: int, limit: int, offset: int) -> dict[str, Any]:
    path = req.path if req.path.endswith("/") else req.path + "/"
    others = {k: v for k, v in req.params.items() if k not in ("limit", "offset")}

    def link(at: int) -> str:
        return f"{path}?{urlencode({**others, 'limit': limit, 'offset': at})}"

    return {"count": count, "limit": limit, "offset": offset,
            "next": link(offset + limit) if offset + limit < count else None,
            "previous": link(max(0, offset - limit)) if offset > 0 else None}


def get_mpc(ctx: ApiContext, req: ApiRequest):
    room = _live(ctx, req)
    if room is not None:
        return 200, objects.mpc(room, req.account, ctx.clock())
    ended = _ended(ctx, req)
    if ended is None:
        raise ApiError(404, f"multi party call {req.values['mpc_id']!r} not found")
    return 200, {k: v for k, v in ended.items() if k != "participants_list"}


def start_mpc(ctx: ApiContext, req: ApiRequest):
    """Activate: body `{"status": ["active"]}` (the SDK's) or `"active"`; 404 unless the MPC
    is Initialized."""
    raw = req.params.get("status")
    values = raw if isinstance(raw, list) else [raw]
    if len(values) != 1 or not isinstance(values[0], str) or values[0].lower() != "active":
        raise bad("status", f"must be active (got {raw!r})")
    room = _live(ctx, req)
    if room is None or room.status != MpcState.INITIALIZED:
        raise ApiError(404, f"no initialized multi party call {req.values['mpc_id']!r}")
    _act(ctx, req, room, lambda r: control.activate(r, ctx.clock()))
    return 204, None


def stop_mpc(ctx: ApiContext, req: ApiRequest):
    """End the MPC (3000 Hangup API Triggered); an MPC ending already: 204 all the same."""
    room = _room(ctx, req, ended_too=True)
    _act(ctx, req, room, lambda r: control.hangup(r, ctx.clock()))
    return 204, None


# -- participants --------------------------------------------------------------------------

def list_participants(ctx: ApiContext, req: ApiRequest):
    call_uuid = req.text("call_uuid")
    room = _live(ctx, req)
    if room is not None:
        found = [objects.participant(room, m, req.account) for m in control.present(room)]
    else:
        ended = _ended(ctx, req)
        if ended is None:
            raise ApiError(404, f"multi party call {req.values['mpc_id']!r} not found")
        found = list(ended.get("participants_list", []))
    if call_uuid:
        found = [p for p in found if p["call_uuid"] == call_uuid]
    return 200, {"meta": _meta(req, len(found), max(1, len(found)), 0), "objects": found}


def get_participant(ctx: ApiContext, req: ApiRequest):
    spec = req.values["member_id"]
    room = _live(ctx, req)
    if room is not None:
        member = next((m for m in control.present(room) if str(m.member_id) == spec), None)
        if member is not None:
            return 200, objects.participant(room, member, req.account)
    else:
        ended = _ended(ctx, req)
        if ended is None:
            raise ApiError(404, f"multi party call {req.values['mpc_id']!r} not found")
        for past in reversed(ended.get("participants_list", [])):
            if past["member_id"] == spec:
                return 200, past
    raise ApiError(404, f"multi party call {req.values['mpc_id']!r} has no participant {spec}")


def update_participant(ctx: ApiContext, req: ApiRequest):
    """mute, hold (one id, a comma list or all) and coach_mode (one supervisor's or
    ai-agent's id)."""
    room = _room(ctx, req)
    mute, hold, coach = _flag(req, "mute"), _flag(req, "hold"), _flag(req, "coach_mode")
    if mute is None and hold is None and coach is None:
        raise bad("mute", "give at least one of mute, hold, coach_mode")
    members = _participants(room, req, allow_all=coach is None)
    if coach is not None:
        if len(members) != 1:
            raise bad("member_id", "coach_mode is changed for one member id only")
        if members[0].role not in COACHES:  # a supervisor, or an ai-agent (ours)
            raise bad("coach_mode", f"member {members[0].member_id} is not a supervisor "
                                    f"or an ai-agent")
    now = ctx.clock()

    def decide(r: Any) -> list:
        decisions = []
        if mute is not None:
            decisions += control.mute(r, members, mute, now)
        if hold is not None:
            decisions += control.hold(r, members, hold, now)
        if coach is not None:
            decisions += control.coach(r, members[0], coach, now)
        return decisions

    _act(ctx, req, room, decide)
    said = f"MPC: {room.name}"
    message = {}
    if coach is not None:
        message["coach_mode"] = f"{said} coach mode {'start' if coach else 'stop'} succeeded"
    if mute is not None:
        message["mute"] = f"{said} mute/unmute member(s) succeeded"
    if hold is not None:
        message["hold"] = f"{said} hold/unhold member(s) succeeded"
    return 200, {"message": message, "request_uuid": req.api_id}


def kick_participant(ctx: ApiContext, req: ApiRequest):
    room = _room(ctx, req)
    members = _participants(room, req)
    _act(ctx, req, room, lambda r: control.kick(r, members, ctx.clock()))
    return 204, None


def play(ctx: ApiContext, req: ApiRequest):
    room = _room(ctx, req)
    members = _participants(room, req)
    url = req.text("url", required=True)
    try:
        control.play(room, [], url)  # checks the URL before anything is sent
    except ValueError as exc:
        raise bad("url", str(exc)) from None
    _act(ctx, req, room, lambda r: control.play(r, members, url))
    return 202, {"message": "play queued into MPC",
                 "mpcMemberId": [str(m.member_id) for m in members], "mpcName": room.name}


def stop_play(ctx: ApiContext, req: ApiRequest):
    room = _room(ctx, req)
    members = _participants(room, req)
    _act(ctx, req, room, lambda r: control.stop_play(r, members))
    return 204, None


# -- recording -------------------------------------------------------------------------------

def _recording_args(req: ApiRequest, default_method: str) -> tuple[str, str | None, str]:
    fmt = req.text("file_format", default="mp3").lower()
    if fmt not in ("mp3", "wav"):
        raise bad("file_format", f"must be mp3 or wav (got {fmt!r})")
    url = req.text("recording_callback_url") or None
    if url is not None and not url.startswith(("http://", "https://")):
        raise bad("recording_callback_url", "must be an http(s) URL")
    method = req.text("recording_callback_method", default=default_method).upper()
    if method not in ("GET", "POST"):
        raise bad("recording_callback_method", f"must be GET or POST (got {method!r})")
    return fmt, url, method


def start_recording(ctx: ApiContext, req: ApiRequest):
    room = _room(ctx, req)
    fmt, url, method = _recording_args(req, "POST")
    try:
        mpc_rec_control.check_start(room)
    except ValueError as exc:
        raise bad("uuid", str(exc)) from None
    _act(ctx, req, room, lambda r: mpc_rec_control.start(r, fmt, url, method, ctx.clock()))
    file = room.recorder.file
    return 200, {"message": f"MPC: {room.name} record started",
                 "recording_id": file.recording_id if file else "",
                 "recording_url": file.url if file else ""}


def _recording_step(step):
    def handler(ctx: ApiContext, req: ApiRequest):
        room = _room(ctx, req)
        _act(ctx, req, room, lambda r: step(r, ctx.clock()))
        return 204, None
    return handler


stop_recording = _recording_step(mpc_rec_control.stop)
pause_recording = _recording_step(mpc_rec_control.pause)
resume_recording = _recording_step(mpc_rec_control.resume)


def start_participant_recording(ctx: ApiContext, req: ApiRequest):
    room = _room(ctx, req)
    members = _participants(room, req, allow_all=False)
    if len(members) != 1:
        raise bad("member_id", "a participant's recording is started for one member id")
    (member,) = members
    if room.status != MpcState.ACTIVE:
        raise bad("uuid", f"MPC {room.name!r} is {room.status.value}, not Active")
    fmt, url, method = _recording_args(req, "POST")
    track = req.text("record_track_type", default="all").lower()
    if track not in ("participant", "all", "both"):
        raise bad("record_track_type", f"must be participant, all or both (got {track!r})")
    if member.call_uuid in room.recorder.tracks:
        raise bad("member_id", f"member {member.member_id} is being recorded already")
    _act(ctx, req, room, lambda r: mpc_rec_control.start_track(r, member, fmt, url, method))
    file = room.recorder.tracks.get(member.call_uuid)
    return 200, {"message": f"MPC: {room.name} participant record started",
                 "recording_id": file.recording_id if file else "",
                 "recording_url": file.url if file else ""}


def _track_step(step):
    def handler(ctx: ApiContext, req: ApiRequest):
        room = _room(ctx, req)
        members = _participants(room, req)
        _act(ctx, req, room, lambda r: [d for m in members for d in step(r, m, ctx.clock())])
        return 204, None
    return handler


stop_participant_recording = _track_step(mpc_rec_control.stop_track)
pause_participant_recording = _track_step(mpc_rec_control.pause_track)
resume_participant_recording = _track_step(mpc_rec_control.resume_track)


def add_participant(ctx: ApiContext, req: ApiRequest):
    from plivoxml_fs.api import mpc_add

    return mpc_add.add_participant(ctx, req)
