"""The daemon's conference book: room settings claimed by callers, and recordings in flight.

One `Conferences` per daemon, shared by every call's `<Conference>` executor and fed the inbound
connection's conference::maintenance events. Pure Python, no gevent (timestamps are passed in).

- Room settings (`RoomSettings`: maxMembers, timeLimit, waitSound, record, recordFileFormat,
  recordWhenAlone, transcription) belong to the room, as on Plivo: the first caller who claims a room name sets
  them, later callers with other settings keep the first ones (an INFO line per call). A claim
  is held per call and dropped when that call's verb ends; the settings are forgotten with the
  last claim, so a room name reused later starts afresh. The time limit counts from the first
  claim.
- Recordings: the first member of a room with record="true" owns the room's recording; the
  executor reserves it here (`reserve_recording`) before it sends `recording start`, so the
  inbound connection's `stop-recording` finds it and posts ConferenceAction=record to the
  owner's callbackUrl with the duration FreeSWITCH measured. If the inbound connection is lost,
  each recording in flight is reported at once with the daemon's own clock (logged).
- `registry` (rooms by Conference-Unique-ID, members, floor) follows every event, for the
  MultiPartyCall layer and the operator API.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from plivoxml_fs.effects.webhook import Webhook
from plivoxml_fs.errors import PlivoXMLError
from plivoxml_fs.fs.events import CONFERENCE_SUBCLASS, ConferenceEvent
from plivoxml_fs.rooms.registry import RoomRegistry

log = logging.getLogger("plivoxml_fs.rooms")


@attrs.frozen
class RoomSettings:
    """What a room runs with, whoever joins later: the first claimant's attributes."""

    max_members: int
    time_limit_s: int
    wait_sound: str | None
    record: bool
    record_file_format: str
    transcription_type: str | None = None
    transcription_url: str | None = None
    transcription_method: str = "POST"
    record_when_alone: bool = True  # false: the recording waits for a second member

    @classmethod
    def of(cls, conf: Any) -> RoomSettings:
        """The room settings a `<Conference>` model asks for."""
        return cls(
            max_members=conf.max_members,
            time_limit_s=conf.time_limit,
            wait_sound=conf.wait_sound,
            record=conf.record,
            record_file_format=conf.record_file_format,
            transcription_type=conf.transcription_type,
            transcription_url=conf.transcription_url,
            transcription_method=conf.transcription_method,
            record_when_alone=conf.record_when_alone,
        )


@attrs.frozen
class Claim:
    """The settings a room name runs with, and when it was first claimed (epoch seconds)."""

    settings: RoomSettings
    since_s: float
    first_call: str = ""  # the call that claimed the room first (its creator, as a rule)

    def deadline_s(self) -> float:
        return self.since_s + self.settings.time_limit_s


@attrs.frozen
class Recording:
    """A room's recording: the file, what it is called in callbacks, and who gets told."""

    conference_name: str
    conference_uuid: str
    path: str
    recording_id: str
    record_url: str
    started_ms: int
    member_id: int
    call_uuid: str
    callback_url: str | None
    callback_method: str
    call_params: Mapping[str, str] = attrs.field(factory=dict, converter=dict)


@attrs.define
class _Room:
    claim: Claim
    holders: set[str] = attrs.field(factory=set)  # call uuids holding a claim


def record_params(rec: Recording, end_ms: int, duration_ms: int | None) -> dict[str, str]:
    """The ConferenceAction=record parameters of a finished recording."""
    ms = max(0, end_ms - rec.started_ms) if duration_ms is None else duration_ms
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


class Conferences:
    """Claims by room name, recordings by path; `on_event` takes the inbound connection's events."""

    def __init__(self, emit: Callable[[Webhook], object], clock_ms: Callable[[], int]) -> None:
        self._emit = emit
        self._clock_ms = clock_ms
        self.registry = RoomRegistry()
        self._rooms: dict[str, _Room] = {}  # room name -> claim
        self._recordings: dict[str, Recording] = {}  # path -> recording in flight
        self._recorded: dict[str, Recording] = {}  # Conference-Unique-ID -> its recording

    # -- claims -----------------------------------------------------------------------------

    def claim(self, name: str, call_uuid: str, wanted: RoomSettings, now_s: float) -> Claim:
        """The claim room `name` runs with for `call_uuid`: the first holder's settings."""
        room = self._rooms.get(name)
        if room is None:
            room = self._rooms[name] = _Room(Claim(wanted, now_s, call_uuid))
        elif room.claim.settings != wanted:
            # INFO: on Plivo too the room keeps its creator's settings; this is no fault
            log.info(
                "conference %s: this call asks for other room settings than the first caller "
                "(%s); the first caller's are kept",
                name,
                _differences(room.claim.settings, wanted),
                extra={"call_uuid": call_uuid, "conference": name},
            )
        room.holders.add(call_uuid)
        return room.claim

    def release(self, name: str, call_uuid: str) -> None:
        """`call_uuid` is done with room `name`; the settings go with the last holder."""
        room = self._rooms.get(name)
        if room is None:
            return
        room.holders.discard(call_uuid)
        if not room.holders:
            del self._rooms[name]

    # -- recordings -------------------------------------------------------------------------

    def recording_of(self, conference_uuid: str) -> Recording | None:
        """The recording of the room with this Conference-Unique-ID, if one was started."""
        return self._recorded.get(conference_uuid)

    def reserve_recording(self, recording: Recording) -> bool:
        """Make `recording` the room's; False when the room already has one (not the owner)."""
        if recording.conference_uuid in self._recorded:
            return False
        self._recorded[recording.conference_uuid] = recording
        self._recordings[recording.path] = recording
        return True

    def recording_failed(self, recording: Recording) -> None:
        """`recording start` was refused: the room has no recording after all."""
        self._recordings.pop(recording.path, None)
        if self._recorded.get(recording.conference_uuid) is recording:
            del self._recorded[recording.conference_uuid]

    # -- the inbound connection -------------------------------------------------------------

    def on_event(self, event: Any) -> None:
        """One event from the inbound connection (conference::maintenance; others ignored)."""
        if event.name != "CUSTOM" or event.subclass != CONFERENCE_SUBCLASS:
            return
        try:
            conf = ConferenceEvent.from_event(event)
        except PlivoXMLError as exc:
            log.warning("conference event ignored: %s", exc)
            return
        self.registry.apply(conf)
        if conf.action == "stop-recording":
            self._stopped(conf)
        elif conf.action == "start-recording" and conf.get("Error"):
            self._failed(conf)
        elif conf.action == "conference-destroy":
            self._recorded.pop(conf.conference_uid, None)

    def lost_connection(self) -> None:
        """The inbound connection is gone: report each recording in flight now, by our clock."""
        self.registry.lost_connection()
        now = self._clock_ms()
        for path, rec in list(self._recordings.items()):
            del self._recordings[path]
            log.warning(
                "conference %s: the inbound connection was lost while recording %s; its record "
                "callback carries the daemon's measure of the duration",
                rec.conference_name,
                rec.recording_id,
                extra={"call_uuid": rec.call_uuid, "conference": rec.conference_name},
            )
            self._report(rec, now, None)
        self._recorded.clear()

    def _stopped(self, conf: ConferenceEvent) -> None:
        rec = self._recordings.pop(conf.get("Path") or "", None)
        if rec is None:
            return
        raw = conf.get("Milliseconds-Elapsed") or ""
        duration = int(raw) if raw.isdigit() else None
        self._report(rec, self._clock_ms(), duration)

    def _failed(self, conf: ConferenceEvent) -> None:
        rec = self._recordings.pop(conf.get("Path") or "", None)
        if rec is None:
            return
        self.recording_failed(rec)
        log.error(
            "conference %s: FreeSWITCH could not record to %s: %s",
            rec.conference_name,
            rec.path,
            conf.get("Error"),
            extra={"call_uuid": rec.call_uuid, "conference": rec.conference_name,
                   "event": "start-recording"},
        )

    def _report(self, rec: Recording, end_ms: int, duration_ms: int | None) -> None:
        if not rec.callback_url:
            return
        params = {**rec.call_params, **record_params(rec, end_ms, duration_ms)}
        try:
            self._emit(Webhook(rec.callback_url, rec.callback_method, params, rec.call_uuid,
                               "conference-record"))
        except (ValueError, PlivoXMLError) as exc:
            log.error("conference %s: record callback not sent: %s", rec.conference_name, exc,
                      extra={"call_uuid": rec.call_uuid, "conference": rec.conference_name})


def _differences(first: RoomSettings, later: RoomSettings) -> str:
    a, b = attrs.asdict(first), attrs.asdict(later)
    return ", ".join(f"{k}: first {a[k]!r}, this {b[k]!r}" for k in a if a[k] != b[k])
