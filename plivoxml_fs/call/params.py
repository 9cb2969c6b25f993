"""The Plivo request parameters of a call: what answer, action, redirect and hangup URLs receive.

Built from FreeSWITCH channel data (the `connect` reply, or a CHANNEL_HANGUP event), following
the parameters Plivo documents for voice calls (docs/voice/xml/request and the Application's
answer/hangup URL tables):

- every request: `CallUUID`, `From`, `To`, `CallerName`, `Direction`, `CallStatus`, and
  `ForwardedFrom` when the call carries a redirecting number (FreeSWITCH `Caller-RDNIS`);
- the answer (and fallback) URL adds `Event=StartApp`, as Plivo's answer requests carry;
- the hangup URL adds `Event=Hangup`, `HangupCause`, `HangupSource`, `Duration`,
  `BillDuration`, `StartTime`, `AnswerTime` (empty when never answered) and `EndTime`.

Left out on purpose:
- `ALegUUID` / `ALegRequestUUID`: Plivo sends them only for calls made through its Call API;
  this daemon does not originate calls, so it has no such request to name.
- `HangupCauseName` / `HangupCauseCode`: Plivo's own cause table (4000 "Normal Hangup", ...) is
  partly internal to its platform; rather than invent codes we send the standard telephony cause
  (`HangupCause`, e.g. NORMAL_CLEARING, as Plivo's open-source framework did) and `HangupSource`.
- Billing parameters (`TotalCost`, `BillRate`): there is no billing here.

Times are UTC, formatted as Plivo does (`yyyy-MM-dd HH:mm:ss`). Durations are whole seconds,
computed as FreeSWITCH computes `duration` and `billsec` (difference of the epoch seconds).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping

from plivoxml_fs.esl.messages import Event

#: CallStatus values Plivo uses while a call is up.
RINGING = "ringing"
IN_PROGRESS = "in-progress"
COMPLETED = "completed"

#: HangupSource values (Plivo's list of hangup sources).
SOURCE_CALLER = "Caller"
SOURCE_ANSWER_XML = "Answer XML"
SOURCE_PLIVO = "Plivo"
SOURCE_ERROR = "Error"
SOURCE_UNKNOWN = "Unknown"
#: Ours, not Plivo's: the daemon that ran the call stopped (kill -9, crash) before the call
#: ended, and the next one posted its hangup callback (effects/recovery.py).
SOURCE_RESTART = "Daemon Restart"

#: How an unanswered outbound call's hangup cause becomes Plivo's CallStatus.
_UNANSWERED_STATUS = {
    "USER_BUSY": "busy",
    "NO_ANSWER": "no-answer",
    "NO_USER_RESPONSE": "no-answer",
    "ORIGINATOR_CANCEL": "no-answer",
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
    return params


def _micros(event: Event | None, name: str) -> int:
    if event is None:
        return 0
    raw = event.get(name, "") or ""
    return int(raw) if raw.isdigit() else 0


def format_time(micros: int) -> str:
    """`yyyy-MM-dd HH:mm:ss` in UTC, or "" for 0 (never happened)."""
    if micros <= 0:
        return ""
    moment = datetime.datetime.fromtimestamp(micros / _MICROS, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _seconds_between(start_us: int, end_us: int) -> int:
    if start_us <= 0 or end_us <= 0:
        return 0
    return max(0, end_us // _MICROS - start_us // _MICROS)


def final_status(channel: Event, cause: str, answered: bool) -> str:
    """CallStatus at hangup: `completed`, or for an unanswered outbound leg why it failed."""
    if answered or direction(channel) == "inbound":
        return COMPLETED
    return _UNANSWERED_STATUS.get(cause, "failed")


def hangup_params(
    channel: Event,
    hangup_event: Event | None,
    *,
    cause: str,
    source: str,
    answered_us: int,
    now_us: int,
) -> dict[str, str]:
    """The hangup URL's parameters.

    `hangup_event` (CHANNEL_HANGUP or _COMPLETE) wins for the cause and the times when there is
    one; otherwise (the connection was lost) `cause`, `answered_us` (when we saw the answer) and
    `now_us` stand in.
    """
    if hangup_event is not None:
        cause = hangup_event.get("Hangup-Cause") or cause
    created = _micros(hangup_event, "Caller-Channel-Created-Time") or _micros(
        channel, "Caller-Channel-Created-Time"
    )
    answered = _micros(hangup_event, "Caller-Channel-Answered-Time") or answered_us
    ended = (
        _micros(hangup_event, "Caller-Channel-Hangup-Time")
        or _micros(hangup_event, "Event-Date-Timestamp")
        or now_us
    )
    params = call_params(channel, status=final_status(channel, cause, answered > 0))
    params.update(
        {
            "Event": "Hangup",
            "HangupCause": cause,
            "HangupSource": source,
            "Duration": str(_seconds_between(created, ended)),
            "BillDuration": str(_seconds_between(answered, ended)),
            "StartTime": format_time(created),
            "AnswerTime": format_time(answered),
            "EndTime": format_time(ended),
        }
    )
    return params


def merged(base: Mapping[str, str], extra: Mapping[str, str]) -> dict[str, str]:
    """Call parameters plus a verb's own (an action URL's ConferenceName, ...); extra wins."""
    result = dict(base)
    result.update(extra)
    return result
