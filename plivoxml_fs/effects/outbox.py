"""Callback delivery: verbs and the driver emit `Webhook`s, never HTTP themselves.

The `Outbox` is durable: `emit` writes the webhook to the SQLite outbox (effects/store.py, one
short transaction) before it returns, and a bounded pool of greenlets delivers it. What it
guarantees:

- `emit` returns at once; it never waits for HTTP, even when every worker is busy;
- per-call order: the webhooks of one call uuid are delivered one after the other, in emit
  order (also after a restart: stored rows are read back in emit order); different calls never
  wait on each other beyond the shared worker bound (`pool_size`). The order is really per
  `Webhook.key`: its `order_key` (stored with it) or else its call uuid, so one MPC's status
  callbacks, from all its participants' calls, are delivered in the order they were emitted;
- each webhook is delivered by effects/outbox_delivery.py (`Sender`): timeouts, retries of
  connect errors, timeouts, 5xx and 429 with jittered back-off (`backoff_s`), 3xx and other 4xx
  final (redirects are never followed; the row is kept dead so it can be retried once the URL
  is fixed), Plivo signatures with an `auth_token`, one keep-alive `HttpClient` (http11.py);
- a webhook that finally fails is logged once (ERROR, logger `plivoxml_fs.outbox`), naming its
  kind, URL (query hidden), attempts and cause, and stays in the outbox as `dead` with its
  attempt count and last error (`plivoxml-fs outbox list|retry|purge`); each attempt has a DEBUG
  line. Every line about one webhook carries `call_uuid`, `event` (its kind: hangup, action,
  ...) and, for a conference's callbacks, `conference` (its ConferenceName);
- delivered rows are deleted in batches (every `DELETE_BATCH_S`, and on flush/stop): after a
  hard kill a callback delivered in that last instant may be sent again. Every request carries
  `X-PlivoXML-Delivery-Id`, stable across retries and restarts, so a receiver can drop repeats;
- memory is bounded: at most `memory_queue` webhooks (MEMORY_QUEUE) are queued in memory;
  while a receiver is down and the backlog is larger, later webhooks wait in the outbox file
  only (one WARNING when that starts, one when it is over) and are read back in emit order as
  deliveries make room (under half full), so per-key order holds; `pending` and
  `outbox_depth` count them. (A queued webhook is ~1 KB of Python objects: a receiver down
  for an hour at 200 callbacks a second would otherwise hold ~700 MB.) Webhooks the file
  cannot take stay in memory whatever the bound, ahead of any of their key waiting in the
  file;
- `start` delivers what an earlier process left pending (read back the same way); rows made
  pending again by `plivoxml-fs outbox retry` are picked up within `ADOPT_S`, however many
  webhooks were emitted meanwhile; a webhook emitted after `stop` is
  stored for the next start (WARNING line). Only one process delivers from a file (it holds
  `<path>.lock`; a second one keeps its callbacks in memory, with an ERROR line);
- when the outbox file cannot be written (full disk), the webhook is kept in memory and
  delivered anyway, with one ERROR line per outage saying such callbacks are lost by a restart
  (a WARNING counts them when writing works again). Delivered rows that cannot be deleted stay
  queued for the next batch. A corrupt file at start is set aside and a fresh one created
  (store.py);
- when the file cannot be opened at start (unwritable or missing mount, lock still held by an
  old process), the outbox keeps to memory (one ERROR line) and tries again every `reopen_s`;
  once it opens, what memory holds (callbacks not yet delivered, dead ones, the call journal)
  is moved into it, the rows an earlier run left there are delivered, and a WARNING says so.
  `durable` (and the `outbox_durable` gauge) says whether callbacks are in a file right now;
- the call journal (effects/outbox_journal.py, `CallJournal`, a base class of `Outbox`):
  `call_started` / `call_answered` / `call_ended` keep a row per call in progress with a hangup
  URL; emitting a `hangup` webhook deletes its call's row in the same transaction;
  `take_orphans()` hands out, once, the calls an earlier process never finished;
- metrics (plivoxml_fs/metrics.py): `outbox_depth` counts the webhooks this outbox has queued
  and not yet delivered or given up (rows picked up at start or from `outbox retry` included;
  what is left at `stop` is taken off, as this process no longer delivers it); the callback
  counters are outbox_delivery.py's.

This module queues (per-key order, the workers), stores (emit, the delete batches, adopting
rows) and opens a late file. Its names from before the split (Delivery, Orphan, the constants,
`backoff_from_settings`, `journal_channel`, `pooled_http`) are still importable from here.
"""

from __future__ import annotations

import logging
import sqlite3
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path

import gevent
import gevent.event
import gevent.queue

from plivoxml_fs import metrics
from plivoxml_fs.config import Settings
from plivoxml_fs.effects.outbox_backlog import Backlog
from plivoxml_fs.effects.outbox_delivery import (
    DEFAULT_BACKOFF_S,
    DELIVERY_ID_HEADER,
    REPLY_BYTES,
    RETRY_STATUSES,
    Delivery,
    Item,
    Sender,
    backoff_from_settings,
    log_context,
    pooled_http,
)
from plivoxml_fs.effects.outbox_journal import (
    HEARTBEAT_S,
    JOURNAL_HEADERS,
    CallJournal,
    Orphan,
    journal_channel,
    orphans_of,
)
from plivoxml_fs.effects.store import MEMORY, OutboxStore
from plivoxml_fs.effects.webhook import Webhook

# Names this module had before it was split, still imported from here by the package and docs.
__all__ = [
    "ADOPT_S", "DEFAULT_BACKOFF_S", "DEFAULT_REOPEN_S", "DELETE_BATCH_S", "DELIVERY_ID_HEADER",
    "HANGUP_KIND", "HEARTBEAT_S", "JOURNAL_HEADERS", "OUTBOX_FILE", "REPLY_BYTES",
    "RETRY_STATUSES", "Delivery", "Orphan", "Outbox", "backoff_from_settings",
    "journal_channel", "outbox_path", "pooled_http",
]

log = logging.getLogger("plivoxml_fs.outbox")

#: The webhook kind of the hangup URL's callback (it ends its call's journal row).
HANGUP_KIND = "hangup"
#: How often delivered rows are deleted from the outbox file.
DELETE_BATCH_S = 0.05
#: How often the file's pending rows not queued here (spilled, or made pending by
#: `plivoxml-fs outbox retry`) are looked for, besides when a delivery makes room.
ADOPT_S = 2.0
OUTBOX_FILE = "outbox.sqlite3"
#: Default of `reopen_s`: seconds between attempts to open an outbox file that would not open.
DEFAULT_REOPEN_S = 5.0
#: Default of `memory_queue`: the most webhooks queued in memory; more wait in the file.
MEMORY_QUEUE = 10_000


def outbox_path(settings: Settings) -> str:
    """The outbox file: `outbox_path`, else `<state_dir>/outbox.sqlite3`."""
    return settings.outbox_path or str(Path(settings.state_dir) / OUTBOX_FILE)


def _open_store(path: str, reopen_s: float) -> OutboxStore:
    try:
        return OutboxStore(path, exclusive=True)
    except (OSError, sqlite3.Error) as exc:
        log.error(
            "outbox %s cannot be opened (%s): callbacks are kept in memory only and are lost "
            "if the daemon stops before delivering them; trying again every %s s",
            path,
            exc,
            reopen_s,
        )
        return OutboxStore(MEMORY)


class Outbox(CallJournal, Backlog):
    """Durable callback queue with per-call ordering and a bounded set of workers."""

    def __init__(
        self,
        *,
        pool_size: int,
        connect_timeout_s: float,
        read_timeout_s: float,
        backoff_s: Sequence[float] = DEFAULT_BACKOFF_S,
        total_timeout_s: float | None = None,
        path: str = MEMORY,
        auth_token: str = "",
        reopen_s: float = DEFAULT_REOPEN_S,
        memory_queue: int = MEMORY_QUEUE,
    ) -> None:
        if pool_size < 1:
            raise ValueError(f"Outbox: pool_size must be >= 1 (got {pool_size})")
        if memory_queue < 2:
            raise ValueError(f"Outbox: memory_queue must be >= 2 (got {memory_queue})")
        self._sender = Sender(pool_size=pool_size, connect_timeout_s=connect_timeout_s,
                              read_timeout_s=read_timeout_s, backoff_s=backoff_s,
                              total_timeout_s=total_timeout_s, auth_token=auth_token)
        self._path = path
        self._reopen_s = reopen_s
        self.store = _open_store(path, reopen_s)
        #: Called (no arguments) when a file opened after the start brings orphaned calls.
        self.on_orphans: Callable[[], object] | None = None
        self._orphans: list[Orphan] = orphans_of(self.store)
        self._journal_failing = False
        metrics.outbox_durable.set(1 if self.durable else 0)
        self._queues: dict[str, deque[Item]] = {}
        self._ready: gevent.queue.Queue = gevent.queue.Queue()
        self._pending = 0
        self._idle = gevent.event.Event()
        self._idle.set()
        self._started = False
        self._closed = False
        self._pool_size = pool_size
        self._workers: list[gevent.Greenlet] = []
        self._delivered_rows: list[int] = []
        self._unstored = 0  # webhooks not written since the last successful write
        self._delete_failing = False
        self._memory_queue = memory_queue
        #: File rows with a higher id may be pending and not queued here (read back, retried).
        self._scan_from = 0
        #: The file may hold pending rows older than some queued here: emits wait in the file.
        self._spilling = False
        #: Pending rows in the file, not queued here, that outbox_depth already counts.
        self._in_file_only = 0
        self._in_depth = True  # its pending webhooks count in metrics.outbox_depth (until stop)
        #: The last deliveries (most recent last), for tests and diagnostics.
        self.recent: deque[Delivery] = deque(maxlen=1000)

    @classmethod
    def from_settings(cls, settings: Settings) -> Outbox:
        return cls(
            pool_size=settings.callback_pool_size,
            connect_timeout_s=settings.callback_connect_timeout_s,
            read_timeout_s=settings.callback_read_timeout_s,
            total_timeout_s=settings.callback_total_timeout_s,
            backoff_s=backoff_from_settings(settings),
            path=outbox_path(settings),
            auth_token=settings.auth_token,
            reopen_s=settings.outbox_reopen_interval_s,
        )

    @property
    def pending(self) -> int:
        """Webhooks emitted (or left by an earlier process) and not yet delivered or dead."""
        return self._pending + self._in_file_only

    @property
    def queued_in_memory(self) -> int:
        """Webhooks queued in memory (at most `memory_queue` of those the file holds)."""
        return self._pending

    def start(self) -> None:
        """Queue what the outbox file holds as pending, then start the workers (once)."""
        if self._started or self._closed:
            return
        self._started = True
        self._read_back("left pending by an earlier run", recount=True)
        self._workers = [gevent.spawn(self._work) for _ in range(self._pool_size)]
        self._workers.append(gevent.spawn(self._delete_delivered_forever))
        self._workers.append(gevent.spawn(self._adopt_retried_forever))
        self._workers.append(gevent.spawn(self._heartbeat_forever))
        if not self.durable and self._path != MEMORY:
            self._workers.append(gevent.spawn(self._reopen_forever))

    def emit(self, webhook: Webhook) -> None:
        """Store `webhook`, queue it after the earlier ones of its call; returns at once."""
        self.start()
        delivery_id = uuid.uuid4().hex
        row_id = self._store(webhook, delivery_id)
        if self._closed:
            if row_id is not None and self.store.path != MEMORY:
                log.warning(
                    "%s callback for call %s emitted after the outbox stopped: stored, "
                    "delivered at the next start",
                    webhook.kind, webhook.call_uuid, extra=log_context(webhook),
                )
            else:
                log.error(
                    "%s callback for call %s dropped: emitted after the outbox stopped, and "
                    "there is no outbox file to keep it for the next start",
                    webhook.kind, webhook.call_uuid, extra=log_context(webhook),
                )
            return
        if row_id is not None and (self._spilling or self._pending >= self._memory_queue):
            self._spill(webhook)
            return
        self._enqueue(Item(webhook, delivery_id, row_id))

    def flush(self, timeout: float) -> bool:
        """Wait until every queued webhook is delivered or dead; False on timeout."""
        idle = self._idle.wait(timeout)
        self._delete_delivered()
        return idle

    def stop(self, timeout: float = 0.0) -> bool:
        """Stop delivering: wait up to `timeout` s for the queue, then stop the workers.

        What is left undelivered stays in the outbox file for the next start."""
        self._closed = True
        drained = self.flush(timeout)
        left = self.pending  # (killed workers count their webhooks as done)
        gevent.killall(self._workers)
        self._workers = []
        if self._in_depth:  # kept in the file, not delivered here
            metrics.outbox_depth.dec(self.pending)
            self._in_depth = False
        self._delete_delivered()
        self._mark_alive()
        self.store.unlock()
        if not drained:
            where = ("lost: the outbox has no file" if self.store.path == MEMORY
                     else f"kept in {self.store.path} for the next start")
            log.warning("outbox stopped with %d callbacks undelivered (%s)", left, where)
        return drained

    # -- storing ----------------------------------------------------------------------------

    def _store(self, webhook: Webhook, delivery_id: str) -> int | None:
        """The new row's id, or None when it cannot be written (one ERROR line per outage)."""
        try:
            row_id = self.store.add(delivery_id, webhook.call_uuid, webhook.kind, webhook.method,
                                    webhook.url, dict(webhook.params),
                                    ends_call=webhook.kind == HANGUP_KIND,
                                    order_key=webhook.order_key)
        except (OSError, sqlite3.Error) as exc:
            if webhook.kind == HANGUP_KIND:
                self.call_ended(webhook.call_uuid)  # may still work (a delete is small)
            self._unstored += 1
            if self._unstored == 1:
                log.error(
                    "%s callback for call %s cannot be written to outbox %s (%s): kept in "
                    "memory and delivered, but lost if the daemon stops first (so are the next "
                    "ones until the outbox can be written again)",
                    webhook.kind, webhook.call_uuid, self.store.path, exc,
                    extra=log_context(webhook),
                )
            else:
                log.debug("%s callback for call %s kept in memory only", webhook.kind,
                          webhook.call_uuid, extra=log_context(webhook))
            return None
        if self._unstored:
            log.warning("outbox %s can be written again; %d callback(s) were kept in memory only",
                        self.store.path, self._unstored)
            self._unstored = 0
        return row_id

    # -- a file that opens late --------------------------------------------------------------

    def _reopen_forever(self) -> None:
        attempts = 1
        while not self.durable:
            gevent.sleep(self._reopen_s)
            attempts += 1
            try:
                store = OutboxStore(self._path, exclusive=True)
            except (OSError, sqlite3.Error) as exc:
                log.debug("outbox %s still cannot be opened (%s)", self._path, exc)
                continue
            try:
                self._move_into(store)
            except (OSError, sqlite3.Error) as exc:
                store.close()
                log.debug("outbox %s: moving memory into it failed (%s)", self._path, exc)
                continue
            log.warning(
                "outbox %s opened after %d attempt(s): callbacks are durable again", self._path,
                attempts)

    def _move_into(self, store: OutboxStore) -> None:
        """Adopt `store`: copy memory's rows and journal into it (one transaction), queue
        the rows an earlier run left in it (as many as memory_queue allows, the rest read back
        later), hand out its orphans. Every change of state comes
        before the first log line (which may yield to another greenlet)."""
        orphans = orphans_of(store)
        memory, delivered = self.store, set(self._delivered_rows)
        new_ids: dict[int, int] = {}
        with store._transaction():
            for row in memory.rows():
                if row.id not in delivered:
                    new_ids[row.id] = store.copy_row(row)
            for call in memory.calls():
                store.call_started(call)
        for queue in self._queues.values():
            for item in queue:
                if item.row_id is not None:
                    item.row_id = new_ids.get(item.row_id)
        self._delivered_rows = []
        self.store = store
        # its pending rows not queued here (an earlier run's, and the memory store's that
        # waited there beyond memory_queue) are read back from its first row, as at start
        self._scan_from = 0
        memory.close()
        metrics.outbox_durable.set(1)
        self._orphans.extend(orphans)
        # state first, log lines last: a log line may yield to another greenlet
        self._read_back("left pending by an earlier run", recount=True)
        self._mark_alive()
        if new_ids:
            log.warning("outbox %s: %d callback(s) kept in memory moved into it", store.path,
                        len(new_ids))
        if orphans and self.on_orphans is not None:
            self.on_orphans()

    def _enqueue(self, item: Item, counted: bool = False) -> None:
        """Queue `item` after the earlier ones of its key (`counted`: outbox_depth has it)."""
        self._pending += 1
        if self._in_depth and not counted:
            metrics.outbox_depth.inc()
        self._idle.clear()
        key = item.webhook.key  # the call's uuid, or a shared key (one MPC's callbacks)
        queue = self._queues.get(key)
        if queue is None:
            # No worker owns this key: make it ready. Otherwise its owner will reach it.
            self._queues[key] = deque([item])
            self._ready.put(key)
        else:
            queue.append(item)

    def _adopt_retried_forever(self) -> None:
        while True:
            gevent.sleep(ADOPT_S)
            self._read_back(None if self._spilling else "made pending again (outbox retry)")

    def _delete_delivered_forever(self) -> None:
        while True:
            gevent.sleep(DELETE_BATCH_S)
            self._delete_delivered()

    def _delete_delivered(self) -> None:
        """Delete delivered rows; on failure keep them for the next batch (one ERROR line)."""
        if not self._delivered_rows:
            return
        rows, self._delivered_rows = self._delivered_rows, []
        try:
            self.store.delete(rows)
        except (OSError, sqlite3.Error) as exc:
            self._delivered_rows[:0] = rows
            if not self._delete_failing:
                log.error("outbox %s: delivered callbacks cannot be marked delivered (%s): "
                          "they are sent again if the daemon restarts before this succeeds",
                          self.store.path, exc)
            self._delete_failing = True
            return
        self._delete_failing = False

    def _record_failure(self, item: Item, cause: str, dead: bool) -> None:
        if item.row_id is None:
            return
        try:
            self.store.failed(item.row_id, item.attempts, cause, dead=dead)
        except (OSError, sqlite3.Error) as exc:
            log.error("outbox %s: failed attempt of callback %s not recorded (%s)",
                      self.store.path, item.delivery_id, exc, extra=log_context(item.webhook))

    # -- workers ----------------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            key = self._ready.get()
            queue = self._queues[key]
            while queue:
                try:
                    self._deliver(queue[0])
                finally:
                    queue.popleft()
                    self._done()
            del self._queues[key]

    def _done(self) -> None:
        self._pending -= 1
        if self._in_depth:
            metrics.outbox_depth.dec()
        if self._spilling and not self._closed and self._pending <= self._memory_queue // 2:
            self._read_back(None)
        if self._pending == 0 and not self._spilling:
            self._idle.set()

    def _deliver(self, item: Item) -> None:
        self._sender.deliver(item, self._record_failure, self._ended)

    def _ended(self, item: Item, delivery: Delivery) -> None:
        if delivery.delivered and item.row_id is not None:
            self._delivered_rows.append(item.row_id)
        self.recent.append(delivery)
