"""Comparison rules that every database backend must apply in the same way.

These run on whichever backend AIOS_RECORDS_TEST_BACKEND selects (conftest.py).
Text compares with ASCII-only case folding: A-Z match a-z, while accents,
other scripts and trailing spaces stay significant. NULLs sort first
ascending and last descending. Timestamps keep whole seconds in UTC, and a
fraction in a condition still compares exactly.
"""

from __future__ import annotations

from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from alembic import command
from conftest import ADMIN_PASSWORD, database_url_for, free_port, insert_rows, run_cli

from aios_records.query.engine import QueryCompiler
from aios_records.query.language import QueryRequest, parse_condition
from aios_records.resources import RESOURCES
from aios_records.storage import database

MODELS = "/v1/ai/models"
RECORDS = "/v1/ai/trained-model/records"
CENTER_UUID = "ce000000000000000000000000000001"
SOME_DATE = "2025-11-19 10:20:07"

# (n, name, vendor). Vendor is NULL for some rows, for the NULL-ordering tests.
MODEL_NAMES = [
    (1, "Élan", "acme"),
    (2, "élan", None),
    (3, "ELAN", "Acme"),
    (4, "elan", None),
    (5, "elan ", "zeta"),
    (6, "Straße", "beta"),
    (7, "STRASSE", None),
    (8, "模型", "gamma"),
    (9, "Ωmega", "delta"),
    (10, "ωMEGA", "Delta"),
    (11, "100%_done", "x"),
    (12, "100x done", "x"),
    (13, "back\\slash", "x"),
    (14, "BACK\\SLASH\\", "x"),
    (15, "emoji 😀 🚀", "x"),
    (16, "İstanbul", "x"),
    (17, "istanbul", "x"),
]

# (n, createDate) in UTC; record 3 is one second after record 2.
RECORD_DATES = [(1, "2025-11-19 10:20:07"), (2, "2025-11-18 15:59:59"),
                (3, "2025-11-18 16:00:00"), (4, "1970-01-01 00:00:00"),
                (5, "2038-01-19 03:14:08")]


def model_uuid(n: int) -> str:
    return f"30de{n:028x}"


def record_uuid(n: int) -> str:
    return f"7ec0{n:028x}"


def prepare_world(url: str) -> None:
    insert_rows(url, "ModelVO", [
        {"uuid": model_uuid(n), "name": name, "vendor": vendor, "modelCenterUuid": CENTER_UUID,
         "size": n, "type": "LLM", "createDate": SOME_DATE, "lastOpDate": SOME_DATE}
        for n, name, vendor in MODEL_NAMES
    ])
    insert_rows(url, "TrainedModelRecordVO", [
        {"uuid": record_uuid(n), "modelUuid": model_uuid(n), "sourceModelUuid": None,
         "modelServiceInstanceGroupUuid": "9a000000000000000000000000000001",
         "datasetUuid": None, "createDate": created, "lastOpDate": created}
        for n, created in RECORD_DATES
    ])


@pytest.fixture(scope="module")
def server(make_module_server):
    started = make_module_server("--admin-password", ADMIN_PASSWORD, prepare=prepare_world)
    started.session = started.login_session()
    return started


def model_numbers(server, query: str) -> list[int]:
    """Run a model query and return the matched model numbers in reply order."""
    reply = server.get(f"{MODELS}?{query}&limit=1000")
    assert reply.status == 200, reply.text
    by_uuid = {model_uuid(n): n for n, _, _ in MODEL_NAMES}
    return [by_uuid[item["uuid"]] for item in reply.json()["inventories"]]


def matched(server, condition: str) -> list[int]:
    return sorted(model_numbers(server, f"q={quote(condition, safe='')}"))


@pytest.mark.parametrize(("condition", "expected"), [
    ("name=elan", [3, 4]),
    ("name=ELAN", [3, 4]),
    ("name=Élan", [1]),
    ("name=élan", [2]),
    ("name=elan ", [5]),
    ("name!=elan", [1, 2, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]),
    ("name=straße", [6]),
    ("name=strasse", [7]),
    ("name=模型", [8]),
    ("name=ωmega", [10]),
    ("name=Ωmega", [9]),
    ("name=ωMEGA", [10]),
    ("name=emoji 😀 🚀", [15]),
    ("name=EMOJI 😀 🚀", [15]),
    ("name=istanbul", [17]),
    ("name=İSTANBUL", [16]),
    ("name?=ELAN,élan,STRASSE", [2, 3, 4, 7]),
    ("name!?=elan,Élan,élan,elan ", [6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]),
])
def test_text_equality_folds_ascii_only(server, condition, expected):
    assert matched(server, condition) == expected


@pytest.mark.parametrize(("condition", "expected"), [
    ("name~=el%", [3, 4, 5]),
    ("name~=%LAN", [1, 2, 3, 4]),
    ("name~=_lan", [1, 2, 3, 4]),
    ("name~=%lan_", [5]),
    ("name~=100\\%\\_done", [11]),
    ("name~=100%_done", [11, 12]),
    ("name~=100_ done", [12]),
    ("name~=100\\_%", []),
    ("name~=back\\\\slash", [13]),
    ("name~=BACK\\\\SLASH%", [13, 14]),
    ("name~=%slash\\", [14]),
    ("name~=%\\\\", [14]),
    ("name~=模%", [8]),
    ("name~=%😀%", [15]),
    ("name!~=%lan%", [6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]),
])
def test_like_wildcards_and_escapes(server, condition, expected):
    assert matched(server, condition) == expected


def ascii_folded_key(n: int) -> tuple[bytes, str]:
    name = dict((number, name) for number, name, _ in MODEL_NAMES)[n]
    folded = name.translate(str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                                          "abcdefghijklmnopqrstuvwxyz"))
    return folded.encode(), model_uuid(n)


def test_text_order_folds_ascii_only(server):
    # Byte order of the UTF-8 text with A-Z lowered, then uuid among equals.
    expected = sorted((n for n, _, _ in MODEL_NAMES), key=ascii_folded_key)
    assert model_numbers(server, "sort=name") == expected
    assert model_numbers(server, "sort=-name") == expected[::-1]


def test_text_range_folds_ascii_only(server):
    assert matched(server, "name>zzz") == [1, 2, 8, 9, 10, 16]
    assert matched(server, "name<=BACK\\SLASH") == [11, 12, 13]


def test_nulls_first_ascending(server):
    assert model_numbers(server, "sort=vendor")[:3] == [2, 4, 7]


def test_nulls_last_descending(server):
    assert model_numbers(server, "sort=-vendor")[-3:] == [7, 4, 2]


def test_vendor_order_ties_on_case(server):
    order = model_numbers(server, "sort=vendor")
    assert order.index(1) < order.index(3), "acme and Acme tie, so uuid decides"
    assert order.index(9) < order.index(10), "delta and Delta tie, so uuid decides"


def record_numbers(server, condition: str, sort: str = "createDate") -> list[int]:
    reply = server.get(f"{RECORDS}?q={quote(condition, safe='')}&sort={sort}")
    assert reply.status == 200, reply.text
    by_uuid = {record_uuid(n): n for n, _ in RECORD_DATES}
    return [by_uuid[item["uuid"]] for item in reply.json()["inventories"]]


@pytest.mark.parametrize(("condition", "expected"), [
    # The server's zone is Asia/Shanghai (UTC+8).
    ("createDate=2025-11-19 00:00:00", [3]),
    ("createDate=2025-11-18 23:59:59", [2]),
    ("createDate>=2025-11-19 00:00:00", [3, 1, 5]),
    ("createDate<2025-11-19 00:00:00", [4, 2]),
    ("createDate=2025-11-18 23:59:59.5", []),
    ("createDate>2025-11-18 23:59:59.5", [3, 1, 5]),
    ("createDate<2025-11-18 23:59:59.5", [4, 2]),
    ("createDate<=2025-11-19 00:00:00.000001", [4, 2, 3]),
    ("createDate>2025-11-18 23:59:59.999999", [3, 1, 5]),
    ("createDate=2025-11-18T16:00:00Z", [3]),
    ("createDate=2025-11-19T00:00:00+08:00", [3]),
    ("createDate=2025-11-18T10:59:59-05:00", [2]),
    ("createDate=1970-01-01 08:00:00", [4]),
    ("createDate=2038-01-19 11:14:08", [5]),
])
def test_timestamp_precision_and_zone(server, condition, expected):
    assert record_numbers(server, condition) == expected


def test_timestamps_read_in_server_zone(server):
    reply = server.get(f"{RECORDS}/{record_uuid(3)}")
    assert reply.status == 200, reply.text
    assert reply.json()["inventories"][0]["createDate"].startswith("Nov 19, 2025 12:00:00 AM")


def run_model_query(server, condition: str) -> list[str]:
    """Compile one condition with the server's query compiler and run it on its database.

    The HTTP server limits the request line, so conditions too long for a URL
    are checked one layer down, on the same database.
    """
    request = QueryRequest(conditions=(parse_condition(condition),), limit=100)
    compiled = QueryCompiler(ZoneInfo("Asia/Shanghai")).compile(RESOURCES["Model"], request)
    engine = database.create_engine(server.database_url)
    try:
        with engine.connect() as conn:
            return [row.uuid for row in conn.execute(compiled.rows, compiled.parameters)]
    finally:
        engine.dispose()


def test_long_in_list(server):
    uuids = [model_uuid(n) for n in range(1, 10_001)]
    uuids[5000] = model_uuid(5001).upper()
    uuids[7] = model_uuid(8).upper()
    found = run_model_query(server, f"uuid?={','.join(uuids)}")
    assert sorted(found) == sorted(model_uuid(n) for n, _, _ in MODEL_NAMES)


def test_long_not_in_list(server):
    uuids = [model_uuid(n) for n in range(3, 10_003)]
    uuids[0] = model_uuid(3).upper()
    found = run_model_query(server, f"uuid!?={','.join(uuids)}")
    assert sorted(found) == [model_uuid(1), model_uuid(2)]


def test_unicode_round_trip(server):
    reply = server.get(f"{MODELS}?q=vendor=x&sort=name&fields=name&limit=100")
    assert reply.status == 200, reply.text
    names = {item["name"] for item in reply.json()["inventories"]}
    assert "emoji 😀 🚀" in names
    assert "BACK\\SLASH\\" in names
    assert "İstanbul" in names


def test_uuid_lookup_ignores_case(server):
    reply = server.get(f"{MODELS}/{model_uuid(8).upper()}")
    assert reply.status == 200, reply.text
    assert reply.json()["inventories"][0]["name"] == "模型"


def test_health_probes(server):
    health = server.get("/healthz", prefix=False)
    assert health.status == 200
    assert health.text == "ok\n"
    ready = server.get("/readyz", prefix=False)
    assert ready.status == 200
    assert ready.text == "ready\n"


def test_serve_rejects_older_schema(tmp_path):
    data_dir = tmp_path / "old"
    url = database_url_for(data_dir)
    engine = database.create_engine(url)
    try:
        with engine.begin() as connection:
            command.upgrade(database._alembic_config(connection), "0001")
    finally:
        engine.dispose()
    assert run_cli("db", "current", "--data-dir", str(data_dir)).stdout.strip() == "0001"

    refused = run_cli("serve", "--data-dir", str(data_dir), "--port", str(free_port()),
                      check=False)

    assert refused.returncode == 1
    assert "aios-records db upgrade" in refused.stderr
    assert "revision 0001" in refused.stderr
    upgraded = run_cli("db", "upgrade", "--data-dir", str(data_dir))
    assert upgraded.stdout.strip() == database.head_revision()
    assert run_cli("db", "current", "--data-dir", str(data_dir)).stdout.strip() == "0002"


def test_new_database_created_by_serve(make_server):
    server = make_server("--admin-password", ADMIN_PASSWORD)

    assert server.login().status == 200
    assert run_cli("db", "current", "--data-dir", str(server.data_dir)).stdout.strip() == (
        database.head_revision())


# Statements that end another session of the same server, by connection id.
END_CONNECTION = {
    "postgresql": ("SELECT pg_backend_pid()", "SELECT pg_terminate_backend({id})"),
    "mysql": ("SELECT CONNECTION_ID()", "KILL CONNECTION {id}"),
}


def test_write_on_dropped_connection_raises_database_error(tmp_path):
    # The server can drop a pooled connection after the pool's ping and before
    # the write sets its isolation level. That must raise SQLAlchemy's
    # OperationalError, which the HTTP layer reports as "database unavailable",
    # and the dead connection must leave the pool.
    engine = database.create_engine(database_url_for(tmp_path / "dropped"))
    try:
        if engine.dialect.name not in END_CONNECTION:
            pytest.skip("SQLite writes set no isolation level on a connection")
        ask_id, end = END_CONNECTION[engine.dialect.name]
        with engine.connect() as victim, engine.connect() as killer:
            victim_id = victim.exec_driver_sql(ask_id).scalar()
            victim.rollback()
            killer.exec_driver_sql(end.format(id=int(victim_id)))
            killer.commit()

            with pytest.raises(sa.exc.OperationalError):
                with database.write_transaction_on(victim):
                    pytest.fail("the write ran on a dropped connection")

            assert victim.invalidated
        with database.write_transaction(engine) as connection:
            assert connection.exec_driver_sql("SELECT 1").scalar() == 1
    finally:
        engine.dispose()
