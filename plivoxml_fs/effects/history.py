"""Ended rooms, kept in SQLite so the control API answers GET about them after their end and
across restarts (docs/api.md, "History").

One file (`history_path`, default `<state_dir>/history.sqlite3`), apart from the outbox's: the
outbox is locked by the delivering daemon and purged by operators, the history is neither.
Table `rooms`: one row per ended room, its kind (`conference`, and `multipartycall` next), its
account, name, uuid, when it ended, and its API object as JSON (api/objects.py made it).
Rows older than `retention_s` are never answered, and are deleted when the file is opened and
by an `add` at most once every EXPIRE_EVERY_S, through an index on `ended`: a delete that
scanned the table at every room's end cost 0.14 ms of the hub's time with 1,000 rows kept and
8.3 ms with 100,000 (a day at one room a second; a 30-day retention keeps 30 times that).

Plain sqlite3, WAL: every call is one short statement, made from the hub (greenlets).
A file that will not open is logged once (ERROR) and the history is kept in memory instead.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Callable
from typing import Any

from plivoxml_fs.effects.store import MEMORY, open_sqlite

log = logging.getLogger("plivoxml_fs.history")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS rooms (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    account TEXT NOT NULL,
    name TEXT NOT NULL,
    uuid TEXT NOT NULL,
    ended REAL NOT NULL,
    body TEXT NOT NULL
)
"""
_INDEXES = (
    "CREATE INDEX IF NOT EXISTS rooms_by_name ON rooms (kind, account, name, ended)",
    "CREATE INDEX IF NOT EXISTS rooms_by_uuid ON rooms (kind, account, uuid)",
    "CREATE INDEX IF NOT EXISTS rooms_by_end ON rooms (ended)",
)
#: The least time between two deletes of expired rows by `add`, in seconds.
EXPIRE_EVERY_S = 60.0


def _connect(path: str) -> sqlite3.Connection:
    conn = open_sqlite(path)
    try:
        conn.execute(_SCHEMA)
        for index in _INDEXES:
            conn.execute(index)
    except BaseException:
        conn.close()
        raise
    return conn


class HistoryStore:
    """Ended rooms by kind, account and name or uuid; newest first."""

    def __init__(self, path: str, retention_s: float,
                 clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self._retention_s = retention_s
        self._clock = clock
        self._expired_at = float("-inf")  # when `expire` last ran
        try:
            self._conn = _connect(path)
        except (OSError, sqlite3.Error) as exc:
            log.error("history %s cannot be opened (%s): ended rooms are kept in memory only "
                      "until the daemon stops", path, exc)
            self._conn = _connect(MEMORY)
        self.expire()

    def close(self) -> None:
        self._conn.close()

    def add(self, kind: str, account: str, name: str, uuid: str, ended: float,
            body: dict[str, Any]) -> None:
        try:
            self._conn.execute(
                "INSERT INTO rooms (kind, account, name, uuid, ended, body) VALUES (?,?,?,?,?,?)",
                (kind, account, name, uuid, ended, json.dumps(body)))
        except sqlite3.Error as exc:
            log.error("history: %s %s of %s not kept: %s", kind, name, account, exc)
        if self._clock() - self._expired_at >= EXPIRE_EVERY_S:
            self.expire()

    def _cutoff(self) -> float:
        """Rooms that ended before this are past the retention."""
        return self._clock() - self._retention_s

    def expire(self) -> int:
        """Delete rows past the retention; how many."""
        self._expired_at = self._clock()
        try:
            return self._conn.execute("DELETE FROM rooms WHERE ended < ?",
                                      (self._cutoff(),)).rowcount
        except sqlite3.Error as exc:
            log.error("history: expiring old rooms failed: %s", exc)
            return 0

    def by_name(self, kind: str, account: str, name: str) -> dict[str, Any] | None:
        """The last room of this name that ended."""
        return self._one("SELECT body FROM rooms WHERE kind=? AND account=? AND name=? "
                         "AND ended >= ? ORDER BY ended DESC, id DESC LIMIT 1",
                         (kind, account, name, self._cutoff()))

    def by_uuid(self, kind: str, account: str, uuid: str) -> dict[str, Any] | None:
        return self._one("SELECT body FROM rooms WHERE kind=? AND account=? AND uuid=? "
                         "AND ended >= ? ORDER BY id DESC LIMIT 1",
                         (kind, account, uuid, self._cutoff()))

    def ended(self, kind: str, account: str, limit: int = 20, offset: int = 0
              ) -> tuple[list[dict[str, Any]], int]:
        """A page of ended rooms, newest first, and how many there are in all."""
        cutoff = self._cutoff()
        rows = self._conn.execute(
            "SELECT body FROM rooms WHERE kind=? AND account=? AND ended >= ? "
            "ORDER BY ended DESC, id DESC LIMIT ? OFFSET ?",
            (kind, account, cutoff, limit, offset)).fetchall()
        count = self._conn.execute("SELECT COUNT(*) FROM rooms WHERE kind=? AND account=? "
                                   "AND ended >= ?", (kind, account, cutoff)).fetchone()[0]
        return [json.loads(r[0]) for r in rows], count

    def _one(self, sql: str, args: tuple) -> dict[str, Any] | None:
        row = self._conn.execute(sql, args).fetchone()
        return json.loads(row[0]) if row else None
