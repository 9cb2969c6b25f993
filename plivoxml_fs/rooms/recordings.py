"""A room's recording: where it lives, what it is called, and `RoomRecording`, its decisions.

A recording's file name comes from the room's Conference-Unique-ID and a recording id the
daemon makes (never from the document), so `RECORDING_NAME` matches every name and nothing
else: the HTTP server serves only names that match it, from `recordings_dir` alone.

`RoomRecording` is the recording of one room (a `<Conference>` today, a `<MultiPartyCall>`
later), pure as the room is: no clock, no sockets; every input returns decisions.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path

import attrs

from plivoxml_fs.config import Settings
from plivoxml_fs.effects.webhook import Webhook
from plivoxml_fs.fs.events import ConferenceEvent
from plivoxml_fs.rooms.model import (
    ArmTimer,
    Command,
    CommandDone,
    Decision,
    Emit,
    Member,
    Recording,
    RoomContext,
    Transcribe,
)

#: The energy level of each member of a room whose recording is transcribed (0: no gate):
#: mod_conference's gate at the profile's level drops the first 20-80 ms of every talk that
#: starts softly, the first sound of an utterance (docs/transcription.md).
TRANSCRIBED_ENERGY_LEVEL = 0

log = logging.getLogger("plivoxml_fs.rooms")

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
                  api_id: str, transcription_url: str | None = None,
                  transcription_method: str = "POST") -> Recording:
    """A recording the control API starts at `now_ms` (ValueError as `new_recording`)."""
    name = recording_name(uid, recording_id, fmt)
    return Recording(
        conference_name=room, conference_uuid=uid, path=str(recordings_dir(settings) / name),
        recording_id=recording_id, record_url=record_url(settings, name), started_ms=now_ms,
        member_id=0, call_uuid="", callback_url=callback_url, callback_method=callback_method,
        api_id=api_id, transcription_url=transcription_url,
        transcription_method=transcription_method,
    )


def transcription(rec: Recording, duration_ms: int) -> list[Decision]:
    """The finished recording's transcription job, when it asked for one."""
    if not rec.transcription_url:
        return []
    return [Transcribe(rec.path, rec.transcription_url, rec.transcription_method,
                       rec.recording_id, rec.call_uuid, duration_ms)]


def record_params(rec: Recording, end_ms: int, duration_ms: int | None,
                  paused_ms: int = 0) -> dict[str, str]:
    """The parameters of a finished recording's callback: ConferenceAction=record ones, or for
    the control API's the Record API's (api_id, record_url, recording_id, ...).

    RecordingDurationMs is the audio recorded: FreeSWITCH's Milliseconds-Elapsed (`duration_ms`;
    paused time is not in the file, nor in it), else ours (`end_ms` less the start and
    `paused_ms`). RecordingEndMs is when it ended: its start, the audio and the pauses."""
    ms = max(0, end_ms - rec.started_ms - paused_ms) if duration_ms is None else duration_ms
    if rec.api_id:
        return {"api_id": rec.api_id, "record_url": rec.record_url,
                "recording_id": rec.recording_id, "conference_name": rec.conference_name,
                "recording_duration": str(round(ms / 1000)), "recording_duration_ms": str(ms),
                "recording_start_ms": str(rec.started_ms),
                "recording_end_ms": str(rec.started_ms + ms + paused_ms)}
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
        "RecordingEndMs": str(rec.started_ms + ms + paused_ms),
    }


#: The tokens of a recording's commands: the room hands every answer whose token starts with
#: TOKEN to `RoomRecording.answered`.
TOKEN = "recording-"
START, PAUSE, RESUME = TOKEN + "start", TOKEN + "pause", TOKEN + "resume"
#: The room's command builder: `send(subcommand, *args, call_uuid=, token=)` is the Command
#: for `conference <room> <subcommand> <args>`, or None (logged) when a value cannot be sent.
Send = Callable[..., Command | None]


@attrs.frozen
class Policy:
    """When a room records: `fmt` mp3|wav; the recording starts once `start_at` members are in;
    `pause_alone`: it is paused while one member is left and resumed when two are in again;
    `transcription_url`: the finished file is transcribed and the text posted there."""

    fmt: str = "mp3"
    start_at: int = 1
    pause_alone: bool = False
    transcription_url: str | None = None
    transcription_method: str = "POST"


class RoomRecording:
    """The recording of one room (`<Conference>`, later `<MultiPartyCall>`), sans-IO.

    Made with the room's name (what callbacks show), its RoomContext, its command builder
    `send` (see Send) and a Policy (None: the room is not recorded). Inputs, each returning
    decisions:

    - `entered(member, size, uid)`: `member` entered (add-member; `size` members now, room
      uid `uid`): the recording starts once `size` reaches `policy.start_at`; `member` owns it
      (its callbackUrl gets the record callback);
    - `sized(size)`: the room has `size` members now (any add-/del-member): with
      `pause_alone`, a recording pauses at one member and resumes at two;
    - `answered(done)`: the answer to a command whose token starts with TOKEN;
    - `event(event, now)`: this room's start-/pause-/resume-/stop-recording; stop-recording
      gives the record callback with FreeSWITCH's duration;
    - `emptied(now)`: the room's last seat left: a stop-recording is due within
      command_timeout_s, else `tick(now)` reports the recording by our clock;
    - `lost(now)`: the inbound connection is gone: a recording in flight is reported now.

    What the room reads: `recording` (None until it starts, and after it failed), `pending`
    (`recording start` not answered yet: enter callbacks wait), `shown` (the recording
    callbacks name), `owed` (it started and its record callback is not given yet).

    Pause and resume go only to a recording FreeSWITCH runs (after its start-recording event:
    before it `recording pause` finds none), one at a time; each pause-/resume-recording event
    sends what the room's size asks for by then, so quick leaves and joins end right. A
    paused recording writes nothing: FreeSWITCH's Milliseconds-Elapsed is the audio recorded.
    """

    def __init__(self, name: str, ctx: RoomContext, send: Send, policy: Policy | None) -> None:
        self.name, self.ctx, self._send, self.policy = name, ctx, send, policy
        self.recording: Recording | None = None
        self.pending = False
        self.owed = False
        self._running = False  # its start-recording came: pause/resume can find it
        self._paused = False  # as FreeSWITCH last said (pause-/resume-recording)
        self._alone = False  # the room's size asks for it to be paused
        self._asked = False  # a pause or resume sent, its event not come yet
        self._paused_since: float | None = None
        self._paused_s = 0.0
        self._stop_due: float | None = None

    @property
    def shown(self) -> Recording | None:
        """The recording callbacks name: once `recording start` was answered."""
        return None if self.pending else self.recording

    # -- the room's members ---------------------------------------------------------------

    def entered(self, member: Member, size: int | None, uid: str) -> list[Decision]:
        policy = self.policy
        if policy is None or self.recording is not None or self.pending:
            return []
        if (size or 0) < policy.start_at:
            return []  # e.g. recordWhenAlone="false": the member whose entry makes two starts it
        try:
            rec = new_recording(self.ctx.settings, self.name, uid, self.ctx.new_id(),
                                policy.fmt, member)
            rec = attrs.evolve(rec, transcription_url=policy.transcription_url,
                               transcription_method=policy.transcription_method)
        except ValueError as exc:
            log.error("call %s: conference %s: the recording could not start: %s",
                      member.call_uuid, self.name, exc, extra=self._extra(member.call_uuid))
            return []
        return self.start(rec)

    def start(self, rec: Recording) -> list[Decision]:
        """Record the room to `rec` now (the member's entry above, or the control API)."""
        command = self._send("recording", "start", rec.path, call_uuid=rec.call_uuid,
                             token=START)
        if command is None:
            return []
        self.recording, self.pending, self.owed, self._running = rec, True, False, False
        self._paused = self._alone = self._asked = False
        self._paused_since, self._paused_s, self._stop_due = None, 0.0, None
        return [attrs.evolve(command, make_dir=str(recordings_dir(self.ctx.settings)))]

    def sized(self, size: int | None) -> list[Decision]:
        if self.policy is None or not self.policy.pause_alone or not size:
            return []  # 0: the room ends, and the recording with it
        self._alone = size < 2
        return self._follow()

    def emptied(self, now: float) -> list[Decision]:
        # FreeSWITCH stops the recording as the room ends, right after its last member: if
        # that event never comes (the inbound connection down), report it anyway
        if not self.owed:
            return []
        self._stop_due = now + self.ctx.settings.command_timeout_s
        return [ArmTimer(self._stop_due)]

    def tick(self, now: float) -> list[Decision]:
        if self._stop_due is None or now < self._stop_due or not self.owed:
            return []
        return self._by_our_clock(now, f"no stop-recording came for {self._id} within "
                                  f"{self.ctx.settings.command_timeout_s} s of the last member "
                                  "leaving")

    def lost(self, now: float) -> list[Decision]:
        if not self.owed:
            return []
        return self._by_our_clock(now, f"the inbound connection was lost while recording "
                                  f"{self._id}")

    # -- FreeSWITCH's answers and events --------------------------------------------------

    def answered(self, done: CommandDone) -> list[Decision]:
        rec = self.recording
        if not done.token.startswith(START):
            self._asked = False
            if "-ERR" in done.text and rec is not None:
                log.warning("conference %s: %s: %s", self.name, done.token.split(" ", 1)[-1],
                            done.text.strip(), extra=self._extra(rec.call_uuid))
            return []
        self.pending = False
        if rec is not None and done.ok:
            self.owed = True
            log.info("call %s: recording conference %s as %s", rec.call_uuid, self.name,
                     rec.recording_id, extra=self._extra(rec.call_uuid))
            return self._follow()
        if rec is not None:
            self.recording = None
            log.error("call %s: conference %s: the recording could not start: %s",
                      rec.call_uuid, self.name, done.text.strip(),
                      extra=self._extra(rec.call_uuid))
        return []

    def event(self, event: ConferenceEvent, now: float) -> list[Decision]:
        rec = self.recording
        if rec is None or event.get("Path") != rec.path:
            return []
        if event.action == "start-recording":
            if not event.get("Error"):
                self._running = True
                return self._follow()
            log.error("conference %s: FreeSWITCH could not record to %s: %s", self.name,
                      rec.path, event.get("Error"),
                      extra={**self._extra(rec.call_uuid), "event": "start-recording"})
            self.recording, self.owed = None, False
            return []
        if event.action in ("pause-recording", "resume-recording"):
            self._asked = False
            self._paused = event.action == "pause-recording"
            if self._paused and self._paused_since is None:
                self._paused_since = now
            elif not self._paused and self._paused_since is not None:
                self._paused_s += now - self._paused_since
                self._paused_since = None
            return self._follow()
        if event.action != "stop-recording" or not self.owed:
            return []
        self.owed = self._running = False
        raw = event.get("Milliseconds-Elapsed") or ""
        return self._callback(now, int(raw) if raw.isdigit() else None)

    # -- helpers ----------------------------------------------------------------------------

    @property
    def _id(self) -> str:
        return self.recording.recording_id if self.recording else ""

    def _follow(self) -> list[Decision]:
        """Pause or resume when the room's size asks for what FreeSWITCH does not do yet."""
        rec = self.recording
        if (rec is None or not (self._running and self.owed) or self._asked
                or self._alone == self._paused):
            return []
        action = "pause" if self._alone else "resume"
        command = self._send("recording", action, rec.path, call_uuid=rec.call_uuid,
                             token=PAUSE if self._alone else RESUME)
        if command is None:
            return []
        self._asked = True
        log.info("call %s: conference %s: %s recording %s (%s)", rec.call_uuid, self.name,
                 "pausing" if self._alone else "resuming", rec.recording_id,
                 "one member left" if self._alone else "two members in again",
                 extra=self._extra(rec.call_uuid))
        return [command]

    def _by_our_clock(self, now: float, why: str) -> list[Decision]:
        self.owed = False
        log.warning("conference %s: %s; its record callback carries the daemon's measure of the "
                    "duration", self.name, why, extra=self._extra(self.recording.call_uuid))
        return self._callback(now, None)

    def _callback(self, now: float, duration_ms: int | None) -> list[Decision]:
        """The record callback (when someone is told) and the transcription (when asked)."""
        rec = self.recording
        if rec is None:
            return []
        paused = self._paused_s + (now - self._paused_since if self._paused_since else 0.0)
        params = {**rec.call_params, **record_params(rec, int(now * 1000), duration_ms,
                                                     int(paused * 1000))}
        ms = int(params.get("RecordingDurationMs") or params.get("recording_duration_ms") or 0)
        told: list[Decision] = []
        if rec.callback_url:
            told.append(Emit(Webhook(rec.callback_url, rec.callback_method, params,
                                     rec.call_uuid, "conference-record")))
        return told + transcription(rec, ms)

    def _extra(self, call_uuid: str) -> dict[str, str]:
        return {"call_uuid": call_uuid, "conference": self.name}
