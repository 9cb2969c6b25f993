"""URLs as logs and errors may show them: no credentials, no query string (it may hold tokens);
and a URL with GET parameters added.

Plain Python (no HTTP client) so that verbs and the driver can use it too.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def shown_url(url: str) -> str:
    """`scheme://host[:port]/path`, with `?...` when there was a query string."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "<unparseable URL>"
    host = parts.hostname or ""
    if port:
        host = f"{host}:{port}"
    query = "?..." if parts.query else ""
    return urlunsplit((parts.scheme, host, parts.path, "", "")) + query


def with_query(url: str, fields: str) -> str:
    """`url` with the encoded `fields` appended to its query (as requests does for GET
    parameters); its fragment dropped."""
    if not fields:
        return url
    parts = urlsplit(url)
    query = f"{parts.query}&{fields}" if parts.query else fields
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
