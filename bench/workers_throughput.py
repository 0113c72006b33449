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
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import servers

ADMIN_PASSWORD = "password"
RECORDS = "/zstack/v1/ai/trained-model/records"

# wrk sends the same request on every connection, and this Lua script adds the session.
WRK_SCRIPT = 'wrk.headers["Authorization"] = "OAuth {session}"\n'


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
    pg_port = servers.free_port()
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
            port = servers.free_port()
            command = [*servers.aios_records_command(database_url, base_dir, port),
                       "--workers", str(workers)]
            with servers.Server(f"aios-records --workers {workers}", command, port,
                                base_dir / f"serve-{workers}.log", core=None):
                session = servers.login(port, ADMIN_PASSWORD)
                record = json.loads(servers.get(port, f"{RECORDS}?limit=1",
                                                session))["inventories"][0]
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
        stop_postgres(pg_data)
        shutil.rmtree(base_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
