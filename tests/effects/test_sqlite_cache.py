"""Every SQLite file of the daemon keeps a small page cache (effects/store.py CACHE_KIB): a
default cache fills to 2 MB as its file grows, which showed as RSS growing with the calls."""

from __future__ import annotations

from plivoxml_fs.effects.history import HistoryStore
from plivoxml_fs.effects.store import CACHE_KIB, OutboxStore
from plivoxml_fs.effects.transcriber import JobStore


def _cache_kib(conn) -> int:
    (value,) = conn.execute("PRAGMA cache_size").fetchone()
    return -value


def test_outbox_history_and_jobs_keep_a_small_cache(tmp_path):
    assert CACHE_KIB < 2000  # SQLite's default, which is what grew
    outbox = OutboxStore(str(tmp_path / "outbox.sqlite3"))
    history = HistoryStore(str(tmp_path / "history.sqlite3"), 60)
    jobs = JobStore(str(tmp_path / "jobs.sqlite3"))
    try:
        assert _cache_kib(outbox._conn) == CACHE_KIB
        assert _cache_kib(history._conn) == CACHE_KIB
        assert _cache_kib(jobs._db) == CACHE_KIB
    finally:
        outbox.close()
        history.close()


def test_every_file_is_private_in_wal_with_its_synchronous_level(tmp_path):
    """One opener (store.open_sqlite) for the three: each new file (and a missing directory)
    readable by the daemon's user only, WAL, and the jobs' rows synced to disk (FULL)."""
    opened = {
        "outbox": OutboxStore(str(tmp_path / "a" / "outbox.sqlite3"))._conn,
        "history": HistoryStore(str(tmp_path / "b" / "history.sqlite3"), 60)._conn,
        "jobs": JobStore(str(tmp_path / "c" / "jobs.sqlite3"))._db,
    }
    files = {"outbox": "a/outbox.sqlite3", "history": "b/history.sqlite3",
             "jobs": "c/jobs.sqlite3"}
    for name, conn in opened.items():
        assert (tmp_path / files[name]).stat().st_mode & 0o777 == 0o600, name
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal", name
    levels = {name: conn.execute("PRAGMA synchronous").fetchone()[0]
              for name, conn in opened.items()}
    assert levels == {"outbox": 1, "history": 1, "jobs": 2}  # NORMAL, NORMAL, FULL
    for conn in opened.values():
        conn.close()
