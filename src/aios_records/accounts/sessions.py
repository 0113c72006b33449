"""Login sessions stored in `SessionVO`, with ZStack's sliding expiry.

Sessions live in the database, not in process memory, so any server process
sharing the database accepts a session made by another.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from ..clock import Clock
from ..errors import ApiError, invalid_session
from ..storage.database import write_transaction
from ..storage.schema import account_table, session_table
from ..storage.types import from_db_time, to_db_time
from .passwords import verify_against_dummy, verify_password

log = logging.getLogger("aios_records.sessions")


@dataclass(frozen=True)
class Session:
    uuid: str
    account_uuid: str
    user_uuid: str
    expired_date: datetime
    create_date: datetime


def new_uuid() -> str:
    """Return 32 lower-case hex characters from a cryptographic source."""
    return secrets.token_hex(16)


class SessionManager:
    """Creates, checks, renews and removes sessions."""

    def __init__(self, engine: sa.Engine, timeout_seconds: int, max_sessions: int,
                 clock: Clock | None = None) -> None:
        self.engine = engine
        self.timeout = timedelta(seconds=timeout_seconds)
        self.max_sessions = max_sessions
        self.clock = clock or Clock()
        # The stored expiry is rewritten only when it would move by more than
        # this, so most requests cost no database write.
        self.renew_step = timedelta(seconds=min(60.0, timeout_seconds / 10))

    def login(self, account_name: str, password_sha512: str) -> Session:
        """Authenticate and open a session; raise ID.1000 or ID.1006."""
        with self.engine.connect() as conn:
            account = conn.execute(
                sa.select(account_table.c.uuid, account_table.c.password)
                .where(account_table.c.name == account_name)
            ).first()
        if account is None:
            verify_against_dummy(password_sha512)
            log.info("login failed: unknown account name")
            raise ApiError("ID.1000", "wrong_credentials")
        if not verify_password(password_sha512, account.password):
            log.info("login failed: wrong password for account %s", account.uuid)
            raise ApiError("ID.1000", "wrong_credentials")

        with write_transaction(self.engine) as conn:
            now = self.clock.now()
            live = conn.execute(
                sa.select(sa.func.count()).select_from(session_table).where(
                    session_table.c.accountUuid == account.uuid,
                    session_table.c.expiredDate > to_db_time(now),
                )
            ).scalar_one()
            if live >= self.max_sessions:
                log.warning("login rejected: account %s has %d live sessions", account.uuid, live)
                raise ApiError("ID.1006", "max_sessions", account_uuid=account.uuid,
                               limit=self.max_sessions)

            session = Session(new_uuid(), account.uuid, account.uuid, now + self.timeout, now)
            conn.execute(session_table.insert().values(
                uuid=session.uuid,
                accountUuid=session.account_uuid,
                userUuid=session.user_uuid,
                expiredDate=to_db_time(session.expired_date),
                createDate=to_db_time(now),
                lastOpDate=to_db_time(now),
            ))
        log.info("account %s logged in", account.uuid)
        return session

    def check(self, conn: sa.Connection, session_uuid: str) -> str:
        """Return the account uuid of a live session, renewing it; raise ID.1001 otherwise."""
        if not session_uuid:
            raise invalid_session()
        row = conn.execute(
            sa.select(session_table.c.accountUuid, session_table.c.expiredDate)
            .where(session_table.c.uuid == session_uuid)
        ).first()
        if row is None:
            raise invalid_session()

        now = self.clock.now()
        expired_date = from_db_time(row.expiredDate)
        if expired_date <= now:
            with write_transaction(self.engine) as writer:
                writer.execute(
                    session_table.delete().where(session_table.c.uuid == session_uuid)
                )
            log.info("session of account %s expired and was removed", row.accountUuid)
            raise invalid_session()

        renewed = now + self.timeout
        if renewed - expired_date > self.renew_step:
            with write_transaction(self.engine) as writer:
                writer.execute(
                    session_table.update()
                    .where(session_table.c.uuid == session_uuid)
                    .values(expiredDate=to_db_time(renewed), lastOpDate=to_db_time(now))
                )
        return row.accountUuid

    def is_valid(self, session_uuid: str) -> bool:
        """Tell whether a session is live, without renewing it."""
        with self.engine.connect() as conn:
            expired_date = conn.execute(
                sa.select(session_table.c.expiredDate).where(session_table.c.uuid == session_uuid)
            ).scalar()
        return expired_date is not None and from_db_time(expired_date) > self.clock.now()

    def logout(self, session_uuid: str) -> None:
        """End a session; an unknown uuid is a silent no-op."""
        with write_transaction(self.engine) as conn:
            deleted = conn.execute(
                session_table.delete().where(session_table.c.uuid == session_uuid)
            ).rowcount
        if deleted:
            log.info("a session was logged out")

    def remove_expired(self) -> int:
        """Delete every expired session and return how many there were."""
        with write_transaction(self.engine) as conn:
            removed = conn.execute(
                session_table.delete().where(
                    session_table.c.expiredDate <= to_db_time(self.clock.now())
                )
            ).rowcount
        if removed:
            log.info("removed %d expired sessions", removed)
        return removed
