"""The Multi-party Call API's objects (docs/api.md, "Multi-party calls"): the MPC and its
participants with Plivo's field names and types, live (from the MPC room's snapshots:
rooms/views.py `MpcView`, `MemberView`) and ended (from the `RoomRecord` the room engine
hands over, kept in the history).

MPC: `mpc_uuid`, `friendly_name`, `status` (Initialized, Active, Ended), `creation_time`,
`start_time`, `end_time` (null until then), `duration`, `billed_duration` (int s) and
`billed_amount` (USD text) null until the end, `max_participants`, `max_duration`,
`stay_alone` (the first participant's), `recording` (not-recording, recording, paused),
`participants` and `resource_uri` (paths, by uuid), `termination_cause(_code)` (null while
live), `sub_account` (the account when it is a subaccount, SA...).

Participant: `member_id` (a string), `mpc_uuid`, `call_uuid`, `role` (lower case),
`coach_mode`, `mute`, `hold` (null once it left), `join_time`, `exit_time`, `duration`,
`billed_duration`, `billed_amount`, `exit_cause` (null while present), `start_mpc_on_enter`,
`end_mpc_on_exit`, `member_address` (the call's To or From, as it reached us), `resource_uri`.
"""

from __future__ import annotations

from typing import Any

from plivoxml_fs.api.objects import timestamp
from plivoxml_fs.rooms import mpc_callbacks as cb
from plivoxml_fs.rooms.history import RoomRecord, Stay
from plivoxml_fs.rooms.model import ExitReason
from plivoxml_fs.rooms.mpc_model import COACHES, EXIT_CAUSES
from plivoxml_fs.rooms.views import MemberView, MpcView

KIND = "multipartycall"


def base(account: str) -> str:
    return f"/v1/Account/{account}/MultiPartyCall"


def _sub_account(account: str) -> str | None:
    return f"/v1/Account/{account}/Subaccount/{account}/" if account.startswith("SA") else None


def _participant_flags(participant: Any) -> dict[str, bool]:
    return {"start_mpc_on_enter": bool(participant.start_mpc_on_enter) if participant else True,
            "end_mpc_on_exit": bool(participant.end_mpc_on_exit) if participant else False}


def _address(params: Any) -> str:
    return params.get("To", "") if params.get("Direction") == "outbound" else params.get(
        "From", "")


def participant(mpc_uuid: str, m: MemberView, account: str) -> dict[str, Any]:
    """A participant in the MPC now (`MpcRoom.present()`)."""
    coaching = m.coaching if m.role in COACHES else False
    mid = str(m.member_id)
    return {
        "member_id": mid, "mpc_uuid": mpc_uuid, "call_uuid": m.call_uuid,
        "role": m.role.value.lower(), "coach_mode": bool(coaching), "mute": m.muted,
        "hold": m.held, "join_time": timestamp(m.joined_at) if m.joined_at else None,
        "exit_time": None, "duration": None, "billed_duration": None, "billed_amount": None,
        "exit_cause": None, **_participant_flags(m.participant),
        "member_address": _address(m.call_params),
        "resource_uri": f"{base(account)}/uuid_{mpc_uuid}/Participant/{mid}/",
    }


def past_participant(mpc_uuid: str, stay: Stay, account: str, rate: float) -> dict[str, Any]:
    duration = max(0, int(stay.left_at - stay.joined_at))
    billed, amount = cb.billing(duration, rate)
    try:
        cause = EXIT_CAUSES[ExitReason(stay.reason)]
    except ValueError:
        cause = stay.reason
    mid = str(stay.member_id)
    return {
        "member_id": mid, "mpc_uuid": mpc_uuid, "call_uuid": stay.call_uuid,
        "role": (stay.role or "").lower(), "coach_mode": None, "mute": None, "hold": None,
        "join_time": timestamp(stay.joined_at), "exit_time": timestamp(stay.left_at),
        "duration": duration, "billed_duration": billed, "billed_amount": amount,
        "exit_cause": cause, **stay.options, "member_address": _address(stay.params),
        "resource_uri": f"{base(account)}/uuid_{mpc_uuid}/Participant/{mid}/",
    }


def mpc(room: MpcView, account: str, now: float) -> dict[str, Any]:
    """A live MPC (or one ending: its members are being let go): `MpcRoom.view()`."""
    ended = room.ended_at
    body = _common(room, account)
    participant_ = room.creator.participant if room.creator is not None else None
    duration = max(0, round(ended - room.since)) if ended is not None else None
    billed = cb.billing(duration, room.rate_per_minute) if duration is not None \
        else (None, None)
    body.update({
        "status": room.status.value,
        "creation_time": timestamp(room.since),
        "start_time": timestamp(room.started_at) if room.started_at else None,
        "end_time": timestamp(ended) if ended is not None else None,
        "duration": duration, "billed_duration": billed[0], "billed_amount": billed[1],
        "stay_alone": bool(participant_.stay_alone) if participant_ else False,
        "recording": room.recording,
        "termination_cause": room.termination.cause if room.termination else None,
        "termination_cause_code": room.termination.code if room.termination else None,
    })
    return body


def ended_mpc(room: MpcView, record: RoomRecord, rate: float) -> dict[str, Any]:
    """An ended MPC, as the history keeps it (`participants_list`: each stay)."""
    body = mpc(room, record.account, record.ended_at)
    body["status"] = "Ended"
    body["recording"] = "not-recording"
    body["participants_list"] = [past_participant(room.mpc_uuid, s, record.account, rate)
                                 for s in record.stays]
    return body


def _common(room: MpcView, account: str) -> dict[str, Any]:
    return {
        "mpc_uuid": room.mpc_uuid, "friendly_name": room.name,
        "max_participants": room.max_participants,
        "max_duration": room.max_duration_s,
        "participants": f"{base(account)}/uuid_{room.mpc_uuid}/Participant/",
        "resource_uri": f"{base(account)}/uuid_{room.mpc_uuid}/",
        "sub_account": _sub_account(account),
    }
