"""Plivo XML documents: safe parsing, validation of every verb's attributes, frozen models.

`parse_document(data, source=..., max_bytes=...)` returns a `Document` or raises
`DocumentInvalid` listing every problem; `check_paths` backs `plivoxml-fs check`.
"""

from plivoxml_fs.documents.build import VERBS, parse_document
from plivoxml_fs.documents.check import check_paths
from plivoxml_fs.documents.models import (
    Conference,
    Document,
    Hangup,
    MultiPartyCall,
    Play,
    PreAnswer,
    Redirect,
    Speak,
    Wait,
)
from plivoxml_fs.documents.problems import Location, Problem
from plivoxml_fs.errors import DocumentInvalid

__all__ = [
    "VERBS",
    "Conference",
    "Document",
    "DocumentInvalid",
    "Hangup",
    "Location",
    "MultiPartyCall",
    "Play",
    "PreAnswer",
    "Problem",
    "Redirect",
    "Speak",
    "Wait",
    "check_paths",
    "parse_document",
]
