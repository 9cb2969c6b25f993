"""The verbs of a document as frozen attrs values, and each one's XML contract in one place.

Every XML attribute is one field declared with `attribute(xml name, converter, default)`: its
name, allowed values or range, and default are written here once and nowhere else; build.py
reads them from the fields. Field names are the XML names in snake_case. `where` is the start
tag's location. A `problems(given)` method holds the rules that span several attributes.

Sources: spec/plivo-conference.md and spec/plivo-multipartycall.md (the contract), Plivo's XML
reference for Play, Speak, Wait, Hangup, Redirect and PreAnswer, and the official Python SDK's
`plivoxml` builders for what they emit. Where these are silent or ambiguous we take the strict
reading; each such choice is marked STRICT below.
"""

from __future__ import annotations

from typing import Any

import attrs

from plivoxml_fs.documents import attributes as conv
from plivoxml_fs.documents.problems import IN_CODE, Location
from plivoxml_fs.fs import arguments

#: Field metadata keys.
XML = "plivoxml_fs.xml"
CONVERT = "plivoxml_fs.convert"
TEXT = "plivoxml_fs.text"
CHILDREN = "plivoxml_fs.children"

#: STRICT: Plivo gives no upper bound for `loop` (0 = until the call ends); we take this one.
MAX_LOOP = 10_000
#: STRICT: `<Wait length>` and `<Hangup schedule>` are "integer > 0" with no upper bound in Plivo's
#: reference; we allow up to a day, what fs/commands.py will build.
MAX_SECONDS = arguments.MAX_SCHEDULE_S
MAX_MILLISECONDS = arguments.MAX_SLEEP_MS


def attribute(xml: str, convert: conv.Converter, default: Any = attrs.NOTHING) -> Any:
    """A field read from the XML attribute `xml` with `convert`; no default = required."""
    return attrs.field(default=default, metadata={XML: xml, CONVERT: convert})


def text_field(convert: conv.Converter) -> Any:
    """A required field read from the element's text with `convert`."""
    return attrs.field(metadata={TEXT: True, CONVERT: convert})


def children_field() -> Any:
    """The nested verbs (which ones may nest is build.py's VERBS registry)."""
    return attrs.field(default=(), metadata={CHILDREN: True})


def where_field() -> Any:
    """The start tag's location (IN_CODE for models built in code)."""
    return attrs.field(default=IN_CODE, kw_only=True)


#: The XML attribute names an element actually carries.
Given = frozenset[str]
#: A rule broken: (the XML attribute to blame, message).
Complaint = tuple[str, str]


@attrs.frozen
class Play:
    """`<Play loop="2">https://example.com/a.mp3</Play>`: play an audio file."""

    url: str = text_field(conv.url)
    loop: int = attribute("loop", conv.integer(0, MAX_LOOP), 1)  # 0 = until the call ends
    where: Location = where_field()


#: Plivo's Speak languages and the voices each has (Plivo XML reference, "Supported Languages").
SPEAK_LANGUAGES: dict[str, tuple[str, ...]] = {
    "da-DK": ("WOMAN",),
    "nl-NL": ("WOMAN", "MAN"),
    "en-AU": ("WOMAN", "MAN"),
    "en-GB": ("WOMAN", "MAN"),
    "en-US": ("WOMAN", "MAN"),
    "fr-FR": ("WOMAN", "MAN"),
    "fr-CA": ("WOMAN",),
    "de-DE": ("WOMAN", "MAN"),
    "it-IT": ("WOMAN", "MAN"),
    "pl-PL": ("WOMAN", "MAN"),
    "pt-PT": ("MAN",),
    "pt-BR": ("WOMAN", "MAN"),
    "ru-RU": ("WOMAN",),
    "es-ES": ("WOMAN", "MAN"),
    "es-US": ("WOMAN", "MAN"),
    "sv-SE": ("WOMAN",),
}


@attrs.frozen
class Speak:
    """`<Speak voice="MAN" language="en-GB">text</Speak>`: text to speech.

    STRICT: voices are WOMAN and MAN only. Plivo also offers Amazon Polly voices (with SSML
    children); this daemon speaks with FreeSWITCH's TTS, which has neither, so both are refused.
    A voice the language lacks (Plivo's table: e.g. da-DK has no MAN) is refused too.
    """

    text: str = text_field(conv.speak_text)
    voice: str = attribute("voice", conv.one_of(*arguments.FLITE_VOICES), "WOMAN")
    language: str = attribute("language", conv.one_of(*SPEAK_LANGUAGES), "en-US")
    loop: int = attribute("loop", conv.integer(0, MAX_LOOP), 1)  # 0 = until the call ends
    where: Location = where_field()

    def problems(self, given: Given) -> list[Complaint]:
        voices = SPEAK_LANGUAGES[self.language]
        if self.voice not in voices:
            which = "voice" if "voice" in given else "language"
            return [(which, f"{self.language} has no {self.voice} voice (it has {', '.join(voices)})")]
        return []


@attrs.frozen
class Wait:
    """`<Wait length="10" silence="true" minSilence="3000"/>`: pause, or wait for silence."""

    length: int = attribute("length", conv.integer(1, MAX_SECONDS), 1)  # seconds
    silence: bool = attribute("silence", conv.boolean, False)
    min_silence: int = attribute("minSilence", conv.integer(1, MAX_MILLISECONDS), 2000)  # ms
    beep: bool = attribute("beep", conv.boolean, False)
    where: Location = where_field()

    def problems(self, given: Given) -> list[Complaint]:
        # Plivo: beep "is only used when silence ... [is] false". STRICT: both true is an error.
        if self.beep and self.silence:
            return [("beep", 'cannot be true together with silence="true"')]
        return []


@attrs.frozen
class Hangup:
    """`<Hangup reason="busy" schedule="60"/>`: end (or reject) the call, now or later."""

    reason: str | None = attribute("reason", conv.one_of(*arguments.HANGUP_REASONS), None)
    schedule: int = attribute("schedule", conv.integer(1, MAX_SECONDS), 0)  # 0 = now
    where: Location = where_field()


@attrs.frozen
class Redirect:
    """`<Redirect method="GET">https://example.com/next.xml</Redirect>`: go to another document."""

    url: str = text_field(conv.url)
    method: str = attribute("method", conv.method, "POST")
    where: Location = where_field()


@attrs.frozen
class PreAnswer:
    """`<PreAnswer>` holding Play, Speak and Wait to run as early media before answering."""

    children: tuple[Play | Speak | Wait, ...] = children_field()
    where: Location = where_field()


#: `beep:1` / `beep:2` tones for entry and exit sounds.
BEEPS = ("beep:1", "beep:2")
#: Recording formats (any letter case, as Plivo takes them; kept in this spelling).
RECORD_FORMATS = ("mp3", "wav")
#: Conference attributes that transcribe the recording.
TRANSCRIPTION_ATTRIBUTES = ("transcriptionType", "transcriptionUrl", "transcriptionMethod")


@attrs.frozen
class Conference:
    """`<Conference>room</Conference>` (spec/plivo-conference.md), every attribute.

    STRICT readings: `timeLimit` has no stated range; we take 1..86400 (its default is the most).
    `enterSound`/`exitSound` default to "" (no sound), which may also be written out.
    No element may nest inside (the spec names none).

    Warnings, not problems (Plivo runs such a document; the attribute just does nothing):
    the transcription attributes and `recordWhenAlone` without record="true" (there is no
    recording), `digitsMatch` and floorEvent="true" without `callbackUrl` (nowhere to report).

    Not on the spec page but emitted by the official SDK's ConferenceElement (and in Plivo's
    helper libraries since 2013): `sendDigits`, DTMF sent to the member's own phone once it has
    entered the room (as Plivo's sendDigits elsewhere sends to the party just connected; `w`/`W`
    pause 0.5 s/1 s; STRICT: no `@duration` suffix, which mod_conference would send as a
    digit), and `recordWhenAlone` (default true, the daemon's behaviour before: the recording
    starts with the first member; false: it starts once a second member is in the room).
    """

    name: str = text_field(conv.room_name)
    muted: bool = attribute("muted", conv.boolean, False)
    enter_sound: str = attribute("enterSound", conv.sound("", *BEEPS), "")
    exit_sound: str = attribute("exitSound", conv.sound("", *BEEPS), "")
    max_members: int = attribute("maxMembers", conv.integer(1, 20), 20)
    time_limit: int = attribute("timeLimit", conv.integer(1, 86_400), 86_400)  # seconds
    hangup_on_star: bool = attribute("hangupOnStar", conv.boolean, False)
    stay_alone: bool = attribute("stayAlone", conv.boolean, True)
    start_conference_on_enter: bool = attribute("startConferenceOnEnter", conv.boolean, True)
    end_conference_on_exit: bool = attribute("endConferenceOnExit", conv.boolean, False)
    wait_sound: str | None = attribute("waitSound", conv.url, None)
    record: bool = attribute("record", conv.boolean, False)
    record_file_format: str = attribute("recordFileFormat", conv.any_case(*RECORD_FORMATS), "mp3")
    transcription_type: str | None = attribute(
        "transcriptionType", conv.one_of("auto", "hybrid", "manual"), None
    )
    transcription_url: str | None = attribute("transcriptionUrl", conv.url, None)
    transcription_method: str = attribute("transcriptionMethod", conv.method, "POST")
    action: str | None = attribute("action", conv.url, None)
    method: str = attribute("method", conv.method, "POST")
    callback_url: str | None = attribute("callbackUrl", conv.url, None)
    callback_method: str = attribute("callbackMethod", conv.method, "POST")
    redirect: bool = attribute("redirect", conv.boolean, True)
    digits_match: tuple[str, ...] = attribute("digitsMatch", conv.digits_patterns, ())
    floor_event: bool = attribute("floorEvent", conv.boolean, False)
    relay_dtmf: bool = attribute("relayDTMF", conv.boolean, True)
    # emitted by the official SDK, not on the spec page
    send_digits: str | None = attribute("sendDigits", conv.send_digits, None)
    record_when_alone: bool = attribute("recordWhenAlone", conv.boolean, True)
    where: Location = where_field()

    def warnings(self, given: Given) -> list[Complaint]:
        complaints: list[Complaint] = []
        if not self.record:
            complaints += [(name, 'does nothing without record="true" (it transcribes the '
                                  "recording)")
                           for name in TRANSCRIPTION_ATTRIBUTES if name in given]
            if "recordWhenAlone" in given:
                complaints.append(("recordWhenAlone", 'does nothing without record="true"'))
        if self.callback_url is None:
            reported = {"digitsMatch": bool(self.digits_match), "floorEvent": self.floor_event}
            complaints += [(name, "does nothing without callbackUrl (that is where it is "
                                  "reported)")
                           for name, asked in reported.items() if asked]
        return complaints


#: `statusCallbackEvents` groups (spec/plivo-multipartycall.md, "Status Callback Events").
MPC_EVENT_GROUPS = (
    "mpc-state-changes",
    "participant-state-changes",
    "participant-speak-events",
    "participant-digit-input-events",
    "add-participant-api-events",
    "participant-audio-events",
)
#: The official SDK's default for `statusCallbackEvents` (the spec states none).
MPC_DEFAULT_EVENTS = ("mpc-state-changes", "participant-state-changes")
MPC_ROLES = ("Agent", "Supervisor", "Customer", "ai-agent")
AI_AGENT = "ai-agent"
AI_CONTENT_TYPES = ("audio/x-l16;rate=8000", "audio/x-l16;rate=16000", "audio/x-mulaw;rate=8000")
AI_SAMPLING_RATES = ("8000", "16000")
#: Attributes that only mean something for role="ai-agent".
AI_ATTRIBUTES = (
    "aiAgentStreamServiceUrl",
    "aiAgentStreamContentType",
    "aiAgentStreamStatusCallbackUrl",
    "aiAgentStreamStatusCallbackMethod",
    "aiAgentStreamSamplingRate",
    "aiAgentStreamExtraHeaders",
    "aiAgentHears",
)
#: Ours (docs/ai-agent.md): the roles an ai-agent hears; "all" (the default) is the whole room.
AI_HEARS = ("all", "Agent", "Customer", "Supervisor")
MPC_SOUNDS = ("none", *BEEPS)


@attrs.frozen
class MultiPartyCall:
    """`<MultiPartyCall role="Agent">name</MultiPartyCall>` (spec/plivo-multipartycall.md).

    Defaults the spec leaves blank are the official Python SDK's (the `plivoxml` builder writes
    them out): every *Method GET except statusCallbackMethod, recordingCallbackMethod and
    onExitActionMethod (POST), relayDTMFInputs false, statusCallbackEvents
    mpc-state-changes,participant-state-changes. `waitTime` (0..1800), `recordParticipantTrack`,
    `transcript` and `transcriptionUrl` are not on the spec page but that builder emits them,
    so they are accepted.

    STRICT readings: `role` is Agent, Supervisor, Customer or ai-agent in any case (the spec
    writes both `customer` and `Customer`), kept in the spelling above. role="ai-agent" needs
    `aiAgentStreamServiceUrl` (ws/wss), and the aiAgentStream* attributes need that role. Their
    content type is one of AI_CONTENT_TYPES, the sampling rate 8000 or 16000, and the extra
    headers (type "object") a JSON object of header names to text values. `coachMode` is
    accepted on every role (the SDK writes it for all; it acts for supervisors only).
    """

    name: str = text_field(conv.room_name)
    role: str = attribute("role", conv.any_case(*MPC_ROLES))
    # MPC level
    max_duration: int = attribute("maxDuration", conv.integer(300, 28_800), 14_400)  # seconds
    max_participants: int = attribute("maxParticipants", conv.integer(2, 10), 10)
    record: bool = attribute("record", conv.boolean, False)
    record_file_format: str = attribute("recordFileFormat", conv.any_case(*RECORD_FORMATS), "mp3")
    record_min_member_count: int = attribute("recordMinMemberCount", conv.integer(1, 2), 1)
    wait_for_agent: bool = attribute("waitForAgent", conv.boolean, False)
    record_coach_voice: bool | None = attribute("recordCoachVoice", conv.boolean, None)
    start_recording_audio: str | None = attribute("startRecordingAudio", conv.url, None)
    start_recording_audio_method: str = attribute("startRecordingAudioMethod", conv.method, "GET")
    stop_recording_audio: str | None = attribute("stopRecordingAudio", conv.url, None)
    stop_recording_audio_method: str = attribute("stopRecordingAudioMethod", conv.method, "GET")
    # hold music
    wait_music_url: str | None = attribute("waitMusicUrl", conv.url, None)
    wait_music_method: str = attribute("waitMusicMethod", conv.method, "GET")
    agent_hold_music_url: str | None = attribute("agentHoldMusicUrl", conv.url, None)
    agent_hold_music_method: str = attribute("agentHoldMusicMethod", conv.method, "GET")
    customer_hold_music_url: str | None = attribute("customerHoldMusicUrl", conv.url, None)
    customer_hold_music_method: str = attribute("customerHoldMusicMethod", conv.method, "GET")
    # callbacks
    status_callback_url: str | None = attribute("statusCallbackUrl", conv.url, None)
    status_callback_method: str = attribute("statusCallbackMethod", conv.method, "POST")
    status_callback_events: tuple[str, ...] = attribute(
        "statusCallbackEvents", conv.group_list(*MPC_EVENT_GROUPS), MPC_DEFAULT_EVENTS
    )
    recording_callback_url: str | None = attribute("recordingCallbackUrl", conv.url, None)
    recording_callback_method: str = attribute("recordingCallbackMethod", conv.method, "POST")
    # participant level
    mute: bool = attribute("mute", conv.boolean, False)
    hold: bool = attribute("hold", conv.boolean, False)
    coach_mode: bool = attribute("coachMode", conv.boolean, True)
    stay_alone: bool = attribute("stayAlone", conv.boolean, False)
    start_mpc_on_enter: bool = attribute("startMpcOnEnter", conv.boolean, True)
    end_mpc_on_exit: bool = attribute("endMpcOnExit", conv.boolean, False)
    enter_sound: str = attribute("enterSound", conv.sound(*MPC_SOUNDS), "beep:1")
    enter_sound_method: str = attribute("enterSoundMethod", conv.method, "GET")
    exit_sound: str = attribute("exitSound", conv.sound(*MPC_SOUNDS), "beep:2")
    exit_sound_method: str = attribute("exitSoundMethod", conv.method, "GET")
    on_exit_action_url: str | None = attribute("onExitActionUrl", conv.url, None)
    on_exit_action_method: str = attribute("onExitActionMethod", conv.method, "POST")
    relay_dtmf_inputs: bool = attribute("relayDTMFInputs", conv.boolean, False)
    # AI agent stream
    ai_agent_stream_service_url: str | None = attribute(
        "aiAgentStreamServiceUrl", conv.websocket_url, None
    )
    ai_agent_stream_content_type: str = attribute(
        "aiAgentStreamContentType", conv.one_of(*AI_CONTENT_TYPES), AI_CONTENT_TYPES[0]
    )
    ai_agent_stream_status_callback_url: str | None = attribute(
        "aiAgentStreamStatusCallbackUrl", conv.url, None
    )
    ai_agent_stream_status_callback_method: str = attribute(
        "aiAgentStreamStatusCallbackMethod", conv.method, "POST"
    )
    ai_agent_stream_sampling_rate: str | None = attribute(
        "aiAgentStreamSamplingRate", conv.one_of(*AI_SAMPLING_RATES), None
    )
    ai_agent_stream_extra_headers: tuple[tuple[str, str], ...] = attribute(
        "aiAgentStreamExtraHeaders", conv.header_map, ()
    )
    ai_agent_hears: tuple[str, ...] = attribute(  # ours, not Plivo's
        "aiAgentHears", conv.group_list(*AI_HEARS), ("all",)
    )
    # emitted by the official SDK, not on the spec page
    wait_time: int | None = attribute("waitTime", conv.integer(0, 1800), None)  # seconds
    record_participant_track: bool = attribute("recordParticipantTrack", conv.boolean, False)
    transcript: bool = attribute("transcript", conv.boolean, False)
    transcription_url: str | None = attribute("transcriptionUrl", conv.url, None)
    where: Location = where_field()

    def problems(self, given: Given) -> list[Complaint]:
        if self.role == AI_AGENT:
            if self.ai_agent_stream_service_url is None:
                return [("aiAgentStreamServiceUrl", 'is required with role="ai-agent"')]
            return []
        return [(name, 'is only allowed with role="ai-agent"')
                for name in AI_ATTRIBUTES if name in given]


@attrs.frozen
class Document:
    """A valid document: its verbs in order, where it came from, and its warnings.

    `warnings` are lines like a problem's for things that run but do nothing (digitsMatch
    without callbackUrl, ...); the daemon logs them at WARNING and `plivoxml-fs check` prints them.
    """

    verbs: tuple[Any, ...]
    source: str
    warnings: tuple[str, ...] = ()
