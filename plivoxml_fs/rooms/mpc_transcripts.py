"""Which of an MPC's recordings are transcribed, and where the transcripts go (pure).

A participant asks with `transcript="true"` and a `transcriptionUrl` (the SDK's attributes).
The MPC's recording is transcribed once per distinct URL its participants asked for (in the
order they joined; each job names the first participant that asked for that URL); a
participant's own track (recordParticipantTrack) is transcribed to that participant's URL.
"""

from __future__ import annotations

from typing import Any

from plivoxml_fs.rooms.model import Decision, Member, Transcribe
from plivoxml_fs.rooms.mpc_callbacks import order_key


def asked(member: Member) -> dict[str, str]:
    """{call uuid: transcriptionUrl} when the member asked for transcripts, else {}."""
    participant = getattr(member.seat, "participant", None)
    url = getattr(participant, "transcription_url", None)
    if participant is None or not participant.transcript or not url:
        return {}
    return {member.call_uuid: url}


def job(room: Any, file: Any, url: str, call_uuid: str, now: float) -> Transcribe:
    """The Transcribe of a finished MPC file (a room's `File`); the control API's MPC
    recording can hand its own file and `transcription_url` here."""
    ms = file.fs_ms if file.fs_ms is not None else file.duration(now) * 1000
    return Transcribe(file.path, url, "POST", file.recording_id, call_uuid, ms,
                      order_key(room.mpc_uuid))


def of_recording(room: Any, file: Any, asked_by: dict[str, str], now: float) -> list[Decision]:
    seen: dict[str, str] = {}
    for call_uuid, url in asked_by.items():
        seen.setdefault(url, call_uuid)
    return [job(room, file, url, call_uuid, now) for url, call_uuid in seen.items()]


def of_track(room: Any, track: Any, call_uuid: str, asked_by: dict[str, str],
             now: float) -> list[Decision]:
    url = asked_by.get(call_uuid)
    return [job(room, track, url, call_uuid, now)] if url else []
