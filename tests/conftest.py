"""Shared fixtures: real server processes on loopback ports over real databases.

The database backend comes from AIOS_RECORDS_TEST_BACKEND: `sqlite` (the
default) gives each server a SQLite file in its data directory, while
`postgresql` and `mariadb` give each server a fresh database on the server
that AIOS_RECORDS_TEST_POSTGRESQL_URL or AIOS_RECORDS_TEST_MARIADB_URL points
at. Those URLs need an account that may create and drop databases.

`demo_server` serves the seed-1 demo world with 2,000 records in time zone
Asia/Shanghai. `make_server` starts further servers with their own data and
options. Requests go through `http.client`, which sends the path and query
string exactly as written, so tests control every byte of the request line.
"""

from __future__ import annotations

import dataclasses
import hashlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa

from aios_records.storage import database

ADMIN_PASSWORD = "password"
STARTUP_TIMEOUT = 30.0

BACKENDS = ("sqlite", "postgresql", "mariadb")
TEST_BACKEND = os.environ.get("AIOS_RECORDS_TEST_BACKEND", "sqlite").lower()
if TEST_BACKEND not in BACKENDS:
    raise pytest.UsageError(
        f"AIOS_RECORDS_TEST_BACKEND={TEST_BACKEND!r} is invalid; use one of {', '.join(BACKENDS)}")
ADMIN_URL_VARIABLES = {"postgresql": "AIOS_RECORDS_TEST_POSTGRESQL_URL",
                       "mariadb": "AIOS_RECORDS_TEST_MARIADB_URL"}

# Marks tests of SQLite's own behaviour (query plans, file layout).
sqlite_only = pytest.mark.skipif(TEST_BACKEND != "sqlite",
                                 reason=f"checks SQLite only; this run uses {TEST_BACKEND}")

# Database URL of each data directory, for backends other than SQLite.
_test_databases: dict[Path, str] = {}


def _admin_url() -> str:
    variable = ADMIN_URL_VARIABLES[TEST_BACKEND]
    url = os.environ.get(variable)
    if not url:
        raise pytest.UsageError(
            f"AIOS_RECORDS_TEST_BACKEND={TEST_BACKEND} needs {variable}, the URL of an "
            "account that may create databases")
    return url


def _run_admin_sql(statement: str) -> None:
    engine = sa.create_engine(database.normalize_url(_admin_url()), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(statement)
    finally:
        engine.dispose()


def database_url_for(data_dir: Path) -> str:
    """Return the database URL for a server's data directory, creating the database once."""
    if TEST_BACKEND == "sqlite":
        return database.sqlite_url_for(data_dir)
    if data_dir not in _test_databases:
        name = "aios_test_" + hashlib.sha1(str(data_dir.resolve()).encode()).hexdigest()[:20]
        _run_admin_sql(f"DROP DATABASE IF EXISTS {name}")
        charset = " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin" if TEST_BACKEND == "mariadb" else ""
        _run_admin_sql(f"CREATE DATABASE {name}{charset}")
        url = database.normalize_url(_admin_url()).set(database=name)
        _test_databases[data_dir] = url.render_as_string(hide_password=False)
    return _test_databases[data_dir]


def pytest_report_header(config) -> list[str]:
    skipped = [b for b in BACKENDS if b != TEST_BACKEND]
    return [f"aios-records database backend: {TEST_BACKEND}; not run in this session: "
            f"{', '.join(skipped)} (set AIOS_RECORDS_TEST_BACKEND and its "
            "AIOS_RECORDS_TEST_*_URL to run one; .ci/run runs all three)"]


@pytest.fixture(scope="session", autouse=True)
def drop_test_databases() -> Iterator[None]:
    """Drop the databases of a PostgreSQL or MariaDB run after every server has stopped.

    Being the first session fixture set up, it is the last torn down.
    """
    yield
    for url in _test_databases.values():
        name = sa.engine.make_url(url).database
        try:
            _run_admin_sql(f"DROP DATABASE IF EXISTS {name}")
        except sa.exc.DBAPIError as error:
            print(f"could not drop test database {name}: {error}", file=sys.stderr)


def sha512(text: str) -> str:
    return hashlib.sha512(text.encode()).hexdigest()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self):
        return json.loads(self.body)


@dataclass
class Server:
    """A running `aios-records serve` process."""

    port: int
    data_dir: Path
    process: subprocess.Popen
    log_path: Path
    context_path: str = "/zstack"
    session: str | None = field(default=None)

    @property
    def database_url(self) -> str:
        return database_url_for(self.data_dir)

    def request(self, method: str, path: str, body: bytes | str | None = None,
                headers: dict[str, str] | None = None, session: str | None = None,
                prefix: bool = True) -> Reply:
        """Send one request; `path` starts at `/v1` unless `prefix` is False."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        all_headers = dict(headers or {})
        token = session if session is not None else self.session
        if token is not None and "Authorization" not in all_headers:
            all_headers["Authorization"] = f"OAuth {token}"
        if isinstance(body, str):
            body = body.encode("utf-8")
        try:
            connection.request(method, (self.context_path if prefix else "") + path,
                               body=body, headers=all_headers)
            response = connection.getresponse()
            return Reply(response.status, {k.lower(): v for k, v in response.getheaders()},
                         response.read())
        finally:
            connection.close()

    def get(self, path: str, **kwargs) -> Reply:
        return self.request("GET", path, **kwargs)

    def login(self, name: str = "admin", password: str = ADMIN_PASSWORD) -> Reply:
        body = json.dumps({"logInByAccount": {"accountName": name, "password": sha512(password)}})
        return self.request("PUT", "/v1/accounts/login", body=body, session=None,
                            headers={"Content-Type": "application/json"})

    def login_session(self, name: str = "admin", password: str = ADMIN_PASSWORD) -> str:
        reply = self.login(name, password)
        assert reply.status == 200, reply.text
        return reply.json()["inventory"]["uuid"]

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def run_cli(*args: str, env: dict[str, str] | None = None,
            check: bool = True) -> subprocess.CompletedProcess:
    """Run `python -m aios_records ARGS` and return the finished process.

    On PostgreSQL and MariaDB runs, a command given `--data-dir DIR` without
    a database URL gets the test database of DIR, as a server there would.
    """
    if (TEST_BACKEND != "sqlite" and "--data-dir" in args and "--database-url" not in args
            and "AIOS_RECORDS_DATABASE_URL" not in (env or {})):
        data_dir = Path(args[args.index("--data-dir") + 1])
        args = (*args, "--database-url", database_url_for(data_dir))
    result = subprocess.run([sys.executable, "-m", "aios_records", *args], capture_output=True,
                            text=True, env={**os.environ, **(env or {})}, timeout=300)
    if check and result.returncode != 0:
        raise AssertionError(f"aios-records {' '.join(args)} failed:\n{result.stderr}")
    return result


def start_server(data_dir: Path, *args: str, env: dict[str, str] | None = None,
                 context_path: str = "/zstack") -> Server:
    """Start `aios-records serve` on a free port and wait until it accepts connections."""
    port = free_port()
    database_args = [] if TEST_BACKEND == "sqlite" else [
        "--database-url", database_url_for(data_dir)]
    return launch_server(data_dir, port, ["--data-dir", str(data_dir), "--port", str(port),
                                          "--time-zone", "Asia/Shanghai", *database_args, *args],
                         env=env, context_path=context_path)


def launch_server(data_dir: Path, port: int, args: list[str], env: dict[str, str] | None = None,
                  context_path: str = "/zstack") -> Server:
    """Run `aios-records serve ARGS` and wait until `port` accepts connections.

    Unlike `start_server`, this adds no options, so a test can configure the
    server through environment variables alone. The log goes to `data_dir`.
    """
    log_path = data_dir / f"server-{port}.log"
    data_dir.mkdir(parents=True, exist_ok=True)
    log_file = open(log_path, "wb")  # noqa: SIM115 - the process writes it until stop()
    process = subprocess.Popen(
        [sys.executable, "-m", "aios_records", "serve", *args],
        stdout=log_file, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
    )
    server = Server(port, data_dir, process, log_path, context_path)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited early:\n{server.log_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return server
        except OSError:
            time.sleep(0.05)
    server.stop()
    raise AssertionError(f"server did not start within {STARTUP_TIMEOUT}s:\n{server.log_text()}")


def insert_rows(database_url: str, table: str, rows: list[dict]) -> None:
    """Insert rows straight into a table of a migrated database (for hand-built data)."""
    engine = database.create_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.table(table, *(sa.column(name) for name in rows[0])).insert(), rows)
    finally:
        engine.dispose()


def migrate(database_url: str) -> None:
    engine = database.create_engine(database_url)
    try:
        database.upgrade(engine)
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory) -> Iterator[Server]:
    """A server over the seed-1 demo world (2,000 records), admin logged in."""
    data_dir = tmp_path_factory.mktemp("demo")
    run_cli("demo-data", "--data-dir", str(data_dir), "--database-url",
            database_url_for(data_dir), "--records", "2000", "--seed", "1")
    server = start_server(data_dir)
    server.session = server.login_session()
    yield server
    server.stop()


def _server_factory(base_dir: Path, started: list[Server]) -> Callable[..., Server]:
    """Return a function that starts servers under `base_dir` and records them in `started`."""

    def make(*args: str, data_dir: Path | None = None, prepare: Callable[[str], None] | None = None,
             env: dict[str, str] | None = None, context_path: str = "/zstack") -> Server:
        directory = data_dir or base_dir / f"server{len(started)}"
        directory.mkdir(parents=True, exist_ok=True)
        if prepare is not None:
            url = database_url_for(directory)
            migrate(url)
            prepare(url)
        server = start_server(directory, *args, env=env, context_path=context_path)
        started.append(server)
        return server

    return make


@pytest.fixture
def make_server(tmp_path) -> Iterator[Callable[..., Server]]:
    """Start servers with custom options; each is stopped after the test."""
    started: list[Server] = []
    yield _server_factory(tmp_path, started)
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def make_module_server(tmp_path_factory) -> Iterator[Callable[..., Server]]:
    """Like `make_server`, but each server lives until the test module ends."""
    started: list[Server] = []
    yield _server_factory(tmp_path_factory.mktemp("module"), started)
    for server in started:
        server.stop()


# The contract's exact reply to an unknown or expired session.
SESSION_EXPIRED_BODY = (
    b'{"error":{"code":"ID.1001","description":"The session is invalid, either wrong session '
    b'id or the session has been expired","details":"Session expired"}}'
)


def without_session(server: Server) -> Server:
    """Return a copy of `server` that sends no Authorization header unless a test gives one."""
    return dataclasses.replace(server, session=None)
