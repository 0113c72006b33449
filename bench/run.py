"""Benchmark aios-records against Datasette and the floor, on cached demo worlds.

Usage:
  python bench/run.py                       # 10k, 100k and 1M records on SQLite
  python bench/run.py --sizes 1000000 --duration 10
  python bench/run.py --postgresql-url postgresql://postgres@127.0.0.1:55432/postgres
  python bench/run.py --smoke               # 300 records, 1 s per scenario, seconds in all

For each world size and backend, the run
1. writes the demo world once with `aios-records demo-data` (cached under --cache-dir);
2. serves it with `aios-records serve` under a SQL recorder, sends every
   scenario once and keeps the SQL the server ran and the reply bodies;
3. times that SQL in a separate process on the server's core, without HTTP;
4. starts aios-records, Datasette (serving the same SQLite file immutable)
   and the floor (bench/floor_app.py, which returns the recorded reply
   bodies from the same uvicorn and Starlette stack), all on one core;
5. loads the three with wrk on the other core, scenario by scenario and
   target after target, recording requests per second, p50 and p99 latency
   and the target's peak RSS. The large reply is fetched once instead.
Results go to --output as JSON. Unless --no-docs is given, the tables in
docs/benchmarks.md and the charts docs/bench-*.png are rewritten from them;
--report-from RESULTS_FILE rewrites them from an earlier run's results.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import logging
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

import loadgen
import report
import scenarios as scenario_module
import servers
import worlds

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
DEFAULT_CACHE = BENCH_DIR / "cache"
DEFAULT_OUTPUT = BENCH_DIR / "results" / "latest.json"
DOCS_PAGE = REPO_DIR / "docs" / "benchmarks.md"
DATASETTE_REQUIREMENTS = ["datasette==0.65.5", "matplotlib==3.11.2"]
CAPTURE_SAMPLE_BYTES = 1 << 20

log = logging.getLogger("bench")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("--sizes", default="10000,100000,1000000",
                        help="Comma-separated record counts of the worlds "
                             "(default 10000,100000,1000000).")
    parser.add_argument("--duration", type=float, default=10.0,
                        help="Seconds of load per scenario and target (default 10).")
    parser.add_argument("--warmup", type=float, default=2.0,
                        help="Seconds of unrecorded load before each recorded run (default 2).")
    parser.add_argument("--connections", type=int, default=8,
                        help="Open connections the load generator keeps (default 8).")
    parser.add_argument("--samples", type=int, default=200,
                        help="Records whose uuids the by-uuid and by-model scenarios rotate "
                             "through (default 200).")
    parser.add_argument("--sql-seconds", type=float, default=2.0,
                        help="Seconds spent timing each scenario's SQL without HTTP "
                             "(default 2; at least 3 runs each).")
    parser.add_argument("--postgresql-url",
                        help="Also run on PostgreSQL, in a database of its own per world size "
                             "created through this URL (an account that may create databases).")
    parser.add_argument("--postgresql-sizes",
                        help="Comma-separated record counts of the PostgreSQL worlds "
                             "(default: the same as --sizes).")
    parser.add_argument("--no-sqlite", action="store_true",
                        help="Skip the SQLite runs (with --postgresql-url).")
    parser.add_argument("--no-datasette", action="store_true", help="Skip Datasette.")
    parser.add_argument("--datasette",
                        help="The datasette command to use (default: a venv under --cache-dir, "
                             "created with " + " ".join(DATASETTE_REQUIREMENTS) + " if missing).")
    parser.add_argument("--load-tool", choices=("auto", "wrk", "python"), default="auto",
                        help="Load generator: wrk, a Python fallback for machines without wrk, "
                             "or auto (wrk when installed; default).")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE,
                        help="Directory for the worlds and the Datasette venv "
                             f"(default {DEFAULT_CACHE}).")
    parser.add_argument("--output", type=Path,
                        help=f"Results file (default {DEFAULT_OUTPUT}, or CACHE_DIR/smoke.json "
                             "with --smoke).")
    parser.add_argument("--no-docs", action="store_true",
                        help="Do not rewrite docs/benchmarks.md and its charts.")
    parser.add_argument("--report-from", type=Path, metavar="RESULTS_FILE",
                        help="Measure nothing: rewrite docs/benchmarks.md and its charts from "
                             "this results file of an earlier run.")
    parser.add_argument("--smoke", action="store_true",
                        help="A check that the harness works: one 300-record world, 1 s per "
                             "scenario, no warm-up, Datasette only when --datasette is given, "
                             "no docs.")
    args = parser.parse_args(argv)

    if args.smoke:
        args.sizes = "300"
        args.duration = 1.0
        args.warmup = 0.0
        args.samples = 20
        args.sql_seconds = 0.1
        args.no_docs = True
        args.no_datasette = args.no_datasette or args.datasette is None
    args.sizes = _parse_sizes(parser, "--sizes", args.sizes)
    args.postgresql_sizes = (args.sizes if args.postgresql_sizes is None or args.smoke
                             else _parse_sizes(parser, "--postgresql-sizes",
                                               args.postgresql_sizes))
    if args.duration < 1:
        parser.error(f"--duration must be at least 1 second (wrk's unit), not {args.duration}")
    if args.no_sqlite and not args.postgresql_url:
        parser.error("--no-sqlite leaves nothing to run without --postgresql-url")
    if args.load_tool == "auto":
        args.load_tool = "wrk" if loadgen.wrk_available() else "python"
    elif args.load_tool == "wrk" and not loadgen.wrk_available():
        parser.error("--load-tool wrk: wrk is not installed (Debian package wrk)")
    args.cache_dir = args.cache_dir.resolve()
    if args.output is None:
        args.output = args.cache_dir / "smoke.json" if args.smoke else DEFAULT_OUTPUT
    return args


def _parse_sizes(parser: argparse.ArgumentParser, option: str, text: str) -> list[int]:
    try:
        sizes = [int(size) for size in text.split(",")]
    except ValueError:
        parser.error(f"{option} must be comma-separated integers, not {text!r}")
    if any(size < 1 for size in sizes):
        parser.error(f"every world size in {option} must be at least 1 record, not {text!r}")
    return sizes


def cores() -> tuple[int | None, int | None]:
    """Choose the server's core and the load generator's.

    Both are None, so nothing is pinned, without 2 usable cores or taskset.
    """
    usable = sorted(os.sched_getaffinity(0))
    if len(usable) < 2 or shutil.which("taskset") is None:
        return None, None
    return usable[0], usable[1]


def ensure_datasette(args: argparse.Namespace) -> Path:
    if args.datasette:
        return Path(args.datasette)
    venv = args.cache_dir / "venv-datasette"
    datasette = venv / "bin" / "datasette"
    if not datasette.exists():
        log.info("creating %s with %s", venv, " ".join(DATASETTE_REQUIREMENTS))
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet",
                        *DATASETTE_REQUIREMENTS], check=True)
    return datasette


def tool_version(command: list[str]) -> str:
    try:
        finished = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"unavailable ({error})"
    text = (finished.stdout or finished.stderr).strip().splitlines()
    return text[0] if text else "unknown"


def machine_facts(args: argparse.Namespace, datasette: Path | None) -> dict:
    import sqlalchemy
    import starlette
    import uvicorn

    cpu_model = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="utf-8") as meminfo:
        mem_total_kib = int(meminfo.readline().split()[1])
    commit = subprocess.run(["git", "-C", str(REPO_DIR), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(REPO_DIR), "status", "--porcelain", "--", "src"],
                           capture_output=True, text=True).stdout.strip()
    versions = {
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": sqlalchemy.__version__,
        "starlette": starlette.__version__,
        "uvicorn": uvicorn.__version__,
        # `wrk -v` prints its version, then a copyright line.
        "wrk": (tool_version(["wrk", "-v"]).split(" Copyright")[0]
                if args.load_tool == "wrk" else "not used"),
    }
    if datasette is not None:
        versions["datasette"] = tool_version([str(datasette), "--version"])
    if args.postgresql_url:
        versions["postgresql"] = postgresql_version(args.postgresql_url)
    return {
        "cpu": cpu_model,
        "nproc": os.cpu_count(),
        "memory_gib": round(mem_total_kib / 1024 / 1024, 1),
        "kernel": platform.release(),
        "versions": versions,
        "commit": commit + (" with uncommitted changes in src/" if dirty else ""),
    }


def postgresql_version(url: str) -> str:
    import sqlalchemy as sa

    from aios_records.storage import database

    engine = database.create_engine(url, pool_size=1)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text("SHOW server_version")).scalar_one()
    finally:
        engine.dispose()


class WorldRun:
    """Every target and scenario on one world."""

    def __init__(self, args: argparse.Namespace, world: worlds.World, datasette: Path | None,
                 scratch: Path) -> None:
        self.args = args
        self.world = world
        self.datasette = datasette
        self.scratch = scratch
        self.server_core, self.load_core = cores()
        samples = scenario_module.sample_records(world.database_url,
                                                 min(args.samples, world.records))
        self.scenarios = scenario_module.build_scenarios(world.records, samples)
        self.result: dict = {
            "records": world.records,
            "backend": world.backend,
            "world": {"generation_s": world.generation_s,
                      "generation_peak_rss_mib": world.generation_peak_rss_mib,
                      "file_bytes": world.file_bytes},
            "samples": len(samples),
            "scenarios": {s.name: {"label": s.label, "datasette_note": s.datasette_note,
                                   "large": s.large, "targets": {}}
                          for s in self.scenarios},
        }

    def entry(self, scenario: scenario_module.Scenario) -> dict:
        return self.result["scenarios"][scenario.name]

    # -- recording the SQL and the reply bodies ---------------------------------

    def record_sql_and_bodies(self) -> None:
        capture_file = self.scratch / "capture.jsonl"
        capture_file.touch()
        port = servers.free_port()
        command = servers.aios_records_command(self.world.database_url, self.world.data_dir,
                                               port, capture_file)
        self.body_dir = self.scratch / "floor-bodies"
        self.body_dir.mkdir()
        with servers.Server("aios-records (SQL recorder)", command, port,
                            self.scratch / "capture-server.log", self.server_core):
            session = servers.login(port, worlds.ADMIN_PASSWORD)
            try:
                for scenario in self.scenarios:
                    before = capture_file.stat().st_size
                    sample = self._read_reply(port, scenario, session)
                    with capture_file.open(encoding="utf-8") as capture:
                        capture.seek(before)
                        statements = [json.loads(line) for line in capture if line.strip()]
                    if not statements:
                        raise RuntimeError(f"scenario {scenario.name} ran no SQL on the record "
                                           "table; the SQL recorder missed it")
                    self.entry(scenario)["sql"] = {
                        "statements": [item["statement"] for item in statements]}
                    self.entry(scenario)["reply_sample_bytes"] = len(sample)
                    (self.body_dir / f"{scenario.name}.body").write_bytes(sample)
                    # One client fetches the large reply, so its SQL runs on one
                    # connection only.
                    self.plan[scenario.name] = {"statements": statements,
                                                "concurrent": not scenario.large}
            finally:
                servers.logout(port, session)

    def _read_reply(self, port: int, scenario: scenario_module.Scenario, session: str) -> bytes:
        if not scenario.large:
            body = servers.get(port, scenario.paths[0], session)
            self.entry(scenario)["reply_bytes"] = len(body)
            return body
        # Only the start of the large reply is kept: the floor repeats it up to
        # the size measured in the timed fetch.
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        try:
            connection.request("GET", scenario.paths[0],
                               headers={"Authorization": f"OAuth {session}"})
            response = connection.getresponse()
            if response.status != 200:
                raise RuntimeError(f"GET {scenario.paths[0]} failed with HTTP {response.status}")
            sample = b""
            while len(sample) < CAPTURE_SAMPLE_BYTES:
                chunk = response.read1(CAPTURE_SAMPLE_BYTES - len(sample))
                if not chunk:
                    break
                sample += chunk
            return sample
        finally:
            connection.close()

    def time_sql(self) -> None:
        plan_file = self.scratch / "sql-plan.json"
        result_file = self.scratch / "sql-times.json"
        plan_file.write_text(json.dumps(self.plan))
        command = [sys.executable, str(BENCH_DIR / "sql_capture.py"), "time",
                   self.world.database_url, str(plan_file), str(result_file),
                   str(self.args.sql_seconds), str(self.args.connections)]
        if self.server_core is not None:
            command = ["taskset", "-c", str(self.server_core), *command]
        subprocess.run(command, check=True)
        for name, timing in json.loads(result_file.read_text()).items():
            self.result["scenarios"][name]["sql"].update(timing)

    # -- loading the targets ----------------------------------------------------

    def _load_one(self, server: servers.Server, paths: list[str], session: str) -> dict:
        script = self.scratch / "wrk.lua"
        if self.args.warmup > 0:
            self._generate_load(server.port, paths, session, self.args.warmup, script)
        cpu_before = loadgen.cpu_seconds(server.pid)
        with loadgen.PeakRss(server.pid) as peak:
            result = self._generate_load(server.port, paths, session, self.args.duration,
                                         script)
        cpu_used = loadgen.cpu_seconds(server.pid) - cpu_before
        if result.errors:
            log.warning("%d of %d requests to %s failed", result.errors, result.requests,
                        server.name)
        # CPU time per request does not depend on the share of the core that
        # other processes left the server, unlike requests per second.
        return {**asdict(result), "peak_rss_mib": peak.mib, "rss_method": peak.method,
                "cpu_s": cpu_used, "cpu_ms_per_request": cpu_used * 1000 / result.requests}

    def _generate_load(self, port: int, paths: list[str], session: str, seconds: float,
                       script: Path) -> loadgen.LoadResult:
        if self.args.load_tool == "wrk":
            return loadgen.run_wrk(port, paths, session, seconds, self.args.connections,
                                   script, self.load_core)
        return loadgen.run_python_load(port, paths, session, seconds, self.args.connections)

    def _fetch_large(self, server: servers.Server, path: str, session: str | None) -> dict:
        with loadgen.PeakRss(server.pid) as peak:
            fetched = loadgen.fetch_large(server.port, path, session)
        if fetched.status != 200:
            raise RuntimeError(f"GET {path} on {server.name} failed with HTTP {fetched.status}")
        return {**asdict(fetched), "peak_rss_mib": peak.mib, "rss_method": peak.method}

    def _measure(self, server: servers.Server, paths: list[str], large: bool,
                 session: str) -> dict:
        if large:
            return self._fetch_large(server, paths[0], session)
        return self._load_one(server, paths, session)

    def _start_servers(self, stack: contextlib.ExitStack) -> dict[str, servers.Server]:
        """Start every target at once; an idle server takes almost no CPU from the loaded one."""
        started = {}
        port = servers.free_port()
        command = servers.aios_records_command(self.world.database_url, self.world.data_dir,
                                               port)
        started["aios-records"] = stack.enter_context(servers.Server(
            "aios-records", command, port, self.scratch / "server.log", self.server_core))
        if self.datasette is not None and self.world.backend == "sqlite":
            port = servers.free_port()
            command = servers.datasette_command(self.datasette, self.world.sqlite_path, port)
            started["datasette"] = stack.enter_context(servers.Server(
                "Datasette", command, port, self.scratch / "datasette.log", self.server_core))
        port = servers.free_port()
        started["floor"] = stack.enter_context(servers.Server(
            "floor", servers.floor_command(self.body_dir, port), port,
            self.scratch / "floor.log", self.server_core))
        return started

    def load_targets(self) -> None:
        """Run each scenario against each target in turn.

        The targets of one scenario run back to back, so a change in the
        machine's other load affects their ratio as little as possible.
        Datasette opens the SQLite file in immutable mode and ignores the WAL,
        where aios-records keeps its session writes until it stops.
        """
        with contextlib.ExitStack() as stack:
            running = self._start_servers(stack)
            ours = running["aios-records"]
            session = servers.login(ours.port, worlds.ADMIN_PASSWORD)
            stack.callback(servers.logout, ours.port, session)
            self.result["aios_records_idle_rss_mib"] = _rss_mib(ours.pid)
            if self.world.backend != "sqlite":
                no_datasette = "Datasette reads SQLite only"
            else:
                no_datasette = "Datasette was not run (--no-datasette or --smoke)"
            for scenario in self.scenarios:
                targets = self.entry(scenario)["targets"]
                targets["aios-records"] = self._measure(ours, scenario.paths, scenario.large,
                                                        session)
                self._log_result(scenario, "aios-records", targets["aios-records"])
                if scenario.large:
                    (self.body_dir / f"{scenario.name}.size").write_text(
                        str(targets["aios-records"]["body_bytes"]))
                if "datasette" not in running:
                    targets["datasette"] = {"skipped": no_datasette}
                elif scenario.datasette_paths is None:
                    targets["datasette"] = {"skipped": scenario.datasette_note}
                else:
                    targets["datasette"] = self._measure(
                        running["datasette"], scenario.datasette_paths, scenario.large, session)
                    self._log_result(scenario, "datasette", targets["datasette"])
                targets["floor"] = self._measure(running["floor"], [f"/floor/{scenario.name}"],
                                                 scenario.large, session)
                self._log_result(scenario, "floor", targets["floor"])
        worlds.checkpoint(self.world)

    def _log_result(self, scenario: scenario_module.Scenario, target: str, result: dict) -> None:
        log.info("%s %s %s %s: %s", self.world.backend, self.world.records, scenario.name,
                 target, _summary(result))

    def check_datasette_replies(self) -> None:
        """Record the size of Datasette's first reply per scenario, failing on an error status."""
        if self.datasette is None or self.world.backend != "sqlite":
            return
        port = servers.free_port()
        command = servers.datasette_command(self.datasette, self.world.sqlite_path, port)
        with servers.Server("Datasette", command, port, self.scratch / "datasette-check.log",
                            self.server_core):
            for scenario in self.scenarios:
                if scenario.datasette_paths and not scenario.large:
                    body = servers.get(port, scenario.datasette_paths[0])
                    self.entry(scenario)["datasette_reply_bytes"] = len(body)

    def run(self) -> dict:
        self.plan: dict[str, dict] = {}
        started = time.time()
        load_before = os.getloadavg()
        log.info("%s, %s records: recording SQL and reply bodies", self.world.backend,
                 self.world.records)
        self.record_sql_and_bodies()
        worlds.checkpoint(self.world)
        self.check_datasette_replies()
        log.info("timing the SQL without HTTP")
        self.time_sql()
        self.load_targets()
        self.result["started"] = datetime.fromtimestamp(started, timezone.utc).isoformat(
            timespec="seconds")
        self.result["elapsed_s"] = round(time.time() - started, 1)
        self.result["load_average"] = {"before": load_before, "after": os.getloadavg()}
        return self.result


def _rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="utf-8") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"VmRSS missing from /proc/{pid}/status")


def _summary(result: dict) -> str:
    if "skipped" in result:
        return "skipped"
    if "last_byte_s" in result:
        return (f"first byte {result['first_byte_s']:.2f} s, last byte "
                f"{result['last_byte_s']:.2f} s, {result['body_bytes']:,} bytes, "
                f"peak RSS {result['peak_rss_mib']:.0f} MiB")
    return (f"{result['requests_per_s']:.0f} req/s, p50 {result['p50_ms']:.2f} ms, "
            f"p99 {result['p99_ms']:.2f} ms, peak RSS {result['peak_rss_mib']:.0f} MiB")


def command_line(argv: list[str] | None) -> str:
    return " ".join(["python", "bench/run.py", *(sys.argv[1:] if argv is None else argv)])


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    args = parse_args(argv)
    args.cache_dir.mkdir(parents=True, exist_ok=True)
    datasette = None if args.no_datasette else ensure_datasette(args)
    if args.report_from:
        results = json.loads(args.report_from.read_text())
        write_docs(results, args.report_from, datasette)
        return

    results = {
        "command": command_line(argv),
        "settings": {"duration_s": args.duration, "warmup_s": args.warmup,
                     "connections": args.connections, "samples": args.samples,
                     "sql_seconds": args.sql_seconds, "load_tool": args.load_tool,
                     "cores": dict(zip(("server", "load"), cores()))},
        "machine": machine_facts(args, datasette),
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "runs": [],
    }
    worlds_to_run = [(records, "sqlite") for records in args.sizes if not args.no_sqlite]
    if args.postgresql_url:
        worlds_to_run += [(records, "postgresql") for records in args.postgresql_sizes]
    for records, backend in worlds_to_run:
        if backend == "sqlite":
            world = worlds.sqlite_world(args.cache_dir, records, log.info)
        else:
            world = worlds.postgresql_world(args.cache_dir, args.postgresql_url, records,
                                            log.info)
        with tempfile.TemporaryDirectory(prefix="aios-bench-") as scratch:
            results["runs"].append(WorldRun(args, world, datasette, Path(scratch)).run())
        _write_results(args.output, results)
    results["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    _write_results(args.output, results)
    log.info("results written to %s", args.output)
    print(report.text_summary(results))
    if not args.no_docs:
        write_docs(results, args.output, datasette)


def write_docs(results: dict, results_path: Path, datasette: Path | None) -> None:
    """Rewrite the generated section of docs/benchmarks.md and, with matplotlib, the charts."""
    report.update_docs(results, DOCS_PAGE, results_path)
    log.info("rewrote the generated section of %s", DOCS_PAGE)
    if datasette is None:
        log.warning("no charts written: matplotlib comes with the Datasette venv, "
                    "which --no-datasette leaves out")
        return
    # matplotlib lives in the Datasette venv, not in aios-records' environment.
    charts_python = datasette.parent / "python"
    try:
        subprocess.run([str(charts_python), str(BENCH_DIR / "charts.py"), str(results_path),
                        str(DOCS_PAGE.parent)], check=True)
        log.info("wrote the charts under %s", DOCS_PAGE.parent)
    except (OSError, subprocess.CalledProcessError) as error:
        log.error("writing the charts with %s failed: %s", charts_python, error)


def _write_results(path: Path, results: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
