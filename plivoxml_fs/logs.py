"""Logging: one JSON object per line (or readable text), per-call context, and redaction.

`setup_logging` installs one handler on the root logger. Its formatter writes `ts`, `level`,
`logger`, `msg`, then the context fields (`call_uuid`, `conference`, `event`, `verb`), then any
other `extra` values, then `exc` for a traceback. Redaction happens in the formatter, so the
record itself is never changed and other handlers (the replay transcript) see it as logged:

- secrets, at every level: the value of an `extra` (or a nested mapping key) whose name holds
  password, secret, token, auth, signature, api key or cookie; `password=...`-style pairs,
  `auth <password>` ESL commands and URL user-info passwords in text;
- phone numbers, above DEBUG, keep only their last 4 digits (`***0100`): a run of 6 to 15
  digits (optionally after `+`, as in E.164 or a SIP user `sip:14155550100@host`) standing
  alone, after a URL-encoded `+` (`From=%2B14155550100`) or joined to a name by `_`, `-` or
  `.` (a room `conf_14155550100`), and numbers written
  in groups (`415-555-0100`, `+1 415.555.0100`, `(415) 555-0100`). Figures that are not phone
  numbers stay readable: UUIDs, dotted numbers (addresses, decimals), a number followed by its
  unit (`262144 bytes`, `(200017 characters)`, `1500 ms`), a Content-Length and a value
  whose name carries its unit (`max_document_bytes = 262144`, `RecordingStartMs=1700000000250`).

A call's own lines also carry its numbers (From, To, a numeric CallerName, ForwardedFrom: the
hidden extra NUMBERS_EXTRA, set with `call_numbers(params)`): those are masked wherever they
appear, even glued to letters (`room14155550100`) or in a form the patterns above miss.

Every message (and traceback, and text extra) is cut to MAX_MESSAGE_CHARS before it is
redacted, with a marker saying how long it was: one 9.5 MB line would otherwise fill the log
and hold the hub for seconds while the regexes run over it.
"""

from __future__ import annotations

import json as jsonlib
import logging
import re
import sys
import time
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any, TextIO

from plivoxml_fs.errors import ConfigError

CONTEXT_FIELDS = ("call_uuid", "conference", "event", "verb")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
MASK = "***"

# Attributes every LogRecord has; anything else on a record came from `extra`.
_RECORD_ATTRS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}

_SECRET_NAMES = r"password|passwd|secret|token|signature|api[_-]?key|cookie|auth"
_SECRET_WORD = rf"[\w-]*(?:{_SECRET_NAMES})[\w-]*"
_SECRET_KEY = re.compile(_SECRET_NAMES, re.IGNORECASE)
# key=value, key: value, 'key': 'value'; an HTTP auth scheme before the value is masked with it
_SECRET_PAIR = re.compile(
    rf"""\b({_SECRET_WORD})(['"]?\s*[=:]\s*)"""
    r"""((?:(?:basic|bearer|digest)\s+)?(?:"[^"]*"|'[^']*'|[^\s&,;'"]+))""",
    re.IGNORECASE,
)
# the ESL command `auth ClueCon`, but not prose such as "auth failed"
_ESL_AUTH = re.compile(
    r"(?<![\w-])(auth)(\s+)"
    r"(?!(?:failed|failure|required|ok|accepted|denied|rejected|error)\b)([^\s'\"`]+)",
    re.IGNORECASE,
)
_URL_USERINFO = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)([^/\s@]+)(@)")
#: Units after which a number is a size, a count or a duration, not a phone number.
_UNITS = (r"bytes?|[KMG]i?B|B|characters?|chars?|ms|milliseconds?|s|seconds?|attempts?"
          r"|problems?|warnings?")
# Scanned left to right; at each place the first alternative that matches wins. `keep` ones
# are left as they are; `phone` ones keep their last 4 digits.
_NUMBERS = re.compile(
    r"(?P<keep>"
    r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"  # a UUID
    r"|(?i:content-length)['\"]?\s*[:=]?\s*['\"]?\d+"  # a size header
    r"|\b[A-Za-z]\w*(?:_bytes|_chars|_s|_ms|Ms|Bytes)['\"]?\s*[=:]\s*['\"]?\d+"  # named with its unit
    r")"
    r"|(?P<grouped>(?<![A-Za-z0-9])(?:\+?\d{1,3}[-. ])?(?:\(\d{3}\) ?|\d{3}[-. ])\d{3}[-. ]\d{4}"
    r"(?![A-Za-z0-9]|[-.]\d))"
    r"|(?P<dotted>\d+(?:\.\d+)+)"  # an address, a decimal, a version
    rf"|(?P<sized>\d+(?=\s?(?:{_UNITS})\b))"
    r"|(?P<phone>(?:(?<=%2[Bb])|(?<![A-Za-z0-9]))\+?\d{6,15}(?![A-Za-z0-9]))"  # %2B: a URL's +
)
#: The hidden extra (leading `_`: never written) holding a call's phone numbers to mask.
NUMBERS_EXTRA = "_phone_numbers"
#: Call parameters whose values are phone numbers when they hold this many digits or more.
NUMBER_PARAMS = ("From", "To", "CallerName", "ForwardedFrom")
_MIN_NUMBER_DIGITS = 6
#: Longest message, traceback or text extra a log line carries, in characters; the rest is cut.
MAX_MESSAGE_CHARS = 8 * 1024
#: Characters past the cut that redaction still reads, so that a secret straddling the cut
#: cannot leave a readable start (a URL is at most 2048 characters).
REDACTION_MARGIN_CHARS = 2048


def call_numbers(params: Mapping[str, str]) -> tuple[str, ...]:
    """The phone numbers among a call's parameters (NUMBER_PARAMS), for NUMBERS_EXTRA.

    Each number comes with its digits-only form (`+14155550100` and `14155550100`).
    """
    found: list[str] = []
    for name in NUMBER_PARAMS:
        value = params.get(name) or ""
        digits = "".join(c for c in value if c.isdigit())
        if len(digits) >= _MIN_NUMBER_DIGITS:
            found += [v for v in dict.fromkeys((value, digits)) if v not in found]
    return tuple(sorted(found, key=len, reverse=True))  # longest first: "+1..." before "1..."


def redact_text(text: str, *, phones: bool, known: Iterable[str] = ()) -> str:
    """`text` with secrets masked, and phone numbers too when `phones` is true (`known`: numbers
    to mask wherever they appear)."""
    if "://" in text:
        text = _URL_USERINFO.sub(rf"\1{MASK}\3", text)
    if _SECRET_KEY.search(text):  # cheap test first: most lines name no secret at all
        text = _SECRET_PAIR.sub(_mask_pair, text)
        text = _ESL_AUTH.sub(rf"\1\2{MASK}", text)
    if phones:
        for number in known:
            if number in text:
                text = text.replace(number, f"{MASK}{number[-4:]}")
        text = _NUMBERS.sub(_mask_number, text)
    return text


def _mask_number(match: re.Match[str]) -> str:
    if match.lastgroup not in ("grouped", "phone"):
        return match.group(0)
    digits = "".join(c for c in match.group(0) if c.isdigit())
    return f"{MASK}{digits[-4:]}"


def redact_capped(text: str, *, phones: bool, known: Iterable[str] = ()) -> str:
    """`text` cut to MAX_MESSAGE_CHARS (with a marker saying so), then redacted."""
    if len(text) <= MAX_MESSAGE_CHARS:
        return redact_text(text, phones=phones, known=known)
    head = redact_text(text[:MAX_MESSAGE_CHARS + REDACTION_MARGIN_CHARS], phones=phones,
                       known=known)
    return f"{head[:MAX_MESSAGE_CHARS]} [cut at {MAX_MESSAGE_CHARS} of {len(text)} characters]"


def _mask_pair(match: re.Match[str]) -> str:
    key, sep, value = match.groups()
    quote = value[0] if value[0] in "'\"" else ""
    return f"{key}{sep}{quote}{MASK}{quote}"


def is_secret_name(name: str) -> bool:
    """True when a key or field called `name` holds a secret (password, token, auth, ...)."""
    return _SECRET_KEY.search(name) is not None


def redact_value(value: Any, *, phones: bool, known: Iterable[str] = ()) -> Any:
    """A JSON-ready copy of `value` with secrets (and phones when asked) masked, recursively."""
    if isinstance(value, str):
        return redact_capped(value, phones=phones, known=known)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Mapping):
        return {
            redact_text(str(k), phones=phones, known=known): (
                MASK if is_secret_name(str(k)) else redact_value(v, phones=phones, known=known)
            )
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [redact_value(v, phones=phones, known=known) for v in value]
    return redact_capped(str(value), phones=phones, known=known)


def _timestamp(created: float) -> str:
    seconds = int(created)
    millis = int((created - seconds) * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


class _RedactingFormatter(logging.Formatter):
    """Builds the redacted fields of a record; subclasses lay them out."""

    def fields(self, record: logging.LogRecord) -> dict[str, Any]:
        phones = record.levelno > logging.DEBUG
        known = tuple(getattr(record, NUMBERS_EXTRA, ()) or ()) if phones else ()

        def text(value: str) -> str:
            return redact_capped(value, phones=phones, known=known)

        out: dict[str, Any] = {
            "ts": _timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "msg": text(record.getMessage()),
        }
        extras = {k: v for k, v in vars(record).items() if k not in _RECORD_ATTRS}
        for name in CONTEXT_FIELDS:
            if name in extras:
                out[name] = self._extra(name, extras.pop(name), phones, known)
        for name in sorted(extras):
            if not name.startswith("_"):
                out[name] = self._extra(name, extras[name], phones, known)
        if record.exc_info:
            out["exc"] = text(self.formatException(record.exc_info))
        if record.stack_info:
            out["stack"] = text(self.formatStack(record.stack_info))
        return out

    @staticmethod
    def _extra(name: str, value: Any, phones: bool, known: tuple[str, ...]) -> Any:
        return MASK if is_secret_name(name) else redact_value(value, phones=phones, known=known)


class JsonFormatter(_RedactingFormatter):
    """One JSON object per line: ts, level, logger, msg, context, extras, exc."""

    def format(self, record: logging.LogRecord) -> str:
        return jsonlib.dumps(self.fields(record), ensure_ascii=False, separators=(",", ":"))


class TextFormatter(_RedactingFormatter):
    """`ts LEVEL logger [key=value ...] msg`, then the traceback on the following lines."""

    def format(self, record: logging.LogRecord) -> str:
        fields = self.fields(record)
        head = f"{fields.pop('ts')} {fields.pop('level')} {fields.pop('logger')}"
        msg = fields.pop("msg")
        tail = [fields.pop(k) for k in ("exc", "stack") if k in fields]
        context = " ".join(f"{k}={_text(v)}" for k, v in fields.items())
        line = f"{head} [{context}] {msg}" if context else f"{head} {msg}"
        return "\n".join([line, *tail])


def _text(value: Any) -> str:
    return value if isinstance(value, str) else jsonlib.dumps(value, ensure_ascii=False)


class _OurHandler(logging.StreamHandler):
    """The handler `setup_logging` installs; a second call replaces it instead of adding one."""


def level_number(level: str | int) -> int:
    """The numeric level for a name in LEVELS (upper case) or a standard number; else ConfigError."""
    if isinstance(level, str) and level in LEVELS:
        return logging.getLevelName(level)
    if isinstance(level, int) and not isinstance(level, bool) and logging.getLevelName(level) in LEVELS:
        return level
    raise ConfigError(f"log level must be one of {', '.join(LEVELS)} (got {level!r})")


def setup_logging(level: str | int, json: bool = True, stream: TextIO | None = None) -> None:
    """Send every record at `level` and above to `stream` (stderr) as JSON lines or text."""
    number = level_number(level)
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _OurHandler)]:
        root.removeHandler(old)
    handler = _OurHandler(sys.stderr if stream is None else stream)
    handler.setLevel(number)
    handler.setFormatter(JsonFormatter() if json else TextFormatter())
    root.addHandler(handler)
    root.setLevel(number)


class ContextAdapter(logging.LoggerAdapter):
    """A logger that adds bound context (call_uuid, verb, ...) to every record's extras.

    Extras given on a single call win over the bound ones; `bind` on an adapter adds to its
    context.
    """

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, Any]:
        kwargs["extra"] = {**(self.extra or {}), **(kwargs.get("extra") or {})}
        return msg, kwargs


def bind(logger: logging.Logger | logging.LoggerAdapter, **context: Any) -> ContextAdapter:
    """`logger` with `context` (e.g. call_uuid=..., verb="Play") added to every record."""
    if isinstance(logger, logging.LoggerAdapter):
        return ContextAdapter(logger.logger, {**(logger.extra or {}), **context})
    return ContextAdapter(logger, dict(context))
