"""The control API's objects: rooms and members as Plivo's JSON shows them (docs/api.md).

Conference (Plivo's "Retrieve a conference", as the SDK reads it): `conference_name`,
`conference_run_time` and `conference_member_count` as strings, `members` with `member_id`
(a string), `muted`, `deaf`, `from`, `to`, `caller_name`, `direction`, `call_uuid` and
`join_time` (seconds in the room, a string). Ours besides: `conference_uuid`, `status`
(`active` or `ended`), and for an ended room `start_time`, `end_time`, `past_members` (each
stay with `exit_time`, `duration` and `exit_cause`) and `recordings`.

Live objects are made from the room's snapshots (rooms/views.py), ended ones from the
`RoomRecord` the room engine hands over; the `<MultiPartyCall>` objects: api/mpc_objects.py.
"""

from __future__ import annotations

import datetime
from typing import Any

from plivoxml_fs.rooms.history import RoomRecord, Stay
from plivoxml_fs.rooms.views import ConferenceView, MemberView


def timestamp(epoch_s: float) -> str:
    """Plivo's time format: `2026-12-02 13:42:11+00:00` (UTC)."""
    moment = datetime.datetime.fromtimestamp(epoch_s, datetime.UTC).replace(microsecond=0)
    return moment.isoformat(sep=" ")


def _caller(params: Any, call_uuid: str) -> dict[str, str]:
    return {
        "from": params.get("From", ""),
        "to": params.get("To", ""),
        "caller_name": params.get("CallerName", ""),
        "direction": params.get("Direction", ""),
        "call_uuid": call_uuid,
    }


def member(m: MemberView, now: float) -> dict[str, Any]:
    """A live member."""
    joined = m.joined_at if m.joined_at is not None else now
    return {"member_id": str(m.member_id), "muted": m.muted, "deaf": m.deaf,
            **_caller(m.call_params, m.call_uuid),
            "join_time": str(max(0, int(now - joined)))}


def conference(room: ConferenceView, now: float) -> dict[str, Any]:
    """A live conference (`Room.view()`)."""
    members = [member(m, now) for m in room.members]
    return {
        "conference_name": room.name,
        "conference_run_time": str(max(0, int(now - room.since))),
        "conference_member_count": str(len(members)),
        "members": members,
        "conference_uuid": room.uid or "",
        "status": "active",
        "start_time": timestamp(room.since),
    }


def past_member(stay: Stay) -> dict[str, Any]:
    return {"member_id": str(stay.member_id), "muted": stay.muted, "deaf": stay.deaf,
            **_caller(stay.params, stay.call_uuid),
            "join_time": timestamp(stay.joined_at), "exit_time": timestamp(stay.left_at),
            "duration": str(max(0, int(stay.left_at - stay.joined_at))),
            "exit_cause": stay.reason}


def ended_conference(record: RoomRecord) -> dict[str, Any]:
    """An ended conference, as the history keeps it."""
    return {
        "conference_name": record.name,
        "conference_run_time": str(max(0, int(record.ended_at - record.started_at))),
        "conference_member_count": "0",
        "members": [],
        "conference_uuid": record.uuid,
        "status": "ended",
        "start_time": timestamp(record.started_at),
        "end_time": timestamp(record.ended_at),
        "past_members": [past_member(s) for s in record.stays],
        "recordings": list(record.recordings),
    }
