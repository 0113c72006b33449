"""Engine creation, per-dialect connection settings, migrations and slow-query logging.

Three backends are supported: SQLite (`sqlite:///PATH`), PostgreSQL
(`postgresql://`, driven by psycopg 3) and MariaDB/MySQL (`mysql://` or
`mariadb://`, driven by PyMySQL). docs/deploy.md compares them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import weakref
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

log = logging.getLogger("aios_records.storage")
slow_log = logging.getLogger("aios_records.slow_query")

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

# How long a SQLite writer waits for another writer's lock before failing.
SQLITE_BUSY_TIMEOUT_MS = 5000
# Seconds a SQLite writer waits for the other writers of its own process.
SQLITE_PROCESS_WRITE_TIMEOUT_S = 30
# One lock per SQLite engine that queues the writers of this process; see
# `write_transaction`.
_sqlite_write_locks: weakref.WeakKeyDictionary[sa.Engine, threading.Lock] = (
    weakref.WeakKeyDictionary())


# Seconds to wait for a PostgreSQL or MariaDB connection before failing.
CONNECT_TIMEOUT_S = 5
# Maximum run time of one statement under `serve` on PostgreSQL and MariaDB,
# in seconds. PostgreSQL 15 can take minutes to plan many nested expansions.
SERVE_STATEMENT_TIMEOUT_S = 60
# Connections each server process keeps open to the database.
DEFAULT_POOL_SIZE = 8

# Key of the PostgreSQL advisory lock and name of the MariaDB named lock that
# serialize write transactions, as SQLite's BEGIN IMMEDIATE does.
WRITE_LOCK_KEY = 0x41494F53
WRITE_LOCK_NAME = "aios_records_write"
# Seconds a MariaDB writer waits for the write lock before failing.
WRITE_LOCK_TIMEOUT_S = 30

# Driver for each URL scheme a user may write.
_DRIVERS = {
    "sqlite": "sqlite",
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
}


class SchemaOutdated(RuntimeError):
    """The database has an older schema revision than this version of the code."""


def sqlite_url_for(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'aios-records.sqlite3'}"


def normalize_url(url: str) -> sa.engine.URL:
    """Parse `url` and choose this project's driver for its scheme.

    Raises ValueError for schemes other than sqlite, postgresql, mysql and mariadb.
    """
    parsed = sa.engine.make_url(url)
    backend = parsed.get_backend_name()
    if backend not in _DRIVERS:
        raise ValueError(
            f"unsupported database URL {parsed.render_as_string(hide_password=True)!r}: "
            "use sqlite:///PATH, postgresql://USER:PASSWORD@HOST/DATABASE "
            "or mysql://USER:PASSWORD@HOST/DATABASE"
        )
    parsed = parsed.set(drivername=_DRIVERS[backend])
    if parsed.get_backend_name() == "mysql":
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    return parsed


def create_engine(url: str, slow_query_ms: float | None = None,
                  statement_timeout_s: int | None = None,
                  pool_size: int = DEFAULT_POOL_SIZE,
                  sqlite_max_pages: int | None = None) -> sa.Engine:
    """Create an engine for `url`, set up for the transactions `write_transaction` expects.

    `statement_timeout_s` cancels longer statements on PostgreSQL and MariaDB
    (not MySQL or SQLite), so one runaway query cannot hold a connection.
    `pool_size` connections stay open; as many again may open under load.
    `sqlite_max_pages` caps a SQLite file at that many pages (PRAGMA
    max_page_count); writes that need more fail as on a full disk.
    """
    parsed = normalize_url(url)
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        connect_args: dict[str, object] = {"connect_timeout": CONNECT_TIMEOUT_S}
        if statement_timeout_s:
            connect_args["options"] = f"-c statement_timeout={statement_timeout_s * 1000}"
        # REPEATABLE READ gives every read transaction one snapshot, as SQLite's
        # BEGIN does; `write_transaction` switches to READ COMMITTED.
        engine = sa.create_engine(
            parsed, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True,
            isolation_level="REPEATABLE READ", connect_args=connect_args,
        )
    elif backend == "mysql":
        # ANSI_QUOTES lets hand-written SQL quote camelCase names with double
        # quotes on every backend. MariaDB runs the /*M! ... */ part and MySQL
        # skips it.
        init = "SET time_zone = '+00:00', sql_mode = CONCAT(@@sql_mode, ',ANSI_QUOTES')"
        if statement_timeout_s:
            init += f" /*M! , max_statement_time = {int(statement_timeout_s)} */"
        engine = sa.create_engine(
            parsed, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True,
            pool_recycle=3600,
            isolation_level="REPEATABLE READ",
            connect_args={"connect_timeout": CONNECT_TIMEOUT_S, "init_command": init},
        )
    else:
        engine = _create_sqlite_engine(parsed, pool_size, sqlite_max_pages)
    if slow_query_ms is not None:
        _log_slow_queries(engine, slow_query_ms)
    return engine


def _create_sqlite_engine(parsed: sa.engine.URL, pool_size: int,
                          max_pages: int | None) -> sa.Engine:
    if parsed.database and parsed.database != ":memory:":
        path = Path(parsed.database).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        # The database stores live session ids, so a new file is readable by
        # its owner only; SQLite gives the -wal and -shm files the same mode.
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    engine = sa.create_engine(
        parsed, pool_size=pool_size, max_overflow=3 * pool_size, pool_pre_ping=False,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
    )
    _sqlite_write_locks[engine] = threading.Lock()
    _configure_sqlite(engine, max_pages)
    return engine


def _configure_sqlite(engine: sa.Engine, max_pages: int | None = None) -> None:
    """Turn on WAL and let SQLAlchemy, not pysqlite, issue BEGIN.

    pysqlite opens transactions lazily and never for SELECT, so two reads on
    one connection could see different snapshots. Disabling its handling and
    emitting BEGIN ourselves (the recipe in SQLAlchemy's SQLite dialect docs)
    makes every `engine.begin()` block one consistent snapshot, which the
    streamed replies rely on to keep `schema` and rows in step.
    """

    @sa.event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        if max_pages is not None:
            # PRAGMA takes no bound parameters; int() keeps the text a number.
            # SQLite raises a limit below the file's current size to that size.
            cursor.execute(f"PRAGMA max_page_count={int(max_pages)}")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def on_begin(connection):
        if connection.get_execution_options().get("write"):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            # A deferred BEGIN takes no lock and reads nothing, because SQLite
            # locks at the first read. A busy or unreadable database therefore
            # fails the next statement, which SQLAlchemy wraps as usual. Sent
            # to the driver directly, BEGIN skips SQLAlchemy's statement
            # machinery, about 20 microseconds of CPU per request.
            connection.connection.dbapi_connection.execute("BEGIN")


# Driver errors that mean the database has no room left: SQLite's
# SQLITE_FULL (also at PRAGMA max_page_count), PostgreSQL's SQLSTATE 53100
# disk_full, and MariaDB's ER_DISK_FULL (1021) and ER_RECORD_FILE_FULL (1114).
SQLITE_FULL = 13
POSTGRESQL_DISK_FULL = "53100"
MARIADB_FULL_ERRORS = frozenset({1021, 1114})


def is_storage_full(error: sa.exc.DBAPIError) -> bool:
    """Tell whether a database error means that the database or its disk is full.

    NOTE: only SQLite's case is tested (through max_page_count); the
    PostgreSQL and MariaDB codes come from their error code lists.
    """
    original = error.orig
    if getattr(original, "sqlite_errorcode", None) == SQLITE_FULL:
        return True
    if getattr(original, "sqlstate", None) == POSTGRESQL_DISK_FULL:
        return True
    args = getattr(original, "args", ())
    return bool(args) and isinstance(args[0], int) and args[0] in MARIADB_FULL_ERRORS


@contextlib.contextmanager
def write_transaction(engine: sa.Engine) -> Iterator[sa.Connection]:
    """Open a transaction that holds the database's single write lock.

    Writers run one at a time on every backend, so a read-check-write such as
    login's live-session count or an idempotent create by uuid sees every
    earlier commit. On SQLite the lock is taken by BEGIN IMMEDIATE: a deferred
    transaction that reads and then writes fails at once with SQLITE_BUSY when
    another writer committed in between. PostgreSQL takes a transaction-level
    advisory lock and MariaDB a named lock, both under READ COMMITTED so every
    statement after the lock sees the previous writer's commit.
    """
    if engine.dialect.name == "sqlite":
        # The connection comes before the mutex, as in `write_transaction_on`:
        # a mutex holder waiting for a connection held by a thread waiting for
        # the mutex would deadlock.
        with engine.connect() as connection, _sqlite_process_write_lock(engine):
            connection.execution_options(write=True)
            with connection.begin():
                yield connection
        return
    with engine.connect() as connection:
        _set_isolation(connection, "READ COMMITTED")
        with _locked_transaction(connection):
            yield connection


@contextlib.contextmanager
def write_transaction_on(connection: sa.Connection) -> Iterator[sa.Connection]:
    """Run a write transaction, as `write_transaction` does, on a connection the caller has checked out.

    A caller that has a pooled connection must not take a second one, because when
    every connection of the pool is held by a request waiting for another,
    none returns until the pool timeout. This ends the caller's open
    transaction, which must not have written anything, and afterwards gives
    the connection back its read settings, so the caller's next statement
    starts a new read transaction.
    """
    if connection.in_transaction():
        connection.rollback()
    if connection.dialect.name == "sqlite":
        with _sqlite_process_write_lock(connection.engine):
            connection.execution_options(write=True)
            try:
                with connection.begin():
                    yield connection
            finally:
                connection.execution_options(write=False)
        return
    _set_isolation(connection, "READ COMMITTED")
    try:
        with _locked_transaction(connection):
            yield connection
    finally:
        if not connection.invalidated:
            try:
                _set_isolation(connection, connection.default_isolation_level)
            except sa.exc.DBAPIError as error:
                # The transaction has ended (committed, or rolled back by an
                # error that is on its way up), so this failure must not be
                # reported as the write's. `_set_isolation` has invalidated
                # the connection, so the pool drops it.
                log.warning("restoring the read isolation level after a write failed: %s",
                            error.orig)


def _set_isolation(connection: sa.Connection, level: str) -> None:
    """Set the isolation level of `connection`, raising driver errors as SQLAlchemy's.

    SQLAlchemy runs the SET statement on the driver's cursor without its usual
    error wrapping, so a connection the server dropped would raise the driver's
    own OperationalError, which the HTTP layer does not know as a database
    failure. The dead connection is invalidated so the pool does not hand it out again.
    """
    driver_error = connection.dialect.loaded_dbapi.Error
    try:
        connection.execution_options(isolation_level=level)
    except driver_error as error:
        connection.invalidate(error)
        raise sa.exc.DBAPIError.instance(
            None, None, error, driver_error, connection_invalidated=True,
            dialect=connection.dialect) from error


@contextlib.contextmanager
def _locked_transaction(connection: sa.Connection) -> Iterator[None]:
    """Begin a transaction holding PostgreSQL's advisory lock or MariaDB's named lock."""
    if connection.dialect.name == "mysql":
        with _mysql_write_lock(connection):
            with connection.begin():
                yield
        return
    with connection.begin():
        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(WRITE_LOCK_KEY)))
        yield


@contextlib.contextmanager
def _sqlite_process_write_lock(engine: sa.Engine) -> Iterator[None]:
    """Queue the SQLite writers of this process on a mutex before BEGIN IMMEDIATE.

    SQLite's busy handler polls with sleeps of up to 100 ms, so under many
    concurrent writers one of them could lose every race for 5 s and fail.
    bench/soak.py saw 40 of 29,000 writes fail that way with 64 clients. A
    mutex hands the lock to a waiting thread as soon as it is free. The busy
    timeout still applies between processes.
    """
    lock = _sqlite_write_locks.get(engine)
    if lock is None:
        yield
        return
    if not lock.acquire(timeout=SQLITE_PROCESS_WRITE_TIMEOUT_S):
        raise sa.exc.OperationalError(
            "BEGIN IMMEDIATE", None,
            TimeoutError(f"timed out after {SQLITE_PROCESS_WRITE_TIMEOUT_S} s waiting for "
                         "the other writers of this process"))
    try:
        yield
    finally:
        lock.release()


@contextlib.contextmanager
def _mysql_write_lock(connection: sa.Connection) -> Iterator[None]:
    """Hold the MariaDB/MySQL named write lock until after the caller's commit.

    GET_LOCK belongs to the connection, not the transaction, so it is released
    only once the transaction has committed or rolled back. Released earlier,
    the next writer could read before this one's commit.
    """
    with connection.begin():
        got = connection.execute(
            sa.select(sa.func.get_lock(WRITE_LOCK_NAME, WRITE_LOCK_TIMEOUT_S))).scalar()
    if got != 1:
        raise sa.exc.OperationalError(
            "SELECT GET_LOCK(...)", None,
            TimeoutError(f"timed out after {WRITE_LOCK_TIMEOUT_S} s waiting for the "
                         f"write lock {WRITE_LOCK_NAME!r}"))
    try:
        yield
    finally:
        try:
            with connection.begin():
                connection.execute(sa.select(sa.func.release_lock(WRITE_LOCK_NAME)))
        except sa.exc.DBAPIError as error:
            # MariaDB releases the lock itself when the connection closes.
            log.error("releasing the write lock failed: %s", error)
            connection.invalidate()


def _log_slow_queries(engine: sa.Engine, threshold_ms: float) -> None:
    """Log statements slower than `threshold_ms` at warning, without parameter values.

    Parameters are left out because they can hold session ids and password hashes.
    """

    @sa.event.listens_for(engine, "before_cursor_execute")
    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info.setdefault("query_start", []).append(time.perf_counter())

    @sa.event.listens_for(engine, "after_cursor_execute")
    def after(conn, cursor, statement, parameters, context, executemany):
        elapsed_ms = (time.perf_counter() - conn.info["query_start"].pop()) * 1000
        if elapsed_ms >= threshold_ms:
            slow_log.warning("slow query took %.1f ms: %s", elapsed_ms, " ".join(statement.split()))


def _alembic_config(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(engine: sa.Engine) -> None:
    """Migrate the database to the newest schema revision."""
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "head")


def prepare_schema(engine: sa.Engine) -> None:
    """Create the schema in a new, empty database, or check that it is current.

    Raises SchemaOutdated when the database is at an older revision, so that
    upgrading stays an explicit step (`aios-records db upgrade`), taken once
    while no server runs.
    """
    current, head = current_revision(engine), head_revision()
    if current == head:
        return
    if current is None and not sa.inspect(engine).get_table_names():
        upgrade(engine)
        return
    raise SchemaOutdated(
        f"the database schema is at revision {current or 'none'} but this version needs "
        f"{head}; stop every server and run 'aios-records db upgrade' with the same "
        "--database-url, then start the server again"
    )


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()
