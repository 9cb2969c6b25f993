"""Outbox metrics: depth, delivered, failed and dead as /metrics shows them, read before/after."""

from __future__ import annotations

import pytest

from plivoxml_fs import metrics
from plivoxml_fs.effects.outbox import Outbox
from plivoxml_fs.effects.store import OutboxStore
from plivoxml_fs.effects.webhook import Webhook

NAMES = {
    "depth": "plivoxml_fs_outbox_depth",
    "delivered": "plivoxml_fs_callbacks_delivered_total",
    "failed": "plivoxml_fs_callbacks_failed_total",
    "dead": "plivoxml_fs_callbacks_dead_total",
}


def values() -> dict[str, float]:
    return {key: metrics.REGISTRY.get_sample_value(name) or 0.0 for key, name in NAMES.items()}


def change(before: dict[str, float]) -> dict[str, float]:
    after = values()
    return {key: after[key] - before[key] for key in NAMES}


def make(tmp_path, **kw) -> Outbox:
    settings = dict(pool_size=2, connect_timeout_s=0.5, read_timeout_s=1.0,
                    backoff_s=(0.01, 0.01), path=str(tmp_path / "outbox.sqlite3"))
    settings.update(kw)
    return Outbox(**settings)


def hook(app, path, call="call-1", n=0):
    return Webhook(app.base + path, "POST", {"CallUUID": call, "N": str(n)}, call, "hangup")


@pytest.fixture
def stopping():
    boxes = []
    yield boxes.append
    for box in boxes:
        box.stop(timeout=1.0)


def test_delivered_callbacks_are_counted_and_leave_the_depth(http_app, tmp_path, stopping):
    """Two accepted callbacks: delivered +2, depth +2 while queued and back to 0 after."""
    box = make(tmp_path, pool_size=1)
    stopping(box)
    before = values()
    box.emit(hook(http_app, "/slowcb", n=1))
    box.emit(hook(http_app, "/cb", n=2))
    assert change(before)["depth"] == 2
    assert box.flush(3.0)
    assert change(before) == {"depth": 0, "delivered": 2, "failed": 0, "dead": 0}


def test_each_failed_attempt_is_counted_and_the_last_one_makes_it_dead(http_app, tmp_path,
                                                                      stopping):
    """500 forever with two retries: three failed attempts, one dead, nothing delivered."""
    http_app.statuses["/down"] = [500, 500, 500]
    box = make(tmp_path)
    stopping(box)
    before = values()
    box.emit(hook(http_app, "/down"))
    assert box.flush(3.0)
    assert change(before) == {"depth": 0, "delivered": 0, "failed": 3, "dead": 1}


def test_retried_then_delivered_is_not_dead(http_app, tmp_path, stopping):
    """A 503 then a 200: one failed attempt, one delivered, none dead."""
    http_app.statuses["/flaky"] = [503, 200]
    box = make(tmp_path)
    stopping(box)
    before = values()
    box.emit(hook(http_app, "/flaky"))
    assert box.flush(3.0)
    assert change(before) == {"depth": 0, "delivered": 1, "failed": 1, "dead": 0}


def test_a_4xx_is_dead_after_one_failed_attempt(http_app, tmp_path, stopping):
    """A 404 is final: one failed attempt and one dead."""
    http_app.statuses["/gone"] = [404]
    box = make(tmp_path)
    stopping(box)
    before = values()
    box.emit(hook(http_app, "/gone"))
    assert box.flush(3.0)
    assert change(before) == {"depth": 0, "delivered": 0, "failed": 1, "dead": 1}


def test_rows_left_by_an_earlier_run_count_in_the_depth_at_start(http_app, tmp_path):
    """Three pending rows in the file: start makes the depth 3; stop takes the undelivered off."""
    path = str(tmp_path / "outbox.sqlite3")
    store = OutboxStore(path)
    for n in range(3):
        store.add(f"id-{n}", "call-1", "hangup", "POST", http_app.base + "/slowcb", {"N": str(n)})
    store.close()
    box = make(tmp_path, pool_size=1, path=path)
    before = values()
    box.start()
    assert change(before)["depth"] == 3
    assert not box.stop(timeout=0.05)
    assert change(before)["depth"] == 0
    assert OutboxStore(path).count("pending") == 3


def test_outbox_metrics_are_in_the_exposition():
    """/metrics text names the four outbox metrics."""
    text = metrics.exposition()[0].decode()
    for name in NAMES.values():
        assert f"\n{name} " in text
