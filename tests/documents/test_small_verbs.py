"""Play, Speak, Wait, Hangup, Redirect and PreAnswer: defaults, valid values, exact errors."""

from __future__ import annotations

import pytest

from plivoxml_fs.documents import Hangup, Location, Play, PreAnswer, Redirect, Speak, Wait

from .helpers import SOURCE, only_verb, verb_problems

AT = Location(SOURCE, 2, 5)
URL = "https://example.com/a.mp3"


def test_play_defaults():
    """<Play> plays its URL once by default."""
    assert only_verb(f"<Play>{URL}</Play>") == Play(url=URL, loop=1, where=AT)


def test_play_url_is_stripped_and_loop_read():
    """Whitespace around the URL is layout; loop 0 means until the call ends."""
    assert only_verb(f'<Play loop="0">\n  {URL}\n</Play>') == Play(url=URL, loop=0, where=AT)


def test_speak_defaults():
    """<Speak> defaults to WOMAN, en-US, once."""
    assert only_verb("<Speak>Hello</Speak>") == Speak(
        text="Hello", voice="WOMAN", language="en-US", loop=1, where=AT
    )


def test_speak_keeps_inner_whitespace():
    """Only the text's ends are stripped; inner spaces and line breaks stay as written."""
    speak = only_verb("<Speak>\n   Hello  there,\n   caller  </Speak>")
    assert speak.text == "Hello  there,\n   caller"


def test_speak_values():
    """voice, language and loop are read as given."""
    speak = only_verb('<Speak voice="MAN" language="pt-PT" loop="3">Olá</Speak>')
    assert (speak.voice, speak.language, speak.loop) == ("MAN", "pt-PT", 3)


def test_wait_defaults():
    """<Wait/> waits one second, no silence detection, minSilence 2000 ms, no beep."""
    assert only_verb("<Wait/>") == Wait(
        length=1, silence=False, min_silence=2000, beep=False, where=AT
    )


def test_wait_values():
    """length, silence, minSilence and beep are read as given."""
    wait = only_verb('<Wait length="10" silence="true" minSilence="3000"/>')
    assert (wait.length, wait.silence, wait.min_silence, wait.beep) == (10, True, 3000, False)
    assert only_verb('<Wait beep="true"/>').beep is True


def test_hangup_defaults():
    """<Hangup/> has no reason and hangs up now (schedule 0)."""
    assert only_verb("<Hangup/>") == Hangup(reason=None, schedule=0, where=AT)


@pytest.mark.parametrize("reason", ["rejected", "busy"])
def test_hangup_reasons(reason):
    """Both Plivo reasons are accepted."""
    assert only_verb(f'<Hangup reason="{reason}" schedule="60"/>') == Hangup(
        reason=reason, schedule=60, where=AT
    )


def test_redirect_defaults():
    """<Redirect> POSTs by default."""
    assert only_verb(f"<Redirect>{URL}</Redirect>") == Redirect(url=URL, method="POST", where=AT)


def test_redirect_get():
    """method GET is accepted."""
    assert only_verb(f'<Redirect method="GET">{URL}</Redirect>').method == "GET"


def test_preanswer_holds_play_speak_wait_in_order():
    """<PreAnswer> children become models in document order, with their own locations."""
    xml = f"<PreAnswer><Speak>Hi</Speak><Play>{URL}</Play><Wait/></PreAnswer>"
    preanswer = only_verb(xml)
    assert isinstance(preanswer, PreAnswer)
    assert [type(child) for child in preanswer.children] == [Speak, Play, Wait]
    assert preanswer.children[1].where == Location(SOURCE, 2, 33)


def test_empty_preanswer_is_valid():
    """A PreAnswer with nothing inside is allowed (it does nothing)."""
    assert only_verb("<PreAnswer/>") == PreAnswer(children=(), where=AT)


INVALID = [
    # Play
    ('<Play loop="-1">{u}</Play>', "<Play> loop: must be an integer 0..10000 (got '-1')"),
    ('<Play loop="10001">{u}</Play>', "<Play> loop: must be an integer 0..10000 (got '10001')"),
    ('<Play loop="1.5">{u}</Play>', "<Play> loop: must be an integer 0..10000 (got '1.5')"),
    ('<Play loop=" 2">{u}</Play>', "<Play> loop: must be an integer 0..10000 (got ' 2')"),
    ('<Play loop="02">{u}</Play>', "<Play> loop: must be an integer 0..10000 (got '02')"),
    ('<Play loop="+2">{u}</Play>', "<Play> loop: must be an integer 0..10000 (got '+2')"),
    ('<Play loop="">{u}</Play>', "<Play> loop: must be an integer 0..10000 (got '')"),
    ("<Play>ftp://example.com/a.mp3</Play>",
     "<Play> (text): must be an absolute http(s) URL (got 'ftp://example.com/a.mp3')"),
    ("<Play>/a.mp3</Play>", "<Play> (text): must be an absolute http(s) URL (got '/a.mp3')"),
    ("<Play>https:///a.mp3</Play>",
     "<Play> (text): must be an absolute http(s) URL (got 'https:///a.mp3')"),
    ("<Play></Play>", "<Play> (text): must be an absolute http(s) URL of RFC 3986 characters "
     "(got '')"),
    ("<Play>http://example.com/a b.mp3</Play>",
     "<Play> (text): must be an absolute http(s) URL of RFC 3986 characters "
     "(got 'http://example.com/a b.mp3')"),
    ("<Play>http://example.com/a&#10;b.mp3</Play>",
     "<Play> (text): must be an absolute http(s) URL of RFC 3986 characters "
     "(got 'http://example.com/a\\nb.mp3')"),
    ("<Play>http://example.com/${x}.mp3</Play>",
     "<Play> (text): must be an absolute http(s) URL of RFC 3986 characters "
     "(got 'http://example.com/${x}.mp3')"),
    ("<Play>http://example.com:99999/a.mp3</Play>",
     "<Play> (text): must be an absolute http(s) URL (got 'http://example.com:99999/a.mp3')"),
    # Speak
    ('<Speak voice="woman">Hi</Speak>', "<Speak> voice: must be one of WOMAN, MAN (got 'woman')"),
    ('<Speak voice="Polly.Joanna">Hi</Speak>',
     "<Speak> voice: must be one of WOMAN, MAN (got 'Polly.Joanna')"),
    ('<Speak language="en-us">Hi</Speak>',
     "<Speak> language: must be one of da-DK, nl-NL, en-AU, en-GB, en-US, fr-FR, fr-CA, de-DE, "
     "it-IT, pl-PL, pt-PT, pt-BR, ru-RU, es-ES, es-US, sv-SE (got 'en-us')"),
    ('<Speak voice="MAN" language="sv-SE">Hej</Speak>',
     "<Speak> voice: sv-SE has no MAN voice (it has WOMAN)"),
    ('<Speak language="pt-PT">Olá</Speak>',
     "<Speak> language: pt-PT has no WOMAN voice (it has MAN)"),
    ('<Speak loop="x">Hi</Speak>', "<Speak> loop: must be an integer 0..10000 (got 'x')"),
    ("<Speak>  </Speak>", "<Speak> (text): must hold the text to speak (got '')"),
    ("<Speak>Hi ${x}</Speak>",
     "<Speak> (text): must not contain '${' (FreeSWITCH would expand it) (got 'Hi ${x}')"),
    ("<Speak>" + "a" * 4097 + "</Speak>",
     "<Speak> (text): must be at most 4096 characters (got '" + "a" * 80 + "'... "
     "(4097 characters))"),
    ("<Speak>Hi<break/></Speak>",
     "<break>: not allowed inside <Speak> (it holds no elements)", 14),
    # Wait
    ('<Wait length="0"/>', "<Wait> length: must be an integer 1..86400 (got '0')"),
    ('<Wait length="86401"/>', "<Wait> length: must be an integer 1..86400 (got '86401')"),
    ('<Wait minSilence="0"/>', "<Wait> minSilence: must be an integer 1..86400000 (got '0')"),
    ('<Wait silence="yes"/>', "<Wait> silence: must be true or false (got 'yes')"),
    ('<Wait beep="True"/>', "<Wait> beep: must be true or false (got 'True')"),
    ('<Wait beep="1"/>', "<Wait> beep: must be true or false (got '1')"),
    ('<Wait silence="true" beep="true"/>',
     '<Wait> beep: cannot be true together with silence="true"'),
    ("<Wait>5</Wait>", "<Wait>: holds no text (got '5')"),
    # Hangup
    ('<Hangup reason="Busy"/>', "<Hangup> reason: must be one of rejected, busy (got 'Busy')"),
    ('<Hangup reason="normal"/>',
     "<Hangup> reason: must be one of rejected, busy (got 'normal')"),
    ('<Hangup schedule="0"/>', "<Hangup> schedule: must be an integer 1..86400 (got '0')"),
    ('<Hangup schedule="86401"/>',
     "<Hangup> schedule: must be an integer 1..86400 (got '86401')"),
    # Redirect
    ('<Redirect method="PUT">{u}</Redirect>',
     "<Redirect> method: must be one of GET, POST (in any case) (got 'PUT')"),
    ("<Redirect>next.xml</Redirect>",
     "<Redirect> (text): must be an absolute http(s) URL (got 'next.xml')"),
    # PreAnswer
    ('<PreAnswer loop="2"/>', "<PreAnswer> loop: unknown attribute (this element has none)"),
    ("<PreAnswer>hello</PreAnswer>", "<PreAnswer>: holds no text (got 'hello')"),
]


@pytest.mark.parametrize("case", INVALID, ids=[case[1] for case in INVALID])
def test_invalid_values_are_reported_exactly(case):
    """Each kind of invalid value gives exactly one problem with the exact message and place."""
    element, message, column = case if len(case) == 3 else (*case, 5)
    assert verb_problems(element.replace("{u}", URL)) == [f"{SOURCE}:2:{column} {message}"]


@pytest.mark.parametrize(
    ("child", "column"), [("Hangup", 16), ("Redirect", 16), ("PreAnswer", 16), ("Conference", 16)]
)
def test_preanswer_refuses_other_verbs(child, column):
    """Only Play, Speak and Wait may nest inside PreAnswer."""
    inner = f"<{child}>https://example.com/x</{child}>" if child != "PreAnswer" else "<PreAnswer/>"
    assert verb_problems(f"<PreAnswer>{inner}</PreAnswer>") == [
        f"{SOURCE}:2:{column} <{child}>: not allowed inside <PreAnswer> (allowed: Play, Speak, Wait)"
    ]
