"""Where a document says something (`Location`) and what is wrong with it there (`Problem`).

A problem prints as one line, like a compiler's:
`answer.xml:14:5 <Conference> maxMembers: must be an integer 1..20 (got '500')`.
`Problems` gathers them while a document is validated: the first MAX_PROBLEMS are kept, the
rest only counted, so a document of 60,000 unknown elements costs a bounded report ("... and
59980 more problems"), not one line per element.
"""

from __future__ import annotations

import attrs

#: Longest part of an offending value a message repeats, in characters.
MAX_SHOWN_CHARS = 80
#: Problems (and, separately, warnings) a report lists; past these they are only counted.
MAX_PROBLEMS = 20


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


class Problems:
    """Problems found so far, in document order: the first `limit` kept, the rest counted.

    `len()` is the total; `full` says a new problem would only be counted, so callers can skip
    building a message nobody will read.
    """

    def __init__(self, limit: int = MAX_PROBLEMS) -> None:
        self.limit = limit
        self.kept: list[Problem] = []
        self.more = 0

    def __len__(self) -> int:
        return len(self.kept) + self.more

    @property
    def full(self) -> bool:
        return len(self.kept) >= self.limit

    def add(self, problem: Problem) -> None:
        if self.full:
            self.more += 1
        else:
            self.kept.append(problem)

    def count(self) -> None:
        """One more problem, not described (the report is full)."""
        self.more += 1


def more_line(source: str, more: int, kind: str = "problems") -> str:
    """The line that ends a cut report: how many were left out."""
    return f"{source}: and {more} more {kind} (only the first {MAX_PROBLEMS} are listed)"
