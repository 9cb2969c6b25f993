"""Typed converters: XML text in, a Python value out, or `Invalid` saying what the value must be.

Each converter takes the raw text exactly as parsed and rejects rather than coerces: integers are
plain decimal digits (no sign for positives, no leading zeros, no spaces), booleans are exactly
`true`/`false`, enumerations match exactly, except where Plivo takes any letter case: HTTP
methods (`post`), recording formats (`MP3`) and the MPC `role` (the spec's own examples write
both `customer` and `Customer`), which come back in their canonical spelling. Only URLs and names are stripped of
surrounding whitespace, since XML text around them is layout. `Invalid` messages never repeat
the value: the builder adds `(got '...')`.

Everything here may reach FreeSWITCH, so nothing returned holds CR, LF or another control
character (except Speak text: its inner whitespace, line breaks included, is kept as written and
fs/commands.py speaks each run of it as one space), a URL is absolute http(s) made of RFC 3986
characters (so it cannot hold `${`, which FreeSWITCH would expand), and `${` is refused in text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from plivoxml_fs.fs import commands


class Invalid(ValueError):
    """A value a converter refuses; the message says what it must be."""


Converter = Callable[[str], Any]

#: XML whitespace: what surrounds a URL or a name as layout.
XML_SPACE = " \t\r\n"
#: Integers: decimal digits, a sign only for negatives, no leading zeros, at most 18 digits.
_INTEGER = re.compile(r"0|-?[1-9][0-9]{0,17}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SPEAK_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_URL_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
#: Conference and MPC names reach `conference <name>...` commands and the app argument
#: `name@profile+flags{...}`: letters, digits, `_`, `.`, `-` only, starting alphanumeric.
ROOM_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
#: One `digitsMatch` pattern: DTMF characters.
_DTMF_PATTERN = re.compile(r"[0-9A-D*#]+")
#: An HTTP header name (RFC 9110 token).
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
HTTP_SCHEMES = commands.MEDIA_URL_SCHEMES
WEBSOCKET_SCHEMES = ("ws", "wss")
MAX_URL_CHARS = commands.MAX_MEDIA_URL_CHARS
MAX_SPEAK_TEXT_CHARS = commands.MAX_SPEAK_TEXT_CHARS


def integer(low: int, high: int) -> Converter:
    """An integer in low..high."""
    message = f"must be an integer {low}..{high}"

    def convert(text: str) -> int:
        if not _INTEGER.fullmatch(text):
            raise Invalid(message)
        value = int(text)
        if not low <= value <= high:
            raise Invalid(message)
        return value

    return convert


def boolean(text: str) -> bool:
    """Exactly `true` or `false`."""
    if text == "true":
        return True
    if text == "false":
        return False
    raise Invalid("must be true or false")


def one_of(*values: str) -> Converter:
    """Exactly one of `values` (case matters)."""
    message = "must be one of " + ", ".join(values)

    def convert(text: str) -> str:
        if text not in values:
            raise Invalid(message)
        return text

    return convert


def _check_url(text: str, schemes: Iterable[str], names: str) -> str:
    value = text.strip(XML_SPACE)
    if len(value) > MAX_URL_CHARS:
        raise Invalid(f"must be a URL of at most {MAX_URL_CHARS} characters")
    if not _URL_CHARS.fullmatch(value):
        raise Invalid(f"must be an absolute {names} URL of RFC 3986 characters")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise Invalid(f"must be an absolute {names} URL") from None
    if parts.scheme.lower() not in schemes or not parts.hostname or "://" not in value:
        raise Invalid(f"must be an absolute {names} URL")
    return value


def url(text: str) -> str:
    """An absolute http(s) URL, surrounding whitespace stripped."""
    return _check_url(text, HTTP_SCHEMES, "http(s)")


def websocket_url(text: str) -> str:
    """An absolute ws(s) URL, surrounding whitespace stripped."""
    return _check_url(text, WEBSOCKET_SCHEMES, "ws(s)")


def room_name(text: str) -> str:
    """A conference or MPC name matching ROOM_NAME, surrounding whitespace stripped."""
    value = text.strip(XML_SPACE)
    if not ROOM_NAME.fullmatch(value):
        raise Invalid(
            f"must match {ROOM_NAME.pattern} (letters, digits, '_', '.', '-'; "
            "starting with a letter or digit; at most 128 characters)"
        )
    return value


def sound(*keywords: str) -> Converter:
    """One of `keywords` (exactly; "" = no sound) or an absolute http(s) URL."""
    listed = ", ".join(keyword or "empty" for keyword in keywords)
    message = f"must be {listed} or an absolute http(s) URL"

    def convert(text: str) -> str:
        if text in keywords:
            return text
        try:
            return url(text)
        except Invalid:
            raise Invalid(message) from None

    return convert


def digits_patterns(text: str) -> tuple[str, ...]:
    """Comma-separated DTMF patterns (0-9, A-D, *, #), none empty."""
    patterns = tuple(text.split(","))
    if not all(_DTMF_PATTERN.fullmatch(pattern) for pattern in patterns):
        raise Invalid("must be comma-separated patterns of DTMF characters 0-9, A-D, *, #")
    return patterns


def send_digits(text: str) -> str:
    """DTMF to send: digits 0-9, A-D, * and #, `w` (0.5 s pause) and `W` (1 s pause)."""
    if not commands.SEND_DIGITS.fullmatch(text) or len(text) > commands.MAX_SEND_DIGITS:
        raise Invalid(f"must be at most {commands.MAX_SEND_DIGITS} of the DTMF characters "
                      "0-9, A-D, *, # and the pauses w (0.5 s) and W (1 s)")
    return text


def comma_list(*names: str) -> Converter:
    """A comma-separated list of distinct `names` (exact, no spaces), at least one."""
    message = "must be a comma-separated list of distinct values from: " + ", ".join(names)

    def convert(text: str) -> tuple[str, ...]:
        items = tuple(text.split(","))
        if any(item not in names for item in items) or len(set(items)) != len(items):
            raise Invalid(message)
        return items

    return convert


def group_list(*names: str) -> Converter:
    """A comma-separated list of `names` in any case, at least one: returned in the spelling
    given here, in the order written, each once (a repeated group is harmless: the official
    SDK lets it through); an empty item or one not in `names` is refused."""
    by_folded = {name.casefold(): name for name in names}
    message = "must be a comma-separated list (any case) of: " + ", ".join(names)

    def convert(text: str) -> tuple[str, ...]:
        items = [by_folded.get(item.casefold()) for item in text.split(",")]
        if any(item is None for item in items):
            raise Invalid(message)
        return tuple(dict.fromkeys(item for item in items if item is not None))

    return convert


def any_case(*values: str) -> Converter:
    """One of `values` matched in any case; returns the spelling given here."""
    by_folded = {value.casefold(): value for value in values}
    message = "must be one of " + ", ".join(values) + " (in any case)"

    def convert(text: str) -> str:
        value = by_folded.get(text.casefold())
        if value is None:
            raise Invalid(message)
        return value

    return convert


#: HTTP methods for callbacks and fetches, in any case (the SDK passes `post` through); GET/POST out.
method = any_case("GET", "POST")


class _Pairs(list):
    """A JSON object as json.loads saw it: (name, value) pairs in order, duplicates kept."""


def header_map(text: str) -> tuple[tuple[str, str], ...]:
    """A JSON object of HTTP header names to text values, as (name, value) pairs in order."""
    message = "must be a JSON object of HTTP header names to text values without control characters"
    try:
        loaded = json.loads(text, object_pairs_hook=_Pairs)
    except (ValueError, RecursionError):
        raise Invalid(message) from None
    if not isinstance(loaded, _Pairs):
        raise Invalid(message)
    for name, value in loaded:
        if not isinstance(value, str) or not _HEADER_NAME.fullmatch(name):
            raise Invalid(message)
        if _CONTROL.search(value) or "${" in value:
            raise Invalid(message)
    return tuple((name, value) for name, value in loaded)


def speak_text(text: str) -> str:
    """Text to speak: surrounding whitespace stripped, inner whitespace kept as written."""
    value = text.strip(XML_SPACE)
    if not value.split():  # nothing but (Unicode) whitespace: nothing to say
        raise Invalid("must hold the text to speak")
    if _SPEAK_CONTROL.search(value):
        raise Invalid("must not hold control characters")
    if len(" ".join(value.split())) > MAX_SPEAK_TEXT_CHARS:
        raise Invalid(f"must be at most {MAX_SPEAK_TEXT_CHARS} characters")
    if "${" in value:
        raise Invalid("must not contain '${' (FreeSWITCH would expand it)")
    return value
