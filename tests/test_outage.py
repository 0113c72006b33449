"""A PostgreSQL outage while `serve` runs: 503 SYS.1000 during it, recovery after it.

The test starts its own throwaway PostgreSQL server on a free loopback port,
because it must stop and restart that server, which it cannot do to the shared
server of AIOS_RECORDS_TEST_POSTGRESQL_URL. It runs only in the PostgreSQL run
of the suite (AIOS_RECORDS_TEST_BACKEND=postgresql), so a CI pass over three
backends runs it once, and .ci/run installs the PostgreSQL binaries before that
run. It is skipped when /usr/lib/postgresql/*/bin/initdb is missing.
"""

from __future__ import annotations

import glob
import http.client
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import ADMIN_PASSWORD, TEST_BACKEND, Reply, Server, free_port, launch_server

from aios_records.resources import SERVED_QUERY_RESOURCES

INITDB_PATHS = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))

pytestmark = [
    pytest.mark.skipif(TEST_BACKEND != "postgresql",
                       reason=f"runs in the PostgreSQL run only; this run uses {TEST_BACKEND}"),
    pytest.mark.skipif(not INITDB_PATHS,
                       reason="PostgreSQL binaries missing: no /usr/lib/postgresql/*/bin/initdb "
                              "(install Debian's postgresql package)"),
]

CENTERS = "/v1/ai/model-centers"
# Maximum seconds a request may take while the database is down. The connect
# timeout of the engine is 5 s, and a refused connection fails at once.
OUTAGE_REPLY_LIMIT_S = 15.0
# Seconds the server gets to serve queries again once PostgreSQL is back.
RECOVERY_TIMEOUT_S = 30.0
PG_START_TIMEOUT_S = 60


class ThrowawayPostgres:
    """A PostgreSQL server in a temporary directory, listening on 127.0.0.1 only."""

    def __init__(self, base_dir: Path, port: int):
        self.bin_dir = Path(INITDB_PATHS[-1]).parent
        self.data_dir = base_dir / "data"
        self.log_path = base_dir / "postgresql.log"
        self.socket_dir = base_dir
        self.port = port
        self.url = f"postgresql://postgres@127.0.0.1:{port}/postgres"

    def _run(self, *args: str, timeout: float = PG_START_TIMEOUT_S + 30) -> None:
        """Run a PostgreSQL program, as the `postgres` system user when the test runs as root."""
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise AssertionError(f"{' '.join(command)} failed with {result.returncode}:\n"
                                 f"{result.stdout}{result.stderr}\n{self.log_text()}")

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def init(self) -> None:
        self.data_dir.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.data_dir, "postgres")
            shutil.chown(self.socket_dir, "postgres")
        self._run("initdb", "-D", str(self.data_dir), "-U", "postgres", "-A", "trust",
                  "-E", "UTF8", "--locale=C.UTF-8")

    def start(self) -> None:
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.socket_dir} "
                   "-c fsync=off -c max_connections=100")
        self._run("pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_path), "-w",
                  "-t", str(PG_START_TIMEOUT_S), "-o", options, "start")

    def stop(self, mode: str) -> None:
        self._run("pg_ctl", "-D", str(self.data_dir), "-m", mode, "-w",
                  "-t", str(PG_START_TIMEOUT_S), "stop")

    def is_running(self) -> bool:
        return (self.data_dir / "postmaster.pid").exists()


@pytest.fixture
def postgres() -> Iterator[ThrowawayPostgres]:
    # Not a pytest tmp_path: pytest makes /tmp/pytest-of-USER mode 0700, so the
    # `postgres` user could not reach a data directory below it.
    base_dir = Path(tempfile.mkdtemp(prefix="aios-records-outage-"))
    base_dir.chmod(0o755)
    server = ThrowawayPostgres(base_dir, free_port())
    try:
        server.init()
        server.start()
        yield server
    finally:
        if server.is_running():
            server.stop("immediate")
        shutil.rmtree(base_dir, ignore_errors=True)


@pytest.fixture
def server(postgres, tmp_path) -> Iterator[Server]:
    port = free_port()
    started = launch_server(tmp_path / "server", port, [
        "--port", str(port), "--data-dir", str(tmp_path / "server"),
        "--database-url", postgres.url, "--admin-password", ADMIN_PASSWORD,
    ])
    yield started
    started.stop()


def timed(send: Callable[[], Reply]) -> tuple[Reply, float]:
    started = time.monotonic()
    reply = send()
    return reply, time.monotonic() - started


def request_with_timeout(server: Server, method: str, path: str, body: str | None = None,
                         prefix: bool = True) -> Reply:
    """Send one request that fails with a socket timeout instead of waiting forever."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port,
                                            timeout=OUTAGE_REPLY_LIMIT_S + 5)
    headers = {"Authorization": f"OAuth {server.session}"} if server.session else {}
    if body is not None:
        headers["Content-Type"] = "application/json"
    try:
        connection.request(method, (server.context_path if prefix else "") + path,
                           body=body, headers=headers)
        response = connection.getresponse()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()},
                     response.read())
    finally:
        connection.close()


def add_center(server: Server, name: str) -> dict:
    body = json.dumps({"param": {"name": name, "managementIp": "10.0.0.1",
                                 "managementPort": 8989}})
    reply = server.request("POST", CENTERS, body=body,
                           headers={"Content-Type": "application/json"})
    assert reply.status == 200, reply.text
    return reply.json()["inventory"]


def outage_requests(center_uuid: str, session: str) -> list[tuple[str, str, str | None]]:
    """Return (method, path, body) of requests that each need the database."""
    login = json.dumps({"logInByAccount": {"accountName": "admin", "password": "0" * 128}})
    requests: list[tuple[str, str, str | None]] = [
        ("PUT", "/v1/accounts/login", login),
        ("GET", f"/v1/accounts/sessions/{session}/valid", None),
        ("POST", CENTERS, json.dumps({"param": {"name": "during-outage",
                                                "managementIp": "10.0.0.2",
                                                "managementPort": 8989}})),
        ("PUT", f"{CENTERS}/{center_uuid}",
         json.dumps({"updateModelCenter": {"name": "renamed"}})),
        ("DELETE", f"{CENTERS}/{center_uuid}", None),
    ]
    for resource in SERVED_QUERY_RESOURCES:
        requests.append(("GET", f"{resource.query_path}?limit=5", None))
        requests.append(("GET", f"{resource.query_path}/{center_uuid}", None))
    return requests


def assert_database_unavailable(reply: Reply, elapsed: float, label: str) -> None:
    assert elapsed < OUTAGE_REPLY_LIMIT_S, f"{label} took {elapsed:.1f}s"
    assert reply.status == 503, f"{label}: {reply.status} {reply.text}"
    error = reply.json()["error"]
    assert error["code"] == "SYS.1000", f"{label}: {error}"
    assert "database is unavailable" in error["details"], f"{label}: {error}"
    assert "Traceback" not in reply.text, f"{label}: {reply.text}"


def wait_for_recovery(server: Server, center_uuid: str) -> Reply:
    """Poll a GET by uuid until it stops failing, and return its last reply."""
    deadline = time.monotonic() + RECOVERY_TIMEOUT_S
    while True:
        reply = request_with_timeout(server, "GET", f"{CENTERS}/{center_uuid}")
        if reply.status == 200 or time.monotonic() > deadline:
            return reply
        time.sleep(0.2)


def test_postgresql_outage_and_recovery(postgres, server):
    server.session = server.login_session()
    center = add_center(server, "before-outage")
    reply = server.get(f"{CENTERS}?q=name=before-outage")
    assert reply.status == 200, reply.text
    assert [row["uuid"] for row in reply.json()["inventories"]] == [center["uuid"]]
    assert server.get("/readyz", prefix=False).status == 200

    postgres.stop("immediate")

    for method, path, body in outage_requests(center["uuid"], server.session):
        label = f"{method} {path}"
        reply, elapsed = timed(lambda: request_with_timeout(server, method, path, body))
        assert_database_unavailable(reply, elapsed, label)

    ready, elapsed = timed(lambda: request_with_timeout(server, "GET", "/readyz", prefix=False))
    assert_database_unavailable(ready, elapsed, "GET /readyz")
    health = request_with_timeout(server, "GET", "/healthz", prefix=False)
    assert health.status == 200, health.text
    assert server.process.poll() is None, server.log_text()

    postgres.start()

    reply = wait_for_recovery(server, center["uuid"])
    assert reply.status == 200, reply.text
    assert [row["name"] for row in reply.json()["inventories"]] == ["before-outage"]
    reply = server.get(f"{CENTERS}?q=name=before-outage")
    assert reply.status == 200, reply.text
    assert [row["uuid"] for row in reply.json()["inventories"]] == [center["uuid"]]
    after = add_center(server, "after-outage")
    assert after["name"] == "after-outage"
    assert server.get("/readyz", prefix=False).status == 200
    assert server.process.poll() is None

    log = server.log_text()
    assert "Traceback" not in log, log
