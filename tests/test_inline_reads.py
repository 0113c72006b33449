"""Short SQLite reads on the event loop (`serve --inline-reads`, the default).

The inline path must change cost only: every reply equals the one the query
threads give (`--no-inline-reads`) for the same database, and whatever the
inline path cannot serve falls back to the threads.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
import uvicorn
from conftest import (
    ADMIN_PASSWORD,
    TEST_BACKEND,
    Server,
    free_port,
    run_cli,
    sha512,
    start_server,
)

from aios_records.accounts.sessions import SESSION_LOOKUP
from aios_records.config import Settings
from aios_records.demo import EXAMPLE_MODEL_UUID, EXAMPLE_RECORD_UUID
from aios_records.http.app import create_app
from aios_records.http import inline as inline_module
from aios_records.http.inline import InlineEndpoint
from aios_records.storage import database
from aios_records.storage import direct
from aios_records.storage.direct import STEP_BUDGET, NotServedHere, SqliteDirectReader

pytestmark = pytest.mark.skipif(TEST_BACKEND != "sqlite",
                                reason=f"inline reads are SQLite's; this run uses {TEST_BACKEND}")

RECORDS = "/v1/ai/trained-model/records"
MODELS = "/v1/ai/models"
ACCOUNTS = "/v1/accounts"
SHARING = "/v1/accounts/resources/actions"

# Requests whose replies both paths must give alike, errors included.
REQUESTS = [
    f"{RECORDS}/{EXAMPLE_RECORD_UUID}",
    f"{RECORDS}/00000000000000000000000000000000",
    f"{RECORDS}?limit=3",
    f"{RECORDS}?q=modelUuid={EXAMPLE_MODEL_UUID}&limit=5",
    f"{RECORDS}?q=createDate>2025-06-01&sort=-createDate&limit=4&start=2",
    f"{RECORDS}?q=createDate>2025-06-01%2000:00:00.5&limit=2",
    f"{RECORDS}?count=true",
    f"{RECORDS}?q=createDate<2025-06-01&count=true",
    f"{RECORDS}?replyWithCount=true&limit=2&fields=uuid,createDate",
    f"{RECORDS}?q=sourceModel.name~=Qwen%&limit=3",
    f"{RECORDS}?q=uuid?={EXAMPLE_RECORD_UUID},ffffffffffffffffffffffffffffffff",
    f"{RECORDS}?q=uuid=null",
    f"{RECORDS}?limit=0",
    f"{RECORDS}?q=noSuchField=1",
    f"{RECORDS}?q=createDate>yesterday",
    f"{MODELS}?q=name~=%25&limit=2&sort=name",
    f"{MODELS}/{EXAMPLE_MODEL_UUID}",
    f"{ACCOUNTS}?limit=5",
    "/v1/ai/datasets?q=system=false&limit=3",
    "/v1/ai/datasets?q=system=true&count=true",
    f"{MODELS}?q=size>1000&limit=3&sort=size",
    "/v1/user-tags?limit=5",
    "/v1/system-tags?count=true",
]


@pytest.fixture(scope="module")
def pair(tmp_path_factory) -> tuple[Server, Server, dict[str, str]]:
    """Two servers over one demo database: inline reads on, and off."""
    data_dir = tmp_path_factory.mktemp("inline")
    run_cli("demo-data", "--data-dir", str(data_dir), "--records", "300", "--seed", "3",
            "--admin-password", ADMIN_PASSWORD)
    inline = start_server(data_dir, "--log-level", "debug")
    threads = start_server(data_dir, "--log-level", "debug", "--no-inline-reads")
    try:
        admin = inline.login_session()
        name, password = "inline-team", "Inline-Team-Pass-1"
        created = inline.request("POST", ACCOUNTS, body=json.dumps(
            {"params": {"name": name, "password": sha512(password)}}), session=admin)
        assert created.status == 200, created.text
        shared = inline.request("PUT", SHARING, body=json.dumps(
            {"shareResource": {"resourceUuids": [EXAMPLE_RECORD_UUID], "toPublic": True}}),
            session=admin)
        assert shared.status == 200, shared.text
        sessions = {"admin": admin, "normal": inline.login_session(name, password)}
        yield inline, threads, sessions
    finally:
        inline.stop()
        threads.stop()


def request_lines(server: Server) -> list[str]:
    return [line for line in server.log_text().splitlines() if "aios_records.requests" in line]


@pytest.mark.parametrize("who", ["admin", "normal"])
def test_inline_replies_equal_thread_replies(pair, who):
    inline, threads, sessions = pair
    session = sessions[who]

    for path in REQUESTS:
        # The first request compiles in a thread and fills the compiler's
        # caches; the later ones can be read on the event loop.
        for _ in range(3):
            ours = inline.get(path, session=session)
            theirs = threads.get(path, session=session)

            assert (ours.status, ours.body) == (theirs.status, theirs.body), path


def test_inline_path_is_taken(pair):
    inline, threads, sessions = pair
    path = f"{RECORDS}?q=modelUuid={EXAMPLE_MODEL_UUID}&limit=5"
    for server in (inline, threads):
        for _ in range(3):
            assert server.get(path, session=sessions["admin"]).status == 200

    def served_inline(server: Server) -> int:
        return sum(line.endswith(" inline") for line in request_lines(server))

    assert served_inline(inline) >= 2
    assert served_inline(threads) == 0


def test_unknown_session_rejected_inline(pair):
    inline, _, _ = pair
    for token in ("0" * 32, "short", "%00" * 3):
        reply = inline.get(f"{RECORDS}/{EXAMPLE_RECORD_UUID}", session=token)

        assert reply.status in (400, 503), reply.text
        if reply.status == 503:
            assert reply.json()["error"]["code"] == "ID.1001"


@pytest.fixture(scope="module")
def quiet(pair) -> Server:
    """A third server over the pair's database, without debug logging.

    With debug logging on, every query request takes the route's usual
    endpoint, which writes the request line. Without it, replies read on
    the event loop go out from `InlineEndpoint` directly.
    """
    inline, _, _ = pair
    server = start_server(inline.data_dir)
    yield server
    server.stop()


def wire(reply) -> tuple:
    return (reply.status, reply.headers.get("content-type"),
            reply.headers.get("content-length"), reply.body)


@pytest.mark.parametrize("who", ["admin", "normal"])
def test_direct_replies_equal_thread_replies(pair, quiet, who):
    _, threads, sessions = pair
    session = sessions[who]

    for path in REQUESTS:
        for _ in range(3):
            assert wire(quiet.get(path, session=session)) == wire(
                threads.get(path, session=session)), path


def test_logout_elsewhere_ends_remembered_session(pair, quiet):
    # `quiet` learns the session's account, then reads session and page in
    # one statement. A logout through another process must still end the
    # session there at once, for a found row, an empty page and a bad query.
    _, threads, _ = pair
    session = quiet.login_session()
    found = f"{RECORDS}/{EXAMPLE_RECORD_UUID}"
    for _ in range(3):
        assert quiet.get(found, session=session).status == 200

    logout = threads.request("DELETE", f"/v1/accounts/sessions/{session}")
    assert logout.status == 200, logout.text

    for path in (found, f"{RECORDS}/{'0' * 32}", f"{RECORDS}?q=noSuchField=1"):
        reply = quiet.get(path, session=session)
        assert reply.status == 503, (path, reply.text)
        assert reply.json()["error"]["code"] == "ID.1001", path
        assert wire(reply) == wire(threads.get(path, session=session)), path


def test_remembered_session_sees_only_its_rows(pair, quiet):
    # The page read with the session is compiled for the account that an
    # earlier request found. A normal account's GET of a hidden record stays empty.
    inline, _, sessions = pair
    hidden = inline.get(f"{RECORDS}?limit=50&fields=uuid", session=sessions["admin"]).json()
    uuids = [r["uuid"] for r in hidden["inventories"] if r["uuid"] != EXAMPLE_RECORD_UUID]
    assert uuids

    for _ in range(3):
        reply = quiet.get(f"{RECORDS}/{uuids[0]}", session=sessions["normal"])
        assert reply.status == 200, reply.text
        assert reply.json()["inventories"] == []
        shared = quiet.get(f"{RECORDS}/{EXAMPLE_RECORD_UUID}", session=sessions["normal"])
        assert [r["uuid"] for r in shared.json()["inventories"]] == [EXAMPLE_RECORD_UUID]


def test_repeated_request_sees_writes(pair, quiet):
    # From its second request on, `quiet` runs a kept plan for this path and
    # session; the plan keeps the statement, not its rows.
    inline, threads, sessions = pair
    admin = sessions["admin"]
    added = inline.request("POST", MODELS, session=admin, body=json.dumps({"params": {
        "name": "planned-model", "modelCenterUuid": model_center(inline, admin)}}))
    assert added.status == 200, added.text
    uuid = added.json()["inventory"]["uuid"]
    path = f"{MODELS}?q=name=planned-model&limit=5"
    for _ in range(3):
        assert wire(quiet.get(path, session=admin)) == wire(threads.get(path, session=admin))

    updated = threads.request("PUT", f"{MODELS}/{uuid}", session=admin, body=json.dumps(
        {"updateModel": {"description": "written after the plan was kept"}}))
    assert updated.status == 200, updated.text

    reply = quiet.get(path, session=admin)
    assert reply.json()["inventories"][0]["description"] == "written after the plan was kept"
    assert wire(reply) == wire(threads.get(path, session=admin))


def test_same_request_of_two_accounts_kept_apart(pair, quiet):
    # Plans are kept per session, so one account's plan never serves another's request.
    _, threads, sessions = pair
    path = f"{RECORDS}?limit=20&fields=uuid"
    replies = {}
    for _ in range(3):
        for account in ("admin", "normal"):
            replies[account] = quiet.get(path, session=sessions[account])
            assert wire(replies[account]) == wire(
                threads.get(path, session=sessions[account])), account

    assert len(replies["normal"].json()["inventories"]) < len(
        replies["admin"].json()["inventories"])


def test_write_seen_by_next_inline_read(pair):
    inline, _, sessions = pair
    admin = sessions["admin"]
    before = inline.get(f"{MODELS}?q=name=inline-fresh&count=true", session=admin).json()
    added = inline.request("POST", MODELS, session=admin, body=json.dumps({"params": {
        "name": "inline-fresh", "modelCenterUuid": model_center(inline, admin)}}))
    assert added.status == 200, added.text

    after = inline.get(f"{MODELS}?q=name=inline-fresh&count=true", session=admin).json()

    assert (before["total"], after["total"]) == (0, 1)


def model_center(server: Server, session: str) -> str:
    reply = server.get("/v1/ai/model-centers?limit=1", session=session)
    assert reply.status == 200, reply.text
    return reply.json()["inventories"][0]["uuid"]


# -- the step budget ---------------------------------------------------------------


def numbers_to(limit: int) -> sa.CTE:
    numbers = sa.select(sa.literal(1).label("n")).cte("numbers", recursive=True)
    return numbers.union_all(
        sa.select((numbers.c.n + 1).label("n")).where(numbers.c.n < sa.bindparam("limit")))


def counting_to(limit: int) -> sa.Select:
    """A SELECT that makes SQLite step about `limit` times, whatever the tables hold.

    Its SQL text is the same for every `limit`, which is bound.
    """
    numbers = numbers_to(limit)
    return sa.select(sa.func.count()).select_from(numbers).params(limit=limit)


def slow_few_steps() -> sa.Select:
    """A SELECT of a few thousand steps that takes milliseconds: a long LIKE per row."""
    numbers = numbers_to(300)
    text = sa.func.printf("%.*c", 20000 + numbers.c.n % 2, "x")
    return (sa.select(sa.func.count()).select_from(numbers)
            .where(text.like("%y%y%y%y%y%y%z")).params(limit=300))


@pytest.fixture
def reader(tmp_path: Path):
    engine = database.create_engine(database.sqlite_url_for(tmp_path))
    database.prepare_schema(engine)
    direct = SqliteDirectReader(engine)
    yield direct
    direct.close()
    engine.dispose()


def test_short_read_runs(reader):
    prepared = reader.prepared(counting_to(100))

    assert reader.fetch(prepared, {}) == [(100,)]
    assert not reader.ran_long(prepared.sql)


def test_budget_counts_each_execution_alone(reader):
    # SQLite counts steps per statement across executions; hundreds of short
    # runs of one statement add up to far more than the budget.
    prepared = reader.prepared(counting_to(1000))
    runs = 2 * STEP_BUDGET // 1000

    results = {reader.fetch(prepared, {})[0] for _ in range(runs)}

    assert results == {(1000,)}
    assert not reader.ran_long(prepared.sql)


def test_many_steps_aborted_and_not_tried_again(reader):
    prepared = reader.prepared(counting_to(STEP_BUDGET))

    with pytest.raises(NotServedHere, match="interrupted"):
        reader.fetch(prepared, {})

    assert reader.ran_long(prepared.sql)
    # Another statement object with the same SQL, as a new value of a cached
    # query brings, is not tried either, whatever its values.
    with pytest.raises(NotServedHere, match="ran long"):
        reader.fetch(reader.prepared(counting_to(3)), {"limit": 3})
    # The connection stays usable for other statements.
    assert reader.fetch(reader.prepared(sa.select(sa.literal_column("7"))), {}) == [(7,)]


def test_finished_past_limit_remembered(reader, monkeypatch):
    # A count of a whole table is one SQLite step, which the progress handler
    # cannot interrupt; finishing past a limit must count as running long.
    monkeypatch.setattr(direct, "CPU_BUDGET_S", -1.0)
    prepared = reader.prepared(sa.select(sa.literal_column("7")))

    assert reader.fetch(prepared, {}) == [(7,)]

    assert reader.ran_long(prepared.sql)
    with pytest.raises(NotServedHere, match="ran long"):
        reader.fetch(prepared, {})


def test_long_statement_tried_again_later(reader, monkeypatch):
    # A pause of the process can stop a short statement, so the memory of a
    # long run expires and the statement gets another try on the event loop.
    prepared = reader.prepared(counting_to(STEP_BUDGET))
    with pytest.raises(NotServedHere, match="interrupted"):
        reader.fetch(prepared, {})
    assert reader.ran_long(prepared.sql)

    monkeypatch.setattr(direct, "LONG_STATEMENT_SECONDS", 0.0)

    assert not reader.ran_long(prepared.sql)
    assert reader.fetch(prepared, {"limit": 5}) == [(5,)]


def test_cpu_clock_read_once_for_short_read(reader, monkeypatch):
    # Reading the thread's CPU clock is a system call. A read that stays
    # under the CPU limit reads it once, at its start, however many
    # progress calls it makes.
    reads = []
    thread_time = time.thread_time
    monkeypatch.setattr(direct.time, "thread_time", lambda: reads.append(1) or thread_time())
    prepared = reader.prepared(counting_to(direct.STEPS_PER_TICK * 2))

    assert reader.fetch(prepared, {}) == [(direct.STEPS_PER_TICK * 2,)]
    assert reader._ticks > 1
    assert len(reads) == 1
    assert not reader.ran_long(prepared.sql)


def test_slow_steps_aborted_by_time(reader):
    prepared = reader.prepared(slow_few_steps())

    with pytest.raises(NotServedHere, match="interrupted"):
        reader.fetch(prepared, {})

    assert reader.ran_long(prepared.sql)


def test_reader_cannot_write(reader):
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        reader.connection.execute('DELETE FROM "ModelCenterVO"')


def test_slow_read_logged_without_values(tmp_path, caplog):
    engine = database.create_engine(database.sqlite_url_for(tmp_path))
    database.prepare_schema(engine)
    direct = SqliteDirectReader(engine, slow_query_ms=0)
    secret = "5e55104c0ffee0000000000000000001"
    try:
        with caplog.at_level("WARNING", logger="aios_records.slow_query"):
            rows = direct.fetch(direct.prepared(SESSION_LOOKUP), {"session_uuid": secret})
    finally:
        direct.close()
        engine.dispose()

    assert rows == []
    assert "slow query took" in caplog.text
    assert '"SessionVO"' in caplog.text
    assert secret not in caplog.text


def test_reader_page_cache_size(reader):
    assert reader.connection.execute("PRAGMA cache_size").fetchone()[0] == -direct.CACHE_KIB


# -- which endpoint replies ---------------------------------------------------------


class CountingApp:
    """Wraps an ASGI app and counts the requests that reach it."""

    def __init__(self, app) -> None:
        self.app = app
        self.calls = 0

    async def __call__(self, scope, receive, send) -> None:
        self.calls += 1
        await self.app(scope, receive, send)


class CountingReads:
    """Counts the statements a SqliteDirectReader runs, by wrapping its run."""

    def __init__(self, reader: SqliteDirectReader) -> None:
        self.count = 0
        run = reader.run

        def counted(read, arguments):
            self.count += 1
            return run(read, arguments)

        # `fetch` calls `run` too, so this counts every statement once.
        reader.run = counted


class CountingCompile:
    """Records the subject of every compile an InlineEndpoint requests."""

    def __init__(self, compile_query, subjects: list) -> None:
        self.compile_query = compile_query
        self.subjects = subjects

    def __call__(self, subject, visibility):
        self.subjects.append(subject)
        return self.compile_query(subject, visibility)


def inline_endpoints(router) -> list[InlineEndpoint]:
    found = []
    for route in router.routes:
        endpoints = getattr(route, "endpoints", {}).values() or [route.endpoint]
        found.extend(e for e in endpoints if isinstance(e, InlineEndpoint))
    return list({id(e): e for e in found}.values())


def test_direct_path_skips_usual_endpoint(tmp_path, monkeypatch):
    run_cli("demo-data", "--data-dir", str(tmp_path), "--records", "20", "--seed", "5",
            "--admin-password", ADMIN_PASSWORD)
    url = database.sqlite_url_for(tmp_path)
    engine = database.create_engine(url)
    port = free_port()
    app = create_app(Settings(database_url=url, data_dir=tmp_path, port=port), engine)
    endpoints = inline_endpoints(app)
    assert endpoints
    for endpoint in endpoints:
        endpoint.fallback = CountingApp(endpoint.fallback)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None,
                                           access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert time.monotonic() < deadline, "the in-process server did not start"
            time.sleep(0.02)
        client = Server(port, tmp_path, None, tmp_path / "unused.log")
        session = client.login_session()
        paths = [f"{RECORDS}/{EXAMPLE_RECORD_UUID}",
                 f"{RECORDS}?q=modelUuid={EXAMPLE_MODEL_UUID}&limit=5"]
        for path in paths:
            for _ in range(4):
                assert client.get(path, session=session).status == 200
        usual = sum(endpoint.fallback.calls for endpoint in endpoints)

        # Each path's first request compiles its statements in a thread.
        # Later ones are read on the event loop and sent directly.
        assert usual <= len(paths)
        # A bad session goes to the usual endpoint, which replies with ID.1001.
        bad = client.get(paths[0], session="0" * 32)
        assert bad.json()["error"]["code"] == "ID.1001"
        assert sum(endpoint.fallback.calls for endpoint in endpoints) == usual + 1

        # The usual endpoint replies with the error the attempt found,
        # without reading the session again.
        reader = endpoints[0].source().reader
        reads = CountingReads(reader)
        again = client.get(paths[0], session="1" * 32)
        assert again.json()["error"]["code"] == "ID.1001"
        assert reads.count == 1

        # A known session's empty page: the page with the session column
        # finds no row, so the session is read alone, two statements in all.
        empty = f"{RECORDS}/{'0' * 32}"
        for _ in range(2):
            assert client.get(empty, session=session).json()["inventories"] == []
        reads.count = 0
        assert client.get(empty, session=session).json()["inventories"] == []
        assert reads.count == 2

        # A repeated request runs the plan kept for it: one statement, and
        # nothing parsed or compiled.
        compiled = []
        for endpoint in endpoints:
            endpoint.compile_query = CountingCompile(endpoint.compile_query, compiled)
        listed = client.get(paths[1], session=session)
        reads.count = 0
        again = client.get(paths[1], session=session)
        assert again.body == listed.body
        assert (reads.count, compiled) == (1, [])

        # The plans start over when the map is full.
        inline = endpoints[0].source()
        assert inline._plans
        inline._plans.clear()
        monkeypatch.setattr(inline_module, "MAX_PLANS", 2)
        for limit in range(1, 6):
            for _ in range(2):
                page = client.get(f"{RECORDS}?q=modelUuid={EXAMPLE_MODEL_UUID}&limit={limit}",
                                  session=session)
                assert page.status == 200, page.text
                assert len(inline._plans) <= 2
        assert inline._plans
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        engine.dispose()
