"""A `<Conference>` room's recording, the part of `Room` (rooms/room.py) that starts it, hears
FreeSWITCH say it started or stopped, and owes its record callback.

The room records when record="true" asks (the member whose entry makes it due starts it:
`_maybe_record`) or when the control API asks (`record`, rooms/control.py); both take
`record`. `recording start` is sent with the token RECORD_START and its answer comes back to
`_record_answer` (enter callbacks wait for it, so RecordUrl names a running recording). The
stop-recording event (or, when it never comes, the room's timer or the lost inbound
connection: by our clock) sends the record callback: ConferenceAction=record's parameters, or
the Record API's for the control API's recording. Pure: no gevent, no sockets, no clock.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import attrs

from plivoxml_fs.effects.webhook import Webhook
from plivoxml_fs.fs.events import ConferenceEvent
from plivoxml_fs.rooms import recordings
from plivoxml_fs.rooms.model import CommandDone, Decision, Emit, Member, Recording

if TYPE_CHECKING:
    pass

log = logging.getLogger("plivoxml_fs.rooms")

#: The token of `recording start`, whose answer the room acts on.
RECORD_START = "recording-start"


class RoomRecording:
    """`Room`'s recording methods (a mixin: the state is `Room`'s, made in its __init__)."""

    def _unstopped(self, rec: Recording, now: float) -> list[Decision]:
        return self._by_our_clock(rec, now, f"no stop-recording came for {rec.recording_id} "
                                  f"within {self.ctx.settings.command_timeout_s} s of the last "
                                  "member leaving")

    def lost_connection(self, now: float) -> list[Decision]:
        """The inbound connection is gone: a recording in flight is reported now, by our clock."""
        if not self.recording_live or self.recording is None:
            return []
        return self._by_our_clock(self.recording, now, "the inbound connection was lost while "
                                  f"recording {self.recording.recording_id}")

    def _by_our_clock(self, rec: Recording, now: float, why: str) -> list[Decision]:
        self.recording_live = False
        log.warning("conference %s: %s; its record callback carries the daemon's measure of the "
                    "duration", self.name, why, extra=self._extra(rec.call_uuid))
        return self._record_callback(rec, int(now * 1000), None)


    def _recording_started(self, event: ConferenceEvent, now: float) -> list[Decision]:
        rec = self.recording
        if not event.get("Error") or rec is None or event.get("Path") != rec.path:
            return []
        log.error("conference %s: FreeSWITCH could not record to %s: %s", self.name, rec.path,
                  event.get("Error"),
                  extra={**self._extra(rec.call_uuid), "event": "start-recording"})
        self.recording, self.recording_live = None, False
        return []

    def _recording_stopped(self, event: ConferenceEvent, now: float) -> list[Decision]:
        rec = self.recording
        if rec is None or not self.recording_live or event.get("Path") != rec.path:
            return []
        self.recording_live = False
        raw = event.get("Milliseconds-Elapsed") or ""
        return self._record_callback(rec, int(now * 1000), int(raw) if raw.isdigit() else None)


    def _maybe_record(self, member: Member, size: int | None) -> list[Decision]:
        """Start the room's recording if it should have one now (`size`: members in it)."""
        if not self.settings.record or self.recording is not None or self._recording_pending:
            return []
        if not self.settings.record_when_alone and (size or 0) < 2:
            return []  # recordWhenAlone="false": the member whose entry makes two starts it
        try:
            rec = recordings.new_recording(self.ctx.settings, self.name, self.uid or "",
                                           self.ctx.new_id(), self.settings.record_file_format,
                                           member)
        except ValueError as exc:
            log.error("call %s: conference %s: the recording could not start: %s",
                      member.call_uuid, self.name, exc, extra=self._extra(member.call_uuid))
            return []
        return self.record(rec)

    def record(self, rec: Recording) -> list[Decision]:
        """Record the room to `rec` (record="true"'s, or the control API's: rooms/control.py)."""
        self.recording, self._recording_pending = rec, True
        command = self._command("recording", "start", rec.path, call_uuid=rec.call_uuid,
                                token=RECORD_START)
        if command is None:
            self.recording, self._recording_pending = None, False
            return []
        return [attrs.evolve(command, make_dir=str(recordings.recordings_dir(self.ctx.settings)))]

    def _record_answer(self, done: CommandDone) -> list[Decision]:
        self._recording_pending = False
        rec = self.recording
        if rec is not None and done.ok:
            self.recording_live = True
            log.info("call %s: recording conference %s as %s", rec.call_uuid, self.name,
                     rec.recording_id, extra=self._extra(rec.call_uuid))
        elif rec is not None:
            self.recording = None
            log.error("call %s: conference %s: the recording could not start: %s",
                      rec.call_uuid, self.name, self.shown(done.text.strip()),
                      extra=self._extra(rec.call_uuid))
        decisions: list[Decision] = []
        for call_uuid in list(self._enters_held):
            decisions.extend(self._release_enter(call_uuid))
        return decisions


    def _record_callback(self, rec: Recording, end_ms: int, duration_ms: int | None):
        if not rec.callback_url:
            return []
        params = {**rec.call_params, **recordings.record_params(rec, end_ms, duration_ms)}
        return [Emit(Webhook(rec.callback_url, rec.callback_method, params, rec.call_uuid,
                             "conference-record"))]


    @property
    def shown_recording(self) -> Recording | None:
        """The recording callbacks name: the room's, once `recording start` was answered."""
        return None if self._recording_pending else self.recording
