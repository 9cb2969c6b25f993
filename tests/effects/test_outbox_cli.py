"""`plivoxml-fs outbox list|retry|purge` on an outbox file named by the config."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from plivoxml_fs.cli import main
from plivoxml_fs.effects.store import OutboxStore


@pytest.fixture
def setup(tmp_path):
    path = tmp_path / "outbox.sqlite3"
    store = OutboxStore(str(path))
    for n, call in enumerate(("a", "b", "c")):
        row = store.add(f"d{n}", call, "hangup", "POST", f"https://app/cb?token=s{n}", {"N": "1"})
        if call != "c":
            store.failed(row, 3, "HTTP 500", dead=True)
    config = tmp_path / "p.toml"
    config.write_text(f'outbox_path = "{path}"\n')
    return str(config), store


def run(*args):
    return CliRunner().invoke(main, ["outbox", *args])


def test_list_shows_rows_without_query_strings(setup):
    """list prints one line per row (URL query hidden) and a summary."""
    config, store = setup
    result = run("list", "--config", config)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split("\t")[:3] for line in lines[:3]] == [
        ["1", "dead", "3"], ["2", "dead", "3"], ["3", "pending", "0"]
    ]
    assert lines[0].split("\t")[4:] == ["hangup", "a", "POST https://app/cb?...", "HTTP 500"]
    assert "token" not in result.output
    assert lines[3] == f"3 callback(s) listed; 1 pending, 2 dead in {store.path}"


def test_list_one_state(setup):
    """--state pending lists only pending rows."""
    config, _ = setup
    result = run("list", "--config", config, "--state", "pending")
    assert [line.split("\t")[0] for line in result.output.splitlines()[:-1]] == ["3"]


def test_retry_by_id_and_purge_all_dead(setup):
    """retry 1 makes row 1 pending (as a new row 4, same delivery id); purge --all-dead then
    deletes row 2 only."""
    config, store = setup
    result = run("retry", "--config", config, "1")
    assert result.output == f"1 dead callback(s) made pending again in {store.path}\n"
    result = run("purge", "--config", config, "--all-dead")
    assert result.output == f"1 dead callback(s) deleted from {store.path}\n"
    assert [(r.id, r.delivery_id, r.state, r.attempts) for r in store.rows()] == [
        (3, "d2", "pending", 0), (4, "d0", "pending", 0)
    ]


def test_retry_needs_ids_or_all_dead(setup):
    """Without ids or --all-dead nothing is done and the usage error says what is missing."""
    config, _ = setup
    result = run("retry", "--config", config)
    assert result.exit_code == 2
    assert "give the ids of dead callbacks or --all-dead (not both)" in result.output


def test_missing_outbox_is_named(tmp_path):
    """A config pointing to no outbox file fails naming the path (and creates nothing)."""
    config = tmp_path / "p.toml"
    config.write_text(f'outbox_path = "{tmp_path / "none.sqlite3"}"\n')
    result = run("list", "--config", str(config))
    assert result.exit_code == 1
    assert f"no outbox at {tmp_path / 'none.sqlite3'}" in result.output
    assert not (tmp_path / "none.sqlite3").exists()
