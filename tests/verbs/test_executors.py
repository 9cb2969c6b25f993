"""Each verb executor: exactly what it sends to FreeSWITCH and the Outcome it returns."""

from __future__ import annotations

import logging

import pytest

from plivoxml_fs.documents import Hangup, Play, PreAnswer, Redirect, Speak, Wait
from plivoxml_fs.errors import UnsafeValue
from plivoxml_fs.fs import arguments, commands
from plivoxml_fs.verbs import hangup, play, preanswer, redirect, speak, wait
from plivoxml_fs.verbs.base import NEXT, Gone, Goto, HangupCall

URL = "http://media.example.com/hello.wav"


def executed(*apps: tuple[str, str]) -> list[bytes]:
    """The bytes of these executions as the fake numbers them (app-1, app-2, ...)."""
    return [
        commands.execute(app, arg, event_uuid=f"app-{n}").encode()
        for n, (app, arg) in enumerate(apps, start=1)
    ]


def test_play_once_sends_one_playback_byte_for_byte(ctx):
    """<Play> once is one sendmsg playback of http_cache://<url>, argument in the body."""
    assert play.run(Play(URL), ctx) == NEXT
    arg = b"http_cache://http://media.example.com/hello.wav"
    assert ctx.conn.sent == [
        b"sendmsg\ncall-command: execute\nexecute-app-name: playback\nevent-lock: true\n"
        b"Event-UUID: app-1\ncontent-type: text/plain\ncontent-length: %d\n\n%s" % (len(arg), arg)
    ]


def test_play_loops_in_one_file_string(ctx):
    """loop=3 is one playback of file_string joining the source three times."""
    assert play.run(Play(URL, loop=3), ctx) == NEXT
    source = arguments.http_audio(URL)
    assert ctx.conn.sent == executed(("playback", f"file_string://{source}!{source}!{source}"))


def test_play_long_loops_go_in_batches(ctx):
    """loop=250 plays in batches of MAX_FILE_STRING_SOURCES: 100, 100, 50."""
    assert play.run(Play(URL, loop=250), ctx) == NEXT
    counts = [arg.count("http_cache://") for app, arg in ctx.conn.apps]
    assert counts == [100, 100, 50]


def test_play_url_with_bang_loops_with_single_playbacks(ctx):
    """A URL holding `!` cannot go in a file_string: each loop is its own playback."""
    url = "http://media.example.com/wow!.wav"
    assert play.run(Play(url, loop=2), ctx) == NEXT
    source = arguments.http_audio(url)
    assert ctx.conn.sent == executed(("playback", source), ("playback", source))


def test_play_loop_zero_repeats_until_the_call_ends(ctx):
    """loop=0 keeps playing until the caller hangs up, then the call is Gone."""
    ctx.conn.hang_up_during("playback", nth=4)
    outcome = play.run(Play(URL, loop=0), ctx)
    assert isinstance(outcome, Gone)
    assert [app for app, _ in ctx.conn.apps] == ["playback"] * 4


def test_play_failure_stops_the_loop_and_logs(ctx, caplog):
    """A file FreeSWITCH cannot play ends the loop (even loop=0) with one warning line."""
    ctx.conn.respond("playback", "FILE NOT FOUND")
    with caplog.at_level(logging.WARNING, logger="plivoxml_fs.call"):
        assert play.run(Play(URL + "?token=secret", loop=0), ctx) == NEXT
    assert len(ctx.conn.apps) == 1
    assert [r.getMessage() for r in caplog.records] == [
        f"call {ctx.conn.uuid}: <Play> http://media.example.com/hello.wav?...: FreeSWITCH "
        "could not play it (FILE NOT FOUND)"
    ]


def test_play_connection_lost_is_gone(ctx):
    """When FreeSWITCH drops the socket mid-playback the outcome is Gone."""
    ctx.conn.lose_during("playback")
    assert isinstance(play.run(Play(URL, loop=2), ctx), Gone)


def test_play_refuses_unsafe_url_before_sending(ctx):
    """A URL with CR/LF raises UnsafeValue and nothing reaches FreeSWITCH."""
    with pytest.raises(UnsafeValue, match="CR, LF or NUL"):
        play.run(Play(URL + "\r\nexecute-app-name: system"), ctx)
    assert ctx.conn.sent == []


def test_speak_sends_flite_argument(ctx):
    """<Speak voice=MAN loop=2> runs speak `flite|kal|<text>` twice."""
    assert speak.run(Speak("Goodbye.", voice="MAN", loop=2), ctx) == NEXT
    assert ctx.conn.sent == executed(
        ("speak", "flite|kal|Goodbye."), ("speak", "flite|kal|Goodbye.")
    )


def test_speak_loop_zero_until_hangup(ctx):
    """<Speak loop=0> repeats until the call ends."""
    ctx.conn.hang_up_during("speak", nth=3)
    assert isinstance(speak.run(Speak("Hi", loop=0), ctx), Gone)
    assert len(ctx.conn.apps) == 3


def test_wait_sleeps_length_seconds(ctx):
    """<Wait length=3> is `sleep 3000`; with beep (no detector) it still waits the length."""
    assert wait.run(Wait(length=3), ctx) == NEXT
    assert wait.run(Wait(length=2, beep=True), ctx) == NEXT
    assert ctx.conn.sent == executed(("sleep", "3000"), ("sleep", "2000"))


def test_wait_silence_uses_detect_silence(ctx):
    """<Wait silence minSilence=500 length=10>: detect_silence 200 25 10000 (20 ms frames)."""
    assert wait.run(Wait(length=10, silence=True, min_silence=500), ctx) == NEXT
    assert wait.run(Wait(length=3, silence=True, min_silence=2010), ctx) == NEXT
    assert ctx.conn.sent == executed(
        ("detect_silence", "200 25 10000"), ("detect_silence", "200 101 3000")
    )


def test_wait_hangup_is_gone(ctx):
    """A hangup during <Wait> ends the document."""
    ctx.conn.hang_up_during("sleep")
    assert isinstance(wait.run(Wait(length=5), ctx), Gone)


def test_hangup_now_returns_the_cause_and_sends_nothing(ctx):
    """<Hangup reason=busy> becomes HangupCall(USER_BUSY, Answer XML); the driver hangs up."""
    assert hangup.run(Hangup(reason="busy"), ctx) == HangupCall("USER_BUSY", "Answer XML")
    assert hangup.run(Hangup(), ctx) == HangupCall("NORMAL_CLEARING", "Answer XML")
    assert ctx.conn.sent == []


def test_hangup_without_reason_first_and_unanswered_rejects(ctx):
    """Plivo: a reason-less Hangup as the first element of an unanswered call rejects it."""
    ctx.answered, ctx.first_verb = False, True
    assert hangup.run(Hangup(), ctx) == HangupCall("CALL_REJECTED", "Answer XML")
    ctx.answered = True
    assert hangup.run(Hangup(), ctx) == HangupCall("NORMAL_CLEARING", "Answer XML")
    ctx.answered, ctx.first_verb = False, False
    assert hangup.run(Hangup(), ctx) == HangupCall("NORMAL_CLEARING", "Answer XML")


def test_hangup_schedule_uses_sched_hangup_and_goes_on(ctx):
    """<Hangup schedule=10 reason=rejected> schedules `+10 CALL_REJECTED` and continues."""
    assert hangup.run(Hangup(reason="rejected", schedule=10), ctx) == NEXT
    assert ctx.conn.sent == executed(("sched_hangup", "+10 CALL_REJECTED"))


def test_hangup_schedule_without_reason_is_the_timers_cause(ctx):
    """<Hangup schedule=10> schedules `+10 ALLOTTED_TIMEOUT` (6000 Scheduled Hangup when it
    fires), first element of an unanswered call or not."""
    ctx.answered, ctx.first_verb = False, True
    assert hangup.run(Hangup(schedule=10), ctx) == NEXT
    assert ctx.conn.sent == executed(("sched_hangup", "+10 ALLOTTED_TIMEOUT"))


def test_redirect_is_goto(ctx):
    """<Redirect method=GET> is Goto(url, GET) and sends nothing."""
    assert redirect.run(Redirect("http://app/next.xml", "GET"), ctx) == Goto(
        "http://app/next.xml", "GET"
    )
    assert ctx.conn.sent == []


def test_preanswer_plays_early_media_without_answering(ctx):
    """<PreAnswer> sends pre_answer, then its children; never `answer`."""
    doc = PreAnswer((Speak("Please hold."), Play(URL), Wait(length=1)))
    assert preanswer.run(doc, ctx) == NEXT
    assert ctx.conn.sent == executed(
        ("pre_answer", ""),
        ("speak", "flite|slt|Please hold."),
        ("playback", arguments.http_audio(URL)),
        ("sleep", "1000"),
    )


def test_preanswer_stops_when_the_caller_hangs_up(ctx):
    """A hangup during a PreAnswer child stops the rest."""
    ctx.conn.hang_up_during("speak")
    doc = PreAnswer((Speak("Please hold."), Play(URL)))
    assert isinstance(preanswer.run(doc, ctx), Gone)
    assert [app for app, _ in ctx.conn.apps] == ["pre_answer", "speak"]
