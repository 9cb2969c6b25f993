"""Plivo V3 signatures: ours must be what the official SDK's validate_v3_signature accepts."""

from __future__ import annotations

import pytest
from plivo.utils.signature_v3 import validate_v3_signature

from plivoxml_fs.effects.signing import (
    NONCE_HEADER,
    SIGNATURE_HEADER,
    new_nonce,
    signature,
    signature_headers,
    signed_text,
)

TOKEN = "Zjc2NDAwYWYtYjYwOS00ZTk"
CASES = [
    ("POST", "https://app.example.com/cb", {"CallUUID": "u-1", "From": "+15551234", "B": ""}),
    ("POST", "https://app.example.com/cb?x=1&a=2&a=1", {"CallUUID": "u-1", "Z": "a b&c=d"}),
    ("POST", "https://app.example.com/cb?x=1", {}),
    ("POST", "https://app.example.com/cb", {}),
    ("GET", "https://app.example.com/cb", {"CallUUID": "u-1", "Event": "Hangup"}),
    ("GET", "http://app.example.com:8080/p/cb?app=1", {"CallUUID": "u-1", "To": "é"}),
    ("GET", "https://app.example.com/cb", {}),
]


@pytest.mark.parametrize(("method", "url", "params"), CASES)
def test_sdk_accepts_our_signature(method, url, params):
    """validate_v3_signature accepts our signature and refuses it for another token or URL."""
    nonce = new_nonce()
    sig = signature(TOKEN, method, url, params, nonce)
    assert validate_v3_signature(method, url, nonce, TOKEN, sig, params=dict(params))
    assert not validate_v3_signature(method, url, nonce, TOKEN + "1", sig, params=dict(params))
    assert not validate_v3_signature(method, url + "x", nonce, TOKEN, sig, params=dict(params))


def test_post_signed_text_layout():
    """POST: the sorted query, a dot, then sorted key+value pairs without separators."""
    text = signed_text("POST", "https://h/cb?b=2&a=1", {"Z": "9", "Call": "u"})
    assert text == "https://h/cb?a=1&b=2.CalluZ9"


def test_get_url_query_wins_over_params_of_the_same_name():
    """GET: the URL's own parameter replaces the callback's of the same name, as Plivo's SDK."""
    assert signed_text("GET", "https://h/cb?a=url", {"a": "param", "b": "x"}) == (
        "https://h/cb?a=url&b=x"
    )


def test_headers_and_fresh_nonce():
    """Each call without a nonce draws a new 20-digit one; both headers are present."""
    first = signature_headers(TOKEN, "POST", "https://h/cb", {"a": "1"})
    second = signature_headers(TOKEN, "POST", "https://h/cb", {"a": "1"})
    assert set(first) == {SIGNATURE_HEADER, NONCE_HEADER}
    assert first[NONCE_HEADER] != second[NONCE_HEADER]
    assert len(first[NONCE_HEADER]) == 20 and first[NONCE_HEADER].isdigit()


def test_other_methods_are_refused():
    """Only GET and POST can be signed; the error names the method."""
    with pytest.raises(ValueError, match="method must be GET or POST \\(got 'PUT'\\)"):
        signed_text("PUT", "https://h/cb", {})
