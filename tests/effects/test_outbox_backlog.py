"""The outbox's bounded memory: a backlog beyond `memory_queue` waits in the file and is read
back in emit order; rows `outbox retry` made pending are picked up under traffic."""

from __future__ import annotations

import logging
from collections import defaultdict

import pytest
from waiting import until

from plivoxml_fs import metrics
from plivoxml_fs.effects import outbox as outbox_module
from plivoxml_fs.effects.outbox import Outbox
from plivoxml_fs.effects.store import DEAD, OutboxStore
from plivoxml_fs.effects.webhook import Webhook

DEPTH = "plivoxml_fs_outbox_depth"


def make(tmp_path, **kw) -> Outbox:
    values = dict(pool_size=3, connect_timeout_s=2.0, read_timeout_s=30.0, backoff_s=(0.01,),
                  path=str(tmp_path / "outbox.sqlite3"), memory_queue=10)
    values.update(kw)
    return Outbox(**values)


def hook(base: str, call: str, n: int, path: str = "/cb") -> Webhook:
    return Webhook(base + path, "POST", {"CallUUID": call, "N": str(n)}, call, "callback")


def depth() -> float:
    return metrics.REGISTRY.get_sample_value(DEPTH) or 0.0


def in_order(hits) -> dict[str, list[int]]:
    by_call: dict[str, list[int]] = defaultdict(list)
    for _, form, _ in hits:
        by_call[form["CallUUID"]].append(int(form["N"]))
    return dict(by_call)


def numbers(hits) -> list[int]:
    return [int(form["N"]) for _, form, _ in hits]


def test_a_backlog_beyond_memory_waits_in_the_file_and_keeps_each_calls_order(
        tmp_path, gated, caplog):
    box = make(tmp_path)
    before = depth()
    most = 0
    with caplog.at_level(logging.WARNING, logger="plivoxml_fs.outbox"):
        for n in range(100):
            box.emit(hook(gated.base, f"call-{n % 7}", n))
            most = max(most, box.queued_in_memory)
        assert most <= 10
        assert box.pending == 100
        assert depth() - before == 100
        assert len(box.store.rows()) == 100  # every one is in the file
        gated.gate.set()
        assert box.flush(20.0)
    box.stop()
    assert sorted(numbers(gated.hits)) == list(range(100))  # each once
    assert len({d for *_, d in gated.hits}) == 100
    assert in_order(gated.hits) == {f"call-{k}": list(range(k, 100, 7)) for k in range(7)}
    assert box.pending == 0 and depth() == before
    assert box.store.rows() == []
    said = [r.getMessage() for r in caplog.records]
    assert any("later ones wait in the file" in m for m in said), said
    assert any("every callback waiting in the file is queued again" in m for m in said), said


def test_memory_stays_bounded_while_the_backlog_grows(tmp_path, gated):
    """Reading back makes room only as deliveries end: with the receiver stuck, 1,000 emits
    leave at most memory_queue queued, the rest only in the file."""
    box = make(tmp_path, memory_queue=50)
    for n in range(1000):
        box.emit(hook(gated.base, f"call-{n % 40}", n))
    assert box.queued_in_memory <= 50
    assert box.pending == 1000
    gated.gate.set()
    assert box.flush(30.0)
    box.stop()
    assert len(gated.hits) == 1000
    assert in_order(gated.hits) == {f"call-{k}": list(range(k, 1000, 40)) for k in range(40)}


def test_a_backlog_left_by_an_earlier_run_is_read_back_in_parts(tmp_path, gated):
    path = str(tmp_path / "outbox.sqlite3")
    store = OutboxStore(path)
    for n in range(60):
        store.add(f"d{n}", f"call-{n % 4}", "callback", "POST", gated.base + "/cb",
                  {"CallUUID": f"call-{n % 4}", "N": str(n)})
    store.close()
    before = depth()
    box = make(tmp_path)
    box.start()
    assert box.queued_in_memory <= 10
    assert box.pending == 60
    assert depth() - before == 60
    gated.gate.set()
    assert box.flush(20.0)
    box.stop()
    assert [d for *_, d in sorted(gated.hits, key=lambda h: int(h[1]["N"]))] == [
        f"d{n}" for n in range(60)]
    assert in_order(gated.hits) == {f"call-{k}": list(range(k, 60, 4)) for k in range(4)}
    assert depth() == before


def test_a_retried_row_is_picked_up_while_calls_go_on_emitting(tmp_path, gated, monkeypatch):
    """`outbox retry` gives the row a new id; a webhook emitted after it has a higher one, which
    must not hide the retried row (it was: the outbox looked only above the last id it had)."""
    monkeypatch.setattr(outbox_module, "ADOPT_S", 0.05)
    gated.gate.set()
    box = make(tmp_path)
    box.emit(hook(gated.base, "a", 1, path="/gone"))
    assert box.flush(5.0)
    [dead] = box.store.rows(DEAD)
    assert OutboxStore(box.store.path).retry() == 1  # as the CLI does, from its own connection
    box.emit(hook(gated.base, "b", 2))  # a later emit, with a higher id than the retried row
    until("the retried row sent again", lambda: sum(h[0] == "/gone" for h in gated.hits) == 2)
    assert box.flush(5.0)
    box.stop()
    assert [(path, form["CallUUID"]) for path, form, _ in gated.hits].count(("/cb", "b")) == 1
    assert dead.call_uuid == "a"


def test_memory_queue_must_hold_two(tmp_path):
    with pytest.raises(ValueError, match="memory_queue must be >= 2"):
        make(tmp_path, memory_queue=1)


def test_stop_counts_and_keeps_what_waits_in_the_file(tmp_path, gated, caplog):
    """Stopped with a backlog beyond memory: the warning counts all of it, outbox_depth is
    back where it was, and the next start delivers every one."""
    before = depth()
    box = make(tmp_path)
    for n in range(30):
        box.emit(hook(gated.base, f"call-{n % 3}", n))
    with caplog.at_level(logging.WARNING, logger="plivoxml_fs.outbox"):
        assert not box.stop(0.05)
    assert depth() == before
    assert any("outbox stopped with 30 callbacks undelivered" in r.getMessage()
               for r in caplog.records), [r.getMessage() for r in caplog.records]
    gated.gate.set()
    again = make(tmp_path)
    again.start()
    assert again.flush(20.0)
    again.stop()
    assert sorted(set(numbers(gated.hits))) == list(range(30))  # (those in flight: twice)
