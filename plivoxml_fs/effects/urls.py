"""URLs as logs and errors may show them: no credentials, no query string (it may hold tokens).

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
