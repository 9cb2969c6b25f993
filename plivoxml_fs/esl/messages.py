"""Typed, immutable views of what travels on the event socket: messages, events, commands."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Mapping
from urllib.parse import unquote_to_bytes

import attrs

from plivoxml_fs.errors import ProtocolError

#: What `Headers` remembers for a header that is not there.
_ABSENT = object()


@functools.lru_cache(maxsize=32)
def _prefix_pattern(prefixes: tuple[str, ...]) -> re.Pattern[str]:
    """The (name, value) of the lines of a `Headers` text whose names start with one of
    `prefixes` (a line's name ends at its first ': ', as the codec splits it)."""
    alternatives = "|".join(re.escape(prefix) for prefix in prefixes)
    return re.compile(f"\n((?:{alternatives})[^\n]*?): ([^\n]*)")


def _never_a_name(name: str) -> bool:
    """No header of a split block is named so: a line's name ends at its first ': ' and at
    the line's end (`A: b` is not the name of the line `A: b: c`)."""
    return "\n" in name or ": " in name


def _decode(value: str) -> str:
    """A header value as eager decoding gives it: `%XX` escapes to bytes, then UTF-8."""
    return unquote_to_bytes(value).decode("utf-8", "replace") if "%" in value else value


class Headers(Mapping[str, str]):
    """Read-only headers whose values are still URL-encoded; a value is decoded when it is read.

    An event carries dozens of headers and the daemon reads a handful, so decoding on access
    saves most of the work. Reading gives what eager decoding gave: the value's `%XX` escapes
    turned into bytes, those bytes decoded as UTF-8 with replacement. The codec builds these
    only from valid UTF-8 header blocks, already split into names and values (`raw`), or from
    the text of a block it checked line by line (`text`: every line `name: value`, no CR):
    then a header is looked up in the text (the last line of that name, as a dict of the lines
    keeps the last) and the dict is built only if the headers are iterated.
    """

    __slots__ = ("_map", "_text", "_seen")

    def __init__(self, raw: dict[str, str] | None = None, *, text: str = "") -> None:
        self._map = raw
        self._text = "" if raw is not None else f"\n{text}\n"
        #: name -> decoded value (or _ABSENT) of each header read so far: the transport, the
        #: session and the typed views read Event-Name, Content-Type, ... several times each.
        self._seen: dict[str, str | object] = {}

    @property
    def _raw(self) -> dict[str, str]:
        if self._map is None:
            self._map = dict(line.split(": ", 1) for line in self._text[1:-1].split("\n"))
        return self._map

    def _lookup(self, name: str) -> str | object:
        """Find, decode and remember the value of `name` (_ABSENT when it is not there).

        `get` (which the other readers go through) tries the memo first and comes here on a
        miss: one Python call for a header read again (the transport, the session and the
        typed views read Event-Name, Content-Type, ... several times each), two for a first.
        """
        if self._map is not None:
            value = self._map.get(name)
        elif _never_a_name(name):
            value = None
        else:
            key = f"\n{name}: "
            at = self._text.rfind(key)
            if at < 0:
                value = None
            else:
                start = at + len(key)
                value = self._text[start:self._text.index("\n", start)]
        if value is None:
            decoded: str | object = _ABSENT
        else:
            decoded = _decode(value)
        self._seen[name] = decoded
        return decoded

    def get(self, name: str, default=None):
        try:
            value = self._seen[name]
        except KeyError:
            value = self._lookup(name)
        return default if value is _ABSENT else value

    def __getitem__(self, name: str) -> str:
        value = self.get(name, _ABSENT)
        if value is _ABSENT:
            raise KeyError(name)
        return value

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name, _ABSENT) is not _ABSENT

    def starting_with(self, prefixes: tuple[str, ...]) -> dict[str, str]:
        """The headers whose names start with one of `prefixes`, decoded, in the order a dict
        of them gives (a repeated name: where it first appears, with its last value).

        Over the text this is one regular-expression scan, not a loop over every header: a
        channel's data carries ~200 headers, of which a caller wants a few (`X-PH-*` ones).
        """
        if self._map is not None:
            return {name: self[name] for name in self._map if name.startswith(prefixes)}
        # A line's name ends at its first ': '. The scan finds the first one after the prefix;
        # a name found with ': ' in it met one inside the prefix (`B:` and the line `B: x: y`),
        # so its true name is shorter than the prefix: not one of these.
        found: dict[str, str] = {}
        for name, value in _prefix_pattern(prefixes).findall(self._text):
            if ": " not in name:
                found[name] = value  # a repeated name: its first place, its last value
        return {name: _decode(value) for name, value in found.items()}

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def __repr__(self) -> str:
        return repr(dict(self.items()))

    def without(self, name: str) -> Headers:
        """These headers less `name` (still undecoded). Kept as text, the lines of that name
        are cut out of it: a connect reply's ~200 headers are never split for its Reply-Text."""
        if self._map is not None:
            return Headers({key: value for key, value in self._map.items() if key != name})
        if _never_a_name(name):
            return self  # nothing so named: the same (immutable) headers
        text, key = self._text, f"\n{name}: "
        at = text.find(key)
        if at < 0:
            return self  # immutable: the same headers
        kept, start = [], 0
        while at >= 0:
            kept.append(text[start:at])
            start = text.index("\n", at + 1)  # where the next line (or the end) begins
            at = text.find(key, start)
        kept.append(text[start:])
        rest = "".join(kept)
        return Headers(text=rest[1:-1]) if rest != "\n" else Headers({})


def starting_with(headers: Mapping[str, str], prefixes: tuple[str, ...]) -> dict[str, str]:
    """The headers whose names start with one of `prefixes`, decoded (see
    `Headers.starting_with`; any other mapping is filtered name by name)."""
    if isinstance(headers, Headers):
        return headers.starting_with(prefixes)
    return {name: value for name, value in headers.items() if name.startswith(prefixes)}


def _frozen_headers(value: Mapping[str, str] | None) -> Mapping[str, str]:
    if isinstance(value, Headers):  # immutable already: no copy (and no decoding)
        return value
    return dict(value or {})


@attrs.frozen
class Message:
    """One ESL message from FreeSWITCH: decoded header block plus raw body bytes."""

    headers: Mapping[str, str] = attrs.field(converter=_frozen_headers)
    body: bytes = b""

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name, default)

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")

    @property
    def reply_text(self) -> str:
        """`Reply-Text` of a command/reply, or the body of an api/response, stripped."""
        if self.content_type == "command/reply":
            return self.headers.get("Reply-Text", "").strip()
        return self.body.decode("utf-8", "replace").strip()

    @property
    def is_event(self) -> bool:
        return self.content_type in ("text/event-plain", "text/event-json")

    def event(self) -> Event:
        """Parse the body of a text/event-plain or text/event-json message."""
        if self.content_type == "text/event-plain":
            from plivoxml_fs.esl.codec import parse_event_plain

            return parse_event_plain(self.body)
        if self.content_type == "text/event-json":
            return parse_event_json(self.body)
        raise ProtocolError(f"message of type {self.content_type!r} is not an event")


@attrs.frozen
class Event:
    """One FreeSWITCH event: decoded headers and the event body (e.g. a BACKGROUND_JOB result)."""

    headers: Mapping[str, str] = attrs.field(converter=_frozen_headers)
    body: bytes = b""

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name, default)

    def __getitem__(self, name: str) -> str:
        return self.headers[name]

    @property
    def name(self) -> str:
        return self.headers.get("Event-Name", "")

    @property
    def subclass(self) -> str:
        return self.headers.get("Event-Subclass", "")

    @property
    def unique_id(self) -> str:
        return self.headers.get("Unique-ID", "")

    @property
    def body_text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def variable(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(f"variable_{name}", default)

    def starting_with(self, *prefixes: str) -> dict[str, str]:
        """The headers whose names start with one of `prefixes`, decoded, without reading
        every header (a channel's data carries ~200)."""
        return starting_with(self.headers, prefixes)


@attrs.frozen
class Command:
    """One command sent to FreeSWITCH (as the embedded FreeSWITCH parses it)."""

    line: str
    headers: Mapping[str, str] = attrs.field(converter=_frozen_headers, factory=dict)
    body: bytes = b""

    def get(self, name: str, default: str | None = None) -> str | None:
        """Header lookup ignoring case, as FreeSWITCH does for sendmsg headers."""
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return default


def parse_event_json(body: bytes) -> Event:
    """Parse a text/event-json body; `_body` becomes the event body."""
    try:
        data = json.loads(body.decode("utf-8", "replace"))
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        raise ProtocolError(f"text/event-json body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ProtocolError("text/event-json body is not a JSON object")
    raw_body = data.pop("_body", "")
    headers = {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}
    return Event(headers, str(raw_body).encode("utf-8"))
