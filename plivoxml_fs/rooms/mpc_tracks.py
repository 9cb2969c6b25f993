"""`<MultiPartyCall>` participants' own tracks, pure: the part of the MPC's recording component
(rooms/mpc_recording.py `MpcRecording`, which is a `TrackRecording`) that records each
participant's voice on its own call.

- recordParticipantTrack="true": `uuid_record <participant's call> start <file> 0
  {RECORD_READ_ONLY=true}` (its own voice) from when it is in the Active MPC until it leaves;
  ParticipantRecordingInitiated/Completed/Failed (a stop FreeSWITCH refuses because the call
  is gone is a completed track: FreeSWITCH closed the file at the hangup).
- The control API (rooms/mpc_rec_control.py): `start_track` as recordParticipantTrack="true"
  would (in the API's format), `stop_track`, `pause_track` (`uuid_record pause|resume` on the
  participant's call, ParticipantRecordingPaused/Resumed at once).

The host gives `settings`, `tracks`, `_member_ids`, `transcripts`, `_command`, `_params` and
`_webhook`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import attrs

from plivoxml_fs.errors import UnsafeValue
from plivoxml_fs.fs import recorder
from plivoxml_fs.rooms import mpc_transcripts, recordings
from plivoxml_fs.rooms.model import CommandDone, Decision, Member
from plivoxml_fs.rooms.mpc_file import File
from plivoxml_fs.rooms.mpc_model import MpcState

if TYPE_CHECKING:
    from plivoxml_fs.rooms.mpc import MpcRoom

log = logging.getLogger("plivoxml_fs.rooms")

#: Webhook kind of a track's callbacks (logs, metrics).
PARTICIPANT_KIND = "mpc-participant-recording"


class TrackRecording:
    """Participants' tracks, in the MPC's recording component."""

    settings: Any
    tracks: dict[str, File]
    _member_ids: dict[str, int | None]
    transcripts: dict[str, str]

    # -- the control API ---------------------------------------------------------------------

    def start_track(self, room: MpcRoom, call_uuid: str, fmt: str, url: str | None,
                    method: str) -> list[Decision]:
        """Record the participant's track in `fmt` as recordParticipantTrack="true" would
        (`url`: the recording callback, when the MPC has none)."""
        member = room.member(call_uuid)
        participant = member.seat.participant if member is not None else None
        if member is None or participant is None or room.status != MpcState.ACTIVE:
            return []
        if not participant.record_participant_track:
            member.seat = attrs.evolve(member.seat, participant=attrs.evolve(
                participant, record_participant_track=True))
        self.callback_to(url, method)
        kept = self.settings
        self.settings = attrs.evolve(kept, record_file_format=fmt)
        try:
            return self._start_track(room, member)
        finally:
            self.settings = kept

    def stop_track(self, room: MpcRoom, call_uuid: str, now: float) -> list[Decision]:
        member = room.member(call_uuid)
        return self._stop_track(room, member, now) if member is not None else []

    def pause_track(self, room: MpcRoom, call_uuid: str, pause: bool,
                    now: float) -> list[Decision]:
        """`uuid_record pause` (or `resume`) on the participant's running track, and its
        ParticipantRecordingPaused (Resumed) at once; nothing when it is so already."""
        track = self.tracks.get(call_uuid)
        member = room.member(call_uuid)
        if track is None or track.started_at is None or member is None:
            return []
        if pause == (track.since is None):
            return []  # paused already / running already
        action = "pause" if pause else "resume"
        cmd = recorder.uuid_record(call_uuid, action, track.path)
        (track.halt if pause else track.run)(now)
        event = "ParticipantRecordingPaused" if pause else "ParticipantRecordingResumed"
        return [self._command(f"track-{action}", cmd, call_uuid),
                *self._track_callback(room, track, event, now, member.member_id)]

    def callback_to(self, url: str | None, method: str) -> None:
        """The control API's recording callback URL, when the MPC has none of its own."""
        if url and not self.settings.recording_callback_url:
            self.settings = attrs.evolve(self.settings, recording_callback_url=url,
                                         recording_callback_method=method)

    # -- the hooks' part ---------------------------------------------------------------------

    def _start_track(self, room: MpcRoom, member: Member) -> list[Decision]:
        participant = member.seat.participant
        if (participant is None or not participant.record_participant_track
                or room.status != MpcState.ACTIVE or not member.in_room
                or member.reason is not None or member.call_uuid in self.tracks):
            return []
        settings, fmt = room.ctx.settings, self.settings.record_file_format
        try:
            rid = room.ctx.new_id()
            name = recordings.recording_name(room.mpc_uuid, rid, fmt)
            track = File(rid, str(recordings.recordings_dir(settings) / name),
                         recordings.record_url(settings, name), fmt)
            cmd = recorder.uuid_record(member.call_uuid, "start", track.path, read_only=True)
        except (ValueError, UnsafeValue) as exc:
            log.error("MPC %s (%s): member %s: its track is not recorded: %s", room.name,
                      room.mpc_uuid, member.member_id, exc, extra=_extra(room, member.call_uuid))
            return []
        self.tracks[member.call_uuid] = track
        folder = str(recordings.recordings_dir(settings))
        return [attrs.evolve(self._command("track-start", cmd, member.call_uuid),
                             make_dir=folder)]

    def _stop_track(self, room: MpcRoom, member: Member, now: float) -> list[Decision]:
        track = self.tracks.get(member.call_uuid)
        if track is None:
            return []
        track.halt(now)
        track.ended_at = now
        if track.started_at is None:  # its start is still unanswered: reported then
            return []
        cmd = recorder.uuid_record(member.call_uuid, "stop", track.path)
        self._member_ids[member.call_uuid] = member.member_id
        return [self._command("track-stop", cmd, member.call_uuid)]

    def _track_answered(self, room: MpcRoom, what: str, call_uuid: str, done: CommandDone,
                        now: float) -> list[Decision]:
        member = room.members.get(call_uuid)
        if what in ("track-pause", "track-resume"):  # reported when asked: only a refusal
            if not done.ok:
                log.warning("MPC %s (%s): member %s: FreeSWITCH refused to %s its track: %s",
                            room.name, room.mpc_uuid, member.member_id if member else call_uuid,
                            what[len("track-"):], done.text.strip(),
                            extra=_extra(room, call_uuid))
            return []
        track = self.tracks.get(call_uuid)
        if track is None:
            return []
        member_id = member.member_id if member is not None else self._member_ids.get(call_uuid)
        if what == "track-start":
            if not done.ok:
                log.error("MPC %s (%s): member %s: its track is not recorded: %s", room.name,
                          room.mpc_uuid, member_id, done.text.strip(),
                          extra=_extra(room, call_uuid))
                del self.tracks[call_uuid]
                return self._track_callback(room, track, "ParticipantRecordingFailed", now,
                                            member_id)
            track.run(now)
            decisions = self._track_callback(room, track, "ParticipantRecordingInitiated", now,
                                             member_id)
            if member is None:  # it left before the answer came
                track.halt(now)
                track.ended_at = now
                self._member_ids[call_uuid] = member_id
                cmd = recorder.uuid_record(call_uuid, "stop", track.path)
                decisions.append(self._command("track-stop", cmd, call_uuid))
            return decisions
        # track-stop: FreeSWITCH closed the file at the hangup when the call is gone, so a
        # refused stop is a completed track too
        del self.tracks[call_uuid]
        self._member_ids.pop(call_uuid, None)
        return (self._track_callback(room, track, "ParticipantRecordingCompleted", now,
                                     member_id)
                + mpc_transcripts.of_track(room, track, call_uuid, self.transcripts, now))

    def _track_callback(self, room: MpcRoom, track: File, event: str, now: float,
                        member_id: int | None) -> list[Decision]:
        if not self.settings.recording_callback_url:
            return []
        params = {**self._params(event, track, now),
                  "MemberID": "" if member_id is None else str(member_id)}
        return self._webhook(room, params, room.creator or "", PARTICIPANT_KIND)


def _extra(room: MpcRoom, call_uuid: str) -> dict[str, str]:
    return {"call_uuid": call_uuid, "conference": room.name}
