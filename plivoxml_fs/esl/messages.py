"""Typed, immutable views of what travels on the event socket: messages, events, commands."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from urllib.parse import unquote_to_bytes

import attrs

from plivoxml_fs.errors import ProtocolError

#: What `Headers` remembers for a header that is not there.
_ABSENT = object()


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

    def _value(self, name: str) -> str | None:
        """The still-encoded value of `name`, or None."""
        if self._map is not None or "\n" in name:
            return self._raw.get(name)
        key = f"\n{name}: "
        at = self._text.rfind(key)
        if at < 0:
            return None
        start = at + len(key)
        return self._text[start:self._text.index("\n", start)]

    def _decoded(self, name: str) -> str | object:
        """The decoded value of `name`, or _ABSENT; remembered."""
        try:
            return self._seen[name]
        except KeyError:
            pass
        value = self._value(name)
        if value is None:
            decoded: str | object = _ABSENT
        else:
            decoded = unquote_to_bytes(value).decode("utf-8", "replace") if "%" in value else value
        self._seen[name] = decoded
        return decoded

    def __getitem__(self, name: str) -> str:
        value = self._decoded(name)
        if value is _ABSENT:
            raise KeyError(name)
        return value  # type: ignore[return-value]

    def get(self, name: str, default=None):
        value = self._decoded(name)
        return default if value is _ABSENT else value

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._decoded(name) is not _ABSENT

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def __repr__(self) -> str:
        return repr(dict(self.items()))

    def without(self, name: str) -> Headers:
        """These headers less `name` (still undecoded)."""
        return Headers({key: value for key, value in self._raw.items() if key != name})


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
