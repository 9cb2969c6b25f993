"""Documents built with the official Plivo SDK's `plivoxml` builders validate as expected."""

from __future__ import annotations

import attrs
from plivo import plivoxml

from plivoxml_fs.documents import (
    Conference,
    Hangup,
    MultiPartyCall,
    Play,
    PreAnswer,
    Redirect,
    Speak,
    Wait,
    parse_document,
)
from plivoxml_fs.documents.problems import IN_CODE

SOURCE = "sdk.xml"
URL = "https://example.com/recording-ready/"


def parsed(*elements):
    """The verbs, locations dropped, of a Response the SDK builds from `elements`."""
    response = plivoxml.ResponseElement()
    for element in elements:
        response.add(element)
    data = response.to_string().encode()
    return [strip(verb) for verb in parse_document(data, source=SOURCE, max_bytes=65536).verbs]


def strip(verb):
    """`verb` with the in-code location, so it compares with models built here."""
    if isinstance(verb, PreAnswer):
        return attrs.evolve(verb, children=tuple(strip(c) for c in verb.children), where=IN_CODE)
    return attrs.evolve(verb, where=IN_CODE)


def test_sdk_conference_spec_example():
    """The spec's "Record Conference" Python example validates to the expected model."""
    element = plivoxml.ConferenceElement(
        "recorded-meeting", record=True, record_file_format="mp3", callback_url=URL
    )
    assert parsed(element) == [
        Conference(name="recorded-meeting", record=True, record_file_format="mp3", callback_url=URL)
    ]


def test_sdk_conference_every_attribute():
    """Every spec attribute the SDK builder can set comes through with its spelling."""
    element = plivoxml.ConferenceElement(
        "room-1", muted=True, enter_sound="beep:1", exit_sound="beep:2",
        start_conference_on_enter=False, end_conference_on_exit=True, stay_alone=False,
        wait_sound="https://example.com/hold.xml", max_members=5, record=True,
        record_file_format="wav", time_limit=3600, hangup_on_star=True,
        action="https://example.com/action", method="GET", callback_url=URL,
        callback_method="GET", digits_match="123,*0", floor_event=True, redirect=False,
        relay_dtmf=False, transcription_type="auto",
        transcription_url="https://example.com/t", transcription_method="GET",
    )
    assert parsed(element) == [
        Conference(
            name="room-1", muted=True, enter_sound="beep:1", exit_sound="beep:2",
            start_conference_on_enter=False, end_conference_on_exit=True, stay_alone=False,
            wait_sound="https://example.com/hold.xml", max_members=5, record=True,
            record_file_format="wav", time_limit=3600, hangup_on_star=True,
            action="https://example.com/action", method="GET", callback_url=URL,
            callback_method="GET", digits_match=("123", "*0"), floor_event=True, redirect=False,
            relay_dtmf=False, transcription_type="auto",
            transcription_url="https://example.com/t", transcription_method="GET",
        )
    ]


def test_sdk_multipartycall_spec_example():
    """The spec's basic MPC Python example (it writes every SDK default) validates."""
    element = plivoxml.MultiPartyCallElement(
        content="my-mpc-name", role="customer", max_duration=10000
    )
    assert parsed(element) == [MultiPartyCall(name="my-mpc-name", role="Customer",
                                              max_duration=10000)]


def test_sdk_multipartycall_settings():
    """MPC settings set through the SDK come through."""
    element = plivoxml.MultiPartyCallElement(
        content="support-call", role="Supervisor", max_participants=4, record=True,
        record_file_format="wav", recording_callback_url=URL, coach_mode=False, mute=True,
        hold=True, enter_sound="none", exit_sound="https://example.com/bye.xml",
        status_callback_url="https://example.com/mpc", status_callback_events=(
            "mpc-state-changes,participant-speak-events"
        ), on_exit_action_url="https://example.com/survey", relay_dtmf_inputs=True,
        wait_time=30, start_recording_audio="https://example.com/start.xml",
    )
    assert parsed(element) == [
        MultiPartyCall(
            name="support-call", role="Supervisor", max_participants=4, record=True,
            record_file_format="wav", recording_callback_url=URL, coach_mode=False, mute=True,
            hold=True, enter_sound="none", exit_sound="https://example.com/bye.xml",
            status_callback_url="https://example.com/mpc",
            status_callback_events=("mpc-state-changes", "participant-speak-events"),
            on_exit_action_url="https://example.com/survey", relay_dtmf_inputs=True,
            wait_time=30, start_recording_audio="https://example.com/start.xml",
        )
    ]


def test_sdk_small_verbs():
    """Play, Speak, Wait, Hangup, Redirect and PreAnswer from the SDK become their models."""
    preanswer = plivoxml.PreAnswerElement()
    preanswer.add(plivoxml.SpeakElement("Please hold", voice="MAN", language="en-GB", loop=2))
    preanswer.add(plivoxml.PlayElement("https://example.com/ring.mp3", loop=0))
    preanswer.add(plivoxml.WaitElement(length=2))
    assert parsed(
        preanswer,
        plivoxml.WaitElement(length=10, silence=True, min_silence=3000),
        plivoxml.WaitElement(length=5, beep=True),
        plivoxml.HangupElement(reason="busy", schedule=60),
        plivoxml.RedirectElement("https://example.com/next.xml", method="GET"),
    ) == [
        PreAnswer(children=(
            Speak(text="Please hold", voice="MAN", language="en-GB", loop=2),
            Play(url="https://example.com/ring.mp3", loop=0),
            Wait(length=2),
        )),
        Wait(length=10, silence=True, min_silence=3000),
        Wait(length=5, beep=True),
        Hangup(reason="busy", schedule=60),
        Redirect(url="https://example.com/next.xml", method="GET"),
    ]


def test_sdk_booleans_are_lowercase_true_false():
    """The SDK writes booleans as true/false, which is all we accept."""
    element = plivoxml.ConferenceElement("room", muted=False, hangup_on_star=True)
    assert 'muted="false"' in plivoxml.ResponseElement().add(element).to_string()
    assert parsed(plivoxml.ConferenceElement("room", muted=False, hangup_on_star=True)) == [
        Conference(name="room", muted=False, hangup_on_star=True)
    ]


def test_sdk_conference_send_digits_and_record_when_alone():
    """ConferenceElement's send_digits and record_when_alone (text, as the SDK writes them) validate."""
    element = plivoxml.ConferenceElement("room", record=True, send_digits="1w2#",
                                         record_when_alone="false")
    assert parsed(element) == [Conference(name="room", record=True, send_digits="1w2#",
                                          record_when_alone=False)]


def test_sdk_values_in_other_cases():
    """method="post", callbackMethod="get", recordFileFormat="MP3" pass the SDK unchanged; we read them."""
    element = plivoxml.ConferenceElement("room", method="post", callback_method="get",
                                         record_file_format="MP3")
    redirect = plivoxml.RedirectElement("https://example.com/next.xml", method="get")
    assert parsed(element, redirect) == [
        Conference(name="room", method="POST", callback_method="GET", record_file_format="mp3"),
        Redirect(url="https://example.com/next.xml", method="GET"),
    ]
