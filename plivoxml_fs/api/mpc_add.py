"""Adding a participant by API: `POST .../MultiPartyCall/{mpc_id}/Participant/` (docs/api.md).

The request's role and MPC attributes become one `<MultiPartyCall>` document (the body's
snake_case names as the element's attributes: `status_callback_url` -> statusCallbackUrl),
checked as any document is (400 naming the problem), and the call runs it as its document:

- `from` and `to`: the daemon dials `originate {origination_uuid=<new>,
  origination_caller_id_number=<from>,origination_caller_id_name=<caller_name>,
  originate_timeout=<ring_timeout>,plivoxml_account_id=<account>}<mpc_dial_string>` with
  `{to}` replaced (setting `mpc_dial_string`: a gateway in production, `loopback/...` in
  tests); when that leg reaches this daemon's socket it runs the document instead of the
  answer URL's (call/driver.py `CallDriver.inline`). A failed dial is one WARNING line.
  The dial's own parameters (ring_timeout, delay_dial, confirm_key, sip_headers, send_digits,
  call_status_callback_url, ...) and the race of several legs: api/mpc_dial.py; what the MPC
  hears meanwhile (dial_music): api/mpc_dial_music.py.
- `call_uuid`: a call of this daemon seated in one of its rooms (a `<Conference>` or another
  MPC) of the same account is let go from that room, and its document goes on with this one
  (the rest of its old document is not run).

AddParticipantByAPIActionInitiated is posted when the request is taken and
AddParticipantByAPIActionCompleted when the dial is answered (with confirm_key: when a leg
pressed the key; or when every leg failed; or at once for a moved call), with `RequestUUID` (the request's api_id) and `AddParticipantAPIRequestOutcome`
(`success` / `failure`), to the MPC's status callback (its add-participant-api-events
group), when the MPC exists; when the added call creates it, to the request's own status
callback with MPCUUID empty and SequenceNumber 0 (docs/api.md).
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import attrs

from plivoxml_fs.api import mpc_dial
from plivoxml_fs.api.mpc_dial_music import DialMusic
from plivoxml_fs.api.server import ApiError, ApiRequest, bad
from plivoxml_fs.documents import models, parse_document
from plivoxml_fs.effects.webhook import Webhook
from plivoxml_fs.errors import PlivoXMLError
from plivoxml_fs.rooms import mpc_callbacks as cb
from plivoxml_fs.rooms.model import ExitReason, RoomKind
from plivoxml_fs.rooms.mpc_model import MpcState, events_of

log = logging.getLogger("plivoxml_fs.api")

#: Body names that are not `<MultiPartyCall>` attributes but the dial's (api/mpc_dial.py
#: honours or refuses each), the move's, or the path's (`uuid`, `friendly_name`, repeated by
#: the SDK) and `callback_url`/`callback_method` (an asynchronous request's: api/server.py
#: takes them out before the handler runs).
DIAL_NAMES = frozenset({
    "role", "from", "to", "call_uuid", "caller_name", "call_status_callback_url",
    "call_status_callback_method", "sip_headers", "confirm_key", "confirm_key_sound_url",
    "confirm_key_sound_method", "dial_music", "ring_timeout", "delay_dial",
    "create_mpc_with_single_participant", "send_digits", "send_on_preanswer", "uuid",
    "friendly_name", "callback_url", "callback_method",
})
#: The largest document a request can make (its body is at most 64 KiB).
MAX_BYTES = 256 * 1024
#: A document problem about one attribute of the element.
PROBLEM = re.compile(r"<MultiPartyCall> ([A-Za-z]+): (.*)$")
#: What names a call to dial or move, which role ai-agent has none of (the daemon makes it);
#: the dial's other parameters are refused for it as for a moved call (mpc_dial.check_move).
CALL_NAMES = ("to", "from", "call_uuid", "caller_name", "confirm_key", "sip_headers",
              "send_digits")


def _xml_names() -> dict[str, str]:
    """lower-case name without `_` -> the `<MultiPartyCall>` attribute name."""
    names = {}
    for field in attrs.fields(models.MultiPartyCall):
        xml = field.metadata.get(models.XML)
        if xml:
            names[xml.lower()] = xml
    return names


def document(name: str, role: str, params: dict[str, Any]) -> str:
    """The `<MultiPartyCall>` document the request asks for (400 for a name it does not
    know); checked by the document parser, whose problems name the body's parameter (and the
    attribute): `max_duration (maxDuration): must be an integer 300..28800 (got '3')`."""
    known = _xml_names()
    parts = [f"role={quoteattr(role)}"]
    given: dict[str, str] = {}  # attribute -> the body's name for it
    for key, value in params.items():
        if key in DIAL_NAMES or value is None:
            continue
        xml = known.get(key.replace("_", "").lower())
        if xml is None:
            raise bad(key, "is not a parameter of add participant")
        if isinstance(value, dict) and xml == "aiAgentStreamExtraHeaders":
            value = json.dumps(value)  # a JSON object, as the attribute's text holds it
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, (int, float)):
            value = str(value)
        elif not isinstance(value, str):
            raise bad(key, f"must be text, a number or true/false (got {type(value).__name__})")
        given[xml] = key
        parts.append(f"{xml}={quoteattr(value)}")
    text = (f"<Response><MultiPartyCall {' '.join(parts)}>{escape(name)}</MultiPartyCall>"
            "</Response>")
    try:
        parse_document(text.encode(), source="add participant", max_bytes=MAX_BYTES)
    except (PlivoXMLError, ValueError) as exc:
        problems = "; ".join(_named(line.strip(), given) for line in str(exc).splitlines()
                             if line.strip())
        raise ApiError(400, problems) from None
    return text


def _named(problem: str, given: dict[str, str]) -> str:
    """A document problem (`add participant:1:11 <MultiPartyCall> maxDuration: ...`) as the
    body's parameter's: `max_duration (maxDuration): ...`; an attribute not given is named in
    the API's snake_case (`ai_agent_stream_service_url (aiAgentStreamServiceUrl): is required`)."""
    found = PROBLEM.search(problem)
    if found is None:
        return f"add participant: {problem}"
    xml, why = found.group(1), found.group(2)
    key = given.get(xml) or re.sub(r"(?<=[a-z])([A-Z])", r"_\1", xml).lower()
    return f"{key} ({xml}): {why}"


def _event(ctx: Any, room: Any, event: str, req: ApiRequest, outcome: str | None,
           call_uuid: str, to_be: Any = None) -> None:
    """One AddParticipantByAPIAction* callback, through the MPC room (its sequence); with no
    live MPC (the added call creates it), straight to the request's own status callback."""
    extra = {"RequestUUID": req.api_id}
    if outcome is not None:  # Completed names the call it is about: the leg that won
        extra["AddParticipantAPIRequestOutcome"] = outcome
        extra["ParticipantCallUUID"] = call_uuid
    now = ctx.clock()
    if room is None or room.view().status == MpcState.ENDED:
        _event_without_mpc(ctx, event, req, extra, call_uuid, now, to_be)
        return
    ctx.rooms.decide(room, lambda _: room.status_event(event, now, extra, call_uuid=call_uuid))


def _event_without_mpc(ctx: Any, event: str, req: ApiRequest, extra: dict[str, str],
                       call_uuid: str, now: float, to_be: Any) -> None:
    """The MPC does not exist yet: MPCUUID is empty and SequenceNumber 0 (outside the MPC's
    own sequence, which its MPCInitialized starts at 1); the URL, method and event groups
    are the request's (`status_callback_url`, ...), as the MPC it creates will have them."""
    if to_be is None or ctx.emit is None:
        return
    name, mpc = to_be
    if not mpc.status_callback_url or event not in events_of(mpc.status_callback_events):
        return
    params = {"EventName": event, "EventTimestamp": cb.timestamp(now), "MPCUUID": "",
              "MPCName": name, "SequenceNumber": "0", "ParticipantCallUUID": call_uuid,
              **extra}
    try:
        ctx.emit(Webhook(mpc.status_callback_url, mpc.status_callback_method, params,
                         call_uuid, cb.STATUS_KIND, order_key=f"mpc-add-{req.api_id}"))
    except (ValueError, PlivoXMLError) as exc:
        log.error("add participant: %s callback not sent: %s", event, exc,
                  extra={"account": req.account, "api_id": req.api_id})


def add_participant(ctx: Any, req: ApiRequest):
    from plivoxml_fs.api import mpc  # it imports this module

    how, key = mpc.parse_id(req)
    room = mpc.live(ctx, req)
    if room is not None and room.view().status == MpcState.ENDED:
        room = None
    if room is None and how == "uuid":
        raise ApiError(404, f"multi party call {req.values['mpc_id']!r} not found")
    name = room.name if room is not None else key
    role = req.text("role", required=True).lower()
    if role not in ("agent", "supervisor", "customer", models.AI_AGENT):
        raise bad("role", f"must be agent, supervisor, customer or ai-agent (got {role!r})")
    if role == models.AI_AGENT:
        return _add_ai(ctx, req, room, name)
    call_uuid = req.text("call_uuid")
    if call_uuid and (req.text("from") or req.text("to")):
        raise bad("call_uuid", "give call_uuid or from and to, not both")
    text = document(name, role, dict(req.params))
    to_be = None
    if room is None:  # the added call creates the MPC: its callbacks are the request's
        (mpc_model,) = parse_document(text.encode(), source="add participant",
                                      max_bytes=MAX_BYTES).verbs
        to_be = (name, mpc_model)
    if call_uuid:
        mpc_dial.check_move(req, mpc_exists=room is not None)
        return _move(ctx, req, room, call_uuid, text, to_be)
    return _dial(ctx, req, room, text, role, to_be)


def _dial(ctx: Any, req: ApiRequest, room: Any, text: str, role: str, to_be: Any):
    """Dial the participant (api/mpc_dial.py: its parameters, the legs and their race)."""
    mpc_dial.check_template(ctx)
    dial = mpc_dial.dial_parameters(req, role, mpc_exists=room is not None)
    req.acted = True
    sent: list[str] = []
    musics: list[DialMusic] = []  # the dial music, once the dial is under way

    def completed(outcome: str, call_uuid: str) -> None:
        if not sent:  # once per request, whichever leg or failure says it first
            sent.append(outcome)
            for music in musics:
                music.stop()
            _event(ctx, _room_by_name(ctx, req), "AddParticipantByAPIActionCompleted", req,
                   outcome, call_uuid, to_be)

    uuids = [ctx.new_id() for _ in dial.tos]
    _event(ctx, room, "AddParticipantByAPIActionInitiated", req, None, uuids[0], to_be)
    mpc_dial.start(ctx, req, dial, text, completed, uuids)
    music = DialMusic.start(ctx, req, room, dial.music_url)  # after: a dial that never
    if music is not None:  # started must not leave the room its music
        musics.append(music)
        if sent:
            music.stop()
    return 201, {"message": "add participant action initiated", "request_uuid": req.api_id,
                 "calls": [{"to": t, "from": dial.from_, "call_uuid": u}
                           for t, u in zip(dial.tos, uuids, strict=True)]}


def _room_by_name(ctx: Any, req: ApiRequest) -> Any:
    from plivoxml_fs.api import mpc

    room = mpc.live(ctx, req)
    return room if room is not None and room.view().status != MpcState.ENDED else None


def _move(ctx: Any, req: ApiRequest, room: Any, call_uuid: str, text: str, to_be: Any):
    seated = ctx.rooms.room_of(call_uuid)
    member = seated.member_view(call_uuid) if seated is not None else None
    if member is None or seated.scope != req.account or member.member_id is None:
        raise ApiError(404, f"call_uuid: {call_uuid!r} is not a call in a room of this daemon")
    if seated is room:
        raise bad("call_uuid", "the call is in this MPC already")
    if not ctx.connected():
        raise ApiError(503, "FreeSWITCH is not connected: nothing was changed; try again")
    req.acted = True
    ctx.inline[call_uuid] = text
    _event(ctx, room, "AddParticipantByAPIActionInitiated", req, None, call_uuid, to_be)
    now = ctx.clock()
    moved = ExitReason.TRANSFERRED  # Plivo's "Participant Call Transferred"
    if seated.kind == RoomKind.MULTIPARTY_CALL:
        ctx.rooms.decide(seated, lambda _: seated.kick(member.member_id, now, moved))
    else:
        ctx.rooms.decide(seated, lambda _: seated.kick(member.member_id, moved))
    _event(ctx, room, "AddParticipantByAPIActionCompleted", req, "success", call_uuid, to_be)
    params = member.call_params
    return 201, {"message": "add participant action initiated", "request_uuid": req.api_id,
                 "calls": [{"to": params.get("To", ""), "from": params.get("From", ""),
                            "call_uuid": call_uuid}]}


def _add_ai(ctx: Any, req: ApiRequest, room: Any, name: str):
    """role ai-agent: nobody is dialled; the daemon makes the AI participant's loopback pair
    (effects/aiagent.add_by_api) and answers once it is made, with the room leg's call uuid
    (ParticipantCallUUID, the stream's callId). The stream connects in the background: a
    service that refuses is the stream's status callback `failed`, the room goes on."""
    for key in CALL_NAMES:
        if req.text(key):
            raise bad(key, "role ai-agent calls nobody: the daemon makes the AI participant's "
                           "leg itself (give ai_agent_stream_service_url)")
    mpc_dial.check_move(req, mpc_exists=room is not None, what="an ai-agent the daemon makes")
    text = document(name, models.AI_AGENT, dict(req.params))
    parsed = parse_document(text.encode(), source="add participant", max_bytes=MAX_BYTES)
    (mpc,) = parsed.verbs
    to_be = (name, mpc) if room is None else None
    if not ctx.connected() or ctx.add_ai is None:
        raise ApiError(503, "FreeSWITCH is not connected: nothing was changed; try again")
    req.acted = True
    _event(ctx, room, "AddParticipantByAPIActionInitiated", req, None, "", to_be)
    try:
        call_uuid = ctx.add_ai(mpc, parsed, req.account)
    except Exception as exc:  # noqa: BLE001 - it took effect (Initiated): never a 5xx now
        log.error("add participant: the AI participant was not made: %s", exc,
                  extra={"account": req.account, "api_id": req.api_id})
        call_uuid = None
    _event(ctx, _room_by_name(ctx, req), "AddParticipantByAPIActionCompleted", req,
           "success" if call_uuid else "failure", call_uuid or "", to_be)
    return 201, {"message": "add participant action initiated", "request_uuid": req.api_id,
                 "calls": [{"to": "", "from": "", "call_uuid": call_uuid}] if call_uuid else []}
