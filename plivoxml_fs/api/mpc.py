"""Plivo's Multi-party Call API on this daemon's `<MultiPartyCall>` rooms (docs/api.md; the
routes: api/routes.py; the objects: api/mpc_objects.py).

`{mpc_id}` is `uuid_<mpc_uuid>` or `name_<friendly_name>`. By name: the account's live MPC
of that name (Plivo: an ended MPC is read by uuid only). By uuid: the live MPC, else the
history's. Another account's MPC is never found (404). Changes run as pure room inputs
(rooms/mpc_control.py, mpc_rec_control.py) through `RoomEngine.decide`, as the Conference
API's do; reads go through the room's snapshots (`MpcRoom.view()`, `present()`).
"""

from __future__ import annotations

import datetime
from typing import Any
from urllib.parse import urlencode

from plivoxml_fs.api import mpc_objects as objects
from plivoxml_fs.api.conference import ApiContext, decide
from plivoxml_fs.api.server import ApiError, ApiRequest, bad
from plivoxml_fs.rooms import mpc_control as control
from plivoxml_fs.rooms import mpc_rec_control
from plivoxml_fs.rooms.model import RoomKind
from plivoxml_fs.rooms.mpc_model import COACHES, MpcState
from plivoxml_fs.rooms.views import MemberView, RecordingFile

KIND = RoomKind.MULTIPARTY_CALL
STATUSES = {"initialized": "Initialized", "active": "Active", "ended": "Ended"}
TIME_FILTERS = [f"{field}__{op}" for field in ("creation_time", "end_time")
                for op in ("gt", "gte", "lt", "lte")]
MAX_LIMIT = 20


# -- finding ---------------------------------------------------------------------------------

def parse_id(req: ApiRequest) -> tuple[str, str]:
    """`{mpc_id}` as ("uuid", MPCUUID) or ("name", friendly name); 404 for anything else."""
    raw = req.values["mpc_id"]
    for prefix in ("uuid_", "name_"):
        if raw.startswith(prefix) and len(raw) > len(prefix):
            return prefix[:-1], raw[len(prefix):]
    raise ApiError(404, f"multi party call {raw!r} not found: give uuid_<mpc_uuid> or "
                        f"name_<friendly_name>")


def live(ctx: ApiContext, req: ApiRequest) -> Any | None:
    """The MPC room `{mpc_id}` names (by uuid: an ending one too), None when none."""
    how, key = parse_id(req)
    for room in ctx.rooms.made(req.account, KIND):
        mpc = room.view()
        if how == "uuid" and mpc.mpc_uuid == key:
            return room
        if how == "name" and mpc.name == key and mpc.status != MpcState.ENDED:
            return room
    return None


def _room(ctx: ApiContext, req: ApiRequest, *, ended_too: bool = False) -> Any:
    """The live MPC (404 when none; an MPC ending counts only with `ended_too`)."""
    room = live(ctx, req)
    if room is None or (room.view().status == MpcState.ENDED and not ended_too):
        raise ApiError(404, f"multi party call {req.values['mpc_id']!r} not found")
    return room


def _ended(ctx: ApiContext, req: ApiRequest) -> dict[str, Any] | None:
    how, key = parse_id(req)
    if how != "uuid":
        return None
    return ctx.history.by_uuid(objects.KIND, req.account, key)


def _participants(room: Any, req: ApiRequest, *, allow_all: bool = True) -> list[MemberView]:
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
    mpc = room.view()
    body = objects.ended_mpc(mpc, record, _rate(ctx))
    ctx.history.add(objects.KIND, record.account, record.name, mpc.mpc_uuid,
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
    for room in ctx.rooms.made(req.account, KIND):
        mpc = room.view()
        found[mpc.mpc_uuid] = objects.mpc(mpc, req.account, now)
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
    room = live(ctx, req)
    if room is not None:
        return 200, objects.mpc(room.view(), req.account, ctx.clock())
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
    room = live(ctx, req)
    if room is None or room.view().status != MpcState.INITIALIZED:
        raise ApiError(404, f"no initialized multi party call {req.values['mpc_id']!r}")
    decide(ctx, req, room, lambda now: control.activate(room, now))
    return 204, None


def stop_mpc(ctx: ApiContext, req: ApiRequest):
    """End the MPC (3000 Hangup API Triggered); an MPC ending already: 204 all the same."""
    room = _room(ctx, req, ended_too=True)
    decide(ctx, req, room, lambda now: control.hangup(room, now))
    return 204, None


# -- participants --------------------------------------------------------------------------

def list_participants(ctx: ApiContext, req: ApiRequest):
    call_uuid = req.text("call_uuid")
    room = live(ctx, req)
    if room is not None:
        mpc_uuid = room.view().mpc_uuid
        found = [objects.participant(mpc_uuid, m, req.account) for m in room.present()]
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
    room = live(ctx, req)
    if room is not None:
        member = next((m for m in room.present() if str(m.member_id) == spec), None)
        if member is not None:
            return 200, objects.participant(room.view().mpc_uuid, member, req.account)
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

    def change(now: float) -> list:
        decisions = []
        if mute is not None:
            decisions += control.mute(room, members, mute, now)
        if hold is not None:
            decisions += control.hold(room, members, hold, now)
        if coach is not None:
            decisions += control.coach(room, members[0], coach, now)
        return decisions

    decide(ctx, req, room, change)
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
    decide(ctx, req, room, lambda now: control.kick(room, members, now))
    return 204, None


def play(ctx: ApiContext, req: ApiRequest):
    room = _room(ctx, req)
    members = _participants(room, req)
    url = req.text("url", required=True)
    try:
        control.play(room, [], url)  # checks the URL before anything is sent
    except ValueError as exc:
        raise bad("url", str(exc)) from None
    decide(ctx, req, room, lambda _: control.play(room, members, url))
    return 202, {"message": "play queued into MPC",
                 "mpcMemberId": [str(m.member_id) for m in members], "mpcName": room.name}


def stop_play(ctx: ApiContext, req: ApiRequest):
    room = _room(ctx, req)
    members = _participants(room, req)
    decide(ctx, req, room, lambda _: control.stop_play(room, members))
    return 204, None


# -- recording -------------------------------------------------------------------------------

def _recording_args(req: ApiRequest, default_method: str) -> tuple[str, str | None, str]:
    fmt = req.text("file_format", default="mp3").lower()
    if fmt not in ("mp3", "wav"):
        raise bad("file_format", f"must be mp3 or wav (got {fmt!r})")
    url, method = req.callback("recording_callback_url", "recording_callback_method",
                               default_method=default_method)
    return fmt, url, method


def start_recording(ctx: ApiContext, req: ApiRequest):
    room = _room(ctx, req)
    fmt, url, method = _recording_args(req, "POST")
    try:
        mpc_rec_control.check_start(room)
    except ValueError as exc:
        raise bad("uuid", str(exc)) from None
    decide(ctx, req, room, lambda now: mpc_rec_control.start(room, fmt, url, method, now))
    return _started(f"MPC: {room.name} record started", room.view().recording_file)


def _recording_step(step, *, per_participant: bool = False):
    """A 204 handler running `step(room, now)` (the MPC's recording), or with
    `per_participant` `step(room, member, now)` for each participant `{member_id}` names."""
    def handler(ctx: ApiContext, req: ApiRequest):
        room = _room(ctx, req)
        if per_participant:
            members = _participants(room, req)
            decide(ctx, req, room, lambda now: [d for m in members for d in step(room, m, now)])
        else:
            decide(ctx, req, room, lambda now: step(room, now))
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
    mpc = room.view()
    if mpc.status != MpcState.ACTIVE:
        raise bad("uuid", f"MPC {mpc.name!r} is {mpc.status.value}, not Active")
    fmt, url, method = _recording_args(req, "POST")
    track = req.text("record_track_type", default="all").lower()
    if track not in ("participant", "all", "both"):
        raise bad("record_track_type", f"must be participant, all or both (got {track!r})")
    if member.call_uuid in mpc.tracks:
        raise bad("member_id", f"member {member.member_id} is being recorded already")
    decide(ctx, req, room, lambda _: mpc_rec_control.start_track(room, member, fmt, url, method))
    return _started(f"MPC: {room.name} participant record started",
                    room.view().tracks.get(member.call_uuid))


def _started(message: str, file: RecordingFile | None) -> tuple[int, dict[str, str]]:
    """A recording start's answer: the file FreeSWITCH is asked to write (none: "")."""
    return 200, {"message": message, "recording_id": file.recording_id if file else "",
                 "recording_url": file.url if file else ""}


stop_participant_recording = _recording_step(mpc_rec_control.stop_track, per_participant=True)
pause_participant_recording = _recording_step(mpc_rec_control.pause_track, per_participant=True)
resume_participant_recording = _recording_step(mpc_rec_control.resume_track,
                                               per_participant=True)


def add_participant(ctx: ApiContext, req: ApiRequest):
    from plivoxml_fs.api import mpc_add

    return mpc_add.add_participant(ctx, req)
