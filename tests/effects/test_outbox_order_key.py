"""Webhook.order_key: one MPC's callbacks, emitted from several calls concurrently, arrive in
emit order through the outbox, also after a restart; an outbox file from before the key is
upgraded in place."""

from __future__ import annotations

import sqlite3

import gevent

from plivoxml_fs.effects.outbox import Outbox
from plivoxml_fs.effects.store import PENDING, OutboxStore
from plivoxml_fs.effects.webhook import Webhook

from .test_outbox_durable import make_outbox, receiver  # noqa: F401  (the fixture)


def mpc_hook(url: str, call: str, n: int, key: str = "mpc-u1") -> Webhook:
    return Webhook(url, "POST", {"CallUUID": call, "N": str(n)}, call, "mpc-status",
                   order_key=key)


def test_one_key_is_one_order_across_calls_under_concurrency(http_app):
    """Eight greenlets (calls) emit the callbacks of one MPC in a shared order while a slow
    endpoint holds the first: they arrive 0..n-1; another MPC's are not held back."""
    box = Outbox(pool_size=4, connect_timeout_s=0.5, read_timeout_s=1.0, backoff_s=())
    counter = iter(range(1000))

    def participant(call: str) -> None:
        for _ in range(5):
            n = next(counter)
            box.emit(mpc_hook(http_app.base + ("/slowcb" if n == 0 else "/cb"), call, n))
            gevent.sleep(0)

    try:
        gevent.joinall([gevent.spawn(participant, f"call-{i}") for i in range(8)])
        box.emit(mpc_hook(http_app.base + "/cb", "other", 999, key="mpc-u2"))
        assert box.flush(5.0)
    finally:
        box.stop(timeout=1.0)
    got = [int(h.form["N"]) for h in http_app.hits if h.form["CallUUID"] != "other"]
    assert got == list(range(40))
    delivered = [d.webhook.call_uuid for d in box.recent]
    assert delivered.index("other") < len(delivered) - 1  # not behind the slow MPC


def test_the_key_is_stored_and_survives_a_restart(tmp_path, receiver):  # noqa: F811
    first = make_outbox(tmp_path)
    first.stop(timeout=0)
    for n in range(6):
        first.emit(mpc_hook(receiver.base + "/cb", f"c{n % 3}", n))
    assert {r.order_key for r in first.store.rows(PENDING)} == {"mpc-u1"}
    second = make_outbox(tmp_path, pool_size=4)
    second.start()
    assert second.flush(3.0)
    second.stop()
    assert [h["form"]["N"] for h in receiver.hits] == [str(n) for n in range(6)]


def test_an_outbox_from_before_the_key_is_upgraded(tmp_path):
    path = str(tmp_path / "old.sqlite3")
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE webhooks (id INTEGER PRIMARY KEY AUTOINCREMENT, delivery_id TEXT NOT NULL"
        " UNIQUE, call_uuid TEXT NOT NULL, kind TEXT NOT NULL, method TEXT NOT NULL, url TEXT NOT"
        " NULL, params TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT"
        " NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '', created REAL NOT NULL, updated"
        " REAL NOT NULL)")
    conn.execute("INSERT INTO webhooks (delivery_id, call_uuid, kind, method, url, params,"
                 " created, updated) VALUES ('d1', 'c1', 'hangup', 'POST', 'http://x/', '{}', 1,"
                 " 1)")
    conn.commit()
    conn.close()
    store = OutboxStore(path)
    try:
        (row,) = store.rows(PENDING)
        assert (row.delivery_id, row.order_key) == ("d1", "")
    finally:
        store.close()
