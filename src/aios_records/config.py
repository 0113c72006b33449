"""Server settings, shared by the command line and the ASGI app factory."""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import tzlocal

DEFAULT_PORT = 8080
DEFAULT_CONTEXT_PATH = "/zstack"
DEFAULT_SESSION_TIMEOUT = 7200
DEFAULT_MAX_SESSIONS = 500
DEFAULT_SLOW_QUERY_MS = 500.0
# Seconds between sweeps that delete expired sessions.
SESSION_CLEANUP_INTERVAL = 60.0


def default_data_dir() -> Path:
    """Return `$XDG_DATA_HOME/aios-records`, or `~/.local/share/aios-records`."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "aios-records"


def host_time_zone() -> str:
    """Return the host's IANA time zone name, or UTC when it cannot be found."""
    try:
        return tzlocal.get_localzone_name() or "UTC"
    except Exception:  # noqa: BLE001 - tzlocal raises several types on odd hosts
        return "UTC"


def normalize_context_path(path: str) -> str:
    """Return `/zstack` for `zstack`, `/zstack/` or `/zstack`; `` for `/`."""
    stripped = path.strip().strip("/")
    return f"/{stripped}" if stripped else ""


@dataclass
class Settings:
    """Everything the server needs to start; see `aios-records serve --help`."""

    database_url: str
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    context_path: str = DEFAULT_CONTEXT_PATH
    time_zone: str = field(default_factory=host_time_zone)
    locale: str = "en_US"
    log_level: str = "info"
    admin_password: str | None = None
    demo: bool = False
    session_timeout: int = DEFAULT_SESSION_TIMEOUT
    max_sessions: int = DEFAULT_MAX_SESSIONS
    slow_query_ms: float = DEFAULT_SLOW_QUERY_MS
    workers: int = 1
    pool_size: int = 8
    sqlite_max_pages: int | None = None
    # Run short SQLite reads on the event loop (http/inline.py).
    inline_reads: bool = True

    def to_json(self) -> str:
        """Serialize for worker processes, which rebuild the settings with `from_json`."""
        values = dataclasses.asdict(self)
        values["data_dir"] = str(self.data_dir)
        return json.dumps(values)

    @classmethod
    def from_json(cls, text: str) -> Settings:
        values = json.loads(text)
        values["data_dir"] = Path(values["data_dir"])
        return cls(**values)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)
