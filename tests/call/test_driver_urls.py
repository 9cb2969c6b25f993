"""The URL channel variables as the driver reads them: with uuid_getvar (over the inbound
connection when there is one), before the call is subscribed to anything; the connect reply's
decoded copy only when that fails, with a WARNING; and the confirmation of a call's Unique-ID."""

from __future__ import annotations

import logging

from plivoxml_fs.call.driver import CallDriver
from plivoxml_fs.config import Settings
from plivoxml_fs.errors import CommandTimeout, ConnectionLost
from plivoxml_fs.testing import FakeConnection, FakeFetcher, RecordingOutbox, channel_data

UUID = "fb118d4e-457b-4ae3-ba78-63b3e536d86f"
HANGUP_DOC = b"<Response><Hangup/></Response>"
#: What the dialplan set, and what the connect reply's decoded copy of it reads.
SET = "http://app.example.com/answer?sig=a%2Bb%26c%3Dd"
DECODED = "http://app.example.com/answer?sig=a+b&c=d"
HANGUP_SET = "http://app.example.com/hangup?t=x%2By"


class Inbound:
    """The inbound connection: answers uuid_exists and uuid_getvar from a dict."""

    def __init__(self, answers):
        self.answers = answers
        self.asked: list[str] = []

    def api(self, cmd, *, timeout=None, check=True):
        self.asked.append(cmd)
        answer = self.answers[cmd]
        if isinstance(answer, Exception):
            raise answer
        return answer


def _conn() -> FakeConnection:
    return FakeConnection(channel_data(UUID, variables={
        "plivoxml_answer_url": DECODED, "plivoxml_hangup_url": "http://app.example.com/hangup?t=x+y"}))


def _driver(fetcher, inbound=None, outbox=None) -> CallDriver:
    return CallDriver(Settings(linger_s=10), fetcher, outbox or RecordingOutbox(), inbound)


def test_url_variables_are_read_with_uuid_getvar_on_the_inbound_connection():
    """The answer and hangup URLs are what uuid_getvar answers on the inbound connection (not
    the connect reply's copy), asked before myevents; an unset variable is not asked for."""
    inbound = Inbound({f"uuid_getvar {UUID} plivoxml_answer_url": SET,
                       f"uuid_getvar {UUID} plivoxml_hangup_url": HANGUP_SET})
    fetcher = FakeFetcher({SET: HANGUP_DOC})
    outbox = RecordingOutbox()
    conn = _conn()
    _driver(fetcher, inbound, outbox).handle(conn)
    assert [url for url, _, _ in fetcher.requests] == [SET]
    assert [w.url for w in outbox.of_kind("hangup")] == [HANGUP_SET]
    assert inbound.asked == [f"uuid_getvar {UUID} plivoxml_answer_url",
                             f"uuid_getvar {UUID} plivoxml_hangup_url"]
    assert conn.lines[0] == "myevents"


def test_without_an_inbound_client_the_call_socket_is_asked():
    """With no inbound client (Daemon.start_server alone) uuid_getvar goes over the call's own
    socket, first of all."""
    conn = _conn()
    _driver(FakeFetcher({DECODED: HANGUP_DOC})).handle(conn)
    assert conn.lines[:3] == [f"api uuid_getvar {UUID} plivoxml_answer_url",
                              f"api uuid_getvar {UUID} plivoxml_hangup_url", "myevents"]


def test_when_uuid_getvar_fails_the_connect_reply_copy_is_used_with_a_warning(caplog):
    """A channel already gone (-ERR) or an inbound connection lost: the decoded copy is used,
    one WARNING per variable says so; `_undef_` means unset (the settings' URL then)."""
    inbound = Inbound({f"uuid_getvar {UUID} plivoxml_answer_url": "-ERR No such channel!\n",
                       f"uuid_getvar {UUID} plivoxml_hangup_url": ConnectionLost("inbound: gone")})
    fetcher = FakeFetcher({DECODED: HANGUP_DOC})
    _driver(fetcher, inbound).handle(_conn())
    assert [url for url, _, _ in fetcher.requests] == [DECODED]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        f"call {UUID}: cannot read plivoxml_answer_url as set (-ERR No such channel!); using the "
        "connect reply's copy, whose %XX escapes came decoded",
        f"call {UUID}: cannot read plivoxml_hangup_url as set (inbound: gone); using the "
        "connect reply's copy, whose %XX escapes came decoded",
    ]


def test_undef_means_the_settings_url():
    """uuid_getvar answering `_undef_` (unset meanwhile) falls back to the settings' URL."""
    inbound = Inbound({f"uuid_getvar {UUID} plivoxml_answer_url": "_undef_",
                       f"uuid_getvar {UUID} plivoxml_hangup_url": "_undef_"})
    fetcher = FakeFetcher({"http://settings.example.com/a": HANGUP_DOC})
    driver = CallDriver(Settings(linger_s=10, answer_url="http://settings.example.com/a"),
                        fetcher, RecordingOutbox(), inbound)
    driver.handle(_conn())
    assert [url for url, _, _ in fetcher.requests] == ["http://settings.example.com/a"]


def test_confirm_asks_uuid_exists_on_the_inbound_connection():
    """confirm() accepts a live channel, refuses an unknown one, a lost inbound connection and
    a timeout, each with its reason; without an inbound client it accepts."""
    conn = _conn()
    question = f"uuid_exists {UUID}"
    assert _driver(None, Inbound({question: "true"})).confirm(conn) is None
    assert _driver(None, Inbound({question: "false"})).confirm(conn) == (
        "FreeSWITCH has no live channel with this Unique-ID (uuid_exists: 'false')")
    lost = Inbound({question: ConnectionLost("inbound 127.0.0.1:8021: not connected")})
    assert _driver(None, lost).confirm(conn) == (
        "cannot confirm it: the inbound connection to FreeSWITCH is down (waited 2.0 s)")
    slow = Inbound({question: CommandTimeout("inbound: no reply to 'api uuid_exists' within 2.0 s")})
    assert _driver(None, slow).confirm(conn) == (
        "cannot confirm it: inbound: no reply to 'api uuid_exists' within 2.0 s")
    assert _driver(None).confirm(conn) is None
