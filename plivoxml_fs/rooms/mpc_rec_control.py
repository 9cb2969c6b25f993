"""The Multi-party Call API's recording inputs on an MPC room, pure (api/mpc.py calls them
through `RoomEngine.control`). They drive the MPC's recording component
(rooms/mpc_recording.py) as the XML's attributes do:

- `start(fmt, url, method)`: the MPC's recording as if it had record="true" with that
  format (the recorder member, MPCRecordingInitiated ...); a recording_callback_url given
  becomes the MPC's recording callback URL (one SequenceNumber series per MPC). Refused
  (ValueError) while the MPC is not Active or is recording already. A recording stopped by
  the API may be started again: a new file, a new recording id.
- `stop`: MPCRecordingCompleted (`MpcRecording.stop`); `pause`/`resume`: `uuid_record
  pause|resume` on the recorder and MPCRecordingPaused/Resumed when FreeSWITCH answered;
  while paused by the API the recording stays paused whoever joins.
- participant tracks: `start_track` as recordParticipantTrack="true" would;
  `stop_track`; `pause_track`/`resume_track` (`uuid_record pause|resume` on the
  participant's call, ParticipantRecordingPaused/Resumed at once).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from plivoxml_fs.fs import recorder as fs_recorder
from plivoxml_fs.rooms import mpc_recording as rec
from plivoxml_fs.rooms.model import Decision, Member
from plivoxml_fs.rooms.mpc_model import MpcState

if TYPE_CHECKING:
    from plivoxml_fs.rooms.mpc import MpcRoom


def _component(room: MpcRoom) -> Any:
    component = room.recorder
    if not isinstance(component, rec.MpcRecording):
        raise ValueError("this MPC has no recording component")
    return component


def _callback_to(component: Any, url: str | None, method: str) -> None:
    if url and not component.settings.recording_callback_url:
        component.settings = attrs.evolve(component.settings, recording_callback_url=url,
                                          recording_callback_method=method)


def check_start(room: MpcRoom) -> None:
    component = _component(room)
    if room.status != MpcState.ACTIVE:
        raise ValueError(f"MPC {room.name!r} is {room.status.value}, not Active")
    if component.state not in (rec.IDLE, rec.DONE):
        raise ValueError(f"MPC {room.name!r} is being recorded already")


def start(room: MpcRoom, fmt: str, url: str | None, method: str, now: float) -> list[Decision]:
    component = _component(room)
    if component.state not in (rec.IDLE, rec.DONE) or room.status != MpcState.ACTIVE:
        return []
    if component.state == rec.DONE:  # stopped by the API before: a new recording
        component.state, component.file, component.ending = rec.IDLE, None, False
        component.recorder_uuid, component.recorder_id = None, None
        component.related = set()
    component.api_paused = False
    component.settings = attrs.evolve(component.settings, record=True, record_file_format=fmt,
                                      record_min_member_count=1)
    _callback_to(component, url, method)
    return component._step(room, now)


def stop(room: MpcRoom, now: float) -> list[Decision]:
    component = _component(room)
    if component.state in (rec.IDLE, rec.DONE):
        return []
    component.api_paused = False
    return component.stop(room, now)


def pause(room: MpcRoom, now: float) -> list[Decision]:
    component = _component(room)
    component.api_paused = True
    return component._step(room, now)


def resume(room: MpcRoom, now: float) -> list[Decision]:
    component = _component(room)
    component.api_paused = False
    return component._step(room, now)


def start_track(room: MpcRoom, member: Member, fmt: str, url: str | None,
                method: str) -> list[Decision]:
    component = _component(room)
    participant = member.seat.participant
    if participant is None or room.status != MpcState.ACTIVE:
        return []
    if not participant.record_participant_track:
        member.seat = attrs.evolve(member.seat, participant=attrs.evolve(
            participant, record_participant_track=True))
    _callback_to(component, url, method)
    kept = component.settings
    component.settings = attrs.evolve(kept, record_file_format=fmt)
    try:
        return component._start_track(room, member)
    finally:
        component.settings = kept


def stop_track(room: MpcRoom, member: Member, now: float) -> list[Decision]:
    return _component(room)._stop_track(room, member, now)


def _track_step(room: MpcRoom, member: Member, now: float, action: str) -> list[Decision]:
    component = _component(room)
    track = component.tracks.get(member.call_uuid)
    if track is None or track.started_at is None:
        return []
    if (action == "pause") == (track.since is None):
        return []  # paused already / running already
    decisions = room._send(lambda _room, *args: fs_recorder.uuid_record(*args),
                           member.call_uuid, action, track.path, call_uuid=member.call_uuid)
    if action == "pause":
        track.halt(now)
        event = "ParticipantRecordingPaused"
    else:
        track.run(now)
        event = "ParticipantRecordingResumed"
    return decisions + component._track_callback(room, track, event, now, member.member_id)


def pause_track(room: MpcRoom, member: Member, now: float) -> list[Decision]:
    return _track_step(room, member, now, "pause")


def resume_track(room: MpcRoom, member: Member, now: float) -> list[Decision]:
    return _track_step(room, member, now, "resume")
