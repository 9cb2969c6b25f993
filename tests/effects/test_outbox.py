"""Outbox delivery: order per call, independence between calls, retries, final failure log."""

from __future__ import annotations

import logging
import time

import pytest

from plivoxml_fs.effects.outbox import Outbox
from plivoxml_fs.effects.webhook import Webhook


@pytest.fixture
def outbox():
    box = Outbox(
        pool_size=4, connect_timeout_s=0.5, read_timeout_s=1.0, backoff_s=(0.01, 0.02, 0.03)
    )
    yield box
    box.stop(timeout=1.0)


def hook(app, path, call="call-1", n=0, method="POST"):
    return Webhook(app.base + path, method, {"CallUUID": call, "N": str(n)}, call, "hangup")


def test_delivers_form_params(http_app, outbox):
    """A webhook is POSTed form-encoded; flush waits for it; the delivery is recorded."""
    outbox.emit(hook(http_app, "/cb", n=1))
    assert outbox.flush(2.0)
    assert [(h.method, h.path, h.form) for h in http_app.hits] == [
        ("POST", "/cb", {"CallUUID": "call-1", "N": "1"})
    ]
    assert [(d.delivered, d.attempts) for d in outbox.recent] == [(True, 1)]


def test_get_webhook_uses_query(http_app, outbox):
    """A GET webhook sends its parameters in the query string."""
    outbox.emit(hook(http_app, "/cb", n=2, method="GET"))
    assert outbox.flush(2.0)
    assert http_app.hits[0].query == {"CallUUID": "call-1", "N": "2"}


def test_one_call_in_order_even_with_a_slow_endpoint(http_app, outbox):
    """Webhooks of one call arrive in emit order, the next only after the previous finished."""
    for n in range(5):
        outbox.emit(hook(http_app, "/slowcb" if n == 0 else "/cb", n=n))
    assert outbox.flush(3.0)
    assert [h.form["N"] for h in http_app.hits] == ["0", "1", "2", "3", "4"]


def test_calls_do_not_wait_on_each_other(http_app, outbox):
    """A slow callback of one call does not hold back another call's callback."""
    outbox.emit(hook(http_app, "/slowcb", call="slow"))
    outbox.emit(hook(http_app, "/cb", call="fast"))
    assert outbox.flush(3.0)
    assert [d.webhook.call_uuid for d in outbox.recent] == ["fast", "slow"]


def test_emit_returns_at_once_when_workers_are_busy(http_app):
    """With one worker busy on slow callbacks, emit still returns immediately."""
    box = Outbox(pool_size=1, connect_timeout_s=0.5, read_timeout_s=1.0, backoff_s=())
    try:
        started = time.monotonic()
        for n in range(10):
            box.emit(hook(http_app, "/slowcb", call=f"c{n}"))
        assert time.monotonic() - started < 0.1
        assert box.pending == 10
    finally:
        box.stop(timeout=0)


def test_retries_5xx_and_429_then_delivers(http_app, outbox):
    """500, 429 and 503 are retried with back-off; the fourth attempt succeeds."""
    http_app.statuses["/flaky"] = [500, 429, 503, 200]
    outbox.emit(hook(http_app, "/flaky"))
    assert outbox.flush(2.0)
    assert len(http_app.hits) == 4
    assert [(d.delivered, d.attempts) for d in outbox.recent] == [(True, 4)]


def test_final_failure_is_one_log_line(http_app, outbox, caplog):
    """After the last retry the failure is logged once, naming kind, call, URL and cause."""
    http_app.statuses["/down"] = [500] * 4
    with caplog.at_level(logging.ERROR, logger="plivoxml_fs.outbox"):
        outbox.emit(hook(http_app, "/down?token=s3cret"))
        assert outbox.flush(2.0)
    assert [r.getMessage() for r in caplog.records] == [
        f"hangup callback for call call-1 to {http_app.base}/down?... failed after 4 "
        "attempt(s): HTTP 500"
    ]
    assert caplog.records[0].call_uuid == "call-1"


def test_every_line_about_a_callback_carries_call_event_and_conference(http_app, outbox, caplog):
    """A conference callback's DEBUG attempt lines and final ERROR line all carry call_uuid,
    event (the callback's kind) and conference (its ConferenceName)."""
    http_app.statuses["/down"] = [503, 500, 500, 500]
    params = {"CallUUID": "call-7", "ConferenceName": "sales"}
    with caplog.at_level(logging.DEBUG, logger="plivoxml_fs.outbox"):
        outbox.emit(Webhook(http_app.base + "/down", "POST", params, "call-7", "conference-enter"))
        outbox.emit(Webhook(http_app.base + "/cb", "POST", params, "call-7", "conference-exit"))
        assert outbox.flush(2.0)
    lines = [(r.levelname, r.call_uuid, r.event, r.conference, r.getMessage())
             for r in caplog.records]
    enter = f"conference-enter callback for call call-7 to {http_app.base}/down"
    assert lines == [
        ("DEBUG", "call-7", "conference-enter", "sales",
         f"{enter}: attempt {n} failed (HTTP {status}); retrying in 0.0 s")
        for n, status in ((1, 503), (2, 500), (3, 500))
    ] + [
        ("ERROR", "call-7", "conference-enter", "sales",
         f"{enter} failed after 4 attempt(s): HTTP 500"),
        ("DEBUG", "call-7", "conference-exit", "sales",
         f"conference-exit callback for call call-7 delivered to {http_app.base}/cb (attempt 1)"),
    ]


def test_4xx_is_not_retried(http_app, outbox):
    """A 404 is final: one attempt."""
    http_app.statuses["/gone"] = [404]
    outbox.emit(hook(http_app, "/gone"))
    assert outbox.flush(2.0)
    assert [(d.delivered, d.attempts, d.cause) for d in outbox.recent] == [(False, 1, "HTTP 404")]


def test_timeouts_are_retried(http_app):
    """A read timeout counts as a failed attempt and is retried."""
    box = Outbox(pool_size=1, connect_timeout_s=0.5, read_timeout_s=0.1, backoff_s=(0.01, 0.01))
    try:
        box.emit(hook(http_app, "/slowcb"))
        assert box.flush(3.0)
        assert [(d.delivered, d.attempts, d.cause) for d in box.recent] == [(False, 3, "timed out")]
    finally:
        box.stop(timeout=0)


def test_emit_after_stop_is_stored_for_the_next_start(http_app, caplog, tmp_path):
    """Once stopped, a new webhook is stored (WARNING), not sent, and the next start sends it."""
    path = str(tmp_path / "o.sqlite3")
    box = Outbox(pool_size=1, connect_timeout_s=0.5, read_timeout_s=0.5, path=path)
    box.stop(timeout=0)
    with caplog.at_level(logging.WARNING, logger="plivoxml_fs.outbox"):
        box.emit(hook(http_app, "/cb"))
    assert [r.getMessage() for r in caplog.records] == [
        "hangup callback for call call-1 emitted after the outbox stopped: stored, delivered at "
        "the next start"
    ]
    assert http_app.hits == []
    again = Outbox(pool_size=1, connect_timeout_s=0.5, read_timeout_s=0.5, path=path)
    again.start()
    assert again.flush(2.0)
    again.stop()
    assert [h.path for h in http_app.hits] == ["/cb"]


def test_emit_after_stop_without_a_file_is_dropped_and_logged(http_app, caplog):
    """An outbox without a file cannot keep a webhook emitted after stop: one ERROR line."""
    box = Outbox(pool_size=1, connect_timeout_s=0.5, read_timeout_s=0.5)
    box.stop(timeout=0)
    with caplog.at_level(logging.ERROR, logger="plivoxml_fs.outbox"):
        box.emit(hook(http_app, "/cb"))
    assert [r.getMessage() for r in caplog.records] == [
        "hangup callback for call call-1 dropped: emitted after the outbox stopped, and there is "
        "no outbox file to keep it for the next start"
    ]
    assert http_app.hits == []


def test_stop_with_undelivered_callbacks_says_where_they_are(tmp_path, caplog):
    """stop before the queue drained: a WARNING with the count and the file keeping them."""
    path = str(tmp_path / "o.sqlite3")
    box = Outbox(pool_size=1, connect_timeout_s=0.5, read_timeout_s=0.5, backoff_s=(30.0,),
                 path=path)
    box.emit(Webhook("http://127.0.0.1:9/cb", "POST", {}, "call-1", "hangup"))
    with caplog.at_level(logging.WARNING, logger="plivoxml_fs.outbox"):
        assert not box.stop(timeout=0.05)
    assert [r.getMessage() for r in caplog.records] == [
        f"outbox stopped with 1 callbacks undelivered (kept in {path} for the next start)"
    ]


def test_webhook_refuses_other_methods():
    """A webhook is GET or POST."""
    with pytest.raises(ValueError, match="method must be GET or POST"):
        Webhook("http://h/x", "PUT", {}, "call-1", "hangup")
