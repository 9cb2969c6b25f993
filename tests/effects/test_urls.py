"""shown_url: what logs and errors may say about a URL."""

from __future__ import annotations

import pytest

from plivoxml_fs.effects.urls import shown_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://app.example.com/answer", "https://app.example.com/answer"),
        ("https://app.example.com:8443/a?token=s3cret&x=1", "https://app.example.com:8443/a?..."),
        ("http://user:pa55@app.example.com/a#frag", "http://app.example.com/a"),
        ("http://[::1", "<unparseable URL>"),
    ],
)
def test_no_credentials_no_query(url, shown):
    """Credentials, query strings and fragments never show; a broken URL says so."""
    assert shown_url(url) == shown
