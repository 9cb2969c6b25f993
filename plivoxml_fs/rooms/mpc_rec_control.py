"""The Multi-party Call API's recording inputs on an MPC room, pure (api/mpc.py runs them
through `RoomEngine.decide`). They drive the MPC's recording component
(rooms/mpc_recording.py, its tracks: rooms/mpc_tracks.py) through its public methods, as
the XML's attributes do:

- `start(fmt, url, method)`: the MPC's recording as if it had record="true" with that
  format (the recorder member, MPCRecordingInitiated ...); a recording_callback_url given
  becomes the MPC's recording callback URL (one SequenceNumber series per MPC). Refused
  (ValueError, `check_start`) while the MPC is not Active or is recording already. A
  recording stopped by the API may be started again: a new file, a new recording id.
- `stop`: MPCRecordingCompleted (`MpcRecording.stop`); `pause`/`resume`: `uuid_record
  pause|resume` on the recorder and MPCRecordingPaused/Resumed when FreeSWITCH answered;
  while paused by the API the recording stays paused whoever joins.
- participant tracks: `start_track` as recordParticipantTrack="true" would;
  `stop_track`; `pause_track`/`resume_track` (`uuid_record pause|resume` on the
  participant's call, ParticipantRecordingPaused/Resumed at once).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from plivoxml_fs.rooms import mpc_recording as rec
from plivoxml_fs.rooms.model import Decision
from plivoxml_fs.rooms.mpc_model import MpcState
from plivoxml_fs.rooms.views import MemberView

if TYPE_CHECKING:
    from plivoxml_fs.rooms.mpc import MpcRoom


def _component(room: MpcRoom) -> rec.MpcRecording:
    component = room.recorder
    if not isinstance(component, rec.MpcRecording):
        raise ValueError("this MPC has no recording component")
    return component


def check_start(room: MpcRoom) -> None:
    component, mpc = _component(room), room.view()
    if mpc.status != MpcState.ACTIVE:
        raise ValueError(f"MPC {mpc.name!r} is {mpc.status.value}, not Active")
    if component.busy:
        raise ValueError(f"MPC {mpc.name!r} is being recorded already")


def start(room: MpcRoom, fmt: str, url: str | None, method: str, now: float) -> list[Decision]:
    return _component(room).api_start(room, fmt, url, method, now)


def stop(room: MpcRoom, now: float) -> list[Decision]:
    return _component(room).api_stop(room, now)


def pause(room: MpcRoom, now: float) -> list[Decision]:
    return _component(room).api_pause(room, True, now)


def resume(room: MpcRoom, now: float) -> list[Decision]:
    return _component(room).api_pause(room, False, now)


def start_track(room: MpcRoom, member: MemberView, fmt: str, url: str | None,
                method: str) -> list[Decision]:
    return _component(room).start_track(room, member.call_uuid, fmt, url, method)


def stop_track(room: MpcRoom, member: MemberView, now: float) -> list[Decision]:
    return _component(room).stop_track(room, member.call_uuid, now)


def pause_track(room: MpcRoom, member: MemberView, now: float) -> list[Decision]:
    return _component(room).pause_track(room, member.call_uuid, True, now)


def resume_track(room: MpcRoom, member: MemberView, now: float) -> list[Decision]:
    return _component(room).pause_track(room, member.call_uuid, False, now)
