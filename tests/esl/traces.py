"""Load the raw ESL traces recorded on a real FreeSWITCH 1.10.12 (vendored in tests/esl/fs-traces).

The traces were anonymised after recording, so their Content-Length values can be a few bytes
off. Entries are split on the trace's own `<<<` / `>>>` marker lines and every length (the outer
one and, for text/event-plain, the event's own) is recomputed from the bytes actually there.
"""

from __future__ import annotations

import re
from pathlib import Path

import attrs

TRACE_DIR = Path(__file__).resolve().parent / "fs-traces"
_MARKER = re.compile(rb"^(<<<|>>>) \[([^\]]+)\] ([0-9.]+)\n", re.MULTILINE)
_NOTE = re.compile(rb"^### .*\n", re.MULTILINE)  # the recorder's own notes, not ESL bytes
_LENGTH = re.compile(rb"^Content-Length: \d+$", re.MULTILINE | re.IGNORECASE)


@attrs.frozen
class Entry:
    """One message of a trace: who sent it, on which connection, and its corrected bytes."""

    sent_by_us: bool
    conn: str
    data: bytes


def trace_path(name: str) -> Path:
    path = TRACE_DIR / name
    if not path.is_file():
        raise FileNotFoundError(f"trace {name} not found in {TRACE_DIR}")
    return path


def _with_length(block: bytes, length: int) -> bytes:
    return _LENGTH.sub(b"Content-Length: %d" % length, block, count=1)


def _fix_event_body(body: bytes) -> bytes:
    block, sep, rest = body.partition(b"\n\n")
    if not sep or not _LENGTH.search(block):
        return body
    return _with_length(block, len(rest)) + b"\n\n" + rest


def _fix_incoming(chunk: bytes) -> bytes:
    return relength(chunk[:-1] if chunk.endswith(b"\n") else chunk)  # the recorder's separator


def relength(message: bytes) -> bytes:
    """Recompute the Content-Length values of one message FreeSWITCH sent (outer and event)."""
    chunk = message
    block, sep, body = chunk.partition(b"\n\n")
    if not _LENGTH.search(block):
        return chunk
    if b"Content-Type: text/event-plain" in block:
        body = _fix_event_body(body)
    return _with_length(block, len(body)) + sep + body


def _fix_outgoing(chunk: bytes) -> bytes:
    block, sep, body = chunk.partition(b"\n\n")
    if not re.search(rb"^content-length: ", block, re.MULTILINE | re.IGNORECASE):
        return chunk
    body = body[:-2] if body.endswith(b"\n\n") else body  # the recorder's separator
    block = re.sub(
        rb"^(content-length): \d+$",
        b"\\1: %d" % len(body),
        block,
        count=1,
        flags=re.MULTILINE | re.IGNORECASE,
    )
    return block + sep + body


def load(name: str) -> list[Entry]:
    """Every entry of trace `name`, in order, with lengths recomputed."""
    raw = _NOTE.sub(b"", trace_path(name).read_bytes())
    marks = list(_MARKER.finditer(raw))
    entries = []
    for mark, following in zip(marks, [*marks[1:], None], strict=True):
        end = following.start() if following else len(raw)
        chunk = raw[mark.end() : end]
        sent = mark.group(1) == b">>>"
        data = _fix_outgoing(chunk) if sent else _fix_incoming(chunk)
        entries.append(Entry(sent, mark.group(2).decode(), data))
    return entries


def incoming(name: str, conn: str | None = None) -> list[Entry]:
    """The messages FreeSWITCH sent in trace `name` (on `conn` only, when given)."""
    return [e for e in load(name) if not e.sent_by_us and conn in (None, e.conn)]


def outgoing(name: str, conn: str | None = None) -> list[Entry]:
    """The commands the client sent in trace `name` (on `conn` only, when given)."""
    return [e for e in load(name) if e.sent_by_us and conn in (None, e.conn)]
