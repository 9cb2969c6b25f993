"""Typed event views in plivoxml_fs.fs.events, pinned against events recorded from FreeSWITCH."""

from __future__ import annotations

import pytest
from esl import traces

from plivoxml_fs.errors import ProtocolError
from plivoxml_fs.esl.codec import MessageParser
from plivoxml_fs.esl.messages import Event
from plivoxml_fs.fs import events


def _recorded(trace: str, conn: str | None = None) -> list[Event]:
    out = []
    for entry in traces.incoming(trace, conn):
        out += [m.event() for m in MessageParser().feed(entry.data) if m.is_event]
    return out


def test_execute_complete_from_trace():
    """The playback completion carries our Event-UUID, its data and its response."""
    done = [
        events.view(e)
        for e in _recorded("lifecycle.txt", "outbound-1")
        if e.name == "CHANNEL_EXECUTE_COMPLETE"
    ]
    play = next(d for d in done if d.app_uuid == "play-L1")
    assert play == events.ExecuteComplete(
        unique_id="fb118d4e-457b-4ae3-ba78-63b3e536d86f",
        app="playback",
        app_uuid="play-L1",
        app_data="tone_stream://%(300,0,440)",
        response="FILE PLAYED",
    )


def test_background_job_from_trace():
    """The bgapi result of the lifecycle trace reads as an ok job with body `false`."""
    (job,) = [
        events.view(e)
        for e in _recorded("lifecycle.txt", "outbound-1")
        if e.name == "BACKGROUND_JOB"
    ]
    assert job.job_uuid == "job-L1" and job.text == "false" and job.ok
    assert job.command == "uuid_getvar fb118d4e-457b-4ae3-ba78-63b3e536d86f hangup_after_conference"
    failed = events.JobResult.from_event(
        Event({"Event-Name": "BACKGROUND_JOB", "Job-UUID": "j"}, b"-ERR no reply\n")
    )
    assert not failed.ok


def test_hangup_from_trace():
    """CHANNEL_HANGUP and CHANNEL_HANGUP_COMPLETE give the channel and cause."""
    hangups = [
        events.view(e)
        for e in _recorded("lifecycle.txt", "outbound-1")
        if e.name.startswith("CHANNEL_HANGUP")
    ]
    assert [(h.cause, h.complete) for h in hangups] == [
        ("NORMAL_CLEARING", False),
        ("NORMAL_CLEARING", True),
    ]
    assert {h.unique_id for h in hangups} == {"fb118d4e-457b-4ae3-ba78-63b3e536d86f"}


def test_dtmf_from_trace():
    """DTMF events on an outbound socket give digit and duration."""
    digits = [events.view(e) for e in _recorded("digits.txt") if e.name == "DTMF"]
    assert digits and all(len(d.digit) == 1 for d in digits)
    assert digits[0].duration == 2000


def test_conference_events_from_trace():
    """Maintenance events give action, room id, member id and the other headers."""
    conf = [
        events.view(e) for e in _recorded("basic.txt") if e.subclass == events.CONFERENCE_SUBCLASS
    ]
    add = next(c for c in conf if c.action == "add-member")
    assert add.conference_name == "room1" and add.member_id is not None and add.unique_id
    dtmf = next(c for c in conf if c.action == "dtmf-member")
    assert dtmf.get("Digits") == "123"
    stop = next(c for c in conf if c.action == "stop-recording")
    assert stop.member_id is None and stop.unique_id is None
    assert stop.get("Path").endswith(".wav")
    assert len({c.conference_uid for c in conf}) >= 1


def test_untyped_events_give_none():
    """Events this module does not type (or other CUSTOM subclasses) give None."""
    assert events.view(Event({"Event-Name": "CHANNEL_PARK"})) is None
    assert events.view(Event({"Event-Name": "CUSTOM", "Event-Subclass": "sofia::register"})) is None


@pytest.mark.parametrize(
    ("build", "headers", "message"),
    [
        (events.Dtmf.from_event, {"Event-Name": "DTMF", "Unique-ID": "u"}, "DTMF: no DTMF-Digit"),
        (
            events.Dtmf.from_event,
            {"Event-Name": "DTMF", "Unique-ID": "u", "DTMF-Digit": "x"},
            "DTMF: DTMF-Digit is not a DTMF digit ('x')",
        ),
        (
            events.Dtmf.from_event,
            {"Event-Name": "DTMF", "Unique-ID": "u", "DTMF-Digit": "1", "DTMF-Duration": "1.5"},
            "DTMF: DTMF-Duration is not an integer ('1.5')",
        ),
        (
            events.Hangup.from_event,
            {"Event-Name": "DTMF"},
            "expected a CHANNEL_HANGUP event, got DTMF",
        ),
        (
            events.Hangup.from_event,
            {"Event-Name": "CHANNEL_HANGUP", "Unique-ID": "u"},
            "CHANNEL_HANGUP: no Hangup-Cause header",
        ),
        (events.JobResult.from_event, {"Event-Name": "BACKGROUND_JOB"}, "no Job-UUID header"),
        (
            events.ConferenceEvent.from_event,
            {"Event-Name": "CUSTOM", "Event-Subclass": "sofia::register"},
            "expected a CUSTOM/conference::maintenance event, got CUSTOM/sofia::register",
        ),
        (
            events.ConferenceEvent.from_event,
            {
                "Event-Name": "CUSTOM",
                "Event-Subclass": "conference::maintenance",
                "Action": "add-member",
                "Conference-Name": "r",
                "Conference-Unique-ID": "c",
                "Member-ID": "two",
            },
            "CUSTOM: Member-ID is not an integer ('two')",
        ),
        (
            events.ExecuteComplete.from_event,
            {},
            "expected a CHANNEL_EXECUTE_COMPLETE event, got no",
        ),
    ],
)
def test_bad_events_are_refused(build, headers, message):
    """A view refuses an event of the wrong kind or with a missing or bad header."""
    with pytest.raises(ProtocolError) as info:
        build(Event(headers))
    assert message in str(info.value)
