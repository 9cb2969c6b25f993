"""Where a document says something (`Location`) and what is wrong with it there (`Problem`).

A problem prints as one line, like a compiler's:
`answer.xml:14:5 <Conference> maxMembers: must be an integer 1..20 (got '500')`.
"""

from __future__ import annotations

import attrs

#: Longest part of an offending value a message repeats, in characters.
MAX_SHOWN_CHARS = 80


@attrs.frozen
class Location:
    """A place in a document: its source (file name or URL) and 1-based line and column.

    Line 0 means the problem concerns the document as a whole (its size, say).
    """

    source: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line:
            return f"{self.source}:{self.line}:{self.column}"
        return self.source


#: The location of models built in code rather than parsed from a document.
IN_CODE = Location("<built in code>")


@attrs.frozen
class Problem:
    """One reason a document cannot run: where, which element and attribute, and what."""

    where: Location
    message: str
    element: str | None = None
    attribute: str | None = None

    def __str__(self) -> str:
        head = str(self.where)
        if self.element is not None:
            head += f" <{self.element}>"
        if self.attribute is not None:
            head += f" {self.attribute}"
        return f"{head}: {self.message}"


def shown(value: str) -> str:
    """`value` as messages quote it: repr, cut to MAX_SHOWN_CHARS characters."""
    if len(value) > MAX_SHOWN_CHARS:
        return repr(value[:MAX_SHOWN_CHARS]) + f"... ({len(value)} characters)"
    return repr(value)
