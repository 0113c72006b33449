"""Create, update and delete APIs of the five resources over a real server.

Every rejected request is checked twice: the reply is 503 SYS.1007 naming the
field, and a snapshot of the resource and tag tables taken before and after
the request is unchanged.
"""

from __future__ import annotations

import json
import threading
from dataclasses import replace

import pytest
import sqlalchemy as sa
from conftest import ADMIN_PASSWORD, Reply, Server

from aios_records.storage import database
from aios_records.storage.schema import metadata

RECORDS = "/v1/ai/trained-model/records"
MODELS = "/v1/ai/models"
DATASETS = "/v1/ai/datasets"
GROUPS = "/v1/ai/model-services/instances/groups"
CENTERS = "/v1/ai/model-centers"
GROUP_UPDATES = "/v1/model-service-instance-groups"

SNAPSHOT_TABLES = ("TrainedModelRecordVO", "ModelVO", "DatasetVO", "ModelServiceInstanceGroupVO",
                   "ModelCenterVO", "SystemTagVO", "UserTagVO")

# Inventory fields in wire order (the order of ZStack's generated Java SDK inventories).
CENTER_FIELDS = ["uuid", "name", "description", "url", "status", "managementIp",
                 "managementPort", "storageNetworkUuid", "serviceNetworkUuid",
                 "containerRegistry", "containerNetwork", "createDate", "lastOpDate"]
MODEL_FIELDS = ["uuid", "name", "description", "installPath", "parameters", "modelCenterUuid",
                "logo", "vendor", "introduction", "size", "version", "type", "minGpuMemory",
                "createDate", "lastOpDate"]
DATASET_FIELDS = ["uuid", "name", "description", "url", "installPath", "modelCenterUuid",
                  "size", "system", "createDate", "lastOpDate"]
GROUP_FIELDS = ["uuid", "modelServiceUuid", "modelUuid", "status", "modelServiceType", "type",
                "name", "description", "createDate", "lastOpDate"]
RECORD_FIELDS = ["uuid", "modelUuid", "sourceModelUuid", "modelServiceInstanceGroupUuid",
                 "datasetUuid", "createDate", "lastOpDate"]


def uuid_of(kind: str, number: int) -> str:
    """Return a readable 32-hex uuid: a one-letter kind, then the number in decimal."""
    return f"{kind}{number:031d}"


# A base world created once per module through the API, with fixed uuids.
CENTER = uuid_of("c", 1)
BASE_MODEL = uuid_of("a", 1)
TRAINED_MODEL = uuid_of("b", 1)
DATASET = uuid_of("d", 1)
GROUP = uuid_of("f", 1)
MISSING = uuid_of("9", 1)


# -- helpers ----------------------------------------------------------------------

def encode(body: object) -> str:
    return body if isinstance(body, str) else json.dumps(body)


def send(server: Server, method: str, path: str, body: object = None, **kwargs) -> Reply:
    return server.request(method, path, body=None if body is None else encode(body), **kwargs)


def created(server: Server, path: str, key: str, params: dict, **extra) -> dict:
    """POST a create and return the inventory of its 200 reply."""
    reply = send(server, "POST", path, {key: params, **extra})
    assert reply.status == 200, reply.text
    body = reply.json()
    assert list(body) == ["inventory"]
    return body["inventory"]


def add_center(server: Server, name: str, **fields) -> dict:
    params = {"name": name, "managementIp": "10.0.0.1", "managementPort": 8989, **fields}
    return created(server, CENTERS, "param", params)


def add_model(server: Server, name: str, center: str = CENTER, **fields) -> dict:
    return created(server, MODELS, "param", {"name": name, "modelCenterUuid": center, **fields})


def add_dataset(server: Server, name: str, center: str = CENTER, **fields) -> dict:
    return created(server, DATASETS, "params",
                   {"name": name, "modelCenterUuid": center, **fields})


def add_group(server: Server, name: str, **fields) -> dict:
    params = {"name": name, "status": "Running", "modelServiceType": "FineTune",
              "type": "Container", **fields}
    return created(server, GROUPS, "params", params)


def add_record(server: Server, model: str = TRAINED_MODEL, group: str = GROUP,
               **fields) -> dict:
    params = {"modelUuid": model, "modelServiceInstanceGroupUuid": group, **fields}
    return created(server, RECORDS, "params", params)


def get_inventories(server: Server, path: str, uuid: str) -> list[dict]:
    reply = server.get(f"{path}/{uuid}")
    assert reply.status == 200, reply.text
    return reply.json()["inventories"]


def query_uuids(server: Server, path: str, condition: str) -> list[str]:
    reply = server.get(f"{path}?q={condition}")
    assert reply.status == 200, reply.text
    return [row["uuid"] for row in reply.json()["inventories"]]


def with_engine(server: Server, work):
    engine = database.create_engine(server.database_url)
    try:
        with engine.begin() as conn:
            return work(conn)
    finally:
        engine.dispose()


def snapshot(server: Server) -> dict[str, list[tuple]]:
    """Read every row of the resource and tag tables, in uuid order."""

    def read(conn: sa.Connection) -> dict[str, list[tuple]]:
        return {
            table: [tuple(row) for row in conn.execute(
                sa.select(metadata.tables[table]).order_by(metadata.tables[table].c.uuid))]
            for table in SNAPSHOT_TABLES
        }

    return with_engine(server, read)


def table_rows(server: Server, table: str, where: str = "1=1", **params) -> list[dict]:
    def read(conn: sa.Connection) -> list[dict]:
        stored = metadata.tables[table]
        # Typed columns, so timestamps read back as UTC text on every backend.
        result = conn.execute(
            sa.select(stored).where(sa.text(where)).order_by(stored.c.uuid), params)
        return [dict(row._mapping) for row in result]

    return with_engine(server, read)


def assert_rejected(server: Server, method: str, path: str, body: object,
                    expected_text: str) -> dict:
    """Send a request that must fail with SYS.1007 and change nothing, and return the error."""
    before = snapshot(server)
    reply = send(server, method, path, body)
    after = snapshot(server)

    assert reply.status == 503, reply.text
    error = reply.json()["error"]
    assert error["code"] == "SYS.1007", error
    assert expected_text in error["details"], error
    assert after == before
    return error


def assert_unchanged_without_session(server: Server, method: str, path: str, body: object,
                                     **kwargs) -> Reply:
    before = snapshot(server)
    reply = send(server, method, path, body, **kwargs)
    assert snapshot(server) == before
    return reply


def expected_keys(fields: list[str], inventory: dict) -> list[str]:
    return [name for name in fields if name in inventory]


# -- fixtures ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def server(make_module_server) -> Server:
    """A server with a base world: one center, two models, a dataset and a group."""
    started = make_module_server("--admin-password", ADMIN_PASSWORD)
    started.session = started.login_session()
    add_center(started, "mc-base", resourceUuid=CENTER)
    add_model(started, "Qwen2.5-7B-Instruct", resourceUuid=BASE_MODEL)
    add_model(started, "Qwen2.5-7B-Instruct-ft-1", resourceUuid=TRAINED_MODEL)
    add_dataset(started, "alpaca-zh", resourceUuid=DATASET)
    add_group(started, "ft-job-base", resourceUuid=GROUP, modelUuid=BASE_MODEL)
    return started


# -- valid creates ------------------------------------------------------------------

def test_add_center_param(server):
    params = {"name": "mc-shanghai-01", "description": "first center",
              "url": "http://10.1.1.1:8989", "status": "Connected",
              "managementIp": "10.1.1.1", "managementPort": 8989,
              "containerRegistry": "registry.local:5000"}
    inventory = created(server, CENTERS, "param", params)

    assert list(inventory) == ["uuid", "name", "description", "url", "status", "managementIp",
                               "managementPort", "containerRegistry", "createDate",
                               "lastOpDate"]
    for name, value in params.items():
        assert inventory[name] == value, name
    assert inventory["createDate"] == inventory["lastOpDate"]
    assert get_inventories(server, CENTERS, inventory["uuid"]) == [inventory]


def test_add_center_params_key(server):
    inventory = created(server, CENTERS, "params",
                        {"name": "mc-params", "managementIp": "10.1.1.2",
                         "managementPort": 1})
    assert inventory["name"] == "mc-params"
    assert inventory["managementPort"] == 1
    assert list(inventory) == ["uuid", "name", "managementIp", "managementPort", "createDate",
                               "lastOpDate"]


def test_add_model_defaults(server):
    inventory = add_model(server, "defaults-model")

    assert inventory["size"] == 0
    assert inventory["type"] == "LLM"
    assert list(inventory) == ["uuid", "name", "modelCenterUuid", "size", "type", "createDate",
                               "lastOpDate"]


def test_add_model_all_fields(server):
    params = {"name": "bge-large-zh-v1.5", "description": "embedding model",
              "installPath": "/models/bge", "parameters": '{"dim": 1024}',
              "modelCenterUuid": CENTER, "logo": "data:image/png;base64,AAAA",
              "vendor": "BAAI", "introduction": "text <b>embedding</b>",
              "size": 1_340_000_000, "version": "1.5", "type": "Embedding",
              "minGpuMemory": 2 * 1024**3}
    inventory = created(server, MODELS, "params", params)

    assert list(inventory) == MODEL_FIELDS
    for name, value in params.items():
        assert inventory[name] == value, name
    assert get_inventories(server, MODELS, inventory["uuid"]) == [inventory]


def test_add_model_max_lengths(server):
    params = {"name": "n" * 255, "description": "d" * 2048, "installPath": "p" * 2048,
              "modelCenterUuid": CENTER}
    inventory = created(server, MODELS, "param", params)
    assert inventory["name"] == "n" * 255
    assert inventory["description"] == "d" * 2048
    assert inventory["installPath"] == "p" * 2048


def test_add_center_name_at_limit(server):
    inventory = add_center(server, "c" * 128)
    assert inventory["name"] == "c" * 128


def test_create_dataset_defaults(server):
    inventory = add_dataset(server, "belle-2m-cn")

    assert inventory["system"] is False
    assert "size" not in inventory
    assert list(inventory) == ["uuid", "name", "modelCenterUuid", "system", "createDate",
                               "lastOpDate"]


def test_create_dataset_all_fields(server):
    params = {"name": "medical-qa-zh", "description": "d", "url": "u" * 2048,
              "installPath": "/data/med", "modelCenterUuid": CENTER, "size": 123456,
              "system": True}
    inventory = add_dataset(server, **params)

    assert list(inventory) == DATASET_FIELDS
    for name, value in params.items():
        assert inventory[name] == value, name


def test_create_group(server):
    params = {"modelServiceUuid": uuid_of("5", 1), "modelUuid": BASE_MODEL,
              "status": "ServiceBootingUp", "modelServiceType": "FineTune",
              "type": "VirtualMachine", "name": "ft-job-7", "description": "job 7"}
    inventory = created(server, GROUPS, "params", params)

    assert list(inventory) == GROUP_FIELDS
    for name, value in params.items():
        assert inventory[name] == value, name
    assert get_inventories(server, GROUPS, inventory["uuid"]) == [inventory]


def test_create_group_minimal(server):
    inventory = created(server, GROUPS, "params", {"status": "Unknown",
                                                   "modelServiceType": "App",
                                                   "type": "Container"})
    assert list(inventory) == ["uuid", "status", "modelServiceType", "type", "createDate",
                               "lastOpDate"]


def test_create_record_minimal(server):
    inventory = add_record(server)

    assert list(inventory) == ["uuid", "modelUuid", "modelServiceInstanceGroupUuid",
                               "createDate", "lastOpDate"]
    assert inventory["modelUuid"] == TRAINED_MODEL
    assert inventory["modelServiceInstanceGroupUuid"] == GROUP
    assert get_inventories(server, RECORDS, inventory["uuid"]) == [inventory]


def test_create_record_full(server):
    inventory = add_record(server, sourceModelUuid=BASE_MODEL, datasetUuid=DATASET)

    assert list(inventory) == RECORD_FIELDS
    assert inventory["sourceModelUuid"] == BASE_MODEL
    assert inventory["datasetUuid"] == DATASET
    assert len(inventory["uuid"]) == 32
    assert inventory["uuid"] == inventory["uuid"].lower()


def test_create_with_resource_uuid(server):
    requested = uuid_of("e", 100)
    inventory = add_record(server, resourceUuid=requested)
    assert inventory["uuid"] == requested
    assert len(table_rows(server, "TrainedModelRecordVO", "uuid = :uuid", uuid=requested)) == 1


def test_create_ignores_unknown_keys(server):
    reply = send(server, "POST", f"{RECORDS}?deleteMode=Permissive&foo=bar",
                 {"params": {"modelUuid": TRAINED_MODEL, "modelServiceInstanceGroupUuid": GROUP,
                             "colour": "blue", "uuid": MISSING, "createDate": "yesterday"},
                  "requestIp": "10.0.0.9"})
    assert reply.status == 200, reply.text
    inventory = reply.json()["inventory"]
    assert inventory["uuid"] != MISSING
    assert "colour" not in inventory


# -- invalid creates ------------------------------------------------------------------

CENTER_OK = {"name": "mc-x", "managementIp": "10.0.0.1", "managementPort": 8989}
MODEL_OK = {"name": "model-x", "modelCenterUuid": CENTER}
DATASET_OK = {"name": "dataset-x", "modelCenterUuid": CENTER}
GROUP_OK = {"status": "Running", "modelServiceType": "FineTune", "type": "Container"}
RECORD_OK = {"modelUuid": TRAINED_MODEL, "modelServiceInstanceGroupUuid": GROUP}


def without(params: dict, name: str) -> dict:
    return {key: value for key, value in params.items() if key != name}


CREATE_REJECTIONS = [
    # AddModelCenter
    ("center-no-name", CENTERS, {"param": without(CENTER_OK, "name")}, "param.name"),
    ("center-null-name", CENTERS, {"param": {**CENTER_OK, "name": None}}, "param.name"),
    ("center-params-no-name", CENTERS, {"params": without(CENTER_OK, "name")}, "params.name"),
    ("center-no-ip", CENTERS, {"param": without(CENTER_OK, "managementIp")},
     "param.managementIp"),
    ("center-no-port", CENTERS, {"param": without(CENTER_OK, "managementPort")},
     "param.managementPort"),
    ("center-port-text", CENTERS, {"param": {**CENTER_OK, "managementPort": "8989"}},
     "param.managementPort"),
    ("center-port-bool", CENTERS, {"param": {**CENTER_OK, "managementPort": True}},
     "param.managementPort"),
    ("center-port-int32", CENTERS, {"param": {**CENTER_OK, "managementPort": 2**31}},
     "param.managementPort"),
    ("center-name-129", CENTERS, {"param": {**CENTER_OK, "name": "c" * 129}}, "param.name"),
    ("center-desc-2049", CENTERS, {"param": {**CENTER_OK, "description": "d" * 2049}},
     "param.description"),
    ("center-url-2049", CENTERS, {"param": {**CENTER_OK, "url": "u" * 2049}}, "param.url"),
    ("center-status", CENTERS, {"param": {**CENTER_OK, "status": "Online"}}, "param.status"),
    ("center-name-list", CENTERS, {"param": {**CENTER_OK, "name": ["mc"]}}, "param.name"),
    ("center-no-key", CENTERS, {"modelCenter": CENTER_OK}, "param"),
    # AddModel
    ("model-no-name", MODELS, {"param": without(MODEL_OK, "name")}, "param.name"),
    ("model-no-center", MODELS, {"param": without(MODEL_OK, "modelCenterUuid")},
     "param.modelCenterUuid"),
    ("model-missing-center", MODELS, {"param": {**MODEL_OK, "modelCenterUuid": MISSING}},
     "param.modelCenterUuid"),
    ("model-name-256", MODELS, {"param": {**MODEL_OK, "name": "n" * 256}}, "param.name"),
    ("model-desc-2049", MODELS, {"param": {**MODEL_OK, "description": "d" * 2049}},
     "param.description"),
    ("model-path-2049", MODELS, {"param": {**MODEL_OK, "installPath": "p" * 2049}},
     "param.installPath"),
    ("model-size-text", MODELS, {"param": {**MODEL_OK, "size": "big"}}, "param.size"),
    ("model-size-float", MODELS, {"param": {**MODEL_OK, "size": 1.5}}, "param.size"),
    ("model-size-int64", MODELS, {"param": {**MODEL_OK, "size": 2**63}}, "param.size"),
    ("model-gpu-text", MODELS, {"param": {**MODEL_OK, "minGpuMemory": "8G"}},
     "param.minGpuMemory"),
    ("model-type-number", MODELS, {"param": {**MODEL_OK, "type": 5}}, "param.type"),
    ("model-no-key", MODELS, {"model": MODEL_OK}, "param"),
    # CreateDataset
    ("dataset-no-name", DATASETS, {"params": without(DATASET_OK, "name")}, "params.name"),
    ("dataset-missing-center", DATASETS,
     {"params": {**DATASET_OK, "modelCenterUuid": MISSING}}, "params.modelCenterUuid"),
    ("dataset-system-text", DATASETS, {"params": {**DATASET_OK, "system": "yes"}},
     "params.system"),
    ("dataset-system-number", DATASETS, {"params": {**DATASET_OK, "system": 1}},
     "params.system"),
    ("dataset-size-text", DATASETS, {"params": {**DATASET_OK, "size": "1"}}, "params.size"),
    ("dataset-url-2049", DATASETS, {"params": {**DATASET_OK, "url": "u" * 2049}},
     "params.url"),
    ("dataset-name-256", DATASETS, {"params": {**DATASET_OK, "name": "n" * 256}},
     "params.name"),
    ("dataset-param-key", DATASETS, {"param": DATASET_OK}, "params"),
    # CreateModelServiceInstanceGroup
    ("group-no-status", GROUPS, {"params": without(GROUP_OK, "status")}, "params.status"),
    ("group-no-service-type", GROUPS, {"params": without(GROUP_OK, "modelServiceType")},
     "params.modelServiceType"),
    ("group-no-type", GROUPS, {"params": without(GROUP_OK, "type")}, "params.type"),
    ("group-status-case", GROUPS, {"params": {**GROUP_OK, "status": "running"}},
     "params.status"),
    ("group-service-type", GROUPS, {"params": {**GROUP_OK, "modelServiceType": "Training"}},
     "params.modelServiceType"),
    ("group-type", GROUPS, {"params": {**GROUP_OK, "type": "Pod"}}, "params.type"),
    ("group-missing-model", GROUPS, {"params": {**GROUP_OK, "modelUuid": MISSING}},
     "params.modelUuid"),
    ("group-name-256", GROUPS, {"params": {**GROUP_OK, "name": "g" * 256}}, "params.name"),
    ("group-desc-2049", GROUPS, {"params": {**GROUP_OK, "description": "d" * 2049}},
     "params.description"),
    # CreateTrainedModelRecord
    ("record-no-model", RECORDS, {"params": without(RECORD_OK, "modelUuid")},
     "params.modelUuid"),
    ("record-no-group", RECORDS,
     {"params": without(RECORD_OK, "modelServiceInstanceGroupUuid")},
     "params.modelServiceInstanceGroupUuid"),
    ("record-missing-model", RECORDS, {"params": {**RECORD_OK, "modelUuid": MISSING}},
     "params.modelUuid"),
    ("record-dataset-as-model", RECORDS, {"params": {**RECORD_OK, "modelUuid": DATASET}},
     "params.modelUuid"),
    ("record-missing-source", RECORDS, {"params": {**RECORD_OK, "sourceModelUuid": MISSING}},
     "params.sourceModelUuid"),
    ("record-missing-group", RECORDS,
     {"params": {**RECORD_OK, "modelServiceInstanceGroupUuid": MISSING}},
     "params.modelServiceInstanceGroupUuid"),
    ("record-missing-dataset", RECORDS, {"params": {**RECORD_OK, "datasetUuid": MISSING}},
     "params.datasetUuid"),
    ("record-own-source", RECORDS, {"params": {**RECORD_OK, "sourceModelUuid": TRAINED_MODEL}},
     "sourceModelUuid"),
    ("record-own-source-case", RECORDS,
     {"params": {**RECORD_OK, "sourceModelUuid": TRAINED_MODEL.upper()}}, "sourceModelUuid"),
    ("record-model-number", RECORDS, {"params": {**RECORD_OK, "modelUuid": 123}},
     "params.modelUuid"),
    ("record-dataset-33", RECORDS, {"params": {**RECORD_OK, "datasetUuid": DATASET + "0"}},
     "params.datasetUuid"),
    ("record-no-key", RECORDS, {"record": RECORD_OK}, "params"),
    ("record-params-list", RECORDS, {"params": [RECORD_OK]}, "params"),
    ("record-params-text", RECORDS, {"params": "modelUuid"}, "params"),
    # Request bodies that are not JSON objects
    ("body-list", RECORDS, "[]", "JSON object"),
    ("body-string", RECORDS, '"params"', "JSON object"),
    ("body-invalid", RECORDS, "{params: }", "JSON object"),
    ("body-empty", MODELS, "", "JSON object"),
    ("body-null", CENTERS, "null", "JSON object"),
    # resourceUuid and tag lists
    ("uuid-short", RECORDS, {"params": {**RECORD_OK, "resourceUuid": "abc"}}, "resourceUuid"),
    ("uuid-dashed", MODELS,
     {"param": {**MODEL_OK, "resourceUuid": "12345678-1234-1234-1234-123456789012"}},
     "resourceUuid"),
    ("uuid-33", DATASETS, {"params": {**DATASET_OK, "resourceUuid": "a" * 33}},
     "resourceUuid"),
    ("uuid-non-hex", GROUPS, {"params": {**GROUP_OK, "resourceUuid": "g" * 32}},
     "resourceUuid"),
    ("uuid-number", CENTERS, {"param": {**CENTER_OK, "resourceUuid": 12345}}, "resourceUuid"),
    ("system-tags-text", MODELS, {"param": MODEL_OK, "systemTags": "a::b"}, "systemTags"),
    ("user-tags-numbers", MODELS, {"param": MODEL_OK, "userTags": [1, 2]}, "userTags"),
]


@pytest.mark.parametrize(("path", "body", "expected_text"),
                         [case[1:] for case in CREATE_REJECTIONS],
                         ids=[case[0] for case in CREATE_REJECTIONS])
def test_create_rejected(server, path, body, expected_text):
    assert_rejected(server, "POST", path, body, expected_text)


def test_rejected_length_names_limit(server):
    error = assert_rejected(server, "POST", CENTERS,
                            {"param": {**CENTER_OK, "name": "c" * 129}}, "param.name")
    assert "128" in error["details"]


def test_rejected_reference_names_uuid(server):
    error = assert_rejected(server, "POST", RECORDS,
                            {"params": {**RECORD_OK, "datasetUuid": MISSING}},
                            "params.datasetUuid")
    assert MISSING in error["details"]


# -- idempotent retries and resourceUuid conflicts ----------------------------------

def test_retry_returns_same_record(server):
    requested = uuid_of("e", 200)
    params = {**RECORD_OK, "datasetUuid": DATASET, "resourceUuid": requested}
    first = created(server, RECORDS, "params", params)
    before = snapshot(server)
    second = created(server, RECORDS, "params", params)

    assert second == first
    assert snapshot(server) == before
    assert len(table_rows(server, "TrainedModelRecordVO", "uuid = :uuid", uuid=requested)) == 1


def test_retry_returns_same_model(server):
    requested = uuid_of("b", 200)
    params = {"name": "retry-model", "modelCenterUuid": CENTER, "resourceUuid": requested}
    first = created(server, MODELS, "param", params)
    before = snapshot(server)
    second = created(server, MODELS, "param", params)

    assert second == first
    assert snapshot(server) == before


def test_retry_different_content(server):
    requested = uuid_of("e", 201)
    created(server, RECORDS, "params", {**RECORD_OK, "resourceUuid": requested})
    error = assert_rejected(server, "POST", RECORDS,
                            {"params": {**RECORD_OK, "datasetUuid": DATASET,
                                        "resourceUuid": requested}},
                            requested)
    assert "datasetUuid" in error["details"]


def test_retry_different_name(server):
    requested = uuid_of("d", 201)
    add_dataset(server, "retry-dataset", resourceUuid=requested)
    assert_rejected(server, "POST", DATASETS,
                    {"params": {**DATASET_OK, "name": "other-name", "resourceUuid": requested}},
                    requested)


def test_resource_uuid_of_other_type(server):
    # MODELS with the uuid of the base dataset, and the reverse.
    assert_rejected(server, "POST", MODELS, {"param": {**MODEL_OK, "resourceUuid": DATASET}},
                    DATASET)
    assert_rejected(server, "POST", DATASETS,
                    {"params": {**DATASET_OK, "resourceUuid": BASE_MODEL}}, BASE_MODEL)
    assert_rejected(server, "POST", RECORDS, {"params": {**RECORD_OK, "resourceUuid": GROUP}},
                    GROUP)


def test_concurrent_retries_one_row(server):
    requested = uuid_of("e", 202)
    body = {"params": {**RECORD_OK, "resourceUuid": requested}}
    replies: list[Reply] = []
    lock = threading.Lock()

    def post() -> None:
        reply = send(server, "POST", RECORDS, body)
        with lock:
            replies.append(reply)

    threads = [threading.Thread(target=post) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [reply.status for reply in replies] == [200] * 10, [r.text for r in replies]
    assert len({reply.body for reply in replies}) == 1
    assert len(table_rows(server, "TrainedModelRecordVO", "uuid = :uuid", uuid=requested)) == 1


# -- updates -------------------------------------------------------------------------

OLD_DATE = "2024-03-01 08:00:00"

UPDATE_CASES = [
    ("model", MODELS, MODELS, "updateModel", MODEL_FIELDS, "ModelVO",
     {"name": "renamed-model", "description": "after", "size": 42, "type": "Rerank",
      "minGpuMemory": 1024}),
    ("dataset", DATASETS, DATASETS, "updateDataset", DATASET_FIELDS, "DatasetVO",
     {"name": "renamed-dataset", "url": "http://data", "system": True, "size": 7}),
    ("center", CENTERS, CENTERS, "updateModelCenter", CENTER_FIELDS, "ModelCenterVO",
     {"name": "renamed-center", "status": "Disconnected", "managementPort": 9000}),
    ("group", GROUPS, GROUP_UPDATES, "updateModelServiceInstanceGroup", GROUP_FIELDS,
     "ModelServiceInstanceGroupVO", {"status": "Stopped", "name": "renamed-group"}),
]


def create_for_update(server: Server, kind: str) -> dict:
    if kind == "model":
        return add_model(server, "to-update", vendor="Alibaba")
    if kind == "dataset":
        return add_dataset(server, "to-update", description="kept")
    if kind == "center":
        return add_center(server, "to-update", description="kept")
    return add_group(server, "to-update", description="kept")


def set_dates(server: Server, table: str, uuid: str, value: str) -> None:
    def write(conn: sa.Connection) -> None:
        stored = metadata.tables[table]
        conn.execute(stored.update().where(stored.c.uuid == uuid)
                     .values(createDate=value, lastOpDate=value))

    with_engine(server, write)


@pytest.mark.parametrize(("kind", "query_path", "update_path", "key", "fields", "table",
                          "changes"), UPDATE_CASES, ids=[case[0] for case in UPDATE_CASES])
def test_update(server, kind, query_path, update_path, key, fields, table, changes):
    original = create_for_update(server, kind)
    uuid = original["uuid"]
    set_dates(server, table, uuid, OLD_DATE)
    old = get_inventories(server, query_path, uuid)[0]

    reply = send(server, "PUT", f"{update_path}/{uuid}", {key: changes})

    assert reply.status == 200, reply.text
    updated = reply.json()["inventory"]
    assert list(updated) == expected_keys(fields, updated)
    for name, value in changes.items():
        assert updated[name] == value, name
    for name in set(old) - set(changes) - {"lastOpDate"}:
        assert updated[name] == old[name], name
    assert updated["createDate"] == old["createDate"]
    assert updated["lastOpDate"] != old["lastOpDate"]
    assert get_inventories(server, query_path, uuid) == [updated]
    stored = table_rows(server, table, "uuid = :uuid", uuid=uuid)[0]
    assert stored["createDate"] == OLD_DATE
    assert stored["lastOpDate"] > OLD_DATE


def test_update_ignores_unknown_keys(server):
    model = add_model(server, "update-unknown-keys")
    reply = send(server, "PUT", f"{MODELS}/{model['uuid']}?deleteMode=Permissive",
                 {"updateModel": {"description": "new", "colour": "red"}, "systemTags": []})
    assert reply.status == 200, reply.text
    assert reply.json()["inventory"]["description"] == "new"
    assert "colour" not in reply.json()["inventory"]


UPDATE_REJECTIONS = [
    ("model-name-256", f"{MODELS}/{BASE_MODEL}", {"updateModel": {"name": "n" * 256}},
     "updateModel.name"),
    ("model-size-text", f"{MODELS}/{BASE_MODEL}", {"updateModel": {"size": "1"}},
     "updateModel.size"),
    ("model-type-list", f"{MODELS}/{BASE_MODEL}", {"updateModel": {"type": ["LLM"]}},
     "updateModel.type"),
    ("model-no-key", f"{MODELS}/{BASE_MODEL}", {"param": {"name": "x"}}, "updateModel"),
    ("model-section-list", f"{MODELS}/{BASE_MODEL}", {"updateModel": []}, "updateModel"),
    ("model-body-list", f"{MODELS}/{BASE_MODEL}", "[]", "JSON object"),
    ("dataset-system-text", f"{DATASETS}/{DATASET}", {"updateDataset": {"system": "no"}},
     "updateDataset.system"),
    ("dataset-url-2049", f"{DATASETS}/{DATASET}", {"updateDataset": {"url": "u" * 2049}},
     "updateDataset.url"),
    ("center-name-129", f"{CENTERS}/{CENTER}", {"updateModelCenter": {"name": "c" * 129}},
     "updateModelCenter.name"),
    ("center-port-text", f"{CENTERS}/{CENTER}",
     {"updateModelCenter": {"managementPort": "80"}}, "updateModelCenter.managementPort"),
    ("center-status", f"{CENTERS}/{CENTER}", {"updateModelCenter": {"status": "Lost"}},
     "updateModelCenter.status"),
    ("group-status", f"{GROUP_UPDATES}/{GROUP}",
     {"updateModelServiceInstanceGroup": {"status": "Bogus"}},
     "updateModelServiceInstanceGroup.status"),
    ("group-missing-model", f"{GROUP_UPDATES}/{GROUP}",
     {"updateModelServiceInstanceGroup": {"modelUuid": MISSING}},
     "updateModelServiceInstanceGroup.modelUuid"),
    # Updating a uuid that does not exist, or that names another resource type.
    ("model-missing", f"{MODELS}/{MISSING}", {"updateModel": {"name": "x"}},
     f"resource[uuid:{MISSING}] not found"),
    ("model-is-dataset", f"{MODELS}/{DATASET}", {"updateModel": {"name": "x"}},
     f"resource[uuid:{DATASET}] not found"),
    ("dataset-missing", f"{DATASETS}/{MISSING}", {"updateDataset": {"name": "x"}},
     f"resource[uuid:{MISSING}] not found"),
    ("center-missing", f"{CENTERS}/{MISSING}", {"updateModelCenter": {"name": "x"}},
     f"resource[uuid:{MISSING}] not found"),
    ("group-missing", f"{GROUP_UPDATES}/{MISSING}",
     {"updateModelServiceInstanceGroup": {"name": "x"}}, f"resource[uuid:{MISSING}] not found"),
]


@pytest.mark.parametrize(("path", "body", "expected_text"),
                         [case[1:] for case in UPDATE_REJECTIONS],
                         ids=[case[0] for case in UPDATE_REJECTIONS])
def test_update_rejected(server, path, body, expected_text):
    assert_rejected(server, "PUT", path, body, expected_text)


def test_records_immutable(server):
    record = add_record(server)
    before = snapshot(server)
    for path in (f"{RECORDS}/{record['uuid']}", f"/v1/ai/trained-model/record/{record['uuid']}"):
        reply = send(server, "PUT", path, {"updateTrainedModelRecord": {"datasetUuid": DATASET}})
        assert reply.status in (404, 405), (path, reply.status, reply.text)
    assert snapshot(server) == before


# -- deletes -------------------------------------------------------------------------

def test_delete_each_resource(server):
    center = add_center(server, "doomed-center")
    model = add_model(server, "doomed-model")
    dataset = add_dataset(server, "doomed-dataset")
    group = add_group(server, "doomed-group")
    record = add_record(server)

    for path, uuid in [(RECORDS, record["uuid"]), (GROUPS, group["uuid"]),
                       (DATASETS, dataset["uuid"]), (MODELS, model["uuid"]),
                       (CENTERS, center["uuid"])]:
        reply = send(server, "DELETE", f"{path}/{uuid}")
        assert reply.status == 200, (path, reply.text)
        assert reply.body == b"{}"
        assert get_inventories(server, path, uuid) == [], path


@pytest.mark.parametrize("path", [RECORDS, GROUPS, DATASETS, MODELS, CENTERS])
def test_delete_missing(server, path):
    before = snapshot(server)
    reply = send(server, "DELETE", f"{path}/{MISSING}?deleteMode=Permissive")
    assert reply.status == 200, reply.text
    assert reply.body == b"{}"
    assert snapshot(server) == before


def test_delete_other_type_uuid(server):
    # DeleteModel with the base dataset's uuid deletes nothing.
    before = snapshot(server)
    reply = send(server, "DELETE", f"{MODELS}/{DATASET}")
    assert reply.status == 200, reply.text
    assert snapshot(server) == before


def test_delete_permissive_mode(server):
    model = add_model(server, "permissive-model")
    reply = send(server, "DELETE", f"{MODELS}/{model['uuid']}?deleteMode=Permissive")
    assert reply.status == 200, reply.text
    assert get_inventories(server, MODELS, model["uuid"]) == []


def test_delete_center_cascades(server):
    doomed = add_center(server, "cascade-center")["uuid"]
    kept = add_center(server, "cascade-kept")["uuid"]
    base = add_model(server, "cascade-base", doomed)["uuid"]
    trained = created(server, MODELS, "param",
                      {"name": "cascade-trained", "modelCenterUuid": doomed},
                      systemTags=["tier::gold"], userTags=["cascade"])["uuid"]
    dataset = add_dataset(server, "cascade-dataset", doomed)["uuid"]
    other_model = add_model(server, "cascade-other", kept)["uuid"]
    other_dataset = add_dataset(server, "cascade-other", kept)["uuid"]
    record = add_record(server, trained, sourceModelUuid=base, datasetUuid=dataset)
    records_before = table_rows(server, "TrainedModelRecordVO")
    assert len(table_rows(server, "SystemTagVO", '"resourceUuid" = :u', u=trained)) == 1
    assert len(table_rows(server, "UserTagVO", '"resourceUuid" = :u', u=trained)) == 1

    reply = send(server, "DELETE", f"{CENTERS}/{doomed}")

    assert reply.status == 200, reply.text
    assert table_rows(server, "ModelVO", '"modelCenterUuid" = :c', c=doomed) == []
    assert table_rows(server, "DatasetVO", '"modelCenterUuid" = :c', c=doomed) == []
    assert table_rows(server, "SystemTagVO", '"resourceUuid" = :u', u=trained) == []
    assert table_rows(server, "UserTagVO", '"resourceUuid" = :u', u=trained) == []
    assert get_inventories(server, MODELS, other_model) != []
    assert get_inventories(server, DATASETS, other_dataset) != []
    assert get_inventories(server, CENTERS, kept) != []
    assert table_rows(server, "TrainedModelRecordVO") == records_before
    assert get_inventories(server, RECORDS, record["uuid"]) == [record]


@pytest.mark.parametrize(("path", "field", "expansion"), [
    (MODELS, "modelUuid", "model"),
    (MODELS, "sourceModelUuid", "sourceModel"),
    (DATASETS, "datasetUuid", "dataset"),
    (GROUPS, "modelServiceInstanceGroupUuid", "modelServiceInstanceGroup"),
], ids=["model", "source-model", "dataset", "group"])
def test_delete_keeps_records(server, path, field, expansion):
    model = add_model(server, f"kept-{expansion}-model")["uuid"]
    source = add_model(server, f"kept-{expansion}-source")["uuid"]
    dataset = add_dataset(server, f"kept-{expansion}-dataset")["uuid"]
    group = add_group(server, f"kept-{expansion}-group")["uuid"]
    record = add_record(server, model, group, sourceModelUuid=source, datasetUuid=dataset)
    doomed = record[field]
    assert query_uuids(server, RECORDS, f"{expansion}.createDate>=2000-01-01") != []
    assert record["uuid"] in query_uuids(server, RECORDS, f"{expansion}.uuid={doomed}")

    reply = send(server, "DELETE", f"{path}/{doomed}")

    assert reply.status == 200, reply.text
    assert get_inventories(server, RECORDS, record["uuid"]) == [record]
    assert query_uuids(server, RECORDS, f"{field}={doomed}") == [record["uuid"]]
    matching = query_uuids(server, RECORDS, f"{expansion}.createDate>=2000-01-01")
    assert record["uuid"] not in matching


# -- tags ----------------------------------------------------------------------------

TAG_CASES = [
    ("center", CENTERS, "param", "ModelCenterVO",
     lambda: {**CENTER_OK, "name": "tagged-center"}),
    ("model", MODELS, "param", "ModelVO", lambda: {**MODEL_OK, "name": "tagged-model"}),
    ("dataset", DATASETS, "params", "DatasetVO",
     lambda: {**DATASET_OK, "name": "tagged-dataset"}),
    ("group", GROUPS, "params", "ModelServiceInstanceGroupVO", lambda: dict(GROUP_OK)),
    ("record", RECORDS, "params", "TrainedModelRecordVO", lambda: dict(RECORD_OK)),
]


@pytest.mark.parametrize(("path", "key", "resource_type", "params"),
                         [case[1:] for case in TAG_CASES], ids=[case[0] for case in TAG_CASES])
def test_create_with_tags(server, path, key, resource_type, params):
    inventory = created(server, path, key, params(), systemTags=["ft::epochs::3"],
                        userTags=["gold", "reviewed"])
    uuid = inventory["uuid"]

    system_tags = table_rows(server, "SystemTagVO", '"resourceUuid" = :u', u=uuid)
    user_tags = table_rows(server, "UserTagVO", '"resourceUuid" = :u', u=uuid)
    assert [row["tag"] for row in system_tags] == ["ft::epochs::3"]
    assert sorted(row["tag"] for row in user_tags) == ["gold", "reviewed"]
    assert {row["resourceType"] for row in system_tags + user_tags} == {resource_type}

    reply = send(server, "DELETE", f"{path}/{uuid}")
    assert reply.status == 200, reply.text
    assert table_rows(server, "SystemTagVO", '"resourceUuid" = :u', u=uuid) == []
    assert table_rows(server, "UserTagVO", '"resourceUuid" = :u', u=uuid) == []


# -- sessions ------------------------------------------------------------------------

WRITE_REQUESTS = [
    ("create", "POST", RECORDS, {"params": RECORD_OK}),
    ("update", "PUT", f"{MODELS}/{BASE_MODEL}", {"updateModel": {"name": "stolen"}}),
    ("delete", "DELETE", f"{RECORDS}/{MISSING}", None),
    ("delete-existing", "DELETE", f"{DATASETS}/{DATASET}", None),
    ("invalid-body", "POST", MODELS, "[]"),
]


@pytest.mark.parametrize(("method", "path", "body"), [case[1:] for case in WRITE_REQUESTS],
                         ids=[case[0] for case in WRITE_REQUESTS])
def test_write_without_header(server, method, path, body):
    anonymous = replace(server, session=None)
    reply = assert_unchanged_without_session(anonymous, method, path, body)
    assert reply.status == 400
    assert reply.text == "missing header 'Authorization'"


@pytest.mark.parametrize(("method", "path", "body"), [case[1:] for case in WRITE_REQUESTS],
                         ids=[case[0] for case in WRITE_REQUESTS])
def test_write_with_unknown_session(server, method, path, body):
    reply = assert_unchanged_without_session(server, method, path, body, session=MISSING)
    assert reply.status == 503
    assert reply.json()["error"]["code"] == "ID.1001"
    assert reply.json()["error"]["details"] == "Session expired"


# -- concurrency ---------------------------------------------------------------------

def test_concurrent_record_creates(server):
    count = 20
    before = len(table_rows(server, "TrainedModelRecordVO"))
    replies: list[Reply] = []
    lock = threading.Lock()
    start = threading.Barrier(count)

    def post() -> None:
        start.wait()
        reply = send(server, "POST", RECORDS,
                     {"params": {**RECORD_OK, "sourceModelUuid": BASE_MODEL}})
        with lock:
            replies.append(reply)

    threads = [threading.Thread(target=post) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [reply.status for reply in replies] == [200] * count, [r.text for r in replies]
    assert len({reply.json()["inventory"]["uuid"] for reply in replies}) == count
    assert len(table_rows(server, "TrainedModelRecordVO")) == before + count
    assert "database is locked" not in server.log_text()
