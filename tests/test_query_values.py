"""Typed condition values: timestamps, numbers and booleans.

Timestamps are stored in UTC with whole seconds and read in the server's time
zone (Asia/Shanghai, UTC+8 without daylight saving, unless a test starts a
server in another zone). Numbers come from ModelVO.size and minGpuMemory,
DatasetVO.size and system, and ModelCenterVO.managementPort.
"""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import quote

import pytest
from conftest import ADMIN_PASSWORD, insert_rows

RECORDS = "/v1/ai/trained-model/records"
MODELS = "/v1/ai/models"
DATASETS = "/v1/ai/datasets"
MODEL_CENTERS = "/v1/ai/model-centers"
CENTER_UUID = "ce000000000000000000000000000001"
SOME_DATE = "2025-11-19 10:20:07"


def record_uuid(n: int) -> str:
    return f"7ec0{n:028x}"


def model_uuid(n: int) -> str:
    return f"30de{n:028x}"


def dataset_uuid(n: int) -> str:
    return f"da7a{n:028x}"


def center_uuid(n: int) -> str:
    return f"ce00{n:028x}"


def utc(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)


def epoch_millis(text: str) -> int:
    return int(utc(text).timestamp()) * 1000


# (n, createDate, lastOpDate), both UTC. In Asia/Shanghai record 3 is midnight
# of Nov 19 and record 4 the last second of Nov 18. Ascending by createDate the
# order is 5, 6, 4, 3, 1, 2.
RECORD_DATES = [
    (1, "2025-11-19 10:20:07", "2025-11-19 10:20:07"),
    (2, "2025-11-19 10:20:08", "2025-11-20 00:00:00"),
    (3, "2025-11-18 16:00:00", "2025-11-18 16:00:00"),
    (4, "2025-11-18 15:59:59", "2025-11-18 16:00:01"),
    (5, "2024-02-29 04:00:00", "2024-02-29 04:00:00"),
    (6, "2025-01-01 16:30:05", "2025-01-01 16:30:05"),
]
ALL_RECORDS = [1, 2, 3, 4, 5, 6]

# (n, size, minGpuMemory): record 5 contains the largest 64-bit integer.
MODEL_NUMBERS = [
    (1, 0, None),
    (2, 1024, 17_179_869_184),
    (3, 15_000_000_000, 8_589_934_592),
    (4, 1024, None),
    (5, 9_223_372_036_854_775_807, 1),
]
ALL_MODELS = [1, 2, 3, 4, 5]

# (n, system, size).
DATASET_VALUES = [(1, True, 10), (2, False, None), (3, True, 20), (4, False, 10)]

# (n, managementPort).
CENTER_PORTS = [(1, 8080), (2, 443), (3, 9090)]


def record_rows(dates) -> list[dict]:
    return [
        {"uuid": record_uuid(n), "modelUuid": model_uuid(n), "sourceModelUuid": None,
         "modelServiceInstanceGroupUuid": "9a000000000000000000000000000001",
         "datasetUuid": None, "createDate": created, "lastOpDate": last}
        for n, created, last in dates
    ]


def prepare_world(url: str) -> None:
    insert_rows(url, "TrainedModelRecordVO", record_rows(RECORD_DATES))
    insert_rows(url, "ModelVO", [
        {"uuid": model_uuid(n), "name": f"model-{n}", "modelCenterUuid": CENTER_UUID,
         "size": size, "minGpuMemory": memory, "type": "LLM", "createDate": SOME_DATE,
         "lastOpDate": SOME_DATE}
        for n, size, memory in MODEL_NUMBERS
    ])
    insert_rows(url, "DatasetVO", [
        {"uuid": dataset_uuid(n), "name": f"dataset-{n}", "modelCenterUuid": CENTER_UUID,
         "size": size, "system": system, "createDate": SOME_DATE, "lastOpDate": SOME_DATE}
        for n, system, size in DATASET_VALUES
    ])
    insert_rows(url, "ModelCenterVO", [
        {"uuid": center_uuid(n), "name": f"center-{n}", "managementIp": "192.0.2.10",
         "managementPort": port, "createDate": SOME_DATE, "lastOpDate": SOME_DATE}
        for n, port in CENTER_PORTS
    ])


@pytest.fixture(scope="module")
def server(make_module_server):
    started = make_module_server("--admin-password", ADMIN_PASSWORD, prepare=prepare_world)
    started.session = started.login_session()
    return started


UUID_MAKERS = {RECORDS: record_uuid, MODELS: model_uuid, DATASETS: dataset_uuid,
               MODEL_CENTERS: center_uuid}


def matched(server, path: str, condition: str) -> list[int]:
    """Run one condition on `path` and return the row numbers it matched, in reply order."""
    reply = server.get(f"{path}?q={quote(condition, safe='')}")
    assert reply.status == 200, reply.text
    by_uuid = {UUID_MAKERS[path](n): n for n in range(1, 20)}
    return [by_uuid[item["uuid"]] for item in reply.json()["inventories"]]


def rejected(server, path: str, condition: str) -> dict:
    reply = server.get(f"{path}?q={quote(condition, safe='')}")
    assert reply.status == 503, reply.text
    error = reply.json()["error"]
    assert error["code"] == "SYS.1007"
    assert error["description"] == "One or more API argument is invalid"
    return error


# -- timestamps: accepted forms ----------------------------------------------

@pytest.mark.parametrize(("value", "expected"), [
    ("2025-11-19 18:20:07", [1]),
    ("2025-11-19 18:20:07.000", [1]),
    ("2025-11-19 18:20:08.0", [2]),
    ("2025-11-19", [3]),
    ("2025-11-18 23:59:59", [4]),
    ("2025-11-19T18:20:07", [1]),
    ("2025-11-19T10:20:07Z", [1]),
    ("2025-11-19T10:20:07+00:00", [1]),
    ("2025-11-19T11:20:07+01:00", [1]),
    ("2025-11-19T18:20:07.000+08:00", [1]),
    ("2025-11-19T05:20:07-05:00", [1]),
    ("Nov 19, 2025 6:20:07 PM", [1]),
    ("Nov 19, 2025 12:00:00 AM", [3]),
    ("Nov 18, 2025 11:59:59 PM", [4]),
    ("Feb 29, 2024 12:00:00 PM", [5]),
    ("Jan 2, 2025 12:30:05 AM", [6]),
    (str(epoch_millis("2025-11-19 10:20:07")), [1]),
    (str(epoch_millis("2024-02-29 04:00:00")), [5]),
])
def test_timestamp_format_accepted(server, value, expected):
    assert matched(server, RECORDS, f"createDate={value}") == expected


@pytest.mark.parametrize(("condition", "expected"), [
    ("createDate=2025-11-19 00:00:00", [3]),
    ("createDate!=2025-11-19 00:00:00", [1, 2, 4, 5, 6]),
    ("createDate>2025-11-19 00:00:00", [1, 2]),
    ("createDate>=2025-11-19 00:00:00", [1, 2, 3]),
    ("createDate<2025-11-19 00:00:00", [4, 5, 6]),
    ("createDate<=2025-11-19 00:00:00", [3, 4, 5, 6]),
    ("createDate?=2025-11-19 00:00:00,2024-02-29 12:00:00", [3, 5]),
    ("createDate!?=2025-11-19 00:00:00,2024-02-29 12:00:00", [1, 2, 4, 6]),
    ("createDate?=2025-11-19T10:20:08Z," + str(epoch_millis("2025-01-01 16:30:05")), [2, 6]),
    ("createDate is null", []),
    ("createDate not null", ALL_RECORDS),
    ("createDate=null", []),
    ("createDate=NULL", []),
    ("createDate!=null", ALL_RECORDS),
    ("createDate!=nUlL", ALL_RECORDS),
    ("lastOpDate=2025-11-20 08:00:00", [2]),
    ("lastOpDate>2025-11-19 18:20:07", [2]),
    ("lastOpDate>=2025-11-19", [1, 2, 3, 4]),
    ("lastOpDate<2025-11-19", [5, 6]),
    ("lastOpDate!=2025-11-19 00:00:00", [1, 2, 4, 5, 6]),
    ("lastOpDate not null", ALL_RECORDS),
    ("createDate>0", ALL_RECORDS),
])
def test_timestamp_operator(server, condition, expected):
    assert matched(server, RECORDS, condition) == expected


@pytest.mark.parametrize("value", [
    "2025-11-19 18:20:07.500",
    "2025-11-19T10:20:07.5Z",
    str(epoch_millis("2025-11-19 10:20:07") + 500),
])
def test_fraction_compared_exactly(server, value):
    # Record 1 was stored at 18:20:07 and record 2 at 18:20:08 (Shanghai).
    assert matched(server, RECORDS, f"createDate={value}") == []
    assert matched(server, RECORDS, f"createDate!={value}") == ALL_RECORDS
    assert matched(server, RECORDS, f"createDate>{value}") == [2]
    assert matched(server, RECORDS, f"createDate>={value}") == [2]
    assert matched(server, RECORDS, f"createDate<{value}") == [1, 3, 4, 5, 6]
    assert matched(server, RECORDS, f"createDate<={value}") == [1, 3, 4, 5, 6]
    assert matched(server, RECORDS, f"createDate?={value},2025-11-19 18:20:08") == [2]


def test_fraction_zero_matches(server):
    assert matched(server, RECORDS, "createDate=2025-11-19 18:20:07.000") == [1]
    assert matched(server, RECORDS, "createDate<2025-11-19 18:20:07.001") == [1, 3, 4, 5, 6]
    assert matched(server, RECORDS, "createDate>2025-11-19 18:20:06.999") == [1, 2]


def test_reply_date_round_trip(server):
    reply = server.get(RECORDS)
    assert reply.status == 200
    inventories = reply.json()["inventories"]
    assert len(inventories) == len(RECORD_DATES)
    for n, inventory in zip(ALL_RECORDS, inventories):
        assert matched(server, RECORDS, f"createDate={inventory['createDate']}") == [n]
        assert matched(server, RECORDS, f"lastOpDate={inventory['lastOpDate']}") == [n]


@pytest.mark.parametrize("condition", [
    "createDate~=2025%",
    "createDate!~=2025%",
    "lastOpDate~=%",
])
def test_like_on_timestamp_rejected(server, condition):
    error = rejected(server, RECORDS, condition)
    field = condition.split("~")[0].rstrip("!")
    assert f"field[{field}]" in error["details"]


@pytest.mark.parametrize("value", [
    "garbage",
    "",
    " ",
    "2025-13-01",
    "2025-02-30",
    "2025-11-19 24:00:00",
    "2025/11/19",
    "19.11.2025",
    "1e12",
    "Nov 19, 2025 13:20:07 PM",
    "Nov 19, 2025 0:20:07 PM",
    "Foo 19, 2025 6:20:07 PM",
    "Nov 31, 2025 6:20:07 PM",
    "99999999999999999999",
])
def test_bad_timestamp_rejected(server, value):
    error = rejected(server, RECORDS, f"createDate>{value}")
    assert f"value[{value}]" in error["details"]
    assert "field[createDate]" in error["details"]
    assert "epoch milliseconds" in error["details"]


def test_bad_in_item_named(server):
    error = rejected(server, RECORDS, "createDate?=2025-11-19,not-a-date")
    assert "value[not-a-date]" in error["details"]
    error = rejected(server, RECORDS, "createDate!?=2025-11-19,")
    assert "value[]" in error["details"]


@pytest.mark.parametrize("value", ["0500-01-01", str(epoch_millis("1000-01-01 00:00:00") - 1)])
def test_early_year_before_all(server, value):
    assert matched(server, RECORDS, f"createDate>{value}") == ALL_RECORDS


# Around New York's 2025 switches: 01:30 on Nov 2 happens twice (EDT, then
# EST), and 02:30 on Mar 9 does not exist (clocks jump from 02:00 to 03:00).
DST_DATES = [
    (11, "2025-11-02 05:30:00", "2025-11-02 05:30:00"),
    (12, "2025-11-02 06:30:00", "2025-11-02 06:30:00"),
    (13, "2025-03-09 07:30:00", "2025-03-09 07:30:00"),
]


@pytest.fixture(scope="module")
def new_york_server(make_module_server):
    started = make_module_server(
        "--admin-password", ADMIN_PASSWORD, "--time-zone", "America/New_York",
        prepare=lambda url: insert_rows(url, "TrainedModelRecordVO", record_rows(DST_DATES)))
    started.session = started.login_session()
    return started


@pytest.mark.parametrize(("value", "expected"), [
    ("2025-11-02 01:30:00", [11]),
    ("2025-11-02T01:30:00-04:00", [11]),
    ("2025-11-02T01:30:00-05:00", [12]),
    ("2025-03-09 02:30:00", [13]),
    ("2025-03-09 03:30:00", [13]),
    ("2025-03-09T02:30:00", [13]),
])
def test_local_time_in_server_zone(new_york_server, value, expected):
    assert matched(new_york_server, RECORDS, f"createDate={value}") == expected


def test_replies_use_server_zone(new_york_server):
    reply = new_york_server.get(f"{RECORDS}?q=uuid={record_uuid(13)}")
    assert reply.json()["inventories"][0]["createDate"] == "Mar 9, 2025 3:30:00 AM"


# -- numbers -----------------------------------------------------------------

@pytest.mark.parametrize(("condition", "expected"), [
    ("size=1024", [2, 4]),
    ("size!=1024", [1, 3, 5]),
    ("size>1024", [3, 5]),
    ("size>=1024", [2, 3, 4, 5]),
    ("size<1024", [1]),
    ("size<=1024", [1, 2, 4]),
    ("size?=0,15000000000", [1, 3]),
    ("size!?=0,1024", [3, 5]),
    ("size~=10%", [2, 4]),
    ("size~=15%", [3]),
    ("size!~=10%", [1, 3, 5]),
    ("size~=_", [1]),
    ("size is null", []),
    ("size not null", ALL_MODELS),
    ("size=null", []),
    ("size!=NULL", ALL_MODELS),
    ("minGpuMemory is null", [1, 4]),
    ("minGpuMemory=Null", [1, 4]),
    ("minGpuMemory not null", [2, 3, 5]),
    ("minGpuMemory!=8589934592", [2, 5]),
    ("minGpuMemory<17179869184", [3, 5]),
    ("minGpuMemory!?=1", [2, 3]),
    ("minGpuMemory!~=1%", [3]),
])
def test_number_operator(server, condition, expected):
    assert matched(server, MODELS, condition) == expected


@pytest.mark.parametrize(("condition", "expected"), [
    # Compared as text, "15000000000" would sort before "999".
    ("size>999", [2, 3, 4, 5]),
    ("size>1023.5", [2, 3, 4, 5]),
    ("size<1024.5", [1, 2, 4]),
    ("size=1024.0", [2, 4]),
    ("size=1.024e3", [2, 4]),
    ("size=+1024", [2, 4]),
    ("size=01024", [2, 4]),
    ("size>-1", ALL_MODELS),
    ("size?=1024.0,0", [1, 2, 4]),
])
def test_number_compared_numerically(server, condition, expected):
    assert matched(server, MODELS, condition) == expected


@pytest.mark.parametrize(("condition", "expected"), [
    ("size=9223372036854775807", [5]),
    ("size>9223372036854775806", [5]),
    ("size>=9223372036854775808", []),
    ("size=9223372036854775808", []),
    ("size<99999999999999999999", ALL_MODELS),
    ("size!=99999999999999999999", ALL_MODELS),
    ("size>-9223372036854775809", ALL_MODELS),
    ("size<-99999999999999999999", []),
    ("size?=99999999999999999999,0", [1]),
    ("size!?=99999999999999999999", ALL_MODELS),
    pytest.param("size<" + "9" * 5000, ALL_MODELS, id="size<(5000 nines)"),
])
def test_number_beyond_64_bits(server, condition, expected):
    assert matched(server, MODELS, condition) == expected


@pytest.mark.parametrize(("path", "condition", "bad"), [
    (MODELS, "size=abc", "abc"),
    (MODELS, "size=10kb", "10kb"),
    (MODELS, "size=0x10", "0x10"),
    (MODELS, "size=1,024", "1,024"),
    (MODELS, "size>", ""),
    (MODELS, "size=nan", "nan"),
    (MODELS, "size<inf", "inf"),
    (MODELS, "size?=1,x", "x"),
    (MODELS, "minGpuMemory!=1 GB", "1 GB"),
    (DATASETS, "size>=ten", "ten"),
    (MODEL_CENTERS, "managementPort=eighty", "eighty"),
])
def test_bad_number_rejected(server, path, condition, bad):
    error = rejected(server, path, condition)
    assert f"value[{bad}]" in error["details"]


@pytest.mark.parametrize(("condition", "expected"), [
    ("managementPort=8080", [1]),
    ("managementPort!=8080", [2, 3]),
    ("managementPort>443", [1, 3]),
    ("managementPort>=8080", [1, 3]),
    ("managementPort<8080", [2]),
    ("managementPort<=8080", [1, 2]),
    ("managementPort?=443,9090", [2, 3]),
    ("managementPort!?=443", [1, 3]),
    ("managementPort~=80%", [1]),
    ("managementPort!~=80%", [2, 3]),
    ("managementPort~=%0", [1, 3]),
    ("managementPort is null", []),
    ("managementPort not null", [1, 2, 3]),
    ("managementPort=null", []),
    ("managementPort>442.5", [1, 2, 3]),
    ("managementPort<10000000000", [1, 2, 3]),
])
def test_integer_operator(server, condition, expected):
    assert matched(server, MODEL_CENTERS, condition) == expected


# -- booleans ----------------------------------------------------------------

@pytest.mark.parametrize(("condition", "expected"), [
    ("system=true", [1, 3]),
    ("system=TRUE", [1, 3]),
    ("system=True", [1, 3]),
    ("system=false", [2, 4]),
    ("system=FALSE", [2, 4]),
    ("system!=true", [2, 4]),
    ("system!=False", [1, 3]),
    ("system?=true,false", [1, 2, 3, 4]),
    ("system?=TRUE", [1, 3]),
    ("system!?=true", [2, 4]),
    ("system is null", []),
    ("system not null", [1, 2, 3, 4]),
    ("system=null", []),
    ("system!=null", [1, 2, 3, 4]),
    ("size=10", [1, 4]),
    ("size!=10", [3]),
    ("size is null", [2]),
    ("size>=10", [1, 3, 4]),
])
def test_dataset_operator(server, condition, expected):
    assert matched(server, DATASETS, condition) == expected


@pytest.mark.parametrize("value", ["yes", "1", "0", "t", "", "truthy"])
def test_bad_boolean_rejected(server, value):
    error = rejected(server, DATASETS, f"system={value}")
    assert f"value[{value}]" in error["details"]
    assert "field[system]" in error["details"]


def test_boolean_rendered_as_json(server):
    reply = server.get(DATASETS)
    assert [item["system"] for item in reply.json()["inventories"]] == [True, False, True, False]
    assert b'"system":true' in reply.body
    assert b'"system":false' in reply.body
