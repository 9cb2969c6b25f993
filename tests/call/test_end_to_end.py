"""A whole call through the embedded FreeSWITCH: originate, the daemon's socket, documents
fetched over HTTP, media the caller hears, the hangup callback posted to the web app."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl

import gevent
import pytest
from gevent.pywsgi import WSGIServer

from plivoxml_fs.call.driver import CallDriver
from plivoxml_fs.config import Settings
from plivoxml_fs.effects.fetch import DocumentFetcher
from plivoxml_fs.effects.outbox import Outbox
from plivoxml_fs.esl.server import OutboundServer
from plivoxml_fs.simulator import EmbeddedFreeSwitch

SOUNDS = Path(__file__).resolve().parents[2] / "examples" / "sounds"

WELCOME = """<?xml version="1.0" encoding="UTF-8"?>
<Response>
    <PreAnswer><Speak>Please hold.</Speak></PreAnswer>
    <Speak voice="WOMAN">Welcome.</Speak>
    <Play loop="2">{base}/sounds/chime.wav</Play>
    <Wait length="1"/>
    <Redirect method="GET">{base}/goodbye.xml</Redirect>
</Response>"""

GOODBYE = """<Response><Speak voice="MAN">Goodbye.</Speak><Hangup/></Response>"""
BUSY = """<Response><Hangup reason="busy"/></Response>"""


class WebApp:
    """Serves documents and the chime, records every request (method, path, params)."""

    def __init__(self, documents: dict[str, str]) -> None:
        self.documents = documents
        self.hits: list[tuple[str, str, dict]] = []
        self.base = ""

    def __call__(self, environ, start_response):
        path = environ["PATH_INFO"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        form = environ["wsgi.input"].read(length).decode() if length else ""
        params = dict(parse_qsl(form or environ.get("QUERY_STRING", ""), keep_blank_values=True))
        self.hits.append((environ["REQUEST_METHOD"], path, params))
        if path in self.documents:
            start_response("200 OK", [("Content-Type", "application/xml")])
            return [self.documents[path].format(base=self.base).encode()]
        if path == "/sounds/chime.wav":
            start_response("200 OK", [("Content-Type", "audio/wav")])
            return [(SOUNDS / "chime.wav").read_bytes()]
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b""]


@pytest.fixture
def world(tmp_path):
    """Web app, daemon (driver + outbound server + outbox) and embedded FreeSWITCH, wired."""
    servers = []

    def build(documents: dict[str, str]):
        app = WebApp(documents)
        web = WSGIServer(("127.0.0.1", 0), app, log=None, error_log=None)
        web.start()
        app.base = f"http://127.0.0.1:{web.server_port}"
        settings = Settings(
            answer_url=f"{app.base}/answer.xml",
            hangup_url=f"{app.base}/hangup",
            command_timeout_s=5.0,
            linger_s=1,
        )
        outbox = Outbox(pool_size=2, connect_timeout_s=1.0, read_timeout_s=2.0, backoff_s=())
        driver = CallDriver(settings, DocumentFetcher.from_settings(settings), outbox)
        daemon = OutboundServer(("127.0.0.1", 0), driver.handle, max_calls=4, command_timeout_s=5.0)
        daemon.start()
        fs = EmbeddedFreeSwitch(
            socket_address=daemon.address, time_scale=0.02, media_dir=str(tmp_path)
        )
        fs.start()
        servers.extend([fs, daemon, web, outbox])
        return app, fs, daemon, outbox

    yield build
    for thing in servers:
        if isinstance(thing, EmbeddedFreeSwitch):
            thing.stop()
        else:
            thing.stop(timeout=1)


def call(fs: EmbeddedFreeSwitch, daemon: OutboundServer, name: str):
    """Originate a test call; return the B leg (the channel the daemon controls) once over."""
    a_leg = fs.originate(
        f"{{origination_uuid=aleg-{name},origination_caller_id_number=1001}}loopback/{name}/default"
    )
    assert fs.wait_hangup(a_leg, 15), "the call did not end"
    b_uuid = fs.channel(a_leg).variables["other_loopback_leg_uuid"]
    assert fs.wait_hangup(b_uuid, 5)
    with gevent.Timeout(5):
        while daemon.active:
            gevent.sleep(0.01)
    return fs.channel(b_uuid)


def test_documents_run_and_the_caller_hears_them(world):
    """PreAnswer, answer, speech, two chimes, a wait, a redirect, goodbye, hangup, callback."""
    app, fs, daemon, outbox = world({"/answer.xml": WELCOME, "/goodbye.xml": GOODBYE})
    b_leg = call(fs, daemon, "e2e1")
    kinds = [record.kind for record in b_leg.history]
    assert kinds == [
        "pre_answered",
        "spoke",
        "answered",
        "spoke",
        "played",
        "played",
        "slept",
        "spoke",
        "hangup",
    ], b_leg.history
    assert outbox.flush(5)
    hangups = [p for m, path, p in app.hits if path == "/hangup"]
    assert len(hangups) == 1
    assert hangups[0]["CallUUID"] == b_leg.uuid
    assert (hangups[0]["HangupCause"], hangups[0]["HangupSource"]) == (
        "NORMAL_CLEARING",
        "Answer XML",
    )
    assert (hangups[0]["HangupCauseCode"], hangups[0]["HangupCauseName"]) == (
        "4000",
        "Normal Hangup",
    )
    fetched = [(m, path) for m, path, _ in app.hits if path.endswith(".xml")]
    assert fetched == [("POST", "/answer.xml"), ("GET", "/goodbye.xml")]


def test_busy_rejects_without_answering(world):
    """<Hangup reason=busy>: never answered, hung up USER_BUSY, the callback says so."""
    app, fs, daemon, outbox = world({"/answer.xml": BUSY})
    b_leg = call(fs, daemon, "e2e2")
    assert [str(r) for r in b_leg.history] == ["hangup USER_BUSY"]
    assert outbox.flush(5)
    (hangup,) = [p for m, path, p in app.hits if path == "/hangup"]
    assert hangup["HangupCause"] == "USER_BUSY"
    assert (hangup["HangupCauseCode"], hangup["HangupCauseName"], hangup["HangupSource"]) == (
        "3010",
        "Busy Line",
        "Answer XML",
    )
    assert (hangup["AnswerTime"], hangup["SessionStart"]) == ("", "")


def test_caller_hangs_up_during_endless_play(world):
    """<Play loop=0> until the caller hangs up: the daemon stops, one callback, source Caller."""
    app, fs, daemon, outbox = world(
        {"/answer.xml": '<Response><Play loop="0">{base}/sounds/chime.wav</Play></Response>'}
    )
    a_leg = fs.originate("{origination_uuid=aleg-e2e3}loopback/e2e3/default")
    b_uuid = fs.channel(a_leg).variables["other_loopback_leg_uuid"]
    with gevent.Timeout(5):
        while not any(r.kind == "played" for r in fs.channel(b_uuid).history):
            gevent.sleep(0.01)
    fs.api(f"uuid_kill {a_leg}")
    assert fs.wait_hangup(b_uuid, 5)
    with gevent.Timeout(5):
        while daemon.active:
            gevent.sleep(0.01)
    assert outbox.flush(5)
    (hangup,) = [p for m, path, p in app.hits if path == "/hangup"]
    assert hangup["CallUUID"] == b_uuid
    assert (hangup["HangupCauseCode"], hangup["HangupCauseName"], hangup["HangupSource"]) == (
        "4000",
        "Normal Hangup",
        "Caller",
    )
    assert hangup["AnswerTime"] != ""


#: Every hangup URL parameter of reference/plivo-hangup-causes.md §1 that applies to a call
#: this daemon runs (no Call API, STIR verification, machine detection or billing here).
HANGUP_PARAMS = {"CallUUID", "From", "To", "CallerName", "Direction", "CallStatus", "Event",
                 "Duration", "BillDuration", "HangupCause", "HangupCauseName", "HangupCauseCode",
                 "HangupSource", "StartTime", "AnswerTime", "EndTime", "SessionStart"}


def test_completed_document_is_end_of_xml(world):
    """A document that runs out of elements: the daemon hangs up, 4010 End Of XML Instructions
    from Plivo, and the callback carries every hangup parameter of the reference."""
    app, fs, daemon, outbox = world({"/answer.xml": "<Response><Speak>Hi.</Speak></Response>"})
    b_leg = call(fs, daemon, "e2e4")
    assert outbox.flush(5)
    (hangup,) = [p for m, path, p in app.hits if path == "/hangup"]
    assert hangup["CallUUID"] == b_leg.uuid
    assert (hangup["HangupCause"], hangup["HangupCauseCode"], hangup["HangupCauseName"],
            hangup["HangupSource"]) == ("NORMAL_CLEARING", "4010", "End Of XML Instructions",
                                        "Plivo")
    assert set(hangup) == HANGUP_PARAMS
    assert hangup["SessionStart"].startswith(hangup["AnswerTime"] + ".")
    assert (hangup["Event"], hangup["CallStatus"]) == ("Hangup", "completed")


def test_invalid_document_is_invalid_answer_xml(world):
    """An answer document that fails validation: the call is hung up, 8011 Invalid Answer XML,
    source Error; one that cannot be fetched (not XML): 7011 Error Reaching Answer URL."""
    app, fs, daemon, outbox = world({"/answer.xml": "<Response><Bogus/></Response>"})
    call(fs, daemon, "e2e5")
    assert outbox.flush(5)
    (hangup,) = [p for m, path, p in app.hits if path == "/hangup"]
    assert (hangup["HangupCause"], hangup["HangupCauseCode"], hangup["HangupCauseName"],
            hangup["HangupSource"]) == ("NORMAL_TEMPORARY_FAILURE", "8011", "Invalid Answer XML",
                                        "Error")
    del app.documents["/answer.xml"]  # now served as text/plain
    call(fs, daemon, "e2e6")
    assert outbox.flush(5)
    hangups = [p for m, path, p in app.hits if path == "/hangup"]
    assert (hangups[-1]["HangupCauseCode"], hangups[-1]["HangupCauseName"]) == (
        "7011", "Error Reaching Answer URL")


def test_scheduled_hangup_is_told_from_the_caller(world):
    """<Hangup schedule="1"> during an endless Play: FreeSWITCH's timer ends the call with
    ALLOTTED_TIMEOUT, reported as 6000 Scheduled Hangup from Plivo, not as the caller."""
    app, fs, daemon, outbox = world({"/answer.xml": (
        '<Response><Speak>Hi.</Speak><Hangup schedule="1"/>'
        '<Play loop="0">{base}/sounds/chime.wav</Play></Response>')})
    call(fs, daemon, "e2e7")
    assert outbox.flush(5)
    (hangup,) = [p for m, path, p in app.hits if path == "/hangup"]
    assert (hangup["HangupCause"], hangup["HangupCauseCode"], hangup["HangupCauseName"],
            hangup["HangupSource"]) == ("ALLOTTED_TIMEOUT", "6000", "Scheduled Hangup", "Plivo")
