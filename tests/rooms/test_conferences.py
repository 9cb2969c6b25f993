"""Conferences: room claims (first caller's settings), recordings reported from events."""

from __future__ import annotations

import logging

from plivoxml_fs.esl.messages import Event
from plivoxml_fs.rooms.conferences import Conferences, Recording, RoomSettings
from plivoxml_fs.testing import RecordingOutbox

S1 = RoomSettings(max_members=5, time_limit_s=60, wait_sound=None, record=True,
                  record_file_format="mp3")
S2 = RoomSettings(max_members=9, time_limit_s=60, wait_sound=None, record=False,
                  record_file_format="mp3")


def book(now_ms: int = 10_000) -> tuple[Conferences, RecordingOutbox]:
    outbox = RecordingOutbox()
    return Conferences(outbox.emit, lambda: now_ms), outbox


def recording(**kw) -> Recording:
    values = dict(conference_name="r1", conference_uuid="cu-1", path="/rec/a.mp3",
                  recording_id="rid", record_url="http://h/rec/a.mp3", started_ms=1_000,
                  member_id=7, call_uuid="call-1", callback_url="http://app/cb",
                  callback_method="POST", call_params={"From": "1000"})
    values.update(kw)
    return Recording(**values)


def conf_event(action: str, **headers: str) -> Event:
    base = {"Event-Name": "CUSTOM", "Event-Subclass": "conference::maintenance",
            "Action": action, "Conference-Name": "r1", "Conference-Unique-ID": "cu-1"}
    return Event({**base, **headers})


def test_first_claim_wins_and_a_conflict_is_logged(caplog) -> None:
    """A later caller with other settings gets the first's, with one INFO line naming the room."""
    b, _ = book()
    assert b.claim("r1", "c1", S1, 100.0).settings == S1
    with caplog.at_level(logging.INFO):
        claim = b.claim("r1", "c2", S2, 105.0)
    assert claim.settings == S1 and claim.since_s == 100.0
    assert claim.deadline_s() == 160.0
    (line,) = [r.getMessage() for r in caplog.records]
    assert line.startswith("conference r1: this call asks for other room settings")
    assert "max_members: first 5, this 9" in line


def test_settings_go_with_the_last_holder() -> None:
    """Once every holder released the room, the next claim starts afresh."""
    b, _ = book()
    b.claim("r1", "c1", S1, 100.0)
    b.claim("r1", "c2", S1, 101.0)
    b.release("r1", "c1")
    assert b.claim("r1", "c3", S2, 102.0).settings == S1
    b.release("r1", "c2")
    b.release("r1", "c3")
    assert b.claim("r1", "c4", S2, 200.0).settings == S2


def test_stop_recording_posts_the_record_callback() -> None:
    """stop-recording of a reserved path posts ConferenceAction=record with FreeSWITCH's
    duration to the owner's callbackUrl, with the call parameters."""
    b, outbox = book(now_ms=9_999)
    assert b.reserve_recording(recording())
    assert not b.reserve_recording(recording(path="/rec/b.mp3"))  # one owner per room
    b.on_event(conf_event("start-recording", Path="/rec/a.mp3"))
    b.on_event(conf_event("stop-recording", Path="/rec/a.mp3", **{"Milliseconds-Elapsed": "4500"}))
    (hook,) = outbox.emitted
    assert (hook.url, hook.method, hook.call_uuid, hook.kind) == (
        "http://app/cb", "POST", "call-1", "conference-record")
    assert hook.params == {
        "From": "1000", "ConferenceAction": "record", "ConferenceName": "r1",
        "ConferenceUUID": "cu-1", "ConferenceMemberID": "7", "CallUUID": "call-1",
        "RecordUrl": "http://h/rec/a.mp3", "RecordingID": "rid", "RecordingDuration": "4",
        "RecordingDurationMs": "4500", "RecordingStartMs": "1000", "RecordingEndMs": "5500",
    }
    b.on_event(conf_event("stop-recording", Path="/rec/a.mp3"))
    assert len(outbox.emitted) == 1  # reported once


def test_a_recording_that_cannot_start_is_logged_and_forgotten(caplog) -> None:
    """start-recording with Error: one ERROR naming the room and the file; no record callback."""
    b, outbox = book()
    b.reserve_recording(recording())
    with caplog.at_level(logging.ERROR):
        b.on_event(conf_event("start-recording", Path="/rec/a.mp3",
                              Error="File could not be opened for recording"))
        b.on_event(conf_event("stop-recording", Path="/rec/a.mp3"))
    assert outbox.emitted == []
    assert b.recording_of("cu-1") is None
    assert [r.getMessage() for r in caplog.records] == [
        "conference r1: FreeSWITCH could not record to /rec/a.mp3: "
        "File could not be opened for recording"]


def test_lost_connection_reports_recordings_by_the_daemon_clock(caplog) -> None:
    """The inbound connection is lost mid-recording: the record callback goes at once, its
    duration measured by the daemon, with a WARNING saying so."""
    b, outbox = book(now_ms=7_000)
    b.reserve_recording(recording())
    with caplog.at_level(logging.WARNING):
        b.lost_connection()
    (hook,) = outbox.emitted
    assert hook.params["RecordingDurationMs"] == "6000"
    assert hook.params["RecordingEndMs"] == "7000"
    assert "inbound connection was lost while recording rid" in caplog.records[0].getMessage()


def test_other_events_are_ignored() -> None:
    """Events that are not conference::maintenance, or malformed ones, change nothing."""
    b, outbox = book()
    b.on_event(Event({"Event-Name": "CHANNEL_HANGUP_COMPLETE"}))
    b.on_event(Event({"Event-Name": "CUSTOM", "Event-Subclass": "conference::maintenance"}))
    assert outbox.emitted == [] and b.registry.rooms == {}
