"""Fetching XML documents (answer, action, redirect, fallback URLs) over HTTP.

`DocumentFetcher.fetch(url, method, params)` returns `(body, final_url)` or raises `FetchError`
naming the URL (query string and credentials hidden) and the cause. Every fetch is bounded:

- connect and read timeouts (requests), and a total deadline over the whole exchange
  (`gevent.Timeout`, so a server that trickles bytes cannot hold the call);
- the body is streamed and reading stops past `max_bytes` (a `Content-Length` above it is
  refused before reading);
- only 2xx answers are documents; 3xx are followed by requests up to `max_redirects`
  (301/302/303 turn a POST into a GET, as browsers and requests do; 307/308 keep it);
- transient failures are retried within the total deadline, as Plivo retries an answer URL
  before its fallback: cannot connect, connect timeout, HTTP 5xx and 429, after each delay of
  `retry_backoff_s`. A read timeout, a 4xx, a wrong content type or size is final at once;
- the Content-Type must be `application/xml` or `text/xml` (any charset), exactly what Plivo
  requires of an answer URL. Everything else is refused, `text/plain` and `text/html` included:
  an HTML error page or a proxy's login page is the usual thing behind them, and we would
  rather say so than parse it.

POST sends the parameters form-encoded in the body; GET appends them to the query string.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

import gevent
import requests
import requests.adapters

from plivoxml_fs import metrics
from plivoxml_fs.config import Settings
from plivoxml_fs.effects.urls import shown_url
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
#: Bytes read from the socket at a time.
CHUNK_BYTES = 16 * 1024
#: Connections kept open per host (answer servers are few; calls are many).
POOL_CONNECTIONS_PER_HOST = 100
#: Methods a document may name for its URLs.
METHODS = ("GET", "POST")
USER_AGENT = "plivoxml-fs"
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
        session: requests.Session | None = None,
    ) -> None:
        self.connect_timeout_s = connect_timeout_s
        self.read_timeout_s = read_timeout_s
        self.total_timeout_s = total_timeout_s
        self.max_bytes = max_bytes
        self.retry_backoff_s = tuple(retry_backoff_s)
        self._session = session or pooled_session(POOL_CONNECTIONS_PER_HOST)
        self._session.max_redirects = max_redirects
        self._session.headers["User-Agent"] = USER_AGENT

    @classmethod
    def from_settings(cls, settings: Settings) -> DocumentFetcher:
        return cls(
            connect_timeout_s=settings.fetch_connect_timeout_s,
            read_timeout_s=settings.fetch_read_timeout_s,
            total_timeout_s=settings.fetch_total_timeout_s,
            max_bytes=settings.max_document_bytes,
        )

    def close(self) -> None:
        self._session.close()

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
        kwargs: dict[str, object] = {
            "timeout": (self.connect_timeout_s, self.read_timeout_s),
            "stream": True,
            "allow_redirects": True,
        }
        kwargs["data" if method == "POST" else "params"] = dict(params)
        try:
            response = self._session.request(method, url, **kwargs)
        except requests.ConnectTimeout:
            raise _Transient(
                f"{where}: connect timed out after {self.connect_timeout_s} s"
            ) from None
        except requests.ReadTimeout:
            raise FetchError(f"{where}: timed out after {self.read_timeout_s} s") from None
        except requests.TooManyRedirects:
            raise FetchError(
                f"{where}: more than {self._session.max_redirects} redirects"
            ) from None
        except requests.ConnectionError as exc:
            raise _Transient(f"{where}: {_cause(exc)}") from None
        except requests.RequestException as exc:
            raise FetchError(f"{where}: {_cause(exc)}") from None
        with response:
            return self._read(response, where, audio_ok), response.url

    def _read(self, response: requests.Response, where: str, audio_ok: bool) -> bytes | None:
        status = response.status_code
        if status >= 500 or status in RETRY_STATUSES:
            raise _Transient(f"{where}: HTTP {status}")
        if not 200 <= status < 300:
            raise FetchError(f"{where}: HTTP {status}")
        content_type = response.headers.get("Content-Type", "")
        if audio_ok and _is_audio(content_type):
            return None
        if not _is_xml(content_type):
            shown = content_type.split(";", 1)[0].strip() or "(none)"
            wanted = "XML or audio" if audio_ok else "XML"
            raise FetchError(f"{where}: content-type {shown} is not {wanted}")
        length = response.headers.get("Content-Length", "")
        if length.isdigit() and int(length) > self.max_bytes:
            raise FetchError(f"{where}: larger than {self.max_bytes} bytes")
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(CHUNK_BYTES):
                size += len(chunk)
                if size > self.max_bytes:
                    raise FetchError(f"{where}: larger than {self.max_bytes} bytes")
                chunks.append(chunk)
        except requests.RequestException as exc:
            if isinstance(exc, requests.Timeout) or "timed out" in str(exc).lower():
                raise FetchError(f"{where}: timed out after {self.read_timeout_s} s") from None
            raise FetchError(f"{where}: {_cause(exc)}") from None
        return b"".join(chunks)


def pooled_session(per_host: int) -> requests.Session:
    """A Session that keeps up to `per_host` connections to each host (requests keeps 10)."""
    session = requests.Session()
    # No proxy settings from the environment: the daemon does not offer them, and looking
    # them up on every request cost ~6% of per-call CPU in profiling.
    session.trust_env = False
    adapter = requests.adapters.HTTPAdapter(pool_connections=16, pool_maxsize=per_host)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _cause(exc: requests.RequestException) -> str:
    """A short cause for a requests failure, without the URL (the caller names it)."""
    if isinstance(exc, requests.Timeout):
        return "timed out"
    if isinstance(exc, requests.ConnectionError):
        text = str(exc).lower()
        for known in ("connection refused", "connection reset", "name or service not known"):
            if known in text:
                return f"cannot connect ({known})"
        return "cannot connect"
    return type(exc).__name__
