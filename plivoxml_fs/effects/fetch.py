"""Fetching XML documents (answer, action, redirect, fallback URLs) over HTTP.

`DocumentFetcher.fetch(url, method, params)` returns `(body, final_url)` or raises `FetchError`
naming the URL (query string and credentials hidden) and the cause. Every fetch is bounded:

- connect and read timeouts, and a total deadline over the whole exchange (`gevent.Timeout`,
  so a server that trickles bytes cannot hold the call);
- reading stops past `max_bytes` (a `Content-Length` above it is refused before reading);
- only 2xx answers are documents; 3xx with a Location are followed up to `max_redirects`
  (301/302/303 turn a POST into a GET without a body, as browsers and requests do; 307/308
  keep both); a Location may be relative; a redirect to anything but http(s) is refused;
- transient failures are retried within the total deadline, as Plivo retries an answer URL
  before its fallback: cannot connect, connect timeout, HTTP 5xx and 429, after each delay of
  `retry_backoff_s`. A read timeout, a 4xx, a wrong content type or size is final at once;
- the Content-Type must be `application/xml` or `text/xml` (any charset), exactly what Plivo
  requires of an answer URL. Everything else is refused, `text/plain` and `text/html` included:
  an HTML error page or a proxy's login page is the usual thing behind them, and we would
  rather say so than parse it.

POST sends the parameters form-encoded in the body; GET appends them to the query string.
HTTP goes through effects/http11.py's `HttpClient` (keep-alive, up to
`POOL_CONNECTIONS_PER_HOST` idle connections per host, TLS verified): a requests Session cost
~1 ms of CPU per fetch for what the client does in a tenth of that.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from urllib.parse import urljoin, urlsplit

import gevent

from plivoxml_fs import metrics
from plivoxml_fs.config import Settings
from plivoxml_fs.effects.http11 import (
    USER_AGENT,
    ConnectError,
    ConnectTimeout,
    HttpClient,
    HttpError,
    ReadTimeout,
    Response,
)
from plivoxml_fs.effects.urls import form_encode, shown_url, with_query
from plivoxml_fs.errors import FetchError

log = logging.getLogger("plivoxml_fs.effects.fetch")

#: Content types accepted as XML documents (parameters such as charset are ignored).
XML_CONTENT_TYPES = ("application/xml", "text/xml")
#: Delays before each retry of a transient failure, in seconds (three retries, as Plivo's).
DEFAULT_RETRY_BACKOFF_S = (0.2, 0.5, 1.0)
#: HTTP statuses retried besides 5xx.
RETRY_STATUSES = frozenset({429})
#: Redirects followed per fetch.
DEFAULT_MAX_HTTP_REDIRECTS = 5
#: Statuses that redirect when they carry a Location; the first three turn a POST into a GET.
REDIRECTS = frozenset({301, 302, 303, 307, 308})
TO_GET = frozenset({301, 302, 303})
#: Connections kept open per host (answer servers are few; calls are many).
POOL_CONNECTIONS_PER_HOST = 100
#: Methods a document may name for its URLs.
METHODS = ("GET", "POST")
#: How long a long piece of CPU work (parsing a large document) sleeps between two slices of
#: it, in seconds. A timer, not sleep(0): sleep(0) lets ready greenlets run but can keep the
#: hub from polling sockets and timers, so other calls would still wait.
YIELD_S = 0.0001


def yield_to_others() -> None:
    """Let every other greenlet (calls, /health, callbacks) run before going on."""
    gevent.sleep(YIELD_S)


def _is_xml(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() in XML_CONTENT_TYPES


def _is_audio(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower().startswith("audio/")


class _Transient(FetchError):
    """A failure worth another attempt (the server may answer next time)."""


class DocumentFetcher:
    """Fetches one XML document at a time per caller; safe to share between greenlets."""

    def __init__(
        self,
        *,
        connect_timeout_s: float,
        read_timeout_s: float,
        total_timeout_s: float,
        max_bytes: int,
        max_redirects: int = DEFAULT_MAX_HTTP_REDIRECTS,
        retry_backoff_s: Sequence[float] = DEFAULT_RETRY_BACKOFF_S,
        client: HttpClient | None = None,
    ) -> None:
        self.connect_timeout_s = connect_timeout_s
        self.read_timeout_s = read_timeout_s
        self.total_timeout_s = total_timeout_s
        self.max_bytes = max_bytes
        self.retry_backoff_s = tuple(retry_backoff_s)
        self.max_redirects = max_redirects
        self._client = client or HttpClient(
            per_host=POOL_CONNECTIONS_PER_HOST, connect_timeout_s=connect_timeout_s,
            read_timeout_s=read_timeout_s, user_agent=USER_AGENT)

    @classmethod
    def from_settings(cls, settings: Settings) -> DocumentFetcher:
        return cls(
            connect_timeout_s=settings.fetch_connect_timeout_s,
            read_timeout_s=settings.fetch_read_timeout_s,
            total_timeout_s=settings.fetch_total_timeout_s,
            max_bytes=settings.max_document_bytes,
        )

    def close(self) -> None:
        self._client.close()

    #: What a parser calls between slices of work (`parse_document(..., pause=...)`).
    pause = staticmethod(yield_to_others)

    def fetch(self, url: str, method: str, params: Mapping[str, str]) -> tuple[bytes, str]:
        """The document at `url` and the URL it finally came from (after redirects)."""
        body, final_url = self._bounded(url, method, params, audio_ok=False)
        assert body is not None
        return body, final_url

    def fetch_sound(
        self, url: str, method: str, params: Mapping[str, str]
    ) -> tuple[bytes | None, str]:
        """A sound URL (waitSound, enterSound, ...): `(None, final_url)` when it answers with
        audio (audio/*: its body is not read, FreeSWITCH fetches the file itself), or the XML
        document's body and final URL; any other content type is a FetchError."""
        return self._bounded(url, method, params, audio_ok=True)

    def _bounded(
        self, url: str, method: str, params: Mapping[str, str], *, audio_ok: bool
    ) -> tuple[bytes | None, str]:
        where = f"{method} {shown_url(url)}"
        if method not in METHODS:
            raise FetchError(f"{where}: method must be GET or POST")
        if urlsplit(url).scheme not in ("http", "https"):
            raise FetchError(f"{where}: only http and https URLs can be fetched")
        try:
            with metrics.fetch_latency.time(), gevent.Timeout(self.total_timeout_s):
                return self._attempts(url, method, params, where, audio_ok)
        except gevent.Timeout:
            raise FetchError(f"{where}: timed out after {self.total_timeout_s} s") from None

    def _attempts(
        self, url: str, method: str, params: Mapping[str, str], where: str, audio_ok: bool
    ) -> tuple[bytes | None, str]:
        last: _Transient | None = None
        attempts = 0
        for delay in (0.0, *self.retry_backoff_s):
            if delay:
                gevent.sleep(delay)
            attempts += 1
            try:
                return self._fetch(url, method, params, where, audio_ok)
            except _Transient as exc:
                last = exc
        assert last is not None
        suffix = f" ({attempts} attempts)" if attempts > 1 else ""
        raise FetchError(f"{last}{suffix}")

    def _fetch(
        self, url: str, method: str, params: Mapping[str, str], where: str, audio_ok: bool
    ) -> tuple[bytes | None, str]:
        fields = form_encode(params)
        body: bytes | None = None
        if method == "POST":
            body = fields.encode("ascii")
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
        else:
            url, headers = with_query(url, fields), {}
        for _ in range(self.max_redirects + 1):
            response = self._request(method, url, body, headers, where)
            with response:
                location = response.headers.get("location")
                if response.status not in REDIRECTS or not location:
                    return self._read(response, where, audio_ok), url
            url = urljoin(url, location)
            if urlsplit(url).scheme not in ("http", "https"):
                raise FetchError(f"{where}: redirected to a URL that is not http or https")
            if response.status in TO_GET and method == "POST":
                method, body, headers = "GET", None, {}
        raise FetchError(f"{where}: more than {self.max_redirects} redirects")

    def _request(self, method: str, url: str, body: bytes | None, headers: dict[str, str],
                 where: str) -> Response:
        try:
            return self._client.request(method, url, body=body, headers=headers)
        except ConnectTimeout:
            raise _Transient(
                f"{where}: connect timed out after {self.connect_timeout_s} s"
            ) from None
        except ReadTimeout:
            raise FetchError(f"{where}: timed out after {self.read_timeout_s} s") from None
        except ConnectError as exc:
            raise _Transient(f"{where}: cannot connect ({exc})") from None
        except HttpError as exc:
            raise _Transient(f"{where}: {exc}") from None
        except ValueError as exc:
            raise FetchError(f"{where}: {exc}") from None

    def _read(self, response: Response, where: str, audio_ok: bool) -> bytes | None:
        status = response.status
        if status >= 500 or status in RETRY_STATUSES:
            raise _Transient(f"{where}: HTTP {status}")
        if not 200 <= status < 300:
            raise FetchError(f"{where}: HTTP {status}")
        content_type = response.headers.get("content-type", "")
        if audio_ok and _is_audio(content_type):
            return None
        if not _is_xml(content_type):
            shown = content_type.split(";", 1)[0].strip() or "(none)"
            wanted = "XML or audio" if audio_ok else "XML"
            raise FetchError(f"{where}: content-type {shown} is not {wanted}")
        try:
            body = response.read(self.max_bytes)
        except ReadTimeout:
            raise FetchError(f"{where}: timed out after {self.read_timeout_s} s") from None
        except HttpError as exc:
            raise FetchError(f"{where}: {exc}") from None
        if body is None:
            raise FetchError(f"{where}: larger than {self.max_bytes} bytes")
        return body
