"""Login sessions stored in `SessionVO`, with ZStack's sliding expiry.

Sessions live in the database, not in process memory, so any server process
sharing the database accepts a session made by another.
"""

from __future__ import annotations

import logging
import math
import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from ..clock import Clock
from ..errors import ApiError, invalid_session
from ..storage.database import write_transaction, write_transaction_on
from ..storage.schema import account_table, session_table
from ..storage.types import from_db_time, to_db_time
from .passwords import verify_against_dummy, verify_password

log = logging.getLogger("aios_records.sessions")

# Session verdicts `current_account` keeps before it starts over.
MAX_KEPT_VERDICTS = 4096

# Built once, because constructing this SELECT and its cache key costs more
# CPU than running it, and every API request checks a session.
SESSION_LOOKUP = (
    sa.select(session_table.c.accountUuid, session_table.c.expiredDate)
    .where(session_table.c.uuid == sa.bindparam("session_uuid"))
)

# The expiry of one session if it belongs to one account, else NULL, as a
# column that a query's SELECT can carry, so that one statement reads the
# session and the page (http/inline.py). The names stay clear of the query
# compiler's parameter names.
SESSION_PROBE_UUID = "probe_session_uuid"
SESSION_PROBE_ACCOUNT = "probe_session_account"
SESSION_PROBE = (
    sa.select(session_table.c.expiredDate)
    .where(session_table.c.uuid == sa.bindparam(SESSION_PROBE_UUID),
           session_table.c.accountUuid == sa.bindparam(SESSION_PROBE_ACCOUNT))
    .scalar_subquery()
    .label("probe_session_expiry")
)


@dataclass(frozen=True)
class Session:
    uuid: str
    account_uuid: str
    user_uuid: str
    expired_date: datetime
    create_date: datetime


@dataclass
class _Renewal:
    """A renewal this process started: the expiry it read, the one it writes, and when."""
    seen: datetime
    stored: datetime
    # time.monotonic() after the commit, None while the write runs.
    committed_at: float | None = None


def _may_exist(session_uuid: str) -> bool:
    """Tell whether a session uuid is worth looking up.

    An empty one never is, and one containing NUL cannot be stored, while
    PostgreSQL would fail to bind it instead of finding nothing.
    """
    return bool(session_uuid) and "\x00" not in session_uuid


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
        # The last renewal of each session started by this process. Requests
        # of one session that run at once all read the old expiry, and without
        # this each of them wrote the same renewal, queueing on the write lock.
        self._renewals: dict[str, _Renewal] = {}
        self._renewals_lock = threading.Lock()
        # (session uuid, stored expiry) -> (account uuid, `_live_until` of the
        # expiry), so a request whose session row is unchanged judges it by
        # one comparison of numbers instead of parsing and date arithmetic.
        self._verdicts: dict[tuple, tuple[str, int]] = {}

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
        if not _may_exist(session_uuid):
            raise invalid_session()
        read_at = time.monotonic()
        row = conn.execute(SESSION_LOOKUP, {"session_uuid": session_uuid}).first()
        if row is None:
            raise invalid_session()

        now = self.clock.now()
        expired_date = from_db_time(row.expiredDate)
        # The writes below run on `conn`: a second pooled connection could
        # deadlock when every connection is held by a request renewing its session.
        if expired_date <= now:
            with write_transaction_on(conn) as writer:
                writer.execute(
                    session_table.delete().where(session_table.c.uuid == session_uuid)
                )
            self._forget_renewal(session_uuid)
            log.info("session of account %s expired and was removed", row.accountUuid)
            raise invalid_session()

        renewed = now + self.timeout
        if renewed - expired_date > self.renew_step:
            self._renew(conn, session_uuid, row.accountUuid, expired_date, now, read_at)
        return row.accountUuid

    def current_account(self, session_uuid: str, row: Sequence | None) -> str | None:
        """Judge a session row read elsewhere, without writing.

        `row` contains the `accountUuid` and `expiredDate` columns of
        `SESSION_LOOKUP` for `session_uuid`, or is None when no row matched.
        Returns the account uuid of a live session that needs no renewal,
        None when the session must be renewed or removed (call `check`), and
        raises ID.1001 for an unknown session.
        """
        if row is None or not _may_exist(session_uuid):
            raise invalid_session()
        account_uuid, stored_expiry = row
        key = (session_uuid, stored_expiry)
        verdict = self._verdicts.get(key)
        if verdict is None:
            verdict = (account_uuid, self._live_until(stored_expiry))
            if len(self._verdicts) >= MAX_KEPT_VERDICTS:
                self._verdicts.clear()
            self._verdicts[key] = verdict
        if verdict[0] != account_uuid or self.clock.seconds() >= verdict[1]:
            return None
        return account_uuid

    def _live_until(self, stored_expiry) -> int:
        """Return the POSIX second from which a session row with `stored_expiry` needs `check`.

        `check` reads the time in whole seconds, so before this second the
        session is live and its expiry too recent to renew: the clock's
        second is before the expiry and at most `renew_step` past the
        expiry minus `timeout`.
        """
        # In POSIX seconds, because datetime arithmetic overflows for an
        # expiry within `timeout` of year 1, as a hand-edited row may hold.
        expiry = from_db_time(stored_expiry).timestamp()
        renew_from = expiry - self.timeout.total_seconds() + self.renew_step.total_seconds()
        return min(math.ceil(expiry), math.floor(renew_from) + 1)

    def _renew(self, conn: sa.Connection, session_uuid: str, account_uuid: str,
               expired_date: datetime, now: datetime, read_at: float) -> None:
        """Write the session's new expiry unless a request of this process already does.

        Skipping is safe because the caller found the stored expiry still in
        the future. A failed write drops its claim, so a later request retries.
        """
        renewed = now + self.timeout
        with self._renewals_lock:
            earlier = self._renewals.get(session_uuid)
            # A row read before that renewal committed still shows the expiry
            # it replaces. A row read later showing that old value again was
            # rewritten elsewhere, by another process or by hand, so it is renewed.
            if (earlier is not None and expired_date == earlier.seen
                    and renewed - earlier.stored <= self.renew_step
                    and (earlier.committed_at is None or read_at < earlier.committed_at)):
                return
            claim = _Renewal(seen=expired_date, stored=renewed)
            self._renewals[session_uuid] = claim
        try:
            with write_transaction_on(conn) as writer:
                writer.execute(
                    session_table.update()
                    .where(session_table.c.uuid == session_uuid)
                    .values(expiredDate=to_db_time(renewed), lastOpDate=to_db_time(now))
                )
        except BaseException:
            with self._renewals_lock:
                if self._renewals.get(session_uuid) is claim:
                    del self._renewals[session_uuid]
            raise
        with self._renewals_lock:
            claim.committed_at = time.monotonic()
        log.debug("session of account %s renewed until %s", account_uuid, to_db_time(renewed))

    def _forget_renewal(self, session_uuid: str) -> None:
        with self._renewals_lock:
            self._renewals.pop(session_uuid, None)

    def is_valid(self, session_uuid: str) -> bool:
        """Tell whether a session is live, without renewing it."""
        if not _may_exist(session_uuid):
            return False
        with self.engine.connect() as conn:
            expired_date = conn.execute(
                sa.select(session_table.c.expiredDate).where(session_table.c.uuid == session_uuid)
            ).scalar()
        return expired_date is not None and from_db_time(expired_date) > self.clock.now()

    def logout(self, session_uuid: str) -> None:
        """End a session; an unknown uuid is a silent no-op."""
        if not _may_exist(session_uuid):
            return
        with write_transaction(self.engine) as conn:
            deleted = conn.execute(
                session_table.delete().where(session_table.c.uuid == session_uuid)
            ).rowcount
        self._forget_renewal(session_uuid)
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
        with self._renewals_lock:
            now = self.clock.now()
            self._renewals = {uuid: renewal for uuid, renewal in self._renewals.items()
                              if renewal.stored > now}
        if removed:
            log.info("removed %d expired sessions", removed)
        return removed
