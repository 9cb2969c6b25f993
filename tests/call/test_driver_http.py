"""The driver with the real DocumentFetcher and parser against a local HTTP app: each bad answer
URL (timeout, 500, HTML, 10 MB, an XML bomb) is one log line naming the call and the cause, then
the fallback document runs."""

from __future__ import annotations

import logging

import pytest

from plivoxml_fs.call.driver import CallDriver
from plivoxml_fs.config import Settings
from plivoxml_fs.effects.fetch import DocumentFetcher
from plivoxml_fs.testing import FakeConnection, RecordingOutbox

UUID = "fb118d4e-457b-4ae3-ba78-63b3e536d86f"


def run(http_app, path: str, caplog) -> tuple[FakeConnection, RecordingOutbox, list[str]]:
    settings = Settings(
        answer_url=http_app.base + path,
        fallback_url=http_app.base + "/ok",
        hangup_url=http_app.base + "/hangup",
    )
    fetcher = DocumentFetcher(
        connect_timeout_s=0.5,
        read_timeout_s=0.3,
        total_timeout_s=1.0,
        max_bytes=262144,
        retry_backoff_s=(0.01,),
    )
    conn, outbox = FakeConnection(), RecordingOutbox()
    with caplog.at_level(logging.ERROR, logger="plivoxml_fs.call"):
        CallDriver(settings, fetcher, outbox).handle(conn)
    return conn, outbox, [r.getMessage() for r in caplog.records]


@pytest.mark.parametrize(
    ("path", "cause"),
    [
        ("/slow", "timed out after 0.3 s"),
        ("/error", "HTTP 500 (2 attempts)"),
        ("/html", "content-type text/html is not XML"),
        ("/huge", "larger than 262144 bytes"),
    ],
)
def test_bad_answer_url_takes_the_fallback(http_app, caplog, path, cause):
    """One line per bad answer URL, naming the call and cause; the fallback document runs."""
    conn, outbox, lines = run(http_app, path, caplog)
    assert lines == [
        f"call {UUID}: cannot fetch the document: POST {http_app.base}{path}: {cause}; "
        f"trying the fallback URL {http_app.base}/ok"
    ]
    assert ("speak", "flite|slt|Hi") in conn.apps
    assert [w.kind for w in outbox.emitted] == ["hangup"]


def test_xml_bomb_over_http_takes_the_fallback(http_app, caplog):
    """A billion-laughs answer is refused by the parser: one line, then the fallback runs."""
    conn, outbox, lines = run(http_app, "/bomb", caplog)
    assert len(lines) == 1
    assert lines[0].startswith(f"call {UUID}: invalid document from {http_app.base}/bomb: ")
    assert "DTD" in lines[0] and lines[0].endswith(f"trying the fallback URL {http_app.base}/ok")
    assert conn.apps == [("answer", ""), ("speak", "flite|slt|Hi")]
    assert [w.kind for w in outbox.emitted] == ["hangup"]
