"""Bytes to a tree of `Node`s with line and column numbers, safely, or one `Problem` saying why not.

- The size cap is checked before any parsing; the message names the size and the limit.
- Parsing is defusedxml's expat parser with DTDs forbidden outright, so entity declarations
  (billion laughs, quadratic blow-up) and external entities never get a chance to expand.
- Malformed XML becomes a problem at the line and column expat reports.
- A node keeps its text pieces exactly as parsed (no stripping: that is the converters' call)
  and the 1-based line and column of its start tag.
- The data is fed to expat FEED_CHUNK_BYTES at a time and an optional `pause()` runs between
  chunks, so a caller can let other work run while a large document is read.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from xml.etree.ElementTree import ParseError

import attrs
from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import DefusedXMLParser

from plivoxml_fs.documents.problems import Location, Problem
from plivoxml_fs.errors import DocumentInvalid

#: Bytes handed to expat at a time (about 5 ms of parsing), with a `pause()` after each.
FEED_CHUNK_BYTES = 8 * 1024
#: Elements validated between two `pause()` calls (a few ms of work).
PAUSE_EVERY_NODES = 500
#: expat appends the position to its messages; we report it in the location instead.
_POSITION_SUFFIX = re.compile(r":\s*line \d+, column \d+$")


@attrs.define
class Node:
    """One XML element: tag, attributes in document order, direct text pieces, children.

    The start tag's place is kept as numbers (`where` builds the Location), and `parts` and
    `children` stay the shared empty tuple until something is added: most elements hold
    neither. One object per element instead of four keeps the garbage collector's passes over a
    large tree short (each pass stalls every greenlet).
    """

    tag: str
    attrib: dict[str, str]
    source: str
    line: int = 0
    column: int = 0
    parts: list[str] | tuple[()] = ()
    children: list[Node] | tuple[()] = ()

    @property
    def where(self) -> Location:
        return Location(self.source, self.line, self.column)

    def add_child(self, node: Node) -> None:
        if not self.children:
            self.children = []
        self.children.append(node)

    def add_text(self, text: str) -> None:
        if not self.parts:
            self.parts = []
        self.parts.append(text)

    @property
    def text(self) -> str:
        """All text directly inside this element (between and around its children)."""
        return "".join(self.parts)


class _Builder:
    """The parser's target: builds Nodes, asking the expat parser where each one starts."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.expat = None
        self.stack: list[Node] = []
        self.root: Node | None = None

    def here(self) -> Location:
        if self.expat is None:
            return Location(self.source)
        return Location(self.source, self.expat.CurrentLineNumber, self.expat.CurrentColumnNumber + 1)

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        expat = self.expat
        line, column = (expat.CurrentLineNumber, expat.CurrentColumnNumber + 1) if expat else (0, 0)
        node = Node(tag, attrib, self.source, line, column)  # expat gives each its own dict
        if self.stack:
            self.stack[-1].add_child(node)
        else:
            self.root = node
        self.stack.append(node)

    def data(self, text: str) -> None:
        if self.stack:
            self.stack[-1].add_text(text)

    def end(self, tag: str) -> None:
        self.stack.pop()

    def close(self) -> Node | None:
        return self.root


def too_big(source: str, size: int, max_bytes: int) -> Problem:
    """The problem of a document of `size` bytes over the `max_bytes` limit."""
    return Problem(
        Location(source),
        f"document is {size} bytes, more than the limit of {max_bytes} bytes; not parsed",
    )


def read_tree(
    data: bytes, *, source: str, max_bytes: int, pause: Callable[[], None] | None = None
) -> Node:
    """Parse `data` into its root Node, or raise `DocumentInvalid` with one problem."""
    if len(data) > max_bytes:
        raise DocumentInvalid([too_big(source, len(data), max_bytes)])
    builder = _Builder(source)
    parser = DefusedXMLParser(target=builder, forbid_dtd=True)
    builder.expat = parser.parser
    try:
        for start in range(0, len(data), FEED_CHUNK_BYTES):
            if start and pause is not None:
                pause()
            parser.feed(data[start:start + FEED_CHUNK_BYTES])
        root = parser.close()
    except (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden) as exc:
        where = _doctype_start(data, builder) or builder.here()
        raise DocumentInvalid([Problem(where, _refusal(exc))]) from None
    except ParseError as exc:
        line, column = exc.position
        where = Location(source, line, column + 1)
        reason = _POSITION_SUFFIX.sub("", str(exc))
        raise DocumentInvalid([Problem(where, f"XML is not well-formed: {reason}")]) from None
    except (ValueError, LookupError) as exc:  # e.g. an encoding Python cannot decode
        raise DocumentInvalid([Problem(builder.here(), f"XML cannot be read: {exc}")]) from None
    assert root is not None, "expat refuses a document without an element"
    return root


def _doctype_start(data: bytes, builder: _Builder) -> Location | None:
    """Where `<!DOCTYPE` starts (expat reports the end of its name), for ASCII-based encodings."""
    end = builder.expat.CurrentByteIndex + 1 if builder.expat is not None else len(data)
    offset = data.rfind(b"<!DOCTYPE", 0, max(end, 0))
    if offset < 0:
        return None
    line_start = data.rfind(b"\n", 0, offset) + 1
    return Location(builder.source, data.count(b"\n", 0, offset) + 1, offset - line_start + 1)


def _refusal(exc: Exception) -> str:
    if isinstance(exc, DTDForbidden):
        return (
            f"a DTD (<!DOCTYPE {exc.name}>) is not allowed: entity declarations and external "
            "entities could expand without bound or read other files"
        )
    if isinstance(exc, EntitiesForbidden):
        return f"entity declarations are not allowed (<!ENTITY {exc.name}>)"
    return "external entities are not allowed"
