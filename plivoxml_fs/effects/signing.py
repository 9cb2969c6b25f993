"""Plivo's V3 request signature for callbacks: `X-Plivo-Signature-V3` and its nonce.

A receiver checks a callback came from us exactly as it checks one from Plivo, e.g. with the SDK's
`plivo.utils.signature_v3.validate_v3_signature(method, uri, nonce, auth_token, signature,
params=...)`. The signed text is built as Plivo documents it:

- the URL without its query, then `?` and every query parameter as `key=value` sorted by key
  (values of one key sorted too) joined by `&`; for a GET the callback's parameters are part of
  the query; values are the decoded ones, as the receiver sees them;
- for a POST, the body parameters follow as `keyvalue` pairs sorted by key, without separators;
  a `.` separates them from a non-empty query (and `?` starts them when there is no query);
- then `.` and the nonce; the signature is base64(HMAC-SHA256(auth token, that text)).

Plain Python (no I/O): the outbox calls `signature_headers` for each attempt with a fresh nonce.
"""

from __future__ import annotations

import base64
import functools
import hmac
import secrets
from collections.abc import Mapping
from urllib.parse import parse_qs, urlparse, urlunparse

SIGNATURE_HEADER = "X-Plivo-Signature-V3"
NONCE_HEADER = "X-Plivo-Signature-V3-Nonce"


def new_nonce() -> str:
    """A random 20-digit nonce (Plivo's are digits too)."""
    return f"{secrets.randbelow(10**20):020d}"


def _values(params: Mapping[str, str | list[str]]) -> dict[str, list[str]]:
    return {k: sorted(v) if isinstance(v, list) else [v] for k, v in params.items()}


def _query_text(values: Mapping[str, list[str]]) -> str:
    return "&".join("&".join(f"{k}={v}" for v in values[k]) for k in sorted(values))


def _body_text(params: Mapping[str, str | list[str]]) -> str:
    if all(type(v) is str for v in params.values()):  # a callback's (one value a key)
        return "".join(k + params[k] for k in sorted(params))  # type: ignore[operator]
    values = _values(params)
    return "".join("".join(f"{k}{v}" for v in values[k]) for k in sorted(values))


@functools.lru_cache(maxsize=256)
def _split(url: str) -> tuple[str, dict[str, list[str]]]:
    """`url` without its query, and the query's values (a few URLs serve every callback: they
    are parsed once). The dict is shared: never changed by the callers."""
    parts = urlparse(url)
    base = urlunparse((parts.scheme, parts.netloc, parts.path, "", "", ""))
    return base, _values(parse_qs(parts.query, keep_blank_values=True))


def signed_text(method: str, url: str, params: Mapping[str, str]) -> str:
    """The text Plivo signs for a `method` request to `url` with `params` (before the nonce)."""
    base, query = _split(url)
    if method == "GET":
        # The URL's own query parameters win over the callback's of the same name, as in Plivo.
        query = {**_values(params), **query}
        text = _query_text(query)
        return f"{base}?{text}" if text else base
    if method != "POST":
        raise ValueError(f"signing a callback: method must be GET or POST (got {method!r})")
    text = _query_text(query)
    body = _body_text(params)
    if not body:
        return f"{base}?{text}" if text else base
    return f"{base}?{text}.{body}" if text else f"{base}?{body}"


def signature(auth_token: str, method: str, url: str, params: Mapping[str, str], nonce: str) -> str:
    """base64(HMAC-SHA256(auth_token, signed text + "." + nonce))."""
    message = f"{signed_text(method, url, params)}.{nonce}".encode()
    digest = hmac.digest(auth_token.encode(), message, "sha256")
    return base64.b64encode(digest).decode("ascii")


def signature_headers(
    auth_token: str, method: str, url: str, params: Mapping[str, str], nonce: str | None = None
) -> dict[str, str]:
    """The two headers a signed callback carries (a fresh nonce unless one is given)."""
    nonce = nonce or new_nonce()
    return {
        SIGNATURE_HEADER: signature(auth_token, method, url, params, nonce),
        NONCE_HEADER: nonce,
    }
