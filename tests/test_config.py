"""Tests for plivoxml_fs.config: TOML file, PLIVOXML_FS_* overrides, strict types and ranges."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from plivoxml_fs.config import Settings, load_settings
from plivoxml_fs.errors import ConfigError

SECRET = "s3cr3t-Pa55"


def write(tmp_path, text, name="plivoxml-fs.toml"):
    """A TOML file holding `text`; returns its path."""
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return path


def error_of(*args, **kwargs):
    """The message of the ConfigError load_settings raises."""
    with pytest.raises(ConfigError) as err:
        load_settings(*args, **kwargs)
    return str(err.value)


# --- sources and their order -------------------------------------------------------------------


def test_defaults_without_file_or_environment():
    """No file and an empty environment give the documented defaults."""
    assert load_settings(environ={}) == Settings()
    assert (Settings().listen_port, Settings().freeswitch_port) == (8084, 8021)


def test_toml_file_values_are_read(tmp_path):
    """Every kind of value is read from TOML with its own type."""
    path = write(tmp_path, f"""
listen_port = 9084
command_timeout_s = 2.5
reconnect_max_s = 60
log_json = false
answer_url = "https://app.example.com/answer"
answer_method = "GET"
freeswitch_password = "{SECRET}"
""")
    s = load_settings(path, environ={})
    assert (s.listen_port, s.command_timeout_s, s.reconnect_max_s, s.log_json) == (
        9084, 2.5, 60.0, False,
    )
    assert isinstance(s.reconnect_max_s, float)
    assert (s.answer_url, s.answer_method, s.freeswitch_password) == (
        "https://app.example.com/answer", "GET", SECRET,
    )


def test_environment_overrides_the_file(tmp_path):
    """PLIVOXML_FS_* variables win over the file; other variables are ignored."""
    path = write(tmp_path, "listen_port = 9084\nlog_level = 'INFO'\n")
    env = {
        "PLIVOXML_FS_LISTEN_PORT": "9085",
        "PLIVOXML_FS_LOG_JSON": "false",
        "PLIVOXML_FS_DRAIN_TIMEOUT_S": "12.5",
        "PLIVOXML_FS_FREESWITCH_PASSWORD": SECRET,
        "HOME": "/root",
        "PLIVOXML_OTHER": "x",
    }
    s = load_settings(path, environ=env)
    assert (s.listen_port, s.log_json, s.drain_timeout_s, s.log_level) == (
        9085, False, 12.5, "INFO",
    )
    assert s.freeswitch_password == SECRET


def test_keyword_overrides_win_over_environment():
    """Keyword overrides are applied last."""
    s = load_settings(environ={"PLIVOXML_FS_MAX_CALLS": "10"}, max_calls=20)
    assert s.max_calls == 20


def test_process_environment_is_the_default(monkeypatch):
    """Without environ=, os.environ is read."""
    monkeypatch.setenv("PLIVOXML_FS_MAX_REDIRECTS", "3")
    assert load_settings().max_redirects == 3


# --- unknown keys ------------------------------------------------------------------------------


def test_unknown_file_key_names_file_and_key(tmp_path):
    """A misspelt key in the file is rejected, naming the file and the key."""
    path = write(tmp_path, "listen_prot = 9084\n")
    assert error_of(path, environ={}) == f"{path}: unknown setting 'listen_prot'"


def test_table_in_file_is_an_unknown_key(tmp_path):
    """Settings are flat: a [section] is an unknown key."""
    path = write(tmp_path, "[freeswitch]\nport = 8021\n")
    assert error_of(path, environ={}) == f"{path}: unknown setting 'freeswitch'"


def test_unknown_environment_variable_is_named():
    """A PLIVOXML_FS_ variable that is no setting is rejected by its full name."""
    assert error_of(environ={"PLIVOXML_FS_LISTEN_PROT": "1"}) == (
        "environment: unknown setting PLIVOXML_FS_LISTEN_PROT"
    )


def test_the_test_suites_variables_are_not_settings():
    """PLIVOXML_FS_TEST_* (which FreeSWITCH tests/fs uses) is left to the tests: a daemon or a
    test started with them set loads its settings as without them."""
    environ = {"PLIVOXML_FS_TEST_PORT": "8031", "PLIVOXML_FS_TEST_SOCKET_PORT": "8094",
               "PLIVOXML_FS_LISTEN_PORT": "9000"}
    settings = load_settings(environ=environ)
    assert settings.listen_port == 9000
    assert settings == load_settings(environ={"PLIVOXML_FS_LISTEN_PORT": "9000"})


def test_unknown_override_is_named():
    """An unknown keyword override is a ConfigError, not a KeyError."""
    assert error_of(environ={}, nope=1) == "override: unknown setting 'nope'"


# --- file problems -----------------------------------------------------------------------------


def test_missing_file_is_named(tmp_path):
    """A file that cannot be read is named with the reason."""
    path = tmp_path / "absent.toml"
    assert error_of(path, environ={}) == f"{path}: cannot read: No such file or directory"


def test_invalid_toml_is_named(tmp_path):
    """A TOML syntax error names the file and where the parser stopped."""
    path = write(tmp_path, "listen_port = \n")
    message = error_of(path, environ={})
    assert message.startswith(f"{path}: not valid TOML: ")
    assert "line 1" in message


def test_non_utf8_file_is_named(tmp_path):
    """A file that is not UTF-8 is rejected by name."""
    path = tmp_path / "latin1.toml"
    path.write_bytes(b"answer_url = '\xe9'\n")
    assert error_of(path, environ={}) == f"{path}: not UTF-8 text"


# --- types: reject, never coerce ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("listen_port = '8084'", "listen_port must be int (got '8084')"),
        ("listen_port = 8084.0", "listen_port must be int (got 8084.0)"),
        ("listen_port = true", "listen_port must be int (got True)"),
        ("log_json = 'true'", "log_json must be bool (got 'true')"),
        ("log_json = 1", "log_json must be bool (got 1)"),
        ("command_timeout_s = '2'", "command_timeout_s must be float (got '2')"),
        ("command_timeout_s = false", "command_timeout_s must be float (got False)"),
        ("answer_url = 5", "answer_url must be str (got 5)"),
        ("answer_url = ['http://a']", "answer_url must be str (got ['http://a'])"),
    ],
)
def test_wrong_types_in_file_are_rejected(tmp_path, line, message):
    """TOML values must have the setting's type; strings are not parsed into numbers or bools."""
    path = write(tmp_path, line + "\n")
    assert error_of(path, environ={}) == f"{path}: {message}"


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("LISTEN_PORT", "80a", "listen_port must be int (got '80a')"),
        ("LISTEN_PORT", " 8084", "listen_port must be int (got ' 8084')"),
        ("LISTEN_PORT", "8084.0", "listen_port must be int (got '8084.0')"),
        ("LISTEN_PORT", "٨٠٨٤", "listen_port must be int (got '٨٠٨٤')"),
        ("LOG_JSON", "yes", "log_json must be bool (got 'yes')"),
        ("LOG_JSON", "True", "log_json must be bool (got 'True')"),
        ("COMMAND_TIMEOUT_S", "nan", "command_timeout_s must be float (got 'nan')"),
        ("COMMAND_TIMEOUT_S", "inf", "command_timeout_s must be float (got 'inf')"),
        ("COMMAND_TIMEOUT_S", "1_0", "command_timeout_s must be float (got '1_0')"),
    ],
)
def test_wrong_types_in_environment_are_rejected(name, raw, message):
    """Environment text must spell the type exactly; the error names the variable."""
    assert error_of(environ={f"PLIVOXML_FS_{name}": raw}) == (
        f"environment PLIVOXML_FS_{name}: {message}"
    )


def test_environment_numbers_and_bools_are_parsed():
    """Plain integers, decimals, exponents and true/false are accepted from the environment."""
    s = load_settings(environ={
        "PLIVOXML_FS_MAX_CALLS": "15",
        "PLIVOXML_FS_RECONNECT_MIN_S": ".25",
        "PLIVOXML_FS_RECONNECT_MAX_S": "1e2",
        "PLIVOXML_FS_LOG_JSON": "true",
    })
    assert (s.max_calls, s.reconnect_min_s, s.reconnect_max_s, s.log_json) == (15, 0.25, 100.0, True)


# --- ranges and formats ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("listen_port", 0, "must be a port 1..65535"),
        ("freeswitch_port", 65536, "must be a port 1..65535"),
        ("max_calls", 0, "must be at least 1"),
        ("callback_pool_size", -1, "must be at least 1"),
        ("max_document_bytes", 0, "must be at least 1"),
        ("max_redirects", -1, "must be 0 or more"),
        ("linger_s", 0, "must be 1..3600 seconds"),
        ("command_timeout_s", 0, "must be a positive number of seconds"),
        ("drain_timeout_s", -1.5, "must be a positive number of seconds"),
        ("fetch_total_timeout_s", float("inf"), "must be a positive number of seconds"),
        ("answer_method", "post", "must be GET or POST"),
        ("hangup_method", "PUT", "must be GET or POST"),
        ("answer_url", "ftp://app/answer", "must be an http:// or https:// URL with a host"),
        ("fallback_url", "app.example.com/x", "must be an http:// or https:// URL with a host"),
        ("hangup_url", "http://h/a b", "must be an http(s) URL without spaces or control "
                                       "characters"),
        ("answer_url", "http://h:99999/", "must be a well-formed http(s) URL"),
        ("log_level", "debug", "must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ("listen_host", "", "must be non-empty, without spaces or control characters"),
        ("state_dir", "/var/lib/x y", "must be non-empty, without spaces or control characters"),
    ],
)
def test_out_of_range_values_are_rejected(tmp_path, name, value, problem):
    """Ports, counts, timeouts, methods, URLs and levels are checked; the error names them."""
    path = write(tmp_path, f"{name} = {value!r}\n")  # a Python repr here is also TOML
    assert error_of(path, environ={}) == f"{path}: {name} {problem} (got {value!r})"


def test_max_redirects_zero_and_empty_urls_are_allowed():
    """0 redirects and empty URLs (take them from the channel) are valid."""
    s = load_settings(environ={}, max_redirects=0, answer_url="", fallback_url="")
    assert (s.max_redirects, s.answer_url, s.fallback_url) == (0, "", "")


def test_reconnect_bounds_must_be_ordered():
    """reconnect_min_s above reconnect_max_s is rejected naming both."""
    assert error_of(environ={}, reconnect_min_s=5, reconnect_max_s=1) == (
        "settings: reconnect_min_s (5.0) must not exceed reconnect_max_s (1.0)"
    )


# --- the password never shows ------------------------------------------------------------------


def test_password_not_in_repr():
    """repr(Settings) leaves the password out."""
    s = load_settings(environ={}, freeswitch_password=SECRET)
    assert SECRET not in repr(s)
    assert "freeswitch_password" not in repr(s)


def test_password_of_wrong_type_is_redacted_in_file_error(tmp_path):
    """A password of the wrong type is reported without its value."""
    path = write(tmp_path, "freeswitch_password = 12345678\n")
    assert error_of(path, environ={}) == (
        f"{path}: freeswitch_password must be str (got <redacted>)"
    )


@pytest.mark.parametrize("bad", [SECRET + "\r\nevent plain ALL", ""])
def test_bad_password_is_redacted_in_environment_error(bad):
    """An empty or multi-line password is rejected without showing it."""
    message = error_of(environ={"PLIVOXML_FS_FREESWITCH_PASSWORD": bad})
    assert message == (
        "environment PLIVOXML_FS_FREESWITCH_PASSWORD: freeswitch_password must be "
        "non-empty, on one line (got <redacted>)"
    )
    assert SECRET not in message


def test_settings_are_frozen():
    """Settings cannot be changed after loading; attrs.evolve makes a new one."""
    s = load_settings(environ={})
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        s.listen_port = 1  # type: ignore[misc]
    assert attrs.evolve(s, listen_port=1).listen_port == 1


# --- the sample file ---------------------------------------------------------------------------

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "plivoxml-fs.toml"


def test_example_config_loads_and_names_every_setting():
    """examples/plivoxml-fs.toml is valid and sets every setting, so it documents them all."""
    s = load_settings(EXAMPLE, environ={})
    text = EXAMPLE.read_text("utf-8")
    missing = [f.name for f in attrs.fields(Settings) if f"\n{f.name} = " not in text]
    assert missing == []
    assert s.freeswitch_password != Settings().freeswitch_password


def test_example_config_keeps_the_defaults_it_claims():
    """Apart from the password and the example answer URL, the sample holds the defaults."""
    s = load_settings(EXAMPLE, environ={})
    assert attrs.evolve(
        s, freeswitch_password=Settings().freeswitch_password, answer_url=""
    ) == Settings()


def test_metrics_port_zero_needs_a_record_base_url():
    """Without the operator server nothing serves recordings: load_settings refuses
    metrics_port 0 unless record_base_url says where they are served."""
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={}, metrics_port=0)
    assert str(caught.value) == (
        "settings: metrics_port is 0 (no operator HTTP server), so nothing would serve "
        "conference recordings at the RecordUrl they get (http://127.0.0.1:0/recordings/...): "
        "set record_base_url to where recordings_dir is served, or give metrics_port a port")
    settings = load_settings(environ={}, metrics_port=0,
                             record_base_url="https://cdn.example.com/rec/")
    assert (settings.metrics_port, settings.record_base_url) == (
        0, "https://cdn.example.com/rec/")


def test_probe_and_reopen_settings_are_positive_seconds():
    """The health probe's interval and timeout and the outbox reopen interval are seconds > 0."""
    for name in ("health_probe_interval_s", "health_probe_timeout_s",
                 "outbox_reopen_interval_s"):
        with pytest.raises(ConfigError) as caught:
            load_settings(environ={}, **{name: 0.0})
        assert str(caught.value) == (
            f"override: {name} must be a positive number of seconds (got 0.0)")


# --- transcription -------------------------------------------------------------------------------

def test_transcription_defaults_are_the_offline_engine():
    s = load_settings(environ={})
    assert (s.transcription_engine, s.transcription_workers, s.transcription_rate_per_minute,
            s.transcription_path) == ("pocketsphinx", 1, 0.0, "")


def test_http_transcription_needs_its_url():
    with pytest.raises(ConfigError, match="transcription_engine is http but "
                                          "transcription_http_url is not set"):
        load_settings(environ={"PLIVOXML_FS_TRANSCRIPTION_ENGINE": "http"})
    s = load_settings(environ={"PLIVOXML_FS_TRANSCRIPTION_ENGINE": "http",
                               "PLIVOXML_FS_TRANSCRIPTION_HTTP_URL":
                                   "http://127.0.0.1:8080/v1/audio/transcriptions"})
    assert s.transcription_engine == "http"


@pytest.mark.parametrize(("name", "value", "why"), [
    ("TRANSCRIPTION_ENGINE", "vosk", "must be one of pocketsphinx, http"),
    ("TRANSCRIPTION_WORKERS", "0", "must be at least 1"),
    ("TRANSCRIPTION_RATE_PER_MINUTE", "-0.01", "must be 0 or a positive price"),
    ("TRANSCRIPTION_HTTP_URL", "ftp://x/y", "must be an http:// or https:// URL with a host"),
    ("TRANSCRIPTION_TIMEOUT_S", "0", "must be a positive number of seconds"),
])
def test_bad_transcription_settings_are_named(name, value, why):
    with pytest.raises(ConfigError, match=why):
        load_settings(environ={f"PLIVOXML_FS_{name}": value})


def test_the_transcription_key_is_redacted():
    s = load_settings(environ={"PLIVOXML_FS_TRANSCRIPTION_HTTP_KEY": "sk-secret-1"})
    assert "sk-secret-1" not in repr(s)
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={"PLIVOXML_FS_TRANSCRIPTION_HTTP_KEY": "sk\nsecret"})
    assert "secret" not in str(caught.value).replace("PLIVOXML_FS_TRANSCRIPTION_HTTP_KEY", "")
