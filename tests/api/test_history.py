"""The history of ended rooms: kept across reopen, newest first, by account, expired."""

from __future__ import annotations

from plivoxml_fs.effects.history import HistoryStore


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
