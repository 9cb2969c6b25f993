"""Parse snippets the way the daemon does, for the documents tests."""

from __future__ import annotations

from plivoxml_fs.documents import DocumentInvalid, parse_document

SOURCE = "answer.xml"
MAX_BYTES = 64 * 1024


def parse(xml: str | bytes, *, max_bytes: int = MAX_BYTES):
    """The Document for `xml` (raises DocumentInvalid when it is not valid)."""
    data = xml.encode() if isinstance(xml, str) else xml
    return parse_document(data, source=SOURCE, max_bytes=max_bytes)


def only_verb(xml_element: str):
    """The single verb of `<Response>` holding `xml_element` on line 2, column 5."""
    document = parse(f"<Response>\n    {xml_element}\n</Response>")
    (verb,) = document.verbs
    return verb


def problems(xml: str | bytes, *, max_bytes: int = MAX_BYTES) -> list[str]:
    """Every problem line for an invalid `xml`; fails the test when it is valid."""
    try:
        parse(xml, max_bytes=max_bytes)
    except DocumentInvalid as exc:
        lines = str(exc).splitlines()
        assert lines == [str(problem) for problem in exc.problems]
        return lines
    raise AssertionError(f"expected DocumentInvalid for {xml!r}")


def verb_problems(xml_element: str) -> list[str]:
    """Problems of `<Response>` holding `xml_element` on line 2, column 5."""
    return problems(f"<Response>\n    {xml_element}\n</Response>")
