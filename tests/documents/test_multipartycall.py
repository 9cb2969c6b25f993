"""<MultiPartyCall>: every attribute of spec/plivo-multipartycall.md (and the SDK's extras)."""

from __future__ import annotations

import attrs
import pytest

from plivoxml_fs.documents import Location, MultiPartyCall, parse_document
from plivoxml_fs.documents.build import SHAPES

from .helpers import SOURCE, only_verb, verb_problems

URL = "https://example.com/hook"
WSS = "wss://agent.example.com/stream"
BOOL = "must be true or false"
HTTP_URL = "must be an absolute http(s) URL"
METHOD = "must be one of GET, POST (in any case)"
SOUND = "must be none, beep:1, beep:2 or an absolute http(s) URL"
EVENTS = (
    "must be a comma-separated list (any case) of: mpc-state-changes, "
    "participant-state-changes, participant-speak-events, participant-digit-input-events, "
    "add-participant-api-events, participant-audio-events"
)

#: Defaults: the spec's where it states one, else the official SDK's.
DEFAULTS = {
    "max_duration": 14400,
    "max_participants": 10,
    "record": False,
    "record_file_format": "mp3",
    "record_min_member_count": 1,
    "wait_for_agent": False,
    "record_coach_voice": None,
    "start_recording_audio": None,
    "start_recording_audio_method": "GET",
    "stop_recording_audio": None,
    "stop_recording_audio_method": "GET",
    "wait_music_url": None,
    "wait_music_method": "GET",
    "agent_hold_music_url": None,
    "agent_hold_music_method": "GET",
    "customer_hold_music_url": None,
    "customer_hold_music_method": "GET",
    "status_callback_url": None,
    "status_callback_method": "POST",
    "status_callback_events": ("mpc-state-changes", "participant-state-changes"),
    "recording_callback_url": None,
    "recording_callback_method": "POST",
    "mute": False,
    "hold": False,
    "coach_mode": True,
    "stay_alone": False,
    "start_mpc_on_enter": True,
    "end_mpc_on_exit": False,
    "enter_sound": "beep:1",
    "enter_sound_method": "GET",
    "exit_sound": "beep:2",
    "exit_sound_method": "GET",
    "on_exit_action_url": None,
    "on_exit_action_method": "POST",
    "relay_dtmf_inputs": False,
    "ai_agent_stream_service_url": None,
    "ai_agent_stream_content_type": "audio/x-l16;rate=8000",
    "ai_agent_stream_status_callback_url": None,
    "ai_agent_stream_status_callback_method": "POST",
    "ai_agent_stream_sampling_rate": None,
    "ai_agent_stream_extra_headers": (),
    "ai_agent_hears": ("all",),
    "wait_time": None,
    "record_participant_track": False,
    "transcript": False,
    "transcription_url": None,
}

#: (XML attribute, field, a valid value, what it becomes, [(invalid value, message)])
ATTRIBUTES = [
    ("maxDuration", "max_duration", "300", 300,
     [(v, "must be an integer 300..28800") for v in ("299", "28801", "1e4")]),
    ("maxParticipants", "max_participants", "2", 2,
     [(v, "must be an integer 2..10") for v in ("1", "11")]),
    ("record", "record", "true", True, [("yes", BOOL)]),
    ("recordFileFormat", "record_file_format", "wav", "wav", [("ogg", "must be one of mp3, wav (in any case)")]),
    ("recordMinMemberCount", "record_min_member_count", "2", 2,
     [(v, "must be an integer 1..2") for v in ("0", "3")]),
    ("waitForAgent", "wait_for_agent", "true", True, [("1", BOOL)]),
    ("recordCoachVoice", "record_coach_voice", "false", False, [("no", BOOL)]),
    ("startRecordingAudio", "start_recording_audio", URL, URL, [("x.xml", HTTP_URL)]),
    ("startRecordingAudioMethod", "start_recording_audio_method", "POST", "POST",
     [("got", METHOD)]),
    ("stopRecordingAudio", "stop_recording_audio", URL, URL, [("x.xml", HTTP_URL)]),
    ("stopRecordingAudioMethod", "stop_recording_audio_method", "POST", "POST", [("PUT", METHOD)]),
    ("waitMusicUrl", "wait_music_url", URL, URL, [("ws://example.com/x", HTTP_URL)]),
    ("waitMusicMethod", "wait_music_method", "POST", "POST", [("HEAD", METHOD)]),
    ("agentHoldMusicUrl", "agent_hold_music_url", URL, URL, [("//example.com/x", HTTP_URL)]),
    ("agentHoldMusicMethod", "agent_hold_music_method", "POST", "POST", [("", METHOD)]),
    ("customerHoldMusicUrl", "customer_hold_music_url", URL, URL, [("example.com", HTTP_URL)]),
    ("customerHoldMusicMethod", "customer_hold_music_method", "POST", "POST", [("Posted", METHOD)]),
    ("statusCallbackUrl", "status_callback_url", URL, URL, [("file:///etc/x", HTTP_URL)]),
    ("statusCallbackMethod", "status_callback_method", "GET", "GET", [("PATCH", METHOD)]),
    ("statusCallbackEvents", "status_callback_events",
     "participant-speak-events,participant-audio-events",
     ("participant-speak-events", "participant-audio-events"),
     [(v, EVENTS) for v in ("", "mpc-state-changes,", "bogus",
                            "mpc-state-changes, participant-speak-events")]),
    ("recordingCallbackUrl", "recording_callback_url", URL, URL, [("x", HTTP_URL)]),
    ("recordingCallbackMethod", "recording_callback_method", "GET", "GET", [("x", METHOD)]),
    ("mute", "mute", "true", True, [("True", BOOL)]),
    ("hold", "hold", "true", True, [("on", BOOL)]),
    ("coachMode", "coach_mode", "false", False, [("0", BOOL)]),
    ("stayAlone", "stay_alone", "true", True, [("y", BOOL)]),
    ("startMpcOnEnter", "start_mpc_on_enter", "false", False, [("n", BOOL)]),
    ("endMpcOnExit", "end_mpc_on_exit", "true", True, [("TRUE", BOOL)]),
    ("enterSound", "enter_sound", "none", "none", [("beep:3", SOUND), ("", SOUND)]),
    ("enterSoundMethod", "enter_sound_method", "POST", "POST", [("x", METHOD)]),
    ("exitSound", "exit_sound", URL, URL, [("None", SOUND)]),
    ("exitSoundMethod", "exit_sound_method", "POST", "POST", [("x", METHOD)]),
    ("onExitActionUrl", "on_exit_action_url", URL, URL, [("/next", HTTP_URL)]),
    ("onExitActionMethod", "on_exit_action_method", "GET", "GET", [("x", METHOD)]),
    ("relayDTMFInputs", "relay_dtmf_inputs", "true", True, [("1", BOOL)]),
    ("waitTime", "wait_time", "0", 0, [(v, "must be an integer 0..1800") for v in ("-1", "1801")]),
    ("recordParticipantTrack", "record_participant_track", "true", True, [("1", BOOL)]),
    ("transcript", "transcript", "true", True, [("1", BOOL)]),
    ("transcriptionUrl", "transcription_url", URL, URL, [("x", HTTP_URL)]),
]

AI_ATTRIBUTES = [
    ("aiAgentStreamContentType", "ai_agent_stream_content_type", "audio/x-mulaw;rate=8000",
     "audio/x-mulaw;rate=8000",
     [("audio/wav", "must be one of audio/x-l16;rate=8000, audio/x-l16;rate=16000, "
       "audio/x-mulaw;rate=8000")]),
    ("aiAgentStreamStatusCallbackUrl", "ai_agent_stream_status_callback_url", URL, URL,
     [("x", HTTP_URL)]),
    ("aiAgentStreamStatusCallbackMethod", "ai_agent_stream_status_callback_method", "GET", "GET",
     [("x", METHOD)]),
    ("aiAgentStreamSamplingRate", "ai_agent_stream_sampling_rate", "16000", "16000",
     [("44100", "must be one of 8000, 16000")]),
    ("aiAgentStreamExtraHeaders", "ai_agent_stream_extra_headers",
     '{"X-Token": "abc", "X-Call": "1"}', (("X-Token", "abc"), ("X-Call", "1")),
     [(v, "must be a JSON object of HTTP header names to text values without control "
       "characters")
      for v in ("[]", '{"a b": "x"}', '{"X": 1}', '{"X": "a\\r\\nb"}', "{", '{"X": "${y}"}')]),
    ("aiAgentHears", "ai_agent_hears", "customer,AGENT", ("Customer", "Agent"),
     [(v, "must be a comma-separated list (any case) of: all, Agent, Customer, Supervisor")
      for v in ("x", "", "Customer,,Agent")]),
]


def mpc(attributes: str = "", role: str = "Agent") -> str:
    return f'<MultiPartyCall role="{role}" {attributes}>mpc-1</MultiPartyCall>'


def ai_mpc(attributes: str = "") -> str:
    return mpc(f'aiAgentStreamServiceUrl="{WSS}" {attributes}', role="ai-agent")


def test_event_groups_in_any_case_and_repeated():
    """Group names in any case, a repeated one once (issue 11): the spelling of the spec."""
    (mpc,) = parse_document(
        b'<Response><MultiPartyCall role="agent" statusCallbackEvents="MPC-STATE-CHANGES,'
        b'Participant-Speak-Events,mpc-state-changes">n</MultiPartyCall></Response>',
        source="t.xml", max_bytes=4096).verbs
    assert mpc.status_callback_events == ("mpc-state-changes", "participant-speak-events")


def test_every_attribute_is_covered():
    """The tables here name every XML attribute the model reads, and DEFAULTS every field."""
    tested = {row[0] for row in ATTRIBUTES + AI_ATTRIBUTES} | {"role", "aiAgentStreamServiceUrl"}
    assert tested == set(SHAPES["MultiPartyCall"].attributes)
    fields = {field.name for field in attrs.fields(MultiPartyCall)} - {"name", "role", "where"}
    assert set(DEFAULTS) == fields


def test_defaults():
    """A bare <MultiPartyCall role="Agent"> gets every default."""
    assert only_verb(mpc()) == MultiPartyCall(
        name="mpc-1", role="Agent", where=Location(SOURCE, 2, 5), **DEFAULTS
    )


@pytest.mark.parametrize(
    ("raw", "role"),
    [("Agent", "Agent"), ("agent", "Agent"), ("customer", "Customer"), ("SUPERVISOR", "Supervisor"),
     ("Customer", "Customer")],
)
def test_role_in_any_case(raw, role):
    """role is matched in any case (the spec writes both) and kept in its canonical spelling."""
    assert only_verb(mpc(role=raw)).role == role


@pytest.mark.parametrize("raw", ["", "admin", "Agent ", "agents"])
def test_unknown_role(raw):
    """Any other role is refused, listing the roles."""
    assert verb_problems(mpc(role=raw)) == [
        f"{SOURCE}:2:5 <MultiPartyCall> role: must be one of Agent, Supervisor, Customer, "
        f"ai-agent (in any case) (got {raw!r})"
    ]


def test_role_is_required():
    """The spec marks role required."""
    assert verb_problems("<MultiPartyCall>mpc-1</MultiPartyCall>") == [
        f"{SOURCE}:2:5 <MultiPartyCall> role: is required"
    ]


@pytest.mark.parametrize(("xml", "field", "raw", "value", "bad"), ATTRIBUTES,
                         ids=[row[0] for row in ATTRIBUTES])
def test_valid_value(xml, field, raw, value, bad):
    """Each attribute reads a valid value and leaves the others at their defaults."""
    verb = only_verb(mpc(f'{xml}="{raw}"'))
    assert {name: getattr(verb, name) for name in DEFAULTS} == dict(DEFAULTS, **{field: value})


@pytest.mark.parametrize(("xml", "field", "raw", "value", "bad"), AI_ATTRIBUTES,
                         ids=[row[0] for row in AI_ATTRIBUTES])
def test_valid_ai_value(xml, field, raw, value, bad):
    """The AI agent stream attributes read valid values for role="ai-agent"."""
    quoted = raw.replace('"', "&quot;")
    verb = only_verb(ai_mpc(f'{xml}="{quoted}"'))
    expected = dict(DEFAULTS, ai_agent_stream_service_url=WSS, **{field: value})
    assert {name: getattr(verb, name) for name in DEFAULTS} == expected


INVALID = [(xml, raw, message) for xml, _, _, _, bad in ATTRIBUTES for raw, message in bad]
AI_INVALID = [(xml, raw, message) for xml, _, _, _, bad in AI_ATTRIBUTES for raw, message in bad]


@pytest.mark.parametrize(("xml", "raw", "message"), INVALID,
                         ids=[f"{xml}={raw}" for xml, raw, _ in INVALID])
def test_invalid_value(xml, raw, message):
    """Each kind of invalid value is one problem naming place, element, attribute and value."""
    assert verb_problems(mpc(f'{xml}="{raw}"')) == [
        f"{SOURCE}:2:5 <MultiPartyCall> {xml}: {message} (got {raw!r})"
    ]


@pytest.mark.parametrize(("xml", "raw", "message"), AI_INVALID,
                         ids=[f"{xml}={raw}" for xml, raw, _ in AI_INVALID])
def test_invalid_ai_value(xml, raw, message):
    """Invalid AI agent stream values are reported like any other."""
    quoted = raw.replace('"', "&quot;").replace("\r", "&#13;").replace("\n", "&#10;")
    assert verb_problems(ai_mpc(f'{xml}="{quoted}"')) == [
        f"{SOURCE}:2:5 <MultiPartyCall> {xml}: {message} (got {raw!r})"
    ]


def test_ai_agent_needs_its_stream_url():
    """role="ai-agent" without aiAgentStreamServiceUrl has nothing to connect to."""
    assert verb_problems(mpc(role="ai-agent")) == [
        f'{SOURCE}:2:5 <MultiPartyCall> aiAgentStreamServiceUrl: is required with role="ai-agent"'
    ]


def test_ai_stream_url_is_websocket():
    """aiAgentStreamServiceUrl is a ws(s) URL, not http."""
    assert verb_problems(mpc(f'aiAgentStreamServiceUrl="{URL}"', role="ai-agent")) == [
        f"{SOURCE}:2:5 <MultiPartyCall> aiAgentStreamServiceUrl: must be an absolute ws(s) URL "
        f"(got {URL!r})"
    ]


def test_ai_agent_role():
    """An AI agent participant keeps its stream URL and role spelling."""
    verb = only_verb(ai_mpc())
    assert (verb.role, verb.ai_agent_stream_service_url) == ("ai-agent", WSS)


def test_ai_attributes_need_the_ai_agent_role():
    """aiAgentStream* attributes on another role are refused, each by name."""
    assert verb_problems(
        mpc(f'aiAgentStreamServiceUrl="{WSS}" aiAgentStreamSamplingRate="8000"', role="Customer")
    ) == [
        f'{SOURCE}:2:5 <MultiPartyCall> aiAgentStreamServiceUrl: is only allowed with '
        'role="ai-agent"',
        f'{SOURCE}:2:5 <MultiPartyCall> aiAgentStreamSamplingRate: is only allowed with '
        'role="ai-agent"',
    ]


@pytest.mark.parametrize("name", ["my mpc", "Tikrīt", "Gasteiz / Vitoria", "a@b+c", "x" * 256])
def test_names_are_free_text(name):
    """The MPC name is free text, as conference names are (rooms/names.py)."""
    assert only_verb(f'<MultiPartyCall role="Agent">{name}</MultiPartyCall>').name == name


def test_name_rule():
    """The MPC name follows the conference names' rule: no control characters, at most 256."""
    assert verb_problems('<MultiPartyCall role="Agent">my&#10;mpc</MultiPartyCall>') == [
        f"{SOURCE}:2:5 <MultiPartyCall> (text): must hold printable characters only: U+000A "
        "at character 3 is a control character (got 'my\\nmpc')"
    ]
    assert verb_problems(f'<MultiPartyCall role="Agent">{"x" * 257}</MultiPartyCall>') == [
        f"{SOURCE}:2:5 <MultiPartyCall> (text): must be a room name of at most 256 characters "
        f"(it has 257) (got {'x' * 80!r}... (257 characters))"
    ]


def test_spec_basic_usage_example():
    """The spec's first example (role="customer" maxDuration="10000", indented name) is valid."""
    verb = only_verb(
        '<MultiPartyCall role="customer" maxDuration="10000">\n'
        "        my-mpc-name\n    </MultiPartyCall>"
    )
    assert (verb.name, verb.role, verb.max_duration) == ("my-mpc-name", "Customer", 10000)
