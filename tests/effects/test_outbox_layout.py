"""The outbox split (outbox.py, outbox_delivery.py, outbox_journal.py): the names other code and
docs/internals.md import from effects.outbox still come from there, each module stays under the
house limit of 500 lines, and the Sender reports each failed attempt and the end of a delivery
through its callbacks (the outbox file is the Outbox's alone)."""

from __future__ import annotations

from pathlib import Path

import pytest

from plivoxml_fs.effects import outbox, outbox_delivery, outbox_journal
from plivoxml_fs.effects.outbox_delivery import Delivery, Item, Sender
from plivoxml_fs.effects.webhook import Webhook

EFFECTS = Path(outbox.__file__).parent


@pytest.mark.parametrize("name", [
    "DEFAULT_BACKOFF_S", "DELIVERY_ID_HEADER", "REPLY_BYTES", "RETRY_STATUSES", "Delivery",
    "backoff_from_settings", "pooled_http",
])
def test_delivery_names_still_importable_from_outbox(name):
    assert getattr(outbox, name) is getattr(outbox_delivery, name)


@pytest.mark.parametrize("name", ["HEARTBEAT_S", "JOURNAL_HEADERS", "Orphan", "journal_channel"])
def test_journal_names_still_importable_from_outbox(name):
    assert getattr(outbox, name) is getattr(outbox_journal, name)


def test_every_name_in_all_exists():
    missing = [n for n in outbox.__all__ if not hasattr(outbox, n)]
    assert not missing


@pytest.mark.parametrize("path", sorted(EFFECTS.glob("outbox*.py")), ids=lambda p: p.name)
def test_outbox_modules_stay_under_500_lines(path):
    assert len(path.read_text("utf-8").splitlines()) < 500


def test_sender_reports_failed_attempts_then_the_end():
    """Two failures (the first retried, the second final at the end of the back-off) and one
    end, in that order; attempts counted on the item."""
    sender = Sender(pool_size=1, connect_timeout_s=1.0, read_timeout_s=1.0, backoff_s=(0.0,),
                    total_timeout_s=None, auth_token="")
    replies = iter([(True, "HTTP 503"), (True, "HTTP 500")])
    sender.attempt = lambda item: next(replies)
    webhook = Webhook("http://127.0.0.1:9/cb", "POST", {"A": "1"}, "uuid-1", "hangup")
    item = Item(webhook, "d1", 7)
    seen = []
    sender.deliver(item, lambda i, cause, dead: seen.append(("failed", i.attempts, cause, dead)),
                   lambda i, delivery: seen.append(("ended", delivery)))
    assert seen == [
        ("failed", 1, "HTTP 503", False),
        ("failed", 2, "HTTP 500", True),
        ("ended", Delivery(webhook, False, 2, "HTTP 500", "d1")),
    ]


def test_sender_reports_a_delivery():
    sender = Sender(pool_size=1, connect_timeout_s=1.0, read_timeout_s=1.0, backoff_s=(),
                    total_timeout_s=None, auth_token="")
    sender.attempt = lambda item: (False, "")
    webhook = Webhook("http://127.0.0.1:9/cb", "GET", {}, "uuid-1", "action")
    seen = []
    sender.deliver(Item(webhook, "d2", None), lambda *a: seen.append(a),
                   lambda i, delivery: seen.append(delivery))
    assert seen == [Delivery(webhook, True, 1, "", "d2")]
