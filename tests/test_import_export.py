"""`aios-records import` and `export` against real SQLite files and real servers.

Files are written in the shape a ZStack query returns, imported through the
command line, and checked in the tables, through the query API, and by
exporting them back.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
import sqlalchemy as sa

from aios_records.resources import RESOURCES
from aios_records.storage import database
from aios_records.storage.schema import RESOURCE_TABLES

from conftest import database_url_for, run_cli, sha512

# Messages in English whatever the host's locale is.
ENGLISH = {"LC_ALL": "en_US.UTF-8", "LC_MESSAGES": "", "LANG": "en_US.UTF-8"}
CLASS = "org.zstack.ai.entity.{}Inventory"

CENTER_UUID = "0c1d2e3f405162738495a6b7c8d9eaf0"
MODEL_UUID = "f9878203ed4048fe99a8909ca90cc105"
BASE_MODEL_UUID = "5a0f1c2d3e4f40718293a4b5c6d7e8f9"
GROUP_UUID = "4ad1e97134d44e18a72a84b6b1aabd0c"
DATASET_UUID = "b9d2327ad5ad477bbbcdc6d5534c1e96"
RECORD_UUID = "d374c0670c744f0f85c9d33041475eb1"

# One complete inventory of each type, as a query in time zone Asia/Shanghai
# returns it. Values carry characters that Gson escapes.
SAMPLES: dict[str, dict] = {
    "TrainedModelRecord": {
        "uuid": RECORD_UUID, "modelUuid": MODEL_UUID, "sourceModelUuid": BASE_MODEL_UUID,
        "modelServiceInstanceGroupUuid": GROUP_UUID, "datasetUuid": DATASET_UUID,
        "createDate": "Nov 19, 2025 6:20:07 PM", "lastOpDate": "Nov 19, 2025 6:20:07 PM",
    },
    "Model": {
        "uuid": MODEL_UUID, "name": "Qwen2.5-7B-Instruct-ft-alpaca-zh-1",
        "description": "fine-tuned <nightly> & 'tested' a=b", "installPath": "/aios/models/q7b",
        "parameters": "7B", "modelCenterUuid": CENTER_UUID, "logo": "data:image/png;base64,AA==",
        "vendor": "Alibaba", "introduction": "通义千问 2.5", "size": 15231233024,
        "version": "1.0", "type": "LLM", "minGpuMemory": 17179869184,
        "createDate": "Nov 19, 2025 6:20:07 PM", "lastOpDate": "Nov 20, 2025 9:01:02 AM",
    },
    "Dataset": {
        "uuid": DATASET_UUID, "name": "alpaca-zh", "description": "instructions",
        "url": "s3://aios-datasets/alpaca-zh.jsonl", "installPath": "/aios/datasets/alpaca-zh",
        "modelCenterUuid": CENTER_UUID, "size": 2147483648, "system": True,
        "createDate": "Dec 27, 2024 9:00:00 AM", "lastOpDate": "Dec 27, 2024 9:00:00 AM",
    },
    "ModelServiceInstanceGroup": {
        "uuid": GROUP_UUID, "modelServiceUuid": "7d8e9fa0b1c2d3e4f5061728394a5b6c",
        "modelUuid": BASE_MODEL_UUID, "status": "Stopped", "modelServiceType": "FineTune",
        "type": "Container", "name": "ft-qwen7b-alpaca", "description": "nightly job",
        "createDate": "Nov 19, 2025 2:00:00 PM", "lastOpDate": "Nov 19, 2025 6:20:07 PM",
    },
    "ModelCenter": {
        "uuid": CENTER_UUID, "name": "mc-shanghai-01", "description": "the model center",
        "url": "http://127.0.0.1:8989", "status": "Connected", "managementIp": "127.0.0.1",
        "managementPort": 8989, "storageNetworkUuid": "1a2b3c4d5e6f708192a3b4c5d6e7f809",
        "serviceNetworkUuid": "2b3c4d5e6f708192a3b4c5d6e7f8091a",
        "containerRegistry": "registry.local:5000", "containerNetwork": "aios-net",
        "createDate": "Jan 2, 2024 10:00:00 AM", "lastOpDate": "Jan 2, 2024 10:00:00 AM",
    },
}


# -- helpers ------------------------------------------------------------------

def reply_text(inventories: list, class_name: str | None = None, total: bool = True) -> str:
    """Return a query reply as ZStack writes it: schema (last index first), total, inventories."""
    body: dict = {}
    if class_name is not None:
        body["schema"] = {f"inventories[{i}]": class_name
                          for i in range(len(inventories) - 1, -1, -1)}
    if total:
        body["total"] = len(inventories)
    body["inventories"] = inventories
    return json.dumps(body, ensure_ascii=False)


def write_reply(path: Path, inventories: list, resource: str | None = None,
                total: bool = True) -> Path:
    """Write a reply file; `resource` adds a schema naming that resource's class."""
    class_name = CLASS.format(resource) if resource else None
    path.write_text(reply_text(inventories, class_name, total), encoding="utf-8")
    return path


def import_files(data_dir: Path, *args: str, check: bool = True,
                 time_zone: str = "Asia/Shanghai") -> subprocess.CompletedProcess:
    return run_cli("import", "--data-dir", str(data_dir), "--database-url",
                   database_url_for(data_dir), "--time-zone", time_zone, *args,
                   env=ENGLISH, check=check)


def table_contents(data_dir: Path) -> dict[str, list[tuple]]:
    """Return every row of the five resource tables, in uuid order."""
    engine = database.create_engine(database_url_for(data_dir))
    try:
        with engine.connect() as conn:
            return {
                name: [tuple(row) for row in
                       conn.execute(sa.select(table).order_by(table.c.uuid))]
                for name, table in RESOURCE_TABLES.items()
            }
    finally:
        engine.dispose()


def stored_row(data_dir: Path, resource: str, uuid: str) -> dict | None:
    engine = database.create_engine(database_url_for(data_dir))
    try:
        with engine.connect() as conn:
            table = RESOURCE_TABLES[resource]
            row = conn.execute(sa.select(table).where(table.c.uuid == uuid)).first()
            return dict(row._mapping) if row is not None else None
    finally:
        engine.dispose()


def row_count(data_dir: Path, resource: str) -> int:
    return len(table_contents(data_dir)[resource])


def records(count: int, first: int = 0) -> list[dict]:
    """Return `count` distinct trained-model record inventories."""
    return [
        {**SAMPLES["TrainedModelRecord"], "uuid": f"{i:032x}", "modelUuid": f"{i + 10**6:032x}"}
        for i in range(first, first + count)
    ]


# -- type detection -------------------------------------------------------------

@pytest.mark.parametrize("resource", list(RESOURCES))
@pytest.mark.parametrize("with_schema", [True, False], ids=["schema", "fields"])
def test_import_each_resource_type(tmp_path, resource, with_schema):
    path = write_reply(tmp_path / "reply.json", [SAMPLES[resource]],
                       resource if with_schema else None)

    result = import_files(tmp_path / "data", str(path))

    assert f"{resource} rows imported: 1" in result.stderr
    contents = table_contents(tmp_path / "data")
    assert len(contents[resource]) == 1
    for other in RESOURCES:
        if other != resource:
            assert contents[other] == []
    row = stored_row(tmp_path / "data", resource, SAMPLES[resource]["uuid"])
    for name, value in SAMPLES[resource].items():
        if name not in ("createDate", "lastOpDate"):
            assert row[name] == value, name


def test_schema_decides_type_fields_cannot(tmp_path):
    # Without size and type, these fields fit both Model and Dataset.
    partial = {"uuid": MODEL_UUID, "name": "m", "modelCenterUuid": CENTER_UUID,
               "createDate": "Nov 19, 2025 6:20:07 PM", "lastOpDate": "Nov 19, 2025 6:20:07 PM"}
    path = write_reply(tmp_path / "models.json", [partial], "Model")

    result = import_files(tmp_path / "data", str(path))

    assert "Model rows imported: 1" in result.stderr
    row = stored_row(tmp_path / "data", "Model", MODEL_UUID)
    assert row["size"] == 0
    assert row["type"] == "LLM"


def test_ambiguous_file_asks_for_type(tmp_path):
    partial = {"uuid": MODEL_UUID, "name": "m", "modelCenterUuid": CENTER_UUID,
               "createDate": "Nov 19, 2025 6:20:07 PM", "lastOpDate": "Nov 19, 2025 6:20:07 PM"}
    path = write_reply(tmp_path / "partial.json", [partial])

    result = import_files(tmp_path / "data", str(path), check=False)

    assert result.returncode == 1
    assert "cannot tell the resource type" in result.stderr
    assert "Model, Dataset" in result.stderr
    assert "give --type" in result.stderr
    assert all(rows == [] for rows in table_contents(tmp_path / "data").values())


def test_type_option_any_case(tmp_path):
    partial = {"uuid": MODEL_UUID, "name": "m", "modelCenterUuid": CENTER_UUID,
               "createDate": "Nov 19, 2025 6:20:07 PM", "lastOpDate": "Nov 19, 2025 6:20:07 PM"}
    path = write_reply(tmp_path / "partial.json", [partial])

    result = import_files(tmp_path / "data", "--type", "dataset", str(path))

    assert "Dataset rows imported: 1" in result.stderr
    row = stored_row(tmp_path / "data", "Dataset", MODEL_UUID)
    assert row["system"] is False
    assert row_count(tmp_path / "data", "Model") == 0


def test_fields_of_no_type_ask_for_type(tmp_path):
    path = write_reply(tmp_path / "odd.json", [{"uuid": RECORD_UUID, "color": "red"}])

    result = import_files(tmp_path / "data", str(path), check=False)

    assert result.returncode == 1
    assert "fit no resource type; give --type" in result.stderr


def test_type_option_conflicting_with_schema(tmp_path):
    path = write_reply(tmp_path / "records.json", [SAMPLES["TrainedModelRecord"]],
                       "TrainedModelRecord")

    result = import_files(tmp_path / "data", "--type", "Model", str(path), check=False)

    assert result.returncode == 1
    assert (f"the schema names inventory class {CLASS.format('TrainedModelRecord')}, "
            "but --type is Model") in result.stderr
    assert row_count(tmp_path / "data", "TrainedModelRecord") == 0


@pytest.mark.parametrize("command", ["import", "export"])
def test_unknown_type_lists_api_names(tmp_path, command):
    target = ["--output-dir", str(tmp_path / "out")] if command == "export" else [
        str(write_reply(tmp_path / "x.json", [SAMPLES["Model"]], "Model"))]

    result = run_cli(command, "--data-dir", str(tmp_path / "data"), "--type", "Nope", *target,
                     check=False)

    assert result.returncode == 2
    assert "'Nope' is not one of 'TrainedModelRecord', 'Model'," in result.stderr


def test_schema_of_two_classes_rejected(tmp_path):
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps({
        "schema": {"inventories[1]": CLASS.format("Model"),
                   "inventories[0]": CLASS.format("Dataset")},
        "inventories": [SAMPLES["Dataset"], SAMPLES["Model"]],
    }))

    result = import_files(tmp_path / "data", str(path), check=False)

    assert result.returncode == 1
    assert "the schema names several inventory classes" in result.stderr


def test_type_option_ignores_unknown_fields(tmp_path):
    inventory = {**SAMPLES["TrainedModelRecord"], "accountUuid": "x", "extra": 1}
    path = write_reply(tmp_path / "records.json", [inventory])

    result = import_files(tmp_path / "data", "--type", "TrainedModelRecord", str(path))

    assert "ignored fields that TrainedModelRecord does not have: accountUuid, extra" \
        in result.stderr
    assert row_count(tmp_path / "data", "TrainedModelRecord") == 1


def test_file_not_a_reply_rejected(tmp_path):
    path = tmp_path / "list.json"
    path.write_text(json.dumps([SAMPLES["Model"]]))

    result = import_files(tmp_path / "data", str(path), check=False)

    assert result.returncode == 1
    assert "not a query reply" in result.stderr


def test_empty_inventories_imports_nothing(tmp_path):
    path = tmp_path / "empty.json"
    path.write_text('{"schema":{},"inventories":[]}')

    result = import_files(tmp_path / "data", str(path))

    assert "the inventories list is empty" in result.stderr


# -- bad rows ---------------------------------------------------------------------

BAD_ROWS = [
    # (inventory, expected problem)
    ({**SAMPLES["Model"], "name": None}, "field[name] is missing"),
    ({**SAMPLES["Model"], "size": "big"},
     "field[size] must be of type integer, but is of type string"),
    ({**SAMPLES["Model"], "description": "x" * 2049},
     "field[description] is 2049 characters long, more than the maximum of 2048"),
    ({**SAMPLES["Model"], "uuid": "not-a-uuid"}, "field[uuid] is not-a-uuid, which is not a uuid"),
    ({**SAMPLES["Model"], "createDate": "yesterday"},
     "value[yesterday] of field[createDate] is not a valid timestamp"),
    ({k: v for k, v in SAMPLES["Model"].items() if k != "lastOpDate"},
     "field[lastOpDate] is missing"),
    ({**SAMPLES["Model"], "name": "  "}, "field[name] must not be empty"),
    ({**SAMPLES["Model"], "minGpuMemory": 1.5},
     "field[minGpuMemory] must be of type integer, but is of type number"),
    ("a string", "the row is a string, not a JSON object"),
]


def test_bad_rows_reported_and_nothing_written(tmp_path):
    inventories = [{**SAMPLES["Model"], "uuid": f"{1:032x}"}]
    for i, (inventory, _) in enumerate(BAD_ROWS):
        if isinstance(inventory, dict) and inventory.get("uuid") == MODEL_UUID:
            inventory = {**inventory, "uuid": f"{i + 2:032x}"}
        inventories.append(inventory)
    path = write_reply(tmp_path / "models.json", inventories, "Model")

    result = import_files(tmp_path / "data", str(path), check=False)

    assert result.returncode == 1
    for i, (_, problem) in enumerate(BAD_ROWS):
        assert f"models.json: row {i + 2}: {problem}" in result.stderr
    assert f"bad rows: {len(BAD_ROWS)}, so nothing was imported" in result.stderr
    assert "--skip-bad-rows" in result.stderr
    assert row_count(tmp_path / "data", "Model") == 0


def test_choice_range_and_own_source_reported(tmp_path):
    groups = write_reply(tmp_path / "groups.json",
                         [{**SAMPLES["ModelServiceInstanceGroup"], "status": "Sleeping"}])
    centers = write_reply(tmp_path / "centers.json",
                          [{**SAMPLES["ModelCenter"], "managementPort": 2**31}])
    own = write_reply(tmp_path / "records.json",
                      [{**SAMPLES["TrainedModelRecord"], "sourceModelUuid": MODEL_UUID.upper()}])

    result = import_files(tmp_path / "data", str(groups), str(centers), str(own), check=False)

    assert result.returncode == 1
    assert ("centers.json: row 1: field[managementPort] is 2147483648, outside the range "
            "-2147483648 to 2147483647") in result.stderr
    assert "groups.json: row 1: field[status] is Sleeping, which is not one of [Starting" \
        in result.stderr
    assert (f"records.json: row 1: modelUuid and sourceModelUuid are both {MODEL_UUID}"
            in result.stderr)


def test_skip_bad_rows_imports_good_rows(tmp_path):
    inventories = records(5)
    inventories[1]["modelServiceInstanceGroupUuid"] = None
    inventories[3]["createDate"] = "Feb 30, 2025 1:00:00 PM"
    path = write_reply(tmp_path / "records.json", inventories, "TrainedModelRecord")

    result = import_files(tmp_path / "data", "--skip-bad-rows", str(path))

    assert "records.json: row 2: field[modelServiceInstanceGroupUuid] is missing" \
        in result.stderr
    assert "records.json: row 4: value[Feb 30, 2025 1:00:00 PM] of field[createDate]" \
        in result.stderr
    assert "TrainedModelRecord rows imported: 3, bad rows skipped: 2" in result.stderr
    stored = [row[0] for row in table_contents(tmp_path / "data")["TrainedModelRecord"]]
    assert stored == [inventories[i]["uuid"] for i in (0, 2, 4)]


def test_many_bad_rows_listed_up_to_limit(tmp_path):
    inventories = [{**row, "modelUuid": None} for row in records(150)]
    path = write_reply(tmp_path / "records.json", inventories)

    result = import_files(tmp_path / "data", "--type", "TrainedModelRecord", str(path),
                          check=False)

    assert result.stderr.count("field[modelUuid] is missing") == 100
    assert "further problems not listed: 50" in result.stderr
    assert "bad rows: 150" in result.stderr


def test_one_bad_file_keeps_other_files(tmp_path):
    good = write_reply(tmp_path / "good.json", [SAMPLES["Dataset"]])
    bad = write_reply(tmp_path / "bad.json", [{**SAMPLES["ModelCenter"], "managementPort": "x"}])

    result = import_files(tmp_path / "data", str(bad), str(good), check=False)

    assert result.returncode == 1
    assert "good.json: Dataset rows imported: 1" in result.stderr
    assert row_count(tmp_path / "data", "Dataset") == 1
    assert row_count(tmp_path / "data", "ModelCenter") == 0


# -- transactions and upserts -----------------------------------------------------

def test_truncated_file_writes_nothing(tmp_path):
    # More rows than one batch, so some batches reach the database before the
    # error. The cut falls inside the last inventory.
    text = reply_text(records(2500), CLASS.format("TrainedModelRecord"))
    path = tmp_path / "records.json"
    path.write_text(text[: len(text) - 100])

    result = import_files(tmp_path / "data", str(path), check=False)

    assert result.returncode == 1
    assert "invalid JSON after 2499 complete inventories" in result.stderr
    assert "nothing was imported" in result.stderr
    assert row_count(tmp_path / "data", "TrainedModelRecord") == 0


def test_bad_row_near_end_writes_nothing(tmp_path):
    inventories = records(2500)
    inventories[2498]["uuid"] = "g" * 32
    path = write_reply(tmp_path / "records.json", inventories, "TrainedModelRecord")

    result = import_files(tmp_path / "data", str(path), check=False)

    assert result.returncode == 1
    assert "records.json: row 2499: field[uuid] is " + "g" * 32 in result.stderr
    assert row_count(tmp_path / "data", "TrainedModelRecord") == 0


def test_reimport_changes_nothing(tmp_path):
    files = [write_reply(tmp_path / f"{name}.json", [SAMPLES[name]], name) for name in RESOURCES]
    files.append(write_reply(tmp_path / "more.json", records(3000)))
    import_files(tmp_path / "data", *map(str, files))
    before = table_contents(tmp_path / "data")

    import_files(tmp_path / "data", *map(str, files))

    assert table_contents(tmp_path / "data") == before
    assert len(before["TrainedModelRecord"]) == 3001


def test_reimport_updates_changed_rows(tmp_path):
    path = write_reply(tmp_path / "models.json", [SAMPLES["Model"]])
    import_files(tmp_path / "data", str(path))
    changed = {**SAMPLES["Model"], "name": "renamed", "description": None,
               "lastOpDate": "Nov 21, 2025 8:00:00 AM"}
    write_reply(path, [changed])

    import_files(tmp_path / "data", str(path))

    row = stored_row(tmp_path / "data", "Model", MODEL_UUID)
    assert row["name"] == "renamed"
    assert row["description"] is None
    assert row["lastOpDate"] == "2025-11-21 00:00:00"
    assert row_count(tmp_path / "data", "Model") == 1


def test_uuid_stored_in_lower_case(tmp_path):
    path = write_reply(tmp_path / "records.json",
                       [{**SAMPLES["TrainedModelRecord"], "uuid": RECORD_UUID.upper()}])
    import_files(tmp_path / "data", str(path))
    import_files(tmp_path / "data", str(write_reply(path, [SAMPLES["TrainedModelRecord"]])))

    rows = table_contents(tmp_path / "data")["TrainedModelRecord"]
    assert [row[0] for row in rows] == [RECORD_UUID]


# -- time zones -------------------------------------------------------------------

def test_dates_read_in_time_zone(tmp_path):
    inventory = {**SAMPLES["TrainedModelRecord"],
                 "createDate": "Nov 19, 2025 6:20:07 PM",
                 "lastOpDate": "2025-11-19T18:20:07+08:00"}
    path = write_reply(tmp_path / "records.json", [inventory])

    for zone, create_date in (("Asia/Shanghai", "2025-11-19 10:20:07"),
                              ("UTC", "2025-11-19 18:20:07"),
                              ("America/New_York", "2025-11-19 23:20:07")):
        data_dir = tmp_path / zone.replace("/", "-")
        import_files(data_dir, str(path), time_zone=zone)
        row = stored_row(data_dir, "TrainedModelRecord", RECORD_UUID)
        assert row["createDate"] == create_date, zone
        # A date with an offset is the same instant in every zone.
        assert row["lastOpDate"] == "2025-11-19 10:20:07", zone


def test_dates_in_other_accepted_forms(tmp_path):
    inventory = {**SAMPLES["TrainedModelRecord"],
                 "createDate": 1763547607000,
                 "lastOpDate": "2025-11-19 18:20:07.900"}
    path = write_reply(tmp_path / "records.json", [inventory])

    import_files(tmp_path / "data", str(path))

    row = stored_row(tmp_path / "data", "TrainedModelRecord", RECORD_UUID)
    assert row["createDate"] == "2025-11-19 10:20:07"
    assert row["lastOpDate"] == "2025-11-19 10:20:07"


def test_time_zone_from_environment(tmp_path):
    path = write_reply(tmp_path / "records.json", [SAMPLES["TrainedModelRecord"]])

    run_cli("import", "--data-dir", str(tmp_path / "data"), str(path),
            env={**ENGLISH, "AIOS_RECORDS_TIME_ZONE": "UTC"})

    row = stored_row(tmp_path / "data", "TrainedModelRecord", RECORD_UUID)
    assert row["createDate"] == "2025-11-19 18:20:07"


def test_unknown_time_zone_rejected(tmp_path):
    path = write_reply(tmp_path / "records.json", [SAMPLES["TrainedModelRecord"]])

    result = import_files(tmp_path / "data", str(path), time_zone="Mars/Olympus", check=False)

    assert result.returncode == 2
    assert "unknown time zone 'Mars/Olympus'" in result.stderr


# -- through the query API ------------------------------------------------------

QUERY_PATHS = {name: resource.query_path for name, resource in RESOURCES.items()}


def test_imported_rows_served_by_query_api(tmp_path, make_server):
    data_dir = tmp_path / "data"
    files = [write_reply(tmp_path / f"{name}.json", [SAMPLES[name]], name) for name in RESOURCES]
    import_files(data_dir, *map(str, files))

    server = make_server("--admin-password", "password", data_dir=data_dir)
    server.session = server.login_session()

    for name, path in QUERY_PATHS.items():
        reply = server.get(f"{path}/{SAMPLES[name]['uuid']}")
        assert reply.status == 200, reply.text
        assert reply.json()["inventories"] == [SAMPLES[name]], name
    reply = server.get("/v1/ai/trained-model/records"
                       "?q=model.name=Qwen2.5-7B-Instruct-ft-alpaca-zh-1&q=dataset.name=alpaca-zh")
    assert [inv["uuid"] for inv in reply.json()["inventories"]] == [RECORD_UUID]


def test_imported_rows_visible_to_admin_only(tmp_path, make_server):
    data_dir = tmp_path / "data"
    import_files(data_dir, str(write_reply(tmp_path / "r.json", [SAMPLES["TrainedModelRecord"]])))
    server = make_server("--admin-password", "password", data_dir=data_dir)
    server.session = server.login_session()
    created = server.request("POST", "/v1/accounts", body=json.dumps(
        {"params": {"name": "bob", "password": sha512("bob-password"), "type": "Normal"}}))
    assert created.status == 200, created.text
    bob = server.login_session("bob", "bob-password")

    assert len(server.get("/v1/ai/trained-model/records").json()["inventories"]) == 1
    assert server.get("/v1/ai/trained-model/records", session=bob).json()["inventories"] == []


def test_owner_option_gives_rows_to_account(tmp_path, make_server):
    data_dir = tmp_path / "data"
    server = make_server("--admin-password", "password", data_dir=data_dir)
    server.session = server.login_session()
    created = server.request("POST", "/v1/accounts", body=json.dumps(
        {"params": {"name": "carol", "password": sha512("carol-password")}}))
    assert created.status == 200, created.text
    carol = server.login_session("carol", "carol-password")
    path = write_reply(tmp_path / "r.json", [SAMPLES["TrainedModelRecord"]])

    import_files(data_dir, str(path), "--owner", "carol")
    seen = server.get("/v1/ai/trained-model/records", session=carol).json()["inventories"]
    assert [inv["uuid"] for inv in seen] == [RECORD_UUID]

    import_files(data_dir, str(path), "--owner", "admin")
    assert server.get("/v1/ai/trained-model/records", session=carol).json()["inventories"] == []


def test_owner_option_unknown_account(tmp_path):
    path = write_reply(tmp_path / "r.json", [SAMPLES["TrainedModelRecord"]])
    result = import_files(tmp_path / "data", str(path), "--owner", "nobody", check=False)

    assert result.returncode == 2
    assert "no account is named 'nobody'" in result.stderr


def test_export_matches_query_replies(demo_server, tmp_path):
    out = tmp_path / "export"
    run_cli("export", "--database-url", demo_server.database_url, "--output-dir", str(out),
            "--time-zone", "Asia/Shanghai", env=ENGLISH)

    for name, path in QUERY_PATHS.items():
        reply = demo_server.get(f"{path}?limit=100000")
        assert reply.status == 200
        marker = b',"inventories":'
        served = reply.body[reply.body.index(marker) + len(marker):-1]
        exported = (out / f"{name}.json").read_bytes()
        assert exported == b'{"inventories":' + served + b"}", name


# -- export ---------------------------------------------------------------------

def test_export_import_round_trip(tmp_path):
    original = tmp_path / "original"
    run_cli("demo-data", "--data-dir", str(original), "--records", "3000", "--seed", "7")
    out = tmp_path / "export"

    result = run_cli("export", "--data-dir", str(original), "--output-dir", str(out),
                     "--time-zone", "UTC", env=ENGLISH)
    assert f"{out / 'TrainedModelRecord.json'}: TrainedModelRecord rows written: 3000" \
        in result.stderr
    copy = tmp_path / "copy"
    import_files(copy, *sorted(str(path) for path in out.glob("*.json")), time_zone="UTC")

    expected = table_contents(original)
    assert table_contents(copy) == expected
    assert all(expected[name] for name in RESOURCES)


def test_export_in_time_zone(tmp_path):
    data_dir = tmp_path / "data"
    import_files(data_dir, str(write_reply(tmp_path / "r.json", [SAMPLES["TrainedModelRecord"]])))
    out = tmp_path / "export"

    run_cli("export", "--data-dir", str(data_dir), "--output-dir", str(out),
            "--type", "trainedmodelrecord", "--time-zone", "UTC", env=ENGLISH)

    exported = json.loads((out / "TrainedModelRecord.json").read_text())
    assert exported["inventories"][0]["createDate"] == "Nov 19, 2025 10:20:07 AM"
    assert sorted(path.name for path in out.iterdir()) == ["TrainedModelRecord.json"]


def test_export_escapes_like_gson(tmp_path):
    data_dir = tmp_path / "data"
    import_files(data_dir, str(write_reply(tmp_path / "m.json", [SAMPLES["Model"]])))
    out = tmp_path / "export"

    run_cli("export", "--data-dir", str(data_dir), "--output-dir", str(out), "--type", "Model",
            "--time-zone", "Asia/Shanghai", env=ENGLISH)

    text = (out / "Model.json").read_text(encoding="utf-8")
    assert ('"description":"fine-tuned \\u003cnightly\\u003e \\u0026 \\u0027tested\\u0027 '
            'a\\u003db"') in text
    assert '"introduction":"通义千问 2.5"' in text
    assert json.loads(text) == {"inventories": [SAMPLES["Model"]]}


def test_export_omits_null_fields(tmp_path):
    data_dir = tmp_path / "data"
    sparse = {k: v for k, v in SAMPLES["TrainedModelRecord"].items()
              if k not in ("sourceModelUuid", "datasetUuid")}
    import_files(data_dir, str(write_reply(tmp_path / "r.json", [sparse])))
    out = tmp_path / "export"

    run_cli("export", "--data-dir", str(data_dir), "--output-dir", str(out),
            "--time-zone", "Asia/Shanghai", env=ENGLISH)

    assert json.loads((out / "TrainedModelRecord.json").read_text()) == {"inventories": [sparse]}
    assert (out / "Dataset.json").read_text() == '{"inventories":[]}'


# -- progress and memory ----------------------------------------------------------

def test_progress_bar_only_on_terminal(tmp_path):
    path = write_reply(tmp_path / "records.json", records(3000))

    piped = import_files(tmp_path / "piped", str(path))
    assert "%" not in piped.stderr

    primary, secondary = os.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "aios_records", "import", "--data-dir", str(tmp_path / "tty"),
         "--time-zone", "UTC", str(path)],
        stdout=subprocess.DEVNULL, stderr=secondary, env={**os.environ, **ENGLISH})
    os.close(secondary)
    output = b""
    while True:
        try:
            chunk = os.read(primary, 4096)
        except OSError:  # EIO once the child has closed the terminal
            break
        if not chunk:
            break
        output += chunk
    os.close(primary)
    assert process.wait(timeout=60) == 0
    text = output.decode("utf-8", errors="replace")
    assert "100%" in text
    assert "TrainedModelRecord rows imported: 3000" in text


LARGE_ROWS = 200_000


def write_large_reply(path: Path, count: int) -> None:
    """Write `count` records with a full schema, as one ZStack reply, without holding them."""
    class_name = CLASS.format("TrainedModelRecord")
    with open(path, "w", encoding="utf-8") as out:
        out.write('{"schema":{')
        out.write(",".join(f'"inventories[{i}]":"{class_name}"' for i in range(count - 1, -1, -1)))
        out.write(f'}},"total":{count},"inventories":[')
        for i in range(count):
            if i:
                out.write(",")
            out.write(
                f'{{"uuid":"{i:032x}","modelUuid":"{i + 10**9:032x}",'
                f'"sourceModelUuid":"{i + 2 * 10**9:032x}",'
                f'"modelServiceInstanceGroupUuid":"{i % 500:032x}",'
                f'"datasetUuid":"{i % 40:032x}",'
                f'"createDate":"Nov {1 + i % 28}, 2025 {1 + i % 12}:{i % 60:02d}:07 PM",'
                f'"lastOpDate":"Nov 19, 2025 6:{i % 60:02d}:07 PM"}}'
            )
        out.write("]}")


def peak_rss_of_import(data_dir: Path, path: Path) -> tuple[int, str]:
    """Run an import under a wrapper process; return the import's peak RSS in bytes and stderr.

    The wrapper's only child is the import, so its RUSAGE_CHILDREN maximum
    is the import's own peak, unaffected by servers this test run started.
    """
    wrapper = (
        "import resource, subprocess, sys\n"
        "done = subprocess.run(sys.argv[1:])\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, done.returncode)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", wrapper, sys.executable, "-m", "aios_records", "import",
         "--data-dir", str(data_dir), "--database-url", database_url_for(data_dir),
         "--time-zone", "UTC", str(path)],
        capture_output=True, text=True, env={**os.environ, **ENGLISH}, timeout=300)
    max_rss_kib, returncode = result.stdout.split()
    assert returncode == "0", result.stderr
    return int(max_rss_kib) * 1024, result.stderr


def python_size_of_rows(count: int, tmp_path: Path) -> int:
    """Return the bytes that `count` parsed records would take as Python objects."""
    sample_rows = 10_000
    sample = tmp_path / "sample.json"
    write_large_reply(sample, sample_rows)
    text = sample.read_text()
    tracemalloc.start()
    try:
        parsed = json.loads(text)["inventories"]
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert len(parsed) == sample_rows
    return held * count // sample_rows


def test_large_file_imported_in_bounded_memory(tmp_path):
    small = tmp_path / "small.json"
    write_large_reply(small, 10)
    large = tmp_path / "large.json"
    write_large_reply(large, LARGE_ROWS)

    baseline, _ = peak_rss_of_import(tmp_path / "small-data", small)
    peak, stderr = peak_rss_of_import(tmp_path / "large-data", large)

    assert f"TrainedModelRecord rows imported: {LARGE_ROWS}" in stderr
    assert row_count(tmp_path / "large-data", "TrainedModelRecord") == LARGE_ROWS
    rows_size = python_size_of_rows(LARGE_ROWS, tmp_path)
    print(f"file {large.stat().st_size / 2**20:.0f} MiB, rows as Python objects "
          f"{rows_size / 2**20:.0f} MiB, peak RSS {peak / 2**20:.0f} MiB, "
          f"baseline {baseline / 2**20:.0f} MiB")
    assert peak < 300 * 2**20
    # Holding the rows would add `rows_size` to the baseline, but streaming adds
    # a small part of it.
    assert rows_size > 100 * 2**20
    assert peak - baseline < rows_size / 3
