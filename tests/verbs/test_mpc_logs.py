"""Log lines of a <MultiPartyCall> that quote a command (whose room is FreeSWITCH's
`mpc-<MPCUUID>`) name the MPC by its friendly name too (the project's rule: every line shows
the user's name). The room's own lines: tests/rooms/test_mpc_refusals.py."""

from __future__ import annotations

import logging

from plivoxml_fs.call.driver import CallDriver
from plivoxml_fs.config import Settings
from plivoxml_fs.testing import FakeConnection, FakeFetcher, RecordingOutbox

ANSWER = "http://127.0.0.1:8089/answer.xml"


def test_a_refused_conference_application_names_the_mpc(caplog):
    doc = b'<Response><MultiPartyCall role="Agent">Sales Desk</MultiPartyCall></Response>'
    conn = FakeConnection()
    conn.refuse("conference", "-ERR no such application")
    with caplog.at_level(logging.ERROR, logger="plivoxml_fs"):
        CallDriver(Settings(answer_url=ANSWER), FakeFetcher({ANSWER: doc}),
                   RecordingOutbox()).handle(conn)
    (line,) = [r.getMessage() for r in caplog.records if "FreeSWITCH" in r.getMessage()]
    assert "MPC Sales Desk: sendmsg conference' failed: -ERR no such application" in line
