"""Short SQLite reads run on the event loop, through the driver, without SQLAlchemy.

A GET by uuid or a page of an indexed list costs SQLite a few microseconds,
while a thread hand-off and SQLAlchemy's statement machinery cost several
times that. `SqliteDirectReader` runs such reads on one driver connection
of its own, as SQL that SQLAlchemy compiled once per statement.

Only reads that stay short run here, because the event loop serves every
other request meanwhile:

- the connection has no busy timeout, so a locked database fails at once;
- SQLite's progress handler aborts a statement after `STEP_BUDGET`
  virtual-machine steps, `CPU_BUDGET_S` of CPU or `WALL_BUDGET_S`, and its
  SQL is not tried here for `LONG_STATEMENT_SECONDS`. A statement that
  finishes past a limit is treated alike. A single step is never interrupted, so one very slow step (a LIKE
  on a long value) can still hold the loop for its own duration;
- the connection may not write (`PRAGMA query_only`).

Each of these raises `NotServedHere`, and the caller runs the request on the
usual path instead. WAL mode lets these reads run beside writers.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa

log = logging.getLogger("aios_records.storage")
slow_log = logging.getLogger("aios_records.slow_query")

# Limits of one statement on the event loop; past any of them, SQLite aborts it.
# On the benchmark's 1,000,000-record world a GET by uuid took about 40 steps
# and a page of 100 rows about 1,100. Steps vary widely in cost (a LIKE with
# many wildcards is one step per row), so the time limit bounds what the
# step limit cannot.
STEP_BUDGET = 200_000
# CPU time of the event loop's thread, which other processes on a busy
# machine do not inflate, and a wider wall-clock limit for reads that wait
# for the disk.
CPU_BUDGET_S = 0.002
WALL_BUDGET_S = 0.05
# Steps between two calls of the progress handler, which checks the limits.
# SQLite counts steps per prepared statement across its executions, not per
# execution, so the handler counts its calls since the current execution began.
# Slow steps (a LIKE on a long value) can pass the time limits by up to this
# many steps before the handler runs.
STEPS_PER_TICK = 200
# SQL texts that ran past a limit go to the query threads at once for this
# long, then get one more try here. A pause of the process (a GC pass, a
# busy machine, a cold page) can stop a statement that is short by nature.
LONG_STATEMENT_SECONDS = 60.0
# Past this many remembered texts, the memory starts over.
MAX_LONG_STATEMENTS = 1024
# Page cache of the event loop's connection, in KiB. SQLite's default
# (2,000 KiB) held too few pages for GETs rotating over 200 records of a
# 1,000,000-record file, so most of them waited for pread() calls. The pages
# it keeps count in the server's RSS: with 32 MiB the harness's peak RSS
# reached 153 MiB.
CACHE_KIB = 4 * 1024
# Prepared statements kept, the least recently used dropped first.
PREPARED_CACHE_SIZE = 512


class NotServedHere(Exception):
    """The read cannot run on the event loop; run it on the usual path."""


@dataclass
class PreparedRead:
    """One SELECT as driver SQL, its parameter order and its value converters."""

    sql: str
    names: tuple[str, ...]
    defaults: Mapping[str, object]
    bind_processors: Mapping[str, Callable]
    result_processors: tuple[Callable | None, ...]
    # False for SQL that SQLAlchemy must render per execution.
    servable: bool = field(default=True)

    def __post_init__(self) -> None:
        # Whether any column converts its values. Most do not on SQLite.
        self.converts = any(self.result_processors)

    def arguments(self, values: Mapping[str, object]) -> list[object]:
        """Return the positional driver arguments for `values` and the built-in defaults."""
        if not self.bind_processors:
            defaults = self.defaults
            return [values[name] if name in values else defaults[name] for name in self.names]
        arguments = []
        for name in self.names:
            value = values[name] if name in values else self.defaults[name]
            process = self.bind_processors.get(name)
            arguments.append(process(value) if process is not None and value is not None
                             else value)
        return arguments

    def convert(self, rows: list[tuple]) -> list[tuple]:
        """Apply the column types' result conversions, as SQLAlchemy would."""
        if not self.converts:
            return rows
        processors = self.result_processors
        return [tuple(value if process is None or value is None else process(value)
                      for process, value in zip(processors, row)) for row in rows]


def prepare(statement: sa.Select, dialect: sa.Dialect) -> PreparedRead:
    """Compile `statement` once for `dialect`'s driver, with positional parameters."""
    compiled = statement.compile(dialect=dialect)
    names = tuple(compiled.positiontup or ())
    if "POSTCOMPILE" in compiled.string:
        # Expanding IN lists are rendered per execution; they stay with SQLAlchemy.
        return PreparedRead(compiled.string, names, {}, {}, (), servable=False)
    bind_processors = {}
    for name in names:
        process = compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            bind_processors[name] = process
    result_processors = tuple(
        column.type.dialect_impl(dialect).result_processor(dialect, None)
        for column in statement.selected_columns
    )
    return PreparedRead(compiled.string, names, compiled.params, bind_processors,
                        result_processors)


class SqliteDirectReader:
    """Runs prepared reads on one SQLite connection owned by the event loop's thread."""

    def __init__(self, engine: sa.Engine, slow_query_ms: float | None = None) -> None:
        self.dialect = engine.dialect
        self.slow_query_s = None if slow_query_ms is None else slow_query_ms / 1000
        cargs, cparams = engine.dialect.create_connect_args(engine.url)
        cparams = {**cparams, "timeout": 0, "check_same_thread": False,
                   "isolation_level": None}
        self._connect_arguments = (cargs, cparams)
        self.connection = self._connect()
        self._ticks = 0
        # perf_counter() at the start of the running statement, None between
        # statements.
        self._started: float | None = None
        # thread_time() at the start of the running statement.
        self._cpu_started = 0.0
        # SQL text -> time.monotonic() when it last ran past a limit.
        self._long_statements: dict[str, float] = {}
        # id(statement) -> (statement, prepared read). Only the event loop's
        # thread uses the reader, so the map needs no lock.
        self._prepared: OrderedDict[int, tuple[sa.Select, PreparedRead]] = OrderedDict()

    def prepared(self, statement: sa.Select) -> PreparedRead:
        """Return the prepared form of `statement`, kept by the statement's identity."""
        key = id(statement)
        entry = self._prepared.get(key)
        if entry is not None and entry[0] is statement:
            self._prepared.move_to_end(key)
            return entry[1]
        read = prepare(statement, self.dialect)
        # The statement is kept beside its prepared form, so its id is not reused.
        self._prepared[key] = (statement, read)
        if len(self._prepared) > PREPARED_CACHE_SIZE:
            self._prepared.popitem(last=False)
        return read

    def begin(self) -> None:
        """Open a read transaction, so the statements that follow see one snapshot."""
        try:
            self.connection.execute("BEGIN")
        except sqlite3.Error as error:
            raise NotServedHere(str(error)) from error

    def end(self) -> None:
        """End the read transaction; on failure, replace the connection and raise NotServedHere.

        A connection left inside its transaction would serve its old snapshot
        to every later read.
        """
        if not self.connection.in_transaction:
            return
        try:
            self.connection.execute("ROLLBACK")
        except sqlite3.Error as error:
            log.warning("ending a read transaction on the event loop failed, so its "
                        "connection is replaced: %s", error)
            self.connection.close()
            self.connection = self._connect()
            raise NotServedHere(str(error)) from error

    def _connect(self) -> sqlite3.Connection:
        cargs, cparams = self._connect_arguments
        connection = sqlite3.connect(*cargs, **cparams)
        connection.execute("PRAGMA query_only=ON")
        connection.execute("PRAGMA busy_timeout=0")
        connection.execute(f"PRAGMA cache_size={-CACHE_KIB}")
        connection.set_progress_handler(self._tick, STEPS_PER_TICK)
        return connection

    def fetch(self, read: PreparedRead, values: Mapping[str, object]) -> list[tuple]:
        """Run `read` and return its converted rows; raise NotServedHere when it cannot run here."""
        if not read.servable:
            raise NotServedHere("SQLAlchemy renders this statement per execution")
        return self.run(read, read.arguments(values))

    def run(self, read: PreparedRead, arguments: Sequence[object]) -> list[tuple]:
        """Run a servable `read` with positional driver `arguments`, as `fetch` runs named values."""
        if self._long_statements and self.ran_long(read.sql):
            raise NotServedHere("the statement ran long before")
        self._ticks = 0
        self._started = started = time.perf_counter()
        self._cpu_started = time.thread_time()
        try:
            rows = self.connection.execute(read.sql, arguments).fetchall()
        except sqlite3.OperationalError as error:
            if str(error) == "interrupted":
                self._remember_long(read.sql)
            raise NotServedHere(str(error)) from error
        except sqlite3.Error as error:
            raise NotServedHere(str(error)) from error
        finally:
            self._started = None
        elapsed_s = time.perf_counter() - started
        # A thread's CPU time grows no faster than the wall clock, so the CPU
        # limit needs checking only when the wall clock has passed it.
        if elapsed_s > WALL_BUDGET_S or (
                elapsed_s > CPU_BUDGET_S
                and time.thread_time() - self._cpu_started > CPU_BUDGET_S):
            # One step is never interrupted (a count of a whole table is a
            # single step), so a statement can finish past a limit.
            self._remember_long(read.sql)
        if self.slow_query_s is not None and elapsed_s >= self.slow_query_s:
            # As the pooled connections log them: the statement, never its values.
            slow_log.warning("slow query took %.1f ms on the event loop: %s", elapsed_s * 1000,
                             " ".join(read.sql.split()))
        return read.convert(rows)

    def ran_long(self, sql: str) -> bool:
        """Tell whether `sql` ran past a limit recently, so it goes to the query threads."""
        since = self._long_statements.get(sql)
        return since is not None and time.monotonic() - since < LONG_STATEMENT_SECONDS

    def _remember_long(self, sql: str) -> None:
        if len(self._long_statements) >= MAX_LONG_STATEMENTS:
            self._long_statements.clear()
        self._long_statements[sql] = time.monotonic()
        # Logged once per try, because the text then stays off the loop for a while.
        log.info("a read ran past %d SQLite steps, %.0f ms of CPU or %.0f ms on the event "
                 "loop, so it runs in a query thread for the next %.0f s: %.300s",
                 STEP_BUDGET, CPU_BUDGET_S * 1000, WALL_BUDGET_S * 1000,
                 LONG_STATEMENT_SECONDS, " ".join(sql.split()))

    def _tick(self) -> int:
        """Count SQLite's progress calls; a true value makes SQLite abort the statement."""
        started = self._started
        if started is None:
            return 0
        self._ticks += 1
        elapsed_s = time.perf_counter() - started
        # As at the end of `run`: the CPU clock, a system call unlike
        # perf_counter(), is read only once the wall clock has passed the CPU limit.
        return (self._ticks * STEPS_PER_TICK > STEP_BUDGET or elapsed_s > WALL_BUDGET_S
                or (elapsed_s > CPU_BUDGET_S
                    and time.thread_time() - self._cpu_started > CPU_BUDGET_S))

    def close(self) -> None:
        self.connection.close()

