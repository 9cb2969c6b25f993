"""What `<MultiPartyCall>` callbacks carry (docs/multipartycall.md).

- Status callbacks (statusCallbackUrl, the MPC's): EventName, EventTimestamp
  (`YYYY-MM-DD HH:mm:ss+00:00`, UTC), MPCUUID, MPCName, SequenceNumber (per MPC from 1, no
  gaps, in the order the room decided them), then for a participant's event MemberID,
  ParticipantRole, ParticipantCallUUID, ParticipantCoachMode, then the event's own
  (ParticipantExitCause, DigitInput, MPCTerminationCause...). All of one MPC share the outbox
  ordering key `mpc-<MPCUUID>`, so they are delivered one after another in that order
  whichever participant's call they come from.
- The onExitActionUrl request: MPCUUID, MPCFriendlyName, MemberID, ParticipantCallUUID,
  ParticipantJoinTime, ParticipantEndTime, ParticipantRole, ParticipantExitCause (the call's
  parameters are added by the driver as on every document request).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping

from plivoxml_fs.effects.webhook import Webhook
from plivoxml_fs.rooms.model import Member
from plivoxml_fs.rooms.mpc_model import COACHES

#: The kind of every status callback webhook (logs, metrics).
STATUS_KIND = "mpc-status"


def timestamp(epoch_s: float | None) -> str:
    """`YYYY-MM-DD HH:mm:ss+00:00` (UTC) of `epoch_s`; "" for None."""
    if epoch_s is None:
        return ""
    moment = dt.datetime.fromtimestamp(epoch_s, tz=dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S+00:00")


def order_key(mpc_uuid: str) -> str:
    """The outbox ordering key of one MPC's callbacks."""
    return f"mpc-{mpc_uuid}"


def coach_mode(member: Member) -> str:
    """ParticipantCoachMode: true only for a supervisor in coach mode."""
    participant = member.seat.participant
    on = member.role in COACHES and bool(participant and participant.coach_mode)
    return "true" if on else "false"


def participant_params(member: Member, coaching: bool | None = None) -> dict[str, str]:
    """MemberID, ParticipantRole, ParticipantCallUUID, ParticipantCoachMode."""
    coach = coach_mode(member) if coaching is None else ("true" if coaching else "false")
    return {
        "MemberID": "" if member.member_id is None else str(member.member_id),
        "ParticipantRole": member.role.value,
        "ParticipantCallUUID": member.call_uuid,
        "ParticipantCoachMode": coach,
    }


def status_webhook(url: str, method: str, *, event: str, now: float, mpc_uuid: str,
                   mpc_name: str, sequence: int, call_uuid: str,
                   member_params: Mapping[str, str] | None = None,
                   extra: Mapping[str, str] | None = None) -> Webhook:
    """One status callback."""
    params = {"EventName": event, "EventTimestamp": timestamp(now), "MPCUUID": mpc_uuid,
              "MPCName": mpc_name, "SequenceNumber": str(sequence),
              **(member_params or {}), **(extra or {})}
    return Webhook(url, method, params, call_uuid, STATUS_KIND, order_key=order_key(mpc_uuid))


def billing(duration_s: int, rate_per_minute: float) -> tuple[int, str]:
    """(MPCBilledDuration, MPCBilledAmount): by the started minute, the amount in USD with
    five decimals as Plivo writes it ("0.05000")."""
    minutes = math.ceil(duration_s / 60) if duration_s > 0 else 0
    return minutes * 60, f"{minutes * rate_per_minute:.5f}"


def exit_params(mpc_uuid: str, mpc_name: str, member: Member, end_s: float,
                exit_cause: str) -> dict[str, str]:
    """What the onExitActionUrl request carries (besides the call's parameters)."""
    return {
        "MPCUUID": mpc_uuid,
        "MPCFriendlyName": mpc_name,
        "MemberID": "" if member.member_id is None else str(member.member_id),
        "ParticipantCallUUID": member.call_uuid,
        "ParticipantJoinTime": timestamp(member.joined_at),
        "ParticipantEndTime": timestamp(end_s),
        "ParticipantRole": member.role.value,
        "ParticipantExitCause": exit_cause,
    }
