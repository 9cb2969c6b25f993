"""Reading bytes safely: the size cap, hostile XML (DTDs, entities) and malformed XML."""

from __future__ import annotations

from plivoxml_fs.documents import DocumentInvalid, Location, Problem

from .helpers import SOURCE, parse, problems

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<Response><Speak>&lol4;</Speak></Response>
"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Response><Speak>&xxe;</Speak></Response>
"""

DTD_REFUSED = (
    "a DTD (<!DOCTYPE {name}>) is not allowed: entity declarations and external entities "
    "could expand without bound or read other files"
)


def test_document_over_the_cap_is_refused_naming_its_size():
    """A document bigger than max_bytes is refused before parsing, naming size and limit."""
    data = b"<Response>" + b" " * 100 + b"</Response>"
    assert problems(data, max_bytes=50) == [
        f"{SOURCE}: document is {len(data)} bytes, more than the limit of 50 bytes; not parsed"
    ]


def test_document_exactly_at_the_cap_is_parsed():
    """A document of exactly max_bytes is accepted."""
    data = b"<Response><Hangup/></Response>"
    assert len(parse(data, max_bytes=len(data)).verbs) == 1


def test_the_cap_is_checked_before_parsing():
    """An oversized document is not parsed at all: malformed XML past the cap is not reported."""
    assert problems(b"<<<" * 40, max_bytes=100) == [
        f"{SOURCE}: document is 120 bytes, more than the limit of 100 bytes; not parsed"
    ]


def test_billion_laughs_is_refused_with_a_clear_error():
    """Entity expansion bombs never expand: the DTD holding them is refused, naming the source."""
    assert problems(BILLION_LAUGHS) == [f"{SOURCE}:2:1: " + DTD_REFUSED.format(name="lolz")]


def test_external_entity_is_refused():
    """An external entity (XXE) is refused before anything is read."""
    assert problems(EXTERNAL_ENTITY) == [f"{SOURCE}:2:1: " + DTD_REFUSED.format(name="r")]


def test_plain_doctype_is_refused():
    """Even an empty DOCTYPE is refused: documents have no use for one."""
    assert problems(b'<?xml version="1.0"?>\n<!DOCTYPE Response>\n<Response/>') == [
        f"{SOURCE}:2:1: " + DTD_REFUSED.format(name="Response")
    ]


def test_malformed_xml_reports_the_parser_line_and_column():
    """A mismatched tag is reported at expat's line and 1-based column (its closing name)."""
    xml = "<Response>\n    <Play>http://example.com/a.wav</Speak>\n</Response>"
    column = xml.splitlines()[1].index("Speak") + 1
    assert problems(xml) == [f"{SOURCE}:2:{column}: XML is not well-formed: mismatched tag"]


def test_undefined_entity_is_malformed():
    """An entity reference with no declaration is a well-formedness error at its position."""
    assert problems("<Response>\n  <Speak>&nope;</Speak>\n</Response>") == [
        f"{SOURCE}:2:10: XML is not well-formed: undefined entity"
    ]


def test_empty_document_is_malformed():
    """No bytes at all: no root element."""
    assert problems(b"") == [f"{SOURCE}:1:1: XML is not well-formed: no element found"]


def test_junk_after_the_root_is_malformed():
    """Anything after </Response> is an error."""
    assert problems("<Response/>\n<Response/>") == [
        f"{SOURCE}:2:1: XML is not well-formed: junk after document element"
    ]


def test_unknown_encoding_is_reported():
    """An encoding Python cannot decode is a problem, not a crash."""
    xml = b'<?xml version="1.0" encoding="klingon"?><Response/>'
    assert problems(xml) == [f"{SOURCE}:1:31: XML cannot be read: unknown encoding: klingon"]


def test_declared_encoding_is_honoured():
    """A Latin-1 document with its declaration parses, its text decoded."""
    xml = '<?xml version="1.0" encoding="ISO-8859-1"?><Response><Speak>caf\u00e9</Speak></Response>'
    (speak,) = parse(xml.encode("latin-1")).verbs
    assert speak.text == "caf\u00e9"


def test_document_invalid_lists_problems_one_per_line():
    """str(DocumentInvalid) is one line per problem, in order."""
    first = Problem(Location("a.xml", 1, 2), "bad", "Play", "loop")
    second = Problem(Location("a.xml"), "too big")
    exc = DocumentInvalid([first, second])
    assert str(exc) == "a.xml:1:2 <Play> loop: bad\na.xml: too big"
    assert exc.problems == (first, second)


def test_doctype_position_skips_a_mention_in_a_comment():
    """The DTD is located where it is declared, not where a comment mentions one."""
    xml = b'<?xml version="1.0"?>\n<!-- <!DOCTYPE no> -->\n  <!DOCTYPE Response>\n<Response/>'
    assert problems(xml) == [f"{SOURCE}:3:3: " + DTD_REFUSED.format(name="Response")]
