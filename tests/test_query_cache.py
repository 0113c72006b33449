"""Reused compiled queries: a cached statement must never leak one request's values into another.

The query compiler keeps list queries by their whole request or, when every
condition compares a string or timestamp field with a value, by their shape
with the values as bound parameters. GET-by-uuid statements keep the uuid as
a bound parameter. These tests send requests that
share a cache entry, or a statement with different values, and check every
reply against the rows written here.
"""

from __future__ import annotations

import dataclasses
import json
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from conftest import ADMIN_PASSWORD, insert_rows, sha512

from aios_records.http.querystring import parse_list_query
from aios_records.query.engine import (
    GET_UUID_PARAMETER,
    MAX_CACHED_CONDITION_CHARS,
    QueryCompiler,
)
from aios_records.resources import QUERY_RESOURCES

RECORDS = "/v1/ai/trained-model/records"
GROUP = "9a000000000000000000000000000001"
OTHER_GROUP = "9a000000000000000000000000000002"


def record(index: int, group: str) -> dict:
    return {
        "uuid": f"c0{index:030d}",
        "modelUuid": f"ab{index:030d}",
        "sourceModelUuid": None,
        "modelServiceInstanceGroupUuid": group,
        "datasetUuid": None,
        "createDate": f"2025-11-19 10:{index:02d}:00",
        "lastOpDate": f"2025-11-19 10:{index:02d}:00",
    }


ROWS = [record(i, GROUP if i % 2 else OTHER_GROUP) for i in range(1, 9)]


@pytest.fixture(scope="module")
def server(make_module_server):
    server = make_module_server("--admin-password", ADMIN_PASSWORD,
                                prepare=lambda url: insert_rows(url, "TrainedModelRecordVO", ROWS))
    server.session = server.login_session()
    return server


def inventories(reply) -> list[dict]:
    assert reply.status == 200, reply.text
    return reply.json()["inventories"]


def test_get_by_uuid_each_record(server):
    # Twice over, in opposite orders, so each uuid follows a different one.
    for row in ROWS + ROWS[::-1]:
        found = inventories(server.get(f"{RECORDS}/{row['uuid']}"))
        assert [inventory["uuid"] for inventory in found] == [row["uuid"]]
        assert found[0]["modelUuid"] == row["modelUuid"]


def test_get_unknown_after_known(server):
    assert len(inventories(server.get(f"{RECORDS}/{ROWS[0]['uuid']}"))) == 1
    assert inventories(server.get(f"{RECORDS}/c0{99:030d}")) == []
    assert inventories(server.get(f"{RECORDS}/null")) == []


def test_same_list_twice_same_reply(server):
    query = f"{RECORDS}?q=modelServiceInstanceGroupUuid={GROUP}&sort=createDate"
    first = server.get(query)
    second = server.get(query)
    assert first.body == second.body
    expected = [row["uuid"] for row in ROWS if row["modelServiceInstanceGroupUuid"] == GROUP]
    assert [inventory["uuid"] for inventory in inventories(first)] == expected


def test_list_values_not_shared(server):
    # The requests share a shape and differ in value, so each reply must list its own group.
    for group in (GROUP, OTHER_GROUP, GROUP):
        found = inventories(server.get(f"{RECORDS}?q=modelServiceInstanceGroupUuid={group}"))
        assert found
        assert {inventory["modelServiceInstanceGroupUuid"] for inventory in found} == {group}


def test_date_values_not_shared(server):
    # The server runs in Asia/Shanghai, 8 hours ahead of the stored UTC times.
    for minute in (3, 6, 0, 3):
        condition = quote(f"createDate>2025-11-19 18:{minute:02d}:00")
        found = inventories(server.get(f"{RECORDS}?q={condition}&q=modelUuid!=x"))
        expected = {row["uuid"] for row in ROWS if int(row["createDate"][14:16]) > minute}
        assert {inventory["uuid"] for inventory in found} == expected


def test_range_values_not_shared(server):
    for low, high in ((2, 6), (0, 3), (5, 9)):
        conditions = (quote(f"createDate>2025-11-19 18:{low:02d}:00") + "&q="
                      + quote(f"createDate<2025-11-19 18:{high:02d}:00"))
        found = inventories(server.get(f"{RECORDS}?q={conditions}"))
        expected = {row["uuid"] for row in ROWS if low < int(row["createDate"][14:16]) < high}
        assert {inventory["uuid"] for inventory in found} == expected


def test_operators_not_shared(server):
    equal = inventories(server.get(f"{RECORDS}?q=modelServiceInstanceGroupUuid={GROUP}"))
    unequal = inventories(server.get(f"{RECORDS}?q=modelServiceInstanceGroupUuid!={GROUP}"))
    assert {inventory["modelServiceInstanceGroupUuid"] for inventory in equal} == {GROUP}
    assert GROUP not in {inventory["modelServiceInstanceGroupUuid"] for inventory in unequal}
    assert unequal


def test_bad_date_after_good_one(server):
    good = server.get(f"{RECORDS}?q=" + quote("createDate>2025-11-19 18:03:00"))
    assert good.status == 200, good.text

    bad = server.get(f"{RECORDS}?q=" + quote("createDate>not-a-date"))
    assert bad.status == 503, bad.text
    assert bad.json()["error"]["code"] == "SYS.1007"
    assert "not-a-date" in bad.json()["error"]["details"]


def test_null_value_after_plain_value(server):
    with_value = inventories(server.get(f"{RECORDS}?q=sourceModelUuid=x"))
    assert with_value == []
    with_null = inventories(server.get(f"{RECORDS}?q=sourceModelUuid=null"))
    assert {inventory["uuid"] for inventory in with_null} >= {row["uuid"] for row in ROWS}


def test_repeated_list_sees_new_row(server):
    query = f"{RECORDS}?q=modelServiceInstanceGroupUuid={GROUP}&replyWithCount=true"
    before = server.get(query)
    assert before.status == 200, before.text
    new_row = record(50, GROUP)
    insert_rows(server.database_url, "TrainedModelRecordVO", [new_row])

    after = server.get(query)
    assert after.status == 200, after.text
    assert after.json()["total"] == before.json()["total"] + 1
    assert new_row["uuid"] in {inventory["uuid"] for inventory in after.json()["inventories"]}


def test_kept_timestamp_follows_zone():
    # Parsed condition timestamps are kept per value and zone, so one server's
    # zone never leaks into another's reading of the same text.
    from zoneinfo import ZoneInfo

    from aios_records.query.engine import QueryCompiler
    from aios_records.query.language import QueryRequest, parse_condition
    from aios_records.resources import QUERY_RESOURCES

    request = QueryRequest(conditions=(parse_condition("createDate>2025-11-19 18:00:00"),))
    resource = QUERY_RESOURCES["TrainedModelRecord"]

    bound = {zone: QueryCompiler(ZoneInfo(zone)).compile(resource, request).parameters
             for zone in ("Asia/Shanghai", "UTC", "Asia/Shanghai")}

    assert bound["Asia/Shanghai"] == {"value_0": "2025-11-19 10:00:00"}
    assert bound["UTC"] == {"value_0": "2025-11-19 18:00:00"}


def test_kept_query_string_errors_each_time(server):
    # A parse error is raised again for a repeated query string, never kept as a result.
    for _ in range(2):
        reply = server.get(f"{RECORDS}?limit=x")

        assert reply.status == 400, reply.text
        assert "limit" in reply.text


def test_query_memo_scoped_per_account(server):
    # The compiler keeps a compiled query per parsed query string and
    # visibility. The same query string of another account must not get
    # the admin's statement, which has no visibility filter.
    name, password = "cache-viewer", "Cache-Viewer-Pass-1"
    created = server.request("POST", "/v1/accounts", session=server.session, body=json.dumps(
        {"params": {"name": name, "password": sha512(password)}}))
    assert created.status == 200, created.text
    viewer = server.login_session(name, password)
    path = f"{RECORDS}?q=modelServiceInstanceGroupUuid={GROUP}&limit=20"

    for _ in range(3):
        seen_by_admin = inventories(server.get(path))
        assert len(seen_by_admin) >= 4
        assert {r["modelServiceInstanceGroupUuid"] for r in seen_by_admin} == {GROUP}
        assert inventories(server.get(path, session=viewer)) == []


def test_with_parameters_equals_replace():
    compiler = QueryCompiler(ZoneInfo("UTC"))
    template = compiler.compile_get(QUERY_RESOURCES["TrainedModelRecord"], "c0" + "1" * 30)

    copy = template.with_parameters({GET_UUID_PARAMETER: "c0" + "2" * 30})

    assert copy == dataclasses.replace(template, parameters={GET_UUID_PARAMETER: "c0" + "2" * 30},
                                       reusable=True)
    assert template.parameters == {GET_UUID_PARAMETER: "c0" + "1" * 30}


def test_long_request_not_kept_by_request():
    # Only short query strings come back from the parser as the same object,
    # so a request with long conditions is not kept per request.
    compiler = QueryCompiler(ZoneInfo("UTC"))
    resource = QUERY_RESOURCES["TrainedModelRecord"]
    long_value = "c" + "0" * (MAX_CACHED_CONDITION_CHARS + 10)

    for _ in range(3):
        request = parse_list_query(f"q=modelUuid={long_value}".encode())
        assert compiler.compile(resource, request) is not None

    assert len(compiler._by_request) == 0
    short = parse_list_query(b"q=modelUuid=c0")
    compiler.compile(resource, short)
    assert len(compiler._by_request) == 1
