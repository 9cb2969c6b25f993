"""<Conference>: every attribute of spec/plivo-conference.md, its default, a valid value, errors."""

from __future__ import annotations

import attrs
import pytest

from plivoxml_fs.documents import Conference, Location

from .helpers import SOURCE, only_verb, parse, verb_problems

URL = "https://example.com/hook"
INT_1_20 = "must be an integer 1..20"
BOOL = "must be true or false"
HTTP_URL = "must be an absolute http(s) URL"
METHOD = "must be one of GET, POST (in any case)"
SEND_DIGITS = ("must be at most 99 of the DTMF characters 0-9, A-D, *, # and the pauses w (0.5 s) "
               "and W (1 s)")
SOUND = "must be empty, beep:1, beep:2 or an absolute http(s) URL"

#: The spec's defaults, field by field.
DEFAULTS = {
    "muted": False,
    "enter_sound": "",
    "exit_sound": "",
    "max_members": 20,
    "time_limit": 86400,
    "hangup_on_star": False,
    "stay_alone": True,
    "start_conference_on_enter": True,
    "end_conference_on_exit": False,
    "wait_sound": None,
    "record": False,
    "record_file_format": "mp3",
    "transcription_type": None,
    "transcription_url": None,
    "transcription_method": "POST",
    "action": None,
    "method": "POST",
    "callback_url": None,
    "callback_method": "POST",
    "redirect": True,
    "digits_match": (),
    "floor_event": False,
    "relay_dtmf": True,
    "send_digits": None,
    "record_when_alone": True,
}

#: (XML attribute, field, a valid value, what it becomes, [(invalid value, message)])
ATTRIBUTES = [
    ("muted", "muted", "true", True, [("TRUE", BOOL), ("1", BOOL)]),
    ("enterSound", "enter_sound", "beep:2", "beep:2", [("beep:3", SOUND), ("beep", SOUND)]),
    ("exitSound", "exit_sound", URL, URL, [("ftp://example.com/a", SOUND)]),
    ("maxMembers", "max_members", "1", 1, [("500", INT_1_20), ("0", INT_1_20), ("21", INT_1_20)]),
    ("timeLimit", "time_limit", "60", 60,
     [("0", "must be an integer 1..86400"), ("86401", "must be an integer 1..86400")]),
    ("hangupOnStar", "hangup_on_star", "true", True, [("yes", BOOL)]),
    ("stayAlone", "stay_alone", "false", False, [("False", BOOL)]),
    ("startConferenceOnEnter", "start_conference_on_enter", "false", False, [("0", BOOL)]),
    ("endConferenceOnExit", "end_conference_on_exit", "true", True, [("", BOOL)]),
    ("waitSound", "wait_sound", URL, URL, [("hold.xml", HTTP_URL)]),
    ("record", "record", "true", True, [("on", BOOL)]),
    ("recordFileFormat", "record_file_format", "wav", "wav",
     [("ogg", "must be one of mp3, wav (in any case)"), ("mp4", "must be one of mp3, wav (in any case)")]),
    ("transcriptionMethod", "transcription_method", "GET", "GET", [("PUT", METHOD)]),
    ("action", "action", URL, URL, [("", HTTP_URL + " of RFC 3986 characters")]),
    ("method", "method", "GET", "GET", [("DELETE", METHOD)]),
    ("callbackUrl", "callback_url", URL, URL, [("mailto:a@example.com", HTTP_URL)]),
    ("callbackMethod", "callback_method", "GET", "GET", [("", METHOD)]),
    ("redirect", "redirect", "false", False, [("no", BOOL)]),
    ("digitsMatch", "digits_match", "123,*0#,A", ("123", "*0#", "A"),
     [(p, "must be comma-separated patterns of DTMF characters 0-9, A-D, *, #")
      for p in ("12,,3", "12,", "1 2", "E", "a")]),
    ("floorEvent", "floor_event", "true", True, [("t", BOOL)]),
    ("relayDTMF", "relay_dtmf", "false", False, [("f", BOOL)]),
    ("sendDigits", "send_digits", "1w2W#*AD09", "1w2W#*AD09",
     [(v, SEND_DIGITS) for v in ("", "12@1000", "1 2", "x", "d")]),
    ("recordWhenAlone", "record_when_alone", "false", False, [("no", BOOL)]),
]


def test_every_spec_attribute_is_covered():
    """The tables here name every XML attribute the model reads, no more, no fewer."""
    from plivoxml_fs.documents.build import SHAPES

    tested = {row[0] for row in ATTRIBUTES} | {"transcriptionType", "transcriptionUrl"}
    assert tested == set(SHAPES["Conference"].attributes)
    fields = {field.name for field in attrs.fields(Conference)} - {"name", "where"}
    assert set(DEFAULTS) == fields

#: Attributes reported to callbackUrl, which they need.
REPORTED_TO_CALLBACK = {name: {"callbackUrl": URL} for name in ("digitsMatch", "floorEvent")}


def test_defaults_are_the_spec_defaults():
    """A bare <Conference> gets every default the spec states."""
    conference = only_verb("<Conference>room-1</Conference>")
    assert conference == Conference(name="room-1", where=Location(SOURCE, 2, 5), **DEFAULTS)


def test_name_is_stripped():
    """Whitespace around the room name is layout (the spec's own examples indent it)."""
    assert only_verb("<Conference>\n        my-conference-room\n    </Conference>").name == (
        "my-conference-room"
    )


@pytest.mark.parametrize(("xml", "field", "raw", "value", "bad"), ATTRIBUTES,
                         ids=[row[0] for row in ATTRIBUTES])
def test_valid_value(xml, field, raw, value, bad):
    """Each attribute reads a valid value and leaves the others at their defaults."""
    extra = REPORTED_TO_CALLBACK.get(xml, {})
    shown = "".join(f' {name}="{url}"' for name, url in extra.items())
    conference = only_verb(f'<Conference {xml}="{raw}"{shown}>room</Conference>')
    expected = dict(DEFAULTS, **{field: value}, **({"callback_url": URL} if extra else {}))
    assert {name: getattr(conference, name) for name in DEFAULTS} == expected


INVALID = [(xml, raw, message) for xml, _, _, _, bad in ATTRIBUTES for raw, message in bad]


@pytest.mark.parametrize(("xml", "raw", "message"), INVALID,
                         ids=[f"{xml}={raw}" for xml, raw, _ in INVALID])
def test_invalid_value(xml, raw, message):
    """Each kind of invalid value is one problem naming place, element, attribute and value."""
    assert verb_problems(f'<Conference {xml}="{raw}">room</Conference>') == [
        f"{SOURCE}:2:5 <Conference> {xml}: {message} (got {raw!r})"
    ]


def test_the_spec_example_message():
    """The message format is exactly the one the design promises."""
    assert verb_problems('<Conference maxMembers="500">room</Conference>') == [
        "answer.xml:2:5 <Conference> maxMembers: must be an integer 1..20 (got '500')"
    ]


@pytest.mark.parametrize("kind", ["auto", "hybrid", "manual"])
def test_transcription_with_recording(kind):
    """transcriptionType and transcriptionUrl are read when the conference is recorded."""
    conference = only_verb(
        f'<Conference record="true" transcriptionType="{kind}" transcriptionUrl="{URL}">'
        "room</Conference>"
    )
    assert (conference.transcription_type, conference.transcription_url) == (kind, URL)


def test_transcription_type_must_be_known():
    """transcriptionType is one of auto, hybrid, manual."""
    assert verb_problems('<Conference record="true" transcriptionType="Auto">r</Conference>') == [
        f"{SOURCE}:2:5 <Conference> transcriptionType: must be one of auto, hybrid, manual "
        "(got 'Auto')"
    ]


def test_transcription_without_record_is_a_warning():
    """Transcribing without a recording runs (as on Plivo): each attribute is named in a warning."""
    document = parse(
        "<Response>\n    <Conference transcriptionType=\"auto\" "
        f'transcriptionUrl="{URL}" transcriptionMethod="GET">room</Conference>\n</Response>'
    )
    assert [type(verb) for verb in document.verbs] == [Conference]
    assert document.warnings == tuple(
        f'{SOURCE}:2:5 <Conference> {name}: does nothing without record="true" (it transcribes '
        "the recording)"
        for name in ("transcriptionType", "transcriptionUrl", "transcriptionMethod")
    )


@pytest.mark.parametrize(("xml", "raw", "field", "value"), [
    ("method", "post", "method", "POST"), ("callbackMethod", "get", "callback_method", "GET"),
    ("transcriptionMethod", "Get", "transcription_method", "GET"),
    ("recordFileFormat", "MP3", "record_file_format", "mp3"),
    ("recordFileFormat", "Wav", "record_file_format", "wav"),
])
def test_methods_and_formats_in_any_case(xml, raw, field, value):
    """The SDK passes `post` and `MP3` through unchanged; they read as POST and mp3, as on Plivo."""
    assert getattr(only_verb(f'<Conference {xml}="{raw}">room</Conference>'), field) == value


def test_empty_enter_sound_is_the_default():
    """enterSound="" is the spec's default written out: no sound."""
    assert only_verb('<Conference enterSound="">room</Conference>').enter_sound == ""


@pytest.mark.parametrize(
    ("name", "why"),
    [("", "must be a room name of 1 to 256 characters (it is empty)"),
     ("a" * 257, "must be a room name of at most 256 characters (it has 257)"),
     ("room&#13;x", "must hold printable characters only: U+000D at character 5 is a control "
                    "character"),
     ("a&#9;b", "must hold printable characters only: U+0009 at character 2 is a control "
                "character"),
     ("a&#x7f;", "must hold printable characters only: U+007F at character 2 is a control "
                 "character"),
     ("ab&#x2028;", "must hold printable characters only: U+2028 (LINE SEPARATOR) at "
                    "character 3 is a line separator"),
     ("x&#x202e;y", "must hold printable characters only: U+202E (RIGHT-TO-LEFT OVERRIDE) at "
                    "character 2 is a bidirectional control"),
     ("p&#xe000;", "must hold printable characters only: U+E000 at character 2 is a "
                   "private-use character")],
)
def test_room_names_refused_say_why(name, why):
    """A name that is empty, longer than 256 characters or holds a control character (or
    another character that is not printable) is refused, naming the element and why."""
    shown = name.replace("&#13;", "\r").replace("&#9;", "\t").replace("&#x7f;", "\x7f")
    shown = shown.replace("&#x2028;", "\u2028").replace("&#x202e;", "\u202e")
    shown = shown.replace("&#xe000;", "\ue000")
    got = repr(shown) if len(shown) <= 80 else repr(shown[:80]) + f"... ({len(shown)} characters)"
    assert verb_problems(f"<Conference>{name}</Conference>") == [
        f"{SOURCE}:2:5 <Conference> (text): {why} (got {got})"
    ]


@pytest.mark.parametrize(
    "name",
    ["a", "Room_1.b-2", "9" * 128, "My Conf Room", "my room", "-lead", "room@default",
     "room+flags", "a{x}", "room;kick", "caf\u00e9", "Tikr\u012bt", "Gasteiz / Vitoria",
     "Ban Selaphum", "\u6771\u4eac \U0001f600", "${x}", "list", "a" * 256, "it's \"quoted\"",
     "a\u00a0b", "na\u200cme"],
)
def test_room_names_are_free_text(name):
    """Any printable name of 1 to 256 characters is taken as written: any script, spaces,
    punctuation (`/`, `@`, `+`, `{`, `$`, quotes), a no-break space, a zero-width non-joiner.
    FreeSWITCH never sees it as written (rooms/names.py maps it to a safe room id)."""
    xml_text = name.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
    assert only_verb(f"<Conference>{xml_text}</Conference>").name == name


def test_a_name_of_spaces_only_is_empty():
    """Whitespace alone is no name (the text is layout)."""
    assert verb_problems("<Conference>   </Conference>") == [
        f"{SOURCE}:2:5 <Conference> (text): must be a room name of 1 to 256 characters "
        "(it is empty) (got '')"
    ]


def test_room_names_are_stripped_of_surrounding_whitespace_only():
    """XML whitespace around the name is layout; inside it, spaces are the name's."""
    assert only_verb("<Conference>\n  My  Conf Room \t</Conference>").name == "My  Conf Room"


def test_nothing_nests_in_a_conference():
    """The spec names no children for <Conference>."""
    assert verb_problems("<Conference>room<Play>https://example.com/a.mp3</Play></Conference>") == [
        f"{SOURCE}:2:21 <Play>: not allowed inside <Conference> (it holds no elements)"
    ]


@pytest.mark.parametrize(("xml", "raw"), [("digitsMatch", "1"), ("floorEvent", "true")])
def test_callback_reports_without_a_callback_url_are_a_warning(xml, raw):
    """digitsMatch and floorEvent="true" without callbackUrl run, with a warning naming them."""
    document = parse(f'<Response>\n    <Conference {xml}="{raw}">room</Conference>\n</Response>')
    assert [verb.name for verb in document.verbs] == ["room"]
    assert document.warnings == (
        f"{SOURCE}:2:5 <Conference> {xml}: does nothing without callbackUrl (that is where it "
        "is reported)",
    )


def test_floor_event_false_needs_no_callback_url():
    """floorEvent="false" (the default written out) asks for no report."""
    assert only_verb('<Conference floorEvent="false">room</Conference>').floor_event is False


def test_record_when_alone_without_record_is_a_warning():
    """recordWhenAlone means nothing without a recording: the document runs with a warning."""
    document = parse('<Response>\n    <Conference recordWhenAlone="false">room</Conference>\n'
                     "</Response>")
    assert document.warnings == (
        f'{SOURCE}:2:5 <Conference> recordWhenAlone: does nothing without record="true"',
    )
    assert only_verb('<Conference record="true" recordWhenAlone="false">r</Conference>'
                     ).record_when_alone is False


def test_send_digits_are_at_most_99():
    """99 DTMF characters pass (FreeSWITCH's own limit on a DTMF string); 100 do not."""
    assert only_verb(f'<Conference sendDigits="{"1" * 99}">room</Conference>').send_digits == "1" * 99
    (line,) = verb_problems(f'<Conference sendDigits="{"1" * 100}">room</Conference>')
    assert line.startswith(f"{SOURCE}:2:5 <Conference> sendDigits: {SEND_DIGITS} (got '111")
