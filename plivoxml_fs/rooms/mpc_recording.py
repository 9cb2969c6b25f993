"""`<MultiPartyCall>` recording, pure: the MPC's recording and its participants' own tracks.

The MPC room (rooms/mpc.py) calls this component on start, join, leave and end, and hands it
the conference events and the answers to its commands (docs/multipartycall.md, Recording):

- The MPC is recorded by a recorder member of its own (fs/recorder.py says why and how it was
  measured): `originate` of a muted loopback leg into the MPC's room, then, once its
  add-member names its member id, `relate <recorder> <supervisor> nohear` for every Supervisor
  and every coaching ai-agent (coachMode="true": a voice only Agents hear, docs/ai-agent.md)
  when recordCoachVoice="false" (those joining later too), then `uuid_record <recorder>
  start <file>`. Each step waits for the answer to the one before (bgapi jobs run side by side
  on FreeSWITCH, so a file could otherwise begin with the supervisor in it).
- It starts once the MPC is Active and holds recordMinMemberCount participants (members of the
  room the MPC has not let go; the recorder is none); with 2, when one participant is left it
  pauses (`uuid_record pause`: the paused time is not in the file) and resumes at two again.
- At the MPC's end `uuid_record stop`, `uuid_getvar <recorder> record_ms` (the file's length as
  FreeSWITCH wrote it: Completed's RecordingDuration; Paused and Resumed carry the daemon's
  measure so far), MPCRecordingCompleted, then the recorder is hung up.
  A recorder that cannot be made or started, or that leaves the room on its own, is
  MPCRecordingFailed (one ERROR line naming the MPC). Never-started (the MPC ended first): no
  callback. The inbound connection lost while recording: MPCRecordingFailed at once (the
  recorder's B leg hangs itself up by maxDuration, fs/recorder.py).
- startRecordingAudio is played to every participant in the room (not held) when the
  recording starts, as a member play each, so it is not in the recording; stopRecordingAudio
  when it stops while the MPC goes on (`stop`, the control API's); at the MPC's end the
  participants are let go at once and hear nothing.
- recordParticipantTrack: each participant's own track (rooms/mpc_tracks.py
  `TrackRecording`, a base of this component).
- The control API's inputs (rooms/mpc_rec_control.py): `api_start`, `api_stop`,
  `api_pause`, the tracks' `start_track`, `stop_track`, `pause_track`; reads `busy`, `shown`,
  `file`, `tracks` (the API reads them in `MpcRoom.view()`).

Every recording callback goes to the MPC's recordingCallbackUrl (the first participant's)
with one SequenceNumber series per MPC (from 1, no gaps) and the MPC's outbox ordering key.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import attrs

from plivoxml_fs.effects.webhook import Webhook
from plivoxml_fs.errors import UnsafeValue
from plivoxml_fs.fs import commands, member_commands, recorder
from plivoxml_fs.fs.events import ConferenceEvent
from plivoxml_fs.rooms import mpc_transcripts, recordings
from plivoxml_fs.rooms.model import (
    Command,
    CommandDone,
    Decision,
    Emit,
    Member,
    Role,
)
from plivoxml_fs.rooms.mpc_callbacks import order_key, timestamp
from plivoxml_fs.rooms.mpc_file import File
from plivoxml_fs.rooms.mpc_model import MpcState, Music, Speech, music_parts
from plivoxml_fs.rooms.mpc_tracks import TrackRecording
from plivoxml_fs.rooms.recordings import TRANSCRIBED_ENERGY_LEVEL

if TYPE_CHECKING:
    from plivoxml_fs.rooms.mpc import MpcRoom

log = logging.getLogger("plivoxml_fs.rooms")

#: Token prefix of this component's commands (the room hands their answers back here).
TOKEN = "mpc-rec"
#: Webhook kinds (logs, metrics).
KIND = "mpc-recording"
#: States of the MPC recording.
IDLE, ORIGINATING, RELATING, STARTING, RECORDING, PAUSING, PAUSED, RESUMING, STOPPING, DONE = (
    "idle", "originating", "relating", "starting", "recording", "pausing", "paused",
    "resuming", "stopping", "done")
#: States in which FreeSWITCH is writing (or about to write) the file.
LIVE = (RECORDING, PAUSING, PAUSED, RESUMING)


def room_capacity(settings: Any) -> int:
    """conference_max_members for an MPC's room: maxParticipants, plus its recorder's seat."""
    return settings.max_participants + (1 if settings.record else 0)


class MpcRecording(TrackRecording):
    """One MPC's recordings; every input returns decisions (rooms/mpc_hooks.py MpcRecorder)."""

    def __init__(self, room: MpcRoom) -> None:
        self.settings = room.settings
        self.state = IDLE
        self.file: File | None = None
        self.recorder_uuid: str | None = None
        self.recorder_id: int | None = None
        self.ending = False
        self.related: set[int] = set()  # supervisors the recorder does not hear
        self.tracks: dict[str, File] = {}  # participant call uuid -> its track, once started
        self.sequence = 0
        self._pending: dict[str, tuple[str, str]] = {}  # token -> (what, call uuid)
        self._tokens = 0
        self._plays = 0
        self._member_ids: dict[str, int | None] = {}  # tracks of members gone: their ids
        self.api_paused = False  # paused by the control API (rooms/mpc_rec_control.py)
        self.transcripts: dict[str, str] = {}  # call uuid -> transcriptionUrl it asked for
        #: members whose energy gate was turned off (the MPC's recording is transcribed)
        self.ungated: set[int] = set()

    # -- the hooks --------------------------------------------------------------------------

    @property
    def done(self) -> bool:
        """Nothing owed: no command in flight and no recording to report."""
        return not self._pending and self.state in (IDLE, DONE) and not self.tracks

    def started(self, room: MpcRoom, now: float) -> list[Decision]:
        decisions = self._step(room, now)
        for member in room.members.values():
            decisions += self._start_track(room, member)
        return decisions

    def joined(self, room: MpcRoom, member: Member, now: float) -> list[Decision]:
        decisions: list[Decision] = []
        self.transcripts.update(mpc_transcripts.asked(member))
        decisions += self._ungate(room)
        if _coach_voice(room, member):
            decisions += self._relate(room, member)
        decisions += self._start_track(room, member)
        return decisions + self._step(room, now)

    def left(self, room: MpcRoom, member: Member, now: float) -> list[Decision]:
        self.related.discard(member.member_id or 0)
        return self._stop_track(room, member, now) + self._step(room, now)

    def ended(self, room: MpcRoom, now: float) -> list[Decision]:
        self.ending = True
        if self.state == RELATING and self.recorder_id is None:  # never got in: never started
            self.state = DONE
            return self._hang_up()
        return self._step(room, now)

    def stop(self, room: MpcRoom, now: float) -> list[Decision]:
        """Stop the MPC's recording while the MPC goes on (the control API): stopRecordingAudio
        to the participants, MPCRecordingCompleted."""
        self.ending = True
        plays = self._play(room, self.settings.stop_recording_sound) if self.state in LIVE else []
        return plays + self._step(room, now)

    # -- the control API (rooms/mpc_rec_control.py; tracks: rooms/mpc_tracks.py) ------------

    @property
    def busy(self) -> bool:
        """Recording, or on the way to (or from) it: the API's start is refused."""
        return self.state not in (IDLE, DONE)

    @property
    def shown(self) -> str:
        """The MPC object's `recording`: not-recording, recording or paused."""
        if self.state in (PAUSING, PAUSED):
            return "paused"
        return "recording" if self.state in LIVE else "not-recording"

    def api_start(self, room: MpcRoom, fmt: str, url: str | None, method: str,
                  now: float) -> list[Decision]:
        """Record the Active MPC as record="true" in `fmt` would (from one participant on); a
        recording the API stopped before is followed by a new one (file, recording id)."""
        if self.busy or room.status != MpcState.ACTIVE:
            return []
        if self.state == DONE:
            self.state, self.file, self.ending = IDLE, None, False
            self.recorder_uuid, self.recorder_id = None, None
            self.related = set()
        self.api_paused = False
        self.settings = attrs.evolve(self.settings, record=True, record_file_format=fmt,
                                     record_min_member_count=1)
        self.callback_to(url, method)
        return self._step(room, now)

    def api_stop(self, room: MpcRoom, now: float) -> list[Decision]:
        """`stop` while the MPC goes on; nothing when it records nothing."""
        if not self.busy:
            return []
        self.api_paused = False
        return self.stop(room, now)

    def api_pause(self, room: MpcRoom, pause: bool, now: float) -> list[Decision]:
        """Paused by the API (whoever joins), or no longer."""
        self.api_paused = pause
        return self._step(room, now)

    def apply(self, room: MpcRoom, event: Any, now: float) -> list[Decision]:
        if isinstance(event, CommandDone):
            return self._answered(room, event, now) if event.token in self._pending else []
        if not isinstance(event, ConferenceEvent) or self.recorder_uuid is None:
            return []
        if event.action == "add-member" and event.unique_id == self.recorder_uuid:
            if self.recorder_id is None and event.member_id is not None:
                self.recorder_id = event.member_id
                if self.state == RELATING:
                    return self._relate_all(room, now)
        elif (event.action == "del-member" and event.member_id == self.recorder_id
              and self.state not in (IDLE, DONE, STOPPING)):
            return self._failed(room, now, "the recorder left the MPC's room")
        return []

    def lost_connection(self, room: MpcRoom, now: float) -> list[Decision]:
        if self.state in (IDLE, DONE):
            return []
        # the commands in flight are still answered (-ERR): _answered ignores them once DONE
        return self._failed(room, now, "the inbound connection to FreeSWITCH was lost",
                            hang_up=False)

    # -- the MPC recording ------------------------------------------------------------------

    def _count(self, room: MpcRoom) -> int:
        """Participants in the MPC: entered, seated, not let go. (Not `in_room`: when callers
        hang up together their del-member events may come before their seats are given up,
        and the count would drop to nothing a moment before the MPC's end.)"""
        return sum(1 for m in room.members.values()
                   if m.member_id is not None and m.reason is None)

    def _step(self, room: MpcRoom, now: float) -> list[Decision]:
        """Move the recording toward what the MPC wants now, one command at a time."""
        stop = self.ending or room.status == MpcState.ENDED
        run = (not stop and room.status == MpcState.ACTIVE and not self.api_paused
               and self._count(room) >= self.settings.record_min_member_count)
        if self.state == IDLE and self.settings.record and run:
            return self._originate(room, now)
        if self.state == IDLE and stop:
            self.state = DONE
        elif self.state == RECORDING and stop:
            return self._record(room, STOPPING, "stop")
        elif self.state == RECORDING and not run:
            return self._record(room, PAUSING, "pause")
        elif self.state == PAUSED and stop:
            return self._record(room, STOPPING, "stop")
        elif self.state == PAUSED and run:
            return self._record(room, RESUMING, "resume")
        return []

    def _originate(self, room: MpcRoom, now: float) -> list[Decision]:
        fmt = self.settings.record_file_format
        settings = room.ctx.settings
        try:
            rid = room.ctx.new_id()
            name = recordings.recording_name(room.mpc_uuid, rid, fmt)
            path = str(recordings.recordings_dir(settings) / name)
            self.file = File(rid, path, recordings.record_url(settings, name), fmt)
            uuid = f"rec-{rid}"
            cmd = recorder.recorder_originate(room.fs_name, settings.conference_profile, uuid,
                                              max_s=round(self.settings.max_duration_s
                                                          * room.scale) + 60)
        except (ValueError, UnsafeValue) as exc:
            return self._failed(room, now, f"the recording could not start: {exc}")
        self.recorder_uuid, self.state = uuid, ORIGINATING
        folder = str(recordings.recordings_dir(settings))
        return [attrs.evolve(self._command("originate", cmd), make_dir=folder)]

    def _relate_all(self, room: MpcRoom, now: float) -> list[Decision]:
        decisions: list[Decision] = []
        for member in room.members.values():
            if _coach_voice(room, member):
                decisions += self._relate(room, member)
        if any(what == "relate-first" for what, _ in self._pending.values()):
            return decisions
        return decisions + self._record(room, STARTING, "start")

    def _relate(self, room: MpcRoom, member: Member) -> list[Decision]:
        """The recorder stops hearing coach voice `member` (recordCoachVoice="false")."""
        if (self.settings.record_coach_voice is not False or self.recorder_id is None
                or member.member_id is None or not member.in_room
                or member.member_id in self.related or self.state in (IDLE, DONE, STOPPING)):
            return []
        self.related.add(member.member_id)
        cmd = commands.conference_api(room.fs_name, "relate", str(self.recorder_id),
                                      str(member.member_id), "nohear")
        what = "relate-first" if self.state == RELATING else "relate"
        return [self._command(what, cmd, member.call_uuid)]

    def _ungate(self, room: MpcRoom) -> list[Decision]:
        """Once a participant asked for transcripts, every member's energy level is 0, as a
        transcribed `<Conference>`'s members join (verbs/conference.py): mod_conference's gate
        at the profile's level drops the first frames of each utterance from the mix the
        recording holds, costing about 16 points of word error rate (docs/transcription.md)."""
        if not self.transcripts:
            return []
        decisions: list[Decision] = []
        for member in room.members.values():
            if member.member_id is None or not member.in_room or member.member_id in self.ungated:
                continue
            self.ungated.add(member.member_id)
            cmd = commands.conference_api(room.fs_name, "energy", str(member.member_id),
                                          str(TRANSCRIBED_ENERGY_LEVEL))
            decisions.append(self._command("energy", cmd, member.call_uuid))
        return decisions

    def _record(self, room: MpcRoom, state: str, action: str) -> list[Decision]:
        assert self.file is not None and self.recorder_uuid is not None
        self.state = state
        return [self._command(action, recorder.uuid_record(self.recorder_uuid, action,
                                                             self.file.path))]

    def _answered(self, room: MpcRoom, done: CommandDone, now: float) -> list[Decision]:
        what, call_uuid = self._pending.pop(done.token)
        if what.startswith("track-"):
            return self._track_answered(room, what, call_uuid, done, now)
        if what == "energy":
            if not done.ok:
                log.warning("MPC %s (%s): call %s keeps its energy gate (its first frames of "
                            "speech may be missing from the transcribed recording): %s",
                            room.name, room.mpc_uuid, call_uuid, done.text.strip(),
                            extra=_extra(room, call_uuid))
            return []
        if what in ("relate", "relate-first"):
            if not done.ok:
                log.warning("MPC %s (%s): the recorder may hear supervisor call %s: %s",
                            room.name, room.mpc_uuid, call_uuid, done.text.strip(),
                            extra=_extra(room, call_uuid))
            if what == "relate-first" and self.state == RELATING and not any(
                    w == "relate-first" for w, _ in self._pending.values()):
                return self._record(room, STARTING, "start")
            return []
        if self.state == DONE and what not in ("kill", "play"):
            return []  # the recording already ended (failed): a late answer changes nothing
        if what in ("kill", "play"):
            if not done.ok:
                log.warning("MPC %s (%s): %s refused: %s", room.name, room.mpc_uuid,
                            done.token.split(" ", 1)[-1], done.text.strip(),
                            extra=_extra(room, call_uuid))
            return []
        if not done.ok and what in ("originate", "start", "stop"):
            return self._failed(room, now, f"{what}: {done.text.strip()}")
        file = self.file
        assert file is not None
        if what == "originate":
            self.state = RELATING
            if self.ending and self.recorder_id is None:  # the MPC ended meanwhile
                self.state = DONE
                return self._hang_up()
            return self._relate_all(room, now) if self.recorder_id is not None else []
        if what == "start":
            self.state = RECORDING
            file.run(now)
            log.info("MPC %s (%s): recording as %s", room.name, room.mpc_uuid,
                     file.recording_id, extra=_extra(room, room.creator or ""))
            decisions = self._callback(room, "MPCRecordingInitiated", now)
            return (decisions + self._play(room, self.settings.start_recording_sound)
                    + self._step(room, now))
        if what in ("pause", "resume"):
            pausing = what == "pause"
            before, after = (RECORDING, PAUSED) if pausing else (PAUSED, RECORDING)
            if not done.ok:
                self.state = before
                log.warning("MPC %s (%s): the recording did not %s: %s", room.name,
                            room.mpc_uuid, what, done.text.strip(), extra=_extra(room, ""))
                return []
            self.state = after
            (file.halt if pausing else file.run)(now)
            event = "MPCRecordingPaused" if pausing else "MPCRecordingResumed"
            return self._callback(room, event, now) + self._step(room, now)
        if what == "stop":  # FreeSWITCH closed the file: ask it how long the file is
            file.halt(now)
            file.ended_at = now
            assert self.recorder_uuid is not None
            return [self._command("length", commands.uuid_getvar(self.recorder_uuid,
                                                                  "record_ms"))]
        # length: record_ms, the media time FreeSWITCH wrote (our clock's when it has none)
        text = done.text.strip()
        if text.isdigit():
            file.fs_ms = int(text)
        self.state = DONE
        return (self._callback(room, "MPCRecordingCompleted", now)
                + mpc_transcripts.of_recording(room, file, self.transcripts, now)
                + self._hang_up())

    def _failed(self, room: MpcRoom, now: float, why: str, *,
                hang_up: bool = True) -> list[Decision]:
        log.error("MPC %s (%s): recording failed: %s", room.name, room.mpc_uuid, why,
                  extra=_extra(room, room.creator or ""))
        self.state = DONE
        decisions: list[Decision] = []
        if self.file is not None:
            self.file.halt(now)
            self.file.ended_at = now
            decisions += self._callback(room, "MPCRecordingFailed", now)
        return decisions + (self._hang_up() if hang_up else [])

    def _hang_up(self) -> list[Decision]:
        if self.recorder_uuid is None:
            return []
        return [self._command("kill", recorder.uuid_kill(self.recorder_uuid))]

    def _play(self, room: MpcRoom, sound: str | Music | None) -> list[Decision]:
        """`sound` (its file sources and Speaks, in order, once) to every participant in the
        room that is not held: member plays, so the recorder does not record it."""
        parts = music_parts(sound)
        if not parts:
            return []
        decisions: list[Decision] = []
        for member in room.members.values():
            if not member.in_room or member.held or member.member_id is None:
                continue
            try:
                for part in parts:
                    self._plays += 1
                    if isinstance(part, Speech):
                        cmd = member_commands.conference_member_say(room.fs_name, part.text, part.voice,
                                                             member.member_id)
                    else:
                        cmd = member_commands.conference_member_play(room.fs_name, part,
                                                              member.member_id,
                                                              f"rec-{self._plays}")
                    decisions.append(self._command("play", cmd, member.call_uuid))
            except UnsafeValue as exc:
                log.warning("MPC %s (%s): the recording sound is not played: %s", room.name,
                            room.mpc_uuid, exc, extra=_extra(room, member.call_uuid))
                return decisions
        return decisions

    # -- callbacks and commands -------------------------------------------------------------

    def _params(self, event: str, file: File, now: float) -> dict[str, str]:
        self.sequence += 1
        return {
            "EventName": event, "EventTimestamp": timestamp(now),
            "RecordingDuration": str(file.duration(now)),
            "RecordingStartTime": timestamp(file.started_at),
            "RecordingEndTime": timestamp(file.ended_at),
            "RecordingFormat": file.fmt, "RecordingURL": file.url,
            "RecordingResourceURL": file.url, "RecordingUUID": file.recording_id,
            "SequenceNumber": str(self.sequence),
        }

    def _webhook(self, room: MpcRoom, params: dict[str, str], call_uuid: str,
                 kind: str) -> list[Decision]:
        url = self.settings.recording_callback_url
        if not url:
            return []
        return [Emit(Webhook(url, self.settings.recording_callback_method, params, call_uuid,
                             kind, order_key=order_key(room.mpc_uuid)))]

    def _callback(self, room: MpcRoom, event: str, now: float) -> list[Decision]:
        assert self.file is not None
        if not self.settings.recording_callback_url:
            return []
        params = self._params(event, self.file, now)
        params = {**params, "MPCName": room.name, "MPCUUID": room.mpc_uuid}
        return self._webhook(room, params, room.creator or "", KIND)

    def _command(self, what: str, cmd: str, call_uuid: str = "") -> Command:
        self._tokens += 1
        token = f"{TOKEN}#{self._tokens} {what}"
        self._pending[token] = (what, call_uuid)
        return Command(cmd, token, call_uuid)


def _extra(room: MpcRoom, call_uuid: str) -> dict[str, str]:
    return {"call_uuid": call_uuid, "conference": room.name}


def _coach_voice(room: MpcRoom, member: Member) -> bool:
    """A voice recordCoachVoice="false" keeps out of the recording: every Supervisor (coaching
    or barging, as the spec says), and an ai-agent while it coaches (it whispers to Agents; an
    AI the whole room hears is a participant's voice and recorded)."""
    if member.role == Role.SUPERVISOR:
        return True
    return member.role == Role.AI_AGENT and bool(room.coaching.get(member.call_uuid))
