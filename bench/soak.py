"""Soak test: many concurrent clients mixing reads and writes against one server.

The script starts `aios-records serve` over a fresh database, creates a base
world (a public model center and one normal account per client), then runs
--clients threads for --duration seconds. Each thread logs in as its account
and loops over a weighted mix of API calls. Reads are list queries with
conditions, sorting and paging, counts, and GETs by uuid of its own
resources, compared with what it last wrote. Writes create, update and
delete models, records and user tags. Every thread has its own account and writes only resources it
created, so the expected reply of every call, counts included, is known:
anything else counts as an error.

While the load runs, the server's resident set size (VmRSS) is sampled once
a second. After the load stops, every acknowledged write is checked in the
database: each live resource has the fields it was last given, its
AccountResourceRefVO owner row and exactly its tags, and each acknowledged
delete left no row, owner row or tag behind.

The run passes (exit status 0) when there were no errors, every write was
found as acknowledged, and the median RSS of the last 10 samples exceeds the
median of the first 10 samples after warm-up by at most --rss-tolerance-mib.

Usage:
  python bench/soak.py [--duration 180] [--clients 64]
      [--backend sqlite|postgresql|mariadb] [--database-url ADMIN_URL]
For postgresql and mariadb, ADMIN_URL is an account that may create
databases; the script creates a database for the run and drops it after.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import sqlalchemy as sa

from aios_records.storage import database
from aios_records.storage.schema import (
    RESOURCE_TABLES,
    account_resource_ref_table,
    user_tag_table,
)

ADMIN_PASSWORD = "soak-admin-password"
PREFIX = "/zstack/v1"
CENTERS = f"{PREFIX}/ai/model-centers"
MODELS = f"{PREFIX}/ai/models"
RECORDS = f"{PREFIX}/ai/trained-model/records"
GROUPS = f"{PREFIX}/ai/model-services/instances/groups"
USER_TAGS = f"{PREFIX}/user-tags"
TAGS = f"{PREFIX}/tags"
SHARING = f"{PREFIX}/accounts/resources/actions"

# Each thread keeps at most this many live models and records; past that it
# deletes one before creating, so the database stays bounded in size.
MAX_LIVE_PER_CLIENT = 12
# Relative weights of the operations in the mix.
OPERATION_WEIGHTS = {
    "query_records": 14, "query_models": 10, "count_records": 6, "get_own": 12,
    "query_tags": 4,
    "create_model": 8, "update_model": 8, "delete_model": 4,
    "create_record": 10, "delete_record": 4,
    "create_tag": 6, "delete_tag": 4,
}
STARTUP_TIMEOUT_S = 60
# Samples compared at each end of the RSS series.
RSS_WINDOW = 10


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def sha512(text: str) -> str:
    return hashlib.sha512(text.encode()).hexdigest()


def rss_bytes(pid: int) -> int:
    """Read VmRSS of a process from /proc, in bytes."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS in /proc/{pid}/status")


# -- database for the run ---------------------------------------------------------

def create_run_database(backend: str, admin_url: str | None, data_dir: Path) -> str:
    """Return the database URL for the run, creating a new database on a server backend."""
    if backend == "sqlite":
        return database.sqlite_url_for(data_dir)
    if not admin_url:
        raise SystemExit(f"--backend {backend} needs --database-url, the URL of an account "
                         "that may create databases")
    name = f"aios_soak_{secrets.token_hex(4)}"
    charset = " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin" if backend == "mariadb" else ""
    run_admin_sql(admin_url, f"CREATE DATABASE {name}{charset}")
    return database.normalize_url(admin_url).set(database=name).render_as_string(
        hide_password=False)


def drop_run_database(backend: str, admin_url: str | None, url: str) -> None:
    if backend != "sqlite":
        run_admin_sql(admin_url, f"DROP DATABASE IF EXISTS {sa.engine.make_url(url).database}")


def run_admin_sql(admin_url: str, statement: str) -> None:
    engine = sa.create_engine(database.normalize_url(admin_url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(statement)
    finally:
        engine.dispose()


# -- server -----------------------------------------------------------------------

def start_server(data_dir: Path, url: str, port: int, log_path: Path) -> subprocess.Popen:
    log_file = open(log_path, "wb")  # noqa: SIM115 - the server writes it until it stops
    process = subprocess.Popen(
        [sys.executable, "-m", "aios_records", "serve", "--data-dir", str(data_dir),
         "--database-url", url, "--port", str(port), "--time-zone", "UTC",
         "--admin-password", ADMIN_PASSWORD, "--log-level", "warning"],
        stdout=log_file, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited early; see {log_path}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"the server did not start within {STARTUP_TIMEOUT_S} s; see {log_path}")


def stop_server(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# -- client -----------------------------------------------------------------------

class UnexpectedReply(Exception):
    """A reply other than the one the call must get."""


@dataclasses.dataclass
class Ledger:
    """Acknowledged writes of one client, as the database must contain them."""

    account_uuid: str
    models: dict[str, dict] = dataclasses.field(default_factory=dict)
    records: dict[str, dict] = dataclasses.field(default_factory=dict)
    # tag uuid -> (resource uuid, tag text)
    tags: dict[str, tuple[str, str]] = dataclasses.field(default_factory=dict)
    deleted: set[str] = dataclasses.field(default_factory=set)
    writes: int = 0


class Client:
    """One soak thread: a session, its own resources and a random mix of calls."""

    def __init__(self, number: int, port: int, account: dict, center: str, seed: int) -> None:
        self.number = number
        self.random = random.Random(seed * 1000 + number)
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120)
        self.account = account
        self.center = center
        self.ledger = Ledger(account["uuid"])
        self.counts: Counter[str] = Counter()
        self.requests = 0
        self.errors: list[str] = []
        self.group = ""
        self.serial = 0
        operations = list(OPERATION_WEIGHTS)
        self.operations = operations
        self.weights = [OPERATION_WEIGHTS[name] for name in operations]

    # -- plumbing

    def call(self, method: str, path: str, body: dict | None = None,
             params: dict | None = None) -> dict:
        self.requests += 1
        reply = self.http.request(method, path, json=body, params=params)
        if reply.status_code != 200:
            raise UnexpectedReply(f"{method} {path} {params or ''}: {reply.status_code} "
                                  f"{reply.text[:300]}")
        return reply.json()

    def login(self) -> None:
        body = {"logInByAccount": {"accountName": self.account["name"],
                                   "password": sha512(self.account["password"])}}
        session = self.call("PUT", f"{PREFIX}/accounts/login", body)["inventory"]["uuid"]
        self.http.headers["Authorization"] = f"OAuth {session}"

    def next_name(self, kind: str) -> str:
        self.serial += 1
        return f"soak-{kind}-{self.number}-{self.serial}"

    def run(self, stop: threading.Event) -> None:
        try:
            self.login()
            group = self.call("POST", GROUPS, {"params": {
                "name": self.next_name("group"), "status": "Running",
                "modelServiceType": "FineTune", "type": "Container"}})["inventory"]
            self.group = group["uuid"]
            self.create_model()
        except (UnexpectedReply, httpx.HTTPError) as error:
            self.errors.append(f"setup: {error}")
            return
        while not stop.is_set():
            operation = self.random.choices(self.operations, self.weights)[0]
            try:
                getattr(self, operation)()
                self.counts[operation] += 1
            except (UnexpectedReply, httpx.HTTPError, AssertionError) as error:
                self.counts["error"] += 1
                if len(self.errors) < 20:
                    self.errors.append(f"{operation}: {type(error).__name__}: {error}")

    def pick(self, items: dict) -> str | None:
        return self.random.choice(list(items)) if items else None

    # -- reads

    def query_records(self) -> None:
        model = self.pick(self.ledger.models)
        params = {"q": f"modelUuid={model}" if model else "modelUuid!=x", "limit": "20",
                  "sort": self.random.choice(["-createDate", "+createDate", "uuid"])}
        inventories = self.call("GET", RECORDS, params=params)["inventories"]
        if model:
            expected = {uuid for uuid, fields in self.ledger.records.items()
                        if fields["modelUuid"] == model}
            found = {row["uuid"] for row in inventories}
            assert found == expected or len(inventories) == 20, \
                f"records of model {model}: got {sorted(found)}, expected {sorted(expected)}"

    def query_models(self) -> None:
        params = {"q": [f"modelCenterUuid={self.center}", "name~=soak-model-%"],
                  "limit": str(self.random.choice([5, 50, 200])),
                  "start": str(self.random.choice([0, 0, 10])),
                  "replyWithCount": "true", "sort": "-lastOpDate"}
        body = self.call("GET", MODELS, params=params)
        assert "total" in body, f"no total in {body}"
        # A normal account can read its own models only.
        mine = {row["uuid"] for row in body["inventories"]}
        assert body["total"] == len(self.ledger.models), \
            f"total {body['total']} but {len(self.ledger.models)} models were written"
        assert mine <= set(self.ledger.models), "a model of another account is visible"

    def count_records(self) -> None:
        body = self.call("GET", RECORDS, params={"count": "true"})
        assert body["total"] == len(self.ledger.records), \
            f"count {body['total']} but {len(self.ledger.records)} records were written"

    def get_own(self) -> None:
        kind = self.random.choice(["model", "record"])
        items, path = ((self.ledger.models, MODELS) if kind == "model"
                       else (self.ledger.records, RECORDS))
        uuid = self.pick(items)
        if uuid is None:
            return
        inventories = self.call("GET", f"{path}/{uuid}")["inventories"]
        assert len(inventories) == 1, f"GET {kind} {uuid}: {inventories}"
        for name, value in items[uuid].items():
            assert inventories[0].get(name) == value, \
                f"GET {kind} {uuid}: {name} is {inventories[0].get(name)!r}, expected {value!r}"

    def query_tags(self) -> None:
        uuid = self.pick(self.ledger.tags)
        if uuid is None:
            return
        resource_uuid, tag = self.ledger.tags[uuid]
        inventories = self.call("GET", USER_TAGS, params={"q": f"uuid={uuid}"})["inventories"]
        assert [(row["resourceUuid"], row["tag"]) for row in inventories] == [(resource_uuid, tag)]

    # -- writes

    def create_model(self) -> None:
        if len(self.ledger.models) >= MAX_LIVE_PER_CLIENT:
            self.delete_model()
        fields = {"name": self.next_name("model"), "modelCenterUuid": self.center,
                  "description": f"written by client {self.number}",
                  "size": self.random.randrange(1, 2**40)}
        tag = self.next_name("mtag")
        inventory = self.call("POST", MODELS, {"param": fields, "userTags": [tag]})["inventory"]
        self.ledger.models[inventory["uuid"]] = fields
        self.note_tag_of(inventory["uuid"], tag)
        self.ledger.writes += 1

    def update_model(self) -> None:
        uuid = self.pick(self.ledger.models)
        if uuid is None:
            return
        changes = {"description": self.next_name("description"),
                   "version": str(self.random.randrange(1000))}
        inventory = self.call("PUT", f"{MODELS}/{uuid}", {"updateModel": changes})["inventory"]
        assert inventory["description"] == changes["description"]
        self.ledger.models[uuid].update(changes)
        self.ledger.writes += 1

    def delete_model(self) -> None:
        uuid = self.pick(self.ledger.models)
        if uuid is None or len(self.ledger.models) == 1:
            return
        self.call("DELETE", f"{MODELS}/{uuid}")
        del self.ledger.models[uuid]
        self.forget_tags_of(uuid)
        self.ledger.deleted.add(uuid)
        self.ledger.writes += 1

    def create_record(self) -> None:
        if len(self.ledger.records) >= MAX_LIVE_PER_CLIENT:
            self.delete_record()
        model = self.pick(self.ledger.models)
        fields = {"modelUuid": model, "modelServiceInstanceGroupUuid": self.group}
        tag = self.next_name("rtag")
        inventory = self.call("POST", RECORDS, {"params": fields, "userTags": [tag]})["inventory"]
        self.ledger.records[inventory["uuid"]] = fields
        self.note_tag_of(inventory["uuid"], tag)
        self.ledger.writes += 1

    def delete_record(self) -> None:
        uuid = self.pick(self.ledger.records)
        if uuid is None:
            return
        self.call("DELETE", f"{RECORDS}/{uuid}")
        del self.ledger.records[uuid]
        self.forget_tags_of(uuid)
        self.ledger.deleted.add(uuid)
        self.ledger.writes += 1

    def create_tag(self) -> None:
        uuid = self.pick(self.ledger.models)
        if uuid is None:
            return
        tag = self.next_name("tag")
        inventory = self.call("POST", USER_TAGS, {"params": {
            "resourceType": "ModelVO", "resourceUuid": uuid, "tag": tag}})["inventory"]
        self.ledger.tags[inventory["uuid"]] = (uuid, tag)
        self.ledger.writes += 1

    def delete_tag(self) -> None:
        uuid = self.pick(self.ledger.tags)
        if uuid is None:
            return
        self.call("DELETE", f"{TAGS}/{uuid}")
        del self.ledger.tags[uuid]
        self.ledger.deleted.add(uuid)
        self.ledger.writes += 1

    def note_tag_of(self, resource_uuid: str, tag: str) -> None:
        """Record a tag created with its resource; the tag uuid is read back from the tag API."""
        rows = self.call("GET", USER_TAGS, params={
            "q": [f"resourceUuid={resource_uuid}", f"tag={tag}"]})["inventories"]
        assert len(rows) == 1, f"tag {tag} of {resource_uuid}: {rows}"
        self.ledger.tags[rows[0]["uuid"]] = (resource_uuid, tag)

    def forget_tags_of(self, resource_uuid: str) -> None:
        for uuid in [uuid for uuid, (owner, _) in self.ledger.tags.items()
                     if owner == resource_uuid]:
            del self.ledger.tags[uuid]
            self.ledger.deleted.add(uuid)


# -- checks after the run -----------------------------------------------------------

def verify_ledgers(url: str, ledgers: list[Ledger]) -> list[str]:
    """Compare the database with every client's acknowledged writes; return the mismatches."""
    problems: list[str] = []
    models = RESOURCE_TABLES["Model"]
    records = RESOURCE_TABLES["TrainedModelRecord"]
    engine = database.create_engine(url)
    try:
        with engine.connect() as conn:
            owners = {row.resourceUuid: row.ownerAccountUuid for row in conn.execute(
                sa.select(account_resource_ref_table.c.resourceUuid,
                          account_resource_ref_table.c.ownerAccountUuid))}
            tags = {row.uuid: (row.resourceUuid, row.tag) for row in conn.execute(
                sa.select(user_tag_table.c.uuid, user_tag_table.c.resourceUuid,
                          user_tag_table.c.tag))}
            stored = {}
            for table in (models, records):
                for row in conn.execute(sa.select(table)):
                    stored[row.uuid] = dict(row._mapping)
    finally:
        engine.dispose()

    for ledger in ledgers:
        for kind, items in (("model", ledger.models), ("record", ledger.records)):
            for uuid, fields in items.items():
                row = stored.get(uuid)
                if row is None:
                    problems.append(f"acknowledged {kind} {uuid} is missing")
                    continue
                for name, value in fields.items():
                    if row[name] != value:
                        problems.append(f"{kind} {uuid}: {name} is {row[name]!r}, "
                                        f"acknowledged {value!r}")
                if owners.get(uuid) != ledger.account_uuid:
                    problems.append(f"{kind} {uuid}: owner row is {owners.get(uuid)!r}")
        for uuid, expected in ledger.tags.items():
            if tags.get(uuid) != expected:
                problems.append(f"tag {uuid}: stored {tags.get(uuid)!r}, acknowledged {expected}")
        for uuid in ledger.deleted:
            if uuid in stored or uuid in tags or uuid in owners:
                problems.append(f"deleted {uuid} is still stored")
    return problems


# -- main -------------------------------------------------------------------------

def set_up_world(port: int, accounts: int) -> tuple[str, list[dict]]:
    """Create a public model center and `accounts` normal accounts; return them."""
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as admin:
        body = {"logInByAccount": {"accountName": "admin", "password": sha512(ADMIN_PASSWORD)}}
        session = admin.put(f"{PREFIX}/accounts/login", json=body).json()["inventory"]["uuid"]
        admin.headers["Authorization"] = f"OAuth {session}"
        center = admin.post(CENTERS, json={"param": {
            "name": "soak-center", "managementIp": "127.0.0.1",
            "managementPort": 8989}}).json()["inventory"]["uuid"]
        shared = admin.put(SHARING, json={"shareResource": {"resourceUuids": [center],
                                                            "toPublic": True}})
        shared.raise_for_status()
        created = []
        for number in range(accounts):
            account = {"name": f"soak{number}", "password": f"soak{number}-password"}
            reply = admin.post(f"{PREFIX}/accounts", json={"params": {
                "name": account["name"], "password": sha512(account["password"])}})
            reply.raise_for_status()
            created.append({**account, "uuid": reply.json()["inventory"]["uuid"]})
    return center, created


def sample_rss(pid: int, stop: threading.Event, samples: list[tuple[float, int]],
               started: float) -> None:
    while not stop.wait(1.0):
        try:
            samples.append((time.monotonic() - started, rss_bytes(pid)))
        except OSError:
            return


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=180,
                        help="Seconds of load [default: 180].")
    parser.add_argument("--clients", type=int, default=64,
                        help="Concurrent client threads [default: 64].")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "mariadb"],
                        default="sqlite")
    parser.add_argument("--database-url",
                        help="Admin URL of the PostgreSQL or MariaDB server (not for sqlite).")
    parser.add_argument("--warmup", type=float, default=None,
                        help="Seconds of load before RSS samples count "
                             "[default: 20%% of --duration, at least 10].")
    parser.add_argument("--rss-tolerance-mib", type=float, default=16.0,
                        help="Allowed growth of the median RSS after warm-up, "
                             "in MiB [default: 16].")
    parser.add_argument("--seed", type=int, default=1,
                        help="Seed of the clients' random choices [default: 1].")
    parser.add_argument("--json", type=Path, help="Also write the figures to this JSON file.")
    options = parser.parse_args()
    warmup = options.warmup if options.warmup is not None else max(10.0, options.duration / 5)

    work_dir = Path(tempfile.mkdtemp(prefix="aios-soak-"))
    url = create_run_database(options.backend, options.database_url, work_dir / "data")
    port = free_port()
    log_path = work_dir / "server.log"
    server = start_server(work_dir / "data", url, port, log_path)
    try:
        center, accounts = set_up_world(port, options.clients)
        clients = [Client(number, port, accounts[number], center, options.seed)
                   for number in range(options.clients)]
        stop = threading.Event()
        samples: list[tuple[float, int]] = []
        started = time.monotonic()
        sampler = threading.Thread(target=sample_rss, args=(server.pid, stop, samples, started))
        threads = [threading.Thread(target=client.run, args=(stop,)) for client in clients]
        sampler.start()
        for thread in threads:
            thread.start()
        time.sleep(options.duration)
        stop.set()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        sampler.join()
        problems = verify_ledgers(url, [client.ledger for client in clients])
        alive = server.poll() is None
    finally:
        stop_server(server)
        drop_run_database(options.backend, options.database_url, url)

    counts: Counter[str] = Counter()
    errors: list[str] = []
    for client in clients:
        counts.update(client.counts)
        errors.extend(client.errors)
    error_count = counts.pop("error", 0) + sum(1 for text in errors if text.startswith("setup"))
    calls = sum(counts.values())
    requests = sum(client.requests for client in clients)
    writes = sum(client.ledger.writes for client in clients)
    live = sum(len(c.ledger.models) + len(c.ledger.records) + len(c.ledger.tags)
               for c in clients)
    deleted = sum(len(client.ledger.deleted) for client in clients)

    after_warmup = [rss for at, rss in samples if at >= warmup]
    first = statistics.median(after_warmup[:RSS_WINDOW]) if after_warmup else 0
    last = statistics.median(after_warmup[-RSS_WINDOW:]) if after_warmup else 0
    growth_mib = (last - first) / 2**20
    all_rss = [rss for _, rss in samples]
    figures = {
        "backend": options.backend, "clients": options.clients,
        "duration_s": round(elapsed, 1), "operations": calls,
        "operations_per_s": round(calls / elapsed, 1), "requests": requests,
        "requests_per_s": round(requests / elapsed, 1), "errors": error_count,
        "by_operation": dict(sorted(counts.items())),
        "acknowledged_writes": writes, "verified_live": live, "verified_deleted": deleted,
        "verification_problems": len(problems),
        "rss_mib": {"first_sample": round(all_rss[0] / 2**20, 1) if all_rss else None,
                    "after_warmup": round(first / 2**20, 1),
                    "end": round(last / 2**20, 1),
                    "peak": round(max(all_rss) / 2**20, 1) if all_rss else None,
                    "growth_after_warmup": round(growth_mib, 1),
                    "tolerance": options.rss_tolerance_mib, "warmup_s": warmup,
                    "samples": len(samples)},
        "server_alive_at_end": alive,
    }
    print(json.dumps(figures, indent=2))
    for text in errors[:20]:
        print(f"error: {text}", file=sys.stderr)
    for text in problems[:20]:
        print(f"lost or wrong write: {text}", file=sys.stderr)
    if options.json:
        options.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")

    failed = (error_count or problems or not alive or not after_warmup
              or growth_mib > options.rss_tolerance_mib)
    if failed:
        print(f"soak FAILED; the server log is {log_path}", file=sys.stderr)
        return 1
    shutil.rmtree(work_dir, ignore_errors=True)
    print("soak passed", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
