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
