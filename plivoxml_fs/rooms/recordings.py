"""Where conference recordings live and what they are called: names the daemon derives.

A recording's file name comes from the room's Conference-Unique-ID and a recording id the
daemon makes (never from the document), so `RECORDING_NAME` matches every name and nothing
else: the HTTP server serves only names that match it, from `recordings_dir` alone.
"""

from __future__ import annotations

import re
from pathlib import Path

from plivoxml_fs.config import Settings
from plivoxml_fs.rooms.model import Member, Recording

#: Recording formats (recordFileFormat) and the content type each is served with.
CONTENT_TYPES = {"mp3": "audio/mpeg", "wav": "audio/wav"}
#: `<conference uuid>_<recording id>.<mp3|wav>`: ids are FreeSWITCH's and our identifiers.
RECORDING_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,63}_[A-Za-z0-9][A-Za-z0-9-]{0,63}\.(mp3|wav)")
#: The path under which the operator HTTP server serves recordings.
URL_PATH = "/recordings/"


def recordings_dir(settings: Settings) -> Path:
    """`recordings_dir`, else `<state_dir>/recordings`."""
    return Path(settings.recordings_dir or Path(settings.state_dir) / "recordings")


def recording_name(conference_uuid: str, recording_id: str, fmt: str) -> str:
    """The file name of a room's recording; ValueError when the parts would not make one."""
    name = f"{conference_uuid}_{recording_id}.{fmt}"
    if fmt not in CONTENT_TYPES or not RECORDING_NAME.fullmatch(name):
        raise ValueError(f"recording name: {name!r} is not <uuid>_<id>.mp3|wav")
    return name


def is_recording_name(name: str) -> bool:
    return RECORDING_NAME.fullmatch(name) is not None


def record_url(settings: Settings, name: str) -> str:
    """RecordUrl: `record_base_url` + name, else the operator HTTP server's /recordings/ URL.

    ValueError when neither exists (`metrics_port` 0 and no `record_base_url`: load_settings
    refuses that, Settings built in code may not): a URL nothing serves is never handed out."""
    if settings.record_base_url:
        return settings.record_base_url.rstrip("/") + "/" + name
    if not settings.metrics_port:
        raise ValueError("no URL to serve it at: metrics_port is 0 (no operator HTTP server) "
                         "and record_base_url is not set")
    return f"http://{settings.metrics_host}:{settings.metrics_port}{URL_PATH}{name}"


def new_recording(settings: Settings, room: str, uid: str, recording_id: str, fmt: str,
                  member: Member) -> Recording:
    """The recording `member`'s entry starts in room `room` (Conference-Unique-ID `uid`): its
    file under recordings_dir, its RecordUrl, and the member's callbacks; ValueError (naming
    why) when there is no name or no URL for it."""
    name = recording_name(uid, recording_id, fmt)
    url = record_url(settings, name)
    seat = member.seat
    assert member.member_id is not None and member.joined_at is not None
    return Recording(
        conference_name=room, conference_uuid=uid, path=str(recordings_dir(settings) / name),
        recording_id=recording_id, record_url=url, started_ms=int(member.joined_at * 1000),
        member_id=member.member_id, call_uuid=member.call_uuid,
        callback_url=seat.callback_url, callback_method=seat.callback_method,
        call_params=seat.call_params,
    )


def api_recording(settings: Settings, room: str, uid: str, recording_id: str, fmt: str,
                  now_ms: int, callback_url: str | None, callback_method: str,
                  api_id: str) -> Recording:
    """A recording the control API starts at `now_ms` (ValueError as `new_recording`)."""
    name = recording_name(uid, recording_id, fmt)
    return Recording(
        conference_name=room, conference_uuid=uid, path=str(recordings_dir(settings) / name),
        recording_id=recording_id, record_url=record_url(settings, name), started_ms=now_ms,
        member_id=0, call_uuid="", callback_url=callback_url, callback_method=callback_method,
        api_id=api_id,
    )


def record_params(rec: Recording, end_ms: int, duration_ms: int | None) -> dict[str, str]:
    """The parameters of a finished recording's callback: ConferenceAction=record ones, or for
    the control API's the Record API's (api_id, record_url, recording_id, ...)."""
    ms = max(0, end_ms - rec.started_ms) if duration_ms is None else duration_ms
    if rec.api_id:
        return {"api_id": rec.api_id, "record_url": rec.record_url,
                "recording_id": rec.recording_id, "conference_name": rec.conference_name,
                "recording_duration": str(round(ms / 1000)), "recording_duration_ms": str(ms),
                "recording_start_ms": str(rec.started_ms),
                "recording_end_ms": str(rec.started_ms + ms)}
    return {
        "ConferenceAction": "record",
        "ConferenceName": rec.conference_name,
        "ConferenceUUID": rec.conference_uuid,
        "ConferenceMemberID": str(rec.member_id),
        "CallUUID": rec.call_uuid,
        "RecordUrl": rec.record_url,
        "RecordingID": rec.recording_id,
        "RecordingDuration": str(round(ms / 1000)),
        "RecordingDurationMs": str(ms),
        "RecordingStartMs": str(rec.started_ms),
        "RecordingEndMs": str(rec.started_ms + ms),
    }
