"""Dialling an added participant (api/mpc_add.py): the body's dial parameters, the originate
commands and, for confirm_key or legs that differ, the race of the legs (docs/api.md).

Every dial parameter of add participant is honoured or refused with a 400 naming it:

- `from`, `caller_name`: the caller id number and name; `ring_timeout`: one number or one per
  `to` (`<`-separated; legs without one ring 45 s), 1..120 s; `delay_dial`: one number or one
  per `to`, 0..120 s before that leg is dialled;
- `sip_headers` (`a=1,b=2`, letters and digits only, Plivo's rule): sent as `X-PH-a: 1` on
  the dialled leg (`sip_h_X-PH-a=1`) and echoed on every request of that leg, as Plivo does;
- `call_status_callback_url`/`_method`: the dialled leg's hangup URL (its hangup callback,
  with Plivo's HangupCauseCode); a leg that never answered gets one too, from here;
- `send_digits`: sent to the called party once it answered (`send_dtmf`, before any confirm
  prompt); `send_on_preanswer=true` is refused: a leg reaches this daemon answered;
- `confirm_key` (one of 0-9, #, *) with `confirm_key_sound_url` (required with it, Plivo: the
  key needs the sound) and `confirm_key_sound_method`: call/confirm.py;
- `dial_music`: `real` (the default) and `none`: the MPC hears nothing of the dial (the
  dialled leg reaches this daemon answered, so there is no ringing to pass on); a URL (audio,
  or a document of Play, Speak and Wait) is what the MPC's members hear while the participant
  is dialled (api/mpc_dial_music.py);
- `create_mpc_with_single_participant=false` is refused when the MPC does not exist (this add
  would create it with this single participant).

Legs: with no confirm_key, no delay and one ring timeout for all, one `originate` rings every
number (`,`): FreeSWITCH keeps the first to answer and hangs the others up with LOSE_RACE.
Otherwise each number is its own `originate` (after its delay) and the legs race at this
daemon's socket (call/confirm.py `Race`): the first to confirm (or, with no key, to answer)
joins; every other leg, ringing or hearing the prompt, is hung up with LOSE_RACE (Plivo's 9000
"Lost Race"). AddParticipantByAPIActionCompleted says `success` once a leg won (its
ParticipantCallUUID), `failure` once every leg is out.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import attrs
import gevent

from plivoxml_fs.api.server import ApiError, ApiRequest, bad
from plivoxml_fs.call import causes
from plivoxml_fs.call import params as call_params
from plivoxml_fs.call.confirm import Confirm, Race
from plivoxml_fs.effects.webhook import Webhook
from plivoxml_fs.errors import PlivoXMLError, UnsafeValue
from plivoxml_fs.fs import arguments, commands

log = logging.getLogger("plivoxml_fs.api")

NUMBER = re.compile(r"[A-Za-z0-9+*#._@:-]{1,64}")
CALLER_NAME = re.compile(r"[^{}\[\],'\"$\\\r\n\0]{1,50}")
#: The most numbers one add participant rings in parallel (`to` as `a<b<c`).
MAX_PARALLEL = 20
#: Ring time of a leg with no ring_timeout of its own, and the bounds, in seconds.
RING_DEFAULT_S, RING_MAX_S = 45, 120
#: The longest delay_dial, in seconds.
DELAY_MAX_S = 120
#: Plivo's sip_headers: names and values of letters and digits.
SIP_HEADER = re.compile(r"[A-Za-z0-9]{1,64}=[A-Za-z0-9]{1,256}")
MAX_SIP_HEADERS = 20
CONFIRM_KEYS = frozenset("0123456789#*")
METHODS = ("GET", "POST")
#: What may not be in a value of the originate `{...}` block.
_BLOCK_SPECIALS = frozenset("{}[],'\"$ \\")
#: How long past its ring time an originate may take to answer, in seconds.
ORIGINATE_SLACK_S = 10
#: How long the entries of a leg that never reached the socket are kept, in seconds.
FORGET_S = 600


@attrs.frozen
class Dial:
    """The dial parameters of one add participant, checked."""

    tos: tuple[str, ...]
    from_: str
    caller_name: str
    rings: tuple[int, ...]  # per leg, seconds
    delays: tuple[int, ...]  # per leg, seconds
    key: str = ""
    sound_url: str = ""
    sound_method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    status_url: str = ""
    status_method: str = "POST"
    send_digits: str = ""
    music_url: str = ""  # dial_music as a URL (api/mpc_dial_music.py); real and none: ""

    @property
    def racing(self) -> bool:
        """The legs race at the daemon's socket (each its own originate)."""
        return bool(self.key) or any(self.delays) or len(set(self.rings)) > 1


def number(req: ApiRequest, name: str) -> str:
    value = req.text(name, required=True)
    if not NUMBER.fullmatch(value):
        raise bad(name, f"must be a number or SIP user of letters, digits and +*#._@:- "
                        f"(got {value[:40]!r})")
    return value


def numbers(req: ApiRequest, role: str) -> tuple[str, ...]:
    """`to` as one number or several separated by `<` (parallel ringing, role agent only)."""
    value = req.text("to", required=True)
    tos = value.split("<")
    if len(tos) > 1 and role != "agent":
        raise bad("to", f"several numbers (separated by <) are allowed only for role agent "
                        f"(got role {role!r})")
    if len(tos) > MAX_PARALLEL:
        raise bad("to", f"at most {MAX_PARALLEL} numbers ring in parallel (got {len(tos)})")
    for one in tos:
        if not NUMBER.fullmatch(one):
            raise bad("to", f"must be numbers or SIP users of letters, digits and +*#._@:-, "
                            f"separated by < (got {value[:40]!r})")
    if len(set(tos)) != len(tos):
        raise bad("to", "names a number twice")
    return tuple(tos)


def _per_leg(req: ApiRequest, name: str, count: int, default: int, low: int,
             high: int) -> tuple[int, ...]:
    """An int or `<`-separated ints, one per leg at most; legs without one get `default`."""
    value = req.text(name, default=str(default))
    parts = value.split("<")
    if len(parts) > count or not all(p.isdigit() and low <= int(p) <= high for p in parts):
        raise bad(name, f"must be {low}..{high} seconds, or one such number per to number "
                        f"separated by < (got {value[:40]!r} for {count} number(s))")
    return tuple(int(p) for p in parts) + (default,) * (count - len(parts))


def _url(req: ApiRequest, name: str) -> str:
    value = req.text(name)
    if not value:
        return ""
    try:
        arguments.media_url(value)
    except UnsafeValue:
        raise bad(name, f"must be an http(s) URL (got {value[:60]!r})") from None
    return value


def _dial_music(req: ApiRequest) -> str:
    """dial_music's URL; "" for real and none (any case)."""
    music = req.text("dial_music", default="real")
    if music.lower() in ("real", "none"):
        return ""
    try:
        arguments.media_url(music)
    except UnsafeValue:
        raise bad("dial_music", f"must be real, none or an http(s) URL (got {music[:60]!r})") \
            from None
    return music


def _method(req: ApiRequest, name: str, default: str) -> str:
    value = req.text(name, default=default).upper()
    if value not in METHODS:
        raise bad(name, f"must be GET or POST (got {value[:10]!r})")
    return value


def _headers(req: ApiRequest) -> tuple[tuple[str, str], ...]:
    value = req.text("sip_headers")
    if not value:
        return ()
    items = value.split(",")
    if len(items) > MAX_SIP_HEADERS or not all(SIP_HEADER.fullmatch(i) for i in items):
        raise bad("sip_headers", f"must be name=value pairs separated by commas, names and "
                                 f"values of letters and digits, at most {MAX_SIP_HEADERS} "
                                 f"(got {value[:60]!r})")
    return tuple(tuple(i.split("=", 1)) for i in items)  # type: ignore[misc]


def _confirm(req: ApiRequest) -> tuple[str, str, str]:
    key = req.text("confirm_key")
    method = _method(req, "confirm_key_sound_method", "GET")
    if not key:
        return "", "", method
    if len(key) != 1 or key not in CONFIRM_KEYS:
        raise bad("confirm_key", f"must be one of 0-9, # or * (got {key[:10]!r})")
    url = _url(req, "confirm_key_sound_url")
    if not url:
        raise bad("confirm_key_sound_url", "is required with confirm_key: the called party "
                                           "must hear which key to press (Plivo's rule)")
    return key, url, method


def dial_parameters(req: ApiRequest, role: str, mpc_exists: bool) -> Dial:
    """The dial the request asks for (400 naming the first parameter that is wrong)."""
    tos, from_ = numbers(req, role), number(req, "from")
    caller_name = req.text("caller_name", default=from_)
    if not CALLER_NAME.fullmatch(caller_name):
        raise bad("caller_name", "must be 1..50 characters without {}[],'\"$ or \\")
    rings = _per_leg(req, "ring_timeout", len(tos), RING_DEFAULT_S, 1, RING_MAX_S)
    delays = _per_leg(req, "delay_dial", len(tos), 0, 0, DELAY_MAX_S)
    music_url = _dial_music(req)
    if _flag(req, "send_on_preanswer"):
        raise bad("send_on_preanswer", "cannot be true: the dialled leg reaches this daemon "
                                       "answered, so send_digits go after the answer")
    if not mpc_exists and not _flag(req, "create_mpc_with_single_participant", True):
        raise bad("create_mpc_with_single_participant", "is false and the MPC does not exist: "
                                                        "this add would create it")
    digits = req.text("send_digits")
    if digits:
        try:
            arguments.send_dtmf(digits)
        except UnsafeValue:
            raise bad("send_digits", f"must be 1..99 of 0-9, A-D, *, # and w/W (pauses) "
                                     f"(got {digits[:40]!r})") from None
    status_url = _url(req, "call_status_callback_url")
    if any(c in _BLOCK_SPECIALS for c in status_url):
        raise bad("call_status_callback_url", "may not hold , { } [ ] ' \" $ \\ or spaces "
                                              "(they would split the dial string)")
    key, sound_url, sound_method = _confirm(req)
    return Dial(tos, from_, caller_name, rings, delays, key, sound_url, sound_method,
                _headers(req), status_url,
                _method(req, "call_status_callback_method", "POST"), digits, music_url)


#: Dial parameters and the values that mean "nothing asked" (the SDK sends some always).
DIAL_ONLY = {"confirm_key": ("",), "confirm_key_sound_url": ("",), "sip_headers": ("",),
             "send_digits": ("",), "call_status_callback_url": ("",), "caller_name": ("",),
             "ring_timeout": ("", str(RING_DEFAULT_S)), "delay_dial": ("", "0"),
             "dial_music": ("", "real"), "send_on_preanswer": ("", "false")}


def check_move(req: ApiRequest, mpc_exists: bool, what: str = "a moved call_uuid") -> None:
    """A moved `call_uuid` (or an ai-agent the daemon makes) is no dial: a dial parameter
    asking for something is 400 naming it (Plivo: call_status_callback_url is for newly
    dialled calls only)."""
    for name, nothing in DIAL_ONLY.items():
        value = req.params.get(name)
        shown = "" if value is None else str(value).lower()
        if shown not in nothing:
            raise bad(name, f"applies to a dialled participant (from and to), not to {what}")
    if not mpc_exists and not _flag(req, "create_mpc_with_single_participant", True):
        raise bad("create_mpc_with_single_participant", "is false and the MPC does not exist: "
                                                        "this add would create it")


def _flag(req: ApiRequest, name: str, default: bool = False) -> bool:
    raw = req.params.get(name)
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool):
        return raw
    if str(raw).lower() in ("true", "false"):
        return str(raw).lower() == "true"
    raise bad(name, f"must be true or false (got {str(raw)[:10]!r})")


def _block(req: ApiRequest, dial: Dial) -> str:
    """The originate's `{...}` variables every leg shares."""
    name = dial.caller_name
    variables = {"origination_caller_id_number": dial.from_,
                 "origination_caller_id_name": f"'{name}'" if " " in name else name,
                 "plivoxml_account_id": req.account}
    for header, value in dial.headers:
        variables[f"sip_h_X-PH-{header}"] = value
    if dial.status_url:
        variables["plivoxml_hangup_url"] = dial.status_url
        variables["plivoxml_hangup_method"] = dial.status_method
    return ",".join(f"{k}={v}" for k, v in variables.items())


def _command(template: str, block: str, legs: list[tuple[str, str]], first_to: str) -> str:
    """`originate {block}[origination_uuid=u]endpoint,... destination`."""
    endpoint, _, rest = template.partition(" ")
    dialled = ",".join(f"[origination_uuid={u}]{endpoint.replace('{to}', t)}" for u, t in legs)
    return f"originate {{{block}}}{dialled}" + (f" {rest.replace('{to}', first_to)}"
                                                if rest else "")


def start(ctx: Any, req: ApiRequest, dial: Dial, text: str, completed: Any,
          uuids: list[str]) -> None:
    """Dial the legs (`uuids`, in `to` order); `completed(outcome, call_uuid)` posts
    AddParticipantByAPIActionCompleted."""
    template = ctx.settings.mpc_dial_string
    block = _block(req, dial)
    for uuid in uuids:
        ctx.inline[uuid] = text
    if not dial.racing and not dial.send_digits:
        command = _command(template, f"{block},originate_timeout={dial.rings[0]}",
                           list(zip(uuids, dial.tos, strict=True)), dial.tos[0])
        gevent.spawn(_originate_all, ctx, req, dial, command, uuids,
                     dial.rings[0] + ORIGINATE_SLACK_S, completed)
        return
    waiting: dict[str, gevent.Greenlet] = {}  # legs whose delay_dial is not over yet
    race = Race(tuple(uuids), lambda won: _won(ctx, req, dial, race, won, waiting, completed),
                lambda: completed("failure", uuids[0]))
    timeout = ctx.settings.confirm_key_timeout_s
    for uuid, to, ring, delay in zip(uuids, dial.tos, dial.rings, dial.delays, strict=True):
        ctx.confirms[uuid] = Confirm(dial.key, dial.sound_url, dial.sound_method, timeout,
                                     race, dial.send_digits)
        command = _command(template, f"{block},originate_timeout={ring}", [(uuid, to)], to)
        waiting[uuid] = gevent.spawn_later(delay, _originate_leg, ctx, req, dial, command,
                                           uuid, to, ring + ORIGINATE_SLACK_S, race, waiting)


def _won(ctx: Any, req: ApiRequest, dial: Dial, race: Race, winner: str,
         waiting: dict[str, Any], completed: Any) -> None:
    completed("success", winner)
    for uuid, to in zip(race.uuids, dial.tos, strict=True):
        if uuid == winner or uuid in race.out:
            continue
        timer = waiting.pop(uuid, None)
        if timer is not None:  # its delay is not over: it is never dialled
            timer.kill(block=False)
            _never_dialled(ctx, req, dial, uuid, to, race)
        else:
            gevent.spawn(_kill, ctx, uuid)


def _never_dialled(ctx: Any, req: ApiRequest, dial: Dial, uuid: str, to: str,
                   race: Race) -> None:
    """Another leg won before this one's delay_dial was over: it is not dialled, and ends
    as a lost race (its call_status_callback_url hears so)."""
    ctx.inline.pop(uuid, None)
    ctx.confirms.pop(uuid, None)
    _unanswered(ctx, req, dial, uuid, to, "-ERR LOSE_RACE")
    race.lose(uuid)


def _kill(ctx: Any, uuid: str) -> None:
    """A leg that lost the race, ringing or hearing the prompt: LOSE_RACE (9000 Lost Race)."""
    try:
        ctx.originate(commands.uuid_kill(uuid, "LOSE_RACE"), ctx.settings.command_timeout_s)
    except Exception as exc:  # noqa: BLE001 - logged; the leg may be gone already
        log.debug("add participant: uuid_kill %s: %s", uuid, exc)


def _reply(ctx: Any, command: str, timeout: float) -> str:
    try:
        return ctx.originate(command, timeout)
    except Exception as exc:  # noqa: BLE001 - whatever it was, the dial failed
        return f"-ERR {exc}"


def _originate_all(ctx: Any, req: ApiRequest, dial: Dial, command: str, uuids: list[str],
                   timeout: float, completed: Any) -> None:
    reply = _reply(ctx, command, timeout)
    ok = reply.startswith("+OK")
    answered = reply[3:].strip() if ok else ""
    winner = answered if answered in uuids else uuids[0]
    for uuid, to in zip(uuids, dial.tos, strict=True):
        if not ok or uuid != winner:  # the losers never reach the socket
            ctx.inline.pop(uuid, None)
            _unanswered(ctx, req, dial, uuid, to, reply if not ok else "-ERR LOSE_RACE")
    if not ok:
        _failed_log(req, uuids, winner, reply)
    completed("success" if ok else "failure", winner)


def _originate_leg(ctx: Any, req: ApiRequest, dial: Dial, command: str, uuid: str, to: str,
                   timeout: float, race: Race, waiting: dict[str, Any]) -> None:
    waiting.pop(uuid, None)
    if race.winner is not None:  # another leg won before this one's delay was over
        _never_dialled(ctx, req, dial, uuid, to, race)
        return
    reply = _reply(ctx, command, timeout)
    if reply.startswith("+OK"):  # the leg goes on at the socket (call/confirm.py)
        gevent.spawn_later(ctx.settings.connect_timeout_s + ctx.settings.command_timeout_s,
                           _arrived, ctx, req, uuid, race)
        return
    ctx.inline.pop(uuid, None)
    ctx.confirms.pop(uuid, None)
    lost = race.winner is not None
    if not lost:
        _failed_log(req, [uuid], uuid, reply)
    _unanswered(ctx, req, dial, uuid, to, "-ERR LOSE_RACE" if lost else reply)
    race.lose(uuid)


def _arrived(ctx: Any, req: ApiRequest, uuid: str, race: Race) -> None:
    """An answered leg that has not reached this daemon's socket by now (refused, or hung up
    on the way) is out of the race, so Completed still comes; should it arrive after all,
    its confirm step hangs it up (LOSE_RACE). Its entries go after FORGET_S."""
    if uuid not in ctx.confirms:
        return  # the driver took it
    log.warning("add participant: the answered call %s did not reach this daemon's socket",
                uuid, extra={"account": req.account, "api_id": req.api_id, "call_uuid": uuid})
    race.lose(uuid)
    gevent.spawn_later(FORGET_S, _forget, ctx, uuid)


def _forget(ctx: Any, uuid: str) -> None:
    ctx.confirms.pop(uuid, None)
    ctx.inline.pop(uuid, None)


def _failed_log(req: ApiRequest, uuids: list[str], winner: str, reply: str) -> None:
    log.warning("add participant: the call %s was not made: %s", ",".join(uuids),
                reply.strip()[:200],
                extra={"account": req.account, "api_id": req.api_id, "call_uuid": winner})


def _unanswered(ctx: Any, req: ApiRequest, dial: Dial, uuid: str, to: str,
                reply: str) -> None:
    """The hangup callback of a leg that never answered (it never reached the socket, so
    the driver posts none): to call_status_callback_url, with Plivo's cause."""
    if not dial.status_url or ctx.emit is None:
        return
    cause = reply.removeprefix("-ERR").strip().split()[0] if reply.strip() else ""
    cause = cause if commands.HANGUP_CAUSE.fullmatch(cause or "-") else "NORMAL_UNSPECIFIED"
    plivo = causes.classify(cause, source=None, answered=False, outbound=True)
    params = {"CallUUID": uuid, "From": dial.from_, "To": to, "CallerName": dial.caller_name,
              "Direction": "outbound", "Event": "Hangup",
              "CallStatus": call_params.unanswered_status(cause),
              "HangupCause": cause, "HangupCauseCode": str(plivo.code),
              "HangupCauseName": plivo.name, "HangupSource": plivo.source,
              "Duration": "0", "BillDuration": "0", "AnswerTime": "",
              **{f"X-PH-{h}": v for h, v in dial.headers}}
    try:
        ctx.emit(Webhook(dial.status_url, dial.status_method, params, uuid, "hangup"))
    except (ValueError, PlivoXMLError) as exc:
        log.error("add participant: %s hangup callback not sent: %s", uuid, exc,
                  extra={"account": req.account, "api_id": req.api_id, "call_uuid": uuid})


def check_template(ctx: Any) -> str:
    template = ctx.settings.mpc_dial_string if ctx.settings is not None else ""
    if not template:
        raise bad("to", "this daemon dials no participants: set mpc_dial_string")
    if not ctx.connected() or ctx.originate is None:
        raise ApiError(503, "FreeSWITCH is not connected: nothing was changed; try again")
    return template
