"""shown_url: what logs and errors may say about a URL."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from plivoxml_fs.effects.urls import form_encode, shown_url


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


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"CallUUID": "fb118d4e-457b-4ae3-ba78-63b3e536d86f", "Duration": "12", "A_b.c~d": "x"},
        {"From": "+15551234", "Name": "Ana María", "Q": "a&b=c", "E": "", "T": "2026-11-24 12:00"},
        {"é": "ü", "sp ace": "tab\there", "slash/": "%41", "bang!": "*'()"},
        {"N": 5, "F": 1.5},
    ],
)
def test_form_encode_is_urlencode(params):
    """form_encode gives urlencode's text exactly (its fast path only skips quoting)."""
    assert form_encode(params) == urlencode(params)
