"""Settings: one frozen attrs object read from a TOML file, then `PLIVOXML_FS_*` env overrides.

Every limit is named with its unit. Each field is written once here with its default; the CLI and
the components take values from a `Settings`, never from the environment directly.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from plivoxml_fs.errors import ConfigError

ENV_PREFIX = "PLIVOXML_FS_"


@attrs.frozen
class Settings:
    """Everything the daemon can be told. Units are in the names."""

    # outbound event socket: where the dialplan's `socket` application connects
    listen_host: str = "127.0.0.1"
    listen_port: int = 8084
    max_calls: int = 2000
    # inbound event socket: the one connection for room-wide events and api/bgapi
    freeswitch_host: str = "127.0.0.1"
    freeswitch_port: int = 8021
    freeswitch_password: str = attrs.field(default="ClueCon", repr=False)
    reconnect_min_s: float = 0.5
    reconnect_max_s: float = 30.0
    # deadlines on FreeSWITCH
    command_timeout_s: float = 10.0
    connect_timeout_s: float = 5.0
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
    # service
    drain_timeout_s: float = 30.0
    state_dir: str = "/var/lib/plivoxml-fs"
    log_level: str = "INFO"
    log_json: bool = True


_FIELDS = {f.name: f for f in attrs.fields(Settings)}


def _convert(name: str, raw: Any, source: str) -> Any:
    field = _FIELDS[name]
    kind = type(field.default)
    if kind is bool:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw in ("true", "false"):
            return raw == "true"
    elif kind is int:
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lstrip("-").isdigit():
            return int(raw)
    elif kind is float:
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            return float(raw)
        if isinstance(raw, str):
            try:
                return float(raw)
            except ValueError:
                pass
    elif isinstance(raw, str):
        return raw
    shown = "<redacted>" if "password" in name or "token" in name else repr(raw)
    raise ConfigError(f"{source}: {name} must be {kind.__name__} (got {shown})")


def load_settings(
    path: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Read TOML (optional), then PLIVOXML_FS_* from `environ`, then keyword overrides."""
    values: dict[str, Any] = {}
    if path is not None:
        source = str(path)
        try:
            data = tomllib.loads(Path(path).read_text("utf-8"))
        except OSError as exc:
            raise ConfigError(f"{source}: cannot read: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{source}: not valid TOML: {exc}") from None
        for key, raw in data.items():
            if key not in _FIELDS:
                raise ConfigError(f"{source}: unknown setting {key!r}")
            values[key] = _convert(key, raw, source)
    for key, raw in (os.environ if environ is None else environ).items():
        if key.startswith(ENV_PREFIX):
            name = key[len(ENV_PREFIX) :].lower()
            if name not in _FIELDS:
                raise ConfigError(f"environment: unknown setting {key}")
            values[name] = _convert(name, raw, f"environment {key}")
    for key, raw in overrides.items():
        values[key] = _convert(key, raw, "override")
    return Settings(**values)
