"""Engine creation, per-connection SQLite settings, migrations and slow-query logging."""

from __future__ import annotations

import contextlib
import logging
import time
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


def sqlite_url_for(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'aios-records.sqlite3'}"


def create_engine(url: str, slow_query_ms: float | None = None) -> sa.Engine:
    """Create an engine for `url`, with SQLite set up for WAL and real transactions."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        raise ValueError(
            f"unsupported database URL {parsed.render_as_string(hide_password=True)!r}: "
            "this version supports sqlite:///PATH only"
        )

    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(
        parsed, pool_size=8, max_overflow=24, pool_pre_ping=False,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
    )
    _configure_sqlite(engine)
    if slow_query_ms is not None:
        _log_slow_queries(engine, slow_query_ms)
    return engine


def _configure_sqlite(engine: sa.Engine) -> None:
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
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def on_begin(connection):
        if connection.get_execution_options().get("write"):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


@contextlib.contextmanager
def write_transaction(engine: sa.Engine) -> Iterator[sa.Connection]:
    """Open a transaction that takes SQLite's write lock at BEGIN.

    A deferred transaction that reads and then writes fails at once with
    SQLITE_BUSY when another writer committed in between; taking the lock up
    front makes it wait for `busy_timeout` instead.
    """
    with engine.connect() as connection:
        connection.execution_options(write=True)
        with connection.begin():
            yield connection


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


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()
