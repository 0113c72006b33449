"""Demo worlds for the benchmark, written once by `aios-records demo-data` and cached.

A world is keyed by its record count, the demo seed, the schema revision and
a hash of `demo.py`, so a new migration or a change to the demo generator
writes a new world instead of reusing a stale one. A SQLite world lives in
CACHE_DIR/worlds/sqlite-<key>/ and a PostgreSQL world in a database named
after the key. `world.json` beside a world marks it complete; a world
without it (an interrupted run) is written again.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import sqlalchemy as sa

import aios_records.demo
from aios_records.storage import database

ADMIN_PASSWORD = "password"
SEED = 1


@dataclass
class World:
    """One demo database the servers read."""

    records: int
    backend: str  # "sqlite" or "postgresql"
    database_url: str
    data_dir: Path  # contains the admin password file, and the SQLite file when backend is sqlite
    generation_s: float
    generation_peak_rss_mib: float
    file_bytes: int | None  # size of the SQLite file, None on PostgreSQL

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "aios-records.sqlite3"


def world_key(records: int) -> str:
    demo_hash = hashlib.sha256(Path(aios_records.demo.__file__).read_bytes()).hexdigest()[:8]
    revision = database.head_revision() or "none"
    return f"r{records}-s{SEED}-{revision}-{demo_hash}"


def sqlite_world(cache_dir: Path, records: int, log) -> World:
    """Return the cached SQLite world of `records` records, writing it first if needed."""
    world_dir = cache_dir / "worlds" / f"sqlite-{world_key(records)}"
    marker = world_dir / "world.json"
    if marker.is_file():
        return _load_marker(marker)
    if world_dir.exists():
        log(f"removing the incomplete world {world_dir}")
        shutil.rmtree(world_dir)
    world_dir.mkdir(parents=True)
    url = database.sqlite_url_for(world_dir)
    seconds, peak = _run_demo_data(url, world_dir, records, log)
    _checkpoint_sqlite(world_dir / "aios-records.sqlite3")
    world = World(records, "sqlite", url, world_dir, seconds, peak,
                  (world_dir / "aios-records.sqlite3").stat().st_size)
    _write_marker(marker, world)
    return world


def postgresql_world(cache_dir: Path, admin_url: str, records: int, log) -> World:
    """Return the PostgreSQL world of `records` records in its own database on `admin_url`.

    `admin_url` must name an account that may create and drop databases.
    """
    name = "aios_bench_" + re.sub(r"[^a-z0-9]+", "_", world_key(records).lower())
    admin = sa.engine.make_url(admin_url)
    world_url = admin.set(database=name).render_as_string(hide_password=False)
    host_key = re.sub(r"[^A-Za-z0-9]+", "-", f"{admin.host}-{admin.port}")
    world_dir = cache_dir / "worlds" / f"postgresql-{host_key}-{name}"
    marker = world_dir / "world.json"
    if marker.is_file() and _postgresql_database_exists(admin_url, name):
        world = _load_marker(marker)
        world.database_url = world_url  # the marker stores it without the password
        return world
    if world_dir.exists():
        shutil.rmtree(world_dir)
    world_dir.mkdir(parents=True)
    _recreate_postgresql_database(admin_url, name, log)
    seconds, peak = _run_demo_data(world_url, world_dir, records, log)
    world = World(records, "postgresql", world_url, world_dir, seconds, peak, None)
    _write_marker(marker, world)
    return world


def _run_demo_data(url: str, data_dir: Path, records: int, log) -> tuple[float, float]:
    """Run `aios-records demo-data`; return its wall time in s and peak RSS in MiB."""
    display = sa.engine.make_url(url).render_as_string(hide_password=True)
    log(f"writing a {records:,}-record demo world into {display}")
    command = ["/usr/bin/time", "-f", "%M", sys.executable, "-m", "aios_records", "demo-data",
               "--database-url", url, "--data-dir", str(data_dir), "--records", str(records),
               "--seed", str(SEED), "--admin-password", ADMIN_PASSWORD]
    started = time.monotonic()
    finished = subprocess.run(command, capture_output=True, text=True)
    seconds = time.monotonic() - started
    if finished.returncode != 0:
        raise RuntimeError(f"demo-data failed with exit code {finished.returncode}:\n"
                           f"{finished.stdout}{finished.stderr}")
    # GNU time prints the peak RSS in KiB as the last line of stderr.
    peak_kib = int(finished.stderr.strip().splitlines()[-1])
    log(f"demo-data took {seconds:.1f} s, peak RSS {peak_kib / 1024:.0f} MiB")
    return seconds, peak_kib / 1024


def _checkpoint_sqlite(path: Path) -> None:
    """Move the WAL into the main file, so a reader in immutable mode reads every row."""
    import sqlite3

    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    finally:
        connection.close()


def checkpoint(world: World) -> None:
    """Checkpoint a SQLite world after a server wrote sessions into it."""
    if world.backend == "sqlite":
        _checkpoint_sqlite(world.sqlite_path)


def _postgresql_database_exists(admin_url: str, name: str) -> bool:
    engine = database.create_engine(admin_url)
    try:
        with engine.connect() as connection:
            found = connection.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name})
            return found.first() is not None
    finally:
        engine.dispose()


def _recreate_postgresql_database(admin_url: str, name: str, log) -> None:
    engine = database.create_engine(admin_url)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            # The name is built from [a-z0-9_] only, so quoting it is enough.
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    log(f"created PostgreSQL database {name}")


def _write_marker(marker: Path, world: World) -> None:
    fields = asdict(world)
    fields["data_dir"] = str(world.data_dir)
    fields["database_url"] = sa.engine.make_url(world.database_url).render_as_string(
        hide_password=True)
    marker.write_text(json.dumps(fields, indent=2) + "\n")


def _load_marker(marker: Path) -> World:
    fields = json.loads(marker.read_text())
    fields["data_dir"] = Path(fields["data_dir"])
    return World(**fields)
