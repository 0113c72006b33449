"""Measure list-query latency and the cost of one very large page against a demo database.

Usage: python bench/first_look.py --data-dir /tmp/bench1m

The script starts `aios-records serve` over DATA_DIR on a free 127.0.0.1 port,
logs in as admin, sends each query REQUESTS times in a row over one keep-alive
`http.client` connection (after WARMUP unmeasured requests), then fetches one
page of --big-limit rows once. It prints the machine facts, a latency table
(median and nearest-rank p99, in ms) and the large page's time to first and
last byte with the server's peak RSS (VmHWM from /proc/PID/status). The server
is stopped on exit. DATA_DIR must contain a database written by
`aios-records demo-data` (admin password `password` unless --password gives
another).
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import math
import os
import platform
import sqlite3
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import loadgen
import servers

RECORDS_PATH = "/zstack/v1/ai/trained-model/records"


@dataclass
class Measurement:
    label: str
    samples_ms: list[float]
    reply_bytes: int

    @property
    def median_ms(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p99_ms(self) -> float:
        ordered = sorted(self.samples_ms)
        return ordered[math.ceil(0.99 * len(ordered)) - 1]


def machine_facts() -> list[tuple[str, str]]:
    cpu_model = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="utf-8") as meminfo:
        mem_total_kib = int(meminfo.readline().split()[1])
    return [
        ("nproc", str(os.cpu_count())),
        ("CPU", cpu_model),
        ("memory", f"{mem_total_kib / 1024 / 1024:.1f} GiB"),
        ("kernel", platform.release()),
        ("Python", platform.python_version()),
        ("SQLite", sqlite3.sqlite_version),
        ("load average at start", " ".join(f"{x:.2f}" for x in os.getloadavg())),
    ]


class Client:
    """One keep-alive HTTP/1.1 connection with the admin session."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        self.session: str | None = None

    def login(self, password: str) -> None:
        digest = hashlib.sha512(password.encode()).hexdigest()
        body = json.dumps({"logInByAccount": {"accountName": "admin", "password": digest}})
        status, reply = self.send("PUT", "/zstack/v1/accounts/login", body.encode(),
                                  {"Content-Type": "application/json"})
        if status != 200:
            raise RuntimeError(f"login failed with HTTP {status}: {reply[:300]!r}")
        self.session = json.loads(reply)["inventory"]["uuid"]

    def send(self, method: str, path: str, body: bytes | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        all_headers = dict(headers or {})
        if self.session is not None:
            all_headers["Authorization"] = f"OAuth {self.session}"
        self.connection.request(method, path, body=body, headers=all_headers)
        response = self.connection.getresponse()
        return response.status, response.read()

    def get_json(self, path: str) -> dict:
        status, reply = self.send("GET", path)
        if status != 200:
            raise RuntimeError(f"GET {path} failed with HTTP {status}: {reply[:300]!r}")
        return json.loads(reply)

    def measure(self, label: str, path: str, requests: int, warmup: int) -> Measurement:
        for _ in range(warmup):
            self.get_json(path)
        samples_ms = []
        reply_bytes = 0
        for _ in range(requests):
            started = time.perf_counter()
            status, reply = self.send("GET", path)
            samples_ms.append((time.perf_counter() - started) * 1000)
            if status != 200:
                raise RuntimeError(f"GET {path} failed with HTTP {status}: {reply[:300]!r}")
            reply_bytes = len(reply)
        return Measurement(label, samples_ms, reply_bytes)

    def close(self) -> None:
        self.connection.close()


def run(args: argparse.Namespace) -> None:
    for name, value in machine_facts():
        print(f"{name}: {value}")

    with tempfile.TemporaryDirectory(prefix="first-look-") as scratch:
        port = servers.free_port()
        database_url = f"sqlite:///{args.data_dir / 'aios-records.sqlite3'}"
        server = servers.Server("aios-records",
                                servers.aios_records_command(database_url, args.data_dir, port),
                                port, Path(scratch) / "server.log", core=None)
        try:
            started = time.perf_counter()
            server.wait_until_listening()
            print(f"server listening after {time.perf_counter() - started:.1f} s "
                  f"on 127.0.0.1:{server.port}, pid {server.pid}")
            client = Client(server.port)
            client.login(args.password)

            sample = client.get_json(f"{RECORDS_PATH}?limit=1")["inventories"][0]
            model_uuid = sample["modelUuid"]
            group_uuid = sample["modelServiceInstanceGroupUuid"]
            queries = [
                ("q=modelUuid=<uuid>", f"{RECORDS_PATH}?q=modelUuid={model_uuid}"),
                ("count=true", f"{RECORDS_PATH}?count=true"),
                ("count=true&q=createDate>2026-01-01",
                 f"{RECORDS_PATH}?count=true&q=createDate%3E2026-01-01"),
                ("q=modelServiceInstanceGroupUuid=<uuid>&sort=-createDate&limit=100",
                 f"{RECORDS_PATH}?q=modelServiceInstanceGroupUuid={group_uuid}"
                 "&sort=-createDate&limit=100"),
                # A range matching few rows, in the default uuid order: the case
                # that depends on the record table being stored in uuid order.
                (f"q=createDate>{args.recent_date}",
                 f"{RECORDS_PATH}?q=createDate%3E{args.recent_date}"),
            ]
            results = [client.measure(label, path, args.requests, args.warmup)
                       for label, path in queries]

            rss_before = loadgen.status_mib(server.pid, "VmHWM")
            large = loadgen.fetch_large(server.port, f"{RECORDS_PATH}?limit={args.big_limit}",
                                        client.session)
            if large.status != 200:
                raise RuntimeError(f"the large page failed with HTTP {large.status}")
            first_byte, last_byte, size = large.first_byte_s, large.last_byte_s, large.body_bytes
            rss_after = loadgen.status_mib(server.pid, "VmHWM")
            client.close()
        finally:
            server.stop()

    print()
    print(f"model uuid {model_uuid}, group uuid {group_uuid}; "
          f"{args.requests} requests per query after {args.warmup} warm-up requests")
    print(f"{'query':<68} {'median ms':>10} {'p99 ms':>8} {'reply bytes':>12}")
    for result in results:
        print(f"{result.label:<68} {result.median_ms:>10.2f} {result.p99_ms:>8.2f} "
              f"{result.reply_bytes:>12,}")
    print()
    print(f"limit={args.big_limit}: time to first byte {first_byte:.2f} s, "
          f"time to last byte {last_byte:.2f} s, body {size / 1e6:.1f} MB")
    print(f"server peak RSS (VmHWM): {rss_before:.0f} MiB before the large page, "
          f"{rss_after:.0f} MiB after")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True,
                        help="Data directory containing aios-records.sqlite3 written by demo-data.")
    parser.add_argument("--requests", type=int, default=200,
                        help="Measured requests per query (default 200).")
    parser.add_argument("--warmup", type=int, default=5,
                        help="Unmeasured requests sent before each query's measured ones "
                             "(default 5).")
    parser.add_argument("--big-limit", type=int, default=1_000_000,
                        help="The limit of the one-time large page (default 1000000).")
    parser.add_argument("--recent-date", default="2026-10-29",
                        help="Date for the last query, createDate>DATE; the default matches "
                             "about the newest 0.2%% of the demo world (default 2026-10-29).")
    parser.add_argument("--password", default="password",
                        help="Plain admin password (default: the demo password 'password').")
    args = parser.parse_args()
    if not (args.data_dir / "aios-records.sqlite3").is_file():
        parser.error(f"aios-records.sqlite3 not found in {args.data_dir}; "
                     "write one with: aios-records demo-data --data-dir DIR --records N")
    run(args)


if __name__ == "__main__":
    main()
