"""Application-argument builders of plivoxml_fs.fs.commands (section 2), pinned exactly."""

from __future__ import annotations

import pytest
from esl import traces
from hypothesis import given, settings
from hypothesis import strategies as st

from plivoxml_fs.errors import UnsafeValue
from plivoxml_fs.fs import arguments, commands


def test_http_audio_goes_through_http_cache():
    """An http(s) URL is played through mod_http_cache, the URL kept as written."""
    url = "https://media.example.com/sounds/hello.wav?sig=a%2Fb&x=1"
    assert arguments.http_audio(url) == "http_cache://" + url
    assert arguments.http_audio("http://127.0.0.1:8089/a.mp3") == (
        "http_cache://http://127.0.0.1:8089/a.mp3"
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/a.wav", "must start with http:// or https://"),
        ("/var/lib/freeswitch/sounds/a.wav", "must start with http:// or https://"),
        ("http://example.com/a.wav\r\nexecute-app-name: system", "CR, LF or NUL"),
        ("http://example.com/${system(id)}.wav", "outside RFC 3986"),
        ("http://example.com/a b.wav", "outside RFC 3986"),
        ("http:///a.wav", "has no host"),
        ("", "must be 1..2048 characters"),
    ],
)
def test_media_url_refuses(url, message):
    """Anything but a plain absolute http(s) URL is refused, naming what is wrong."""
    with pytest.raises(UnsafeValue, match="audio URL") as info:
        arguments.http_audio(url)
    assert message in str(info.value)


def test_file_string_joins_with_bang():
    """file_string joins the sources with `!`, in order."""
    a, b = arguments.http_audio("http://h/a.wav"), arguments.http_audio("http://h/b.wav")
    assert arguments.file_string([a, b, a]) == (
        "file_string://http_cache://http://h/a.wav!http_cache://http://h/b.wav"
        "!http_cache://http://h/a.wav"
    )


@pytest.mark.parametrize(
    "sources",
    [[], ["http_cache://http://h/a!b.wav"], ["{volume=2}x"], [""], ["x"] * 101],
)
def test_file_string_refuses_what_it_cannot_frame(sources):
    """No sources, too many, a `!` (the separator), a `{` block or an empty source is refused."""
    with pytest.raises(UnsafeValue, match="file_string"):
        arguments.file_string(sources)


def test_speak_argument_and_voices():
    """speak is `flite|<voice>|<text>`: WOMAN -> slt, MAN -> kal; XML whitespace collapses."""
    assert arguments.speak("Hello,\n      world.\t Bye", "WOMAN") == "flite|slt|Hello, world. Bye"
    assert arguments.speak("Goodbye.", "MAN") == "flite|kal|Goodbye."
    assert arguments.speak("a | b", "WOMAN") == "flite|slt|a | b"


@pytest.mark.parametrize(
    ("text", "voice", "message"),
    [
        ("hi", "Polly.Joanna", "is not one of ['MAN', 'WOMAN']"),
        ("   \n ", "WOMAN", "speak text: empty"),
        ("run ${system(reboot)}", "WOMAN", "would be expanded by FreeSWITCH"),
        ("bell \x07 here", "WOMAN", "control character"),
        ("nul \x00 here", "WOMAN", "control character"),
        ("x" * 4097, "WOMAN", "longer than 4096"),
    ],
)
def test_speak_refuses(text, voice, message):
    """Unknown voices, empty text, `${`, control characters and overlong text are refused."""
    with pytest.raises(UnsafeValue) as info:
        arguments.speak(text, voice)
    assert message in str(info.value)


def test_tone_stream_matches_trace():
    """A tone built from numbers is the argument FreeSWITCH played in the lifecycle trace."""
    arg = arguments.tone_stream((300, 0, 440))
    sent = [
        e.data
        for e in traces.outgoing("lifecycle.txt", "outbound-1")
        if b"execute-app-name: playback" in e.data
    ]
    assert sent and sent[0].endswith(b"\n\n" + arg.encode())
    assert arguments.tone_stream((200, 0, 500), (100, 50, 350, 440)) == (
        "tone_stream://%(200,0,500);%(100,50,350,440)"
    )


@pytest.mark.parametrize("tones", [(), ((1, 2),), ((1, 2, "3"),), ((1, 2, 99999),)])
def test_tone_stream_refuses(tones):
    """Tones must be 3..6 ints in 0..20000."""
    with pytest.raises(UnsafeValue, match="tone_stream"):
        arguments.tone_stream(*tones)


def test_silence_sleep_and_sched_hangup():
    """silence_stream, sleep and sched_hangup take positive whole numbers only."""
    assert arguments.silence_stream(1500) == "silence_stream://1500"
    assert arguments.sleep_arg(2000) == "2000"
    assert arguments.sched_hangup(10, "USER_BUSY") == "+10 USER_BUSY"
    for bad in (0, -1, 1.5, True, "10"):
        with pytest.raises(UnsafeValue, match="sleep ms"):
            arguments.sleep_arg(bad)
    with pytest.raises(UnsafeValue, match="hangup cause"):
        arguments.sched_hangup(5, "normal clearing")


def test_hangup_reasons():
    """Plivo reasons map to Q.850 causes; no reason is NORMAL_CLEARING; others are refused."""
    assert arguments.hangup_cause_for(None) == "NORMAL_CLEARING"
    assert arguments.hangup_cause_for("rejected") == "CALL_REJECTED"
    assert arguments.hangup_cause_for("busy") == "USER_BUSY"
    with pytest.raises(UnsafeValue, match="'timeout' is not one of"):
        arguments.hangup_cause_for("timeout")


def test_detect_silence_counts_frames():
    """minSilence ms become 20 ms frames, rounded up; the timeout is the Wait length in ms."""
    assert arguments.detect_silence(2000, 5000) == "200 100 5000"
    assert arguments.detect_silence(1, 1000) == "200 1 1000"
    with pytest.raises(UnsafeValue, match="minSilence ms"):
        arguments.detect_silence(0, 1000)


SAFE_BUILDERS = [
    lambda value: arguments.http_audio(value),
    lambda value: arguments.speak(value, "WOMAN"),
    lambda value: arguments.file_string([value]),
]


@settings(max_examples=300, deadline=None)
@given(value=st.text(), which=st.integers(0, len(SAFE_BUILDERS) - 1))
def test_builders_either_refuse_or_return_a_safe_argument(value, which):
    """Whatever text comes in, a builder raises UnsafeValue or returns one safe line."""
    try:
        result = SAFE_BUILDERS[which](value)
    except UnsafeValue:
        return
    assert not any(ch in result for ch in "\r\n\0")
    assert "${" not in result
    commands.execute("playback", result, event_uuid="e-1").encode()


@settings(max_examples=200, deadline=None)
@given(
    path=st.text(alphabet=st.characters(codec="ascii"), max_size=40),
    query=st.text(max_size=20),
)
def test_http_audio_keeps_accepted_urls_exact(path, query):
    """An accepted URL is passed through unchanged behind http_cache://."""
    url = f"http://media.example.com/{path}?{query}"
    try:
        result = arguments.http_audio(url)
    except UnsafeValue:
        return
    assert result == "http_cache://" + url
