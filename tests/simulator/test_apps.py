"""Applications over sendmsg: responses, variables, events and the caller's history."""

from __future__ import annotations

import wave

from simulator.helpers import (
    LOCAL_TRACES,
    complete,
    event_names_on,
    execute,
    is_event,
    is_final_notice,
    set_up,
    start_call,
    summary,
    trace_messages,
)


def _call(sim, daemon, linger=None):
    a_uuid, wire, _, reply = start_call(sim, daemon)
    set_up(wire, linger=linger)
    return a_uuid, wire, reply.get("Unique-ID")


def _run(wire, app, arg=None, app_uuid="x"):
    execute(wire, app, arg, uuid=app_uuid)
    return wire.until(complete(app_uuid))[-1].event()


def _write_wav(path, seconds: float) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(b"\0\0" * int(8000 * seconds))


def test_unknown_application_hangs_up(sim, daemon):
    """An unknown app: +OK, no CHANNEL_EXECUTE, hangup DESTINATION_OUT_OF_ORDER (as recorded)."""
    _, wire, b_uuid = _call(sim, daemon, linger=1)
    execute(wire, "nosuchapp", "x", uuid="n1")
    got = summary(wire.until(is_final_notice))
    assert got[0] == "reply +OK"
    recorded = event_names_on(LOCAL_TRACES / "probe-apps.txt", "outbound-2")
    events = [g for g in got if not g.startswith(("notice", "reply", "CHANNEL_PARK"))]
    assert events == [r for r in recorded if not r.startswith(("notice", "CHANNEL_PARK"))]
    assert sim.channel(b_uuid).hangup_cause == "DESTINATION_OUT_OF_ORDER"


def test_missing_file_completes_at_once(sim, daemon):
    """A missing file: FILE NOT FOUND in Application-Response and the variable, no playback_*."""
    _, wire, b_uuid = _call(sim, daemon)
    event = _run(wire, "playback", "/nonexistent/x.wav", "p1")
    assert event["Application-Response"] == "FILE NOT FOUND"
    assert event.variable("current_application_response") == "FILE NOT FOUND"
    assert event.variable("playback_ms") is None
    history = [str(r) for r in sim.channel(b_uuid).history]
    assert history == ["pre_answered", "file_not_found /nonexistent/x.wav"]


def test_empty_playback_is_a_playback_error(sim, daemon):
    """playback with no argument completes with PLAYBACK ERROR."""
    _, wire, _ = _call(sim, daemon)
    assert _run(wire, "playback", "", "pe")["Application-Response"] == "PLAYBACK ERROR"


def test_file_string_skips_missing_pieces(sim, daemon, tmp_path):
    """file_string plays what exists (FILE PLAYED); only missing pieces: FILE NOT FOUND."""
    _write_wav(tmp_path / "one.wav", 0.5)
    _, wire, b_uuid = _call(sim, daemon)
    event = _run(wire, "playback", "file_string:///nonexistent/a.wav!one.wav!silence_stream://100", "f1")
    assert event["Application-Response"] == "FILE PLAYED"
    assert event.variable("playback_ms") == "600"
    assert event.variable("playback_samples") == "4800"
    history = [str(r) for r in sim.channel(b_uuid).history]
    assert history == [
        "pre_answered",
        "file_not_found /nonexistent/a.wav",
        "played one.wav (500 ms)",
        "played silence_stream://100 (100 ms)",
    ]
    event = _run(wire, "playback", "file_string:///nonexistent/a.wav!/nonexistent/b.wav", "f2")
    assert event["Application-Response"] == "FILE NOT FOUND"


def test_playback_variables_as_recorded(sim, daemon):
    """A tone's completion sets playback_* then current_application_response, as the trace."""
    _, wire, _ = _call(sim, daemon)
    _run(wire, "answer", None, "a")
    event = _run(wire, "playback", "tone_stream://%(300,0,440)", "play")
    names = [n for n in event.headers if n.startswith("variable_")][-5:]
    assert names == [
        "variable_playback_last_offset_pos", "variable_playback_seconds", "variable_playback_ms",
        "variable_playback_samples", "variable_current_application_response",
    ]
    assert event.variable("playback_ms") == "300"
    assert event.variable("playback_samples") == "2400"
    assert event["Application-Data"] == "tone_stream://%(300,0,440)"


def test_hangup_application_with_cause(sim, daemon):
    """`hangup USER_BUSY`: EXECUTE, HANGUP, its EXECUTE_COMPLETE, then the teardown."""
    _, wire, b_uuid = _call(sim, daemon, linger=1)
    execute(wire, "hangup", "USER_BUSY", uuid="h5")
    got = [g for g in summary(wire.until(is_final_notice)) if not g.startswith(("reply", "notice"))]
    recorded = [r for r in event_names_on(LOCAL_TRACES / "probe-apps.txt", "outbound-5")
                if not r.startswith(("notice", "CHANNEL_PARK"))]
    assert [g for g in got if g != "CHANNEL_PARK"] == recorded
    channel = sim.channel(b_uuid)
    assert channel.hangup_cause == "USER_BUSY"
    assert channel.variables["hangup_cause_q850"] == "17"


def test_hangup_complete_carries_the_cdr_variables(sim, daemon):
    """CHANNEL_HANGUP_COMPLETE has Hangup-Cause first and the duration variables in media time."""
    a_uuid, wire, _ = _call(sim, daemon)
    _run(wire, "answer", None, "a")
    _run(wire, "playback", "silence_stream://1000", "s")
    sim.api(f"uuid_kill {a_uuid}")
    event = wire.until(is_event("CHANNEL_HANGUP_COMPLETE"))[-1].event()
    assert list(event.headers)[13] == "Hangup-Cause"
    assert event.variable("hangup_cause") == "NORMAL_CLEARING"
    assert event.variable("hangup_cause_q850") == "16"
    assert int(event.variable("billmsec")) >= 1000
    assert event.variable("last_app") == "playback"


def test_speak_lasts_by_text_length(sim, daemon):
    """speak flite|kal|text lasts 70 ms a character and is recorded as spoken."""
    _, wire, b_uuid = _call(sim, daemon)
    _run(wire, "answer", None, "a")
    text = "Hello there, this is a test of the speech."
    event = _run(wire, "speak", f"flite|kal|{text}", "s1")
    assert event["Application-Response"] == "_none_"
    record = sim.channel(b_uuid).history[-1]
    assert (record.kind, record.detail, record.ms) == ("spoke", text, 70 * len(text))


def test_speak_without_engine_hangs_up(sim, daemon):
    """speak with only text (no engine|voice|): FreeSWITCH hangs up DESTINATION_OUT_OF_ORDER."""
    _, wire, b_uuid = _call(sim, daemon)
    execute(wire, "speak", "hello", uuid="s3")
    got = summary(wire.until(complete("s3")))
    assert got[-2:] == ["CHANNEL_HANGUP", "CHANNEL_EXECUTE_COMPLETE speak"]
    assert sim.channel(b_uuid).hangup_cause == "DESTINATION_OUT_OF_ORDER"


def test_speak_with_unknown_engine_completes(sim, daemon):
    """speak with an engine other than flite completes at once, nothing spoken."""
    _, wire, b_uuid = _call(sim, daemon)
    assert _run(wire, "speak", "nosuch|kal|hello", "s2")["Application-Response"] == "_none_"
    assert sim.channel(b_uuid).history == []


def test_sleep_and_bad_argument(sim, daemon):
    """sleep 150 waits 150 ms of media; a non-number completes at once."""
    _, wire, b_uuid = _call(sim, daemon)
    _run(wire, "sleep", "150", "z1")
    _run(wire, "sleep", "abc", "z2")
    assert [str(r) for r in sim.channel(b_uuid).history] == ["slept 150 ms"]


def test_pre_answer_then_answer(sim, daemon):
    """pre_answer fires CHANNEL_PROGRESS_MEDIA (Answer-State early); answer then answers."""
    _, wire, b_uuid = _call(sim, daemon)
    execute(wire, "pre_answer", uuid="pa")
    seen = wire.until(complete("pa"))
    media = [m.event() for m in seen if is_event("CHANNEL_PROGRESS_MEDIA")(m)][0]
    assert media["Answer-State"] == "early"
    assert media.variable("endpoint_disposition") == "EARLY MEDIA"
    _run(wire, "answer", None, "a")
    assert [str(r) for r in sim.channel(b_uuid).history] == ["pre_answered", "answered"]


def test_set_export_and_loops(sim, daemon):
    """set and export change variables (set without '=' unsets); loops repeats the app."""
    _, wire, b_uuid = _call(sim, daemon)
    _run(wire, "set", "foo=bar", "s1")
    _run(wire, "export", "plivo_x=1", "e1")
    channel = sim.channel(b_uuid)
    assert channel.variables["foo"] == "bar"
    assert channel.variables["export_vars"] == "plivo_x"
    _run(wire, "set", "foo", "s2")
    assert "foo" not in channel.variables
    wire.send("sendmsg", [("call-command", "execute"), ("execute-app-name", "playback"),
                          ("execute-app-arg", "silence_stream://10"), ("loops", "2"),
                          ("Event-UUID", "lp")])
    seen = wire.until(lambda m: complete("lp")(m) and m.event().variable("current_loop") == "2")
    assert summary(seen).count("CHANNEL_EXECUTE_COMPLETE playback") == 2


def test_multiset_sets_each_piece_on_its_separator(sim, daemon):
    """multiset splits on spaces, or on the one character after `^^` (spaces then stay in a
    value), and sets each piece as set does (as measured on FreeSWITCH 1.10.12)."""
    _, wire, b_uuid = _call(sim, daemon)
    _run(wire, "multiset", "^^|pa=tone_stream://%(200,0,400)|pb=say:hello world|pc=x", "m1")
    _run(wire, "multiset", "pd=a b", "m2")
    variables = sim.channel(b_uuid).variables
    assert [variables.get(name) for name in ("pa", "pb", "pc", "pd", "b")] == [
        "tone_stream://%(200,0,400)", "say:hello world", "x", "a", None]


def test_sched_hangup(sim, daemon):
    """sched_hangup +1 ALLOTTED_TIMEOUT completes at once and hangs up one media second later."""
    _, wire, b_uuid = _call(sim, daemon)
    _run(wire, "sched_hangup", "+1 ALLOTTED_TIMEOUT", "sh")
    assert sim.wait_hangup(b_uuid, 2)
    assert sim.channel(b_uuid).hangup_cause == "ALLOTTED_TIMEOUT"


def test_detect_silence_lasts_its_frames(sim, daemon):
    """detect_silence 200 25 5000 hears the silent caller for 25 frames of 20 ms."""
    _, wire, b_uuid = _call(sim, daemon)
    _run(wire, "detect_silence", "200 25 5000", "ds")
    assert str(sim.channel(b_uuid).history[-1]) == "silence 500 ms"


def test_hangup_mid_playback_records_what_was_heard(sim, daemon):
    """Killed mid-file: PLAYBACK ERROR, the partial length in history, then the hangup cause."""
    a_uuid, wire, b_uuid = _call(sim, daemon)
    execute(wire, "playback", "silence_stream://100000", uuid="long")
    wire.until(is_event("CHANNEL_EXECUTE", "playback"))
    sim.api(f"uuid_kill {a_uuid} USER_BUSY")
    event = wire.until(complete("long"))[-1].event()
    assert event["Application-Response"] == "PLAYBACK ERROR"
    assert event["Hangup-Cause"] == "USER_BUSY"
    assert sim.wait_hangup(b_uuid, 2)
    history = sim.channel(b_uuid).history
    assert history[-2].kind == "played" and history[-2].ms < 100000
    assert str(history[-1]) == "hangup USER_BUSY"


def test_a_failing_application_still_ends_the_call(sim, daemon, monkeypatch, caplog):
    """An application that raises: one log line, the call hangs up and finishes."""
    from plivoxml_fs.simulator import apps

    def boom(channel, arg):
        raise RuntimeError("boom")

    monkeypatch.setitem(apps.APPLICATIONS, "boom", boom)
    _, wire, b_uuid = _call(sim, daemon)
    execute(wire, "boom", uuid="b")
    assert sim.wait_hangup(b_uuid, 3)
    assert sim.channel(b_uuid).hangup_cause == "NORMAL_TEMPORARY_FAILURE"
    assert [r.getMessage() for r in caplog.records if r.name == "plivoxml_fs.simulator"] == [
        f"simulator: channel {b_uuid} (loopback/L1-b) failed; hanging it up"
    ]


def test_cdr_variables_in_the_traces_order(sim, daemon):
    """CHANNEL_HANGUP_COMPLETE's variables from hangup_cause on are the recorded ones, in order."""
    a_uuid, wire, _ = _call(sim, daemon)
    _run(wire, "answer", None, "a")
    _run(wire, "playback", "silence_stream://300", "s")
    sim.api(f"uuid_kill {a_uuid}")
    wire.until(is_event("CHANNEL_HANGUP_COMPLETE"))
    raw = wire.received[-1][0]
    mine = _variables_from(raw.decode().split("\n\n", 1)[1], "variable_hangup_cause")
    recorded = [t for d, c, t in trace_messages(LOCAL_TRACES / "probe-apps.txt")
                if d == "<<<" and c == "outbound-1" and "Event-Name: CHANNEL_HANGUP_COMPLETE" in t][0]
    assert mine == _variables_from(recorded, "variable_hangup_cause")
    event = wire.received[-1][1].event()
    assert int(event.variable("billmsec")) >= 300
    assert event.variable("caller_id") == "1001"


def _variables_from(text: str, first: str) -> list[str]:
    names = [line.split(": ", 1)[0] for line in text.split("\n") if line.startswith("variable_")]
    return names[names.index(first):]
