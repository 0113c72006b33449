"""Cross-table conditions (expansions) on a small hand-built world.

The world below is written straight into the database, so every expected
result can be read off the tables in this file:

    record  model      sourceModel  group      dataset
    R1      FT1        QWEN         G1         ALPACA
    R2      FT2        QWEN         G1         BELLE
    R3      FT3        LLAMA        G2         ALPACA
    R4      FT4        QWEN         G2         ALPACA
    R5      FT5        null         G1         null
    R6      GONE_MODEL QWEN         G2         BELLE
    R7      FT3        null         G1         ALPACA
    R8      FT4        LLAMA        GONE_GROUP GONE_DATASET

GONE_* uuids name rows that do not exist (records are history and outlive
what they name). Model center MC1 "mc-shanghai" contains QWEN, FT1, FT2, FT4
and ALPACA. MC2 "mc-beijing" contains LLAMA, FT3, FT5, BELLE and MEDICAL.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from conftest import ADMIN_PASSWORD, Server, insert_rows

RECORDS = "/v1/ai/trained-model/records"
MODELS = "/v1/ai/models"
DATASETS = "/v1/ai/datasets"
GROUPS = "/v1/ai/model-services/instances/groups"
CENTERS = "/v1/ai/model-centers"


def uuid_of(kind: str, number: int) -> str:
    """Return a readable 32-hex uuid: a one-letter kind, then the number in decimal."""
    return f"{kind}{number:031d}"


MC1, MC2 = uuid_of("c", 1), uuid_of("c", 2)
QWEN, LLAMA = uuid_of("a", 1), uuid_of("a", 2)
FT1, FT2, FT3, FT4, FT5 = (uuid_of("b", n) for n in range(1, 6))
GONE_MODEL = uuid_of("b", 99)
ALPACA, BELLE, MEDICAL = (uuid_of("d", n) for n in range(1, 4))
GONE_DATASET = uuid_of("d", 99)
G1, G2, G3 = (uuid_of("f", n) for n in range(1, 4))
GONE_GROUP = uuid_of("f", 99)
R1, R2, R3, R4, R5, R6, R7, R8 = (uuid_of("e", n) for n in range(1, 9))
ALL_RECORDS = [R1, R2, R3, R4, R5, R6, R7, R8]

QWEN_NAME = "Qwen2.5-7B-Instruct"
LLAMA_NAME = "Llama-3.1-8B-Instruct"
FT1_NAME = "Qwen2.5-7B-Instruct-ft-alpaca-zh-1"
FT2_NAME = "Qwen2.5-7B-Instruct-ft-belle-2m-cn-1"
FT3_NAME = "Llama-3.1-8B-Instruct-ft-alpaca-zh-1"
FT4_NAME = "Qwen2.5-7B-Instruct-ft-alpaca-zh-2"
FT5_NAME = "bge-large-zh-v1.5-ft-1"

RECORD_CLASS = "org.zstack.ai.entity.TrainedModelRecordInventory"
MODEL_CLASS = "org.zstack.ai.entity.ModelInventory"
CENTER_CLASS = "org.zstack.ai.entity.ModelCenterInventory"
DATASET_CLASS = "org.zstack.ai.entity.DatasetInventory"


def day(number: int) -> str:
    return f"2025-01-{number:02d} 00:00:00"


def model_row(uuid: str, name: str, center: str, size: int, number: int,
              model_type: str = "LLM") -> dict:
    return {"uuid": uuid, "name": name, "modelCenterUuid": center, "size": size,
            "type": model_type, "createDate": day(number), "lastOpDate": day(number)}


def record_row(uuid: str, model: str, source: str | None, group: str, dataset: str | None,
               number: int) -> dict:
    return {"uuid": uuid, "modelUuid": model, "sourceModelUuid": source,
            "modelServiceInstanceGroupUuid": group, "datasetUuid": dataset,
            "createDate": day(number), "lastOpDate": day(number)}


def build_world(url: str) -> None:
    insert_rows(url, "ModelCenterVO", [
        {"uuid": MC1, "name": "mc-shanghai", "managementIp": "10.0.0.1",
         "managementPort": 8989, "createDate": day(1), "lastOpDate": day(1)},
        {"uuid": MC2, "name": "mc-beijing", "managementIp": "10.0.0.2",
         "managementPort": 8989, "createDate": day(2), "lastOpDate": day(2)},
    ])
    insert_rows(url, "ModelVO", [
        model_row(QWEN, QWEN_NAME, MC1, 15000, 1),
        model_row(LLAMA, LLAMA_NAME, MC2, 16000, 2),
        model_row(FT1, FT1_NAME, MC1, 100, 3),
        model_row(FT2, FT2_NAME, MC1, 200, 4),
        model_row(FT3, FT3_NAME, MC2, 300, 5),
        model_row(FT4, FT4_NAME, MC1, 400, 6),
        model_row(FT5, FT5_NAME, MC2, 500, 7, model_type="Embedding"),
    ])
    insert_rows(url, "DatasetVO", [
        {"uuid": ALPACA, "name": "alpaca-zh", "description": "Chinese Alpaca",
         "modelCenterUuid": MC1, "system": False, "createDate": day(1), "lastOpDate": day(1)},
        {"uuid": BELLE, "name": "belle-2m-cn", "description": None,
         "modelCenterUuid": MC2, "system": False, "createDate": day(2), "lastOpDate": day(2)},
        {"uuid": MEDICAL, "name": "medical-qa-zh", "description": "medical questions",
         "modelCenterUuid": MC2, "system": True, "createDate": day(3), "lastOpDate": day(3)},
    ])
    insert_rows(url, "ModelServiceInstanceGroupVO", [
        {"uuid": G1, "modelUuid": QWEN, "status": "Running", "modelServiceType": "FineTune",
         "type": "Container", "name": "ft-job-1", "createDate": day(1), "lastOpDate": day(1)},
        {"uuid": G2, "modelUuid": LLAMA, "status": "Stopped", "modelServiceType": "FineTune",
         "type": "Container", "name": "ft-job-2", "createDate": day(2), "lastOpDate": day(2)},
        {"uuid": G3, "modelUuid": None, "status": "Running", "modelServiceType": "ModelEval",
         "type": "VirtualMachine", "name": "eval-1", "createDate": day(3),
         "lastOpDate": day(3)},
    ])
    insert_rows(url, "TrainedModelRecordVO", [
        record_row(R1, FT1, QWEN, G1, ALPACA, 1),
        record_row(R2, FT2, QWEN, G1, BELLE, 2),
        record_row(R3, FT3, LLAMA, G2, ALPACA, 3),
        record_row(R4, FT4, QWEN, G2, ALPACA, 4),
        record_row(R5, FT5, None, G1, None, 5),
        record_row(R6, GONE_MODEL, QWEN, G2, BELLE, 6),
        record_row(R7, FT3, None, G1, ALPACA, 7),
        record_row(R8, FT4, LLAMA, GONE_GROUP, GONE_DATASET, 8),
    ])


@pytest.fixture(scope="module")
def world(make_module_server) -> Server:
    server = make_module_server("--admin-password", ADMIN_PASSWORD, prepare=build_world)
    server.session = server.login_session()
    return server


def query_string(conditions: tuple[str, ...], params: dict[str, object]) -> str:
    parts = [f"q={quote(c, safe='')}" for c in conditions]
    parts += [f"{name}={quote(str(value), safe='')}" for name, value in params.items()]
    return "&".join(parts)


def query(server: Server, path: str, *conditions: str, **params) -> dict:
    reply = server.get(f"{path}?{query_string(conditions, params)}")
    assert reply.status == 200, reply.text
    return reply.json()


def uuids(server: Server, path: str, *conditions: str, **params) -> list[str]:
    return [row["uuid"] for row in query(server, path, *conditions, **params)["inventories"]]


def error(server: Server, path: str, *conditions: str, **params) -> dict:
    reply = server.get(f"{path}?{query_string(conditions, params)}")
    assert reply.status == 503, reply.text
    return reply.json()["error"]


# -- TrainedModelRecord -> Model (model, sourceModel) ---------------------------

EQUALITY_CASES = [
    # Positive operators: some related model matches.
    (f"model.name={FT1_NAME}", [R1]),
    (f"model.name={FT3_NAME}", [R3, R7]),
    ("model.name=no-such-model", []),
    # `!=` means related to a model whose name differs, so R6 (model gone) is absent.
    (f"model.name!={FT1_NAME}", [R2, R3, R4, R5, R7, R8]),
    (f"sourceModel.name={QWEN_NAME}", [R1, R2, R4, R6]),
    (f"sourceModel.name!={QWEN_NAME}", [R3, R8]),
    ("sourceModel.name=qwen2.5-7b-INSTRUCT", [R1, R2, R4, R6]),
    (f"sourceModel.name?={QWEN_NAME},{LLAMA_NAME}", [R1, R2, R3, R4, R6, R8]),
    (f"sourceModel.name!?={QWEN_NAME}", [R3, R8]),
    ("model.name~=Qwen2.5%", [R1, R2, R4, R8]),
    ("model.name!~=Qwen2.5%", [R3, R5, R7]),
    ("model.name~=%alpaca-zh-_", [R1, R3, R4, R7, R8]),
    ("model.size>=300", [R3, R4, R5, R7, R8]),
    ("model.size<300", [R1, R2]),
    ("sourceModel.size>15000", [R3, R8]),
    ("model.type=Embedding", [R5]),
    ("model.type!=Embedding", [R1, R2, R3, R4, R7, R8]),
    (f"model.createDate>={day(5)}", [R3, R4, R5, R7, R8]),
    ("model.modelCenterUuid=" + MC2, [R3, R5, R7]),
]


@pytest.mark.parametrize(("condition", "expected"), EQUALITY_CASES)
def test_record_model_condition(world, condition, expected):
    assert uuids(world, RECORDS, condition) == expected


def test_model_name_ne_skips_gone_model(world):
    matches_eq = set(uuids(world, RECORDS, f"model.name={FT1_NAME}"))
    matches_ne = set(uuids(world, RECORDS, f"model.name!={FT1_NAME}"))

    assert R6 not in matches_eq
    assert R6 not in matches_ne
    assert matches_eq | matches_ne == set(ALL_RECORDS) - {R6}


def test_source_model_null_matches_neither(world):
    positive = set(uuids(world, RECORDS, f"sourceModel.name={QWEN_NAME}"))
    negative = set(uuids(world, RECORDS, f"sourceModel.name!={QWEN_NAME}"))

    assert R5 not in positive | negative
    assert R7 not in positive | negative


# -- far-side null checks --------------------------------------------------------

FAR_NULL_CASES = [
    # BELLE has no description. R5 has no dataset, and R8's dataset is gone.
    ("dataset.description is null", [R2, R6]),
    ("dataset.description=null", [R2, R6]),
    ("dataset.description not null", [R1, R3, R4, R7]),
    ("dataset.description!=null", [R1, R3, R4, R7]),
    ("modelServiceInstanceGroup.modelUuid is null", []),
    ("modelServiceInstanceGroup.modelUuid not null", [R1, R2, R3, R4, R5, R6, R7]),
    ("model.minGpuMemory is null", [R1, R2, R3, R4, R5, R7, R8]),
]


@pytest.mark.parametrize(("condition", "expected"), FAR_NULL_CASES)
def test_record_far_side_null(world, condition, expected):
    assert uuids(world, RECORDS, condition) == expected


# -- the join-key shortcut ------------------------------------------------------

SHORTCUT_CASES = [
    (f"model.uuid={FT3}", [R3, R7]),
    # The model does not exist, but `model.uuid=X` is `modelUuid=X`.
    (f"model.uuid={GONE_MODEL}", [R6]),
    (f"model.uuid!={FT3}", [R1, R2, R4, R5, R6, R8]),
    (f"model.uuid?={FT1},{GONE_MODEL}", [R1, R6]),
    ("dataset.uuid is null", [R5]),
    (f"dataset.uuid={GONE_DATASET}", [R8]),
    (f"modelServiceInstanceGroup.uuid={GONE_GROUP}", [R8]),
    ("sourceModel.uuid is null", [R5, R7]),
    (f"sourceModel.uuid={QWEN.upper()}", [R1, R2, R4, R6]),
]


@pytest.mark.parametrize(("condition", "expected"), SHORTCUT_CASES)
def test_join_key_shortcut(world, condition, expected):
    assert uuids(world, RECORDS, condition) == expected


def test_join_key_shortcut_equals_own_field(world):
    for expansion, own_field, value in [("model", "modelUuid", GONE_MODEL),
                                        ("sourceModel", "sourceModelUuid", LLAMA),
                                        ("dataset", "datasetUuid", BELLE)]:
        via_expansion = uuids(world, RECORDS, f"{expansion}.uuid={value}")
        via_own_field = uuids(world, RECORDS, f"{own_field}={value}")
        assert via_expansion == via_own_field, expansion
        assert via_expansion, expansion


def test_shortcut_at_second_hop(world):
    # `model.modelCenter.uuid=X` is `model.modelCenterUuid=X`.
    assert uuids(world, RECORDS, f"model.modelCenter.uuid={MC2}") == [R3, R5, R7]


def test_reverse_shortcut_uses_local_uuid(world):
    # On Model, `trainedModelRecord.modelUuid=X` is `uuid=X`, even for a model
    # that no record produced.
    assert uuids(world, MODELS, f"trainedModelRecord.modelUuid={QWEN}") == [QWEN]
    assert uuids(world, MODELS, f"trainedModelRecord.modelUuid={GONE_MODEL}") == []


# -- other record expansions and chains ----------------------------------------

RECORD_CHAIN_CASES = [
    ("modelServiceInstanceGroup.name=ft-job-1", [R1, R2, R5, R7]),
    ("modelServiceInstanceGroup.name!=ft-job-1", [R3, R4, R6]),
    ("modelServiceInstanceGroup.status=Stopped", [R3, R4, R6]),
    ("modelServiceInstanceGroup.name=eval-1", []),
    ("dataset.name=alpaca-zh", [R1, R3, R4, R7]),
    ("dataset.name!=alpaca-zh", [R2, R6]),
    ("dataset.system=false", [R1, R2, R3, R4, R6, R7]),
    ("model.modelCenter.name=mc-shanghai", [R1, R2, R4, R8]),
    ("model.modelCenter.name=mc-beijing", [R3, R5, R7]),
    ("model.modelCenter.name!=mc-shanghai", [R3, R5, R7]),
    ("sourceModel.modelCenter.name=mc-beijing", [R3, R8]),
    ("dataset.modelCenter.name=mc-beijing", [R2, R6]),
    ("dataset.modelCenter.name~=mc-%", [R1, R2, R3, R4, R6, R7]),
    (f"modelServiceInstanceGroup.model.name={QWEN_NAME}", [R1, R2, R5, R7]),
    ("modelServiceInstanceGroup.model.modelCenter.name=mc-beijing", [R3, R4, R6]),
    # Records whose source model is the source of some BELLE record (QWEN).
    ("sourceModel.derivedTrainedModelRecord.dataset.name=belle-2m-cn", [R1, R2, R4, R6]),
    # No record produced a base model, so no source model has a producing record.
    ("sourceModel.trainedModelRecord.uuid not null", []),
    # Records whose output model some record in group G1 produced.
    (f"model.trainedModelRecord.modelServiceInstanceGroupUuid={G1}", [R1, R2, R3, R5, R7]),
]


@pytest.mark.parametrize(("condition", "expected"), RECORD_CHAIN_CASES)
def test_record_chain(world, condition, expected):
    assert uuids(world, RECORDS, condition) == expected


# -- reverse expansions -----------------------------------------------------------

MODEL_CASES = [
    ("modelCenter.name=mc-beijing", [LLAMA, FT3, FT5]),
    ("modelCenter.name!=mc-beijing", [QWEN, FT1, FT2, FT4]),
    ("trainedModelRecord.dataset.name=alpaca-zh", [FT1, FT3, FT4]),
    ("trainedModelRecord.uuid not null", [FT1, FT2, FT3, FT4, FT5]),
    (f"trainedModelRecord.uuid={R7}", [FT3]),
    ("trainedModelRecord.modelServiceInstanceGroup.name=ft-job-2", [FT3, FT4]),
    # FT4 has an ALPACA record and a record whose dataset is gone, so it
    # matches both the positive and the negative form.
    (f"trainedModelRecord.datasetUuid={ALPACA}", [FT1, FT3, FT4]),
    (f"trainedModelRecord.datasetUuid!={ALPACA}", [FT2, FT4]),
    ("trainedModelRecord.datasetUuid is null", [FT5]),
    ("derivedTrainedModelRecord.dataset.name=alpaca-zh", [QWEN, LLAMA]),
    ("derivedTrainedModelRecord.dataset.name=belle-2m-cn", [QWEN]),
    ("derivedTrainedModelRecord.uuid not null", [QWEN, LLAMA]),
    (f"derivedTrainedModelRecord.createDate>={day(8)}", [LLAMA]),
    ("derivedTrainedModelRecord.model.name~=%-ft-alpaca-zh-%", [QWEN, LLAMA]),
    ("trainedModelRecord.sourceModel.modelCenter.name=mc-beijing", [FT3, FT4]),
]


@pytest.mark.parametrize(("condition", "expected"), MODEL_CASES)
def test_model_expansion(world, condition, expected):
    assert uuids(world, MODELS, condition) == expected


DATASET_CASES = [
    ("modelCenter.name=mc-beijing", [BELLE, MEDICAL]),
    ("trainedModelRecord.uuid not null", [ALPACA, BELLE]),
    (f"trainedModelRecord.sourceModel.name={QWEN_NAME}", [ALPACA, BELLE]),
    (f"trainedModelRecord.sourceModel.name={LLAMA_NAME}", [ALPACA]),
    (f"trainedModelRecord.model.name={FT2_NAME}", [BELLE]),
    ("trainedModelRecord.modelServiceInstanceGroup.name=ft-job-1", [ALPACA, BELLE]),
    ("trainedModelRecord.model.modelCenter.name=mc-beijing", [ALPACA]),
]


@pytest.mark.parametrize(("condition", "expected"), DATASET_CASES)
def test_dataset_expansion(world, condition, expected):
    assert uuids(world, DATASETS, condition) == expected


GROUP_CASES = [
    (f"model.name={QWEN_NAME}", [G1]),
    ("model.name!=no-such-model", [G1, G2]),
    ("trainedModelRecord.uuid not null", [G1, G2]),
    ("trainedModelRecord.dataset.name=belle-2m-cn", [G1, G2]),
    (f"trainedModelRecord.model.name={FT5_NAME}", [G1]),
    (f"trainedModelRecord.uuid={R8}", []),
    ("trainedModelRecord.dataset.uuid is null", [G1]),
]


@pytest.mark.parametrize(("condition", "expected"), GROUP_CASES)
def test_group_expansion(world, condition, expected):
    assert uuids(world, GROUPS, condition) == expected


CENTER_CASES = [
    (f"model.name={QWEN_NAME}", [MC1]),
    ("model.type=Embedding", [MC2]),
    ("dataset.name=medical-qa-zh", [MC2]),
    ("dataset.system=true", [MC2]),
    ("model.trainedModelRecord.dataset.name=belle-2m-cn", [MC1]),
    (f"dataset.trainedModelRecord.uuid={R3}", [MC1]),
    ("model.name~=%-ft-%", [MC1, MC2]),
]


@pytest.mark.parametrize(("condition", "expected"), CENTER_CASES)
def test_center_expansion(world, condition, expected):
    assert uuids(world, CENTERS, condition) == expected


# -- combinations, sort, paging, count -----------------------------------------

def test_product_question(world):
    found = uuids(world, RECORDS, f"sourceModel.name={QWEN_NAME}", "dataset.name=alpaca-zh")
    assert found == [R1, R4]


def test_expansion_with_own_field(world):
    found = uuids(world, RECORDS, f"sourceModel.name={QWEN_NAME}", f"createDate>={day(2)}")
    assert found == [R2, R4, R6]


def test_expansion_with_own_uuid_list(world):
    found = uuids(world, RECORDS, "dataset.name=alpaca-zh", f"uuid!?={R1},{R7}")
    assert found == [R3, R4]


def test_expansion_sorted_descending(world):
    found = uuids(world, RECORDS, f"sourceModel.name={QWEN_NAME}", sort="-createDate")
    assert found == [R6, R4, R2, R1]


def test_expansion_paged(world):
    found = uuids(world, RECORDS, f"sourceModel.name={QWEN_NAME}", sort="-createDate",
                  limit=2, start=1)
    assert found == [R4, R2]


def test_expansion_reply_with_count(world):
    body = query(world, RECORDS, f"sourceModel.name={QWEN_NAME}", limit=1,
                 replyWithCount="true")
    assert body["total"] == 4
    assert [row["uuid"] for row in body["inventories"]] == [R1]


def test_expansion_count_only(world):
    body = query(world, RECORDS, "model.modelCenter.name=mc-beijing", count="true")
    assert body == {"schema": {}, "total": 3}


def test_reverse_expansion_count(world):
    body = query(world, MODELS, "derivedTrainedModelRecord.uuid not null", count="true")
    assert body["total"] == 2


# -- errors --------------------------------------------------------------------

def test_unknown_expansion_first_hop(world):
    err = error(world, RECORDS, "foo.name=x")
    assert err["code"] == "SYS.1007"
    assert f"no expand query[foo] found on {RECORD_CLASS}" in err["details"]


def test_unknown_expansion_deeper_hop(world):
    err = error(world, RECORDS, "model.foo.name=x")
    assert err["code"] == "SYS.1007"
    assert f"no expand query[foo] found on {MODEL_CLASS}" in err["details"]


def test_expansion_name_case_sensitive(world):
    err = error(world, RECORDS, "Model.name=x")
    assert err["code"] == "SYS.1007"
    assert f"no expand query[Model] found on {RECORD_CLASS}" in err["details"]


def test_unknown_field_depth_two(world):
    err = error(world, RECORDS, "model.bogus=x")
    assert err["code"] == "SYS.1007"
    assert f"inventory class[class {MODEL_CLASS}] not having field[bogus]" in err["details"]


def test_unknown_field_depth_three(world):
    err = error(world, RECORDS, "model.modelCenter.bogus=x")
    assert err["code"] == "SYS.1007"
    assert f"inventory class[class {CENTER_CLASS}] not having field[bogus]" in err["details"]


def test_unknown_field_reverse_chain(world):
    err = error(world, MODELS, "trainedModelRecord.dataset.bogus=x")
    assert err["code"] == "SYS.1007"
    assert f"inventory class[class {DATASET_CLASS}] not having field[bogus]" in err["details"]


def test_expansion_name_alone_is_field(world):
    err = error(world, RECORDS, "model=x")
    assert err["code"] == "SYS.1007"
    assert f"inventory class[class {RECORD_CLASS}] not having field[model]" in err["details"]


def test_far_side_bad_number(world):
    err = error(world, RECORDS, "model.size=big")
    assert err["code"] == "SYS.1007"
    assert "big" in err["details"]
    assert "size" in err["details"]


def test_sort_by_expansion_rejected(world):
    err = error(world, RECORDS, sort="model.name")
    assert err["code"] == "SYS.1007"
    assert "model.name" in err["details"]


def test_fields_with_expansion_rejected(world):
    err = error(world, RECORDS, fields="uuid,model.name")
    assert err["code"] == "SYS.1007"
    assert "model.name" in err["details"]


# -- the demo world -------------------------------------------------------------

def only_uuid(server: Server, path: str, condition: str) -> str:
    found = uuids(server, path, condition)
    assert len(found) == 1, (condition, found)
    return found[0]


def test_demo_product_question(demo_server):
    model_uuid = only_uuid(demo_server, MODELS, f"name={QWEN_NAME}")
    dataset_uuid = only_uuid(demo_server, DATASETS, "name=alpaca-zh")

    joined = query(demo_server, RECORDS, f"sourceModel.name={QWEN_NAME}",
                   "dataset.name=alpaca-zh", replyWithCount="true", limit=5000)
    direct = query(demo_server, RECORDS, f"sourceModelUuid={model_uuid}",
                   f"datasetUuid={dataset_uuid}", replyWithCount="true", limit=5000)

    assert joined["total"] > 0
    assert joined["total"] == direct["total"]
    assert joined["inventories"] == direct["inventories"]
