"""Small builders for tests: documents and verbs placed at a known location."""

from __future__ import annotations

from plivoxml_fs.documents import Document, Location

#: Where test verbs say they are written.
HERE = Location("answer.xml", 1, 1)


def doc(verbs: tuple) -> Document:
    """A document of `verbs`, as parse_document would return for answer.xml."""
    return Document(verbs, source="answer.xml")
