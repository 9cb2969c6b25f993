"""Sans-IO ESL codec: bytes in, messages out, and the reverse. No sockets here.

Two directions:

- `MessageParser` reads what FreeSWITCH sends (header block, blank line, `Content-Length` body);
  `CommandParser` reads what a client sends (command line, optional headers and body), which the
  embedded FreeSWITCH needs.
- `encode_command` builds client commands and refuses CR/LF in anything bound for a line;
  `encode_message`, `encode_event_plain` and `encode_event_json` build what FreeSWITCH sends.

Header values are split on the first ``": "`` and only then URL-decoded, so an encoded colon or
newline inside a value can never create a header. Non-UTF-8 bytes decode with replacement.
"""

from __future__ import annotations

import abc
import json
from collections.abc import Iterable, Mapping, Sequence
from urllib.parse import unquote_to_bytes

from plivoxml_fs.errors import ProtocolError, UnsafeValue
from plivoxml_fs.esl.messages import Command, Event, Headers, Message

#: Largest header block we accept before the blank line (FreeSWITCH events are a few KiB).
MAX_HEADER_BYTES = 256 * 1024
#: Largest body a Content-Length may announce (api replies such as `show channels` can be large).
MAX_BODY_BYTES = 64 * 1024 * 1024

#: A message's header block longer than this (bytes) is kept as text (`Headers(text=...)`):
#: the connect reply's channel data, an api reply's.
TEXT_HEADERS_FROM = 512

# switch_utils.h SWITCH_URL_UNSAFE, plus every byte outside printable ASCII.
_URL_UNSAFE = frozenset(b"\r\n #%&+:;<=>?@[\\]^`{|}\"")


def _decode_value(raw: bytes, *, urldecode: bool) -> str:
    if urldecode and b"%" in raw:
        raw = unquote_to_bytes(raw)
    return raw.decode("utf-8", "replace")


def _parse_header_block(
    block: bytes, *, urldecode: bool, what: str, lazy: bool = False
) -> Mapping[str, str]:
    """Split each line on its first ': '; with `urldecode`, values are URL-decoded afterwards.

    A block of valid UTF-8 (every block FreeSWITCH sends) is decoded once as a whole: splitting
    text on ASCII separators gives the same pieces as splitting the bytes, and a value's bytes
    are its text's UTF-8, so its URL-decoding can wait until it is read (`lazy`: `Headers`, for
    event bodies, of which the daemon reads a few headers). Other blocks take the byte-wise
    path, which decodes each piece at once, with replacement.
    """
    try:
        text = block.decode("utf-8")
    except UnicodeDecodeError:
        return _parse_header_bytes(block, urldecode=urldecode, what=what)
    lines = text.split("\n")
    if "\r" in text:
        lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    headers: dict[str, str] = {}
    for line in lines:
        name, sep, value = line.partition(": ")
        if not sep:
            if not line:
                continue
            if not line.endswith(":"):
                shown = line.encode("utf-8")[:60].decode("utf-8", "replace")
                raise ProtocolError(f"{what}: header line without ': ' ({shown!r})")
            name = line[:-1]
        if not name:
            raise ProtocolError(f"{what}: header line with an empty name")
        headers[name] = value
    if not urldecode:
        return headers
    if lazy:
        return Headers(headers)
    for name, value in headers.items():
        if "%" in value:
            headers[name] = unquote_to_bytes(value).decode("utf-8", "replace")
    return headers


def _parse_header_bytes(block: bytes, *, urldecode: bool, what: str) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in block.split(b"\n"):
        if line.endswith(b"\r"):
            line = line[:-1]
        if not line:
            continue
        name, sep, value = line.partition(b": ")
        if not sep:
            if line.endswith(b":"):
                name, value = line[:-1], b""
            else:
                shown = line[:60].decode("utf-8", "replace")
                raise ProtocolError(f"{what}: header line without ': ' ({shown!r})")
        if not name:
            raise ProtocolError(f"{what}: header line with an empty name")
        headers[name.decode("utf-8", "replace")] = _decode_value(value, urldecode=urldecode)
    return headers


def _content_length(headers: Mapping[str, str], block: bytes, what: str) -> int:
    """The header block's Content-Length (the first header so named, ignoring case), or 0."""
    raw = None
    named = block.lower().count(b"content-length:")  # most event bodies have none
    if named == 1 and "Content-Length" in headers:  # the one so named: no scan
        raw = headers["Content-Length"]
    elif named:
        for key, value in headers.items():
            if key.lower() == "content-length":
                raw = value
                break
    if raw is None:
        return 0
    raw = raw.strip()
    if not raw.isdigit() or not raw.isascii():
        raise ProtocolError(f"{what}: Content-Length is not a number ({raw!r})")
    length = int(raw)
    if length > MAX_BODY_BYTES:
        raise ProtocolError(f"{what}: Content-Length {length} exceeds {MAX_BODY_BYTES} bytes")
    return length


class _BlockParser(abc.ABC):
    """Shared framing: a header block ended by a blank line, then Content-Length bytes."""

    _what = "ESL message"

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._pending: tuple[bytes, Mapping[str, str], int] | None = None
        self._broken: ProtocolError | None = None

    def feed(self, data: bytes) -> list:
        """Add bytes; return every message now complete. Raises ProtocolError, then stays broken."""
        if self._broken is not None:
            raise self._broken
        self._buffer += data
        out = []
        try:
            while True:
                item = self._next()
                if item is None:
                    break
                out.append(item)
        except ProtocolError as exc:
            self._broken = exc
            raise
        return out

    @property
    def buffered(self) -> int:
        """Bytes received but not yet part of a complete message."""
        return len(self._buffer)

    def _next(self):
        if self._pending is None:
            # FreeSWITCH never sends blank lines between messages, but tolerate them.
            while self._buffer[:1] == b"\n" or self._buffer[:2] == b"\r\n":
                del self._buffer[: 1 if self._buffer[:1] == b"\n" else 2]
            end = self._buffer.find(b"\n\n")
            sep = 2
            # Only a CRLF blank line before `end` matters: don't scan the whole buffer again.
            crlf = self._buffer.find(b"\r\n\r\n", 0, len(self._buffer) if end == -1 else end + 3)
            if crlf != -1 and (end == -1 or crlf < end):
                end, sep = crlf, 4
            if end == -1:
                if len(self._buffer) > MAX_HEADER_BYTES:
                    raise ProtocolError(
                        f"{self._what}: no end of header block within {MAX_HEADER_BYTES} bytes"
                    )
                return None
            block = bytes(self._buffer[:end])
            del self._buffer[: end + sep]
            first, headers = self._split_block(block)
            self._pending = (first, headers, _content_length(headers, block, self._what))
        first, headers, length = self._pending
        if len(self._buffer) < length:
            return None
        body = bytes(self._buffer[:length])
        del self._buffer[:length]
        self._pending = None
        return self._build(first, headers, body)

    @abc.abstractmethod
    def _split_block(self, block: bytes) -> tuple[bytes, Mapping[str, str]]:
        """Split a header block into its first line (commands) and its headers."""

    @abc.abstractmethod
    def _build(self, first: bytes, headers: Mapping[str, str], body: bytes):
        """Build the parser's own message type."""


class MessageParser(_BlockParser):
    """Parses the byte stream FreeSWITCH sends into `Message`s."""

    _what = "ESL message"

    def _split_block(self, block: bytes) -> tuple[bytes, Mapping[str, str]]:
        # values decoded when read (Headers): a connect reply carries ~200, a driver reads ~30.
        # A large block is kept as text, looked up when read, as an event's is: splitting it
        # would be a Python step a line. Small ones (replies: 2-3 lines) are split at once.
        if len(block) > TEXT_HEADERS_FROM:
            return b"", _event_headers(block, self._what)
        return b"", _parse_header_block(block, urldecode=True, what=self._what, lazy=True)

    def _build(self, first: bytes, headers: Mapping[str, str], body: bytes) -> Message:
        if "Content-Type" not in headers:
            raise ProtocolError(f"{self._what}: no Content-Type header")
        return Message(headers, body)


class CommandParser(_BlockParser):
    """Parses the byte stream a client sends into `Command`s (for the embedded FreeSWITCH)."""

    _what = "ESL command"

    def _split_block(self, block: bytes) -> tuple[bytes, Mapping[str, str]]:
        first, _, rest = block.partition(b"\n")
        return first.rstrip(b"\r"), _parse_header_block(rest, urldecode=False, what=self._what)

    def _build(self, first: bytes, headers: Mapping[str, str], body: bytes) -> Command:
        line = first.decode("utf-8", "replace").strip()
        if not line:
            raise ProtocolError(f"{self._what}: empty command line")
        return Command(line, headers, body)


def parse_event_plain(body: bytes) -> Event:
    """Parse a text/event-plain body: URL-encoded headers, blank line, optional event body."""
    end = body.find(b"\n\n")
    block, rest = (body, b"") if end == -1 else (body[:end], body[end + 2 :])
    headers = _event_headers(block)
    length = _content_length(headers, block, "event")
    if len(rest) < length:
        raise ProtocolError(f"event: body shorter ({len(rest)}) than its Content-Length ({length})")
    if "Content-Length" in headers:
        if isinstance(headers, Headers):
            headers = headers.without("Content-Length")
        else:
            headers.pop("Content-Length")
    return Event(headers, rest[:length])


def _event_headers(block: bytes, what: str = "event") -> Mapping[str, str]:
    """An event body's headers (or a large message block's, `what` naming it in errors): kept
    as text to be looked up (`Headers(text=...)`) when every line is `name: value` with a
    name, else split at once by `_parse_header_block`, which raises on the line that is not
    (the same headers, the same errors, either way)."""
    try:
        text = block.decode("utf-8")
    except UnicodeDecodeError:
        text = "\r"  # the byte-wise path, with replacement
    if ("\r" in text or text.startswith(": ") or "\n: " in text
            or not all(": " in line for line in text.split("\n"))):
        return _parse_header_block(block, urldecode=True, what=what, lazy=True)
    return Headers(text=text)


def check_line(value: str, what: str) -> str:
    """Refuse a value that would end an ESL line early (CR, LF or NUL): ESL injection."""
    if "\n" in value or "\r" in value or "\0" in value:
        raise UnsafeValue(f"{what} contains CR, LF or NUL: {value[:60]!r}")
    return value


def encode_command(
    line: str,
    headers: Sequence[tuple[str, str]] = (),
    body: bytes | None = None,
) -> bytes:
    """Build one client command. A body gets a byte-accurate `content-length` header."""
    check_line(line, "command")
    parts = [line]
    for name, value in headers:
        check_line(name, "header name")
        check_line(value, f"header {name}")
        if ":" in name or not name:
            raise UnsafeValue(f"bad header name {name!r}")
        parts.append(f"{name}: {value}")
    if body is not None:
        parts.append(f"content-length: {len(body)}")
    try:
        data = ("\n".join(parts) + "\n\n").encode("utf-8")
    except UnicodeEncodeError as exc:
        raise UnsafeValue(
            f"command {line[:60]!r}: text is not encodable as UTF-8 ({exc.reason})"
        ) from None
    if body is not None:
        data += body
    return data


def url_encode(value: str) -> str:
    """Encode a header value the way FreeSWITCH's switch_url_encode does.

    An existing `%XX` is kept only with upper-case hex digits (switch_utils.c looks the two
    digits up in "0123456789ABCDEF"): `%2B` stays, `%2b` becomes `%252b`. So the encoding is
    not one-to-one (`a+b` and `a%2Bb` both give `a%2Bb`): decoding a header cannot always give
    back what was set (tests/simulator/fs-traces/probe-urls.txt).
    """
    raw = value.encode("utf-8")
    out = []
    hexdigits = b"0123456789ABCDEF"
    for i, byte in enumerate(raw):
        if (
            byte == 0x25
            and i + 2 < len(raw)
            and raw[i + 1] in hexdigits
            and raw[i + 2] in hexdigits
        ):
            out.append("%")
        elif byte < 0x20 or byte > 0x7E or byte in _URL_UNSAFE:
            out.append(f"%{byte:02X}")
        else:
            out.append(chr(byte))
    return "".join(out)


def _header_lines(headers: Iterable[tuple[str, str]], *, urlencode: bool) -> str:
    lines = []
    for name, value in headers:
        lines.append(f"{name}: {url_encode(value) if urlencode else value}\n")
    return "".join(lines)


def encode_message(
    headers: Sequence[tuple[str, str]], body: bytes = b"", *, urlencode: bool = False
) -> bytes:
    """Build one message as FreeSWITCH sends it, headers in the given order.

    A `Content-Length` header is added after the given headers when there is a body and the
    caller did not place one.
    """
    items = list(headers)
    if body and not any(name.lower() == "content-length" for name, _ in items):
        items.append(("Content-Length", str(len(body))))
    return _header_lines(items, urlencode=urlencode).encode("utf-8") + b"\n" + body


def encode_event_plain(headers: Sequence[tuple[str, str]], body: bytes = b"") -> bytes:
    """Build the body of a text/event-plain message (values URL-encoded as FreeSWITCH does)."""
    text = _header_lines(headers, urlencode=True)
    if body:
        return (text + f"Content-Length: {len(body)}\n\n").encode("utf-8") + body
    return (text + "\n").encode("utf-8")


def encode_event_json(headers: Sequence[tuple[str, str]], body: bytes = b"") -> bytes:
    """Build the body of a text/event-json message."""
    data = dict(headers)
    if body:
        data["Content-Length"] = str(len(body))
        data["_body"] = body.decode("utf-8", "replace")
    return json.dumps(data).encode("utf-8")


def frame_event(event_body: bytes, content_type: str = "text/event-plain") -> bytes:
    """Wrap an event body in the outer envelope FreeSWITCH uses for events."""
    return encode_message(
        [("Content-Length", str(len(event_body))), ("Content-Type", content_type)], event_body
    )
