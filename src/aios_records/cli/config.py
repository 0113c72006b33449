"""Settings of aios-cli: built-in defaults, a TOML config file, environment variables, options.

Each later source overrides the earlier ones. The config file is
`$AIOS_CLI_CONFIG`, else `$XDG_CONFIG_HOME/aios-cli/config.toml` (default
`~/.config/aios-cli/config.toml`), and may be missing:

    host = "127.0.0.1"
    port = 8080
    context_path = "/zstack"
    output = "json"        # json, compact or table
    timeout = 30           # seconds to wait for the server

The environment variables are `AIOS_CLI_HOST`, `AIOS_CLI_PORT`,
`AIOS_CLI_CONTEXT_PATH`, `AIOS_CLI_OUTPUT` and `AIOS_CLI_TIMEOUT`. The
session file and the command history live in the state directory,
`$XDG_STATE_HOME/aios-cli` (default `~/.local/state/aios-cli`).
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..config import DEFAULT_CONTEXT_PATH, DEFAULT_PORT, normalize_context_path
from .catalog import OUTPUT_FORMATS
from .messages import UsageError

APP_DIRECTORY = "aios-cli"
ENV_PREFIX = "AIOS_CLI_"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_TIMEOUT = 30.0

SETTING_NAMES = ("host", "port", "context_path", "output", "timeout")

# A host is a name, an IPv4 address or an IPv6 address with or without
# brackets, and a context path is unreserved URL characters and slashes.
# Anything else (`/` in a host, `@`, `?`, `#`, spaces) would change what the
# URL points at.
_CONTEXT_PATH = re.compile(r"[A-Za-z0-9._~/\-]*")
_HOST = re.compile(r"[A-Za-z0-9._\-]+|\[?[0-9A-Fa-f:.]+(%[A-Za-z0-9]+)?\]?")


@dataclass(frozen=True)
class CliConfig:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    context_path: str = DEFAULT_CONTEXT_PATH
    output: str = "json"
    timeout: float = DEFAULT_TIMEOUT
    state_dir: Path = Path(".")

    @property
    def base_url(self) -> str:
        """Return the server URL with the context path, such as `http://127.0.0.1:8080/zstack`."""
        host = f"[{self.host}]" if ":" in self.host and not self.host.startswith("[") else self.host
        return f"http://{host}:{self.port}{normalize_context_path(self.context_path)}"

    @property
    def session_path(self) -> Path:
        return self.state_dir / "session"

    @property
    def history_path(self) -> Path:
        return self.state_dir / "history"


def config_file_path(environ: Mapping[str, str]) -> Path:
    explicit = environ.get(ENV_PREFIX + "CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    base = environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / APP_DIRECTORY / "config.toml"


def state_directory(environ: Mapping[str, str]) -> Path:
    base = environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base) / APP_DIRECTORY


def load_config(options: Mapping[str, str], environ: Mapping[str, str] | None = None,
                config_path: Path | None = None) -> CliConfig:
    """Merge the config file, the environment and command-line `options` into a CliConfig.

    `options` maps setting names to the text given on the command line.
    Raises UsageError naming the source and the setting when a value is
    invalid or the file cannot be read.
    """
    environ = os.environ if environ is None else environ
    path = config_path or config_file_path(environ)
    raw: dict[str, tuple[object, str]] = {}
    for name, value in _read_file(path).items():
        raw[name] = (value, str(path))
    for name in SETTING_NAMES:
        variable = ENV_PREFIX + name.upper()
        if environ.get(variable):
            raw[name] = (environ[variable], variable)
    for name, value in options.items():
        raw[name] = (value, "--" + name.replace("_", "-"))

    settings: dict[str, object] = {}
    for name, (value, source) in raw.items():
        settings[name] = _checked(name, value, source)
    return CliConfig(**settings, state_dir=state_directory(environ))


def _read_file(path: Path) -> dict[str, object]:
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise UsageError("config_unreadable", path=path, error=error.strerror or error) from None
    try:
        data = tomllib.loads(content.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise UsageError("config_unreadable", path=path, error=error) from None
    for name in data:
        if name not in SETTING_NAMES:
            raise UsageError("config_unknown_key", path=path, setting=name,
                             keys=", ".join(SETTING_NAMES))
    return data


def _checked(name: str, value: object, source: str) -> object:
    """Convert one setting to its type, or raise UsageError naming its source."""
    if name == "port":
        port = _as_number(value, int)
        if port is None or not 1 <= port <= 65535:
            raise UsageError("bad_port", source=source, value=value)
        return port
    if name == "timeout":
        timeout = _as_number(value, float)
        if timeout is None or not math.isfinite(timeout) or timeout <= 0:
            raise UsageError("bad_timeout", source=source, value=value)
        return timeout
    if not isinstance(value, str):
        raise UsageError("bad_setting_type", source=source, name=name, value=value)
    if name == "output" and value not in OUTPUT_FORMATS:
        raise UsageError("bad_output", source=source, value=value,
                         formats=", ".join(OUTPUT_FORMATS))
    if name == "host":
        if not _HOST.fullmatch(value.strip()):
            raise UsageError("bad_host", source=source, value=value)
        return value.strip()
    if name == "context_path" and not _CONTEXT_PATH.fullmatch(value.strip()):
        raise UsageError("bad_context_path", source=source, value=value)
    return value


def _as_number(value: object, kind: type) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)) and (kind is float or isinstance(value, int)):
        return kind(value)
    if isinstance(value, str):
        try:
            return kind(value.strip())
        except ValueError:
            return None
    return None
