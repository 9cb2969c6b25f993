"""The history of ended rooms: kept across reopen, newest first, by account, expired."""

from __future__ import annotations

from plivoxml_fs.effects.history import EXPIRE_EVERY_S, HistoryStore


def test_kept_across_reopen_and_expired(tmp_path):
    path = str(tmp_path / "h" / "history.sqlite3")
    now = [1000.0]
    store = HistoryStore(path, retention_s=100, clock=lambda: now[0])
    store.add("conference", "MA1", "sales", "u1", 990.0, {"n": 1})
    store.add("conference", "MA1", "sales", "u2", 995.0, {"n": 2})
    store.add("conference", "MA2", "sales", "u3", 999.0, {"n": 3})
    store.close()
    again = HistoryStore(path, retention_s=100, clock=lambda: now[0])
    assert again.by_name("conference", "MA1", "sales") == {"n": 2}
    assert again.by_uuid("conference", "MA1", "u1") == {"n": 1}
    assert again.by_uuid("conference", "MA1", "u3") is None  # another account's
    assert again.ended("conference", "MA1") == ([{"n": 2}, {"n": 1}], 2)
    assert again.by_name("multipartycall", "MA1", "sales") is None
    now[0] = 1092.0
    assert again.expire() == 1  # 990 is past 100 s
    assert again.ended("conference", "MA1") == ([{"n": 2}], 1)


def test_a_file_that_will_not_open_keeps_memory(tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    store = HistoryStore(str(blocker / "history.sqlite3"), retention_s=100)
    store.add("conference", "MA1", "r", "u", 1e12, {"n": 1})
    assert store.by_name("conference", "MA1", "r") == {"n": 1}
    assert "kept in memory only" in caplog.text


def _rows(store: HistoryStore) -> int:
    return store._conn.execute("SELECT COUNT(*) FROM rooms").fetchone()[0]


def test_a_room_past_the_retention_is_never_answered_and_deleted_once_a_minute(tmp_path):
    now = [1000.0]
    store = HistoryStore(str(tmp_path / "history.sqlite3"), retention_s=100,
                         clock=lambda: now[0])
    store.add("conference", "MA1", "old", "u1", 950.0, {"n": 1})
    now[0] = 1051.0  # u1 ended 101 s ago, and add deleted expired rows 51 s ago
    store.add("conference", "MA1", "new", "u2", 1050.0, {"n": 2})
    assert _rows(store) == 2  # not deleted yet: add deletes at most once every 60 s
    assert store.by_name("conference", "MA1", "old") is None
    assert store.by_uuid("conference", "MA1", "u1") is None
    assert store.ended("conference", "MA1") == ([{"n": 2}], 1)
    now[0] = 1000.0 + EXPIRE_EVERY_S
    store.add("conference", "MA1", "newer", "u3", 1059.0, {"n": 3})
    assert _rows(store) == 2  # u1's row went with this add
    assert store.by_uuid("conference", "MA1", "u2") == {"n": 2}


def test_expired_rooms_are_found_through_an_index(tmp_path):
    """The delete must not scan the table: it ran at every room's end, and a 30-day retention
    keeps millions of rows."""
    store = HistoryStore(str(tmp_path / "history.sqlite3"), retention_s=100)
    plan = store._conn.execute("EXPLAIN QUERY PLAN DELETE FROM rooms WHERE ended < ?",
                               (0.0,)).fetchall()
    assert any("USING COVERING INDEX rooms_by_end" in row[-1]
               or "USING INDEX rooms_by_end" in row[-1] for row in plan), plan
