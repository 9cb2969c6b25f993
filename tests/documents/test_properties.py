"""Hypothesis: whatever attribute values or bytes arrive, only DocumentInvalid is ever raised."""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plivoxml_fs.documents import VERBS, DocumentInvalid, parse_document
from plivoxml_fs.documents.build import SHAPES

#: Characters XML 1.0 can carry in an attribute (no NUL, no surrogates, no other C0 controls).
XML_CHARS = st.characters(
    blacklist_categories=("Cs",),
    blacklist_characters=[chr(c) for c in range(0x20) if c not in (0x9, 0xA, 0xD)] + ["\ufffe",
                                                                                      "\uffff"],
)
#: Values near the valid ones: digits, booleans in odd spellings, URL-ish and DTMF-ish text.
NEAR = st.sampled_from(
    ["true", "false", "True", "1", "0", "-1", "20", "21", "86400", "GET", "post", "mp3",
     "beep:1", "none", "", " ", "https://example.com/a", "http://[::1", "ws://x/y", "1,2,#",
     "{}", '{"X-A": "b"}', "Agent", "ai-agent", "mpc-state-changes", "99999999999999999999"]
)
VALUES = st.one_of(NEAR, st.text(XML_CHARS, max_size=40))
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def element(name: str, attributes: dict[str, str], text: str) -> str:
    attrs_text = "".join(f" {key}={quoteattr(value)}" for key, value in attributes.items())
    body = text.replace("&", "&amp;").replace("<", "&lt;")
    return f"<{name}{attrs_text}>{body}</{name}>"


@st.composite
def verbs(draw):
    name = draw(st.sampled_from(sorted(VERBS)))
    known = sorted(SHAPES[name].attributes)
    keys = draw(st.lists(st.sampled_from(known + ["bogus"]), max_size=6, unique=True))
    attributes = {key: draw(VALUES) for key in keys}
    return element(name, attributes, draw(VALUES))


@FAST
@given(st.lists(verbs(), max_size=4))
def test_random_attribute_values_only_raise_document_invalid(elements):
    """Random values for real attributes give a Document or DocumentInvalid, nothing else."""
    data = ("<Response>" + "".join(elements) + "</Response>").encode()
    try:
        document = parse_document(data, source="h.xml", max_bytes=1 << 20)
    except DocumentInvalid as exc:
        assert exc.problems and all(str(p).startswith("h.xml") for p in exc.problems)
        assert all("\n" not in str(p) for p in exc.problems)
    else:
        for verb in document.verbs:
            assert attrs.has(type(verb))


@FAST
@given(st.binary(max_size=300))
def test_random_bytes_only_raise_document_invalid(data):
    """Arbitrary bytes never crash the parser."""
    try:
        parse_document(b"<Response>" + data + b"</Response>", source="b.xml", max_bytes=4096)
    except DocumentInvalid as exc:
        assert exc.problems
