"""A smoke run of the benchmark harness (bench/run.py --smoke), so it keeps working.

The run writes a 300-record demo world, serves it with `aios-records serve`,
loads every scenario for one second (with wrk when installed, else the
Python load generator) and does the same against the floor app. Datasette
and matplotlib are not needed. On PostgreSQL the world goes into a database
of its own on the test server, dropped afterwards. MariaDB is not a
benchmark backend, so the test is skipped there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from aios_records.storage import database

from conftest import ADMIN_URL_VARIABLES, TEST_BACKEND

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
SCENARIOS = ("get_by_uuid", "list_model_date", "deep_paging", "count_indexed", "count_all",
             "cross_table", "reply_with_count", "large_reply")

pytestmark = pytest.mark.skipif(TEST_BACKEND == "mariadb",
                                reason="the benchmark runs on SQLite and PostgreSQL only")


def _bench_databases(admin_url: str) -> set[str]:
    engine = database.create_engine(admin_url, pool_size=1)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text(
                "SELECT datname FROM pg_database WHERE datname LIKE 'aios_bench_r300_%'"))
            return {row.datname for row in rows}
    finally:
        engine.dispose()


def _drop_databases(admin_url: str, names: set[str]) -> None:
    engine = sa.create_engine(database.normalize_url(admin_url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            for name in names:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def smoke_results(tmp_path_factory) -> dict:
    scratch = tmp_path_factory.mktemp("bench")
    output = scratch / "smoke.json"
    command = [sys.executable, str(BENCH / "run.py"), "--smoke", "--cache-dir",
               str(scratch / "cache"), "--output", str(output)]
    admin_url = None
    if TEST_BACKEND == "postgresql":
        admin_url = os.environ[ADMIN_URL_VARIABLES["postgresql"]]
        command += ["--no-sqlite", "--postgresql-url", admin_url]
        existing = _bench_databases(admin_url)
    try:
        finished = subprocess.run(command, capture_output=True, text=True, timeout=600,
                                  cwd=REPO)
    finally:
        if admin_url is not None:
            _drop_databases(admin_url, _bench_databases(admin_url) - existing)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    results = json.loads(output.read_text())
    results["stdout"] = finished.stdout
    return results


def test_smoke_run_covers_every_scenario(smoke_results):
    runs = smoke_results["runs"]
    assert len(runs) == 1
    assert runs[0]["records"] == 300
    assert runs[0]["backend"] == TEST_BACKEND
    assert tuple(runs[0]["scenarios"]) == SCENARIOS


@pytest.mark.parametrize("target", ["aios-records", "floor"])
def test_smoke_load_results(smoke_results, target):
    for name, entry in smoke_results["runs"][0]["scenarios"].items():
        result = entry["targets"][target]
        if entry["large"]:
            assert result["status"] == 200, name
            assert result["first_byte_s"] <= result["last_byte_s"], name
        else:
            assert result["requests"] > 0, name
            assert result["errors"] == 0, name
            assert result["requests_per_s"] > 0, name
            assert 0 < result["p50_ms"] <= result["p99_ms"], name
        assert result["peak_rss_mib"] > 0, name


def test_smoke_large_reply_sizes_match(smoke_results):
    targets = smoke_results["runs"][0]["scenarios"]["large_reply"]["targets"]
    # 300 records of about 400 bytes each, and the floor sends exactly as many bytes.
    assert targets["aios-records"]["body_bytes"] > 300 * 300
    assert targets["floor"]["body_bytes"] == targets["aios-records"]["body_bytes"]


def test_smoke_records_and_times_sql(smoke_results):
    for name, entry in smoke_results["runs"][0]["scenarios"].items():
        sql = entry["sql"]
        assert sql["statements"], name
        for statement in sql["statements"]:
            assert "TrainedModelRecordVO" in statement, name
            assert statement.lstrip().upper().startswith("SELECT"), name
        assert sql["iterations"] >= 3, name
        assert 0 < sql["median_ms"] <= sql["p99_ms"], name
        if entry["large"]:
            assert "concurrent_ms" not in sql, name
        else:
            assert sql["concurrent_ms"] > 0, name
            assert sql["concurrent_executions"] >= sql["threads"], name


def test_smoke_count_sql_is_a_count(smoke_results):
    scenarios = smoke_results["runs"][0]["scenarios"]
    for name in ("count_all", "count_indexed"):
        statements = scenarios[name]["sql"]["statements"]
        assert len(statements) == 1, name
        assert "count(" in statements[0].lower(), name
    assert "createDate" in scenarios["count_indexed"]["sql"]["statements"][0]


def test_smoke_skips_datasette(smoke_results):
    for entry in smoke_results["runs"][0]["scenarios"].values():
        assert "skipped" in entry["targets"]["datasette"]


def test_smoke_summary_lists_scenarios(smoke_results):
    for name in SCENARIOS:
        assert name in smoke_results["stdout"]


def test_report_keeps_hand_written_text(smoke_results, tmp_path):
    sys.path.insert(0, str(BENCH))
    try:
        import report
    finally:
        sys.path.remove(str(BENCH))
    page = tmp_path / "benchmarks.md"
    page.write_text(f"# Benchmarks\n\nbefore\n\n{report.BEGIN}\nold\n{report.END}\n\nafter\n")
    report.update_docs(smoke_results, page, tmp_path / "smoke.json")
    text = page.read_text()
    assert text.startswith("# Benchmarks\n\nbefore\n\n")
    assert text.endswith("\n\nafter\n")
    assert "\nold\n" not in text
    for entry in smoke_results["runs"][0]["scenarios"].values():
        assert f"`{entry['label']}`" in text
