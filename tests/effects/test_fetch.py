"""DocumentFetcher against a local HTTP server: success, every bounded failure, its message."""

from __future__ import annotations

import socket

import pytest

from effects.conftest import XML
from plivoxml_fs.effects.fetch import DocumentFetcher
from plivoxml_fs.errors import FetchError


def fetcher(**overrides) -> DocumentFetcher:
    values = dict(
        connect_timeout_s=0.5,
        read_timeout_s=0.3,
        total_timeout_s=1.0,
        max_bytes=4096,
        retry_backoff_s=(0.01, 0.01, 0.01),
    )
    values.update(overrides)
    return DocumentFetcher(**values)


def test_post_sends_form_and_returns_document(http_app):
    """POST sends the parameters form-encoded and returns the body and final URL."""
    body, final = fetcher().fetch(http_app.base + "/ok", "POST", {"CallUUID": "u-1", "From": "1"})
    assert body == XML and final == http_app.base + "/ok"
    assert http_app.hits[0].form == {"CallUUID": "u-1", "From": "1"}


def test_get_sends_query(http_app):
    """GET appends the parameters to the query string; text/xml with a charset is XML too."""
    body, _ = fetcher().fetch(http_app.base + "/textxml?a=1", "GET", {"CallUUID": "u-1"})
    assert body == XML
    assert http_app.hits[0].query == {"a": "1", "CallUUID": "u-1"}


def test_redirect_is_followed(http_app):
    """A 302 is followed; the final URL is the one the document came from."""
    body, final = fetcher().fetch(http_app.base + "/moved", "POST", {})
    assert body == XML and final == http_app.base + "/ok"


@pytest.mark.parametrize(
    ("path", "cause"),
    [
        ("/slow", "timed out after 0.3 s"),
        ("/error?token=s3cret", "HTTP 500 (4 attempts)"),
        ("/html", "content-type text/html is not XML"),
        ("/xhtml", "content-type application/xhtml+xml is not XML"),
        ("/huge", "larger than 4096 bytes"),
        ("/declared-huge", "larger than 4096 bytes"),
        ("/loop", "more than 5 redirects"),
    ],
)
def test_failures_name_url_and_cause(http_app, path, cause):
    """Each failure is one FetchError naming method, URL (no query secrets) and cause."""
    with pytest.raises(FetchError) as info:
        fetcher().fetch(http_app.base + path, "POST", {})
    shown = http_app.base + path.split("?")[0] + ("?..." if "?" in path else "")
    assert str(info.value) == f"POST {shown}: {cause}"
    assert "s3cret" not in str(info.value)


def test_total_deadline_bounds_a_trickling_server(http_app):
    """A server that keeps sending a byte before each read timeout is cut by the total deadline."""
    with pytest.raises(FetchError, match=r"/trickle: timed out after 0.5 s$"):
        fetcher(read_timeout_s=1.0, total_timeout_s=0.5).fetch(
            http_app.base + "/trickle", "GET", {}
        )


def test_connection_refused():
    """Nothing listening: the error says it cannot connect."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(
        FetchError,
        match=rf"^POST http://127.0.0.1:{port}/a: cannot connect \(connection refused\) "
        r"\(4 attempts\)$",
    ):
        fetcher().fetch(f"http://127.0.0.1:{port}/a", "POST", {})


@pytest.mark.parametrize(
    ("url", "method", "cause"),
    [
        ("http://h/a", "PUT", "method must be GET or POST"),
        ("file:///etc/passwd", "GET", "only http"),
    ],
)
def test_refuses_bad_method_and_scheme(url, method, cause):
    """Only GET/POST and http(s) are fetched."""
    with pytest.raises(FetchError, match=cause):
        fetcher().fetch(url, method, {})


def test_transient_failures_are_retried(http_app):
    """503 then 429 then a document: the third attempt returns it."""
    http_app.statuses["/flaky-doc"] = [503, 429, 200]
    body, _ = fetcher().fetch(http_app.base + "/flaky-doc", "POST", {"CallUUID": "u-1"})
    assert body == XML
    assert [h.form for h in http_app.hits] == [{"CallUUID": "u-1"}] * 3


def test_client_errors_are_not_retried(http_app):
    """A 404 is final at once: one request, the status in the error."""
    http_app.statuses["/flaky-doc"] = [404]
    with pytest.raises(FetchError, match=r"/flaky-doc: HTTP 404$"):
        fetcher().fetch(http_app.base + "/flaky-doc", "POST", {})
    assert len(http_app.hits) == 1


def test_sound_url_answering_audio_is_not_read(http_app):
    """fetch_sound: an audio/* answer gives (None, final URL) without reading the 10 MB body."""
    body, final = fetcher().fetch_sound(http_app.base + "/music", "GET", {"CallUUID": "u-1"})
    assert (body, final) == (None, http_app.base + "/music?CallUUID=u-1")
    assert http_app.hits[0].query == {"CallUUID": "u-1"}


def test_sound_url_answering_xml_gives_the_document(http_app):
    """fetch_sound: an XML answer is read like a document (size cap and all)."""
    assert fetcher().fetch_sound(http_app.base + "/ok", "GET", {}) == (XML, http_app.base + "/ok")


def test_sound_url_answering_html_is_refused(http_app):
    """fetch_sound: neither audio nor XML is a FetchError saying so."""
    with pytest.raises(FetchError, match="content-type text/html is not XML or audio"):
        fetcher().fetch_sound(http_app.base + "/html", "GET", {})


def test_documents_are_never_audio(http_app):
    """fetch (documents) still refuses audio."""
    with pytest.raises(FetchError, match="content-type audio/mpeg is not XML$"):
        fetcher().fetch(http_app.base + "/music", "GET", {})
