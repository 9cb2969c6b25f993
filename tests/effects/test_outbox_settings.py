"""The outbox's settings: validation, secrets kept out of messages, and what from_settings builds."""

from __future__ import annotations

import pytest

from plivoxml_fs.config import Settings, load_settings
from plivoxml_fs.effects.outbox import Outbox, backoff_from_settings, outbox_path
from plivoxml_fs.errors import ConfigError

TOKEN = "Yjk3ZjYxNmUtNjBkMi00"


def error_of(**values):
    with pytest.raises(ConfigError) as info:
        load_settings(environ={}, **values)
    return str(info.value)


def test_auth_token_not_in_repr():
    """repr(Settings) leaves the auth token out."""
    s = load_settings(environ={}, auth_token=TOKEN)
    assert TOKEN not in repr(s) and "auth_token" not in repr(s)


def test_multiline_auth_token_is_refused_redacted():
    """A token with a newline is refused without showing it."""
    message = error_of(auth_token=TOKEN + "\nX")
    assert message == "override: auth_token must be on one line (got <redacted>)"


def test_auth_token_from_environment_of_wrong_form_is_redacted():
    """An environment token with a NUL is named, never shown."""
    with pytest.raises(ConfigError) as info:
        load_settings(environ={"PLIVOXML_FS_AUTH_TOKEN": TOKEN + "\0"})
    assert str(info.value) == (
        "environment PLIVOXML_FS_AUTH_TOKEN: auth_token must be on one line (got <redacted>)"
    )


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("callback_max_retries", -1, "must be 0 or more"),
        ("callback_total_timeout_s", 0.0, "must be a positive number of seconds"),
        ("callback_backoff_base_s", -1.0, "must be a positive number of seconds"),
        ("outbox_path", "/var/x y.sqlite3", "must be empty or a path without spaces or control "
                                           "characters"),
    ],
)
def test_bad_outbox_settings_are_named(name, value, problem):
    """Each outbox setting is checked and the error names it and the value."""
    assert error_of(**{name: value}) == f"override: {name} {problem} (got {value!r})"


def test_backoff_bounds_must_be_ordered():
    """A base delay above the cap is refused naming both."""
    assert error_of(callback_backoff_base_s=10.0, callback_backoff_max_s=5.0) == (
        "settings: callback_backoff_base_s (10.0) must not exceed callback_backoff_max_s (5.0)"
    )


def test_backoff_doubles_up_to_the_cap():
    """One delay per retry: base, doubled each time, capped."""
    s = Settings(callback_max_retries=5, callback_backoff_base_s=1.5, callback_backoff_max_s=10.0)
    assert backoff_from_settings(s) == (1.5, 3.0, 6.0, 10.0, 10.0)
    assert backoff_from_settings(Settings(callback_max_retries=0)) == ()


def test_outbox_path_defaults_under_the_state_dir(tmp_path):
    """Without outbox_path the file is <state_dir>/outbox.sqlite3, created with its directory."""
    s = Settings(state_dir=str(tmp_path / "state"))
    assert outbox_path(s) == str(tmp_path / "state" / "outbox.sqlite3")
    box = Outbox.from_settings(s)
    box.stop()
    assert (tmp_path / "state" / "outbox.sqlite3").is_file()
    assert outbox_path(Settings(outbox_path="/x/o.db")) == "/x/o.db"
