"""ESL-level builders in plivoxml_fs.fs.commands, pinned byte for byte against real traces."""

from __future__ import annotations

import pytest
from esl import traces

from plivoxml_fs.errors import UnsafeValue
from plivoxml_fs.esl.codec import CommandParser, encode_command
from plivoxml_fs.fs import commands


def _sent(trace: str, conn: str, first_line: str, nth: int = 0) -> bytes:
    """The bytes of the nth command on `conn` whose first line is `first_line`."""
    found = [
        e.data
        for e in traces.outgoing(trace, conn)
        if e.data.split(b"\n", 1)[0] == first_line.encode()
    ]
    assert len(found) > nth, f"{first_line!r} not sent {nth + 1} times on {conn} in {trace}"
    return found[nth]


def _line(line: str) -> bytes:
    return encode_command(line)


def test_auth_matches_trace():
    """`auth` is the first inbound command exactly as recorded."""
    assert _line(commands.auth("ClueCon")) == _sent("lifecycle.txt", "in", "auth ClueCon")


def test_connect_myevents_linger_match_trace():
    """connect, myevents and linger are sent on the outbound socket exactly as recorded."""
    assert _line(commands.connect()) == _sent("lifecycle.txt", "outbound-1", "connect")
    assert _line(commands.myevents()) == _sent("lifecycle.txt", "outbound-1", "myevents")
    assert _line(commands.linger(5)) == _sent("lifecycle.txt", "outbound-1", "linger 5")


def test_event_subscription_outbound_matches_trace():
    """The per-call subscription puts CUSTOM and its subclass last."""
    line = commands.event_plain(["BACKGROUND_JOB"], ["conference::maintenance"])
    expected = "event plain BACKGROUND_JOB CUSTOM conference::maintenance"
    assert _line(line) == _sent("lifecycle.txt", "outbound-1", expected)


def test_event_subscription_inbound_matches_trace():
    """The inbound subscription with two names and one subclass matches the trace."""
    line = commands.event_plain(
        ["CHANNEL_HANGUP_COMPLETE", "BACKGROUND_JOB"], ["conference::maintenance"]
    )
    expected = "event plain CHANNEL_HANGUP_COMPLETE BACKGROUND_JOB CUSTOM conference::maintenance"
    assert _line(line) == _sent("lifecycle.txt", "in", expected)


def test_event_subscription_several_subclasses_and_json():
    """Several subclasses follow one CUSTOM; duplicates are dropped; json format is allowed."""
    line = commands.event_subscription(
        ["DTMF", "DTMF"], ["conference::maintenance", "plivoxml::digits"], fmt="json"
    )
    assert line == "event json DTMF CUSTOM conference::maintenance plivoxml::digits"
    assert commands.event_plain(custom=["conference::maintenance"]) == (
        "event plain CUSTOM conference::maintenance"
    )


def test_api_matches_trace():
    """`api originate ...` is sent exactly as recorded."""
    cmd = "originate {origination_uuid=aleg-L1,origination_caller_id_number=1001}loopback/L1/default &park"
    assert _line(commands.api(cmd)) == _sent("lifecycle.txt", "in", f"api {cmd}")


def test_bgapi_matches_trace():
    """bgapi carries its Job-UUID in a header, byte for byte as recorded."""
    cmd = "uuid_getvar fb118d4e-457b-4ae3-ba78-63b3e536d86f hangup_after_conference"
    built = commands.bgapi(cmd, "job-L1")
    assert built.job_uuid == "job-L1"
    assert built.encode() == _sent("lifecycle.txt", "outbound-1", f"bgapi {cmd}")


def test_execute_without_argument_matches_trace():
    """sendmsg execute of `answer` carries event-lock and Event-UUID and no body."""
    built = commands.execute("answer", event_uuid="ans-L1")
    assert built.body is None
    assert built.encode() == _sent("lifecycle.txt", "outbound-1", "sendmsg", 0)


def test_execute_playback_argument_in_body_matches_trace():
    """playback's argument travels in a text/plain body with its byte length."""
    built = commands.execute("playback", "tone_stream://%(300,0,440)", event_uuid="play-L1")
    assert built.encode() == _sent("lifecycle.txt", "outbound-1", "sendmsg", 2)


def test_execute_conference_matches_trace():
    """The conference application string with flags is sent as recorded."""
    built = commands.execute(
        "conference", "roomL@default+flags{moderator|endconf}", event_uuid="conf-L1"
    )
    assert built.encode() == _sent("lifecycle.txt", "outbound-1", "sendmsg", 3)


def test_hangup_matches_trace():
    """sendmsg hangup carries the hangup-cause header as recorded."""
    recorded = [
        e.data for e in traces.outgoing("lifecycle.txt", "outbound-1") if b"hangup-cause" in e.data
    ]
    assert commands.hangup("NORMAL_CLEARING").encode() == recorded[0]


def test_exit_matches_trace():
    """`exit` is sent as recorded."""
    assert _line(commands.exit_()) == _sent("basic.txt", "outbound-3", "exit")


def test_sendmsg_to_named_channel_uses_uuid_line():
    """On an inbound connection sendmsg names its channel on the command line."""
    built = commands.execute("park", event_uuid="e1", uuid="aleg-AI", event_lock=False)
    recorded = _sent("media.txt", "in", "sendmsg aleg-AI", 1)
    assert built.encode().split(b"\n")[:3] == recorded.split(b"\n")[:3]
    assert built.encode() == recorded[:-1] + b"Event-UUID: e1\n\n"
    assert commands.hangup("USER_BUSY", uuid="aleg-AI").line == "sendmsg aleg-AI"


def test_non_ascii_argument_length_is_in_bytes():
    """A non-ASCII argument gets a content-length counted in UTF-8 bytes, and parses back."""
    built = commands.execute("speak", "flite|kal|Grüße 日本", event_uuid="s1")
    data = built.encode()
    assert b"content-length: 24\n\n" in data
    (parsed,) = CommandParser().feed(data)
    assert parsed.body.decode() == "flite|kal|Grüße 日本"
    assert parsed.get("Event-UUID") == "s1"


def test_execute_loops_header():
    """`loops` adds a loops header; event_lock=False drops event-lock."""
    built = commands.execute("playback", "x.wav", event_uuid="p1", loops=3, event_lock=False)
    assert built.get("loops") == "3"
    assert built.get("event-lock") is None


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: commands.api("status\r\napi hupall"), "api command contains CR, LF or NUL"),
        (lambda: commands.api(" status"), "api command: empty or padded"),
        (lambda: commands.api(""), "api command: empty or padded"),
        (lambda: commands.bgapi("status", "job 1"), "Job-UUID: 'job 1' does not match"),
        (lambda: commands.bgapi("status\n", "j1"), "bgapi command contains CR, LF or NUL"),
        (lambda: commands.auth(""), "auth password: must be non-empty"),
        (lambda: commands.myevents("a b"), "uuid: 'a b' does not match"),
        (lambda: commands.linger(0), "linger: seconds must be 1..3600 (got 0)"),
        (lambda: commands.linger(True), "linger: seconds must be an int (got True)"),
        (lambda: commands.linger("5"), "linger: seconds must be an int (got '5')"),
        (lambda: commands.execute("play back", event_uuid="e"), "application name: 'play back'"),
        (lambda: commands.execute("set\n", event_uuid="e"), "application name: 'set\\n'"),
        (
            lambda: commands.execute("playback", "a\nb", event_uuid="e"),
            "playback argument contains",
        ),
        (
            lambda: commands.execute("playback", "a\0b", event_uuid="e"),
            "playback argument contains",
        ),
        (lambda: commands.execute("answer", event_uuid="e\r"), "Event-UUID: 'e\\r' does not match"),
        (lambda: commands.execute("answer", event_uuid="e", uuid="u;x"), "uuid: 'u;x' does not"),
        (lambda: commands.execute("playback", "x", event_uuid="e", loops=0), "playback loops"),
        (lambda: commands.hangup("normal clearing"), "hangup cause: 'normal clearing'"),
        (lambda: commands.event_plain(["CUSTOM"]), "pass CUSTOM subclasses in `custom`"),
        (lambda: commands.event_plain(["dtmf"]), "event name: 'dtmf' does not match"),
        (lambda: commands.event_plain([], ["a b"]), "event subclass: 'a b' does not match"),
        (lambda: commands.event_plain(), "no event names and no CUSTOM subclasses"),
        (lambda: commands.event_subscription(["DTMF"], fmt="yaml"), "format 'yaml' is not one"),
        (lambda: commands.filter_events("Unique-ID", "a b"), "filter value: must be one"),
    ],
)
def test_unsafe_values_are_refused(build, message):
    """Every builder refuses injection and malformed names with a message naming the field."""
    with pytest.raises(UnsafeValue) as info:
        build()
    assert message in str(info.value)


@pytest.mark.parametrize("password", ["Clue\nCon", "Clue Con", "Clue\0Con", "Clue\rCon"])
def test_bad_password_is_refused_without_showing_it(password):
    """A password that would break the auth line is refused, and the message does not show it."""
    with pytest.raises(UnsafeValue) as info:
        commands.auth(password)
    assert str(info.value) == "auth password: must not contain spaces, CR, LF or NUL (not shown)"
    assert "Clue" not in str(info.value)


def test_filter_matches_trace():
    """`filter Unique-ID <uuid>` is sent as recorded."""
    line = commands.filter_events("Unique-ID", "899eb96b-52e9-4b99-9fbf-472e474ce955")
    sent = [e.data for e in traces.outgoing("sub-filter.txt") if e.data.startswith(b"filter ")]
    assert _line(line) in sent


def test_uuid_exists_and_status_commands():
    """`uuid_exists <uuid>` (the journal's question) and `status` (the health probe's), as
    `api` lines; a uuid that is not an identifier is refused."""
    assert commands.api(commands.uuid_exists("fb118d4e-457b")) == "api uuid_exists fb118d4e-457b"
    assert commands.api(commands.STATUS) == "api status"
    with pytest.raises(UnsafeValue) as caught:
        commands.uuid_exists("a b")
    assert str(caught.value).startswith("uuid: 'a b' does not match")


def test_uuid_exists_and_uuid_getvar_match_the_url_probe():
    """uuid_exists and uuid_getvar are sent as recorded in probe-urls.txt; bad names refused."""
    from simulator.helpers import LOCAL_TRACES, trace_messages

    sent = [t for d, c, t in trace_messages(LOCAL_TRACES / "probe-urls.txt")
            if d == ">>>" and c == "in" and t.startswith("api uuid_")]
    uuid = sent[0].split()[2]
    assert encode_command(commands.api(commands.uuid_exists(uuid))).decode() + "\n" in sent
    line = commands.api(commands.uuid_getvar(uuid, "plivoxml_hangup_url"))
    assert encode_command(line).decode() + "\n" in sent
    with pytest.raises(UnsafeValue, match="variable name: 'a b'"):
        commands.uuid_getvar(uuid, "a b")
    with pytest.raises(UnsafeValue, match="uuid: 'x y'"):
        commands.uuid_exists("x y")


def test_conference_variables_are_one_multiset_with_a_separator_none_contains():
    """Two or more variables go in one `multiset ^^<sep>...` (the separator one no assignment
    holds); one variable is a plain `set`; each is checked as `conference_variable` checks."""
    pairs = [("hangup_after_conference", "false"), ("conference_max_members", "7"),
             ("conference_enter_sound", "tone_stream://%(200,100,400);%(200,0,400)")]
    assert commands.conference_variables(pairs) == [(
        "multiset", "^^|hangup_after_conference=false|conference_max_members=7"
                    "|conference_enter_sound=tone_stream://%(200,100,400);%(200,0,400)")]
    said = [("hangup_after_conference", "false"), ("conference_enter_sound", "say:a | b")]
    assert commands.conference_variables(said) == [
        ("multiset", "^^~hangup_after_conference=false~conference_enter_sound=say:a | b")]
    assert commands.conference_variables(pairs[:1]) == [("set", "hangup_after_conference=false")]
    assert commands.conference_variables([]) == []
    with pytest.raises(UnsafeValue, match="would be expanded"):
        commands.conference_variables([*pairs, ("conference_moh_sound", "${x}")])


def test_conference_variables_with_quotes_or_backslashes_are_sets_each():
    """multiset groups on single quotes and escapes with backslashes (measured on 1.10.12: the
    quotes are dropped and later pieces swallowed), so such variables are `set` one by one."""
    for value in ("say:it's", "say:a\\b"):
        pairs = [("hangup_after_conference", "false"), ("conference_enter_sound", value)]
        assert commands.conference_variables(pairs) == [
            ("set", "hangup_after_conference=false"), ("set", f"conference_enter_sound={value}")]
    every = "".join(commands.MULTISET_SEPARATORS)
    pairs = [("hangup_after_conference", "false"), ("conference_enter_sound", f"say:{every}")]
    assert [app for app, _ in commands.conference_variables(pairs)] == ["set", "set"]
