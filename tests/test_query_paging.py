"""Paging, sorting, counting, `fields=` and the exact shape of list replies.

One server contains 2,101 generated records (more than one streamed chunk of
2,000 rows): many share a createDate or a folded modelUuid, a quarter have no
sourceModelUuid, and one is the product page's example record. The expected
order of every sort is computed from those rows here.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from conftest import ADMIN_PASSWORD, insert_rows

RECORDS = "/v1/ai/trained-model/records"
MODELS = "/v1/ai/models"
RECORD_CLASS = "org.zstack.ai.entity.TrainedModelRecordInventory"
MODEL_CLASS = "org.zstack.ai.entity.ModelInventory"
RECORD_FIELDS = ("uuid", "modelUuid", "sourceModelUuid", "modelServiceInstanceGroupUuid",
                 "datasetUuid", "createDate", "lastOpDate")
SHANGHAI = ZoneInfo("Asia/Shanghai")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
DEFAULT_LIMIT = 1000
GENERATED = 2100

# The product page's example: created at 18:20:07 Asia/Shanghai, no sourceModelUuid.
EXAMPLE = {
    "uuid": "d374c0670c744f0f85c9d33041475eb1",
    "modelUuid": "f9878203ed4048fe99a8909ca90cc105",
    "sourceModelUuid": None,
    "modelServiceInstanceGroupUuid": "4ad1e97134d44e18a72a84b6b1aabd0c",
    "datasetUuid": "b9d2327ad5ad477bbbcdc6d5534c1e96",
    "createDate": "2025-11-19 10:20:07",
    "lastOpDate": "2025-11-19 10:20:07",
}


def generated_record(i: int) -> dict:
    created = datetime(2025, 11, 19, 10, 20, 7) + timedelta(minutes=i % 300)
    return {
        "uuid": hashlib.md5(f"record-{i}".encode()).hexdigest(),
        "modelUuid": ("ABC" if i % 3 == 0 else "abc") + f"{i % 50:029d}",
        "sourceModelUuid": None if i % 4 == 0 else f"5c{i % 7:030d}",
        "modelServiceInstanceGroupUuid": f"9a{i % 10:030d}",
        "datasetUuid": None if i % 5 == 0 else f"da{i % 11:030d}",
        "createDate": f"{created:%Y-%m-%d %H:%M:%S}",
        "lastOpDate": f"{created + timedelta(seconds=i % 5):%Y-%m-%d %H:%M:%S}",
    }


ROWS = [generated_record(i) for i in range(GENERATED)] + [EXAMPLE]
TOTAL = len(ROWS)

# A model whose strings need Gson's HTML escaping. Its other fields are NULL.
ESCAPED_MODEL = {
    "uuid": "30de0000000000000000000000000001",
    "name": "<b>&='x'</b>",
    "description": "line\u2028break",
    "modelCenterUuid": "ce000000000000000000000000000001",
    "vendor": "模型",
    "size": 7,
    "type": "LLM",
    "createDate": "2025-11-19 10:20:07",
    "lastOpDate": "2025-11-20 04:05:06",
}


@pytest.fixture(scope="module")
def server(make_module_server):
    def prepare(url: str) -> None:
        insert_rows(url, "TrainedModelRecordVO", ROWS)
        insert_rows(url, "ModelVO", [ESCAPED_MODEL])

    started = make_module_server("--admin-password", ADMIN_PASSWORD, prepare=prepare)
    started.session = started.login_session()
    return started


def fold(text: str) -> str:
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in text)


def expected_order(sort_field: str | None = None, descending: bool = False,
                   rows: list[dict] = ROWS) -> list[str]:
    """Return uuids in the contract's order: NULLs first ascending, uuid breaks ties."""
    field = sort_field or "uuid"

    def key(row):
        value = row[field]
        return (value is not None, fold(value) if value is not None else "", fold(row["uuid"]))

    ordered = [row["uuid"] for row in sorted(rows, key=key)]
    return ordered[::-1] if descending else ordered


def reply_date(stored: str) -> str:
    """Render a stored UTC time as the reply does in Asia/Shanghai."""
    local = datetime.strptime(stored, "%Y-%m-%d %H:%M:%S").replace(
        tzinfo=timezone.utc).astimezone(SHANGHAI)
    hour = local.hour % 12 or 12
    meridiem = "PM" if local.hour >= 12 else "AM"
    return (f"{MONTHS[local.month - 1]} {local.day}, {local.year} "
            f"{hour}:{local.minute:02d}:{local.second:02d} {meridiem}")


def get_json(server, raw_query: str, path: str = RECORDS) -> dict:
    reply = server.get(f"{path}?{raw_query}")
    assert reply.status == 200, reply.text
    return reply.json()


def page_uuids(server, raw_query: str) -> list[str]:
    return [item["uuid"] for item in get_json(server, raw_query)["inventories"]]


def error(reply) -> dict:
    assert reply.status == 503, reply.text
    body = reply.json()["error"]
    assert body["description"] == "One or more API argument is invalid"
    return body


# -- limit and start ---------------------------------------------------------

def test_default_limit(server):
    assert page_uuids(server, "fields=uuid") == expected_order()[:DEFAULT_LIMIT]


def test_default_start(server):
    assert page_uuids(server, "limit=5") == expected_order()[:5]
    assert page_uuids(server, "limit=5&start=0") == expected_order()[:5]


def test_page_larger_than_chunk(server):
    body = get_json(server, f"limit={TOTAL + 10}&replyWithCount=true")
    assert body["total"] == TOTAL
    assert [item["uuid"] for item in body["inventories"]] == expected_order()
    assert list(body["schema"]) == [f"inventories[{i}]" for i in reversed(range(TOTAL))]
    assert set(body["schema"].values()) == {RECORD_CLASS}


@pytest.mark.parametrize(("limit", "start"), [(2000, 0), (2000, 101), (2050, 51), (1999, 0)])
def test_page_near_chunk_size(server, limit, start):
    body = get_json(server, f"limit={limit}&start={start}&fields=uuid")
    rows = min(limit, TOTAL - start)
    assert [item["uuid"] for item in body["inventories"]] == expected_order()[start:start + rows]
    assert list(body["schema"]) == [f"inventories[{i}]" for i in reversed(range(rows))]


@pytest.mark.parametrize(("sort", "field", "descending"), [
    (None, None, False),
    ("%2BcreateDate", "createDate", False),
    ("-createDate", "createDate", True),
    ("uuid", "uuid", False),
    ("-uuid", "uuid", True),
    ("modelUuid", "modelUuid", False),
    ("-modelUuid", "modelUuid", True),
    ("sourceModelUuid", "sourceModelUuid", False),
    ("-sourceModelUuid", "sourceModelUuid", True),
    ("-lastOpDate", "lastOpDate", True),
    ("datasetUuid", "datasetUuid", False),
])
def test_pages_concatenate(server, sort, field, descending):
    page_size, pages, start = 500, [], 0
    sort_part = f"&sort={sort}" if sort else ""
    while True:
        page = page_uuids(server, f"fields=uuid&limit={page_size}&start={start}{sort_part}")
        if not page:
            break
        pages.append(page)
        start += page_size
    assert [len(page) for page in pages] == [500, 500, 500, 500, TOTAL - 2000]
    assert sum(pages, []) == expected_order(field, descending)


def test_small_pages_filtered(server):
    group = f"9a{3:030d}"
    rows = [row for row in ROWS if row["modelServiceInstanceGroupUuid"] == group]
    condition = f"q=modelServiceInstanceGroupUuid={group}&sort=-createDate&fields=uuid"
    pages = [page_uuids(server, f"{condition}&limit=7&start={start}")
             for start in range(0, len(rows) + 7, 7)]
    assert pages[-1] == []
    assert sum(pages, []) == expected_order("createDate", True, rows)


@pytest.mark.parametrize(("sort", "descending"), [("createDate", False), ("-createDate", True)])
def test_tie_breaker_follows_direction(server, sort, descending):
    body = get_json(server, f"sort={sort}&limit={TOTAL}&fields=uuid,createDate")
    items = body["inventories"]
    ties = 0
    for before, after in zip(items, items[1:]):
        if before["createDate"] == after["createDate"]:
            ties += 1
            assert (before["uuid"] > after["uuid"]) == descending
    assert ties > GENERATED // 2


def test_nulls_first_ascending(server):
    nulls = sum(row["sourceModelUuid"] is None for row in ROWS)
    items = get_json(server, f"sort=sourceModelUuid&limit={TOTAL}")["inventories"]
    assert all("sourceModelUuid" not in item for item in items[:nulls])
    assert all("sourceModelUuid" in item for item in items[nulls:])


def test_nulls_last_descending(server):
    nulls = sum(row["sourceModelUuid"] is None for row in ROWS)
    items = get_json(server, f"sort=-sourceModelUuid&limit={TOTAL}")["inventories"]
    assert all("sourceModelUuid" in item for item in items[:-nulls])
    assert all("sourceModelUuid" not in item for item in items[-nulls:])


def test_sort_folds_ascii_case(server):
    # modelUuid mixes "ABC…" and "abc…", so after folding the numeric suffix decides.
    items = get_json(server, f"sort=modelUuid&limit={TOTAL}&fields=modelUuid")["inventories"]
    suffixes = [item["modelUuid"][3:] for item in items if item["modelUuid"][:3] in
                ("abc", "ABC")]
    assert suffixes == sorted(suffixes)


def test_start_past_end(server):
    reply = server.get(f"{RECORDS}?start={TOTAL}")
    assert reply.body == b'{"schema":{},"inventories":[]}'
    reply = server.get(f"{RECORDS}?start=2147483647&replyWithCount=true")
    assert reply.body == b'{"schema":{},"total":%d,"inventories":[]}' % TOTAL


@pytest.mark.parametrize(("raw_query", "count"), [
    ("limit=%2B3", 3),
    ("limit=003", 3),
    ("limit=%203%20", 3),
    ("limit=3&start=-0", 3),
    ("limit=2147483647&fields=uuid", TOTAL),
    ("limit=3&start=%2B2", 3),
])
def test_limit_forms_accepted(server, raw_query, count):
    assert len(page_uuids(server, raw_query)) == count


def test_signed_start_offsets(server):
    assert page_uuids(server, "limit=3&start=%2B2") == expected_order()[2:5]


@pytest.mark.parametrize(("raw_query", "name"), [
    ("limit=-1", "limit"),
    ("limit=-2147483648", "limit"),
    ("start=-1", "start"),
    ("limit=0&start=-5", "start"),
    ("count=true&limit=-1", "limit"),
])
def test_negative_paging_rejected(server, raw_query, name):
    body = error(server.get(f"{RECORDS}?{raw_query}"))
    assert body["code"] == "SYS.1007"
    assert f"[{name}]" in body["details"]


@pytest.mark.parametrize("value", [
    "abc", "", "%20", "1.5", "1e3", "0x10", "2147483648", "-2147483649", "99999999999",
    "--1", "%2B-1", "1%200", "%EF%BC%91",
])
@pytest.mark.parametrize("name", ["limit", "start"])
def test_malformed_paging_rejected(server, name, value):
    reply = server.get(f"{RECORDS}?{name}={value}")
    assert reply.status == 400
    assert reply.text == f"Invalid query parameter. '{name}' must be an integer"
    assert reply.headers["content-type"] == "text/plain;charset=utf-8"


def test_limit_without_value_rejected(server):
    reply = server.get(f"{RECORDS}?limit")
    assert reply.status == 400
    assert reply.text == "Invalid query parameter. 'limit' must be an integer"


# -- count and replyWithCount ------------------------------------------------

@pytest.mark.parametrize("raw_query", [
    "count=true",
    "count=TRUE",
    "count=True",
    "count=%20true%20",
    "count=true&replyWithCount=true",
    "count=true&limit=0&start=99",
    "count=true&fields=uuid&sort=-createDate",
])
def test_count_body(server, raw_query):
    reply = server.get(f"{RECORDS}?{raw_query}")
    assert reply.status == 200
    assert reply.body == b'{"schema":{},"total":%d}' % TOTAL


def test_count_with_condition(server):
    nulls = sum(row["sourceModelUuid"] is None for row in ROWS)
    body = get_json(server, "count=true&q=sourceModelUuid%20is%20null")
    assert body == {"schema": {}, "total": nulls}


@pytest.mark.parametrize("value", ["false", "yes", "1", "", "truex"])
def test_count_other_values_false(server, value):
    body = get_json(server, f"count={value}&limit=2")
    assert list(body) == ["schema", "inventories"]
    assert len(body["inventories"]) == 2


@pytest.mark.parametrize("value", ["true", "TRUE", "True", "tRuE"])
def test_reply_with_count(server, value):
    body = get_json(server, f"replyWithCount={value}&limit=3&start=5")
    assert list(body) == ["schema", "total", "inventories"]
    assert body["total"] == TOTAL
    assert [item["uuid"] for item in body["inventories"]] == expected_order()[5:8]


@pytest.mark.parametrize("value", ["false", "1", "on"])
def test_reply_without_count(server, value):
    body = get_json(server, f"replyWithCount={value}&limit=1")
    assert "total" not in body


def test_total_ignores_paging(server):
    group = f"9a{7:030d}"
    matching = sum(row["modelServiceInstanceGroupUuid"] == group for row in ROWS)
    body = get_json(server, f"q=modelServiceInstanceGroupUuid={group}&replyWithCount=true"
                            "&limit=4&start=10&sort=-createDate")
    assert body["total"] == matching
    assert len(body["inventories"]) == 4


def test_limit_zero(server):
    assert server.get(f"{RECORDS}?limit=0").body == b'{"schema":{},"inventories":[]}'
    reply = server.get(f"{RECORDS}?limit=0&replyWithCount=true")
    assert reply.body == b'{"schema":{},"total":%d,"inventories":[]}' % TOTAL


# -- first value wins, unknown parameters ------------------------------------

def test_first_limit_wins(server):
    assert len(page_uuids(server, "limit=2&limit=abc")) == 2
    reply = server.get(f"{RECORDS}?limit=abc&limit=2")
    assert reply.status == 400
    assert reply.text == "Invalid query parameter. 'limit' must be an integer"


def test_first_start_wins(server):
    assert page_uuids(server, "limit=2&start=1&start=zz") == expected_order()[1:3]
    assert server.get(f"{RECORDS}?start=zz&start=1").status == 400


def test_first_sort_wins(server):
    assert page_uuids(server, "limit=3&sort=-uuid&sort=uuid") == expected_order("uuid", True)[:3]
    assert page_uuids(server, "limit=3&sort=uuid&sort=nosuchfield") == expected_order()[:3]


def test_first_fields_wins(server):
    items = get_json(server, "limit=2&fields=uuid&fields=createDate")["inventories"]
    assert [list(item) for item in items] == [["uuid"], ["uuid"]]
    items = get_json(server, "limit=2&fields=createDate&fields=,")["inventories"]
    assert [list(item) for item in items] == [["createDate"], ["createDate"]]


def test_first_count_wins(server):
    assert list(get_json(server, "count=true&count=false")) == ["schema", "total"]
    assert list(get_json(server, "count=false&count=true&limit=1")) == ["schema", "inventories"]
    body = get_json(server, "replyWithCount=true&replyWithCount=false&limit=1")
    assert list(body) == ["schema", "total", "inventories"]


def test_unknown_parameters_ignored(server):
    plain = server.get(f"{RECORDS}?limit=3")
    noisy = server.get(
        f"{RECORDS}?sessionId=36c27e8ff05c4780bf6d2fa65700f22e&limit=3&sortBy=createDate"
        "&sortDirection=desc&groupBy=uuid&filterName=x&foo&=bar&Limit=0&LIMIT=x&Q=uuid"
        "&COUNT=true&Sort=-uuid&fields%20=uuid&%20q=bad"
    )
    assert noisy.status == 200
    assert noisy.body == plain.body


# -- sort --------------------------------------------------------------------

@pytest.mark.parametrize("sort", ["foo", "-foo", "%2Bfoo", "UUID", "model.name", "__userTag__"])
def test_bad_sort_rejected(server, sort):
    body = error(server.get(f"{RECORDS}?sort={sort}&limit=1"))
    assert body["code"] == "SYS.1007"


def test_bad_sort_names_field(server):
    body = error(server.get(f"{RECORDS}?sort=-foo"))
    assert "field[foo]" in body["details"]


@pytest.mark.parametrize("sort", ["", "%20", "+"])
def test_empty_sort_ignored(server, sort):
    assert page_uuids(server, f"sort={sort}&limit=20") == expected_order()[:20]


@pytest.mark.parametrize("sort", ["+createDate", "%2BcreateDate", "createDate",
                                  "%20createDate%20", "+%20createDate"])
def test_ascending_sort_forms(server, sort):
    expected = expected_order("createDate")[:50]
    assert page_uuids(server, f"sort={sort}&limit=50&fields=uuid") == expected


def test_descending_sort_trimmed(server):
    expected = expected_order("createDate", True)[:50]
    assert page_uuids(server, "sort=%20-createDate&limit=50") == expected


# -- fields= -----------------------------------------------------------------

def test_fields_in_inventory_order(server):
    items = get_json(server, "fields=lastOpDate,createDate,uuid&limit=3")["inventories"]
    assert [list(item) for item in items] == [["uuid", "createDate", "lastOpDate"]] * 3


def test_fields_trailing_comma(server):
    items = get_json(server, "fields=uuid,&limit=2")["inventories"]
    assert items == [{"uuid": uuid} for uuid in expected_order()[:2]]
    items = get_json(server, "fields=uuid,,,&limit=2")["inventories"]
    assert items == [{"uuid": uuid} for uuid in expected_order()[:2]]


def test_fields_repeated_name(server):
    items = get_json(server, "fields=uuid,uuid&limit=1")["inventories"]
    assert items == [{"uuid": expected_order()[0]}]


def test_fields_null_omitted(server):
    items = get_json(server, f"fields=sourceModelUuid&sort=sourceModelUuid&limit={TOTAL}")[
        "inventories"]
    nulls = sum(row["sourceModelUuid"] is None for row in ROWS)
    assert items[:nulls] == [{}] * nulls
    assert all(list(item) == ["sourceModelUuid"] for item in items[nulls:])


@pytest.mark.parametrize("value", [",", ",,", "%2C"])
def test_fields_zero_field(server, value):
    reply = server.get(f"{RECORDS}?fields={value}")
    assert reply.status == 400
    assert reply.text == "Invalid query parameter. 'fields' contains zero field"


@pytest.mark.parametrize("value", ["", "%20", "foo", "uuid,foo", "UUID", "model.name",
                                   "__userTag__"])
def test_fields_invalid_rejected(server, value):
    body = error(server.get(f"{RECORDS}?fields={value}"))
    assert body["code"] == "SYS.1007"


def test_fields_unknown_named(server):
    body = error(server.get(f"{RECORDS}?fields=uuid,foo"))
    assert "field[foo]" in body["details"]


# -- reply bytes -------------------------------------------------------------

def inventory_bytes(row: dict) -> bytes:
    """Encode a record as the reply does: wire order, NULLs omitted, Shanghai dates."""
    inventory = {}
    for name in RECORD_FIELDS:
        if row[name] is not None:
            inventory[name] = reply_date(row[name]) if name.endswith("Date") else row[name]
    return json.dumps(inventory, separators=(",", ":")).encode()


def test_example_record_bytes(server):
    reply = server.get(f"{RECORDS}?q=uuid={EXAMPLE['uuid']}")
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json;charset=utf-8"
    assert reply.body == (
        b'{"schema":{"inventories[0]":"org.zstack.ai.entity.TrainedModelRecordInventory"},'
        b'"inventories":[{"uuid":"d374c0670c744f0f85c9d33041475eb1",'
        b'"modelUuid":"f9878203ed4048fe99a8909ca90cc105",'
        b'"modelServiceInstanceGroupUuid":"4ad1e97134d44e18a72a84b6b1aabd0c",'
        b'"datasetUuid":"b9d2327ad5ad477bbbcdc6d5534c1e96",'
        b'"createDate":"Nov 19, 2025 6:20:07 PM","lastOpDate":"Nov 19, 2025 6:20:07 PM"}]}'
    )


def test_counted_page_bytes(server):
    rows = {row["uuid"]: row for row in ROWS}
    first, second, third = (rows[uuid] for uuid in expected_order("createDate", True)[:3])
    reply = server.get(f"{RECORDS}?sort=-createDate&limit=3&replyWithCount=true")
    schema = b",".join(b'"inventories[%d]":"%s"' % (i, RECORD_CLASS.encode()) for i in (2, 1, 0))
    assert reply.body == (
        b'{"schema":{' + schema + b'},"total":%d,"inventories":[' % TOTAL
        + inventory_bytes(first) + b"," + inventory_bytes(second) + b","
        + inventory_bytes(third) + b"]}"
    )


def test_null_fields_omitted(server):
    row = next(r for r in ROWS if r["sourceModelUuid"] is None and r["datasetUuid"] is None)
    reply = server.get(f"{RECORDS}?q=uuid={row['uuid']}")
    item = reply.json()["inventories"][0]
    assert list(item) == ["uuid", "modelUuid", "modelServiceInstanceGroupUuid", "createDate",
                          "lastOpDate"]
    assert b"null" not in reply.body


def test_html_characters_escaped(server):
    reply = server.get(f"{MODELS}?q=uuid={ESCAPED_MODEL['uuid']}")
    assert reply.status == 200
    assert reply.body == (
        b'{"schema":{"inventories[0]":"' + MODEL_CLASS.encode() + b'"},"inventories":[{'
        b'"uuid":"30de0000000000000000000000000001",'
        b'"name":"\\u003cb\\u003e\\u0026\\u003d\\u0027x\\u0027\\u003c/b\\u003e",'
        b'"description":"line\\u2028break",'
        b'"modelCenterUuid":"ce000000000000000000000000000001",'
        b'"vendor":"' + "模型".encode() + b'",'
        b'"size":7,"type":"LLM",'
        b'"createDate":"Nov 19, 2025 6:20:07 PM","lastOpDate":"Nov 20, 2025 12:05:06 PM"}]}'
    )
    assert reply.json()["inventories"][0]["name"] == ESCAPED_MODEL["name"]


def test_escaped_name_queryable(server):
    body = get_json(server, "q=" + quote("name=" + ESCAPED_MODEL["name"], safe=""), MODELS)
    assert [item["uuid"] for item in body["inventories"]] == [ESCAPED_MODEL["uuid"]]


def test_schema_lists_every_position(server):
    body = get_json(server, "limit=3")
    assert list(body["schema"].items()) == [
        ("inventories[2]", RECORD_CLASS),
        ("inventories[1]", RECORD_CLASS),
        ("inventories[0]", RECORD_CLASS),
    ]


def test_no_success_key(server):
    for raw_query in ("limit=2", "count=true", "limit=0&replyWithCount=true"):
        assert "success" not in get_json(server, raw_query)


# -- GET by uuid -------------------------------------------------------------

def test_get_by_uuid_ignores_parameters(server):
    plain = server.get(f"{RECORDS}/{EXAMPLE['uuid']}")
    noisy = server.get(f"{RECORDS}/{EXAMPLE['uuid']}?q=uuid&limit=x&fields=,&count=true"
                       "&sort=foo&start=-1&%FF")
    assert plain.status == 200
    assert noisy.status == 200
    assert noisy.body == plain.body
    assert plain.body == server.get(f"{RECORDS}?q=uuid={EXAMPLE['uuid']}").body


def test_get_by_uuid_folds_case(server):
    for path in (f"{RECORDS}/{EXAMPLE['uuid'].upper()}",
                 f"/v1/ai/trained-model/record/{EXAMPLE['uuid']}"):
        items = server.get(path).json()["inventories"]
        assert [item["uuid"] for item in items] == [EXAMPLE["uuid"]]


def test_get_missing_uuid_empty(server):
    reply = server.get(f"{RECORDS}/00000000000000000000000000000000")
    assert reply.status == 200
    assert reply.body == b'{"schema":{},"inventories":[]}'


# -- a schema longer than one streamed piece ---------------------------------

LARGE = 20_001


@pytest.fixture(scope="module")
def large_server(make_module_server):
    rows = [{**generated_record(i), "uuid": f"{i:032x}"} for i in range(LARGE)]
    started = make_module_server(
        "--admin-password", ADMIN_PASSWORD,
        prepare=lambda url: insert_rows(url, "TrainedModelRecordVO", rows))
    started.session = started.login_session()
    return started


def test_long_schema_complete(large_server):
    body = get_json(large_server, f"limit={LARGE}&fields=uuid&replyWithCount=true")
    assert body["total"] == LARGE
    assert list(body["schema"]) == [f"inventories[{i}]" for i in reversed(range(LARGE))]
    assert [item["uuid"] for item in body["inventories"]] == [f"{i:032x}" for i in range(LARGE)]
