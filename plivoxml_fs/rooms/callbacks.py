"""What a `<Conference>` member's callbacks carry (callbackUrl: enter, exit, floor, digits).

Every one: the call's parameters, ConferenceAction, ConferenceName, ConferenceUUID,
ConferenceMemberID, RecordUrl and RecordingID while the room has a running recording, CallUUID,
then the action's own (ConferenceDigitsMatch), in that order.
"""

from __future__ import annotations

from collections.abc import Mapping

from plivoxml_fs.effects.webhook import Webhook
from plivoxml_fs.rooms.model import Emit, Member, Recording


def conference_params(name: str, uid: str | None, recording: Recording | None,
                      member: Member) -> dict[str, str]:
    """ConferenceName, ConferenceUUID, ConferenceMemberID, and the recording's when any."""
    params = {
        "ConferenceName": name,
        "ConferenceUUID": uid or "",
        "ConferenceMemberID": "" if member.member_id is None else str(member.member_id),
    }
    if recording is not None:
        params.update(RecordUrl=recording.record_url, RecordingID=recording.recording_id)
    return params


def member_callback(name: str, uid: str | None, recording: Recording | None, member: Member,
                    action: str, extra: Mapping[str, str]) -> Emit | None:
    """The `conference-<action>` webhook to the member's callbackUrl (None: it has none)."""
    seat = member.seat
    if not seat.callback_url:
        return None
    params = {**seat.call_params, "ConferenceAction": action,
              **conference_params(name, uid, recording, member), "CallUUID": seat.call_uuid,
              **extra}
    return Emit(Webhook(seat.callback_url, seat.callback_method, params, seat.call_uuid,
                        f"conference-{action}"))
