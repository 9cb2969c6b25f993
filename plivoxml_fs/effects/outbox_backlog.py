"""The outbox's bounded memory (split from effects/outbox.py): webhooks beyond what memory
holds wait in the outbox file, and are read back from it in emit order.

`Outbox` queues at most `memory_queue` webhooks in memory. When it is full (a receiver down,
its retries backing off), `_spill` leaves an emitted webhook in the file only, and every later
one too until the file holds none older than those queued (otherwise a later webhook of one key
could pass an earlier one). `_read_back` queues the file's pending rows that are not queued
yet, in id (emit) order, as many as there is room for: when a delivery brings the queue under
half full, every outbox.ADOPT_S (which also picks up rows `plivoxml-fs outbox retry` made pending,
however many webhooks were emitted since), and at start (what an earlier run left). It reads
ids first and whole rows only for those it takes; rows queued here, or delivered and not yet
deleted, are skipped, so none is delivered twice.
"""

from __future__ import annotations

import logging
import sqlite3
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from plivoxml_fs import metrics
from plivoxml_fs.effects.outbox_delivery import Item, log_context
from plivoxml_fs.effects.store import PENDING, Row
from plivoxml_fs.effects.webhook import Webhook

if TYPE_CHECKING:
    from plivoxml_fs.effects.store import OutboxStore

log = logging.getLogger("plivoxml_fs.outbox")


class Backlog:
    """The bounded-memory half of `Outbox` (which sets every attribute named here)."""

    store: OutboxStore
    _memory_queue: int
    _queues: dict[str, deque[Item]]
    _delivered_rows: list[int]
    _scan_from: int
    _spilling: bool
    _in_file_only: int
    _pending: int
    _in_depth: bool
    _idle: Any

    if TYPE_CHECKING:
        def _enqueue(self, item: Item, counted: bool = False) -> None: ...

    def _spill(self, webhook: Webhook) -> None:
        """Memory is full (or older webhooks wait in the file): this one waits there too."""
        self._in_file_only += 1
        if self._in_depth:
            metrics.outbox_depth.inc()
        self._idle.clear()
        if not self._spilling:
            self._spilling = True
            log.warning("outbox %s: %d callbacks queued in memory; later ones wait in the file "
                        "and are delivered in order as the queue drains", self.store.path,
                        self._pending, extra=log_context(webhook))

    def _held(self) -> set[int]:
        """Row ids this outbox holds: queued (the ones being delivered too), or delivered and
        not yet deleted from the file."""
        held = {item.row_id for queue in self._queues.values() for item in queue
                if item.row_id is not None}
        held.update(self._delivered_rows)
        return held

    def _adopt(self, rows: Sequence[Row]) -> None:
        for row in rows:
            webhook = Webhook(row.url, row.method, row.params, row.call_uuid, row.kind,
                              order_key=row.order_key)
            counted = self._in_file_only > 0  # a spilled row: outbox_depth has it already
            if counted:
                self._in_file_only -= 1
            self._enqueue(Item(webhook, row.delivery_id, row.id, row.attempts), counted)

    def _read_back(self, why: str | None, recount: bool = False) -> None:
        """Queue, in emit order, the file's pending rows not queued here yet (spilled by
        `_spill`, left by an earlier run, made pending by `outbox retry`), as many as memory
        has room for; once none is left, emits are queued in memory again. `recount` (at start,
        and when a late file opens): count what the file holds that is not queued here, so
        `pending` and outbox_depth include it before it is read."""
        skip = self._held()
        room = self._memory_queue - self._pending
        asked = room + len(skip)
        try:
            waiting = self.store.count(PENDING) - len(skip) if recount else 0
            ids = self.store.pending_ids_after(self._scan_from, asked) if room > 0 else []
            unqueued = [i for i in ids if i not in skip]
            rows = self.store.rows_by_id(unqueued[:room])
            caught_up = room > 0 and len(ids) < asked and len(unqueued) <= room
            last = self.store.last_id() if caught_up else 0
        except (OSError, sqlite3.Error) as exc:
            log.error("outbox %s cannot be read (%s)", self.store.path, exc)
            return
        was_spilling = self._spilling
        if recount:
            waiting = max(0, waiting)
            if self._in_depth and waiting != self._in_file_only:
                metrics.outbox_depth.inc(waiting - self._in_file_only)
            self._in_file_only = waiting
            self._spilling = self._spilling or waiting > 0
        self._adopt(rows)  # rows waiting in the file are counted in outbox_depth already
        if caught_up:
            self._scan_from = max(self._scan_from, last)
            if self._in_file_only and self._in_depth:  # purged meanwhile (`outbox purge`)
                metrics.outbox_depth.dec(self._in_file_only)
            self._in_file_only = 0
            self._spilling = False
        elif ids:
            self._scan_from = unqueued[room - 1] if len(unqueued) > room else ids[-1]
        if self._pending == 0 and not self._spilling:
            self._idle.set()
        # state first, log lines last: a log line may yield to another greenlet
        if rows and why:
            log.info("outbox %s: delivering %d callback(s) %s", self.store.path, len(rows), why)
        if was_spilling and not self._spilling:
            log.warning("outbox %s: every callback waiting in the file is queued again",
                        self.store.path)
