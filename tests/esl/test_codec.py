"""The sans-IO ESL codec: framing, header decoding, hostile input, round trips, real traces."""

from __future__ import annotations

import contextlib
import json
import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from esl import traces
from plivoxml_fs.errors import ProtocolError, UnsafeValue
from plivoxml_fs.esl import codec
from plivoxml_fs.esl.codec import (
    MAX_BODY_BYTES,
    MAX_HEADER_BYTES,
    CommandParser,
    MessageParser,
    encode_command,
    encode_event_json,
    encode_event_plain,
    encode_message,
    frame_event,
    parse_event_plain,
    url_encode,
)
from plivoxml_fs.esl.messages import Headers, Message, starting_with

BG_JOB_BODY = (
    b"Event-Name: BACKGROUND_JOB\nJob-UUID: job-1\nJob-Command: uuid_getvar\n"
    b"Job-Command-Arg: aleg-1%20hangup_after_conference\nContent-Length: 6\n\nfalse\n"
)
BG_JOB_PLAIN = b"Content-Length: %d\nContent-Type: text/event-plain\n\n%s" % (
    len(BG_JOB_BODY),
    BG_JOB_BODY,
)
EVENT_JSON_BODY = json.dumps(
    {"Event-Name": "BACKGROUND_JOB", "Job-UUID": "job-2", "_body": "+OK ok\n"}
).encode()

SAMPLES = {
    "command/reply": b"Content-Type: command/reply\nReply-Text: +OK accepted\n\n",
    "api/response": b"Content-Type: api/response\nContent-Length: 12\n\n+OK aleg-L1\n",
    "text/event-plain": BG_JOB_PLAIN,
    "text/event-json": b"Content-Length: %d\nContent-Type: text/event-json\n\n%s"
    % (len(EVENT_JSON_BODY), EVENT_JSON_BODY),
    "auth/request": b"Content-Type: auth/request\n\n",
    "linger": b"Content-Type: text/disconnect-notice\nControlled-Session-UUID: u1\n"
    b"Content-Disposition: linger\nChannel-Name: loopback/L1-b\nLinger-Time: 5\n"
    b"Content-Length: 0\n\n",
    "disconnect": b"Content-Type: text/disconnect-notice\nControlled-Session-UUID: u1\n"
    b"Content-Disposition: disconnect\nContent-Length: 67\n\n"
    b"Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n",
    "log/data": b"Content-Type: log/data\nContent-Length: 15\nLog-Level: 7\n\nhello log line\n",
}


def _check_sample(kind: str, message: Message) -> None:
    if kind == "command/reply":
        assert message.reply_text == "+OK accepted"
    elif kind == "api/response":
        assert message.body == b"+OK aleg-L1\n" and message.reply_text == "+OK aleg-L1"
    elif kind == "text/event-plain":
        event = message.event()
        assert event.name == "BACKGROUND_JOB"
        assert event["Job-Command-Arg"] == "aleg-1 hangup_after_conference"
        assert event.body == b"false\n" and event.get("Content-Length") is None
    elif kind == "text/event-json":
        event = message.event()
        assert event["Job-UUID"] == "job-2" and event.body_text == "+OK ok\n"
        assert event.get("_body") is None
    elif kind == "auth/request":
        assert message.content_type == "auth/request" and message.body == b""
    elif kind == "linger":
        assert message.get("Content-Disposition") == "linger" and message.body == b""
    elif kind == "disconnect":
        assert message.get("Content-Disposition") == "disconnect"
        assert message.body.startswith(b"Disconnected, goodbye.\n") and len(message.body) == 67
    elif kind == "log/data":
        assert message.get("Log-Level") == "7" and message.body == b"hello log line\n"


@pytest.mark.parametrize("kind", SAMPLES)
def test_message_fed_whole(kind):
    """Each message type parses from one feed with its headers and body."""
    parser = MessageParser()
    (message,) = parser.feed(SAMPLES[kind])
    _check_sample(kind, message)
    assert parser.buffered == 0


@pytest.mark.parametrize("kind", SAMPLES)
def test_message_fed_byte_by_byte(kind):
    """Each message type parses the same when it arrives one byte at a time."""
    parser = MessageParser()
    out = []
    data = SAMPLES[kind]
    for i in range(len(data)):
        got = parser.feed(data[i : i + 1])
        assert not got or i == len(data) - 1
        out += got
    (message,) = out
    _check_sample(kind, message)


@pytest.mark.parametrize("kind", SAMPLES)
def test_message_with_trailing_data(kind):
    """Bytes of the next message stay buffered until that message completes."""
    parser = MessageParser()
    tail = SAMPLES["api/response"]
    (message,) = parser.feed(SAMPLES[kind] + tail[:20])
    _check_sample(kind, message)
    assert parser.buffered == 20
    (second,) = parser.feed(tail[20:])
    assert second.body == b"+OK aleg-L1\n"


def test_all_types_in_one_stream():
    """Every sample concatenated parses into the same messages in order."""
    messages = MessageParser().feed(b"".join(SAMPLES.values()))
    assert len(messages) == len(SAMPLES)
    for kind, message in zip(SAMPLES, messages, strict=True):
        _check_sample(kind, message)


def test_value_split_on_first_colon_space_then_decoded():
    """An encoded colon or newline in a value never creates a header."""
    data = (
        b"Content-Type: command/reply\n"
        b"Reply-Text: +OK Job-UUID: j1\n"
        b"Caller-Name: Mallory%3A%20x%0AReply-Text%3A%20-ERR%0D%0A\n\n"
    )
    (message,) = MessageParser().feed(data)
    assert message.get("Reply-Text") == "+OK Job-UUID: j1"
    assert message.get("Caller-Name") == "Mallory: x\nReply-Text: -ERR\r\n"
    assert set(message.headers) == {"Content-Type", "Reply-Text", "Caller-Name"}


def test_event_values_split_then_decoded():
    """Inside a plain event too, %0A and %3A%20 stay inside their value."""
    event = parse_event_plain(b"Event-Name: CUSTOM\nX: a%0AEvent-Name%3A%20HACK\n\n")
    assert event.name == "CUSTOM" and event["X"] == "a\nEvent-Name: HACK"


def test_plus_is_not_a_space_and_bad_escapes_stay():
    """Decoding follows switch_url_decode: '+' stays, '%zz' stays, '%25' is '%'."""
    event = parse_event_plain(b"Event-Name: X\nA: 1+1\nB: 100%zz\nC: %2541\n\n")
    assert (event["A"], event["B"], event["C"]) == ("1+1", "100%zz", "%41")


def test_header_without_value():
    """A header with an empty value (`User-Data: ` or `User-Data:`) parses as empty."""
    (message,) = MessageParser().feed(b"Content-Type: x\nA: \nB:\n\n")
    assert message.get("A") == "" and message.get("B") == ""


def test_non_utf8_bytes_are_tolerated():
    """Latin-1 in a header or body never raises: headers get U+FFFD, bodies stay raw."""
    data = b"Content-Type: api/response\nX: caf\xe9\nContent-Length: 5\n\ncaf\xe9\n"
    (message,) = MessageParser().feed(data)
    assert message.get("X") == "caf\ufffd"
    assert message.body == b"caf\xe9\n" and message.reply_text == "caf\ufffd"
    event = parse_event_plain(b"Event-Name: X\nCaller-Name: Jos%E9\n\n")
    assert event["Caller-Name"] == "Jos\ufffd"


def test_crlf_framing_is_accepted():
    """A header block ended by CRLF CRLF parses like LF LF."""
    (message,) = MessageParser().feed(b"Content-Type: command/reply\r\nReply-Text: +OK\r\n\r\n")
    assert message.reply_text == "+OK"


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"Content-Type: x\nContent-Length: abc\n\n", "Content-Length is not a number ('abc')"),
        (b"Content-Type: x\nContent-Length: -5\n\n", "Content-Length is not a number ('-5')"),
        (
            "Content-Type: x\nContent-Length: １２\n\n".encode(),
            "Content-Length is not a number ('１２')",
        ),
        (
            b"Content-Type: x\nContent-Length: %d\n\n" % (MAX_BODY_BYTES + 1),
            f"Content-Length {MAX_BODY_BYTES + 1} exceeds {MAX_BODY_BYTES} bytes",
        ),
        (b"Content-Type x\n\n", "header line without ': ' ('Content-Type x')"),
        (b": value\nContent-Type: x\n\n", "header line with an empty name"),
        (b"Reply-Text: +OK\n\n", "no Content-Type header"),
    ],
)
def test_bad_messages_raise_protocol_error(data, error):
    """Malformed framing raises ProtocolError naming what is wrong."""
    with pytest.raises(ProtocolError) as info:
        MessageParser().feed(data)
    assert str(info.value) == f"ESL message: {error}"


def test_oversize_header_block():
    """A header block that never ends within MAX_HEADER_BYTES is refused."""
    parser = MessageParser()
    assert parser.feed(b"Content-Type: x\nPad: " + b"a" * (MAX_HEADER_BYTES - 100)) == []
    with pytest.raises(ProtocolError) as info:
        parser.feed(b"b" * 200)
    assert str(info.value) == f"ESL message: no end of header block within {MAX_HEADER_BYTES} bytes"


def test_parser_stays_broken():
    """After a ProtocolError the parser refuses further input with the same error."""
    parser = MessageParser()
    with pytest.raises(ProtocolError):
        parser.feed(b"garbage\n\n")
    with pytest.raises(ProtocolError, match="header line without"):
        parser.feed(SAMPLES["command/reply"])


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"{not json", "text/event-json body is not JSON"),
        (b"[1, 2]", "text/event-json body is not a JSON object"),
        (b"[" * 100_000, "text/event-json body is not JSON"),
    ],
)
def test_bad_json_events(body, error):
    """A text/event-json body that is not a JSON object raises ProtocolError."""
    (message,) = MessageParser().feed(frame_event(body, "text/event-json"))
    with pytest.raises(ProtocolError) as info:
        message.event()
    assert str(info.value).startswith(error)


def test_event_plain_body_shorter_than_its_length():
    """An event whose body is shorter than its own Content-Length raises ProtocolError."""
    with pytest.raises(ProtocolError) as info:
        parse_event_plain(b"Event-Name: X\nContent-Length: 10\n\nshort")
    assert str(info.value) == "event: body shorter (5) than its Content-Length (10)"


def test_non_event_message_has_no_event():
    """Asking an api/response for its event raises ProtocolError naming the type."""
    (message,) = MessageParser().feed(SAMPLES["api/response"])
    with pytest.raises(ProtocolError, match="message of type 'api/response' is not an event"):
        message.event()


def _exercise(messages: list[Message]) -> None:
    for message in messages:
        _ = (message.reply_text, message.content_type)
        if message.is_event:
            event = message.event()
            _ = (event.name, event.subclass, event.unique_id, event.body_text)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600), st.integers(min_value=1, max_value=64))
def test_any_bytes_give_messages_or_protocol_error(data, chunk):
    """Arbitrary bytes, in any chunking, yield messages or ProtocolError and nothing else."""
    parser = MessageParser()
    try:
        for i in range(0, len(data), chunk):
            _exercise(parser.feed(data[i : i + chunk]))
    except ProtocolError:
        pass


_framed = st.builds(
    lambda headers, body: (
        b"".join(b"%s: %s\n" % kv for kv in headers) + b"Content-Length: %d\n\n" % len(body) + body
    ),
    st.lists(
        st.tuples(
            st.sampled_from([b"Content-Type", b"Event-Name", b"X", b"Content-Length"]),
            st.sampled_from(
                [b"text/event-plain", b"text/event-json", b"command/reply", b"%0A", b"1", b""]
            ),
        ),
        max_size=4,
    ),
    st.binary(max_size=80),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_framed, max_size=4))
def test_nearly_valid_frames_give_messages_or_protocol_error(frames):
    """Plausible frames with random bodies never raise anything but ProtocolError."""
    with contextlib.suppress(ProtocolError):
        _exercise(MessageParser().feed(b"".join(frames)))


_names = st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,20}", fullmatch=True).filter(
    lambda n: n.lower() != "content-length"
)
_values = st.text(max_size=40).filter(lambda v: not re.search("%[0-9A-Fa-f]{2}", v))


def _unique(pairs):
    return list(dict(pairs).items())


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_names, _values), max_size=8).map(_unique), st.binary(max_size=200))
def test_message_round_trip(headers, body):
    """encode_message(urlencode=True) then MessageParser gives back the headers and body.

    Values holding `%XX` are left out: FreeSWITCH's encoder keeps them as they are, so they
    do not survive a round trip there either.
    """
    headers = [(n, v) for n, v in headers if n.lower() != "content-type"]
    items = [("Content-Type", "api/response"), *headers]
    (message,) = MessageParser().feed(encode_message(items, body, urlencode=True))
    expected = dict(items)
    if body:
        expected["Content-Length"] = str(len(body))
    assert message.headers == expected and message.body == body


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(_names, _values), max_size=8).map(_unique),
    st.binary(max_size=200),
    st.sampled_from(["plain", "json"]),
)
def test_event_round_trip(headers, body, kind):
    """An event encoded as plain or json, framed and parsed, gives back headers and body."""
    if kind == "plain":
        framed = frame_event(encode_event_plain(headers, body))
    else:
        body = body.decode("utf-8", "replace").encode()
        headers = [(n, v) for n, v in headers if n != "_body"]
        framed = frame_event(encode_event_json(headers, body), "text/event-json")
    (message,) = MessageParser().feed(framed)
    event = message.event()
    expected = dict(headers)
    if kind == "json" and body:
        expected["Content-Length"] = str(len(body))
    assert dict(event.headers) == expected and event.body == body


_line_text = st.text(
    st.characters(blacklist_characters="\r\n\0", blacklist_categories=("Cs",)), min_size=1
).filter(lambda s: s == s.strip() and s.strip())


@settings(max_examples=200, deadline=None)
@given(
    _line_text,
    st.lists(
        st.tuples(
            _names,
            st.text(st.characters(blacklist_characters="\r\n\0", blacklist_categories=("Cs",))),
        ),
        max_size=6,
    ).map(_unique),
    st.none() | st.binary(max_size=200),
)
def test_command_round_trip(line, headers, body):
    """encode_command then CommandParser gives back the line, headers and body."""
    (command,) = CommandParser().feed(encode_command(line, headers, body))
    assert command.line == line
    expected = dict(headers)
    if body is not None:
        expected["content-length"] = str(len(body))
    assert dict(command.headers) == expected
    assert command.body == (body or b"")


@pytest.mark.parametrize(
    ("line", "headers", "error"),
    [
        ("api status\n\nexit", (), "command contains CR, LF or NUL: 'api status\\n\\nexit'"),
        ("api status\r", (), "command contains CR, LF or NUL"),
        ("api st\0atus", (), "command contains CR, LF or NUL"),
        ("sendmsg", [("execute-app-arg", "a\nb")], "header execute-app-arg contains CR, LF"),
        ("sendmsg", [("bad\nname", "x")], "header name contains CR, LF or NUL"),
        ("sendmsg", [("bad:name", "x")], "bad header name 'bad:name'"),
        ("sendmsg", [("", "x")], "bad header name ''"),
        ("api a\ud800", (), "command 'api a\\ud800': text is not encodable as UTF-8"),
        ("sendmsg", [("X", "\udcff")], "command 'sendmsg': text is not encodable as UTF-8"),
    ],
)
def test_encode_command_refuses_injection(line, headers, error):
    """CR, LF or NUL anywhere on a command's lines raises UnsafeValue."""
    with pytest.raises(UnsafeValue) as info:
        encode_command(line, headers)
    assert str(info.value).startswith(error)


def test_encode_command_body_length_is_in_bytes():
    """A non-ASCII body gets a content-length counted in bytes."""
    body = "Grüße 日本".encode()
    data = encode_command("sendmsg", [("content-type", "text/plain")], body)
    assert data == b"sendmsg\ncontent-type: text/plain\ncontent-length: 14\n\n" + body


def test_url_encode_matches_freeswitch_trace():
    """url_encode produces the encodings recorded from FreeSWITCH."""
    assert url_encode("+OK\n") == "%2BOK%0A"
    assert url_encode("tone_stream://%(300,0,440)") == "tone_stream%3A//%25(300,0,440)"
    assert url_encode("2001:db8::10") == "2001%3Adb8%3A%3A10"
    assert url_encode("Tue, 24 Nov 2026") == "Tue,%2024%20Nov%202026"


def test_url_encode_keeps_only_upper_case_escapes_as_freeswitch():
    """An upper-case %XX is kept, a lower-case one and a stray % are encoded (probe-urls.txt)."""
    assert url_encode("a%2Bb+c") == "a%2Bb%2Bc"
    assert url_encode("low=%2b") == "low%3D%252b"
    assert url_encode("100%") == "100%25"


# ---- pinning against the recorded FreeSWITCH 1.10.12 traces ---------------------------------


def _messages(trace: str, conn: str) -> list[Message]:
    parser = MessageParser()
    stream = b"".join(e.data for e in traces.incoming(trace, conn))
    messages = parser.feed(stream)
    assert parser.buffered == 0
    return messages


def test_lifecycle_connect_reply_is_decoded():
    """The connect reply's URL-encoded Reply-Text decodes to +OK and carries channel data."""
    connect = _messages("lifecycle.txt", "outbound-1")[0]
    assert connect.content_type == "command/reply"
    assert connect.get("Reply-Text") == "+OK\n" and connect.reply_text == "+OK"
    assert connect.get("Unique-ID") == "fb118d4e-457b-4ae3-ba78-63b3e536d86f"
    assert connect.get("FreeSWITCH-IPv6") == "2001:db8::10"
    assert connect.get("variable_current_application_data") == "127.0.0.1:8084 async full"
    assert connect.get("Socket-Mode") == "async" and connect.get("Control") == "full"


def test_lifecycle_background_job_bodies():
    """BACKGROUND_JOB events keep their result body separate from their headers."""
    events = [m.event() for m in _messages("lifecycle.txt", "outbound-1") if m.is_event]
    jobs = [e for e in events if e.name == "BACKGROUND_JOB"]
    assert [(j["Job-UUID"], j.body) for j in jobs] == [("job-L1", b"false")]
    assert jobs[0]["Job-Command-Arg"] == (
        "fb118d4e-457b-4ae3-ba78-63b3e536d86f hangup_after_conference"
    )


def test_lifecycle_execute_complete_carries_event_uuid():
    """CHANNEL_EXECUTE_COMPLETE echoes the Event-UUID we sent as Application-UUID."""
    events = [m.event() for m in _messages("lifecycle.txt", "outbound-1") if m.is_event]
    done = {e["Application-UUID"]: e for e in events if e.name == "CHANNEL_EXECUTE_COMPLETE"}
    assert {"ans-L1", "play-L1", "conf-L1"} <= set(done)
    assert done["play-L1"]["Application-Data"] == "tone_stream://%(300,0,440)"
    assert done["play-L1"]["Application-Response"] == "FILE PLAYED"


def test_lifecycle_disconnect_notices():
    """The outbound socket gets a linger notice, more events, then the final notice."""
    messages = _messages("lifecycle.txt", "outbound-1")
    notices = [m for m in messages if m.content_type == "text/disconnect-notice"]
    assert [n.get("Content-Disposition") for n in notices] == ["linger", "disconnect"]
    assert notices[1].body.startswith(b"Disconnected, goodbye.")
    assert messages[-1] is notices[1]
    between = messages[messages.index(notices[0]) + 1 : -1]
    assert "CHANNEL_HANGUP_COMPLETE" in [m.event().name for m in between if m.is_event]


def test_lifecycle_inbound_api_and_events():
    """On the inbound connection api/response bodies and maintenance events parse."""
    messages = _messages("lifecycle.txt", "in")
    assert messages[0].content_type == "auth/request"
    assert messages[1].reply_text == "+OK accepted"
    bodies = [m.body for m in messages if m.content_type == "api/response"]
    assert b"+OK aleg-L1\n" in bodies
    actions = {
        m.event()["Action"]
        for m in messages
        if m.is_event and m.event().subclass == "conference::maintenance"
    }
    assert {"conference-create", "add-member", "del-member", "conference-destroy"} <= actions


@pytest.mark.parametrize("trace", ["basic.txt", "flags.txt", "media.txt", "record.txt"])
def test_every_recorded_message_parses(trace):
    """Every message of the recorded traces parses, whole and its events too."""
    total = 0
    for conn in {e.conn for e in traces.incoming(trace)}:
        messages = _messages(trace, conn)
        _exercise(messages)
        total += len(messages)
    assert total == len(traces.incoming(trace))


def test_recorded_stream_byte_by_byte():
    """A whole recorded outbound connection fed one byte at a time gives the same messages."""
    stream = b"".join(e.data for e in traces.incoming("lifecycle.txt", "outbound-2"))
    parser = MessageParser()
    out = []
    for i in range(len(stream)):
        out += parser.feed(stream[i : i + 1])
    assert out == _messages("lifecycle.txt", "outbound-2")


def test_recorded_commands_parse():
    """Every command we recorded sending parses with CommandParser and re-encodes identically."""
    for entry in traces.outgoing("lifecycle.txt"):
        (command,) = CommandParser().feed(entry.data)
        headers = [(k, v) for k, v in command.headers.items() if k != "content-length"]
        body = command.body if command.get("content-length") is not None else None
        assert encode_command(command.line, headers, body) == entry.data


_block_bytes = st.lists(
    st.sampled_from([b"A", b"b", b"-", b":", b" ", b": ", b"%", b"%0A", b"%3A", b"%e2", b"%ZZ",
                     b"\xc3\xa9", b"\xe2\x82", b"\xff", b"+", b"\r", b"\n", b"\r\n"]),
    max_size=40,
).map(b"".join)


@settings(max_examples=500, deadline=None)
@given(_block_bytes, st.booleans(), st.booleans())
def test_text_path_splits_and_decodes_as_the_byte_path(block, urldecode, lazy):
    """Any header block parses as splitting its bytes on the first ': ' and then decoding each
    value (at once, or on read) would: same headers, or the same ProtocolError."""
    def outcome(parse, **lazy_arg):
        try:
            return dict(parse(block, urldecode=urldecode, what="x", **lazy_arg))
        except ProtocolError as exc:
            return str(exc)

    expected = outcome(codec._parse_header_bytes)
    assert outcome(codec._parse_header_block, lazy=lazy) == expected


def test_event_values_decode_when_read():
    """An event's encoded value is decoded on access; an encoded LF stays inside its value."""
    event = parse_event_plain(b"Event-Name: X\nA: 1%0AB%3A%202\nC: caf%C3%A9%FF\n\n")
    assert event["A"] == "1\nB: 2" and "B" not in event.headers
    assert event.get("C") == "caf\u00e9\ufffd" and event.get("D", "none") == "none"
    assert dict(event.headers) == {"Event-Name": "X", "A": "1\nB: 2", "C": "caf\u00e9\ufffd"}


@settings(max_examples=500, deadline=None)
@given(_block_bytes)
@example(b"A: b: c\nA: b")  # a value holding ': ' (so `A: b` is no name), a repeated name
@example(b"A: b: c")  # ... and `without("A: b")` keeps the line
def test_event_headers_looked_up_in_the_text_are_the_split_ones(block):
    """An event body's headers kept as text (looked up, split only when iterated) give what
    splitting the bytes gives, for every name read, and read again (the decoded value is
    remembered), and for names absent; a block that cannot be split raises the same
    ProtocolError."""
    try:
        expected = dict(codec._parse_header_bytes(block, urldecode=True, what="event"))
    except ProtocolError as exc:
        with pytest.raises(ProtocolError) as raised:
            codec._event_headers(block)
        assert str(raised.value) == str(exc)
        return
    headers = codec._event_headers(block)
    for name, value in expected.items():
        assert headers.get(name) == value and headers[name] == value and name in headers
    for absent in ("Absent", "A: b", "A\nb", ""):
        if absent not in expected:
            assert headers.get(absent) is None and absent not in headers
            assert headers.get(absent, "-") == "-"
    assert dict(headers) == expected and len(headers) == len(expected)
    for name in list(expected)[:3] + ["Absent", "A: b"]:
        fresh = codec._event_headers(block)  # not yet split (dict() above split `headers`)
        if isinstance(fresh, Headers):
            less = fresh.without(name)
            assert dict(less) == {k: v for k, v in expected.items() if k != name}
            assert less.get(name) is None and name not in less
    # the names by prefix, in the text's order, as filtering the split headers gives them
    for prefix in {name[:n] for name in expected for n in (1, 2)} | {"A", "x", "."}:
        wanted = [(k, v) for k, v in expected.items() if k.startswith(prefix)]
        assert list(starting_with(headers, (prefix,)).items()) == wanted
        assert list(starting_with(Headers(dict(expected)), (prefix,)).items()) == [
            (k, v) for k, v in Headers(dict(expected)).items() if k.startswith(prefix)]


def test_headers_by_prefix_name_a_line_up_to_its_first_separator():
    """A value holding ': ' is no part of the name, a repeated name comes once with its last
    value where it first stood, and only names that start with a prefix are given."""
    event = parse_event_plain(b"Ax: 1\nB: x: y\nAx: 2%20z\nC-A: 3\nAb: : q\n\n")
    assert isinstance(event.headers, Headers) and event.headers._map is None
    assert list(event.starting_with("A", "B").items()) == [
        ("Ax", "2 z"), ("B", "x: y"), ("Ab", ": q")]
    assert event.starting_with("B: x") == {} and event.starting_with("B:") == {}
    assert event.starting_with("C-") == {"C-A": "3"} and event.starting_with("Ab") == {"Ab": ": q"}
    assert event.get("B: x") is None and "B: x" not in event.headers  # not a name: a value's
    assert list(event.starting_with("A", "B").items()) == [
        (k, v) for k, v in dict(event.headers).items() if k.startswith(("A", "B"))]


def test_large_message_blocks_are_kept_as_text_and_read_as_split():
    """A connect reply's channel data (a block over TEXT_HEADERS_FROM) is looked up in its text
    and reads as splitting it gives; without its Reply-Text it stays text; a malformed line in
    such a block is the same ProtocolError, naming the message."""
    raw = next(e.data for e in traces.incoming("lifecycle.txt")
               if b"Unique-ID" in e.data and b"command/reply" in e.data)
    [reply] = MessageParser().feed(raw)
    assert isinstance(reply.headers, Headers) and reply.headers._map is None
    channel = reply.headers.without("Reply-Text")
    block = raw[: raw.find(b"\n\n")]
    split = codec._parse_header_block(block, urldecode=True, what="x")
    assert len(block) > codec.TEXT_HEADERS_FROM and dict(reply.headers) == split
    assert channel._map is None and "Reply-Text" in split and "Reply-Text" not in channel
    assert dict(channel) == {k: v for k, v in split.items() if k != "Reply-Text"}
    bad = block + b"\nno separator here\n\n"
    with pytest.raises(ProtocolError, match="ESL message: header line without ': '"):
        MessageParser().feed(bad)


def test_recorded_events_read_alike_lazily_and_split():
    """Every event recorded from FreeSWITCH 1.10.12 reads the same through the text lookup as
    split at once, header by header, the last of a repeated name included."""
    events = 0
    for name in ("lifecycle.txt", "basic.txt", "media.txt"):
        for message in (m for e in traces.incoming(name) for m in MessageParser().feed(e.data)):
            if not message.is_event:
                continue
            end = message.body.find(b"\n\n")
            block = message.body if end == -1 else message.body[:end]
            split = codec._parse_header_block(block, urldecode=True, what="event")
            lazy = codec._event_headers(block)
            assert isinstance(lazy, Headers) and lazy._map is None  # no split needed
            assert all(lazy.get(key) == value for key, value in split.items())
            assert dict(lazy) == split
            prefixes = ("variable_sip_h_", "Caller-", "variable_")
            assert list(lazy.starting_with(prefixes).items()) == [
                (k, v) for k, v in split.items() if k.startswith(prefixes)]
            events += 1
    assert events > 100
