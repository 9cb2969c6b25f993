"""The Plivo request parameters of a call: what answer, action, redirect and hangup URLs receive.

Built from FreeSWITCH channel data (the `connect` reply, or a CHANNEL_HANGUP event), following
the parameters Plivo documents for voice calls (docs/voice/xml/request and the Application's
answer/hangup URL tables, gathered in reference/plivo-hangup-causes.md §1):

- every request: `CallUUID`, `From`, `To`, `CallerName`, `Direction`, `CallStatus`,
  `ForwardedFrom` when the call carries a redirecting number (FreeSWITCH `Caller-RDNIS`), and
  each custom SIP header `X-PH-*` the call arrived with (FreeSWITCH `variable_sip_h_X-PH-*`),
  echoed as Plivo echoes them;
- the answer (and fallback) URL adds `Event=StartApp`, as Plivo's answer requests carry;
- the hangup URL adds `Event=Hangup`, `HangupCause` (FreeSWITCH's Q.850-style name, as Plivo's
  open-source framework sent it), `HangupCauseCode` and `HangupCauseName` (Plivo's cause table,
  `call.causes`), `HangupSource`, `Duration`, `BillDuration`, `StartTime`, `AnswerTime` (empty
  when never answered), `EndTime` and `SessionStart` (when media began: early media, else the
  answer; empty when there was none).

`hangup_params` is the one place the hangup URL's parameters are built: it takes the facts
(the channel data, FreeSWITCH's hangup event if any, the cause, who ended the call, the
daemon's own reason, the times) so every path that reports a call's end uses it.

Left out on purpose:
- `ALegUUID` / `ALegRequestUUID` / `RequestUUID`: Plivo sends them only for calls made through
  its Call API; this daemon does not originate calls, so it has no such request to name.
- `STIRAttestation` / `stir_verification`: Plivo's own STIR/SHAKEN verification result;
  FreeSWITCH 1.10.12 verifies nothing, and an unverified Identity header is no result.
- `machine`: there is no answering-machine detection here.
- Billing parameters (`TotalCost`, `BillRate`): there is no billing here.

Times are UTC, formatted as Plivo does (`yyyy-MM-dd HH:mm:ss`; SessionStart with microseconds).
Durations are whole seconds, computed as FreeSWITCH computes `duration` and `billsec`
(difference of the epoch seconds).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping

from plivoxml_fs.call import causes
from plivoxml_fs.esl.messages import Event

#: CallStatus values Plivo uses while a call is up.
RINGING = "ringing"
IN_PROGRESS = "in-progress"
COMPLETED = "completed"

#: HangupSource values (Plivo's list of hangup sources; all of them are in call.causes).
SOURCE_CALLER = causes.CALLER
SOURCE_ANSWER_XML = causes.ANSWER_XML
SOURCE_PLIVO = causes.PLIVO
SOURCE_ERROR = causes.ERROR
SOURCE_UNKNOWN = causes.UNKNOWN_SOURCE
#: Channel variables of the custom SIP headers Plivo echoes (`X-PH-*`), and the prefix kept.
SIP_HEADER_VARIABLE, _CUSTOM_HEADER = "variable_sip_h_", "X-PH-"
#: Ours, not Plivo's: the daemon that ran the call stopped (kill -9, crash) before the call
#: ended, and the next one posted its hangup callback (effects/recovery.py).
SOURCE_RESTART = "Daemon Restart"

#: How an unanswered outbound call's hangup cause becomes Plivo's CallStatus.
_UNANSWERED_STATUS = {
    "USER_BUSY": "busy",
    "NO_ANSWER": "no-answer",
    "NO_USER_RESPONSE": "no-answer",
    "ORIGINATOR_CANCEL": "no-answer",
    "LOSE_RACE": "no-answer",  # another leg of a parallel dial answered (or confirmed) first
    "ALLOTTED_TIMEOUT": "timeout",
    "RECOVERY_ON_TIMER_EXPIRE": "timeout",
}

_MICROS = 1_000_000

#: The `Event` parameter of the answer URL's request.
START_APP = {"Event": "StartApp"}


def _first(event: Event, *names: str) -> str:
    for name in names:
        value = event.get(name)
        if value:
            return value
    return ""


def direction(channel: Event) -> str:
    """Plivo's Direction: `outbound` for legs FreeSWITCH originated, else `inbound`."""
    value = _first(channel, "Call-Direction", "Caller-Direction", "variable_direction")
    return "outbound" if value == "outbound" else "inbound"


def status_of(channel: Event) -> str:
    """CallStatus from FreeSWITCH's Answer-State."""
    state = channel.get("Answer-State", "")
    if state == "answered":
        return IN_PROGRESS
    if state == "hangup":
        return COMPLETED
    return RINGING


def call_params(channel: Event, *, status: str) -> dict[str, str]:
    """The parameters every request about this call carries."""
    params = {
        "CallUUID": _first(channel, "Unique-ID", "Channel-Unique-ID", "Caller-Unique-ID"),
        "From": _first(channel, "Caller-Caller-ID-Number", "Channel-Caller-ID-Number"),
        "To": _first(channel, "Caller-Destination-Number", "Channel-Destination-Number"),
        "CallerName": _first(channel, "Caller-Caller-ID-Name", "Channel-Caller-ID-Name"),
        "Direction": direction(channel),
        "CallStatus": status,
    }
    forwarded = _first(channel, "Caller-RDNIS", "variable_sip_rdnis")
    if forwarded:
        params["ForwardedFrom"] = forwarded
    params.update(custom_headers(channel))
    return params


def custom_headers(channel: Event) -> dict[str, str]:
    """The `X-PH-*` SIP headers the call arrived with (name as sent, value as FreeSWITCH kept)."""
    found = {}
    for name, value in channel.starting_with(SIP_HEADER_VARIABLE).items():
        header = name[len(SIP_HEADER_VARIABLE):]
        if header[: len(_CUSTOM_HEADER)].upper() == _CUSTOM_HEADER.upper() and value:
            found[header] = value
    return found


def _micros(event: Event | None, name: str) -> int:
    if event is None:
        return 0
    raw = event.get(name, "") or ""
    return int(raw) if raw.isdigit() else 0


def format_time(micros: int, *, fraction: bool = False) -> str:
    """`yyyy-MM-dd HH:mm:ss` (`.ffffff` with `fraction`) in UTC, or "" for 0 (never happened)."""
    if micros <= 0:
        return ""
    moment = datetime.datetime.fromtimestamp(micros // _MICROS, tz=datetime.UTC)
    moment = moment.replace(microsecond=micros % _MICROS)
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f" if fraction else "%Y-%m-%d %H:%M:%S")


def _seconds_between(start_us: int, end_us: int) -> int:
    if start_us <= 0 or end_us <= 0:
        return 0
    return max(0, end_us // _MICROS - start_us // _MICROS)


def final_status(channel: Event, cause: str, answered: bool) -> str:
    """CallStatus at hangup: `completed`, or for an unanswered outbound leg why it failed."""
    if answered or direction(channel) == "inbound":
        return COMPLETED
    return unanswered_status(cause)


def unanswered_status(cause: str) -> str:
    """CallStatus of an outbound leg that hung up with `cause` before it was answered."""
    return _UNANSWERED_STATUS.get(cause, "failed")


def hangup_params(
    channel: Event,
    hangup_event: Event | None,
    *,
    cause: str,
    source: str | None,
    answered_us: int,
    now_us: int,
    reason: causes.Row | None = None,
) -> dict[str, str]:
    """The hangup URL's parameters, from the facts of the call's end.

    `hangup_event` (CHANNEL_HANGUP or _COMPLETE) wins for the cause and the times when there is
    one; otherwise (the connection was lost, the daemon restarted) `cause`, `answered_us` (when
    the answer was seen) and `now_us` stand in. `source` is the HangupSource when the teller
    knows it, None when FreeSWITCH ended the call (the cause table then names it); `reason` is
    the daemon's own reason for ending it (a `causes` row: END_OF_XML, FETCH_FAILED[...], ...),
    which decides HangupCauseCode/Name; without one the FreeSWITCH cause does.
    """
    if hangup_event is not None:
        cause = hangup_event.get("Hangup-Cause") or cause
    created = _micros(hangup_event, "Caller-Channel-Created-Time") or _micros(
        channel, "Caller-Channel-Created-Time"
    )
    answered = _micros(hangup_event, "Caller-Channel-Answered-Time") or answered_us
    early = _micros(hangup_event, "Caller-Channel-Progress-Media-Time") or _micros(
        channel, "Caller-Channel-Progress-Media-Time"
    )
    ended = (
        _micros(hangup_event, "Caller-Channel-Hangup-Time")
        or _micros(hangup_event, "Event-Date-Timestamp")
        or now_us
    )
    plivo = causes.classify(
        cause,
        source=source,
        answered=answered > 0,
        outbound=direction(channel) == "outbound",
        sip_status=_sip_status(hangup_event, channel),
        reason=reason,
    )
    params = call_params(channel, status=final_status(channel, cause, answered > 0))
    params.update(
        {
            "Event": "Hangup",
            "HangupCause": cause,
            "HangupCauseCode": str(plivo.code),
            "HangupCauseName": plivo.name,
            "HangupSource": plivo.source,
            "Duration": str(_seconds_between(created, ended)),
            "BillDuration": str(_seconds_between(answered, ended)),
            "StartTime": format_time(created),
            "AnswerTime": format_time(answered),
            "EndTime": format_time(ended),
            "SessionStart": format_time(_earliest(early, answered), fraction=True),
        }
    )
    return params


def _earliest(*micros: int) -> int:
    """The earliest of the times that happened (> 0), or 0."""
    return min((t for t in micros if t > 0), default=0)


def _sip_status(*events: Event | None) -> str:
    """The SIP final code FreeSWITCH recorded for the call (`sip_term_status`), if any."""
    for event in events:
        if event is not None:
            found = _first(event, "variable_sip_term_status", "variable_sip_invite_failure_status")
            if found:
                return found
    return ""


def merged(base: Mapping[str, str], extra: Mapping[str, str]) -> dict[str, str]:
    """Call parameters plus a verb's own (an action URL's ConferenceName, ...); extra wins."""
    result = dict(base)
    result.update(extra)
    return result
