"""Tests for plivoxml_fs.logs: JSON and text lines, bound context, phone and secret redaction."""

from __future__ import annotations

import io
import json
import logging
import re
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plivoxml_fs.errors import ConfigError
from plivoxml_fs.logs import (
    MAX_MESSAGE_CHARS,
    NUMBERS_EXTRA,
    JsonFormatter,
    TextFormatter,
    bind,
    call_numbers,
    redact_text,
    setup_logging,
)

# 2023-11-14T22:13:20.250Z
CREATED = 1_700_000_000.25
TS = "2023-11-14T22:13:20.250Z"


def record(msg, *args, level=logging.INFO, name="plivoxml_fs.call", **extra):
    """A LogRecord made the way Logger.makeRecord makes one, with a fixed creation time."""
    rec = logging.LogRecord(name, level, "driver.py", 10, msg, args, None)
    rec.created = CREATED
    for key, value in extra.items():
        setattr(rec, key, value)
    return rec


@pytest.fixture
def captured():
    """setup_logging into a StringIO; yields a function returning the lines written so far."""
    stream = io.StringIO()
    root = logging.getLogger()
    saved_level, saved_handlers = root.level, list(root.handlers)

    def lines():
        return stream.getvalue().splitlines()

    lines.stream = stream
    yield lines
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)


# --- JSON layout -------------------------------------------------------------------------------


def test_json_line_has_fixed_fields_then_context_in_order():
    """A JSON line holds ts, level, logger, msg, then call_uuid, conference, event, verb."""
    rec = record("joined %s", "room1", verb="Conference", event="add-member",
                 conference="room1", call_uuid="u-1")
    assert JsonFormatter().format(rec) == (
        '{"ts":"' + TS + '","level":"INFO","logger":"plivoxml_fs.call","msg":"joined room1",'
        '"call_uuid":"u-1","conference":"room1","event":"add-member","verb":"Conference"}'
    )


def test_json_line_without_extras_has_only_the_fixed_fields():
    """A record with no extras is exactly ts, level, logger and msg."""
    assert JsonFormatter().format(record("stopped", name="plivoxml_fs.service")) == (
        '{"ts":"' + TS + '","level":"INFO","logger":"plivoxml_fs.service","msg":"stopped"}'
    )


def test_json_other_extras_follow_the_context_sorted_by_name():
    """Extras that are not context fields come after them, sorted, with their JSON types."""
    rec = record("delivered", zeta=2, alpha=[1, "a"], call_uuid="u-1")
    assert JsonFormatter().format(rec) == (
        '{"ts":"' + TS + '","level":"INFO","logger":"plivoxml_fs.call","msg":"delivered",'
        '"call_uuid":"u-1","alpha":[1,"a"],"zeta":2}'
    )


def test_json_keeps_non_ascii_text_readable():
    """Non-ASCII text is written as itself, not as \\u escapes."""
    line = JsonFormatter().format(record("speak %s", "Grüße"))
    assert '"msg":"speak Grüße"' in line


def test_json_exception_goes_in_exc_field_one_line():
    """A traceback is one `exc` string and the output stays one physical line."""
    try:
        raise RuntimeError("bad thing")
    except RuntimeError:
        rec = record("handler failed")
        rec.exc_info = sys.exc_info()
    line = JsonFormatter().format(rec)
    assert "\n" not in line
    data = json.loads(line)
    assert data["msg"] == "handler failed"
    assert data["exc"].startswith("Traceback (most recent call last):")
    assert data["exc"].endswith("RuntimeError: bad thing")


# --- text layout -------------------------------------------------------------------------------


def test_text_line_with_context():
    """Text is `ts LEVEL logger [k=v ...] msg`."""
    rec = record("playing %s", "beep.wav", level=logging.WARNING, call_uuid="u-1", verb="Play")
    assert TextFormatter().format(rec) == (
        f"{TS} WARNING plivoxml_fs.call [call_uuid=u-1 verb=Play] playing beep.wav"
    )


def test_text_line_without_context_has_no_brackets():
    """Without extras the text line is `ts LEVEL logger msg`."""
    assert TextFormatter().format(record("listening")) == (
        f"{TS} INFO plivoxml_fs.call listening"
    )


def test_text_non_string_extras_are_json():
    """A non-string extra is shown as JSON in the text layout."""
    rec = record("retry", attempts=3, params={"a": "b"})
    assert TextFormatter().format(rec) == (
        f'{TS} INFO plivoxml_fs.call [attempts=3 params={{"a": "b"}}] retry'
    )


# --- setup_logging -----------------------------------------------------------------------------


def test_setup_logging_writes_json_lines_at_level_and_above(captured):
    """setup_logging("INFO") writes INFO and above, one JSON object per line, DEBUG dropped."""
    setup_logging("INFO", stream=captured.stream)
    log = logging.getLogger("plivoxml_fs.test")
    log.debug("hidden")
    log.info("shown %d", 1)
    log.error("also shown")
    lines = [json.loads(line) for line in captured()]
    assert [(d["level"], d["msg"]) for d in lines] == [("INFO", "shown 1"), ("ERROR", "also shown")]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", d["ts"]) for d in lines)
    assert all(d["logger"] == "plivoxml_fs.test" for d in lines)


def test_setup_logging_text(captured):
    """json=False writes the readable layout."""
    setup_logging("DEBUG", json=False, stream=captured.stream)
    logging.getLogger("plivoxml_fs.test").debug("hello", extra={"call_uuid": "u-9"})
    (line,) = captured()
    assert re.fullmatch(r"\S+Z DEBUG plivoxml_fs\.test \[call_uuid=u-9\] hello", line)


def test_setup_logging_twice_replaces_its_handler(captured):
    """Calling setup_logging again does not duplicate lines."""
    setup_logging("INFO", stream=captured.stream)
    setup_logging("INFO", stream=captured.stream)
    logging.getLogger("plivoxml_fs.test").info("once")
    assert len(captured()) == 1


def test_setup_logging_keeps_child_debug_off_the_stream(captured):
    """A child logger turned to DEBUG (as replay does) still cannot push DEBUG to the stream."""
    setup_logging("CRITICAL", stream=captured.stream)
    child = logging.getLogger("plivoxml_fs.test.child")
    child.setLevel(logging.DEBUG)
    try:
        child.debug("noise")
        child.error("still below CRITICAL")
    finally:
        child.setLevel(logging.NOTSET)
    assert captured() == []


@pytest.mark.parametrize("bad", ["info", "VERBOSE", "", 5, True, None])
def test_setup_logging_rejects_unknown_levels(bad):
    """Only DEBUG..CRITICAL (upper case) or their numbers are levels; the error names the value."""
    with pytest.raises(ConfigError) as err:
        setup_logging(bad)
    assert str(err.value) == (
        f"log level must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL (got {bad!r})"
    )


def test_setup_logging_accepts_level_numbers(captured):
    """A standard level number works like its name."""
    setup_logging(logging.WARNING, stream=captured.stream)
    logging.getLogger("plivoxml_fs.test").info("no")
    logging.getLogger("plivoxml_fs.test").warning("yes")
    assert [json.loads(line)["msg"] for line in captured()] == ["yes"]


# --- bind --------------------------------------------------------------------------------------


def test_bind_adds_context_to_every_record(captured):
    """A bound logger puts its context on each record."""
    setup_logging("INFO", stream=captured.stream)
    log = bind(logging.getLogger("plivoxml_fs.call"), call_uuid="u-1", conference="room")
    log.info("a")
    log.warning("b")
    lines = [json.loads(line) for line in captured()]
    assert [(d["msg"], d["call_uuid"], d["conference"]) for d in lines] == [
        ("a", "u-1", "room"),
        ("b", "u-1", "room"),
    ]


def test_bind_merges_call_extras_and_they_win(captured):
    """extra= on one call adds to the bound context and overrides a bound key."""
    setup_logging("INFO", stream=captured.stream)
    log = bind(logging.getLogger("plivoxml_fs.call"), call_uuid="u-1", verb="Play")
    log.info("x", extra={"verb": "Speak", "event": "CHANNEL_EXECUTE_COMPLETE"})
    data = json.loads(captured()[0])
    assert (data["call_uuid"], data["event"], data["verb"]) == (
        "u-1", "CHANNEL_EXECUTE_COMPLETE", "Speak",
    )


def test_bind_on_an_adapter_extends_its_context(captured):
    """Binding a bound logger keeps the old context and adds the new keys."""
    setup_logging("INFO", stream=captured.stream)
    call_log = bind(logging.getLogger("plivoxml_fs.call"), call_uuid="u-1")
    verb_log = bind(call_log, verb="Wait")
    verb_log.info("waiting")
    call_log.info("back")
    lines = [json.loads(line) for line in captured()]
    assert [d.get("verb") for d in lines] == ["Wait", None]
    assert [d["call_uuid"] for d in lines] == ["u-1", "u-1"]


# --- phone numbers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("from +14155550100", "from ***0100"),
        ("from 14155550100", "from ***0100"),
        ("To=4155550100&From=442071838750", "To=***0100&From=***8750"),
        ("dial sip:14155550100@pbx.example.com", "dial sip:***0100@pbx.example.com"),
        ("caller 415555.", "caller ***5555."),
        ("number (123456)", "number (***3456)"),
    ],
)
def test_phone_numbers_are_masked_to_their_last_four_digits(text, shown):
    """6 to 15 digits standing alone, with or without +, keep only the last 4 digits."""
    assert redact_text(text, phones=True) == shown


@pytest.mark.parametrize(
    "text",
    [
        "sip:1001@pbx",  # a short extension
        "uuid 12345678-1234-1234-1234-123456789012",  # UUID segments
        "to 10.0.0.1:8084",  # address and port
        "took 1.234567 s",  # a decimal
        "ratio 1234567.5",
        "id abc1234567",  # part of a word
        "long 1234567890123456",  # 16 digits: not a phone number
        "12345 is five digits",
    ],
)
def test_things_that_are_not_phone_numbers_are_kept(text):
    """Extensions, UUIDs, addresses, decimals, words and over-long ids are left alone."""
    assert redact_text(text, phones=True) == text


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("conference conf_14155550100 reached its time limit of 1 s",
         "conference conf_***0100 reached its time limit of 1 s"),
        ("conference conf-14155550100 ended", "conference conf-***0100 ended"),
        ("conference conf.14155550100 ended", "conference conf.***0100 ended"),
        ("room 14155550100-sales", "room ***0100-sales"),
        ("call from 415-555-0100 failed", "call from ***0100 failed"),
        ("to +1 415.555.0100 now", "to ***0100 now"),
        ("to (415) 555-0100 now", "to ***0100 now"),
        ("GET /answer?From=%2B14155550100&To=%2b4155550111",
         "GET /answer?From=%2B***0100&To=%2b***0111"),
    ],
)
def test_phone_numbers_joined_to_names_or_in_groups_are_masked(text, shown):
    """Numbers in room names (after _, -, .), dashed or dotted groups and %2B-encoded are masked."""
    assert redact_text(text, phones=True) == shown


@pytest.mark.parametrize(
    "text",
    [
        "cannot fetch the document: POST http://app/doc: larger than 262144 bytes",
        "Content-Length 999999 exceeds 8864 bytes",
        "must be a URL of at most 2048 characters (got 'http://a'... (200017 characters))",
        "max_document_bytes = 262144",
        "RecordingStartMs=1700000000250",
        "waited 1500000 ms",
        "a line [cut at 8192 of 9547492 characters]",
    ],
)
def test_sizes_and_limits_stay_readable(text):
    """A number with its unit, a Content-Length or a value named with its unit is not a phone."""
    assert redact_text(text, phones=True) == text


def test_phone_numbers_are_kept_at_debug(captured):
    """At DEBUG the full number is logged; the same record at INFO is masked."""
    setup_logging("DEBUG", stream=captured.stream)
    log = logging.getLogger("plivoxml_fs.call")
    log.debug("from %s", "+14155550100", extra={"caller": "14155550100"})
    log.info("from %s", "+14155550100", extra={"caller": "14155550100"})
    debug, info = (json.loads(line) for line in captured())
    assert (debug["msg"], debug["caller"]) == ("from +14155550100", "14155550100")
    assert (info["msg"], info["caller"]) == ("from ***0100", "***0100")


def test_phone_numbers_in_nested_extras_and_tracebacks_are_masked():
    """Numbers inside mappings (keys too), lists and exception text are masked above DEBUG."""
    try:
        raise ValueError("bad caller 14155550100")
    except ValueError:
        rec = record("x", params={"From": "+14155550100", "legs": ["sip:4155550111@h"]})
        rec.exc_info = sys.exc_info()
        rec.calls = {"14155550100": "up"}
    data = json.loads(JsonFormatter().format(rec))
    assert data["params"] == {"From": "***0100", "legs": ["sip:***0111@h"]}
    assert data["calls"] == {"***0100": "up"}
    assert data["exc"].endswith("ValueError: bad caller ***0100")


def test_the_record_itself_is_not_changed():
    """Redaction happens in the formatter; other handlers still see the original record."""
    rec = record("from %s", "14155550100", caller="14155550100", password="pw")
    JsonFormatter().format(rec)
    assert (rec.getMessage(), rec.caller, rec.password) == ("from 14155550100", "14155550100", "pw")


# --- secrets -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("password=hunter2", "password=***"),
        ("freeswitch_password: hunter2 next", "freeswitch_password: *** next"),
        ("GET /x?auth_token=abc123&b=1", "GET /x?auth_token=***&b=1"),
        ("{'password': 'p w', 'x': 1}", "{'password': '***', 'x': 1}"),
        ('{"X-Plivo-Signature-V3": "c2ln"}', '{"X-Plivo-Signature-V3": "***"}'),
        ("Authorization: Basic dXNlcjpwdw==", "Authorization: ***"),
        ("'auth ClueCon' failed: -ERR invalid", "'auth ***' failed: -ERR invalid"),
        ("auth ClueCon", "auth ***"),
        ("fetch http://user:s3cret@app.example/answer", "fetch http://user:***@app.example/answer"),
    ],
)
def test_secrets_in_text_are_masked(text, shown):
    """key=value secrets, ESL auth commands, auth headers and URL passwords are masked."""
    assert redact_text(text, phones=False) == shown


@pytest.mark.parametrize("text", ["auth failed", "ESL auth rejected by FreeSWITCH", "author"])
def test_prose_about_auth_is_kept(text):
    """The word auth in a sentence is not taken for a password."""
    assert redact_text(text, phones=False) == text


def test_secret_extras_are_masked_even_at_debug(captured):
    """Extras named like secrets are masked at every level, nested keys too."""
    setup_logging("DEBUG", stream=captured.stream)
    logging.getLogger("plivoxml_fs.esl").debug(
        "connecting with password=%s", "ClueCon",
        extra={"password": "ClueCon", "auth_token": "t0k",
               "headers": {"X-Plivo-Signature-V3": "sig", "Host": "a"}},
    )
    data = json.loads(captured()[0])
    assert data["msg"] == "connecting with password=***"
    assert (data["password"], data["auth_token"]) == ("***", "***")
    assert data["headers"] == {"X-Plivo-Signature-V3": "***", "Host": "a"}
    assert "ClueCon" not in captured.stream.getvalue()
    assert "t0k" not in captured.stream.getvalue()


def test_secret_in_text_layout_is_masked():
    """The text layout masks secrets the same way."""
    rec = record("login", level=logging.DEBUG, token="abc")
    assert TextFormatter().format(rec) == f"{TS} DEBUG plivoxml_fs.call [token=***] login"


# --- properties --------------------------------------------------------------------------------

_SEPARATORS = st.sampled_from([" ", "=", ":", ", ", "(", ")", "<", ">", '"', "sip:", "tel:"])


@given(
    number=st.from_regex(r"\+?[1-9][0-9]{5,14}", fullmatch=True),
    before=_SEPARATORS,
    after=st.sampled_from([" ", "@host", ",", ")", ">", '"', ". ", ""]),
    prefix=st.text(alphabet="abc xyz", max_size=8),
)
def test_no_phone_number_survives_above_debug(number, before, after, prefix):
    """Any 6-15 digit number standing apart is reduced to ***<last 4> above DEBUG."""
    text = f"{prefix}{before}{number}{after}"
    shown = redact_text(text, phones=True)
    digits = number.lstrip("+")
    assert digits not in shown
    assert f"***{digits[-4:]}" in shown


@given(st.text(max_size=200))
def test_redaction_is_idempotent_and_total(text):
    """Redacting twice changes nothing more, and redaction never raises on any text."""
    once = redact_text(text, phones=True)
    assert redact_text(once, phones=True) == once


@given(secret=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126,
                                             exclude_characters="&,;'\"`"), min_size=1,
                      max_size=30),
       key=st.sampled_from(["password", "auth_token", "X-Plivo-Signature-V3", "api_key",
                            "freeswitch_password", "secret"]),
       sep=st.sampled_from(["=", ": ", " = ", ":"]))
def test_no_secret_value_survives_in_text(secret, key, sep):
    """`key<sep>value` for a secret-named key never shows the value."""
    shown = redact_text(f"x {key}{sep}{secret} y", phones=False)
    assert shown == f"x {key}{sep}*** y"


# --- long messages -----------------------------------------------------------------------------


def test_a_huge_message_is_cut_before_it_is_redacted(captured):
    """A 9.5 MB message becomes one line of at most MAX_MESSAGE_CHARS plus a marker of its size."""
    setup_logging("INFO", stream=captured.stream)
    huge = "call x: invalid document: " + "answer.xml:1:1 <X>: unknown element; " * 250_000
    logging.getLogger("plivoxml_fs.call").error("%s", huge)
    (line,) = captured()
    msg = json.loads(line)["msg"]
    assert msg.endswith(f" [cut at {MAX_MESSAGE_CHARS} of {len(huge)} characters]")
    assert len(msg) <= MAX_MESSAGE_CHARS + 60
    assert msg.startswith("call x: invalid document: answer.xml:1:1 <X>: unknown element;")


def test_a_cut_never_leaves_part_of_a_secret_or_a_number():
    """A secret or a phone number straddling the cut is redacted whole before the cut."""
    for tail in (" http://alice:UserInfoPw123@app.example/x", " password=hunter2hunter2",
                 " from 14155550100 to 14155550111"):
        for shift in range(0, 40, 3):
            text = "x" * (MAX_MESSAGE_CHARS - shift) + tail + " " + "y" * 100
            line = JsonFormatter().format(record("%s", text))
            msg = json.loads(line)["msg"]
            assert "UserInfoPw" not in msg and "hunter2" not in msg and "14155" not in msg
            assert msg.endswith(f"[cut at {MAX_MESSAGE_CHARS} of {len(text)} characters]")


def test_long_extras_and_tracebacks_are_cut_too():
    """Text extras and exception text are held to the same length."""
    try:
        raise ValueError("v" * 50_000)
    except ValueError:
        rec = record("x", body="b" * 50_000)
        rec.exc_info = sys.exc_info()
    data = json.loads(JsonFormatter().format(rec))
    assert len(data["body"]) <= MAX_MESSAGE_CHARS + 60
    assert len(data["exc"]) <= MAX_MESSAGE_CHARS + 60
    assert data["body"].endswith(f"[cut at {MAX_MESSAGE_CHARS} of 50000 characters]")


# --- a call's own numbers ----------------------------------------------------------------------


def test_call_numbers_are_the_numeric_parameters():
    """From, To, a numeric CallerName and ForwardedFrom, each also as digits only, longest first."""
    assert call_numbers({"From": "+14155550100", "To": "1001", "CallerName": "Alice",
                         "ForwardedFrom": "442071838750", "CallUUID": "12345678"}) == (
        "+14155550100", "442071838750", "14155550100")


def test_a_calls_numbers_are_masked_wherever_they_appear():
    """On a call's lines its numbers are masked even glued to letters; DEBUG still shows them."""
    numbers = call_numbers({"From": "+14155550100", "To": "4155550111"})
    rec = record("room14155550100 and sip:+14155550100x, to 4155550111b", **{NUMBERS_EXTRA: numbers},
                 conference="room14155550100")
    data = json.loads(JsonFormatter().format(rec))
    assert data["msg"] == "room***0100 and sip:***0100x, to ***0111b"
    assert data["conference"] == "room***0100"
    assert NUMBERS_EXTRA not in data
    debug = record("room14155550100", level=logging.DEBUG, **{NUMBERS_EXTRA: numbers})
    assert json.loads(JsonFormatter().format(debug))["msg"] == "room14155550100"


# --- room names as users write them -----------------------------------------------------------


@pytest.mark.parametrize(("name", "shown"), [
    ("My Conf Room", "My Conf Room"),
    ("My Conf Room 2", "My Conf Room 2"),
    ("Room 2024", "Room 2024"),
    ("Tikrīt", "Tikrīt"),
    ("Gasteiz / Vitoria", "Gasteiz / Vitoria"),
    ("Floor 3.14 / Bay 12", "Floor 3.14 / Bay 12"),
    ("Sales 14155550100", "Sales ***0100"),  # a phone number in a name is still one
    ("Support (415) 555-0100", "Support ***0100"),
    ("conf_14155550100", "conf_***0100"),
])
def test_room_names_show_above_debug_with_phone_numbers_masked(name, shown):
    """A room name is shown as the user wrote it (spaces, Unicode, `/`, short numbers) in the
    message and the `conference` field; only what the masking rules call a phone number is
    masked, above DEBUG. DEBUG shows it all."""
    rec = record("conference %s: the recording could not start", name, conference=name)
    data = json.loads(JsonFormatter().format(rec))
    assert (data["msg"], data["conference"]) == (
        f"conference {shown}: the recording could not start", shown)
    debug = record("conference %s", name, level=logging.DEBUG, conference=name)
    assert json.loads(JsonFormatter().format(debug))["conference"] == name


def test_a_long_room_name_shows_whole():
    """256 characters of name are far under the line cap: shown whole."""
    name = ("Gasteiz / Vitoria, Tikrīt @ Ban Selaphum + " * 6)[:256]
    data = json.loads(JsonFormatter().format(record("conference %s", name, conference=name)))
    assert data["conference"] == name and data["msg"] == f"conference {name}"
