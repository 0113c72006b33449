"""The `aios-records` command line: help, options, environment variables, demo data, logs."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import stat
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import (
    ADMIN_PASSWORD,
    TEST_BACKEND,
    Server,
    database_url_for,
    free_port,
    launch_server,
    run_cli,
    sha512,
)

from aios_records.commands import serve
from aios_records.demo import EXAMPLE_RECORD_UUID
from aios_records.storage import database

RECORDS = "/v1/ai/trained-model/records"
ADMIN_PASSWORD_FILE = "admin-password.txt"
CLI_TIMEOUT = 60


def console_script() -> str:
    """Return the path of the installed `aios-records` script."""
    beside_python = Path(sys.executable).with_name("aios-records")
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("aios-records")
    assert found, "the aios-records script is not installed; run pip install -e ."
    return found


def run_script(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([console_script(), *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=CLI_TIMEOUT)


def select_column(database_url: str, sql: str) -> list:
    engine = database.create_engine(database_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(sql)).scalars())
    finally:
        engine.dispose()


def record_total(server: Server) -> int:
    reply = server.get(f"{RECORDS}?count=true")
    assert reply.status == 200, reply.text
    return reply.json()["total"]


def serve_option_names() -> list[str]:
    return [opt for param in serve.params for opt in param.opts if opt.startswith("--")]


# -- help ---------------------------------------------------------------------


def test_main_help():
    result = run_script("--help")
    assert result.returncode == 0, result.stderr
    for command in ("serve", "demo-data", "db"):
        assert re.search(rf"^\s+{command}\s", result.stdout, re.MULTILINE), command


def test_serve_help_options():
    result = run_script("serve", "--help")
    assert result.returncode == 0, result.stderr
    documented = ["--host", "--port", "--context-path", "--data-dir", "--database-url",
                  "--time-zone", "--locale", "--session-timeout", "--max-sessions",
                  "--slow-query-ms", "--log-level", "--admin-password", "--demo"]
    for option in sorted(set(documented) | set(serve_option_names())):
        assert re.search(rf"^\s+{option}\b", result.stdout, re.MULTILINE), option


def test_serve_help_names_environment():
    result = run_script("serve", "--help")
    assert result.returncode == 0, result.stderr
    assert "AIOS_RECORDS_PORT" in result.stdout


def test_serve_env_var_names():
    for param in serve.params:
        expected = "AIOS_RECORDS_" + param.opts[0].lstrip("-").replace("-", "_").upper()
        assert param.envvar == expected, param.opts


# -- configuration errors -----------------------------------------------------


@pytest.mark.parametrize("args, env, named", [
    (["--time-zone", "Mars/Olympus_Mons"], {}, "Mars/Olympus_Mons"),
    (["--time-zone", "../../etc/passwd"], {}, "../../etc/passwd"),
    ([], {"AIOS_RECORDS_TIME_ZONE": "Not/A_Zone"}, "Not/A_Zone"),
    (["--port", "70000"], {}, "--port"),
    (["--session-timeout", "0"], {}, "--session-timeout"),
    (["--max-sessions", "-3"], {}, "--max-sessions"),
    (["--locale", "fr_FR"], {}, "--locale"),
    (["--log-level", "loud"], {}, "--log-level"),
])
def test_serve_bad_option(tmp_path, args, env, named):
    result = run_script("serve", "--data-dir", str(tmp_path), "--port", str(free_port()),
                        *args, env=env)
    assert result.returncode == 2
    assert named in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_time_zone_message(tmp_path):
    result = run_script("serve", "--data-dir", str(tmp_path), "--time-zone", "Asia/Shanghia")
    assert result.returncode == 2
    assert "time zone" in result.stderr
    assert "Asia/Shanghia" in result.stderr


# -- admin password -----------------------------------------------------------


def test_generated_password(make_server, tmp_path):
    data_dir = tmp_path / "generated"
    server = make_server(data_dir=data_dir)
    password_file = data_dir / ADMIN_PASSWORD_FILE
    assert password_file.exists()
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600

    password = password_file.read_text(encoding="utf-8").strip()
    assert len(password) >= 16
    assert server.login("admin", password).status == 200
    assert server.login("admin", "password").status == 503

    server.stop()
    first_log = server.log_text()
    assert first_log.count(password) == 1

    restarted = make_server(data_dir=data_dir)
    assert restarted.login("admin", password).status == 200
    restarted.stop()
    assert password not in restarted.log_text()
    assert password_file.read_text(encoding="utf-8").strip() == password


def test_generated_password_keeps_other_file(tmp_path):
    # Two databases named by --database-url share the default data directory;
    # the second admin's password must not replace the first one's file.
    data_dir = tmp_path / "shared"
    passwords = []
    for name in ("first", "second"):
        port = free_port()
        server = launch_server(data_dir, port, [
            "--port", str(port), "--data-dir", str(data_dir),
            "--database-url", f"sqlite:///{tmp_path / name}.sqlite3"])
        try:
            assert server.login("admin", "password").status == 503
        finally:
            server.stop()
        files = sorted(data_dir.glob("admin-password*.txt"))
        passwords.append({path.name: path.read_text().strip() for path in files})

    assert list(passwords[0]) == [ADMIN_PASSWORD_FILE]
    assert sorted(passwords[1]) == ["admin-password-2.txt", ADMIN_PASSWORD_FILE]
    assert passwords[1][ADMIN_PASSWORD_FILE] == passwords[0][ADMIN_PASSWORD_FILE]
    assert passwords[1]["admin-password-2.txt"] != passwords[0][ADMIN_PASSWORD_FILE]
    assert "admin-password-2.txt" in server.log_text()


def test_admin_password_option(make_server, tmp_path):
    data_dir = tmp_path / "chosen"
    server = make_server("--admin-password", "Chosen-Pass-42", data_dir=data_dir)
    assert server.login("admin", "Chosen-Pass-42").status == 200
    assert server.login("admin", "password").status == 503
    assert not (data_dir / ADMIN_PASSWORD_FILE).exists()
    server.stop()
    assert "Chosen-Pass-42" not in server.log_text()


def test_admin_password_ignored_later(make_server, tmp_path):
    data_dir = tmp_path / "kept"
    make_server("--admin-password", "First-Pass-1", data_dir=data_dir).stop()
    server = make_server("--admin-password", "Second-Pass-2", data_dir=data_dir)
    assert server.login("admin", "First-Pass-1").status == 200
    assert server.login("admin", "Second-Pass-2").status == 503


# -- environment variables ----------------------------------------------------


def test_serve_from_env(tmp_path):
    data_dir = tmp_path / "env"
    port = free_port()
    env = {
        "AIOS_RECORDS_HOST": "127.0.0.1",
        "AIOS_RECORDS_PORT": str(port),
        "AIOS_RECORDS_DATA_DIR": str(data_dir),
        "AIOS_RECORDS_DATABASE_URL": f"sqlite:///{data_dir / 'from-env.sqlite3'}",
        "AIOS_RECORDS_CONTEXT_PATH": "/envpath",
        "AIOS_RECORDS_TIME_ZONE": "UTC",
        "AIOS_RECORDS_LOCALE": "zh_CN",
        "AIOS_RECORDS_LOG_LEVEL": "debug",
        "AIOS_RECORDS_ADMIN_PASSWORD": "Env-Secret-7",
        "AIOS_RECORDS_DEMO": "true",
        "AIOS_RECORDS_SESSION_TIMEOUT": "900",
        "AIOS_RECORDS_MAX_SESSIONS": "1",
        "AIOS_RECORDS_SLOW_QUERY_MS": "0",
    }
    server = launch_server(data_dir, port, [], env=env, context_path="/envpath")
    try:
        assert (data_dir / "from-env.sqlite3").exists()
        assert not (data_dir / "aios-records.sqlite3").exists()

        reply = server.login("admin", "Env-Secret-7")
        assert reply.status == 200, reply.text
        inventory = reply.json()["inventory"]
        created = datetime.strptime(inventory["createDate"], "%b %d, %Y %I:%M:%S %p")
        expires = datetime.strptime(inventory["expiredDate"], "%b %d, %Y %I:%M:%S %p")
        assert expires - created == timedelta(seconds=900)
        utc_now = datetime.now(timezone.utc).replace(tzinfo=None)
        assert abs(created - utc_now) < timedelta(seconds=30)
        server.session = inventory["uuid"]

        wrong = server.login("admin", "password").json()["error"]
        assert wrong["code"] == "ID.1000"
        assert re.search(r"[\u4e00-\u9fff]", wrong["details"])
        assert server.login("admin", "Env-Secret-7").json()["error"]["code"] == "ID.1006"

        assert record_total(server) == 2000
        example = server.get(f"/v1/ai/trained-model/record/{EXAMPLE_RECORD_UUID}").json()
        assert example["inventories"][0]["createDate"] == "Nov 19, 2025 10:20:07 AM"
        assert server.get(f"/zstack{RECORDS}", prefix=False).status == 404
    finally:
        server.stop()

    log = server.log_text()
    assert "DEBUG aios_records.requests: GET /envpath/v1/ai/trained-model/records" in log
    assert "slow query took" in log


# -- demo data ----------------------------------------------------------------


def test_serve_demo(make_server, tmp_path):
    data_dir = tmp_path / "demo"
    started = time.monotonic()
    server = make_server("--demo", data_dir=data_dir)
    server.session = server.login_session("admin", "password")
    assert time.monotonic() - started < 10
    assert record_total(server) == 2000
    server.stop()
    assert re.search(r"^\S+ \S+ WARNING \S+: .*demo", server.log_text(), re.MULTILINE)

    again = make_server("--demo", data_dir=data_dir)
    again.session = again.login_session("admin", "password")
    assert record_total(again) == 2000


def test_demo_data_twice(tmp_path):
    first = run_cli("demo-data", "--data-dir", str(tmp_path), "--records", "10")
    assert first.returncode == 0
    url = database_url_for(tmp_path)
    assert len(select_column(url, 'SELECT uuid FROM "TrainedModelRecordVO"')) == 10

    second = run_cli("demo-data", "--data-dir", str(tmp_path), "--records", "10", check=False)
    assert second.returncode == 1
    assert sa.engine.make_url(url).database in second.stderr
    assert "Traceback" not in second.stderr
    assert len(select_column(url, 'SELECT uuid FROM "TrainedModelRecordVO"')) == 10


def test_demo_seed_deterministic(tmp_path):
    uuids = {}
    for name, seed in (("a", "7"), ("b", "7"), ("c", "8")):
        run_cli("demo-data", "--data-dir", str(tmp_path / name), "--records", "30",
                "--seed", seed)
        url = database_url_for(tmp_path / name)
        uuids[name] = (
            select_column(url, 'SELECT uuid FROM "TrainedModelRecordVO" ORDER BY uuid'),
            select_column(url, 'SELECT uuid FROM "ModelVO" ORDER BY uuid'),
        )

    records_a, models_a = uuids["a"]
    records_b, models_b = uuids["b"]
    records_c, models_c = uuids["c"]
    assert len(records_a) == 30
    assert records_a == records_b
    assert models_a == models_b
    assert records_a != records_c
    assert models_a != models_c
    for records in (records_a, records_c):
        assert EXAMPLE_RECORD_UUID in records


# -- logs ---------------------------------------------------------------------


POOL_RESET_FAILURE = """
import sqlalchemy as sa
from aios_records.commands import configure_logging
configure_logging("info")
engine = sa.create_engine("sqlite://", poolclass=sa.pool.QueuePool)
raw = engine.raw_connection()
raw.dbapi_connection.close()
raw.close()
"""


def test_pool_reset_failure_logs_one_line():
    # A database outage makes the pool fail to reset its dead connections, and
    # the log should report each failure in one line, without a traceback.
    run = subprocess.run([sys.executable, "-c", POOL_RESET_FAILURE],
                         capture_output=True, text=True, timeout=60)

    assert run.returncode == 0, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert "ERROR sqlalchemy.pool" in lines[0]
    assert lines[0].endswith("ProgrammingError: Cannot operate on a closed database.")


def test_request_log_escapes_control_characters(make_server, tmp_path):
    server = make_server("--admin-password", ADMIN_PASSWORD, "--log-level", "debug",
                         data_dir=tmp_path / "control")
    session = server.login_session()

    assert server.get(f"{RECORDS}/ab%00cd%1B[31m", session=session).status == 503
    assert server.get(f"/v1/accounts/sessions/{session}/valid").status == 200
    assert server.get(f"{RECORDS}?q=x%0A2026-12-05%20INFO%20aios_records:%20forged",
                      session=session).status == 400
    server.stop()

    log = server.log_text()
    assert "\n2026-12-05 INFO aios_records: forged" not in log
    assert "x\\x0a2026-12-05 INFO aios_records: forged" in log
    assert "\x00" not in log
    assert "\x1b" not in log
    assert "/records/ab\\x00cd\\x1b[31m 503" in log
    assert f"GET {server.context_path}/v1/accounts/sessions/{{sessionUuid}}/valid 200" in log
    assert session not in log


def test_log_keeps_secrets_out(make_server, tmp_path):
    password = "Log-Test-Pass-9"
    server = make_server("--admin-password", password, "--log-level", "debug",
                         "--slow-query-ms", "0", data_dir=tmp_path / "logs")
    session = server.login_session("admin", password)
    server.session = session
    unknown_session = "fedcba9876543210fedcba9876543210"

    assert server.get(f"{RECORDS}?sessionId={session}&limit=1",
                      headers={"x-session-id": session}).status == 200
    assert server.get(f"{RECORDS}/{EXAMPLE_RECORD_UUID}").status == 200
    assert server.request("HEAD", RECORDS).status == 200
    assert server.get(f"/v1/accounts/sessions/{session}/valid").status == 200
    assert server.get(f"/v1/accounts/sessions/{unknown_session}/valid").status == 200
    assert server.get(RECORDS, session=unknown_session).status == 503
    assert server.login("admin", "Wrong-Pass-0").status == 503
    assert server.login("nobody", password).status == 503
    assert server.request("DELETE", f"/v1/accounts/sessions/{session}").status == 200
    assert server.request("DELETE", f"/v1/accounts/sessions/{unknown_session}").status == 200
    stored_hash = select_column(server.database_url,
                                "SELECT password FROM \"AccountVO\" WHERE name = 'admin'")[0]
    server.stop()

    log = server.log_text()
    assert f"GET {server.context_path}{RECORDS} 200" in log
    assert "slow query took" in log
    secrets = {
        "session uuid": session,
        "unknown session uuid": unknown_session,
        "password": password,
        "password hash sent by the client": sha512(password),
        "wrong password hash": sha512("Wrong-Pass-0"),
        "stored password hash": stored_hash,
    }
    for part in stored_hash.split("$")[4:]:
        secrets[f"stored hash part {part[:6]}"] = part
    for name, value in secrets.items():
        assert value not in log, f"the log contains the {name}"
        assert value.upper() not in log, f"the log contains the {name} in upper case"


def test_log_start_and_stop(make_server, tmp_path):
    server = make_server("--admin-password", "x-Pass-1", data_dir=tmp_path / "lifecycle")
    assert server.login("admin", "x-Pass-1").status == 200
    server.stop()
    log = server.log_text()
    assert re.search(rf"INFO \S+: aios-records starting on 127\.0\.0\.1:{server.port}/zstack",
                     log)
    assert re.search(r"INFO \S+: aios-records stopped", log)
    assert log.index("aios-records starting") < log.index("aios-records stopped")
    assert "Traceback" not in log


def test_serve_port_in_use(make_server, tmp_path):
    server = make_server("--admin-password", "z-Pass-3", data_dir=tmp_path / "first")
    result = run_script("serve", "--data-dir", str(tmp_path / "second"),
                        "--port", str(server.port), "--admin-password", "z-Pass-3")
    assert result.returncode != 0
    assert "address already in use" in result.stderr
    assert "listening" not in result.stderr
    assert server.login("admin", "z-Pass-3").status == 200



# -- bad storage options ------------------------------------------------------

# Port 1 on loopback: nothing listens there, so every connection is refused.
UNREACHABLE_URLS = ["postgresql://nobody:Url-Secret-7@127.0.0.1:1/x", "mysql://root@127.0.0.1:1/x"]
STORAGE_COMMANDS = [("serve", "--port", "1"), ("demo-data",), ("db", "upgrade"),
                    ("db", "current"), ("export", "--output-dir", "OUT")]


def storage_command(words: tuple[str, ...], tmp_path: Path) -> list[str]:
    return [word.replace("OUT", str(tmp_path / "out")) for word in words]


@pytest.mark.parametrize("url", ["foo://bar", "garbage", "foo://me:Url-Secret-7@host/x"])
@pytest.mark.parametrize("words", STORAGE_COMMANDS, ids=" ".join)
def test_bad_database_url_usage_error(tmp_path, words, url):
    result = run_script(*storage_command(words, tmp_path), "--data-dir", str(tmp_path / "d"),
                        "--database-url", url)

    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "Invalid value for '--database-url': unsupported database URL" in result.stderr
    assert "sqlite:///PATH" in result.stderr
    assert "Url-Secret-7" not in result.stderr
    assert url.rpartition("@")[2] in result.stderr


@pytest.mark.parametrize("url", UNREACHABLE_URLS)
@pytest.mark.parametrize("words", STORAGE_COMMANDS, ids=" ".join)
def test_unreachable_database_one_line(tmp_path, words, url):
    result = run_script(*storage_command(words, tmp_path), "--data-dir", str(tmp_path / "d"),
                        "--database-url", url)

    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    display_url = sa.engine.make_url(url).render_as_string(hide_password=True)
    assert lines[0].startswith(
        f"Cannot connect to the database {display_url}. The driver reported: ")
    assert "Connection refused" in lines[0]
    assert "Check that the database server is running" in lines[0]
    assert "Url-Secret-7" not in result.stderr


def test_unreachable_database_in_chinese(tmp_path):
    result = run_script("db", "upgrade", "--database-url", UNREACHABLE_URLS[1],
                        env={"LANG": "zh_CN.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""})

    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("无法连接数据库 mysql://root@127.0.0.1:1/x。")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("words", [("serve", "--port", "1"), ("demo-data",), ("db", "upgrade"),
                                   ("import", "FILE"), ("export", "--output-dir", "OUT")],
                         ids=" ".join)
def test_data_dir_under_file(tmp_path, words):
    blocker = tmp_path / "afile"
    blocker.write_text("not a directory\n")
    source = tmp_path / "records.json"
    source.write_text('{"inventories":[]}\n')
    arguments = [word.replace("FILE", str(source)) for word in storage_command(words, tmp_path)]

    result = run_script(*arguments, "--data-dir", str(blocker / "sub" / "data"))

    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert (f"Invalid value for '--data-dir': cannot create the directory "
            f"{blocker / 'sub' / 'data'}: {blocker} is a file, not a directory") in result.stderr
    assert blocker.read_text() == "not a directory\n"


def test_sqlite_url_under_file(tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("")
    database_file = blocker / "sub" / "records.sqlite3"

    result = run_script("db", "upgrade", "--database-url", f"sqlite:///{database_file}")

    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        f"Cannot create the SQLite database file {database_file}: {blocker} is a file, not a "
        "directory. Give a path in --database-url whose parent directories you can write.")


def test_export_output_dir_under_file(tmp_path):
    data_dir = tmp_path / "data"
    run_cli("demo-data", "--data-dir", str(data_dir), "--records", "3")
    blocker = tmp_path / "afile"
    blocker.write_text("")

    result = run_cli("export", "--data-dir", str(data_dir), "--output-dir",
                     str(blocker / "out"), check=False)

    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert (f"Invalid value for '--output-dir': cannot create the directory {blocker / 'out'}: "
            f"{blocker} is a file, not a directory") in result.stderr


def test_db_current_missing_creates_nothing(tmp_path):
    data_dir = tmp_path / "empty-x"
    result = run_script("db", "current", "--data-dir", str(data_dir))

    assert result.returncode == 1
    assert result.stdout == ""
    assert f"There is no database at {data_dir / 'aios-records.sqlite3'}" in result.stderr
    assert not data_dir.exists()

    sqlite_file = tmp_path / "missing.sqlite3"
    result = run_script("db", "current", "--database-url", f"sqlite:///{sqlite_file}")
    assert result.returncode == 1
    assert f"There is no database at {sqlite_file}" in result.stderr
    assert not sqlite_file.exists()


def test_db_current_of_existing_database(tmp_path):
    run_script("db", "upgrade", "--data-dir", str(tmp_path))
    revision = select_column(database.sqlite_url_for(tmp_path),
                             "SELECT version_num FROM alembic_version")

    result = run_script("db", "current", "--data-dir", str(tmp_path))

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == revision[0]


# -- the admin password of demo data -------------------------------------------


def test_demo_data_names_admin_password(tmp_path):
    result = run_cli("demo-data", "--data-dir", str(tmp_path / "default"), "--records", "3")

    assert result.stderr.count("The admin password of this demo world is 'password'") == 1
    assert "--admin-password" in result.stderr

    chosen = run_cli("demo-data", "--data-dir", str(tmp_path / "chosen"), "--records", "3",
                     "--admin-password", "Chosen-Pass-5")
    assert "admin password" not in chosen.stderr
    assert "Chosen-Pass-5" not in chosen.stderr


def test_serve_logs_ignored_admin_password(make_server, tmp_path):
    data_dir = tmp_path / "world"
    run_cli("demo-data", "--data-dir", str(data_dir), "--records", "3")

    server = make_server("--admin-password", "Ignored-Pass-4", data_dir=data_dir)
    assert server.login("admin", "Ignored-Pass-4").status == 503
    assert server.login("admin", "password").status == 200
    server.stop()

    log = server.log_text()
    assert re.search(r"INFO \S+: the admin account already exists and keeps its password; "
                     r"--admin-password was ignored", log)
    assert "Ignored-Pass-4" not in log


# -- database failures after connecting ----------------------------------------------


@pytest.mark.parametrize("args", [("db", "upgrade"), ("db", "current"), ("demo-data",),
                                  ("serve", "--port", "0")])
def test_file_not_a_database(tmp_path, args):
    not_database = tmp_path / "notes.sqlite3"
    not_database.write_bytes(b"these are notes, not a database\n" * 300)
    before = not_database.read_bytes()

    result = run_cli(*args, "--data-dir", str(tmp_path / "data"),
                     "--database-url", f"sqlite:///{not_database}", check=False)

    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "file is not a database" in result.stderr
    assert "--database-url" in result.stderr
    assert not_database.read_bytes() == before


@pytest.mark.skipif(TEST_BACKEND != "postgresql",
                    reason="needs a PostgreSQL account that may create roles")
def test_migration_denied_one_line(tmp_path):
    # PostgreSQL 15 lets only a schema's owner create tables in `public`, so
    # a role that may connect but owns nothing cannot run the migrations.
    url = sa.engine.make_url(database_url_for(tmp_path / "denied"))
    role = "aios_test_reader_" + url.database[-8:]
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP ROLE IF EXISTS {role}")
            connection.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
        result = run_cli("db", "upgrade", "--database-url",
                         url.set(username=role, password=None).render_as_string(False),
                         check=False)
        with admin.connect() as connection:
            tables = connection.exec_driver_sql(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").scalar()
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP OWNED BY {role}")
            connection.exec_driver_sql(f"DROP ROLE IF EXISTS {role}")
        admin.dispose()

    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "permission denied" in result.stderr
    assert "A database statement failed" in result.stderr
    assert tables == 0


@pytest.mark.skipif(TEST_BACKEND != "sqlite", reason="a SQLite file lock; runs in the SQLite run")
def test_sqlite_locked_at_start(tmp_path):
    data_dir = tmp_path / "locked"
    run_cli("db", "upgrade", "--data-dir", str(data_dir))
    holder = sqlite3.connect(data_dir / "aios-records.sqlite3", isolation_level=None)
    try:
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")

        result = run_cli("serve", "--data-dir", str(data_dir), "--port", str(free_port()),
                         check=False)
    finally:
        holder.close()

    assert result.returncode == 1, result.stderr
    assert "is locked by another process" in result.stderr
    assert "database server is running" not in result.stderr
    assert "Traceback" not in result.stderr
