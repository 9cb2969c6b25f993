"""Whole documents: the root, the registry, unknown names, and every problem reported at once."""

from __future__ import annotations

import contextlib
import re

import attrs
import pytest

from plivoxml_fs.documents import (
    VERBS,
    Document,
    DocumentInvalid,
    Hangup,
    Location,
    Play,
    Speak,
    parse_document,
)
from plivoxml_fs.documents.build import SHAPES
from plivoxml_fs.documents.problems import MAX_PROBLEMS

from .helpers import SOURCE, parse, problems

KNOWN = "Conference, Hangup, MultiPartyCall, Play, PreAnswer, Redirect, Speak, Wait"


def test_registry_names_the_verbs():
    """The registry holds exactly the verbs this daemon runs."""
    assert sorted(VERBS) == KNOWN.split(", ")


def test_valid_document_gives_verbs_in_order():
    """A valid document becomes its verbs in order, each with its location, and its source."""
    document = parse(
        '<?xml version="1.0" encoding="UTF-8"?>\n<Response>\n  <Speak>Hi</Speak>\n'
        "  <Play>http://example.com/a.wav</Play>\n  <Hangup/>\n</Response>\n"
    )
    assert document == Document(
        verbs=(
            Speak(text="Hi", where=Location(SOURCE, 3, 3)),
            Play(url="http://example.com/a.wav", where=Location(SOURCE, 4, 3)),
            Hangup(where=Location(SOURCE, 5, 3)),
        ),
        source=SOURCE,
    )


def test_empty_response_is_valid():
    """<Response/> holds no verbs."""
    assert parse("<Response/>").verbs == ()


def test_comments_are_ignored():
    """Comments anywhere are not content."""
    assert parse("<Response><!-- hi --><Hangup/><!-- bye --></Response>").verbs == (
        Hangup(where=Location(SOURCE, 1, 22)),
    )


def test_root_must_be_response():
    """Any other root is refused, naming it."""
    assert problems("<Document><Hangup/></Document>") == [
        f"{SOURCE}:1:1: the root element must be <Response> (got <Document>)"
    ]


def test_namespaced_root_is_not_response():
    """A namespaced Response is not Plivo's <Response>."""
    assert problems('<Response xmlns="urn:x"/>') == [
        f"{SOURCE}:1:1: the root element must be <Response> (got <{{urn:x}}Response>)"
    ]


def test_response_takes_no_attributes_or_text():
    """Attributes on <Response> and text between verbs are problems."""
    assert problems('<Response version="2">\n  hello\n  <Hangup/>\n  there\n</Response>') == [
        f"{SOURCE}:1:1 <Response> version: unknown attribute (<Response> has none)",
        f"{SOURCE}:1:1 <Response>: holds no text (got 'hello\\n  \\n  there')",
    ]


def test_unknown_element_lists_the_known_ones():
    """An element outside the registry is a problem at its own position."""
    assert problems("<Response>\n  <Dial><Number>1</Number></Dial>\n</Response>") == [
        f"{SOURCE}:2:3 <Dial>: unknown element (known: {KNOWN})"
    ]


def test_unknown_attribute_suggests_a_close_name():
    """A misspelt attribute is unknown, with the nearest known name suggested."""
    assert problems('<Response><Conference maxMember="5">r</Conference></Response>') == [
        f"{SOURCE}:1:11 <Conference> maxMember: unknown attribute (did you mean maxMembers?)"
    ]


def test_unknown_attribute_lists_the_known_ones():
    """With nothing close, the known attributes are listed."""
    assert problems('<Response><Play zzz="1">http://example.com/a</Play></Response>') == [
        f"{SOURCE}:1:11 <Play> zzz: unknown attribute (known: loop)"
    ]


def test_attribute_names_are_case_sensitive():
    """maxmembers is not maxMembers."""
    assert problems('<Response><Conference maxmembers="5">r</Conference></Response>') == [
        f"{SOURCE}:1:11 <Conference> maxmembers: unknown attribute (did you mean maxMembers?)"
    ]


def test_every_problem_is_reported_at_once():
    """One pass reports every problem in the document, in document order."""
    xml = "\n".join([
        "<Response>",
        '    <Speak voice="ROBOT" loop="-2">Hi</Speak>',
        '    <Conference maxMembers="500" muted="True" bogus="1">my&#9;room</Conference>',
        "    <Dial/>",
        '    <PreAnswer><Hangup/><Wait length="0"/></PreAnswer>',
        '    <MultiPartyCall maxDuration="1">m</MultiPartyCall>',
        "    <Play>ftp://example.com/a</Play>",
        "</Response>",
    ])
    assert problems(xml) == [
        f"{SOURCE}:2:5 <Speak> voice: must be one of WOMAN, MAN (got 'ROBOT')",
        f"{SOURCE}:2:5 <Speak> loop: must be an integer 0..10000 (got '-2')",
        f"{SOURCE}:3:5 <Conference> maxMembers: must be an integer 1..20 (got '500')",
        f"{SOURCE}:3:5 <Conference> muted: must be true or false (got 'True')",
        f"{SOURCE}:3:5 <Conference> bogus: unknown attribute (known: action, callbackMethod, "
        "callbackUrl, digitsMatch, endConferenceOnExit, enterSound, exitSound, floorEvent, "
        "hangupOnStar, maxMembers, method, muted, record, recordFileFormat, recordWhenAlone, "
        "redirect, relayDTMF, sendDigits, startConferenceOnEnter, stayAlone, timeLimit, "
        "transcriptionMethod, transcriptionType, transcriptionUrl, waitSound)",
        f"{SOURCE}:3:5 <Conference> (text): must hold printable characters only: U+0009 at "
        "character 3 is a control character (got 'my\\troom')",
        f"{SOURCE}:4:5 <Dial>: unknown element (known: {KNOWN})",
        f"{SOURCE}:5:16 <Hangup>: not allowed inside <PreAnswer> (allowed: Play, Speak, Wait)",
        f"{SOURCE}:5:25 <Wait> length: must be an integer 1..86400 (got '0')",
        f"{SOURCE}:6:5 <MultiPartyCall> maxDuration: must be an integer 300..28800 (got '1')",
        f"{SOURCE}:6:5 <MultiPartyCall> role: is required",
        f"{SOURCE}:7:5 <Play> (text): must be an absolute http(s) URL (got 'ftp://example.com/a')",
    ]


def test_long_values_are_cut_in_messages():
    """A huge bad value is quoted up to 80 characters, with its length."""
    value = "9" * 500
    assert problems(f'<Response><Play loop="{value}">http://e.com/a</Play></Response>') == [
        f"{SOURCE}:1:11 <Play> loop: must be an integer 0..10000 (got {'9' * 80!r}... "
        "(500 characters))"
    ]


def test_models_are_frozen():
    """Models are values: they cannot be changed after parsing."""
    (play,) = parse("<Response><Play>http://e.com/a</Play></Response>").verbs
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        play.loop = 3


def snake(xml_name: str) -> str:
    """relayDTMFInputs -> relay_dtmf_inputs, maxMembers -> max_members."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", xml_name)
    return spaced.lower()


def test_snake_case_helper():
    """The helper itself maps the awkward spellings the spec uses."""
    assert [snake(n) for n in ("relayDTMF", "relayDTMFInputs", "maxMembers", "loop")] == [
        "relay_dtmf", "relay_dtmf_inputs", "max_members", "loop"
    ]


@pytest.mark.parametrize("name", sorted(VERBS))
def test_field_names_are_the_xml_names_in_snake_case(name):
    """Every model reads each XML attribute into the field named after it in snake_case."""
    for xml_name, field in SHAPES[name].attributes.items():
        assert field.name == snake(xml_name), xml_name


@pytest.mark.parametrize("name", sorted(VERBS))
def test_every_model_field_comes_from_the_xml(name):
    """No model field is left out of the XML: each is an attribute, the text, children or where."""
    shape = SHAPES[name]
    from_xml = {field.name for field in shape.attributes.values()}
    from_xml |= {field.name for field in (shape.text, shape.children) if field is not None}
    assert {field.name for field in attrs.fields(VERBS[name].model)} == from_xml | {"where"}


def test_problems_past_the_limit_are_counted_not_listed():
    """60,000 unknown elements (240 KB) give the first 20 problems and "and 59980 more"."""
    data = b"<Response>" + b"<X/>" * 60_000 + b"</Response>"
    with pytest.raises(DocumentInvalid) as err:
        parse(data, max_bytes=256 * 1024)
    exc = err.value
    assert len(exc.problems) == MAX_PROBLEMS and exc.more == 60_000 - MAX_PROBLEMS
    lines = str(exc).splitlines()
    assert lines[:2] == [
        f"{SOURCE}:1:11 <X>: unknown element (known: {KNOWN})",
        f"{SOURCE}:1:15 <X>: unknown element (known: {KNOWN})",
    ]
    assert lines[-1] == f"{SOURCE}: and 59980 more problems (only the first 20 are listed)"
    assert len(str(exc)) < 4000


def test_unknown_attributes_past_the_limit_are_counted():
    """Past the limit, unknown attributes are counted too (no suggestion is worked out)."""
    attributes = " ".join(f'x{i}="1"' for i in range(100))
    with pytest.raises(DocumentInvalid) as err:
        parse(f"<Response><Wait {attributes}/></Response>")
    assert (len(err.value.problems), err.value.more) == (MAX_PROBLEMS, 80)


def test_a_pause_runs_while_a_large_document_is_read_and_validated():
    """parse_document calls `pause` between slices of parsing and of validation, valid or not."""
    for data in (b"<Response>" + b"<Wait/>" * 30_000 + b"</Response>",
                 b"<Response>" + b"<X/>" * 60_000 + b"</Response>"):
        pauses = []
        with contextlib.suppress(DocumentInvalid):
            parse_document(data, source=SOURCE, max_bytes=256 * 1024,
                           pause=lambda: pauses.append(1))  # noqa: B023 - used at once
        assert len(pauses) >= len(data) // (8 * 1024)
