"""Creation of the system admin account on a new database."""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from ..clock import Clock
from ..storage.database import write_transaction
from ..storage.schema import account_table
from ..storage.types import to_db_time
from .passwords import hash_password, sha512_hex

log = logging.getLogger("aios_records.accounts")

# ZStack's fixed uuid and name of the system admin.
ADMIN_UUID = "36c27e8ff05c4780bf6d2fa65700f22e"
ADMIN_NAME = "admin"
ADMIN_PASSWORD_FILE = "admin-password.txt"


@dataclass(frozen=True)
class AdminBootstrap:
    """Outcome of `ensure_admin`; `created` is False when the admin already existed."""

    created: bool
    generated_password: str | None = None
    password_file: Path | None = None


def admin_exists(engine: sa.Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(
            sa.select(account_table.c.uuid).where(account_table.c.uuid == ADMIN_UUID)
        ).first() is not None


def ensure_admin(engine: sa.Engine, password: str | None, data_dir: Path | None,
                 clock: Clock | None = None) -> AdminBootstrap:
    """Create the admin account unless it exists.

    `password` is the plain password. When it is None a random one is
    generated and written to a 0600 file in `data_dir`, so the caller can
    show it once.
    """
    if admin_exists(engine):
        return AdminBootstrap(created=False)

    generated = None
    if password is None:
        generated = password = secrets.token_urlsafe(18)

    now = to_db_time((clock or Clock()).now())
    with write_transaction(engine) as conn:
        conn.execute(account_table.insert().values(
            uuid=ADMIN_UUID, name=ADMIN_NAME, type="SystemAdmin",
            description="system admin account", password=hash_password(sha512_hex(password)),
            createDate=now, lastOpDate=now,
        ))
    log.info("created the admin account %s", ADMIN_UUID)

    password_file = None
    if generated is not None and data_dir is not None:
        password_file = _write_new_private(data_dir, generated + "\n")
    return AdminBootstrap(True, generated, password_file)


def _write_new_private(data_dir: Path, text: str) -> Path:
    """Write `text` to a new file readable only by its owner (mode 0600) and return its path.

    The file is `admin-password.txt`, or `admin-password-2.txt` and so on when
    that exists. Servers of several databases (given by --database-url) can
    share one data directory, and each file contains the password of another
    database's admin.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    stem, suffix = ADMIN_PASSWORD_FILE.rsplit(".", 1)
    number = 1
    while True:
        path = data_dir / (ADMIN_PASSWORD_FILE if number == 1 else f"{stem}-{number}.{suffix}")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            number += 1
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(path, 0o600)
        return path
