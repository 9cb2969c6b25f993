"""Exit statuses per kind of failure, and listening errors that name the address and setting."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from ports import unused_port
from waiting import until

from plivoxml_fs import replay
from plivoxml_fs.cli import main
from plivoxml_fs.effects.store import try_lock
from plivoxml_fs.errors import EXIT_MEANINGS, ExitCode

README = Path(__file__).resolve().parent.parent / "README.md"
IN_USE = "Address already in use"


@pytest.fixture
def taken():
    """A port on 127.0.0.1 that a listening socket holds for the test."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def _invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def _serve_config(tmp_path, **settings) -> str:
    """A settings file for `serve` on free ports, FreeSWITCH at an address nothing answers on."""
    listen = unused_port()
    metrics = unused_port(listen)
    values = {"listen_port": listen, "metrics_port": metrics,
              "freeswitch_port": unused_port(listen, metrics),
              "state_dir": str(tmp_path / "state"), **settings}
    (tmp_path / "state").mkdir(exist_ok=True)
    conf = tmp_path / "serve.toml"
    conf.write_text("".join(f"{key} = {value!r}\n".replace("'", '"')
                            for key, value in values.items()))
    return str(conf)


def test_the_codes_are_distinct_and_keep_click_and_shell_meanings():
    """0 is success, 1 any other failure, 2 click's usage error; each code has one meaning."""
    assert (ExitCode.OK, ExitCode.FAILURE, ExitCode.USAGE) == (0, 1, 2)
    assert len(set(ExitCode)) == len(ExitCode) == len(EXIT_MEANINGS)


def test_top_level_help_lists_every_exit_status():
    """`plivoxml-fs --help` ends with every exit status and its meaning, one line each."""
    result = _invoke("--help")
    assert result.exit_code == 0
    assert "Exit status:" in result.output
    for code, meaning in EXIT_MEANINGS.items():
        assert f"  {int(code)}  {meaning}" in result.output


@pytest.mark.parametrize("command, codes", [
    (["serve"], (0, 1, 2, 3, 6)),
    (["replay"], tuple(ExitCode)),
    (["check"], (0, 2, 4)),
    (["simulate"], (0, 1, 2, 6)),
    (["outbox"], (0, 1, 2, 3)),
    (["outbox", "list"], (0, 1, 2, 3)),
    (["outbox", "retry"], (0, 1, 2, 3)),
    (["outbox", "purge"], (0, 1, 2, 3)),
])
def test_each_command_help_lists_its_exit_statuses(command, codes):
    """Each command's --help lists exactly the exit statuses it can give, with their meanings."""
    result = _invoke(*command, "--help")
    assert result.exit_code == 0
    listed = result.output.split("Exit status:", 1)[1]
    found = tuple(int(n) for n in re.findall(r"^ +(\d)  ", listed, flags=re.M))
    assert found == tuple(int(code) for code in codes)
    for code in codes:
        assert f"  {int(code)}  {EXIT_MEANINGS[ExitCode(code)]}" in listed


def test_readme_lists_every_exit_status():
    """README's table of exit statuses has one row per code, worded as --help words it."""
    text = README.read_text()
    for code, meaning in EXIT_MEANINGS.items():
        assert f"| {int(code)} | {meaning} |" in text


def test_serve_names_the_metrics_address_and_its_settings_when_taken(tmp_path, taken):
    """A taken metrics port stops `serve` with exit 6, naming that address (not the call
    port's) and the settings that hold it."""
    result = _invoke("serve", "--config", _serve_config(tmp_path, metrics_port=taken))
    assert result.exit_code == ExitCode.LISTEN, result.output
    assert (f"Error: cannot listen on 127.0.0.1:{taken} (metrics_host:metrics_port): {IN_USE}"
            in result.output.splitlines())


def test_serve_names_the_call_address_and_its_settings_when_taken(tmp_path, taken):
    """A taken call port stops `serve` with exit 6 naming listen_host:listen_port."""
    result = _invoke("serve", "--config", _serve_config(tmp_path, listen_port=taken))
    assert result.exit_code == ExitCode.LISTEN, result.output
    assert (f"Error: cannot listen on 127.0.0.1:{taken} (listen_host:listen_port): {IN_USE}"
            in result.output.splitlines())


def test_simulate_names_its_taken_address_and_option(taken):
    """`simulate --listen` on a taken port exits 6 naming the address and the option."""
    result = _invoke("simulate", "--listen", f"127.0.0.1:{taken}", "--socket", "127.0.0.1:9")
    assert result.exit_code == ExitCode.LISTEN
    assert f"Error: cannot listen on 127.0.0.1:{taken} (--listen): {IN_USE}" in result.output


def test_check_of_an_unreadable_file_exits_4(tmp_path):
    """A file `check` cannot read is a document problem: exit 4, naming the file."""
    missing = tmp_path / "none.xml"
    result = _invoke("check", str(missing))
    assert result.exit_code == ExitCode.DOCUMENT
    assert f"{missing}: cannot read: No such file or directory" in result.output


def test_replay_of_a_missing_document_exits_4(tmp_path):
    """`replay` of a file that does not exist exits 4 naming it."""
    missing = tmp_path / "none.xml"
    result = _invoke("replay", str(missing), "--http-port", "0")
    assert result.exit_code == ExitCode.DOCUMENT
    assert f"Error: replay: no such document: {missing}" in result.output


def test_replay_with_freeswitch_unreachable_exits_5(tmp_path, monkeypatch, free_port):
    """`replay --freeswitch` at an address nothing answers on exits 5 naming the address."""
    monkeypatch.setattr(replay, "FREESWITCH_WAIT_S", 0.3)
    doc = tmp_path / "answer.xml"
    doc.write_text("<Response><Hangup/></Response>")
    result = _invoke("replay", str(doc), "--freeswitch", f"127.0.0.1:{free_port}",
                     "--listen", f"127.0.0.1:{unused_port()}", "--http-port", "0")
    assert result.exit_code == ExitCode.FREESWITCH, result.output
    assert (f"Error: replay: cannot reach FreeSWITCH's event socket at 127.0.0.1:{free_port} "
            f"within 0.3 s" in result.output)


def test_replay_with_a_taken_http_port_exits_6(tmp_path, taken):
    """An explicit --http-port that is taken exits 6 naming the address and the option."""
    doc = tmp_path / "answer.xml"
    doc.write_text("<Response><Hangup/></Response>")
    result = _invoke("replay", str(doc), "--http-port", str(taken))
    assert result.exit_code == ExitCode.LISTEN
    assert f"Error: cannot listen on 127.0.0.1:{taken} (--http-port): {IN_USE}" in result.output


def test_replay_with_a_taken_listen_address_exits_6(tmp_path, taken):
    """A taken --listen address exits 6 naming it and the option (not the daemon's setting)."""
    doc = tmp_path / "answer.xml"
    doc.write_text("<Response><Hangup/></Response>")
    result = _invoke("replay", str(doc), "--http-port", "0", "--listen", f"127.0.0.1:{taken}")
    assert result.exit_code == ExitCode.LISTEN
    assert f"Error: cannot listen on 127.0.0.1:{taken} (--listen): {IN_USE}" in result.output


def test_replay_of_a_call_that_fails_exits_7(tmp_path):
    """A document the daemon rejects fails its call: exit 7, the reason in a FAILED line."""
    doc = tmp_path / "bad.xml"
    doc.write_text('<Response><Conference maxMembers="500">room</Conference></Response>')
    result = _invoke("replay", str(doc), "--http-port", "0", "--time-scale", "0.05")
    assert result.exit_code == ExitCode.CALL_FAILED, result.output
    (failed,) = [line for line in result.output.splitlines() if "FAILED" in line]
    assert "maxMembers: must be an integer 1..20 (got '500')" in failed



def test_a_second_serve_on_one_state_dir_refuses_to_start_and_exits_3(tmp_path):
    """Two daemons on one state dir would both run every transcription job: the second `serve`
    is refused at start (exit 3), naming the jobs file; the first is its own process, as in
    production."""
    first_dir = tmp_path / "first"
    first_dir.mkdir()
    first = subprocess.Popen(
        [sys.executable, "-c", "from plivoxml_fs.cli import main; main()", "serve", "--config",
         _serve_config(first_dir, state_dir=str(tmp_path / "state"))],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    jobs = tmp_path / "state" / "transcriptions.sqlite3"

    def held_by_first() -> bool:
        if not jobs.exists():
            return False
        handle = try_lock(str(jobs))
        if handle is not None:
            handle.close()
        return handle is None

    try:
        until("the first daemon to hold the jobs file's lock", held_by_first, 30.0)
        result = _invoke("serve", "--config", _serve_config(tmp_path))
    finally:
        first.terminate()
        first.wait(30)
    assert result.exit_code == ExitCode.CONFIG, result.output
    assert (f"Error: transcription jobs file {jobs} is in use by another running daemon "
            f"({jobs}.lock is locked): not starting, so that no job runs twice; give each "
            "daemon its own state_dir (or transcription_path)") in result.output.splitlines()
