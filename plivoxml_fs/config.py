"""Settings: one frozen attrs object read from a TOML file, then `PLIVOXML_FS_*` env overrides.

Every limit is named with its unit. Each field is written once here with its default; the CLI and
the components take values from a `Settings`, never from the environment directly.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import attrs

from plivoxml_fs.errors import ConfigError
from plivoxml_fs.fs.commands import MAX_LINGER_S

ENV_PREFIX = "PLIVOXML_FS_"
#: Variables under this prefix belong to the test suite (tests/fs: which FreeSWITCH to use),
#: not to the daemon: settings never read them, and they are not unknown settings.
TEST_ENV_PREFIX = "PLIVOXML_FS_TEST_"


@attrs.frozen
class Settings:
    """Everything the daemon can be told. Units are in the names."""

    # outbound event socket: where the dialplan's `socket` application connects
    listen_host: str = "127.0.0.1"
    listen_port: int = 8084
    max_calls: int = 2000
    # who may hand calls to listen_port: addresses, networks (10.0.0.0/24) or host names,
    # comma-separated; "" = freeswitch_host (its addresses). Others are refused unread.
    allowed_peers: str = ""
    # bytes a peer may send before a call exists (the connect reply with the channel data)
    max_connect_reply_bytes: int = 1024 * 1024
    # inbound event socket: the one connection for room-wide events and api/bgapi
    freeswitch_host: str = "127.0.0.1"
    freeswitch_port: int = 8021
    freeswitch_password: str = attrs.field(default="ClueCon", repr=False)
    reconnect_min_s: float = 0.5
    reconnect_max_s: float = 30.0
    # deadlines on FreeSWITCH
    command_timeout_s: float = 10.0
    # a new call's connect reply and its check over the inbound connection, and the inbound
    # connection's TCP connect and authentication, must each be done within this
    connect_timeout_s: float = 2.0
    linger_s: int = 10
    # documents
    answer_url: str = ""
    answer_method: str = "POST"
    fallback_url: str = ""
    fallback_method: str = "POST"
    hangup_url: str = ""
    hangup_method: str = "POST"
    fetch_connect_timeout_s: float = 3.0
    fetch_read_timeout_s: float = 10.0
    fetch_total_timeout_s: float = 15.0
    max_document_bytes: int = 256 * 1024
    max_redirects: int = 10
    # callbacks
    callback_connect_timeout_s: float = 3.0
    callback_read_timeout_s: float = 10.0
    callback_pool_size: int = 50
    callback_total_timeout_s: float = 15.0
    callback_max_retries: int = 6
    callback_backoff_base_s: float = 1.0
    callback_backoff_max_s: float = 300.0
    # "" = <state_dir>/outbox.sqlite3
    outbox_path: str = ""
    # seconds between attempts to open an outbox file that would not open at start
    outbox_reopen_interval_s: float = 5.0
    # Plivo auth token: callbacks are signed (X-Plivo-Signature-V3) when set; "" = unsigned
    auth_token: str = attrs.field(default="", repr=False)
    # operator HTTP: /metrics (Prometheus) and /health; metrics_port 0 = not served
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 9464
    # /health asks FreeSWITCH `api status` every health_probe_interval_s; no answer within
    # health_probe_timeout_s reports it as not responding (503)
    health_probe_interval_s: float = 5.0
    health_probe_timeout_s: float = 2.0
    # control API (docs/api.md): Plivo's Conference API on api_host:api_port; 0 = not served.
    # api_auth: the accounts, `AUTH_ID:AUTH_TOKEN` comma-separated (auth ids as the SDK takes
    # them: 20 characters starting MA or SA); required when api_port is set. A call's rooms
    # belong to the account its channel variable plivoxml_account_id names, else to
    # api_default_account ("" = the first account of api_auth).
    api_host: str = "127.0.0.1"
    api_port: int = 0
    api_auth: str = attrs.field(default="", repr=False)
    api_default_account: str = ""
    # ended rooms kept for GET after their end ("" = <state_dir>/history.sqlite3), how long
    history_path: str = ""
    history_retention_s: float = 30 * 86400.0
    # seconds between two returns of the C heap's free pages to the system (glibc's
    # malloc_trim; plivoxml_fs/effects/heap.py says why); 0 = never
    heap_trim_interval_s: float = 1.0
    # conferences: the mod_conference profile rooms are made with (conference.conf.xml),
    # where recordings are written ("" = <state_dir>/recordings), the public URL they are
    # served under as RecordUrl ("" = served by the operator HTTP server at /recordings/),
    # and the pause after a digit that ends a digitsMatch sequence
    conference_profile: str = "default"
    recordings_dir: str = ""
    record_base_url: str = ""
    digits_match_timeout_s: float = 1.5
    # <MultiPartyCall>: the price of one MPC minute in USD (MPCBilledAmount; billed by the
    # started minute), and wall seconds per MPC second for maxDuration and waitTime (1.0;
    # tests shorten them, e.g. 0.01 makes maxDuration="300" last 3 s)
    mpc_rate_per_minute: float = 0.0
    mpc_time_scale: float = 1.0
    # the control API's add participant dials `originate {vars}<this, {to} replaced>`:
    # endpoint then destination, e.g. "sofia/gateway/carrier/{to} &socket(127.0.0.1:8084 async
    # full)" (the answered leg must reach this daemon's socket); "" = dialling out is refused
    mpc_dial_string: str = ""
    # add participant with confirm_key: how long the dialled party has, from its answer (the
    # prompt counts), to press the key before it is hung up (Plivo's confirmTimeout default)
    confirm_key_timeout_s: float = 120.0
    # transcription of recordings that ask for it (docs/transcription.md): the engine
    # (pocketsphinx: offline, the default; http: an OpenAI-compatible /v1/audio/transcriptions
    # URL with its model and key), worker processes at most, one job's time limit, the jobs
    # file ("" = <state_dir>/transcriptions.sqlite3), and the price of a minute in USD
    # (transcription_rate; the charge is by the started minute)
    transcription_engine: str = "pocketsphinx"
    transcription_http_url: str = ""
    transcription_http_model: str = "whisper-1"
    transcription_http_key: str = attrs.field(default="", repr=False)
    transcription_workers: int = 1
    transcription_timeout_s: float = 600.0
    transcription_path: str = ""
    transcription_rate_per_minute: float = 0.0
    # AI agent media (docs/ai-agent.md, "Media addresses and ports"): FreeSWITCH's unicast
    # reads on ai_media_freeswitch_ip ("" = freeswitch_host when an IPv4 address, else
    # 127.0.0.1) and sends to the daemon on ai_media_daemon_ip ("" = listen_host when a
    # non-wildcard IPv4 address, else 127.0.0.1). Ports: ai_media_port_min..max, a pair per AI
    # participant (even: FreeSWITCH's, odd: the daemon's); 0/0 = any free port (FreeSWITCH
    # beside the daemon only). Both ends must reach the range on each other's address.
    ai_media_freeswitch_ip: str = ""
    ai_media_daemon_ip: str = ""
    ai_media_port_min: int = 0
    ai_media_port_max: int = 0
    # service
    drain_timeout_s: float = 30.0
    state_dir: str = "/var/lib/plivoxml-fs"
    log_level: str = "INFO"
    log_json: bool = True


_FIELDS = {f.name: f for f in attrs.fields(Settings)}
_SECRET_FIELDS = frozenset({"freeswitch_password", "auth_token", "api_auth",
                            "transcription_http_key"})
PORT_FIELDS = ("listen_port", "freeswitch_port")
# at least 1; max_redirects may be 0 (no redirects followed)
POSITIVE_INT_FIELDS = (
    "max_calls", "max_document_bytes", "callback_pool_size", "max_connect_reply_bytes",
    "transcription_workers",
)
#: seconds settings where 0 turns the thing off (every other `_s` setting is more than 0)
ZERO_MEANS_NEVER = ("heap_trim_interval_s",)
METHODS = ("GET", "POST")
#: transcription_engine values (plivoxml_fs/effects/transcription/engines.py ENGINES).
TRANSCRIPTION_ENGINES = ("pocketsphinx", "http")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_PROFILE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_HOST_NAME = re.compile(r"(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9][A-Za-z0-9-]{0,62})*\.?")
_INT_TEXT = re.compile(r"-?[0-9]+")
_FLOAT_TEXT = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


def _shown(name: str, raw: Any) -> str:
    return "<redacted>" if name in _SECRET_FIELDS else repr(raw)


def _convert(name: str, raw: Any, source: str, *, text: bool) -> Any:
    """`raw` as the field's type. Environment values (`text`) are parsed; TOML values must
    already have the right type (an int is accepted for a float field)."""
    kind = type(_FIELDS[name].default)
    if text and isinstance(raw, str):
        if kind is bool and raw in ("true", "false"):
            return raw == "true"
        if kind is int and _INT_TEXT.fullmatch(raw):
            return int(raw)
        if kind is float and _FLOAT_TEXT.fullmatch(raw):
            return float(raw)
        if kind is str:
            return raw
    elif not isinstance(raw, bool) or kind is bool:
        if isinstance(raw, kind):
            return raw
        if kind is float and isinstance(raw, int):
            return float(raw)
    raise ConfigError(f"{source}: {name} must be {kind.__name__} (got {_shown(name, raw)})")


def _problem(name: str, value: Any) -> str | None:
    """Why `value` is not acceptable for field `name`, or None when it is."""
    if name in PORT_FIELDS and not 1 <= value <= 65535:
        return "must be a port 1..65535"
    if name in ("metrics_port", "api_port") and not 0 <= value <= 65535:
        return "must be a port 1..65535, or 0 for none"
    if name in ("ai_media_port_min", "ai_media_port_max") and not 0 <= value <= 65535:
        return "must be a port 1..65535, or 0 for any free port"
    if name in ("ai_media_freeswitch_ip", "ai_media_daemon_ip") and value:
        return _ipv4_problem(value)
    if name in POSITIVE_INT_FIELDS and value < 1:
        return "must be at least 1"
    if name in ("max_redirects", "callback_max_retries") and value < 0:
        return "must be 0 or more"
    if name == "linger_s" and not 1 <= value <= MAX_LINGER_S:
        return f"must be 1..{MAX_LINGER_S} seconds"
    if name.endswith("_s") and isinstance(value, float):
        if name in ZERO_MEANS_NEVER and not 0 <= value < math.inf:
            return "must be a number of seconds, or 0 for never"
        if name not in ZERO_MEANS_NEVER and not 0 < value < math.inf:
            return "must be a positive number of seconds"
    if name == "transcription_engine" and value not in TRANSCRIPTION_ENGINES:
        return f"must be one of {', '.join(TRANSCRIPTION_ENGINES)}"
    if name == "transcription_http_model" and not _is_word(value):
        return "must be a model name without spaces or control characters"
    if name == "transcription_http_key" and any(c in value for c in "\r\n\0"):
        return "must be on one line"
    if name in ("mpc_rate_per_minute", "transcription_rate_per_minute") and not (
            0 <= value < math.inf):
        return "must be 0 or a positive price"
    if name == "mpc_time_scale" and not 0 < value <= 1:
        return "must be more than 0 and at most 1"
    if name == "mpc_dial_string" and value and (
            value.count("{to}") != 1 or " " not in value.strip()
            or any(c in value for c in "\r\n\0'$")):
        return ("must be empty or '<endpoint with {to}> <destination>' on one line, "
                "without ' or $")
    if name.endswith("_method") and value not in METHODS:
        return "must be GET or POST"
    if name.endswith("_url") and value:
        return _url_problem(value)
    if name == "log_level" and value not in LOG_LEVELS:
        return f"must be one of {', '.join(LOG_LEVELS)}"
    if name in ("listen_host", "freeswitch_host", "metrics_host", "api_host",
                "state_dir") and not _is_word(
        value
    ):
        return "must be non-empty, without spaces or control characters"
    if name == "allowed_peers":
        return _peers_problem(value)
    if name == "conference_profile" and not _PROFILE.fullmatch(value):
        return "must be a conference profile name (letters, digits, _ and -)"
    if name == "api_auth":
        return _accounts_problem(value)
    if name == "api_default_account" and value and not AUTH_ID.fullmatch(value):
        return "must be empty or an auth id (20 characters starting MA or SA)"
    if name in ("outbox_path", "recordings_dir", "history_path",
                "transcription_path") and value and not _is_word(value):
        return "must be empty or a path without spaces or control characters"
    if name == "auth_token" and any(c in value for c in "\r\n\0"):
        return "must be on one line"
    if name == "freeswitch_password" and (not value or any(c in value for c in "\r\n\0")):
        return "must be non-empty, on one line"
    return None


#: An account's auth id as the official SDK accepts it (it checks only length and prefix).
AUTH_ID = re.compile(r"(?:MA|SA)[A-Za-z0-9]{18}")


def api_accounts(value: str) -> dict[str, str]:
    """`api_auth` as auth id -> token (ValueError naming the entry, never its token)."""
    accounts: dict[str, str] = {}
    for number, entry in enumerate(e.strip() for e in value.split(",") if e.strip()):
        auth_id, sep, token = entry.partition(":")
        if not sep or not AUTH_ID.fullmatch(auth_id):
            raise ValueError(f"entry {number + 1} is not AUTH_ID:AUTH_TOKEN with an auth id of "
                             "20 characters starting MA or SA")
        if not token or any(c.isspace() or ord(c) < 32 for c in token):
            raise ValueError(f"entry {number + 1} ({auth_id}) has an empty token or one with "
                             "spaces")
        if auth_id in accounts:
            raise ValueError(f"entry {number + 1}: {auth_id} is listed twice")
        accounts[auth_id] = token
    return accounts


def _accounts_problem(value: str) -> str | None:
    try:
        api_accounts(value)
    except ValueError as exc:
        return str(exc)
    return None


def default_account(settings: Settings) -> str:
    """The account of rooms whose calls name none: api_default_account, else the first one."""
    return settings.api_default_account or next(iter(api_accounts(settings.api_auth)), "")


def peer_entries(value: str) -> tuple[str, ...]:
    """The entries of an `allowed_peers` value: comma-separated, spaces around them dropped."""
    return tuple(entry.strip() for entry in value.split(",") if entry.strip())


def allowed_peers(settings: Settings) -> tuple[str, ...]:
    """Who may hand calls to the outbound socket: `allowed_peers`, else `freeswitch_host`."""
    return peer_entries(settings.allowed_peers) or (settings.freeswitch_host,)


def _ipv4_problem(value: str) -> str | None:
    try:
        addr = ipaddress.ip_address(value)
    except ValueError:
        return "must be empty or an IPv4 address (unicast speaks IPv4)"
    if addr.version != 4 or addr.is_unspecified:
        return "must be empty or an IPv4 address other than 0.0.0.0"
    return None


def ai_media_range_problem(low: int, high: int) -> str | None:
    """Why ai_media_port_min..max is no usable range, or None."""
    if (low, high) == (0, 0):
        return None
    if not low or not high:
        return "set both or neither (0/0 = any free port)"
    if low % 2:
        return "ai_media_port_min must be even (a pair per participant: even, odd)"
    if high - low < 1:
        return "ai_media_port_max must be above ai_media_port_min (at least one pair)"
    return None


def _peers_problem(value: str) -> str | None:
    if value and not peer_entries(value):
        return "must list addresses, networks or host names, comma-separated"
    for entry in peer_entries(value):
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            if not _HOST_NAME.fullmatch(entry):
                return f"entry {entry!r} is not an IP address, a network or a host name"
    return None


def _is_word(value: str) -> bool:
    return bool(value) and not any(c.isspace() or ord(c) < 32 for c in value)


def _url_problem(value: str) -> str | None:
    if not _is_word(value):
        return "must be an http(s) URL without spaces or control characters"
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return "must be a well-formed http(s) URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an http:// or https:// URL with a host"
    return None


def _checked(name: str, raw: Any, source: str, *, text: bool) -> Any:
    value = _convert(name, raw, source, text=text)
    problem = _problem(name, value)
    if problem:
        raise ConfigError(f"{source}: {name} {problem} (got {_shown(name, raw)})")
    return value


def _read_toml(path: str | os.PathLike[str]) -> dict[str, Any]:
    source = str(path)
    try:
        data = tomllib.loads(Path(path).read_text("utf-8"))
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{source}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    values = {}
    for key, raw in data.items():
        if key not in _FIELDS:
            raise ConfigError(f"{source}: unknown setting {key!r}")
        values[key] = _checked(key, raw, source, text=False)
    return values


def load_settings(
    path: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Read TOML (optional), then PLIVOXML_FS_* from `environ`, then keyword overrides.

    Every value is checked (type, range, GET/POST, http(s) URL); a ConfigError names the file
    or variable, the setting and the bad value (never a password).
    """
    values: dict[str, Any] = {} if path is None else _read_toml(path)
    for key, raw in sorted((os.environ if environ is None else environ).items()):
        if key.startswith(ENV_PREFIX) and not key.startswith(TEST_ENV_PREFIX):
            name = key[len(ENV_PREFIX) :].lower()
            if name not in _FIELDS:
                raise ConfigError(f"environment: unknown setting {key}")
            values[name] = _checked(name, raw, f"environment {key}", text=True)
    for key, raw in overrides.items():
        if key not in _FIELDS:
            raise ConfigError(f"override: unknown setting {key!r}")
        values[key] = _checked(key, raw, "override", text=False)
    settings = Settings(**values)
    if settings.reconnect_min_s > settings.reconnect_max_s:
        raise ConfigError(
            f"settings: reconnect_min_s ({settings.reconnect_min_s}) must not exceed "
            f"reconnect_max_s ({settings.reconnect_max_s})"
        )
    if settings.metrics_port == 0 and not settings.record_base_url:
        raise ConfigError(
            "settings: metrics_port is 0 (no operator HTTP server), so nothing would serve "
            "conference recordings at the RecordUrl they get (http://"
            f"{settings.metrics_host}:0/recordings/...): set record_base_url to where "
            "recordings_dir is served, or give metrics_port a port"
        )
    range_problem = ai_media_range_problem(settings.ai_media_port_min, settings.ai_media_port_max)
    if range_problem:
        raise ConfigError(
            f"settings: ai_media_port_min..ai_media_port_max {settings.ai_media_port_min}.."
            f"{settings.ai_media_port_max}: {range_problem}")
    if settings.api_port and not api_accounts(settings.api_auth):
        raise ConfigError(
            "settings: api_port is set but api_auth lists no account: the control API would "
            "answer every request 401; set api_auth to AUTH_ID:AUTH_TOKEN[,...] or api_port 0"
        )
    if settings.transcription_engine == "http" and not settings.transcription_http_url:
        raise ConfigError(
            "settings: transcription_engine is http but transcription_http_url is not set: "
            "set it to the engine's /v1/audio/transcriptions URL, or use pocketsphinx"
        )
    if settings.callback_backoff_base_s > settings.callback_backoff_max_s:
        raise ConfigError(
            f"settings: callback_backoff_base_s ({settings.callback_backoff_base_s}) must not "
            f"exceed callback_backoff_max_s ({settings.callback_backoff_max_s})"
        )
    return settings
