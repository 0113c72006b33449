"""The saved login sessions of aios-cli, one per server, in a file only the user can read.

zstack-cli keeps its session in ~/.zstack/cli/session. aios-cli keeps a JSON
file in its state directory that maps each server URL to a session uuid and
the account name, so switching `--host` does not send one server's session
to another:

    {"sessions": {"http://127.0.0.1:8080/zstack": {"uuid": "...", "accountName": "admin"}}}

The file is written to a temporary file with mode 0600 and renamed over the
old one, so a reader never sees half a file. It is deleted when the last
session in it is cleared.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("aios_records.cli")

FILE_MODE = 0o600
DIRECTORY_MODE = 0o700


class StateDirectoryError(Exception):
    """The state directory or a file in it cannot be read or written.

    `directory` is the state directory and `error` the OSError that was raised.
    """

    def __init__(self, directory: Path, error: OSError) -> None:
        super().__init__(f"{directory}: {error}")
        self.directory = directory
        self.error = error


@dataclass(frozen=True)
class SavedSession:
    uuid: str
    account_name: str | None


class SessionStore:
    """Read and write the session file at `path`."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self, server: str) -> SavedSession | None:
        """Return the session saved for `server` (its base URL), or None."""
        entry = self._read().get(server)
        if not isinstance(entry, dict) or not isinstance(entry.get("uuid"), str):
            return None
        name = entry.get("accountName")
        return SavedSession(entry["uuid"], name if isinstance(name, str) else None)

    def save(self, server: str, session: SavedSession) -> None:
        sessions = self._read()
        sessions[server] = {"uuid": session.uuid, "accountName": session.account_name}
        self._write(sessions)

    def clear(self, server: str) -> None:
        """Forget the session of `server`; delete the file when no session is left."""
        sessions = self._read()
        if sessions.pop(server, None) is None:
            return
        if sessions:
            self._write(sessions)
        else:
            self.path.unlink(missing_ok=True)

    def _read(self) -> dict:
        try:
            content = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as error:
            raise StateDirectoryError(self.path.parent, error) from None
        try:
            sessions = json.loads(content).get("sessions")
        except (ValueError, AttributeError):
            log.warning("session file %s is not the JSON that aios-cli writes; "
                        "ignoring it until the next login replaces it", self.path)
            return {}
        return sessions if isinstance(sessions, dict) else {}

    def _write(self, sessions: dict) -> None:
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        except OSError as error:
            raise StateDirectoryError(self.path.parent, error) from None
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                # The mode of os.open is reduced by the umask; 0600 must hold regardless.
                os.fchmod(file.fileno(), FILE_MODE)
                json.dump({"sessions": sessions}, file, indent=2)
                file.write("\n")
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        os.replace(temporary, self.path)
