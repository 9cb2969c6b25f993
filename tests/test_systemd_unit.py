"""scripts/plivoxml-fs.service: restart, stop and hardening settings, and agreement with Settings."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from plivoxml_fs.config import ENV_PREFIX, Settings, load_settings

UNIT = Path(__file__).resolve().parent.parent / "scripts" / "plivoxml-fs.service"


def unit() -> configparser.ConfigParser:
    """The unit as configparser reads it (case kept; a repeated key keeps its last value)."""
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment, method-assign]
    parser.read_string(UNIT.read_text("utf-8"))
    return parser


def all_values(section: str, key: str) -> list[str]:
    """Every value a repeated key has in a section, in order (systemd accumulates some)."""
    values, current = [], None
    for line in UNIT.read_text("utf-8").splitlines():
        if re.fullmatch(r"\[.+\]", line.strip()):
            current = line.strip()[1:-1]
        elif current == section and line.startswith(f"{key}="):
            values.append(line.split("=", 1)[1])
    return values


def seconds(value: str) -> float:
    """A systemd time span such as `75s`, `2min` or `90` in seconds."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(s|sec|min|m)?", value)
    assert match, f"unexpected time span {value!r}"
    number, unit_name = float(match[1]), match[2] or "s"
    return number * 60 if unit_name in ("min", "m") else number


def test_service_runs_the_daemon_as_its_own_user():
    """Type, user and command line are the ones the install steps create."""
    s = unit()["Service"]
    assert (s["Type"], s["User"], s["Group"]) == ("simple", "plivoxml-fs", "plivoxml-fs")
    assert s["ExecStart"] == (
        "/opt/plivoxml-fs/.venv/bin/plivoxml-fs serve --config /etc/plivoxml-fs/plivoxml-fs.toml"
    )


def test_restart_on_failure_with_a_limit():
    """Crashes restart after a pause; a crash loop stops after a burst."""
    u = unit()
    assert u["Service"]["Restart"] == "on-failure"
    assert seconds(u["Service"]["RestartSec"]) >= 1
    assert int(u["Unit"]["StartLimitBurst"]) >= 1


def test_stop_waits_longer_than_the_drain():
    """SIGTERM starts the drain; systemd waits more than calls plus callbacks may take."""
    s = unit()["Service"]
    assert (s["KillSignal"], s["KillMode"]) == ("SIGTERM", "mixed")
    # Daemon.stop waits drain_timeout_s for calls (plus a 1 s grace to close the rest), then up
    # to drain_timeout_s for the outbox; 10 s more covers start-up of the stop and exit.
    assert seconds(s["TimeoutStopSec"]) >= 2 * Settings().drain_timeout_s + 10


def test_state_directory_is_the_settings_state_dir_and_writable():
    """StateDirectory, ReadWritePaths and the env override all name Settings' state_dir."""
    s = unit()["Service"]
    state_dir = Settings().state_dir
    assert "/var/lib/" + s["StateDirectory"] == state_dir
    assert s["ReadWritePaths"].split() == [state_dir]
    assert s["WorkingDirectory"] == state_dir


def test_environment_lines_are_valid_settings():
    """Every PLIVOXML_FS_* variable the unit sets is a setting load_settings accepts."""
    env = dict(v.split("=", 1) for v in all_values("Service", "Environment"))
    ours = {k: v for k, v in env.items() if k.startswith(ENV_PREFIX)}
    assert ours, "the unit sets no PLIVOXML_FS_ variable"
    assert load_settings(environ=ours).state_dir == ours["PLIVOXML_FS_STATE_DIR"]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("PrivateDevices", "yes"),
        ("ProtectKernelTunables", "yes"),
        ("ProtectKernelModules", "yes"),
        ("ProtectControlGroups", "yes"),
        ("RestrictNamespaces", "yes"),
        ("RestrictSUIDSGID", "yes"),
        ("LockPersonality", "yes"),
        ("CapabilityBoundingSet", ""),
        ("SystemCallArchitectures", "native"),
    ],
)
def test_hardening(key, value):
    """The sandboxing options are set."""
    assert unit()["Service"][key] == value


def test_network_stays_usable():
    """TCP over IPv4 and IPv6 is allowed; no IP filter blocks the app servers."""
    s = unit()["Service"]
    assert {"AF_INET", "AF_INET6"} <= set(s["RestrictAddressFamilies"].split())
    assert "IPAddressDeny" not in s
    assert all_values("Service", "SystemCallFilter") == ["@system-service", "~@privileged"]


def test_installed_for_multi_user():
    """`systemctl enable` hooks it into multi-user.target."""
    assert unit()["Install"]["WantedBy"] == "multi-user.target"


def test_systemd_analyze_verify(tmp_path):
    """systemd-analyze verify accepts the unit (ExecStart pointed at an existing binary)."""
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed")
    copy = tmp_path / UNIT.name
    copy.write_text(
        UNIT.read_text("utf-8").replace("/opt/plivoxml-fs/.venv/bin/plivoxml-fs", "/bin/true"),
        "utf-8",
    )
    done = subprocess.run([tool, "verify", str(copy)], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stderr) == (0, "")


# --- scripts/install.sh ------------------------------------------------------------------------

INSTALL = UNIT.parent / "install.sh"


def shell_constant(name: str) -> str:
    """The value of `readonly NAME=value` in install.sh."""
    match = re.search(rf"^readonly {name}=(\S+)$", INSTALL.read_text("utf-8"), re.MULTILINE)
    assert match, f"install.sh has no readonly {name}"
    return match[1]


def test_install_script_paths_match_the_unit():
    """install.sh puts the venv, config, env file and unit where the unit expects them."""
    s = unit()["Service"]
    app, conf = shell_constant("APP_DIR"), shell_constant("CONF_DIR")
    assert s["ExecStart"].split()[0] == f"{app}/.venv/bin/plivoxml-fs"
    assert s["ExecStart"].split()[-1] == f"{conf}/plivoxml-fs.toml"
    assert s["EnvironmentFile"] == f"-{conf}/plivoxml-fs.env"
    assert (shell_constant("USER_NAME"), shell_constant("UNIT_PATH")) == (
        s["User"], "/etc/systemd/system/plivoxml-fs.service",
    )


def test_install_script_is_valid_bash_and_rejects_unknown_arguments():
    """bash parses install.sh, and a bad argument stops it before it changes anything."""
    assert subprocess.run(["bash", "-n", str(INSTALL)], timeout=30).returncode == 0
    done = subprocess.run(["bash", str(INSTALL), "--bogus"], capture_output=True, text=True,
                          timeout=30)
    assert (done.returncode, done.stderr) == (
        1, "install.sh: unknown argument '--bogus' (use --start or nothing)\n",
    )
