"""CallDriver end to end with fakes: what reaches FreeSWITCH, which URLs are fetched, which
callbacks are emitted (the hangup URL exactly once in every ending), and the log lines."""

from __future__ import annotations

import logging

import attrs
import pytest
from verbs.helpers import HERE, doc

from plivoxml_fs.call.driver import CallDriver
from plivoxml_fs.config import Settings
from plivoxml_fs.documents import (
    Hangup,
    Play,
    PreAnswer,
    Redirect,
    Speak,
    Wait,
)
from plivoxml_fs.errors import FetchError, PlivoXMLError
from plivoxml_fs.esl.session import call_setup
from plivoxml_fs.fs import arguments, commands
from plivoxml_fs.testing import FakeConnection, FakeFetcher, RecordingOutbox, channel_data

ANSWER = "http://app.example.com/answer"
FALLBACK = "http://app.example.com/fallback"
HANGUP = "http://app.example.com/hangup"
MEDIA = "http://media.example.com/hello.wav"
UUID = "fb118d4e-457b-4ae3-ba78-63b3e536d86f"


class Invalid(PlivoXMLError):
    """What the document parser raises for a document that fails validation."""


@attrs.define
class Harness:
    """One call: per URL a document, a FetchError (the fetch fails) or another exception (the
    parser raises it); fakes for the connection, fetcher and outbox."""

    docs: dict
    settings: Settings
    conn: FakeConnection = attrs.field(factory=FakeConnection)
    outbox: RecordingOutbox = attrs.field(factory=RecordingOutbox)
    parsed: dict = attrs.field(factory=dict)
    fetcher: FakeFetcher = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        served = {}
        for url, document in self.docs.items():
            if isinstance(document, FetchError):
                served[url] = document
            else:
                key = url.encode()
                served[url] = key
                self.parsed[key] = document
        self.fetcher = FakeFetcher(served)

    def parse(self, data: bytes, *, source: str, max_bytes: int):
        doc = self.parsed[data]
        if isinstance(doc, Exception):
            raise doc
        return doc

    def run(self) -> None:
        CallDriver(self.settings, self.fetcher, self.outbox, parse=self.parse).handle(self.conn)

    @property
    def hangups(self) -> list:
        return self.outbox.of_kind("hangup")


def make(docs, **settings) -> Harness:
    values = {"answer_url": ANSWER, "hangup_url": HANGUP, "linger_s": 10}
    values.update(settings)
    return Harness(docs, Settings(**values))


def setup_lines() -> list[str]:
    return list(call_setup(10))


def errors(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def test_whole_call_in_order():
    """Subscribe, linger, answer before the first media verb, run verbs, hang up, exit."""
    call = make({ANSWER: doc((Wait(length=1), Speak("Hello"), Play(MEDIA)))})
    call.run()
    assert call.conn.lines == [*setup_lines(), *["sendmsg"] * 5, "exit"]
    assert call.conn.apps == [
        ("sleep", "1000"),
        ("answer", ""),
        ("speak", "flite|slt|Hello"),
        ("playback", arguments.http_audio(MEDIA)),
    ]
    assert call.conn.sent[-2] == commands.hangup("NORMAL_CLEARING").encode()
    assert call.conn.sent[-1] == b"exit\n\n"


def test_answer_url_gets_the_call_params():
    """The answer URL is POSTed the Plivo call parameters: CallStatus ringing, Event StartApp."""
    call = make({ANSWER: doc((Hangup(),))})
    call.run()
    assert call.fetcher.requests == [
        (
            ANSWER,
            "POST",
            {
                "CallUUID": UUID,
                "From": "1001",
                "To": "5000",
                "CallerName": "",
                "Direction": "inbound",
                "CallStatus": "ringing",
                "Event": "StartApp",
            },
        )
    ]


def test_channel_variables_choose_the_urls():
    """plivoxml_answer_url/_method and plivoxml_hangup_url win over the settings."""
    mine = "http://other.example.com/doc"
    call = make({mine: doc((Hangup(),))})
    call.conn = FakeConnection(
        channel_data(
            variables={
                "plivoxml_answer_url": mine,
                "plivoxml_answer_method": "GET",
                "plivoxml_hangup_url": "http://other.example.com/bye",
            }
        )
    )
    call.run()
    assert [(u, m) for u, m, _ in call.fetcher.requests] == [(mine, "GET")]
    assert [w.url for w in call.hangups] == ["http://other.example.com/bye"]


def test_end_of_document_hangup_callback_once():
    """After the last verb: NORMAL_CLEARING, source Plivo, the hangup URL posted once."""
    call = make({ANSWER: doc((Speak("Bye"),))})
    call.run()
    assert len(call.hangups) == 1
    hook = call.hangups[0]
    assert (hook.url, hook.method, hook.call_uuid) == (HANGUP, "POST", UUID)
    assert hook.params["Event"] == "Hangup"
    assert hook.params["HangupCause"] == "NORMAL_CLEARING"
    assert hook.params["HangupSource"] == "Plivo"
    assert hook.params["CallStatus"] == "completed"
    assert hook.params["AnswerTime"] != ""


def test_hangup_verb_rejects_without_answering():
    """<Hangup reason=busy> first: never answered, hung up USER_BUSY, source Answer XML."""
    call = make({ANSWER: doc((Hangup(reason="busy"),))})
    call.run()
    assert call.conn.apps == []
    assert commands.hangup("USER_BUSY").encode() in call.conn.sent
    (hook,) = call.hangups
    assert (hook.params["HangupCause"], hook.params["HangupSource"]) == ("USER_BUSY", "Answer XML")
    assert (hook.params["AnswerTime"], hook.params["BillDuration"]) == ("", "0")


def test_preanswer_does_not_answer_but_the_next_media_verb_does():
    """PreAnswer plays early media; the Speak after it answers the call first."""
    call = make({ANSWER: doc((PreAnswer((Speak("Hold"),)), Speak("Hi")))})
    call.run()
    assert [app for app, _ in call.conn.apps] == ["pre_answer", "speak", "answer", "speak"]


def test_caller_hangs_up_mid_play():
    """The caller hangs up during Play: nothing more runs, no hangup sent, callback once."""
    call = make({ANSWER: doc((Play(MEDIA), Speak("never")))})
    call.conn.hang_up_during("playback")
    call.run()
    assert [app for app, _ in call.conn.apps] == ["answer", "playback"]
    assert not any(b"call-command: hangup" in data for data in call.conn.sent)
    (hook,) = call.hangups
    assert (hook.params["HangupCause"], hook.params["HangupSource"]) == (
        "NORMAL_CLEARING",
        "Caller",
    )


def test_connection_lost_mid_verb(caplog):
    """FreeSWITCH drops the socket: nothing more is sent, the callback still goes, once."""
    call = make({ANSWER: doc((Wait(length=5), Speak("never")))})
    call.conn.lose_during("sleep")
    call.run()
    assert call.conn.lines == [*setup_lines(), "sendmsg"]
    (hook,) = call.hangups
    assert (hook.params["HangupCause"], hook.params["HangupSource"]) == (
        "NORMAL_UNSPECIFIED",
        "Unknown",
    )
    assert errors(caplog) == []


def test_redirect_fetches_the_next_document_with_params():
    """Redirect fetches its URL with the method it names and the call params (in-progress)."""
    nxt = "http://app.example.com/next"
    call = make({ANSWER: doc((Speak("a"), Redirect(nxt, "GET"))), nxt: doc((Speak("b"),))})
    call.run()
    assert [(u, m, p["CallStatus"], p.get("Event")) for u, m, p in call.fetcher.requests] == [
        (ANSWER, "POST", "ringing", "StartApp"),
        (nxt, "GET", "in-progress", None),
    ]
    assert [arg for app, arg in call.conn.apps if app == "speak"] == ["flite|slt|a", "flite|slt|b"]


def test_redirect_limit(caplog):
    """A document redirecting to itself is followed max_redirects times, then hung up."""
    call = make({ANSWER: doc((Redirect(ANSWER),))}, max_redirects=3)
    call.run()
    assert len(call.fetcher.requests) == 4
    assert errors(caplog) == [f"call {UUID}: more than 3 redirects (last to {ANSWER}); hanging up"]
    (hook,) = call.hangups
    assert (hook.params["HangupCause"], hook.params["HangupSource"]) == (
        "NORMAL_TEMPORARY_FAILURE",
        "Error",
    )


@pytest.mark.parametrize(
    ("failure", "cause"),
    [
        (
            FetchError(f"POST {ANSWER}: timed out after 15.0 s"),
            f"POST {ANSWER}: timed out after 15.0 s",
        ),
        (FetchError(f"POST {ANSWER}: HTTP 500"), f"POST {ANSWER}: HTTP 500"),
        (
            FetchError(f"POST {ANSWER}: content-type text/html is not XML"),
            f"POST {ANSWER}: content-type text/html is not XML",
        ),
        (
            FetchError(f"POST {ANSWER}: larger than 262144 bytes"),
            f"POST {ANSWER}: larger than 262144 bytes",
        ),
    ],
)
def test_answer_fetch_failure_without_fallback(caplog, failure, cause):
    """A failed answer fetch with no fallback: one error line naming call and cause, hangup."""
    call = make({ANSWER: failure})
    call.run()
    assert errors(caplog) == [f"call {UUID}: cannot fetch the document: {cause}; hanging up"]
    assert caplog.records[-1].call_uuid == UUID
    assert call.conn.apps == []
    assert commands.hangup("NORMAL_TEMPORARY_FAILURE").encode() in call.conn.sent
    assert len(call.hangups) == 1


def test_fallback_is_used_once(caplog):
    """The answer URL fails: the fallback URL runs; its own failure later would hang up."""
    call = make(
        {ANSWER: FetchError(f"POST {ANSWER}: HTTP 500"), FALLBACK: doc((Speak("sorry"),))},
        fallback_url=FALLBACK,
    )
    call.run()
    assert [u for u, _, _ in call.fetcher.requests] == [ANSWER, FALLBACK]
    assert errors(caplog) == [
        f"call {UUID}: cannot fetch the document: POST {ANSWER}: HTTP 500; "
        f"trying the fallback URL {FALLBACK}"
    ]
    assert ("speak", "flite|slt|sorry") in call.conn.apps
    assert len(call.hangups) == 1


def test_fallback_failing_too_hangs_up(caplog):
    """When the fallback fails as well the call is hung up after two error lines."""
    call = make(
        {ANSWER: FetchError("a: HTTP 500"), FALLBACK: Invalid("fallback.xml:1:1 <Response>: bad")},
        fallback_url=FALLBACK,
    )
    call.run()
    assert errors(caplog) == [
        f"call {UUID}: cannot fetch the document: a: HTTP 500; trying the fallback URL {FALLBACK}",
        f"call {UUID}: invalid document from {FALLBACK}: fallback.xml:1:1 <Response>: bad; "
        "hanging up",
    ]
    assert len(call.hangups) == 1


def test_invalid_document_lists_every_problem_on_one_line(caplog):
    """Validation problems (one per line in the error) are logged as one line."""
    problems = Invalid(
        "answer.xml:3:5 <Play> loop: must be an integer >= 0 (got 'x')\n"
        "answer.xml:4:5 <Bogus>: unknown verb"
    )
    call = make({ANSWER: problems})
    call.run()
    assert errors(caplog) == [
        f"call {UUID}: invalid document from {ANSWER}: answer.xml:3:5 <Play> loop: must be an "
        "integer >= 0 (got 'x'); answer.xml:4:5 <Bogus>: unknown verb; hanging up"
    ]
    assert call.conn.apps == []
    assert len(call.hangups) == 1


def test_a_flood_of_problems_is_one_short_line(caplog):
    """60,000 unknown elements are logged as the first 20 problems and how many more, not 9.5 MB."""
    from plivoxml_fs.documents import DocumentInvalid, parse_document

    with pytest.raises(DocumentInvalid) as err:
        parse_document(b"<Response>" + b"<X/>" * 60_000 + b"</Response>", source="answer.xml",
                       max_bytes=256 * 1024)
    call = make({ANSWER: err.value})
    call.run()
    (line,) = errors(caplog)
    assert line.startswith(f"call {UUID}: invalid document from {ANSWER}: answer.xml:1:11 <X>: ")
    assert line.endswith("; answer.xml: and 59980 more problems (only the first 20 are listed); "
                         "hanging up")
    assert len(line) < 4000
    assert len(call.hangups) == 1


def test_document_warnings_are_logged_and_the_document_runs(caplog):
    """A document's warnings are WARNING lines naming the call; its verbs still run."""
    warned = attrs.evolve(doc((Wait(length=1),)), warnings=(
        "answer.xml:2:5 <Conference> digitsMatch: does nothing without callbackUrl (that is "
        "where it is reported)",
    ))
    call = make({ANSWER: warned})
    call.run()
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
        f"call {UUID}: answer.xml:2:5 <Conference> digitsMatch: does nothing without callbackUrl "
        "(that is where it is reported)"
    ]
    assert call.conn.apps == [("sleep", "1000")]


def test_the_calls_lines_carry_its_numbers_for_masking(caplog):
    """Every line of a call carries its From/To (hidden), so the formatter masks them anywhere."""
    from plivoxml_fs.logs import NUMBERS_EXTRA

    call = make({ANSWER: FetchError("HTTP 500")})
    call.conn.channel.headers["Caller-Caller-ID-Number"] = "14155550100"
    call.run()
    (line,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "14155550100" in getattr(line, NUMBERS_EXTRA)


def test_unsafe_value_never_reaches_freeswitch(caplog):
    """A Play URL with CR/LF: one error line, the call hung up, the value never sent."""
    call = make({ANSWER: doc((Play(MEDIA + "\r\nexecute-app-name: system", where=HERE),))})
    call.run()
    assert not any(b"system" in data for data in call.conn.sent)
    (line,) = errors(caplog)
    assert line.startswith(f"call {UUID}: <Play> at answer.xml:1:1: audio URL contains CR, LF")
    assert len(call.hangups) == 1


def test_no_answer_url(caplog):
    """Without any answer URL the call is hung up with one error line."""
    call = make({}, answer_url="")
    call.run()
    assert errors(caplog) == [
        f"call {UUID}: no answer URL (channel variable plivoxml_answer_url or settings); hanging up"
    ]
    assert len(call.hangups) == 1


def test_no_hangup_url_no_callback():
    """Without a hangup URL nothing is emitted."""
    call = make({ANSWER: doc((Speak("x"),))}, hangup_url="")
    call.run()
    assert call.outbox.emitted == []


def test_already_answered_leg_is_not_answered_again():
    """A leg that reaches us answered is reported in-progress and gets no `answer`."""
    channel = channel_data()
    answered = attrs.evolve(
        channel,
        headers={
            **channel.headers,
            "Answer-State": "answered",
            "Caller-Channel-Answered-Time": "1795489388973048",
        },
    )
    call = make({ANSWER: doc((Speak("hi"),))})
    call.conn = FakeConnection(answered)
    call.run()
    assert [app for app, _ in call.conn.apps] == ["speak"]
    assert call.fetcher.requests[0][2]["CallStatus"] == "in-progress"


def test_a_bug_still_ends_the_call_cleanly(caplog):
    """An unexpected exception is logged with its traceback; hangup and callback still happen."""
    call = make({ANSWER: RuntimeError("parser bug")})
    call.run()
    assert errors(caplog) == [f"call {UUID}: driver failed"]
    assert caplog.records[-1].exc_info is not None
    assert commands.hangup("NORMAL_TEMPORARY_FAILURE").encode() in call.conn.sent
    assert call.conn.lines[-1] == "exit"
    assert len(call.hangups) == 1


def test_wait_answers_only_when_it_listens_for_silence():
    """A plain Wait keeps the call ringing; a silence-detecting Wait answers it first."""
    call = make({ANSWER: doc((Wait(length=2), Wait(length=2, silence=True)))})
    call.run()
    assert [app for app, _ in call.conn.apps] == ["sleep", "answer", "detect_silence"]


def test_freeswitch_refusing_an_application(caplog):
    """-ERR to a sendmsg execute: one error line naming the verb and reply, then hangup."""
    call = make({ANSWER: doc((Speak("hi", where=HERE), Play(MEDIA)))})
    call.conn.refuse("speak", "-ERR no tts engine")
    call.run()
    assert errors(caplog) == [
        f"call {UUID}: <Speak> at answer.xml:1:1: FreeSWITCH: 'sendmsg speak' failed: "
        "-ERR no tts engine; hanging up"
    ]
    assert not any(app == "playback" for app, _ in call.conn.apps)
    assert commands.hangup("NORMAL_TEMPORARY_FAILURE").encode() in call.conn.sent
    assert len(call.hangups) == 1


def test_first_reasonless_hangup_rejects_the_call():
    """<Hangup/> alone: the unanswered call is rejected (CALL_REJECTED), as Plivo documents."""
    call = make({ANSWER: doc((Hangup(),))})
    call.run()
    assert commands.hangup("CALL_REJECTED").encode() in call.conn.sent
    assert call.hangups[0].params["HangupCause"] == "CALL_REJECTED"


def test_reasonless_hangup_after_media_is_normal_clearing():
    """<Speak/><Hangup/>: the call was answered, so the hangup is NORMAL_CLEARING."""
    call = make({ANSWER: doc((Speak("bye"), Hangup()))})
    call.run()
    assert commands.hangup("NORMAL_CLEARING").encode() in call.conn.sent


def plivo_cause(hook) -> tuple[str, str, str]:
    return hook.params["HangupCauseCode"], hook.params["HangupCauseName"], hook.params[
        "HangupSource"]


@pytest.mark.parametrize(
    ("docs", "script", "expected"),
    [
        ({ANSWER: doc((Speak("Bye"),))}, None, ("4010", "End Of XML Instructions", "Plivo")),
        ({ANSWER: doc((Speak("a"), Hangup()))}, None, ("4000", "Normal Hangup", "Answer XML")),
        ({ANSWER: doc((Hangup(reason="busy"),))}, None, ("3010", "Busy Line", "Answer XML")),
        ({ANSWER: doc((Hangup(),))}, None, ("3020", "Rejected", "Answer XML")),
        ({ANSWER: doc((Play(MEDIA), Speak("never")))}, "hang_up_during",
         ("4000", "Normal Hangup", "Caller")),
        ({ANSWER: doc((Wait(length=5),))}, "lose_during", ("0", "Unknown", "Unknown")),
        ({ANSWER: FetchError("a: HTTP 500")}, None, ("7011", "Error Reaching Answer URL", "Error")),
        ({ANSWER: Invalid("answer.xml:1:1 <Response>: bad")}, None,
         ("8011", "Invalid Answer XML", "Error")),
        ({ANSWER: doc((Redirect("http://app.example.com/r"),)),
          "http://app.example.com/r": FetchError("r: HTTP 404")}, None,
         ("7014", "Error Reaching Redirect URL", "Error")),
        ({ANSWER: doc((Redirect("http://app.example.com/r"),)),
          "http://app.example.com/r": Invalid("r.xml:1:1 <Bogus>: unknown verb")}, None,
         ("8014", "Invalid Redirect XML", "Error")),
        ({ANSWER: doc((Redirect(ANSWER),))}, None, ("5010", "Internal Error", "Error")),
        ({}, None, ("7011", "Error Reaching Answer URL", "Error")),
    ],
    ids=["end-of-xml", "hangup-verb", "busy", "rejected", "caller", "lost", "answer-fetch",
         "answer-invalid", "redirect-fetch", "redirect-invalid", "redirect-limit", "no-url"],
)
def test_hangup_callback_says_plivos_cause(docs, script, expected):
    """Every ending has its Plivo HangupCauseCode, HangupCauseName and HangupSource."""
    call = make(docs, **({} if docs else {"answer_url": ""}))
    if script == "hang_up_during":
        call.conn.hang_up_during("playback")
    elif script == "lose_during":
        call.conn.lose_during("sleep")
    call.run()
    (hook,) = call.hangups
    assert plivo_cause(hook) == expected


def test_freeswitch_refusing_is_an_internal_error():
    """FreeSWITCH -ERR to a verb's application: 5010 Internal Error, source Error."""
    call = make({ANSWER: doc((Speak("hi", where=HERE),))})
    call.conn.refuse("speak", "-ERR no tts engine")
    call.run()
    assert plivo_cause(call.hangups[0]) == ("5010", "Internal Error", "Error")


def test_fallback_failure_decides_the_code():
    """Answer URL unreachable, fallback invalid: the fallback's failure, 8011 Invalid Answer XML."""
    call = make({ANSWER: FetchError("a: HTTP 500"), FALLBACK: Invalid("f.xml:1:1 <X>: bad")},
                fallback_url=FALLBACK)
    call.run()
    assert plivo_cause(call.hangups[0]) == ("8011", "Invalid Answer XML", "Error")


def _action_verb(goto, *, hang_up: bool):
    """An executor for Speak that returns `goto` (hanging the call up first when asked)."""
    def run(verb, ctx):
        if hang_up:
            ctx.conn.caller_hangs_up()
        return goto
    return run


def test_action_document_failures_are_action_codes(monkeypatch):
    """An action URL (redirect=true) that fails or returns an invalid document: 7012 / 8012."""
    from plivoxml_fs.verbs import registry
    from plivoxml_fs.verbs.base import ACTION, Goto

    act = "http://app.example.com/act"
    monkeypatch.setattr(registry, "executor_for",
                        lambda verb: _action_verb(Goto(act, kind=ACTION), hang_up=False))
    for failure, expected in ((FetchError("act: HTTP 503"), ("7012", "Error Reaching Action URL")),
                              (Invalid("act.xml:1:1 <X>: bad"), ("8012", "Invalid Action XML"))):
        call = make({ANSWER: doc((Speak("in"),)), act: failure})
        call.run()
        assert plivo_cause(call.hangups[0]) == (*expected, "Error")


def test_hangup_before_the_action_fetch_still_requests_it(monkeypatch):
    """The call hangs up between a verb's end and its action URL's fetch: the action URL is
    requested through the outbox (CallStatus completed, the verb's parameters), not fetched,
    and comes before the hangup callback."""
    from plivoxml_fs.verbs import registry
    from plivoxml_fs.verbs.base import ACTION, Goto

    act = "http://app.example.com/act"
    goto = Goto(act, "GET", {"ConferenceExitReason": "kicked"}, kind=ACTION)
    monkeypatch.setattr(registry, "executor_for", lambda verb: _action_verb(goto, hang_up=True))
    call = make({ANSWER: doc((Speak("in"),)), act: doc((Speak("never"),))})
    call.run()
    assert [u for u, _, _ in call.fetcher.requests] == [ANSWER]
    assert [w.kind for w in call.outbox.emitted] == ["action", "hangup"]
    action = call.outbox.emitted[0]
    assert (action.url, action.method, action.call_uuid) == (act, "GET", UUID)
    assert action.params["ConferenceExitReason"] == "kicked"
    assert (action.params["CallStatus"], action.params["CallUUID"]) == ("completed", UUID)


def test_hangup_before_a_redirect_fetch_requests_nothing(monkeypatch):
    """A <Redirect> is not an action: a hangup before its fetch sends nothing but the hangup."""
    from plivoxml_fs.verbs import registry
    from plivoxml_fs.verbs.base import Goto

    goto = Goto("http://app.example.com/r")
    monkeypatch.setattr(registry, "executor_for", lambda verb: _action_verb(goto, hang_up=True))
    call = make({ANSWER: doc((Speak("in"),))})
    call.run()
    assert [w.kind for w in call.outbox.emitted] == ["hangup"]
class JournalOutbox(RecordingOutbox):
    """A RecordingOutbox that also logs every journal step, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.steps: list[tuple] = []

    def call_started(self, call_uuid, url, method, channel, answered_us=0) -> None:
        self.steps.append(("started", call_uuid, url, method, answered_us))
        super().call_started(call_uuid, url, method, channel, answered_us)

    def call_answered(self, call_uuid, answered_us) -> None:
        self.steps.append(("answered", call_uuid, answered_us > 0))
        super().call_answered(call_uuid, answered_us)

    def emit(self, webhook) -> None:
        self.steps.append(("emit", webhook.kind))
        super().emit(webhook)


def test_call_is_journalled_from_its_start_to_its_hangup_callback():
    """A call with a hangup URL is journalled before its first command, its answer recorded,
    and the hangup webhook (which closes the journal row) is the last step."""
    call = make({ANSWER: doc((Speak("Hello"),))}, hangup_method="GET")
    call.outbox = JournalOutbox()
    call.run()
    assert call.outbox.steps == [
        ("started", call.conn.uuid, HANGUP, "GET", 0),
        ("answered", call.conn.uuid, True),
        ("emit", "hangup"),
    ]
    assert call.outbox.journal == {}


def test_call_without_hangup_url_is_not_journalled():
    """No hangup URL, nothing to recover: no journal row."""
    call = make({ANSWER: doc((Hangup(),))}, hangup_url="")
    call.outbox = JournalOutbox()
    call.run()
    assert call.outbox.steps == []
