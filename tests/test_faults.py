"""Faults while the service works: kill -9, database outages, a full disk, clock jumps.

Each test injects one fault into real processes and then checks the database
itself: every write that got a 200 reply is there with all its fields, its
owner row (AccountResourceRefVO) and its tags, and no write is half-done.

- kill -9 of `serve` during a stream of writes, and of `aios-records import`
  during a large file, on every backend.
- The database server killed and restarted under load, on a throwaway
  PostgreSQL or MariaDB server that the test starts (test_outage.py checks
  every route during a PostgreSQL outage without load). For SQLite, another
  process holding the write lock.
- A full SQLite database, through `serve --sqlite-max-pages`.
- Session renewals while every pooled connection is taken.
- Forward and backward jumps of the server's clock for session expiry, through
  the injectable Clock of a server that runs inside the test process.
"""

from __future__ import annotations

import http.client
import json
import os
import pty
import re
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid as uuid_module
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
import uvicorn
from conftest import (
    ADMIN_PASSWORD,
    SESSION_EXPIRED_BODY,
    TEST_BACKEND,
    Reply,
    database_url_for,
    free_port,
    insert_rows,
    launch_server,
    migrate,
    run_cli,
    sha512,
    sqlite_only,
)
from test_import_export import ENGLISH, write_large_reply
from test_outage import INITDB_PATHS, ThrowawayPostgres

from aios_records.accounts.bootstrap import ensure_admin
from aios_records.accounts.sessions import SessionManager
from aios_records.clock import Clock
from aios_records.config import Settings
from aios_records.http.app import create_app
from aios_records.storage import database
from aios_records.storage.schema import (
    RESOURCE_TABLES,
    account_resource_ref_table,
    session_table,
    user_tag_table,
)
from aios_records.storage.types import from_db_time

CENTERS = "/v1/ai/model-centers"
MODELS = "/v1/ai/models"
RECORDS = "/v1/ai/trained-model/records"
GROUPS = "/v1/ai/model-services/instances/groups"
ACCOUNTS = "/v1/accounts"
SHARING = "/v1/accounts/resources/actions"
JSON_HEADERS = {"Content-Type": "application/json"}
WRITER = "writer"
WRITER_PASSWORD = "writer-password"
# Seconds a client waits for one reply before the test fails it.
REPLY_TIMEOUT_S = 30.0


# -- helpers ------------------------------------------------------------------------

def new_uuid() -> str:
    return uuid_module.uuid4().hex


def send(port: int, method: str, path: str, body: dict | None = None,
         session: str | None = None, headers: dict[str, str] | None = None,
         timeout: float = REPLY_TIMEOUT_S) -> Reply:
    """Send one request to /zstack`path`; raise OSError when the server is gone."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    all_headers = {**JSON_HEADERS, **(headers or {})}
    if session:
        all_headers["Authorization"] = f"OAuth {session}"
    try:
        connection.request(method, "/zstack" + path,
                           body=None if body is None else json.dumps(body),
                           headers=all_headers)
        response = connection.getresponse()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()},
                     response.read())
    finally:
        connection.close()


def ok(reply: Reply) -> dict:
    assert reply.status == 200, reply.text
    return reply.json()


def login(port: int, name: str, password: str) -> str:
    body = {"logInByAccount": {"accountName": name, "password": sha512(password)}}
    return ok(send(port, "PUT", "/v1/accounts/login", body))["inventory"]["uuid"]


@dataclass
class World:
    """A public model center, a normal account `writer` and its service group."""

    admin: str
    writer: str
    writer_uuid: str
    center: str
    group: str


def build_world(port: int) -> World:
    admin = login(port, "admin", ADMIN_PASSWORD)
    center = ok(send(port, "POST", CENTERS, {"param": {
        "name": "mc-faults", "managementIp": "10.0.0.1", "managementPort": 8989}},
        admin))["inventory"]["uuid"]
    ok(send(port, "PUT", SHARING, {"shareResource": {"resourceUuids": [center],
                                                     "toPublic": True}}, admin))
    account = ok(send(port, "POST", ACCOUNTS, {"params": {
        "name": WRITER, "password": sha512(WRITER_PASSWORD)}}, admin))["inventory"]
    writer = login(port, WRITER, WRITER_PASSWORD)
    group = ok(send(port, "POST", GROUPS, {"params": {
        "name": "ft-faults", "status": "Running", "modelServiceType": "FineTune",
        "type": "Container"}}, writer))["inventory"]["uuid"]
    return World(admin, writer, account["uuid"], center, group)


def tag_for(uuid: str) -> str:
    """Return the one user tag that every create in these tests attaches."""
    return f"t-{uuid}"


@dataclass
class Ledger:
    """Acknowledged and in-doubt writes of the writer threads.

    A write is in doubt when its request was sent but no reply came back,
    because the server or the database died meanwhile: it may or may not
    have happened, but it must have happened wholly or not at all.
    """

    models: dict[str, dict] = field(default_factory=dict)
    records: dict[str, dict] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)
    # uuid -> the field values an in-doubt create or update would have left
    in_doubt: dict[str, dict] = field(default_factory=dict)
    rejected: set[str] = field(default_factory=set)
    statuses: dict[int, int] = field(default_factory=dict)
    unexpected: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def acknowledged(self) -> int:
        """Count the writes that got a 200 reply so far; the count never goes down.

        The ledger's own entries can shrink: an acknowledged record whose
        delete is then cut off by the kill moves to `in_doubt`.
        """
        with self.lock:
            return self.statuses.get(200, 0)


class Writer:
    """A thread that creates, updates and deletes models and records until stopped.

    Every create chooses its uuid (`resourceUuid`) and one user tag derived
    from it, so the test can tell a complete write from a half-done one.
    `outage_ok` accepts 503 SYS.1000 "database is unavailable" replies.
    Such a write is in doubt: when the database dies during the COMMIT, the
    commit can be applied while its acknowledgement is lost, and the server
    cannot tell (seen once on MariaDB in CI). It must be whole or absent.
    """

    def __init__(self, port: int, world: World, ledger: Ledger, number: int,
                 outage_ok: bool = False) -> None:
        self.port = port
        self.world = world
        self.ledger = ledger
        self.number = number
        self.outage_ok = outage_ok
        self.stop = threading.Event()
        self.server_gone = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.own_records: list[str] = []
        self.own_models: list[str] = []

    def start(self) -> None:
        self.thread.start()

    def join(self) -> None:
        self.stop.set()
        self.thread.join(timeout=REPLY_TIMEOUT_S + 10)
        assert not self.thread.is_alive(), f"writer {self.number} did not stop"

    def write(self, method: str, path: str, body: dict | None, target: str,
              result: dict | None) -> bool:
        """Send one write and record its outcome; return whether it was acknowledged."""
        try:
            reply = send(self.port, method, path, body, self.world.writer)
        except OSError:
            with self.ledger.lock:
                self.ledger.in_doubt[target] = result if result is not None else {}
            self.server_gone = True
            return False
        with self.ledger.lock:
            self.ledger.statuses[reply.status] = self.ledger.statuses.get(reply.status, 0) + 1
            if reply.status == 200:
                return True
            if self.outage_ok and reply.status == 503 and \
                    b"database is unavailable" in reply.body:
                if method == "POST":
                    self.ledger.rejected.add(target)
                self.ledger.in_doubt[target] = result if result is not None else {}
                return False
            self.ledger.unexpected.append(f"{method} {path}: {reply.status} {reply.text}")
        return False

    def run(self) -> None:
        step = 0
        while not self.stop.is_set() and not self.server_gone:
            step += 1
            if step % 4 == 0 and self.own_records:
                self.delete_record()
            elif step % 4 == 3 and self.own_models:
                self.update_model()
            elif step % 2:
                self.create_model()
            else:
                self.create_record()

    def create_model(self) -> None:
        uuid = new_uuid()
        fields = {"name": f"m-{self.number}-{uuid[:8]}", "modelCenterUuid": self.world.center,
                  "description": f"writer {self.number}", "size": len(self.own_models) + 1}
        body = {"param": {**fields, "resourceUuid": uuid}, "userTags": [tag_for(uuid)]}
        if self.write("POST", MODELS, body, uuid, fields):
            with self.ledger.lock:
                self.ledger.models[uuid] = fields
            self.own_models.append(uuid)

    def create_record(self) -> None:
        if not self.own_models:
            self.create_model()
            return
        uuid = new_uuid()
        fields = {"modelUuid": self.own_models[-1],
                  "modelServiceInstanceGroupUuid": self.world.group}
        body = {"params": {**fields, "resourceUuid": uuid}, "userTags": [tag_for(uuid)]}
        if self.write("POST", RECORDS, body, uuid, fields):
            with self.ledger.lock:
                self.ledger.records[uuid] = fields
            self.own_records.append(uuid)

    def update_model(self) -> None:
        uuid = self.own_models[-1]
        change = {"description": f"updated {new_uuid()[:8]}"}
        with self.ledger.lock:
            expected = {**self.ledger.models[uuid], **change}
        if self.write("PUT", f"{MODELS}/{uuid}", {"updateModel": change}, uuid, expected):
            with self.ledger.lock:
                self.ledger.models[uuid] = expected
                # This acknowledged update decides the fields an earlier
                # in-doubt one may have written.
                self.ledger.in_doubt.pop(uuid, None)

    def delete_record(self) -> None:
        uuid = self.own_records.pop(0)
        if self.write("DELETE", f"{RECORDS}/{uuid}", None, uuid, None):
            with self.ledger.lock:
                del self.ledger.records[uuid]
                self.ledger.deleted.add(uuid)
        else:
            # Unacknowledged, so the record may or may not be gone.
            with self.ledger.lock:
                self.ledger.in_doubt[uuid] = self.ledger.records.pop(uuid)


@dataclass
class Stored:
    """The rows that the writer's resources left in the database."""

    rows: dict[str, dict]
    owners: dict[str, str]
    tags: dict[str, list[str]]
    orphan_owner_rows: list[str]
    orphan_tags: list[str]


def read_stored(url: str) -> Stored:
    engine = database.create_engine(url)
    try:
        with engine.connect() as conn:
            rows: dict[str, dict] = {}
            resource_uuids: set[str] = set()
            for name, table in RESOURCE_TABLES.items():
                for row in conn.execute(sa.select(table)):
                    resource_uuids.add(row.uuid)
                    if name in ("Model", "TrainedModelRecord"):
                        rows[row.uuid] = dict(row._mapping)
            owners = {row.resourceUuid: row.ownerAccountUuid for row in conn.execute(
                sa.select(account_resource_ref_table))}
            tags: dict[str, list[str]] = {}
            for row in conn.execute(sa.select(user_tag_table)):
                tags.setdefault(row.resourceUuid, []).append(row.tag)
    finally:
        engine.dispose()
    return Stored(rows, owners, tags,
                  orphan_owner_rows=sorted(set(owners) - resource_uuids),
                  orphan_tags=sorted(set(tags) - resource_uuids))


def assert_complete(stored: Stored, uuid: str, fields: dict, owner: str) -> None:
    row = stored.rows.get(uuid)
    assert row is not None, f"acknowledged {uuid} is missing"
    for name, value in fields.items():
        assert row[name] == value, f"{uuid}: {name} is {row[name]!r}, acknowledged {value!r}"
    assert stored.owners.get(uuid) == owner, f"{uuid} has owner row {stored.owners.get(uuid)}"
    assert stored.tags.get(uuid) == [tag_for(uuid)], f"{uuid} has tags {stored.tags.get(uuid)}"


def assert_ledger_stored(ledger: Ledger, stored: Stored, world: World) -> None:
    """Check every acknowledged write, and that in-doubt writes are whole or absent."""
    for items in (ledger.models, ledger.records):
        for uuid, fields in items.items():
            if uuid in ledger.in_doubt:
                continue
            assert_complete(stored, uuid, fields, world.writer_uuid)
    for uuid in ledger.deleted:
        assert uuid not in stored.rows, f"acknowledged delete of {uuid} is undone"
        assert uuid not in stored.owners, f"deleted {uuid} kept its owner row"
        assert uuid not in stored.tags, f"deleted {uuid} kept its tags"
    for uuid, fields in ledger.in_doubt.items():
        if uuid in stored.rows:
            row = stored.rows[uuid]
            previous = ledger.models.get(uuid) or ledger.records.get(uuid) or {}
            for name, value in fields.items():
                assert row[name] in (value, previous.get(name)), \
                    f"in-doubt {uuid}: {name} is {row[name]!r}"
            assert stored.owners.get(uuid) == world.writer_uuid, f"in-doubt {uuid} has no owner"
            assert stored.tags.get(uuid) == [tag_for(uuid)], f"in-doubt {uuid} lacks its tag"
        else:
            assert uuid not in stored.owners, f"in-doubt {uuid} left an owner row alone"
            assert uuid not in stored.tags, f"in-doubt {uuid} left a tag alone"


def assert_nothing_half_done(stored: Stored, world: World) -> None:
    """Every model and record of the writer has its owner row and its one tag."""
    for uuid, row in stored.rows.items():
        if row.get("name", "").startswith("m-") or "modelServiceInstanceGroupUuid" in row:
            assert stored.owners.get(uuid) == world.writer_uuid, f"{uuid} has no owner row"
            assert stored.tags.get(uuid) == [tag_for(uuid)], f"{uuid} has tags " \
                f"{stored.tags.get(uuid)}"
    assert stored.orphan_owner_rows == []
    assert stored.orphan_tags == []


def sqlite_integrity(url: str) -> str:
    path = sa.engine.make_url(url).database
    connection = sqlite3.connect(path)
    try:
        return connection.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        connection.close()


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        time.sleep(0.05)


# -- kill -9 of the server during writes ------------------------------------------------

# Acknowledged writes to collect before the kill, and the time allowed for them.
WRITES_BEFORE_KILL = 60
WRITE_PHASE_TIMEOUT_S = 60


def test_kill_during_writes(make_server, tmp_path):
    data_dir = tmp_path / "killed"
    server = make_server("--admin-password", ADMIN_PASSWORD, data_dir=data_dir)
    world = build_world(server.port)
    ledger = Ledger()
    writers = [Writer(server.port, world, ledger, number) for number in range(4)]
    for writer in writers:
        writer.start()

    wait_until(lambda: ledger.acknowledged() >= WRITES_BEFORE_KILL, WRITE_PHASE_TIMEOUT_S,
               f"{WRITES_BEFORE_KILL} acknowledged writes")
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(timeout=10)
    for writer in writers:
        writer.join()

    print(f"killed after {ledger.acknowledged()} acknowledged writes, "
          f"{len(ledger.in_doubt)} in doubt")
    assert ledger.unexpected == []
    assert ledger.acknowledged() >= WRITES_BEFORE_KILL
    if TEST_BACKEND == "sqlite":
        assert sqlite_integrity(server.database_url) == "ok"
    stored = read_stored(server.database_url)
    assert_ledger_stored(ledger, stored, world)
    assert_nothing_half_done(stored, world)

    restarted = make_server("--admin-password", ADMIN_PASSWORD, data_dir=data_dir)
    # Sessions live in the database, so the writer's session outlived the process.
    models = ok(send(restarted.port, "GET", f"{MODELS}?q=name~=m-%25&count=true", None,
                     world.writer))
    stored_models = [uuid for uuid, row in stored.rows.items()
                     if row.get("name", "").startswith("m-")]
    assert models["total"] == len(stored_models)
    for uuid in list(ledger.models)[:5]:
        inventories = ok(send(restarted.port, "GET", f"{MODELS}/{uuid}", None,
                              world.writer))["inventories"]
        assert [row["uuid"] for row in inventories] == [uuid]
    after = Writer(restarted.port, world, Ledger(), 9)
    after.create_model()
    assert len(after.ledger.models) == 1, after.ledger.unexpected


# -- kill -9 of an import ---------------------------------------------------------------

IMPORT_ROWS = 60_000
# The import is killed once its progress bar shows at least this share of
# the file read and before it shows the end. Batches of the one transaction
# have then been written and the commit has not happened yet.
KILL_FROM_PERCENT = 20
KILL_BEFORE_PERCENT = 90
OWNER_UUID = "0123456789abcdef0123456789abcdef"
PROGRESS_PERCENT = re.compile(rb"(\d+)%")


def read_progress(terminal: int, seen: bytearray) -> int | None:
    """Read what the import wrote to its terminal so far; return its last percentage, if any."""
    while True:
        ready, _, _ = select.select([terminal], [], [], 0)
        if not ready:
            break
        try:
            chunk = os.read(terminal, 65536)
        except OSError:  # the import closed its end of the terminal
            break
        if not chunk:
            break
        seen.extend(chunk)
    found = PROGRESS_PERCENT.findall(bytes(seen[-200:]))
    return int(found[-1]) if found else None


def imported_counts(url: str) -> tuple[int, int]:
    """Return the number of records and of their owner rows."""
    engine = database.create_engine(url)
    try:
        with engine.connect() as conn:
            records = conn.execute(sa.select(sa.func.count()).select_from(
                RESOURCE_TABLES["TrainedModelRecord"])).scalar_one()
            owners = conn.execute(sa.select(sa.func.count()).select_from(
                account_resource_ref_table).where(
                account_resource_ref_table.c.ownerAccountUuid == OWNER_UUID)).scalar_one()
    finally:
        engine.dispose()
    return records, owners


def test_kill_during_import(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    url = database_url_for(data_dir)
    migrate(url)
    insert_rows(url, "AccountVO", [{
        "uuid": OWNER_UUID, "name": "importer", "type": "Normal", "password": "unused",
        "createDate": "2025-11-19 10:00:00", "lastOpDate": "2025-11-19 10:00:00"}])
    path = tmp_path / "records.json"
    write_large_reply(path, IMPORT_ROWS)
    command = [sys.executable, "-m", "aios_records", "import", "--data-dir", str(data_dir),
               "--database-url", url, "--time-zone", "UTC", "--owner", "importer", str(path)]

    # On a terminal the import draws a progress bar by bytes read, updated
    # after every batch. The test reads that bar to pick the moment of the kill.
    terminal, import_side = pty.openpty()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=import_side)
    os.close(import_side)
    seen = bytearray()
    percent = None
    try:
        def progressed() -> bool:
            nonlocal percent
            percent = read_progress(terminal, seen)
            return (process.poll() is not None
                    or (percent is not None and percent >= KILL_FROM_PERCENT))

        wait_until(progressed, 120, "the import's progress bar")
        still_running = process.poll() is None
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
        os.close(terminal)
    assert still_running, f"the import ended before the kill: {bytes(seen[-300:])!r}"
    assert percent is not None and percent < KILL_BEFORE_PERCENT, (
        f"killed at {percent}% of the file, too close to the commit; make the file larger")

    if TEST_BACKEND == "sqlite":
        assert sqlite_integrity(url) == "ok"
    # MariaDB rolls the killed client's transaction back after it notices the
    # closed connection, so wait for the count to settle at zero.
    wait_until(lambda: imported_counts(url) == (0, 0), 60, "the killed import to roll back")

    result = run_cli(*command[3:], env=ENGLISH)
    assert f"TrainedModelRecord rows imported: {IMPORT_ROWS}" in result.stderr
    assert imported_counts(url) == (IMPORT_ROWS, IMPORT_ROWS)


# -- SQLite: a full database --------------------------------------------------------------

# Pages the database may grow by past its size right after migration: room
# for about 60 models with 2,000-character descriptions.
SPARE_PAGES = 40
DESCRIPTION = "d" * 2000


def sqlite_page_count(url: str) -> int:
    connection = sqlite3.connect(sa.engine.make_url(url).database)
    try:
        return connection.execute("PRAGMA page_count").fetchone()[0]
    finally:
        connection.close()


def model_rows(url: str) -> list[tuple]:
    engine = database.create_engine(url)
    try:
        with engine.connect() as conn:
            table = RESOURCE_TABLES["Model"]
            return [tuple(row) for row in conn.execute(sa.select(table).order_by(table.c.uuid))]
    finally:
        engine.dispose()


def fill_with_models(port: int, world: World) -> tuple[list[str], Reply]:
    """Create models until a create fails; return the created uuids and the failing reply."""
    created: list[str] = []
    for number in range(2000):
        reply = send(port, "POST", MODELS, {"param": {
            "name": f"m-full-{number}", "modelCenterUuid": world.center,
            "description": DESCRIPTION}, "userTags": [f"full-{number}"]}, world.writer)
        if reply.status != 200:
            return created, reply
        created.append(reply.json()["inventory"]["uuid"])
    raise AssertionError("2,000 models fit; the page limit had no effect")


@sqlite_only
def test_sqlite_database_full(make_server, tmp_path):
    data_dir = tmp_path / "full"
    url = database_url_for(data_dir)
    data_dir.mkdir()
    migrate(url)
    limit = sqlite_page_count(url) + SPARE_PAGES
    server = make_server("--admin-password", ADMIN_PASSWORD, "--sqlite-max-pages", str(limit),
                         data_dir=data_dir)
    world = build_world(server.port)

    created, failed = fill_with_models(server.port, world)
    print(f"{len(created)} models fit in {limit} pages")
    assert len(created) >= 10, failed.text
    assert failed.status == 503, failed.text
    error = failed.json()["error"]
    assert error["code"] == "SYS.1000"
    assert error["description"] == "An internal error happened in system"
    assert error["details"].startswith("the database is full, so the request wrote nothing")
    assert "--sqlite-max-pages" in error["details"]
    request_id = error["details"].split("request id ")[1].split(")")[0]
    assert f"request {request_id} of account {world.writer_uuid} failed, the database is " \
           "full" in server.log_text()
    assert "Traceback" not in server.log_text()

    # A rejected write changes nothing; SYS.1000 details stay English in zh_CN.
    before = model_rows(url)
    reply = send(server.port, "POST", MODELS, {"param": {
        "name": "m-one-more", "modelCenterUuid": world.center, "description": DESCRIPTION}},
        world.writer, headers={"Accept-Language": "zh-CN"})
    assert reply.status == 503, reply.text
    assert reply.json()["error"]["details"].startswith("the database is full")
    assert model_rows(url) == before

    # Reads go on, and the file is intact.
    listed = ok(send(server.port, "GET", f"{MODELS}?q=name~=m-full-%25&count=true", None,
                     world.writer))
    assert listed["total"] == len(created)
    got = ok(send(server.port, "GET", f"{MODELS}/{created[0]}", None, world.writer))
    assert got["inventories"][0]["description"] == DESCRIPTION
    assert sqlite_integrity(url) == "ok"

    # Deleting frees pages inside the file, and writes succeed again.
    for uuid in created[:10]:
        ok(send(server.port, "DELETE", f"{MODELS}/{uuid}", None, world.writer))
    again = ok(send(server.port, "POST", MODELS, {"param": {
        "name": "m-after-delete", "modelCenterUuid": world.center,
        "description": DESCRIPTION}}, world.writer))
    assert again["inventory"]["name"] == "m-after-delete"

    # A restart with a higher limit gives room for many more.
    server.stop()
    raised = make_server("--admin-password", ADMIN_PASSWORD, "--sqlite-max-pages",
                         str(limit * 4), data_dir=data_dir)
    more, _ = fill_with_models(raised.port, world)
    assert len(more) > 2 * len(created)
    listed = ok(send(raised.port, "GET", f"{MODELS}?q=name~=m-full-%25&count=true", None,
                     world.writer))
    assert listed["total"] == len(created) - 10 + len(more)
    assert sqlite_integrity(url) == "ok"


@sqlite_only
def test_sqlite_max_pages_rejects_zero(tmp_path):
    result = run_cli("serve", "--data-dir", str(tmp_path / "data"), "--sqlite-max-pages", "0",
                     check=False)
    assert result.returncode == 2
    assert "--sqlite-max-pages" in result.stderr
    assert "0 is not in the range x>=1" in result.stderr


# -- SQLite: the write lock held by another process ---------------------------------------

# Seconds the other process holds the lock: longer than the server's busy timeout.
LOCK_HOLD_S = database.SQLITE_BUSY_TIMEOUT_MS / 1000 + 3


@sqlite_only
def test_sqlite_locked_by_other_process(make_server):
    server = make_server("--admin-password", ADMIN_PASSWORD)
    world = build_world(server.port)
    kept = ok(send(server.port, "POST", MODELS, {"param": {
        "name": "m-before-lock", "modelCenterUuid": world.center}}, world.writer))["inventory"]
    path = sa.engine.make_url(server.database_url).database
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sqlite3, sys, time\n"
        "connection = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "connection.execute('BEGIN IMMEDIATE')\n"
        "print('locked', flush=True)\n"
        "time.sleep(float(sys.argv[2]))\n"
        "connection.execute('ROLLBACK')\n"), path, str(LOCK_HOLD_S)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        blocked_uuid = new_uuid()
        reply = send(server.port, "POST", MODELS, {"param": {
            "name": "m-during-lock", "modelCenterUuid": world.center,
            "resourceUuid": blocked_uuid}}, world.writer)
        assert reply.status == 503, reply.text
        error = reply.json()["error"]
        assert error["code"] == "SYS.1000"
        assert "database is unavailable or failed" in error["details"]
        # WAL readers do not wait for the writer's lock.
        read = ok(send(server.port, "GET", f"{MODELS}/{kept['uuid']}", None, world.writer))
        assert [row["name"] for row in read["inventories"]] == ["m-before-lock"]
        assert holder.poll() is None, "the lock was released before the checks ended"
    finally:
        holder.wait(timeout=LOCK_HOLD_S + 10)
        holder.stdout.close()

    retried = ok(send(server.port, "POST", MODELS, {"param": {
        "name": "m-during-lock", "modelCenterUuid": world.center,
        "resourceUuid": blocked_uuid}}, world.writer))
    assert retried["inventory"]["uuid"] == blocked_uuid
    names = [row["name"] for row in ok(send(server.port, "GET", f"{MODELS}?q=name~=m-%25",
                                            None, world.writer))["inventories"]]
    assert sorted(names) == ["m-before-lock", "m-during-lock"]
    assert "database is locked" in server.log_text()


# -- database outage under load --------------------------------------------------------------

MARIADB_START_TIMEOUT_S = 60


class ThrowawayMariaDB:
    """A MariaDB server in a temporary directory, listening on 127.0.0.1 only."""

    def __init__(self, base_dir: Path, port: int) -> None:
        self.base_dir = base_dir
        self.data_dir = base_dir / "data"
        self.port = port
        self.log_path = base_dir / "error.log"
        self.pid_path = base_dir / "mariadb.pid"
        self.admin_url = f"mysql://root@127.0.0.1:{port}/mysql"
        self.url = f"mysql://root@127.0.0.1:{port}/aios"
        self.process: subprocess.Popen | None = None

    def _as_mysql(self, command: list[str]) -> list[str]:
        return ["runuser", "-u", "mysql", "--", *command] if os.geteuid() == 0 else command

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.base_dir, "mysql", "mysql")
        subprocess.run(self._as_mysql([
            "mariadb-install-db", "--no-defaults", f"--datadir={self.data_dir}",
            "--auth-root-authentication-method=normal", "--skip-test-db"]),
            check=True, capture_output=True, timeout=120)

    def create_database(self) -> None:
        engine = sa.create_engine(database.normalize_url(self.admin_url),
                                  isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql(
                    "CREATE DATABASE aios CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
        finally:
            engine.dispose()

    def start(self) -> None:
        # --skip-grant-tables lets root@127.0.0.1 in without a password; the
        # server listens on loopback only and lives as long as the test. The
        # InnoDB log is written at every commit (the default), because with
        # --innodb-flush-log-at-trx-commit=0, as .ci/run starts its server,
        # kill -9 loses the last second of acknowledged commits.
        self.process = subprocess.Popen(self._as_mysql([
            "/usr/sbin/mariadbd", "--no-defaults", f"--datadir={self.data_dir}",
            f"--socket={self.base_dir / 'mariadb.sock'}", f"--port={self.port}",
            "--bind-address=127.0.0.1", "--skip-grant-tables", "--skip-name-resolve",
            "--max-connections=200",
            f"--log-error={self.log_path}", f"--pid-file={self.pid_path}"]))
        wait_until(self.accepts_connections, MARIADB_START_TIMEOUT_S, "MariaDB to start")

    def accepts_connections(self) -> bool:
        assert self.process is not None and self.process.poll() is None, self.log_text()
        engine = sa.create_engine(database.normalize_url(self.admin_url),
                                  connect_args={"connect_timeout": 2})
        try:
            with engine.connect():
                return True
        except sa.exc.OperationalError:
            return False
        finally:
            engine.dispose()

    def stop(self) -> None:
        """Kill the server at once, as a crash or an operator's kill -9 would."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        # runuser passes the signal on to mariadbd; wait for its pid file too.
        if self.pid_path.exists():
            pid = int(self.pid_path.read_text().split()[0])
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            wait_until(lambda: not Path(f"/proc/{pid}").exists(), 30, "mariadbd to exit")
            self.pid_path.unlink(missing_ok=True)

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""


@dataclass
class OutageTarget:
    """A throwaway database server that a test may stop and start."""

    url: str
    stop: Callable[[], None]
    start: Callable[[], None]


def throwaway_base_dir(prefix: str) -> Path:
    # Not a pytest tmp_path: pytest makes /tmp/pytest-of-USER mode 0700, so the
    # database's system user could not reach a data directory below it.
    base_dir = Path(tempfile.mkdtemp(prefix=prefix))
    base_dir.chmod(0o755)
    return base_dir


@pytest.fixture
def outage_target() -> Iterator[OutageTarget]:
    if TEST_BACKEND == "postgresql":
        if not INITDB_PATHS:
            pytest.skip("PostgreSQL binaries missing: no /usr/lib/postgresql/*/bin/initdb")
        base_dir = throwaway_base_dir("aios-records-faults-pg-")
        postgres = ThrowawayPostgres(base_dir, free_port())
        try:
            postgres.init()
            postgres.start()
            yield OutageTarget(postgres.url, lambda: postgres.stop("immediate"), postgres.start)
        finally:
            if postgres.is_running():
                postgres.stop("immediate")
            shutil.rmtree(base_dir, ignore_errors=True)
    elif TEST_BACKEND == "mariadb":
        if not os.path.exists("/usr/sbin/mariadbd") or not shutil.which("mariadb-install-db"):
            pytest.skip("MariaDB binaries missing: no /usr/sbin/mariadbd or mariadb-install-db "
                        "(install Debian's mariadb-server package)")
        base_dir = throwaway_base_dir("aios-records-faults-mariadb-")
        mariadb = ThrowawayMariaDB(base_dir, free_port())
        try:
            mariadb.init()
            mariadb.start()
            mariadb.create_database()
            yield OutageTarget(mariadb.url, mariadb.stop, mariadb.start)
        finally:
            if mariadb.is_running():
                mariadb.stop()
            shutil.rmtree(base_dir, ignore_errors=True)
    else:
        pytest.skip(f"needs a database server to stop; this run uses {TEST_BACKEND} "
                    "(test_sqlite_locked_by_other_process is the SQLite case)")


# Seconds of load before, during and after the outage.
LOAD_BEFORE_S = 2.0
OUTAGE_S = 4.0
RECOVERY_TIMEOUT_S = 40.0


def test_database_outage_under_load(outage_target, tmp_path):
    port = free_port()
    data_dir = tmp_path / "server"
    server = launch_server(data_dir, port, [
        "--port", str(port), "--data-dir", str(data_dir), "--database-url", outage_target.url,
        "--admin-password", ADMIN_PASSWORD])
    try:
        world = build_world(port)
        ledger = Ledger()
        writers = [Writer(port, world, ledger, number, outage_ok=True) for number in range(4)]
        for writer in writers:
            writer.start()
        time.sleep(LOAD_BEFORE_S)
        before_outage = ledger.acknowledged()

        outage_target.stop()
        time.sleep(OUTAGE_S)
        with ledger.lock:
            rejected_during_outage = len(ledger.rejected)
        outage_target.start()

        recovered_from = ledger.acknowledged()
        wait_until(lambda: ledger.acknowledged() >= recovered_from + 20, RECOVERY_TIMEOUT_S,
                   "writes to succeed after the database returned")
        for writer in writers:
            writer.join()

        print(f"replies by status {ledger.statuses}, {ledger.acknowledged()} acknowledged "
              f"writes, {len(ledger.rejected)} creates rejected, {len(ledger.in_doubt)} in doubt")
        assert before_outage > 0
        assert rejected_during_outage > 0, ledger.statuses
        assert ledger.unexpected == []
        assert not any(writer.server_gone for writer in writers)
        assert set(ledger.statuses) <= {200, 503}, ledger.statuses
        assert server.process.poll() is None, server.log_text()

        stored = read_stored(outage_target.url)
        assert_ledger_stored(ledger, stored, world)
        assert_nothing_half_done(stored, world)
        assert "Traceback" not in server.log_text()
    finally:
        server.stop()


# -- clock jumps and session expiry -----------------------------------------------------------

SESSION_TIMEOUT_S = 600


class FrozenClock(Clock):
    """A Clock that does not advance by itself, so only the test's offset changes the time."""

    def __init__(self) -> None:
        super().__init__()
        self.base = datetime.now(timezone.utc).replace(microsecond=0)

    def now(self) -> datetime:
        return self.base + self.offset


class InProcessServer:
    """`create_app` under uvicorn in a thread, with a Clock the test moves."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.clock = FrozenClock()
        self.port = free_port()
        self.url = database_url_for(data_dir)
        self.engine = database.create_engine(self.url)
        database.prepare_schema(self.engine)
        ensure_admin(self.engine, ADMIN_PASSWORD, data_dir)
        settings = Settings(database_url=self.url, data_dir=data_dir, port=self.port,
                            time_zone="Asia/Shanghai", session_timeout=SESSION_TIMEOUT_S)
        app = create_app(settings, self.engine, self.clock)
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_config=None,
                                access_log=False)
        self.uvicorn = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.uvicorn.run, daemon=True)

    def start(self) -> None:
        self.thread.start()
        wait_until(lambda: self.uvicorn.started, 30, "the in-process server to start")

    def stop(self) -> None:
        self.uvicorn.should_exit = True
        self.thread.join(timeout=30)
        self.engine.dispose()

    def move_clock(self, seconds: float) -> None:
        self.clock.offset += timedelta(seconds=seconds)

    def stored_expiry(self, session: str):
        with self.engine.connect() as conn:
            return conn.execute(sa.select(session_table.c.expiredDate).where(
                session_table.c.uuid == session)).scalar()

    def seconds_left(self, session: str) -> float:
        """Return the seconds from the server's now to the session's stored expiry."""
        stored = self.stored_expiry(session)
        return (from_db_time(stored) - self.clock.now()).total_seconds()

    def valid(self, session: str) -> bool:
        reply = ok(send(self.port, "GET", f"/v1/accounts/sessions/{session}/valid"))
        return reply["valid"]


@pytest.fixture
def clock_server(tmp_path) -> Iterator[InProcessServer]:
    server = InProcessServer(tmp_path / "clock")
    server.start()
    yield server
    server.stop()


def test_forward_jump_expires_exactly(clock_server):
    session = login(clock_server.port, "admin", ADMIN_PASSWORD)
    left = clock_server.seconds_left(session)
    assert left == SESSION_TIMEOUT_S

    # One second before the expiry the session is live, and using it renews it.
    clock_server.move_clock(left - 1)
    assert clock_server.valid(session)
    ok(send(clock_server.port, "GET", MODELS, None, session))
    assert clock_server.seconds_left(session) == SESSION_TIMEOUT_S

    # At the expiry instant it is expired: live means expiry > now.
    clock_server.move_clock(SESSION_TIMEOUT_S)
    assert not clock_server.valid(session)
    reply = send(clock_server.port, "GET", MODELS, None, session)
    assert reply.status == 503
    assert reply.body == SESSION_EXPIRED_BODY
    assert clock_server.stored_expiry(session) is None


def test_large_forward_jump_expires_all(clock_server):
    sessions = [login(clock_server.port, "admin", ADMIN_PASSWORD) for _ in range(3)]
    clock_server.move_clock(timedelta(days=400).total_seconds())

    for session in sessions:
        reply = send(clock_server.port, "GET", MODELS, None, session)
        assert reply.body == SESSION_EXPIRED_BODY
    fresh = login(clock_server.port, "admin", ADMIN_PASSWORD)
    assert clock_server.seconds_left(fresh) == SESSION_TIMEOUT_S
    ok(send(clock_server.port, "GET", MODELS, None, fresh))


def test_backward_jump_keeps_expiry(clock_server):
    session = login(clock_server.port, "admin", ADMIN_PASSWORD)
    expiry = clock_server.stored_expiry(session)

    # Back one hour: the session stays live, and using it neither moves the
    # stored expiry earlier nor later.
    clock_server.move_clock(-3600)
    assert clock_server.valid(session)
    for _ in range(3):
        ok(send(clock_server.port, "GET", MODELS, None, session))
    assert clock_server.stored_expiry(session) == expiry

    # Back to the real time and then to the original expiry: the backward
    # jump did not extend the session.
    clock_server.move_clock(3600)
    clock_server.move_clock(clock_server.seconds_left(session))
    reply = send(clock_server.port, "GET", MODELS, None, session)
    assert reply.body == SESSION_EXPIRED_BODY


def test_backward_jump_then_renewal(clock_server):
    session = login(clock_server.port, "admin", ADMIN_PASSWORD)
    clock_server.move_clock(-3600)
    # Past the original expiry measured on the jumped clock, use slides it as usual.
    clock_server.move_clock(3600 + SESSION_TIMEOUT_S - 5)
    ok(send(clock_server.port, "GET", MODELS, None, session))
    assert clock_server.seconds_left(session) == SESSION_TIMEOUT_S


def test_sweep_follows_clock(clock_server):
    live = login(clock_server.port, "admin", ADMIN_PASSWORD)
    sweeper = SessionManager(clock_server.engine, SESSION_TIMEOUT_S, 500, clock_server.clock)

    clock_server.move_clock(-86400)
    assert sweeper.remove_expired() == 0
    assert clock_server.stored_expiry(live) is not None

    clock_server.move_clock(86400 + SESSION_TIMEOUT_S)
    assert sweeper.remove_expired() >= 1
    assert clock_server.stored_expiry(live) is None


# -- session renewals with every pooled connection taken -------------------------------------

# Concurrent requests, each with a session due for renewal, against a pool of
# --pool-size 1 (2 connections on PostgreSQL and MariaDB, 4 on SQLite).
RENEWING_REQUESTS = 12


def age_sessions(url: str, sessions: list[str], seconds_left: int) -> None:
    """Move the stored expiry of sessions so that their next use rewrites it."""
    engine = database.create_engine(url)
    try:
        with engine.begin() as conn:
            expiry = (datetime.now(timezone.utc) + timedelta(seconds=seconds_left))
            conn.execute(session_table.update().where(session_table.c.uuid.in_(sessions))
                         .values(expiredDate=expiry.strftime("%Y-%m-%d %H:%M:%S")))
    finally:
        engine.dispose()


@pytest.mark.parametrize("path", [MODELS, f"{MODELS}/{'0' * 32}", CENTERS])
def test_renewals_with_pool_exhausted(make_server, path):
    """A request that has a pooled connection renews its session without taking another.

    Taking a second connection could deadlock: with every connection held by
    a request waiting for one more, none returns until the pool timeout (30 s).
    """
    server = make_server("--admin-password", ADMIN_PASSWORD, "--pool-size", "1")
    sessions = [login(server.port, "admin", ADMIN_PASSWORD) for _ in range(RENEWING_REQUESTS)]
    age_sessions(server.database_url, sessions, 60)
    method, body = ("POST", {"param": {"name": "c", "managementIp": "10.0.0.1",
                                       "managementPort": 1}}) if path == CENTERS \
        else ("GET", None)
    replies: list[Reply | None] = [None] * RENEWING_REQUESTS

    def use(index: int) -> None:
        replies[index] = send(server.port, method, path, body, sessions[index], timeout=60)

    started = time.monotonic()
    threads = [threading.Thread(target=use, args=(index,)) for index in range(RENEWING_REQUESTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    elapsed = time.monotonic() - started

    assert [reply.status for reply in replies] == [200] * RENEWING_REQUESTS, \
        [reply.text for reply in replies if reply.status != 200]
    assert elapsed < 20, f"{RENEWING_REQUESTS} requests took {elapsed:.1f} s"
    engine = database.create_engine(server.database_url)
    try:
        with engine.connect() as conn:
            stored = conn.execute(sa.select(session_table.c.expiredDate).where(
                session_table.c.uuid.in_(sessions))).scalars().all()
    finally:
        engine.dispose()
    renewed_after = datetime.now(timezone.utc) + timedelta(seconds=3600)
    assert all(from_db_time(value) > renewed_after for value in stored), stored
