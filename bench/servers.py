"""Server processes the benchmark starts on loopback: aios-records, Datasette and the floor."""

from __future__ import annotations

import hashlib
import http.client
import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
STARTUP_TIMEOUT_S = 120.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A child process listening on a loopback port, pinned to `core` when one is given."""

    def __init__(self, name: str, command: list[str], port: int, log_path: Path,
                 core: int | None) -> None:
        self.name = name
        self.port = port
        self.log_path = log_path
        if core is not None:
            # taskset execs the command, so the child's pid is the server's own.
            command = ["taskset", "-c", str(core), *command]
        self.log_file = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(command, stdout=self.log_file, stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_until_listening(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with code {self.process.returncode}; "
                                   f"its log is {self.log_path}:\n{self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.name} did not listen on port {self.port} within "
                           f"{STARTUP_TIMEOUT_S:.0f} s; its log is {self.log_path}")

    def log_tail(self, lines: int = 20) -> str:
        self.log_file.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log_file.close()

    def __enter__(self) -> Server:
        try:
            self.wait_until_listening()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def aios_records_command(database_url: str, data_dir: Path, port: int,
                         capture_file: Path | None = None) -> list[str]:
    """Build the `aios-records serve` command line, optionally under the SQL recorder."""
    serve_args = ["--database-url", database_url, "--data-dir", str(data_dir),
                  "--host", "127.0.0.1", "--port", str(port), "--time-zone", "UTC",
                  "--log-level", "warning"]
    if capture_file is None:
        return [sys.executable, "-m", "aios_records", "serve", *serve_args]
    # The recorder listens to SQLAlchemy, which inline reads bypass; they run
    # the same statements, compiled by SQLAlchemy for the same dialect.
    return [sys.executable, str(BENCH_DIR / "sql_capture.py"), "serve", str(capture_file),
            *serve_args, "--no-inline-reads"]


def datasette_command(datasette: Path, sqlite_path: Path, port: int) -> list[str]:
    """Datasette serving `sqlite_path` read-only, configured as fairly as it allows.

    Immutable mode (-i) opens the file read-only without locking. The SQL time
    limit is raised from 1 s so counts over a million rows finish, facet
    suggestions are off, and the CSV size cap is lifted for the streamed export.
    """
    return [str(datasette), "serve", "-i", str(sqlite_path), "--host", "127.0.0.1",
            "--port", str(port), "--setting", "sql_time_limit_ms", "120000",
            "--setting", "suggest_facets", "off", "--setting", "max_csv_mb", "0"]


def floor_command(body_dir: Path, port: int) -> list[str]:
    return [sys.executable, str(BENCH_DIR / "floor_app.py"), str(body_dir), str(port)]


def _request(port: int, method: str, path: str, body: bytes | None = None,
             session: str | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    headers = {"Content-Type": "application/json"}
    if session:
        headers["Authorization"] = f"OAuth {session}"
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def get(port: int, path: str, session: str | None = None) -> bytes:
    status, body = _request(port, "GET", path, session=session)
    if status != 200:
        raise RuntimeError(f"GET {path} on port {port} failed with HTTP {status}: {body[:300]!r}")
    return body


def login(port: int, password: str) -> str:
    """Log in as admin and return the session uuid.

    Like ZStack clients, it sends the SHA-512 hex digest of the password.
    """
    digest = hashlib.sha512(password.encode()).hexdigest()
    body = json.dumps({"logInByAccount": {"accountName": "admin", "password": digest}})
    status, reply = _request(port, "PUT", "/zstack/v1/accounts/login", body.encode())
    if status != 200:
        raise RuntimeError(f"login on port {port} failed with HTTP {status}: {reply[:300]!r}")
    return json.loads(reply)["inventory"]["uuid"]


def logout(port: int, session: str) -> None:
    """Delete the session, so repeated runs never reach the account's session limit."""
    _request(port, "DELETE", f"/zstack/v1/accounts/sessions/{session}", session=session)
