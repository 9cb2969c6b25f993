"""An outbox file that cannot be opened at start: memory first, then the file once it opens."""

from __future__ import annotations

import logging
import os

import gevent
import gevent.event
import pytest
from waiting import until

from plivoxml_fs import metrics
from plivoxml_fs.effects.outbox import Outbox
from plivoxml_fs.effects.store import PENDING, CallRow, OutboxStore
from plivoxml_fs.effects.webhook import Webhook

WAIT_S = 5.0


@pytest.fixture
def receiver(gated):
    gated.hold_s = WAIT_S
    return gated


def make_outbox(path, **kw):
    values = dict(pool_size=4, connect_timeout_s=0.5, read_timeout_s=WAIT_S + 1,
                  backoff_s=(0.01,), path=str(path), reopen_s=0.05)
    values.update(kw)
    return Outbox(**values)


def hook(base, call):
    return Webhook(base + "/cb", "POST", {"CallUUID": call}, call, "hangup")


def durable_gauge() -> float | None:
    return metrics.REGISTRY.get_sample_value("plivoxml_fs_outbox_durable")


def wait_for(predicate, what: str) -> None:
    until(what, predicate, WAIT_S)


def test_locked_file_is_adopted_once_released(tmp_path, receiver, caplog):
    """Memory while an old process holds the lock; then its rows, the memory's and the
    journal's orphans all end up in the file, and every callback is delivered once."""
    path = tmp_path / "outbox.sqlite3"
    old = OutboxStore(str(path), exclusive=True)
    for call in ("old-1", "old-2"):
        old.add(f"d-{call}", call, "hangup", "POST", receiver.base + "/cb", {"CallUUID": call})
    old.call_started(CallRow("orphan-1", receiver.base + "/cb", "POST",
                             {"Unique-ID": "orphan-1"}, 0, 1000.0))
    with caplog.at_level(logging.WARNING, logger="plivoxml_fs.outbox"):
        box = make_outbox(path)
        try:
            assert not box.durable and durable_gauge() == 0
            for call in ("new-1", "new-2", "new-3"):
                box.emit(hook(receiver.base, call))
            box.call_started("live-1", receiver.base + "/cb", "POST", _channel("live-1"))
            old.close()
            wait_for(lambda: box.durable, "the file to be adopted")
            assert durable_gauge() == 1
            on_file = OutboxStore(str(path))
            assert sorted(r.call_uuid for r in on_file.rows(PENDING)) == [
                "new-1", "new-2", "new-3", "old-1", "old-2"]
            assert sorted(c.call_uuid for c in on_file.calls()) == ["live-1", "orphan-1"]
            assert [o.call.call_uuid for o in box.take_orphans()] == ["orphan-1"]
            receiver.gate.set()
            assert box.flush(WAIT_S)
        finally:
            box.stop()
    assert sorted(receiver.calls) == ["new-1", "new-2", "new-3", "old-1", "old-2"]
    assert OutboxStore(str(path)).rows() == []
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert f"outbox {path}: 3 callback(s) kept in memory moved into it" in messages
    assert any(m.startswith(f"outbox {path} opened after ") and
               m.endswith("attempt(s): callbacks are durable again") for m in messages)


def test_unwritable_directory_is_retried_until_it_works(tmp_path, receiver):
    """A state directory that is a plain file at start: memory-only, still retried, adopted as
    soon as it is a directory; later callbacks go to the file."""
    blocked = tmp_path / "state"
    blocked.write_text("")
    path = blocked / "outbox.sqlite3"
    box = make_outbox(path)
    try:
        box.emit(hook(receiver.base, "early"))
        gevent.sleep(0.2)  # several failed attempts (each a DEBUG line)
        assert not box.durable
        os.remove(blocked)
        blocked.mkdir()
        wait_for(lambda: box.durable, "the file to be adopted")
        box.emit(hook(receiver.base, "later"))
        assert sorted(r.call_uuid for r in OutboxStore(str(path)).rows(PENDING)) == [
            "early", "later"]
        receiver.gate.set()
        assert box.flush(WAIT_S)
    finally:
        box.stop()
    assert sorted(receiver.calls) == ["early", "later"]


def _channel(uuid):
    from plivoxml_fs.esl.messages import Event

    return Event({"Unique-ID": uuid, "Caller-Caller-ID-Number": "1001", "Core-UUID": "x",
                  "variable_secret_thing": "x", "variable_direction": "inbound"})


def test_journal_keeps_channel_headers_but_not_its_variables(tmp_path):
    """call_started keeps the Caller-* headers and JOURNAL_HEADERS, no others."""
    box = make_outbox(tmp_path / "outbox.sqlite3")
    try:
        box.call_started("c-1", "http://127.0.0.1:9/h", "POST", _channel("c-1"), 0)
        box.call_answered("c-1", 1_700_000_000_000_000)
        [call] = box.store.calls()
        assert call.channel == {"Unique-ID": "c-1", "Caller-Caller-ID-Number": "1001",
                                "variable_direction": "inbound"}
        assert call.answered_us == 1_700_000_000_000_000
        box.emit(Webhook("http://127.0.0.1:9/h", "POST", {}, "c-1", "hangup"))
        assert box.store.calls() == []
    finally:
        box.stop()


def test_an_orphan_ends_no_earlier_than_its_answer(tmp_path):
    """An orphan answered after the last heartbeat is last seen at its answer, not before it."""
    path = tmp_path / "outbox.sqlite3"
    old = OutboxStore(str(path), exclusive=True)
    old.mark_alive(1000.0)
    old.call_started(CallRow("early", "http://127.0.0.1:9/h", "POST", {}, 0, 990.0))
    old.call_started(CallRow("late", "http://127.0.0.1:9/h", "POST", {}, 1_002_500_000, 1001.0))
    old.close()
    box = make_outbox(path)
    try:
        assert {o.call.call_uuid: o.last_seen for o in box.take_orphans()} == {
            "early": 1000.0, "late": 1002.5}
        assert box.take_orphans() == []
    finally:
        box.stop()


def test_callbacks_waiting_in_a_memory_store_reach_the_file_that_opens_late(tmp_path, receiver):
    """Beyond memory_queue, webhooks wait in the memory store's rows; once the file opens they
    are copied into it with the others and still delivered, each once, in order."""
    path = tmp_path / "outbox.sqlite3"
    old = OutboxStore(str(path), exclusive=True)
    box = make_outbox(path, memory_queue=3, pool_size=1)
    try:
        for n in range(8):
            box.emit(Webhook(receiver.base + "/cb", "POST", {"CallUUID": f"call-{n}"}, "one",
                             "callback"))
        assert box.queued_in_memory <= 3 and box.pending == 8
        old.close()
        wait_for(lambda: box.durable, "the file to be adopted")
        receiver.gate.set()
        assert box.flush(WAIT_S)
    finally:
        box.stop()
    assert receiver.calls == [f"call-{n}" for n in range(8)]
    assert OutboxStore(str(path)).rows() == []


def test_a_late_files_backlog_is_read_back_within_memory_queue(tmp_path, receiver):
    """An earlier run left 20 callbacks in the file; memory holds 6 more: once the file opens,
    memory never holds more than memory_queue, pending counts all 26, each is delivered once,
    each run's in its order (this run's, queued before the file opened, go first)."""
    path = tmp_path / "outbox.sqlite3"
    old = OutboxStore(str(path), exclusive=True)
    for n in range(20):
        old.add(f"d-old-{n}", "one", "callback", "POST", receiver.base + "/cb",
                {"CallUUID": f"old-{n}"})
    box = make_outbox(path, memory_queue=4, pool_size=1)
    try:
        for n in range(6):
            box.emit(Webhook(receiver.base + "/cb", "POST", {"CallUUID": f"new-{n}"}, "one",
                             "callback"))
        old.close()
        wait_for(lambda: box.durable, "the file to be adopted")
        assert box.queued_in_memory <= 4 and box.pending == 26
        receiver.gate.set()
        assert box.flush(WAIT_S)
    finally:
        box.stop()
    assert [c for c in receiver.calls if c.startswith("old")] == [f"old-{n}" for n in range(20)]
    assert [c for c in receiver.calls if c.startswith("new")] == [f"new-{n}" for n in range(6)]
    assert len(receiver.calls) == 26
    assert OutboxStore(str(path)).rows() == []
