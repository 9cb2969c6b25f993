"""The driver with the real document parser: the shipped examples run verb by verb, and hostile
documents (an XML bomb, an unknown verb, CR/LF in a value) are one log line and a clean end."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from plivoxml_fs.call.driver import CallDriver
from plivoxml_fs.config import Settings
from plivoxml_fs.fs import arguments, commands
from plivoxml_fs.testing import FakeConnection, FakeFetcher, RecordingOutbox

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ANSWER = "http://127.0.0.1:8089/welcome.xml"
UUID = "fb118d4e-457b-4ae3-ba78-63b3e536d86f"


def run(documents: dict, caplog, **settings):
    values = {"answer_url": ANSWER, "hangup_url": "http://127.0.0.1:8089/hangup"}
    values.update(settings)
    conn, outbox, fetcher = FakeConnection(), RecordingOutbox(), FakeFetcher(documents)
    with caplog.at_level(logging.ERROR, logger="plivoxml_fs.call"):
        CallDriver(Settings(**values), fetcher, outbox).handle(conn)
    lines = [r.getMessage() for r in caplog.records if r.name == "plivoxml_fs.call"]
    return conn, outbox, lines


def test_welcome_example_runs_verb_by_verb(caplog):
    """examples/welcome.xml then next/goodbye.xml: every application in order, hangup, exit."""
    documents = {
        ANSWER: (EXAMPLES / "welcome.xml").read_bytes(),
        "http://127.0.0.1:8089/next/goodbye.xml": (EXAMPLES / "next" / "goodbye.xml").read_bytes(),
    }
    conn, outbox, lines = run(documents, caplog)
    chime = arguments.http_audio("http://127.0.0.1:8089/sounds/chime.wav")
    assert conn.apps == [
        ("pre_answer", ""),
        ("speak", "flite|slt|Please hold while we connect you."),
        ("answer", ""),
        ("speak", "flite|slt|Welcome to plivo XML on FreeSWITCH."),
        ("playback", arguments.file_string([chime, chime])),
        ("sleep", "1000"),
        ("speak", "flite|kal|Goodbye."),
    ]
    assert conn.sent[-2:] == [commands.hangup("NORMAL_CLEARING").encode(), b"exit\n\n"]
    assert lines == []
    (hook,) = outbox.of_kind("hangup")
    assert (hook.params["HangupCause"], hook.params["HangupSource"]) == (
        "NORMAL_CLEARING",
        "Answer XML",
    )


def test_busy_example_rejects_before_answering(caplog):
    """examples/busy.xml: no answer, hangup USER_BUSY, the hangup URL says USER_BUSY."""
    conn, outbox, _ = run({ANSWER: (EXAMPLES / "busy.xml").read_bytes()}, caplog)
    assert conn.apps == []
    assert commands.hangup("USER_BUSY").encode() in conn.sent
    assert outbox.of_kind("hangup")[0].params["HangupCause"] == "USER_BUSY"


BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
    b"<Response><Speak>&c;</Speak></Response>"
)


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        (BOMB, "a DTD (<!DOCTYPE r>) is not allowed"),
        (b"<Response><Bogus/></Response>", "<Bogus>: unknown element"),
        (
            b"<Response><Play>http://h/a.wav&#13;&#10;execute-app-name: system</Play></Response>",
            "<Play>",
        ),
    ],
)
def test_hostile_documents_are_one_line_and_a_clean_end(caplog, document, problem):
    """Nothing of a hostile document runs; one error line names the call and the problem."""
    conn, outbox, lines = run({ANSWER: document}, caplog)
    assert len(lines) == 1
    assert lines[0].startswith(f"call {UUID}: invalid document from {ANSWER}: ")
    assert problem in lines[0] and lines[0].endswith("; hanging up")
    assert conn.apps == []
    assert not any(b"system" in data for data in conn.sent)
    assert conn.lines[-1] == "exit"
    assert len(outbox.of_kind("hangup")) == 1
