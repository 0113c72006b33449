"""Record the SQL a real `aios-records serve` runs, then time that SQL without HTTP.

Usage:
  python bench/sql_capture.py serve CAPTURE_FILE SERVE_ARGS...
      Run `aios-records serve SERVE_ARGS...` with every SELECT on the record
      table appended to CAPTURE_FILE as one JSON line: {"statement", "parameters"}.
  python bench/sql_capture.py time DATABASE_URL PLAN_FILE RESULT_FILE SECONDS THREADS
      PLAN_FILE maps scenario names to {"statements": [such statements],
      "concurrent": true or false}. Each
      scenario's statements run in order on driver connections of an engine
      made by aios-records itself (so SQLite gets the same PRAGMAs as the
      server), with every row fetched. First one connection runs them for
      about SECONDS, which gives the median and p99 ms of one execution.
      Then THREADS threads, one connection each, run them for about SECONDS
      together, when "concurrent" is true, which gives the wall-clock ms and
      the CPU ms per execution under the same concurrency as the loaded
      server.
      RESULT_FILE gets these figures per scenario.

Only statements on `TrainedModelRecordVO` are recorded. Session lookups and
renewals are left out: the benchmark compares the cost of a query with the
cost of its SQL. Parameters reach the driver exactly as SQLAlchemy bound them.
"""

from __future__ import annotations

import json
import math
import statistics
import sys
import threading
import time

import sqlalchemy as sa

RECORD_TABLE = "TrainedModelRecordVO"
FETCH_ROWS = 2000
MAX_ITERATIONS = 500


def _install_listener(capture_path: str) -> None:
    # Line-buffered, so each statement reaches the file before the reply is sent.
    capture = open(capture_path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115
    lock = threading.Lock()

    def before_cursor_execute(conn, cursor, statement, parameters, context, executemany):
        if RECORD_TABLE not in statement or not statement.lstrip().upper().startswith("SELECT"):
            return
        if isinstance(parameters, tuple):
            parameters = list(parameters)
        line = json.dumps({"statement": statement, "parameters": parameters}, default=str)
        with lock:
            capture.write(line + "\n")

    # A listener on the Engine class applies to every engine the server creates.
    sa.event.listen(sa.engine.Engine, "before_cursor_execute", before_cursor_execute)


def serve(capture_path: str, serve_args: list[str]) -> None:
    _install_listener(capture_path)
    from aios_records.commands import main

    main(["serve", *serve_args])


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def _run_statements(cursor, statements: list[dict]) -> None:
    for item in statements:
        parameters = item["parameters"]
        if isinstance(parameters, list):
            parameters = tuple(parameters)
        cursor.execute(item["statement"], parameters)
        while cursor.fetchmany(FETCH_ROWS):
            pass


def _time_one_connection(engine, statements: list[dict], seconds: float) -> dict:
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        _run_statements(cursor, statements)  # warm-up, not measured
        samples = []
        budget_end = time.perf_counter() + seconds
        while len(samples) < 3 or (time.perf_counter() < budget_end
                                   and len(samples) < MAX_ITERATIONS):
            started = time.perf_counter()
            _run_statements(cursor, statements)
            samples.append((time.perf_counter() - started) * 1000)
        cursor.close()
        # End PostgreSQL's transaction, so no snapshot outlives the scenario.
        connection.rollback()
    finally:
        connection.close()
    return {"median_ms": statistics.median(samples), "p99_ms": _percentile(samples, 0.99),
            "iterations": len(samples)}


def _time_concurrent(engine, statements: list[dict], seconds: float, threads: int) -> dict:
    """Run the statements from `threads` threads at once and return the ms per execution.

    Each thread completes at least one execution, so a statement slower than
    `seconds` still gets a figure.
    """
    completed = [0] * threads
    failures: list[BaseException] = []
    start_line = threading.Barrier(threads + 1)

    def worker(index: int) -> None:
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            start_line.wait()
            while completed[index] == 0 or time.perf_counter() < deadline:
                _run_statements(cursor, statements)
                completed[index] += 1
            cursor.close()
            connection.rollback()
        except BaseException as error:  # reported by the caller, after join()
            failures.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in workers:
        thread.start()
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()
    cpu_started = time.process_time()
    start_line.wait()
    for thread in workers:
        thread.join()
    elapsed = time.perf_counter() - started
    cpu_used = time.process_time() - cpu_started
    if failures:
        raise failures[0]
    executions = sum(completed)
    # process_time() counts every thread of this process, in user and system mode.
    return {"concurrent_ms": elapsed * 1000 / executions, "threads": threads,
            "concurrent_executions": executions,
            "concurrent_cpu_ms": cpu_used * 1000 / executions}


def time_plan(database_url: str, plan: dict[str, dict], seconds: float,
              threads: int) -> dict:
    from aios_records.storage import database

    engine = database.create_engine(database_url, pool_size=threads)
    results = {}
    try:
        for name, item in plan.items():
            results[name] = _time_one_connection(engine, item["statements"], seconds)
            if item["concurrent"]:
                results[name].update(
                    _time_concurrent(engine, item["statements"], seconds, threads))
    finally:
        engine.dispose()
    return results


def main() -> None:
    if len(sys.argv) >= 3 and sys.argv[1] == "serve":
        serve(sys.argv[2], sys.argv[3:])
    elif len(sys.argv) == 7 and sys.argv[1] == "time":
        database_url, plan_path, result_path = sys.argv[2:5]
        seconds, threads = float(sys.argv[5]), int(sys.argv[6])
        with open(plan_path, encoding="utf-8") as plan_file:
            plan = json.load(plan_file)
        results = time_plan(database_url, plan, seconds, threads)
        with open(result_path, "w", encoding="utf-8") as result_file:
            json.dump(results, result_file, indent=2)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
