"""Application arguments and file sources: what `execute` hands playback, speak, sleep,
detect_silence, sched_hangup and the conference sounds (split from fs/commands.py, whose ESL
builders and mod_conference strings these sit beside).

Every string here is validated and pinned byte for byte by tests, as in fs/commands.py: CR, LF,
NUL and `${` are refused (`UnsafeValue`), numbers are bounded, and names are matched against
strict patterns.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from plivoxml_fs.errors import UnsafeValue
from plivoxml_fs.fs.commands import HANGUP_CAUSE, _check_text, _match, _no_expansion

# What FreeSWITCH does with these strings, and so what we refuse:
# - The application data of every `execute` is passed through channel-variable expansion, so
#   `${...}` in a URL or a text would read (or, through `${api(...)}`-style functions, run)
#   things on the switch: `${` is refused everywhere, and URLs may only hold RFC 3986 characters
#   (which exclude `{` and `}`).
# - Remote audio is played through mod_http_cache: `http_cache://<http(s) URL>` (the file is
#   fetched once and replayed from the local cache). mod_http_cache must be loaded.
# - `file_string://a!b!c` plays a, b, c back to back; `!` is its separator and has no escape,
#   so a source holding `!` is refused (the Play executor then loops with single playbacks).
#   A `,` only matters inside a leading `{var=value,...}` block, which we never emit and which
#   cannot start a source here (every source starts with a fixed scheme).
# - `speak` takes `<engine>|<voice>|<text>`; FreeSWITCH splits on the first two `|` only, so a
#   `|` inside the text is spoken as is. We use mod_flite: Plivo's WOMAN is `slt`, MAN is `kal`.

#: Schemes a document may use for audio.
MEDIA_URL_SCHEMES = ("http", "https")
#: Longest audio URL we pass to FreeSWITCH, in characters.
MAX_MEDIA_URL_CHARS = 2048
#: Longest text we hand to the TTS engine, in characters.
MAX_SPEAK_TEXT_CHARS = 4096
#: The TTS engine `speak` uses and the flite voice for each Plivo voice.
TTS_ENGINE = "flite"
FLITE_VOICES = {"WOMAN": "slt", "MAN": "kal"}
#: Plivo `<Hangup reason>` values and the hangup cause each becomes.
HANGUP_REASONS = {"rejected": "CALL_REJECTED", "busy": "USER_BUSY"}
#: Longest pause or schedule we build, in milliseconds / seconds (a day).
MAX_SLEEP_MS = 86_400_000
MAX_SCHEDULE_S = 86_400
#: Energy below which a frame counts as silent for `detect_silence` (FreeSWITCH's own example
#: value), and the frame length it counts in (20 ms ptime).
SILENCE_THRESHOLD = 200
FRAME_MS = 20
#: Most sources one `file_string://` may join.
MAX_FILE_STRING_SOURCES = 100

_URL_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
_URL_AUTHORITY = re.compile(r"[A-Za-z0-9\-._~%!$&'()*+,;=:@\[\]]+")


def _positive_int(value: object, what: str, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise UnsafeValue(f"{what}: must be an int (got {value!r})")
    if not 1 <= value <= maximum:
        raise UnsafeValue(f"{what}: must be 1..{maximum} (got {value})")
    return value


def media_url(url: object) -> str:
    """Return `url` if it is an absolute http(s) URL safe for FreeSWITCH, else `UnsafeValue`."""
    what = "audio URL"
    text = _check_text(url, what)
    if not text or len(text) > MAX_MEDIA_URL_CHARS:
        raise UnsafeValue(f"{what}: must be 1..{MAX_MEDIA_URL_CHARS} characters (got {len(text)})")
    if not _URL_CHARS.fullmatch(text):
        raise UnsafeValue(f"{what}: holds characters outside RFC 3986 ({text[:60]!r})")
    scheme, sep, rest = text.partition("://")
    if not sep or scheme.lower() not in MEDIA_URL_SCHEMES:
        raise UnsafeValue(f"{what}: must start with http:// or https:// ({text[:60]!r})")
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if not authority or not _URL_AUTHORITY.fullmatch(authority):
        raise UnsafeValue(f"{what}: has no host ({text[:60]!r})")
    return _no_expansion(text, what)


def http_audio(url: str) -> str:
    """The playback source for a remote file: `http_cache://<url>` (mod_http_cache)."""
    return f"http_cache://{media_url(url)}"


def file_string(sources: Iterable[str]) -> str:
    """`file_string://a!b!...`: the sources played back to back by one `playback`."""
    items = list(sources)
    if not 1 <= len(items) <= MAX_FILE_STRING_SOURCES:
        raise UnsafeValue(
            f"file_string: needs 1..{MAX_FILE_STRING_SOURCES} sources (got {len(items)})"
        )
    for item in items:
        _check_text(item, "file_string source")
        _no_expansion(item, "file_string source")
        if not item or "!" in item or item.startswith("{"):
            raise UnsafeValue(
                f"file_string source: empty, or holds '!' or a leading '{{': {item!r}"
            )
    return "file_string://" + "!".join(items)


def silence_stream(ms: int) -> str:
    """`silence_stream://<ms>`: that many milliseconds of silence."""
    return f"silence_stream://{_positive_int(ms, 'silence_stream ms', MAX_SLEEP_MS)}"


def tone_stream(*tones: tuple[int, ...]) -> str:
    """`tone_stream://%(on,off,freq[,freq...]);...`: tones from (on_ms, off_ms, hz, ...) tuples."""
    if not tones:
        raise UnsafeValue("tone_stream: no tones")
    parts = []
    for tone in tones:
        if not isinstance(tone, tuple) or not 3 <= len(tone) <= 6:
            raise UnsafeValue(f"tone_stream: a tone is (on_ms, off_ms, hz, ...) (got {tone!r})")
        for number in tone:
            if isinstance(number, bool) or not isinstance(number, int) or not 0 <= number <= 20_000:
                raise UnsafeValue(f"tone_stream: values must be ints 0..20000 (got {tone!r})")
        parts.append("%(" + ",".join(str(n) for n in tone) + ")")
    return "tone_stream://" + ";".join(parts)


def sleep_arg(ms: int) -> str:
    """Argument of the `sleep` application: milliseconds."""
    return str(_positive_int(ms, "sleep ms", MAX_SLEEP_MS))


def detect_silence(min_silence_ms: int, timeout_ms: int) -> str:
    """Argument of `detect_silence`: `<threshold> <frames> <timeout_ms>`.

    Ends once `min_silence_ms` of consecutive frames stay below SILENCE_THRESHOLD (frames of
    FRAME_MS, rounded up), or after `timeout_ms`.
    """
    _positive_int(min_silence_ms, "minSilence ms", MAX_SLEEP_MS)
    _positive_int(timeout_ms, "detect_silence timeout ms", MAX_SLEEP_MS)
    frames = -(-min_silence_ms // FRAME_MS)
    return f"{SILENCE_THRESHOLD} {frames} {timeout_ms}"


def flite_voice(voice: object) -> str:
    """The flite voice for a Plivo voice (WOMAN -> slt, MAN -> kal)."""
    if voice not in FLITE_VOICES:
        raise UnsafeValue(f"speak voice: {voice!r} is not one of {sorted(FLITE_VOICES)}")
    return FLITE_VOICES[voice]  # type: ignore[index]


def speak_text(text: object) -> str:
    """Text for TTS: runs of whitespace (XML line breaks included) become one space.

    Whitespace inside an XML text node carries no meaning for speech, so this is not a coercion
    of a bad value; other control characters and `${` are refused.
    """
    if not isinstance(text, str):
        raise UnsafeValue(f"speak text: expected text, got {type(text).__name__}")
    flat = " ".join(text.split())
    if not flat:
        raise UnsafeValue("speak text: empty")
    if len(flat) > MAX_SPEAK_TEXT_CHARS:
        raise UnsafeValue(f"speak text: longer than {MAX_SPEAK_TEXT_CHARS} characters")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in flat):
        raise UnsafeValue(f"speak text: holds a control character ({flat[:60]!r})")
    return _no_expansion(flat, "speak text")


def speak(text: object, voice: object = "WOMAN") -> str:
    """Argument of the `speak` application: `flite|<voice>|<text>`."""
    return f"{TTS_ENGINE}|{flite_voice(voice)}|{speak_text(text)}"


def hangup_cause_for(reason: str | None) -> str:
    """The hangup cause for a Plivo `<Hangup reason>`: none -> NORMAL_CLEARING."""
    if reason is None or reason == "":
        return "NORMAL_CLEARING"
    if reason not in HANGUP_REASONS:
        raise UnsafeValue(f"hangup reason: {reason!r} is not one of {sorted(HANGUP_REASONS)}")
    return HANGUP_REASONS[reason]


def sched_hangup(seconds: int, cause: str = "NORMAL_CLEARING") -> str:
    """Argument of the `sched_hangup` application: `+<seconds> <cause>` (relative time)."""
    _positive_int(seconds, "sched_hangup seconds", MAX_SCHEDULE_S)
    _match(HANGUP_CAUSE, cause, "hangup cause")
    return f"+{seconds} {cause}"


#: Channel variables the confirm step (call/confirm.py) sets, and the values each may take.
DIGIT_VARIABLES = {"playback_terminators": ("any", ""), "sleep_eat_digits": ("true", "")}


def digit_variable(name: str, value: str) -> str:
    """The `set` argument `name=value` for a digit-collection variable (`name=` unsets it):
    `playback_terminators=any` makes any digit stop a playback or speak (mod_dptools on_dtmf),
    `sleep_eat_digits=true` makes `sleep` read digits too (and stop on a terminator)."""
    allowed = DIGIT_VARIABLES.get(name)
    if allowed is None or value not in allowed:
        raise UnsafeValue(f"digit variable: {name}={value!r} is not one of {DIGIT_VARIABLES}")
    return f"{name}={value}"


def send_dtmf(digits: str) -> str:
    """Argument of the `send_dtmf` application: the digits sent to the far end (`w` waits
    0.5 s and `W` 1 s, switch_core_session_send_dtmf_string), at most MAX_SEND_DIGITS."""
    from plivoxml_fs.fs.commands import MAX_SEND_DIGITS, SEND_DIGITS

    _match(SEND_DIGITS, digits, "send_dtmf digits")
    if len(digits) > MAX_SEND_DIGITS:
        raise UnsafeValue(f"send_dtmf digits: at most {MAX_SEND_DIGITS} (got {len(digits)})")
    return digits
