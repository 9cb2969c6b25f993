"""The typed converters on their own: exact acceptance, rejection with the right message."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plivoxml_fs.documents import attributes as conv
from plivoxml_fs.fs import arguments

FAST = settings(max_examples=200, deadline=None)


@FAST
@given(st.integers(min_value=-10**20, max_value=10**20), st.integers(-50, 50), st.integers(0, 100))
def test_integer_accepts_exactly_its_range(number, low, span):
    """str(n) is accepted iff low <= n <= high, and then read back as n."""
    convert = conv.integer(low, low + span)
    if low <= number <= low + span:
        assert convert(str(number)) == number
    else:
        with pytest.raises(conv.Invalid, match=rf"^must be an integer {low}\.\.{low + span}$"):
            convert(str(number))


@FAST
@given(st.text(max_size=12))
def test_integer_refuses_anything_but_plain_digits(text):
    """Text that is not the canonical decimal form of an int is refused."""
    number = _int_or_none(text)
    canonical = number is not None and text == str(number)
    convert = conv.integer(-(10**19), 10**19)
    if canonical:
        assert convert(text) == int(text)
    else:
        with pytest.raises(conv.Invalid):
            convert(text)


def _int_or_none(text):
    try:
        return int(text)
    except ValueError:
        return None


@FAST
@given(st.text(max_size=8))
def test_boolean_is_exactly_true_or_false(text):
    """Only the two lowercase words are booleans."""
    if text in ("true", "false"):
        assert conv.boolean(text) is (text == "true")
    else:
        with pytest.raises(conv.Invalid, match="^must be true or false$"):
            conv.boolean(text)


@FAST
@given(st.text(max_size=60))
def test_url_results_are_safe(text):
    """Whatever URL text is accepted carries no whitespace or control character and is http(s)."""
    try:
        value = conv.url(text)
    except conv.Invalid:
        return
    assert value.split("://")[0].lower() in ("http", "https")
    assert not any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value)


@pytest.mark.parametrize(
    "text", ["https://example.com", "HTTP://EXAMPLE.COM/a?b=c#d", "http://[::1]:8080/x",
             "https://user@example.com/%20"]
)
def test_url_accepts_absolute_http_urls(text):
    """Absolute http(s) URLs pass unchanged (the scheme in any case, as RFC 3986 allows)."""
    assert conv.url(f"\n  {text}\t") == text


def test_url_length_is_capped():
    """URLs longer than FreeSWITCH's media URL limit are refused with the limit."""
    long = "https://example.com/" + "a" * conv.MAX_URL_CHARS
    with pytest.raises(conv.Invalid, match=f"^must be a URL of at most {conv.MAX_URL_CHARS} "):
        conv.url(long)


@pytest.mark.parametrize("text", ["", " \n\t", "\u2003", "\u00a0\u3000"])
def test_speak_text_of_only_whitespace_is_refused(text):
    """Text that is only whitespace (Unicode spaces included) has nothing to say."""
    with pytest.raises(conv.Invalid, match="^must hold the text to speak$"):
        conv.speak_text(text)


def test_speak_text_refuses_delete():
    """DEL (allowed by XML 1.0) is a control character and is refused."""
    with pytest.raises(conv.Invalid, match="^must not hold control characters$"):
        conv.speak_text("hi\x7fthere")


def test_speak_text_length_counts_spoken_characters():
    """The 4096-character limit applies to the text as spoken (runs of whitespace as one)."""
    text = "a " * 2048
    assert conv.speak_text(text + "\n" * 5000) == text.strip()


def test_header_map_keeps_order_and_duplicates():
    """Extra headers keep their order; a repeated name is kept as sent."""
    assert conv.header_map('{"B": "1", "A": "2", "B": "3"}') == (("B", "1"), ("A", "2"), ("B", "3"))


def test_header_map_refuses_nested_values():
    """Values must be text, not objects or arrays."""
    with pytest.raises(conv.Invalid):
        conv.header_map('{"A": {"B": "c"}}')


def test_deeply_nested_json_is_refused_not_crashed():
    """A JSON bomb of nesting is just invalid."""
    with pytest.raises(conv.Invalid):
        conv.header_map("[" * 100_000)


URL_CHARS = "ABCxyz019-._~:/?#[]@!$&'()*+,;=% {}\n"
URLISH = st.builds(
    lambda scheme, rest: scheme + rest,
    st.sampled_from(["http://", "https://", "HTTP://", "http:/", "ftp://", "", "http://@"]),
    st.text(alphabet=URL_CHARS, max_size=40),
)


@settings(max_examples=400, deadline=None)
@given(URLISH)
def test_every_accepted_url_is_one_freeswitch_commands_accept(text):
    """A URL the document accepts never fails later in fs/arguments.py's media_url check."""
    try:
        value = conv.url(text)
    except conv.Invalid:
        return
    assert arguments.media_url(value) == value


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.one_of(st.sampled_from(" \t\n\r\u2003\u00a0\x1c\x7f${}|"),
                                  st.characters(blacklist_categories=("Cs",))), max_size=60))
def test_every_accepted_speak_text_is_one_freeswitch_commands_accept(text):
    """Speak text the document accepts never fails later in fs/arguments.py's speak_text."""
    try:
        value = conv.speak_text(text)
    except conv.Invalid:
        return
    assert arguments.speak_text(value) == " ".join(value.split())
