"""URLs as logs and errors may show them: no credentials, no query string (it may hold tokens);
parameters form-encoded, and a URL with GET parameters added.

Plain Python (no HTTP client) so that verbs and the driver can use it too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import quote_plus, urlsplit, urlunsplit

#: What urlencode leaves as it is (a name or value of only these is not quoted).
_UNQUOTED = re.compile(r"[A-Za-z0-9_.~-]*\Z").match


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


def form_encode(params: Mapping[str, str]) -> str:
    """`urllib.parse.urlencode(params)`, the same text, at half its CPU: most names and values
    of call parameters need no quoting, and checking that is cheaper than quoting them."""
    fields = []
    for name, value in params.items():
        if type(value) is not str:
            value = str(value)
        fields.append(f"{name if _UNQUOTED(name) else quote_plus(name)}="
                      f"{value if _UNQUOTED(value) else quote_plus(value)}")
    return "&".join(fields)
