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
from plivoxml_fs.esl.server import OutboundServer
from plivoxml_fs.testing import FakeFetcher, RecordingOutbox

UUID = "7d1f2a9c-0000-4000-8000-000000000001"
ANSWER = "http://example.test/answer?a=1&b=2"  # what fakefs.channel_data names
DOC = b"doc"


def _hangup_event(cause: str, uuid: str) -> list[tuple[str, str]]:
    return [
        ("Event-Name", "CHANNEL_HANGUP"),
        ("Unique-ID", uuid),
        ("Answer-State", "hangup"),
        ("Hangup-Cause", cause),
        ("Caller-Channel-Created-Time", "1795489386973048"),
        ("Caller-Channel-Answered-Time", "1795489386993036"),
        ("Event-Date-Timestamp", "1795489391573057"),
    ]


def _complete(side: FakeSide, command, uuid: str, response: str = "FILE PLAYED") -> None:
    side.event(
        [
            ("Event-Name", "CHANNEL_EXECUTE_COMPLETE"),
            ("Unique-ID", uuid),
            ("Application", command.get("execute-app-name")),
            ("Application-Response", response),
            ("Application-UUID", command.get("Event-UUID")),
        ]
    )


def freeswitch(side: FakeSide, *, on_playback: str = "complete", uuid: str = UUID) -> list[str]:
    """FreeSWITCH's part of one call; returns the app names / call-commands it received."""
    answer_call(side, uuid)
    seen: list[str] = []
    while True:
        command = side.read()
        if command is None:
            return seen
        if command.line == "exit":
            side.reply("+OK bye")
            side.notice("disconnect", uuid)
            side.close()
            return [*seen, "exit"]
        if command.line != "sendmsg":
            side.reply("+OK")
            continue
        app = command.get("execute-app-name") or command.get("call-command")
        seen.append(app)
        side.reply("+OK")
        if app == "hangup":
            side.event(_hangup_event(command.get("hangup-cause"), uuid))
            side.notice("linger", uuid)
        elif app == "playback" and on_playback == "caller hangs up":
            side.event(_hangup_event("ORIGINATOR_CANCEL", uuid))
            side.notice("linger", uuid)
            _complete(side, command, uuid)
        elif app == "playback" and on_playback == "drop":
            side.close()
            return seen
        else:
            _complete(side, command, uuid)


def start(max_calls: int = 4, command_timeout_s: float = 1.0) -> tuple[OutboundServer,
                                                                      RecordingOutbox]:
    """An OutboundServer running the driver; its documents come from fakes."""
    outbox = RecordingOutbox()
    fetcher = FakeFetcher({ANSWER: DOC})
    settings = Settings(hangup_url="http://example.test/hangup",
                        command_timeout_s=command_timeout_s, linger_s=5)
    docs = {DOC: doc((Speak("Welcome"), Play("http://example.test/a.wav")))}
    driver = CallDriver(settings, fetcher, outbox, parse=lambda data, **_: docs[data])
    server = OutboundServer(
        ("127.0.0.1", 0), driver.handle, max_calls=max_calls, command_timeout_s=command_timeout_s
    )
    server.start()
    return server, outbox


def wait_idle(server: OutboundServer, timeout: float) -> None:
    with gevent.Timeout(timeout):
        while server.active:
            gevent.sleep(0.01)


@pytest.fixture
def call():
    server, outbox = start()

    def run(**script) -> tuple[list[str], RecordingOutbox]:
        side = dial(server.address)
        seen = gevent.spawn(freeswitch, side, **script).get(timeout=5)
        wait_idle(server, 5)
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


def test_many_calls_at_once_each_end_once():
    """100 concurrent calls: each runs its document and gets exactly one hangup callback."""
    # a reply may take seconds to come on a loaded machine: no command times out here
    server, outbox = start(max_calls=200, command_timeout_s=15.0)
    try:
        uuids = [f"7d1f2a9c-0000-4000-8000-{n:012d}" for n in range(100)]
        peers = [gevent.spawn(freeswitch, dial(server.address), uuid=u) for u in uuids]
        gevent.joinall(peers, timeout=60, raise_error=True)
        assert all(p.ready() for p in peers), "calls still running after 60 s"
        wait_idle(server, 15)
        assert all(p.value == ["answer", "speak", "playback", "hangup", "exit"] for p in peers)
        hooks = outbox.of_kind("hangup")
        assert sorted(w.call_uuid for w in hooks) == sorted(uuids)
        assert {(w.params["CallUUID"] == w.call_uuid, w.params["Duration"]) for w in hooks} == {
            (True, "5")
        }
    finally:
        server.stop(timeout=1)
