"""The outbox's SQLite file: every callback is a row from `emit` until it is delivered.

Table `webhooks`: a row is `pending` until delivered (then deleted) or `dead` (kept with its
attempt count and last error until `plivoxml-fs outbox retry|purge`). Rows are read back in id
order, which is emit order, so a restart keeps each call's order.

Table `calls` is the call journal: a row per call in progress that has a hangup URL (what its
hangup callback needs: the URL and method, the channel headers the call parameters are built
from, when it was answered). A `hangup` webhook deletes its call's row in the transaction that
stores it, so a call has either its journal row or its hangup callback, never both and (unless
the file cannot be written) never neither. Rows found when the file is opened belong to calls an
earlier process never finished (effects/recovery.py). Table `alive` holds one time stamp, the
last moment the delivering process was known to run (written every few seconds).

The file is opened in WAL mode with `synchronous=NORMAL`: an insert is one short transaction that
survives a crash of the process (a power loss may lose the last ones, as WAL+NORMAL allows).
Why that holds, and why emits are not batched: in WAL mode a COMMIT has written the
transaction's pages to the -wal file with write(2) before it returns, so they are in the
kernel's page cache whatever happens to the process afterwards (SIGKILL, a crash); NORMAL only
leaves out the fsync, which matters for an OS crash or power loss, not for the process. Each
emit commits before it returns, so nothing the daemon does after an emit (the next ESL command,
the callback's own HTTP request) can happen before its row is on file. Batching several emits
into one transaction committed later (at the end of the hub's turn) would save ~10 µs a
callback but open a window where FreeSWITCH or a receiver has seen what followed an emit whose
row is not yet written: a kill there loses that callback. Measured: a row costs 25-40 µs of CPU
(of ~250 µs a delivered callback). tests/effects/test_outbox_restart.py kills a process with
SIGKILL with callbacks pending and in the middle of a burst to a live receiver, and
tests/test_crash_recovery.py a `serve` daemon with calls in progress.
A file that is not a sound SQLite outbox at start is renamed to `<name>.corrupt-<UTC time>` with
one ERROR line and a fresh one is created. `path=":memory:"` keeps rows in memory only.

Plain sqlite3, no gevent: every call is one short statement (the outbox calls it from greenlets).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import sqlite3
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO

import attrs

log = logging.getLogger("plivoxml_fs.outbox")

MEMORY = ":memory:"
#: The page cache each of the daemon's SQLite connections may hold, in KiB (SQLite's default
#: is 2,000). The outbox, the history and the transcription jobs each keep a small working set
#: (rows are added and read by key; the kernel caches the files anyway), but a default cache
#: fills to its 2 MB as a file grows, so the daemon's RSS kept growing with the calls: in
#: `make bench`, 5,000 calls took it from 57.9 to 65.5 MB with the default, and with a 64 KiB
#: cache it stopped at 60.4 MB from the 2,000th call on. From 200 to 2,000 calls: +8.6-9.9%
#: before, +6.2-8.1% with this (the rest is below Python: tracemalloc's traced heap is flat,
#: 5.11 -> 5.15 MB from the 500th to the 1,900th call).
CACHE_KIB = 256
PENDING = "pending"
DEAD = "dead"
STATES = (PENDING, DEAD)
BUSY_TIMEOUT_S = 1.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS webhooks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id TEXT NOT NULL UNIQUE,
    call_uuid TEXT NOT NULL,
    kind TEXT NOT NULL,
    method TEXT NOT NULL,
    url TEXT NOT NULL,
    params TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL,
    updated REAL NOT NULL,
    order_key TEXT NOT NULL DEFAULT ''
)
"""
_CALLS_SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    call_uuid TEXT PRIMARY KEY,
    hangup_url TEXT NOT NULL,
    hangup_method TEXT NOT NULL,
    channel TEXT NOT NULL,
    answered_us INTEGER NOT NULL DEFAULT 0,
    started REAL NOT NULL
)
"""
_ALIVE_SCHEMA = "CREATE TABLE IF NOT EXISTS alive (id INTEGER PRIMARY KEY CHECK (id = 1), at REAL)"
_CALL_COLUMNS = "call_uuid, hangup_url, hangup_method, channel, answered_us, started"
_COLUMNS = (
    "id, delivery_id, call_uuid, kind, method, url, params, state, attempts, last_error, created,"
    " updated, order_key"
)
#: The columns of an outbox written before webhooks had an ordering key (upgraded in place).
_COLUMNS_BEFORE_ORDER_KEY = _COLUMNS.removesuffix(", order_key")


@attrs.frozen
class Row:
    """One stored callback."""

    id: int
    delivery_id: str
    call_uuid: str
    kind: str
    method: str
    url: str
    params: dict[str, str]
    state: str
    attempts: int
    last_error: str
    created: float
    updated: float
    order_key: str = ""  # "" = the call uuid (Webhook.order_key)


@attrs.frozen
class CallRow:
    """One journalled call: what its hangup callback needs if the daemon stops first."""

    call_uuid: str
    hangup_url: str
    hangup_method: str
    channel: dict[str, str]  # the channel headers the call parameters come from
    answered_us: int  # 0: not answered (as far as the daemon knew)
    started: float  # epoch seconds the daemon took the call


def _row(values: Sequence) -> Row:
    fields = list(values)
    fields[6] = json.loads(fields[6])
    return Row(*fields)


def open_sqlite(path: str, *, synchronous: str = "NORMAL",
                busy_timeout_s: float = BUSY_TIMEOUT_S) -> sqlite3.Connection:
    """A connection as the daemon's SQLite files (outbox, history, transcription jobs) are
    all opened: autocommit (each statement its own transaction unless one is begun), usable
    from any greenlet, WAL, `synchronous` (NORMAL; FULL for the jobs), the page cache capped
    at CACHE_KIB, a write waiting at most `busy_timeout_s` for another writer (it blocks the
    hub meanwhile). A new file (and the parent directory) is made readable by the daemon's user
    only: rows hold callers' numbers and URLs with tokens (SQLite's -wal/-shm copy its mode)."""
    if path != MEMORY:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        _create_private(path)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False,
                           timeout=busy_timeout_s)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={synchronous}")
        conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    except BaseException:
        conn.close()
        raise
    return conn


def _connect(path: str) -> sqlite3.Connection:
    # A write waits at most BUSY_TIMEOUT_S for another writer (the `outbox` commands): it
    # blocks the gevent hub meanwhile, and the outbox keeps the webhook in memory if it fails.
    conn = open_sqlite(path)
    try:
        if path != MEMORY:
            check = conn.execute("PRAGMA quick_check").fetchone()
            if check is None or check[0] != "ok":
                raise sqlite3.DatabaseError(f"quick_check says {check[0] if check else None!r}")
        conn.execute(_SCHEMA)
        conn.execute(_CALLS_SCHEMA)
        conn.execute(_ALIVE_SCHEMA)
        columns = [r[1] for r in conn.execute("PRAGMA table_info(webhooks)")]
        if ", ".join(columns) == _COLUMNS_BEFORE_ORDER_KEY:
            conn.execute("ALTER TABLE webhooks ADD COLUMN order_key TEXT NOT NULL DEFAULT ''")
            columns.append("order_key")
        if ", ".join(columns) != _COLUMNS:
            raise sqlite3.DatabaseError(f"table webhooks has columns {columns}")
    except BaseException:
        conn.close()
        raise
    return conn


def _set_aside(path: str, cause: str) -> str:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    aside = f"{path}.corrupt-{stamp}"
    os.replace(path, aside)
    for suffix in ("-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.replace(path + suffix, aside + suffix)
    log.error("outbox %s is not a usable SQLite outbox (%s): moved to %s, starting empty",
              path, cause, aside)
    return aside


def _create_private(path: str) -> None:
    """The file, if new, readable by the daemon's user only (open_sqlite says why)."""
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))


class OutboxInUse(OSError):
    """Another process delivers from this outbox file (it holds `<path>.lock`)."""


def try_lock(path: str) -> IO[str] | None:
    """`<path>.lock`, created if need be and locked (flock, exclusive) for as long as the
    handle is open; None when another process holds it. The kernel lets go of it when the
    holder exits, even by SIGKILL, so a crash never leaves it stuck."""
    handle = open(path + ".lock", "a")  # noqa: SIM115 - held until the caller closes it
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


def _lock(path: str) -> IO[str]:
    handle = try_lock(path)
    if handle is None:
        raise OutboxInUse(f"another process is delivering from it: {path}.lock is locked")
    return handle


class OutboxStore:
    """The rows of one outbox file; opening never fails on a corrupt file (it is set aside).

    `exclusive=True` (the delivering outbox) also holds `<path>.lock` until `unlock`, so two
    daemons never deliver the same rows; the `outbox` commands open it without the lock."""

    def __init__(self, path: str, *, exclusive: bool = False) -> None:
        self.path = path
        self._lock: IO[str] | None = None
        if path != MEMORY:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            if exclusive:
                self._lock = _lock(path)
        try:
            self._conn = _connect(path)
        except sqlite3.DatabaseError as exc:
            if path == MEMORY or not os.path.exists(path):
                raise
            _set_aside(path, str(exc))
            self._conn = _connect(path)

    def close(self) -> None:
        self._conn.close()
        self.unlock()

    def unlock(self) -> None:
        """Let another process deliver from this file (rows can still be added here)."""
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def add(self, delivery_id: str, call_uuid: str, kind: str, method: str, url: str,
            params: dict[str, str], *, ends_call: bool = False, order_key: str = "") -> int:
        """Insert one pending row (its own transaction); its id. `ends_call` also deletes the
        call's journal row, in the same transaction."""
        now = time.time()
        insert = (
            "INSERT INTO webhooks (delivery_id, call_uuid, kind, method, url, params, created,"
            " updated, order_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        values = (delivery_id, call_uuid, kind, method, url, json.dumps(params), now, now,
                  order_key)
        if not ends_call:
            return int(self._conn.execute(insert, values).lastrowid or 0)
        with self._transaction():
            cursor = self._conn.execute(insert, values)
            self._conn.execute("DELETE FROM calls WHERE call_uuid = ?", (call_uuid,))
        return int(cursor.lastrowid or 0)

    def copy_row(self, row: Row) -> int:
        """Insert `row` as it is (delivery id, state, attempts) under a new id; its id."""
        cursor = self._conn.execute(
            "INSERT INTO webhooks (delivery_id, call_uuid, kind, method, url, params, state,"
            " attempts, last_error, created, updated, order_key)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (row.delivery_id, row.call_uuid, row.kind, row.method, row.url,
             json.dumps(row.params), row.state, row.attempts, row.last_error, row.created,
             row.updated, row.order_key),
        )
        return int(cursor.lastrowid or 0)

    # -- the call journal -------------------------------------------------------------------

    def call_started(self, call: CallRow) -> None:
        """Journal a call in progress (its own transaction)."""
        self._conn.execute(
            f"INSERT OR REPLACE INTO calls ({_CALL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
            (call.call_uuid, call.hangup_url, call.hangup_method, json.dumps(call.channel),
             call.answered_us, call.started),
        )

    def call_answered(self, call_uuid: str, answered_us: int) -> None:
        self._conn.execute("UPDATE calls SET answered_us = ? WHERE call_uuid = ?",
                           (answered_us, call_uuid))

    def call_ended(self, call_uuid: str) -> None:
        """Forget a journalled call (when no hangup webhook will end it)."""
        self._conn.execute("DELETE FROM calls WHERE call_uuid = ?", (call_uuid,))

    def calls(self) -> list[CallRow]:
        """The journalled calls, oldest first."""
        found = self._conn.execute(f"SELECT {_CALL_COLUMNS} FROM calls ORDER BY started")
        return [CallRow(r[0], r[1], r[2], json.loads(r[3]), int(r[4]), float(r[5]))
                for r in found]

    def mark_alive(self, now: float) -> None:
        """Record that the delivering process runs at `now` (epoch seconds)."""
        self._conn.execute("INSERT OR REPLACE INTO alive (id, at) VALUES (1, ?)", (now,))

    def last_alive(self) -> float | None:
        """When a delivering process last said it ran, or None."""
        row = self._conn.execute("SELECT at FROM alive WHERE id = 1").fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def delete(self, ids: Iterable[int]) -> None:
        """Forget delivered rows, in one transaction."""
        ids = list(ids)
        if not ids:
            return
        with self._transaction():
            self._conn.executemany("DELETE FROM webhooks WHERE id = ?", [(i,) for i in ids])

    def failed(self, row_id: int, attempts: int, error: str, *, dead: bool) -> None:
        """Record a failed attempt; `dead` when no more will be made."""
        self._conn.execute(
            "UPDATE webhooks SET attempts = ?, last_error = ?, state = ?, updated = ? WHERE id = ?",
            (attempts, error, DEAD if dead else PENDING, time.time(), row_id),
        )

    def rows(self, state: str | None = None, limit: int | None = None) -> list[Row]:
        """Rows in emit order, all or in one state."""
        where, args = ("WHERE state = ?", [state]) if state else ("", [])
        tail = " LIMIT ?" if limit is not None else ""
        args += [limit] if limit is not None else []
        query = f"SELECT {_COLUMNS} FROM webhooks {where} ORDER BY id{tail}"
        return [_row(r) for r in self._conn.execute(query, args)]

    def pending_ids_after(self, row_id: int, limit: int) -> list[int]:
        """The ids of the first `limit` pending rows with an id above `row_id`, in emit order
        (ids only: the outbox reads back whole rows only for those it does not hold yet)."""
        query = "SELECT id FROM webhooks WHERE id > ? AND state = 'pending' ORDER BY id LIMIT ?"
        return [int(r[0]) for r in self._conn.execute(query, (row_id, limit))]

    def rows_by_id(self, ids: Sequence[int]) -> list[Row]:
        """These rows (those still there), in emit order."""
        found: list[Row] = []
        for start in range(0, len(ids), 500):  # SQLite's bound on a statement's parameters
            chunk = list(ids[start:start + 500])
            marks = ",".join("?" * len(chunk))
            query = f"SELECT {_COLUMNS} FROM webhooks WHERE id IN ({marks}) ORDER BY id"
            found += [_row(r) for r in self._conn.execute(query, chunk)]
        return found

    def last_id(self) -> int:
        """The highest id ever given (ids only grow: AUTOINCREMENT)."""
        found = self._conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'webhooks'")
        row = found.fetchone()
        return int(row[0]) if row else 0

    def count(self, state: str = PENDING) -> int:
        return int(self._conn.execute(
            "SELECT COUNT(*) FROM webhooks WHERE state = ?", (state,)).fetchone()[0])

    def retry(self, ids: Sequence[int] = ()) -> int:
        """Make dead rows (all, or those of `ids`) pending again with no attempts; how many.

        They get new ids (same delivery id), so a running outbox picks them up as new rows."""
        with self._transaction():
            wanted = set(ids)
            rows = [r for r in self.rows(DEAD) if not wanted or r.id in wanted]
            now = time.time()
            for row in rows:
                self._conn.execute("DELETE FROM webhooks WHERE id = ?", (row.id,))
                self._conn.execute(
                    "INSERT INTO webhooks (delivery_id, call_uuid, kind, method, url, params,"
                    " created, updated, order_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (row.delivery_id, row.call_uuid, row.kind, row.method, row.url,
                     json.dumps(row.params), row.created, now, row.order_key),
                )
        return len(rows)

    def purge(self, ids: Sequence[int] = ()) -> int:
        """Delete dead rows (all, or those of `ids`); how many."""
        return self._each("DELETE FROM webhooks WHERE state = 'dead'", ids, ())

    def _each(self, sql: str, ids: Sequence[int], args: tuple) -> int:
        with self._transaction():
            if not ids:
                return self._conn.execute(sql, args).rowcount
            return sum(self._conn.execute(sql + " AND id = ?", (*args, i)).rowcount for i in ids)

    def _transaction(self) -> _Transaction:
        return _Transaction(self._conn)


class _Transaction:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __enter__(self) -> None:
        self._conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind, value, tb) -> None:
        if kind is None:
            self._conn.execute("COMMIT")
        elif self._conn.in_transaction:  # SQLite may have rolled back itself (a full disk)
            self._conn.execute("ROLLBACK")
