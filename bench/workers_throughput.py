"""Measure `serve --workers 1` and `--workers 2` on PostgreSQL with wrk.

The script starts a throwaway PostgreSQL server on a free 127.0.0.1 port
(as the `postgres` system user when run as root), writes the seed-1 demo world
with --records records, then for each worker count starts `aios-records serve`,
logs in as admin and runs wrk for --duration seconds against three requests:
a list query by modelUuid, a list with limit=100 and a GET by uuid. It prints
requests per second and the p50 and p99 latency that `wrk --latency` reports,
and stops every server it started.

Usage: python bench/workers_throughput.py [--records 100000] [--duration 15]
       [--connections 16]
Needs /usr/lib/postgresql/*/bin and wrk (Debian packages postgresql and wrk).
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ADMIN_PASSWORD = "password"
RECORDS = "/zstack/v1/ai/trained-model/records"

# wrk sends the same request on every connection, and this Lua script adds the session.
WRK_SCRIPT = 'wrk.headers["Authorization"] = "OAuth {session}"\n'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def start_postgres(base_dir: Path, port: int) -> Path:
    """Create and start a PostgreSQL server in `base_dir`, and return its data directory."""
    bin_dir = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))[-1]).parent
    data_dir = base_dir / "data"
    data_dir.mkdir()
    if os.geteuid() == 0:
        shutil.chown(base_dir, "postgres")
        shutil.chown(data_dir, "postgres")
    subprocess.run(as_postgres([str(bin_dir / "initdb"), "-D", str(data_dir), "-U", "postgres",
                                "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8"]),
                   check=True, stdout=subprocess.DEVNULL)
    options = (f"-c listen_addresses=127.0.0.1 -p {port} -k {base_dir} -c fsync=off "
               "-c max_connections=100")
    subprocess.run(as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-l",
                                str(base_dir / "postgresql.log"), "-w", "-o", options, "start"]),
                   check=True, stdout=subprocess.DEVNULL)
    return data_dir


def stop_postgres(data_dir: Path) -> None:
    bin_dir = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))[-1]).parent
    subprocess.run(as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-m", "fast",
                                "-w", "stop"]), check=False, stdout=subprocess.DEVNULL)


def request_json(port: int, method: str, path: str, body: str | None = None,
                 session: str | None = None) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Content-Type": "application/json"}
    if session:
        headers["Authorization"] = f"OAuth {session}"
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        payload = response.read()
        if response.status != 200:
            raise RuntimeError(f"{method} {path} failed with {response.status}: {payload!r}")
        return json.loads(payload)
    finally:
        connection.close()


def start_serve(database_url: str, workers: int, data_dir: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "aios_records", "serve", "--port", str(port), "--workers",
         str(workers), "--database-url", database_url, "--data-dir", str(data_dir),
         "--log-level", "warning"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("aios-records serve did not start within 60 s")


def stop_serve(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def to_ms(text: str) -> float:
    """Convert a wrk latency such as `850.00us`, `1.20ms` or `2.01s` to milliseconds."""
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(url: str, script: Path, duration: int, connections: int) -> dict[str, float]:
    command = ["wrk", "-t", "1", "-c", str(connections), "-d", f"{duration}s", "--latency",
               "-s", str(script), url]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    percentiles = dict(re.findall(r"^\s*(50|99)%\s+(\S+)\s*$", output, re.MULTILINE))
    if set(percentiles) != {"50", "99"}:
        raise RuntimeError(f"wrk output has no 50% and 99% latency lines:\n{output}")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50_ms": to_ms(percentiles["50"]),
        "p99_ms": to_ms(percentiles["99"]),
        "non_2xx": float(errors.group(1)) if errors else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000,
                        help="trained-model records in the demo world")
    parser.add_argument("--duration", type=int, default=15, help="seconds each wrk run lasts")
    parser.add_argument("--connections", type=int, default=16, help="open connections wrk keeps")
    args = parser.parse_args()

    base_dir = Path(tempfile.mkdtemp(prefix="aios-records-bench-"))
    base_dir.chmod(0o755)
    pg_dir = base_dir / "postgresql"
    pg_dir.mkdir()
    pg_port = free_port()
    pg_data = start_postgres(pg_dir, pg_port)
    database_url = f"postgresql://postgres@127.0.0.1:{pg_port}/postgres"
    try:
        started = time.monotonic()
        subprocess.run([sys.executable, "-m", "aios_records", "demo-data", "--database-url",
                        database_url, "--data-dir", str(base_dir), "--records",
                        str(args.records), "--seed", "1", "--admin-password", ADMIN_PASSWORD],
                       check=True)
        print(f"demo-data --records {args.records}: {time.monotonic() - started:.0f} s",
              flush=True)
        for workers in (1, 2):
            process, port = start_serve(database_url, workers, base_dir)
            try:
                login = json.dumps({"logInByAccount": {
                    "accountName": "admin",
                    "password": hashlib.sha512(ADMIN_PASSWORD.encode()).hexdigest()}})
                session = request_json(port, "PUT", "/zstack/v1/accounts/login",
                                       login)["inventory"]["uuid"]
                record = request_json(port, "GET", f"{RECORDS}?limit=1",
                                      session=session)["inventories"][0]
                script = base_dir / "session.lua"
                script.write_text(WRK_SCRIPT.format(session=session))
                targets = {
                    "list q=modelUuid": f"{RECORDS}?q=modelUuid={record['modelUuid']}",
                    "list limit=100": f"{RECORDS}?limit=100",
                    "get by uuid": f"{RECORDS}/{record['uuid']}",
                }
                for label, path in targets.items():
                    result = run_wrk(f"http://127.0.0.1:{port}{path}", script,
                                     args.duration, args.connections)
                    print(f"workers={workers} {label:18} {result['rps']:8.1f} req/s  "
                          f"p50 {result['p50_ms']:7.1f} ms  p99 {result['p99_ms']:7.1f} ms  "
                          f"non-2xx {result['non_2xx']:.0f}", flush=True)
            finally:
                stop_serve(process)
    finally:
        stop_postgres(pg_data)
        shutil.rmtree(base_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
