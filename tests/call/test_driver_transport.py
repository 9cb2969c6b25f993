"""CallDriver as the OutboundServer handler over real TCP: the transport's correlation,
hangup flag and connection loss drive the call the way a FreeSWITCH would (scripted peer)."""

from __future__ import annotations

import gevent
import pytest
from esl.fakefs import FakeSide, answer_call, dial
from verbs.helpers import doc

from plivoxml_fs.call.driver import CallDriver
from plivoxml_fs.config import Settings
from plivoxml_fs.documents import Play, Speak
from plivoxml_fs.esl.transport import OutboundServer
from plivoxml_fs.testing import FakeFetcher, RecordingOutbox

UUID = "7d1f2a9c-0000-4000-8000-000000000001"
ANSWER = "http://example.test/answer?a=1&b=2"  # what fakefs.channel_data names
DOC = b"doc"


def _hangup_event(cause: str) -> list[tuple[str, str]]:
    return [
        ("Event-Name", "CHANNEL_HANGUP"),
        ("Unique-ID", UUID),
        ("Answer-State", "hangup"),
        ("Hangup-Cause", cause),
        ("Caller-Channel-Created-Time", "1795489386973048"),
        ("Caller-Channel-Answered-Time", "1795489386993036"),
        ("Event-Date-Timestamp", "1795489391573057"),
    ]


def _complete(side: FakeSide, command, response: str = "FILE PLAYED") -> None:
    side.event(
        [
            ("Event-Name", "CHANNEL_EXECUTE_COMPLETE"),
            ("Unique-ID", UUID),
            ("Application", command.get("execute-app-name")),
            ("Application-Response", response),
            ("Application-UUID", command.get("Event-UUID")),
        ]
    )


def freeswitch(side: FakeSide, *, on_playback: str = "complete") -> list[str]:
    """FreeSWITCH's part of one call; returns the app names / call-commands it received."""
    answer_call(side, UUID)
    seen: list[str] = []
    while True:
        command = side.read()
        if command is None:
            return seen
        if command.line == "exit":
            side.reply("+OK bye")
            side.notice("disconnect", UUID)
            side.close()
            return [*seen, "exit"]
        if command.line != "sendmsg":
            side.reply("+OK")
            continue
        app = command.get("execute-app-name") or command.get("call-command")
        seen.append(app)
        side.reply("+OK")
        if app == "hangup":
            side.event(_hangup_event(command.get("hangup-cause")))
            side.notice("linger", UUID)
        elif app == "playback" and on_playback == "caller hangs up":
            side.event(_hangup_event("ORIGINATOR_CANCEL"))
            side.notice("linger", UUID)
            _complete(side, command, "FILE PLAYED")
        elif app == "playback" and on_playback == "drop":
            side.close()
            return seen
        else:
            _complete(side, command)


@pytest.fixture
def call():
    outbox = RecordingOutbox()
    fetcher = FakeFetcher({ANSWER: DOC})
    settings = Settings(hangup_url="http://example.test/hangup", command_timeout_s=1.0, linger_s=5)
    docs = {DOC: doc((Speak("Welcome"), Play("http://example.test/a.wav")))}
    driver = CallDriver(settings, fetcher, outbox, parse=lambda data, **_: docs[data])
    server = OutboundServer(("127.0.0.1", 0), driver.handle, max_calls=4, command_timeout_s=1.0)
    server.start()

    def run(**script) -> tuple[list[str], RecordingOutbox]:
        side = dial(server.address)
        seen = gevent.spawn(freeswitch, side, **script).get(timeout=5)
        with gevent.Timeout(5):
            while server.active:
                gevent.sleep(0.01)
        return seen, outbox

    yield run
    server.stop(timeout=1)


def test_document_runs_to_its_end(call):
    """answer, speak, playback, our hangup, exit; the hangup URL gets FreeSWITCH's cause."""
    seen, outbox = call()
    assert seen == ["answer", "speak", "playback", "hangup", "exit"]
    (hook,) = outbox.of_kind("hangup")
    assert (hook.params["HangupCause"], hook.params["HangupSource"]) == ("NORMAL_CLEARING", "Plivo")
    assert (hook.params["Duration"], hook.params["BillDuration"]) == ("5", "5")


def test_caller_hangs_up_during_playback(call):
    """CHANNEL_HANGUP mid-playback: no hangup from us, exit, callback once with the cause."""
    seen, outbox = call(on_playback="caller hangs up")
    assert seen == ["answer", "speak", "playback", "exit"]
    (hook,) = outbox.of_kind("hangup")
    assert (hook.params["HangupCause"], hook.params["HangupSource"]) == (
        "ORIGINATOR_CANCEL",
        "Caller",
    )


def test_freeswitch_drops_the_socket_during_playback(call):
    """The socket closes mid-playback: the driver ends at once, callback once, source Unknown."""
    seen, outbox = call(on_playback="drop")
    assert seen == ["answer", "speak", "playback"]
    (hook,) = outbox.of_kind("hangup")
    assert (hook.params["HangupCause"], hook.params["HangupSource"]) == (
        "NORMAL_UNSPECIFIED",
        "Unknown",
    )
