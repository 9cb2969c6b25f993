"""The command line as a user meets it: help texts, `check`, and bad arguments."""

from __future__ import annotations

from click.testing import CliRunner

from plivoxml_fs.cli import main


def test_help_lists_every_command():
    """`plivoxml-fs --help` names serve, replay, check, simulate and outbox, in the list and the
    description."""
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for name in ("serve", "replay", "check", "simulate", "outbox"):
        assert f"  {name} " in result.output
        assert f"`{name}" in result.output


def test_check_prints_ok_for_valid_documents(tmp_path):
    """A valid document gives `ok` and exit status 0."""
    doc = tmp_path / "answer.xml"
    doc.write_text("<Response><Speak>hello</Speak></Response>")
    result = CliRunner().invoke(main, ["check", str(doc)])
    assert result.exit_code == 0
    assert result.output.strip() == f"{doc}: ok"


def test_check_prints_every_problem_and_fails(tmp_path):
    """An invalid document gives one line per problem, with line and column, and exit 4."""
    doc = tmp_path / "answer.xml"
    doc.write_text(
        '<Response>\n  <Conference maxMembers="500" muted="yes">room</Conference>\n</Response>'
    )
    result = CliRunner().invoke(main, ["check", str(doc)])
    assert result.exit_code == 4
    lines = result.output.strip().splitlines()
    assert f"{doc}:2:3 <Conference> maxMembers: must be an integer 1..20 (got '500')" in lines
    assert any(line.startswith(f"{doc}:2:3 <Conference> muted:") for line in lines)


def test_replay_rejects_a_bad_freeswitch_address():
    """`--freeswitch` must be HOST:PORT; anything else is a usage error naming the option."""
    result = CliRunner().invoke(main, ["replay", "x.xml", "--freeswitch", "nohost"])
    assert result.exit_code == 2
    assert "--freeswitch must be HOST:PORT (got 'nohost')" in result.output


def test_serve_refuses_an_unknown_setting(tmp_path):
    """A config file with an unknown key stops `serve` (exit 3) with the file and key named."""
    conf = tmp_path / "bad.toml"
    conf.write_text("listen_prot = 8084\n")
    result = CliRunner().invoke(main, ["serve", "--config", str(conf)])
    assert result.exit_code == 3
    assert f"{conf}: unknown setting 'listen_prot'" in result.output


def test_replay_names_a_bad_config_file(tmp_path):
    """`replay --config` with an unknown key exits 3 naming the file and the key."""
    doc = tmp_path / "answer.xml"
    doc.write_text("<Response><Hangup/></Response>")
    conf = tmp_path / "bad.toml"
    conf.write_text("state_dri = '/tmp'\n")
    result = CliRunner().invoke(
        main, ["replay", str(doc), "--config", str(conf), "--http-port", "0"])
    assert result.exit_code == 3
    assert f"{conf}: unknown setting 'state_dri'" in result.output
