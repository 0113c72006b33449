"""Tags: CreateUserTag, CreateSystemTag, DeleteTag, their queries, and tag conditions.

The `matrix` server contains hand-built rows with fixed uuids, written straight
into SQLite, and serves queries with every tag operator on them. The expected rows are
worked out by hand below. The `api` server tests the tag write APIs with a
normal account, an outsider and the admin.
"""

from __future__ import annotations

import itertools
import json
import urllib.parse

import pytest
import sqlalchemy as sa
from conftest import ADMIN_PASSWORD, Reply, Server, insert_rows, sha512

from aios_records.storage import database

RECORDS = "/v1/ai/trained-model/records"
MODELS = "/v1/ai/models"
DATASETS = "/v1/ai/datasets"
GROUPS = "/v1/ai/model-services/instances/groups"
CENTERS = "/v1/ai/model-centers"
ACCOUNTS = "/v1/accounts"
SHARING = "/v1/accounts/resources/actions"
USER_TAGS = "/v1/user-tags"
SYSTEM_TAGS = "/v1/system-tags"
TAGS = "/v1/tags"

EMPTY_QUERY = b'{"schema":{},"inventories":[]}'
NO_PERMISSION = "The user doesn't have permission to perform the operation"
TAG_FIELDS = ["uuid", "resourceUuid", "resourceType", "tag", "createDate", "lastOpDate"]
STAMP = "2025-06-01 08:00:00"


def uid(letter: str, number: int) -> str:
    return f"{letter}{number:031d}"


# -- the hand-built matrix -------------------------------------------------------------
#
# Records and their tags (user tags, then system tags):
#   R1  model M1  user {gold, reviewed}  system {epochs::3}
#   R2  model M2  user {silver}          system {}          sourceModel M1
#   R3  model M3  user {GOLD}            system {}
#   R4  model M1  user {}                system {}
#   R5  model M3  user {}                system {epochs::10}
# Models: M1 user {gold} system {format::safetensors}; M2 user {silver}; M3 none.
# TWIN is a model whose uuid equals R4's, with tags of resource type ModelVO:
# they tag the model, never the record.

CENTER = uid("c", 1)
GROUP = uid("f", 1)
DATASET = uid("b", 1)
M1, M2, M3 = uid("a", 1), uid("a", 2), uid("a", 3)
R1, R2, R3, R4, R5 = (uid("d", n) for n in range(1, 6))
TWIN = R4
U1, U2, U3, U4, U5, U6, U7, U8, U9 = (uid("7", n) for n in range(1, 10))
S1, S2, S3, S4 = (uid("8", n) for n in range(1, 5))

USER_TAG_ROWS = [
    (U1, R1, "TrainedModelRecordVO", "gold"),
    (U2, R1, "TrainedModelRecordVO", "reviewed"),
    (U3, R2, "TrainedModelRecordVO", "silver"),
    (U4, R3, "TrainedModelRecordVO", "GOLD"),
    (U5, M1, "ModelVO", "gold"),
    (U6, M2, "ModelVO", "silver"),
    (U7, TWIN, "ModelVO", "twin"),
    (U8, CENTER, "ModelCenterVO", "center-tag"),
    (U9, GROUP, "ModelServiceInstanceGroupVO", "group-tag"),
]
SYSTEM_TAG_ROWS = [
    (S1, R1, "TrainedModelRecordVO", "epochs::3"),
    (S2, R5, "TrainedModelRecordVO", "epochs::10"),
    (S3, M1, "ModelVO", "format::safetensors"),
    (S4, TWIN, "ModelVO", "twin::sys"),
]


LABELS = {uuid: label for label, uuid in {
    "U1": U1, "U2": U2, "U3": U3, "U4": U4, "U5": U5, "U6": U6, "U7": U7, "U8": U8, "U9": U9,
    "S1": S1, "S2": S2, "S3": S3, "S4": S4, "M1": M1, "M2": M2, "M3": M3, "R1": R1,
    "missing": uid("9", 9)}.items()}


def label(condition: str) -> str:
    """Return a test id with the uuids in `condition` replaced by their short names."""
    for uuid, name in LABELS.items():
        condition = condition.replace(uuid, name)
    return condition


def stamped(row: dict) -> dict:
    return {**row, "createDate": STAMP, "lastOpDate": STAMP}


def tag_rows(rows: list[tuple[str, str, str, str]]) -> list[dict]:
    return [stamped({"uuid": uuid, "resourceUuid": resource, "resourceType": kind, "tag": tag})
            for uuid, resource, kind, tag in rows]


def model_row(uuid: str, name: str) -> dict:
    return stamped({"uuid": uuid, "name": name, "modelCenterUuid": CENTER, "size": 0,
                    "type": "LLM"})


def record_row(uuid: str, model: str, source: str | None = None) -> dict:
    return stamped({"uuid": uuid, "modelUuid": model, "sourceModelUuid": source,
                    "modelServiceInstanceGroupUuid": GROUP, "datasetUuid": None})


def write_matrix(url: str) -> None:
    insert_rows(url, "ModelCenterVO", [stamped({
        "uuid": CENTER, "name": "mc-tags", "managementIp": "10.0.0.1",
        "managementPort": 8989})])
    insert_rows(url, "ModelVO", [model_row(M1, "m-gold"), model_row(M2, "m-silver"),
                                 model_row(M3, "m-plain"), model_row(TWIN, "m-twin")])
    insert_rows(url, "DatasetVO", [stamped({"uuid": DATASET, "name": "d-plain",
                                            "modelCenterUuid": CENTER, "system": False})])
    insert_rows(url, "ModelServiceInstanceGroupVO", [stamped({
        "uuid": GROUP, "status": "Running", "modelServiceType": "FineTune",
        "type": "Container", "name": "ft-job"})])
    insert_rows(url, "TrainedModelRecordVO", [
        record_row(R1, M1), record_row(R2, M2, M1), record_row(R3, M3), record_row(R4, M1),
        record_row(R5, M3)])
    insert_rows(url, "UserTagVO", tag_rows(USER_TAG_ROWS))
    insert_rows(url, "SystemTagVO", tag_rows(SYSTEM_TAG_ROWS))


@pytest.fixture(scope="module")
def matrix(make_module_server) -> Server:
    server = make_module_server("--admin-password", ADMIN_PASSWORD, prepare=write_matrix)
    server.session = server.login_session()
    return server


def query(*conditions: str) -> str:
    return "&".join("q=" + urllib.parse.quote(c, safe="") for c in conditions)


def uuids(reply: Reply) -> list[str]:
    assert reply.status == 200, reply.text
    return [row["uuid"] for row in reply.json()["inventories"]]


def select(server: Server, path: str, *conditions: str) -> list[str]:
    return uuids(server.get(f"{path}?{query(*conditions)}"))


# -- every operator on records -----------------------------------------------------------

USER_TAG_CASES = [
    ("__userTag__=gold", [R1, R3]),
    ("__userTag__=GOLD", [R1, R3]),
    ("__userTag__=gol", []),
    ("__userTag__!=gold", [R2, R4, R5]),
    ("__userTag__!=reviewed", [R2, R3, R4, R5]),
    ("__userTag__>reviewed", [R2]),
    ("__userTag__>=reviewed", [R1, R2]),
    ("__userTag__<gold", []),
    ("__userTag__<=gold", [R1, R3]),
    ("__userTag__<silver", [R1, R3]),
    ("__userTag__<=silver", [R1, R2, R3]),
    ("__userTag__?=silver,reviewed", [R1, R2]),
    ("__userTag__!?=silver,reviewed", [R3, R4, R5]),
    ("__userTag__~=%OL%", [R1, R3]),
    ("__userTag__~=s_lver", [R2]),
    ("__userTag__!~=%ol%", [R2, R4, R5]),
    ("__userTag__ is null", []),
    ("__userTag__=null", []),
    ("__userTag__=NULL", []),
    ("__userTag__ not null", [R1, R2, R3]),
    ("__userTag__!=null", [R1, R2, R3]),
    ("__userTag__=twin", []),
]

SYSTEM_TAG_CASES = [
    ("__systemTag__=epochs::3", [R1]),
    ("__systemTag__!=epochs::3", [R2, R3, R4, R5]),
    ("__systemTag__>epochs::10", [R1]),
    ("__systemTag__>=epochs::10", [R1, R5]),
    ("__systemTag__<epochs::3", [R5]),
    ("__systemTag__<=epochs::3", [R1, R5]),
    ("__systemTag__?=epochs::3,epochs::99", [R1]),
    ("__systemTag__!?=epochs::3,epochs::99", [R2, R3, R4, R5]),
    ("__systemTag__~=EPOCHS::%", [R1, R5]),
    ("__systemTag__!~=epochs::1%", [R1, R2, R3, R4]),
    ("__systemTag__ is null", []),
    ("__systemTag__=null", []),
    ("__systemTag__ not null", [R1, R5]),
    ("__systemTag__!=null", [R1, R5]),
    ("__systemTag__=twin::sys", []),
]

# Record tags in uuid order: U1 U2 (R1), U3 (R2), U4 (R3), then S1 (R1), S2 (R5).
TAG_UUID_CASES = [
    (f"__tagUuid__={U3}", [R2]),
    (f"__tagUuid__={S2}", [R5]),
    (f"__tagUuid__={U5}", []),
    (f"__tagUuid__={U7}", []),
    (f"__tagUuid__!={U1}", [R2, R3, R4, R5]),
    (f"__tagUuid__!={S1}", [R2, R3, R4, R5]),
    (f"__tagUuid__>{U4}", [R1, R5]),
    (f"__tagUuid__>={U4}", [R1, R3, R5]),
    (f"__tagUuid__<{U3}", [R1]),
    (f"__tagUuid__<={U3}", [R1, R2]),
    (f"__tagUuid__?={U3},{U4}", [R2, R3]),
    (f"__tagUuid__!?={U3},{U4}", [R1, R4, R5]),
    ("__tagUuid__~=7%", [R1, R2, R3]),
    ("__tagUuid__!~=8%", [R2, R3, R4]),
    ("__tagUuid__ is null", []),
    ("__tagUuid__=null", []),
    ("__tagUuid__ not null", [R1, R2, R3, R5]),
    ("__tagUuid__!=null", [R1, R2, R3, R5]),
    (f"__tagUuid__={uid('9', 9)}", []),
    (f"__tagUuid__!={uid('9', 9)}", [R1, R2, R3, R4, R5]),
]


@pytest.mark.parametrize("condition, expected", USER_TAG_CASES,
                         ids=[case[0] for case in USER_TAG_CASES])
def test_user_tag_operator(matrix, condition, expected):
    assert select(matrix, RECORDS, condition) == expected


@pytest.mark.parametrize("condition, expected", SYSTEM_TAG_CASES,
                         ids=[case[0] for case in SYSTEM_TAG_CASES])
def test_system_tag_operator(matrix, condition, expected):
    assert select(matrix, RECORDS, condition) == expected


@pytest.mark.parametrize("condition, expected", TAG_UUID_CASES,
                         ids=[label(case[0]) for case in TAG_UUID_CASES])
def test_tag_uuid_operator(matrix, condition, expected):
    assert select(matrix, RECORDS, condition) == expected


def test_tag_condition_counts(matrix):
    reply = matrix.get(f"{RECORDS}?count=true&{query('__userTag__=gold')}")

    assert reply.json() == {"schema": {}, "total": 2}


# -- other resources, expansions and own fields -----------------------------------------

MODEL_CASES = [
    ("__userTag__=gold", [M1]),
    ("__userTag__=twin", [TWIN]),
    ("__userTag__!=gold", [M2, M3, TWIN]),
    ("__systemTag__ not null", [M1, TWIN]),
    (f"__tagUuid__={U7}", [TWIN]),
    (f"__tagUuid__!={U5}", [M2, M3, TWIN]),
]


@pytest.mark.parametrize("condition, expected", MODEL_CASES,
                         ids=[label(case[0]) for case in MODEL_CASES])
def test_model_tag_condition(matrix, condition, expected):
    assert select(matrix, MODELS, condition) == expected


RESOURCE_CASES = [
    (CENTERS, "__userTag__=center-tag", [CENTER]),
    (CENTERS, "__userTag__!=center-tag", []),
    (GROUPS, "__userTag__ not null", [GROUP]),
    (GROUPS, f"__tagUuid__={U9}", [GROUP]),
    (DATASETS, "__userTag__ not null", []),
    (DATASETS, "__userTag__!=anything", [DATASET]),
]


@pytest.mark.parametrize("path, condition, expected", RESOURCE_CASES,
                         ids=[f"{case[0].rsplit('/', 1)[1]}-{label(case[1])}"
                              for case in RESOURCE_CASES])
def test_tag_condition_each_resource(matrix, path, condition, expected):
    assert select(matrix, path, condition) == expected


def test_model_tag_not_on_record(matrix):
    # M1 carries the user tag gold, and R4 is a record of M1 without tags of its own.
    assert select(matrix, MODELS, "__userTag__=gold") == [M1]
    assert R4 not in select(matrix, RECORDS, "__userTag__=gold")
    assert select(matrix, RECORDS, "model.__userTag__=gold") == [R1, R4]


COMBINED_CASES = [
    (RECORDS, ["model.__userTag__=gold"], [R1, R4]),
    (RECORDS, ["model.__userTag__!=gold"], [R2, R3, R5]),
    (RECORDS, ["model.__systemTag__ not null"], [R1, R4]),
    (RECORDS, ["model.__systemTag__=format::safetensors"], [R1, R4]),
    (RECORDS, [f"model.__tagUuid__={U6}"], [R2]),
    (RECORDS, ["model.__userTag__ is null"], []),
    (RECORDS, ["sourceModel.__userTag__=gold"], [R2]),
    (RECORDS, ["model.modelCenter.__userTag__=center-tag"], [R1, R2, R3, R4, R5]),
    (RECORDS, ["modelServiceInstanceGroup.__userTag__=group-tag"], [R1, R2, R3, R4, R5]),
    (MODELS, ["trainedModelRecord.__userTag__=gold"], [M1, M3]),
    (MODELS, ["trainedModelRecord.__systemTag__=epochs::10"], [M3]),
    (MODELS, ["derivedTrainedModelRecord.__userTag__=silver"], [M1]),
    (MODELS, ["modelCenter.__userTag__=center-tag", "__userTag__ not null"], [M1, M2, TWIN]),
    (RECORDS, ["__userTag__=gold", f"modelUuid={M1}"], [R1]),
    (RECORDS, ["__userTag__!=gold", f"modelUuid={M1}"], [R4]),
    (RECORDS, ["__userTag__=gold", "__systemTag__=epochs::3"], [R1]),
    (RECORDS, ["__userTag__!=gold", "__systemTag__ not null"], [R5]),
    (RECORDS, ["model.__userTag__=gold", "__userTag__ not null"], [R1]),
    (RECORDS, ["model.name=m-plain", "__systemTag__!=epochs::3"], [R3, R5]),
]


@pytest.mark.parametrize("path, conditions, expected", COMBINED_CASES,
                         ids=[label("&".join(case[1])) for case in COMBINED_CASES])
def test_tag_condition_combined(matrix, path, conditions, expected):
    assert select(matrix, path, *conditions) == expected


@pytest.mark.parametrize("path, condition, expected", [
    (USER_TAGS, f"resourceUuid={R1}", [U1, U2]),
    (USER_TAGS, "tag=gold", [U1, U4, U5]),
    (USER_TAGS, "resourceType=ModelVO", [U5, U6, U7]),
    (SYSTEM_TAGS, "resourceType=ModelVO", [S3, S4]),
    (SYSTEM_TAGS, "tag~=epochs::%", [S1, S2]),
])
def test_query_tag_tables(matrix, path, condition, expected):
    assert select(matrix, path, condition) == expected


def test_tag_inventory_shape(matrix):
    reply = matrix.get(f"{USER_TAGS}/{U1}")

    assert reply.status == 200
    assert reply.json()["schema"] == {"inventories[0]": "org.zstack.header.tag.UserTagInventory"}
    [inventory] = reply.json()["inventories"]
    assert list(inventory) == TAG_FIELDS
    assert inventory["resourceUuid"] == R1
    assert inventory["resourceType"] == "TrainedModelRecordVO"
    assert inventory["tag"] == "gold"


@pytest.mark.parametrize("parameter", [
    "fields=__userTag__", "fields=uuid,__systemTag__", "fields=__tagUuid__",
    "sort=__userTag__", "sort=-__systemTag__", "sort=%2B__tagUuid__",
])
def test_tag_field_not_reply_field(matrix, parameter):
    reply = matrix.get(f"{RECORDS}?{parameter}")

    assert reply.status == 503, reply.text
    error = reply.json()["error"]
    assert error["code"] == "SYS.1007"
    assert "__" in error["details"]


# -- the write APIs ------------------------------------------------------------------------

_names = itertools.count(1)


class TagApi:
    """The `api` server with a tagger (owner), an outsider and the admin."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.accounts: dict[str, str] = {}
        self.sessions: dict[str | None, str | None] = {None: None}

    def call(self, role: str | None, method: str, path: str, body: object = None) -> Reply:
        data = None if body is None else json.dumps(body)
        return self.server.request(method, path, body=data, session=self.sessions[role])

    def create(self, role: str | None, path: str, key: str, params: dict, **extra) -> str:
        reply = self.call(role, "POST", path, {key: params, **extra})
        assert reply.status == 200, reply.text
        return reply.json()["inventory"]["uuid"]

    def model(self, role: str | None, **extra) -> str:
        name = f"tagged-model-{next(_names)}"
        return self.create(role, MODELS, "param", {"name": name, "modelCenterUuid": CENTER},
                           **extra)

    def tag(self, role: str | None, resource_uuid: str, tag: str,
            resource_type: str = "ModelVO", system: bool = False) -> str:
        return self.create(role, SYSTEM_TAGS if system else USER_TAGS, "params",
                           {"resourceType": resource_type, "resourceUuid": resource_uuid,
                            "tag": tag})

    def get(self, role: str | None, path: str) -> Reply:
        return self.server.request("GET", path, session=self.sessions[role])


@pytest.fixture(scope="module")
def api(make_module_server) -> TagApi:
    server = make_module_server("--admin-password", ADMIN_PASSWORD)
    server.session = server.login_session()
    built = TagApi(server)
    built.create(None, CENTERS, "param", {"name": "mc-api", "managementIp": "10.0.0.1",
                                          "managementPort": 8989, "resourceUuid": CENTER})
    shared = built.call(None, "PUT", SHARING,
                        {"shareResource": {"resourceUuids": [CENTER], "toPublic": True}})
    assert shared.status == 200, shared.text
    for role in ("tagger", "outsider"):
        built.accounts[role] = built.create(None, ACCOUNTS, "params",
                                           {"name": role, "password": sha512(f"{role}-pw")})
        built.sessions[role] = server.login_session(role, f"{role}-pw")
    return built


def tag_tables(server: Server) -> dict[str, list[tuple]]:
    engine = database.create_engine(server.database_url)
    try:
        with engine.connect() as conn:
            return {table: [tuple(row) for row in conn.execute(
                        sa.text(f'SELECT * FROM "{table}" ORDER BY uuid'))]
                    for table in ("UserTagVO", "SystemTagVO")}
    finally:
        engine.dispose()


def tags_of(server: Server, resource_uuid: str) -> list[tuple[str, str]]:
    """Read (table, tag) of every stored tag of a resource."""
    engine = database.create_engine(server.database_url)
    try:
        with engine.connect() as conn:
            return [(table, tag) for table in ("UserTagVO", "SystemTagVO")
                    for tag in conn.execute(
                        sa.text(f'SELECT tag FROM "{table}" WHERE "resourceUuid" = :uuid '
                                'ORDER BY tag'), {"uuid": resource_uuid}).scalars()]
    finally:
        engine.dispose()


def test_create_user_tag_owner(api):
    model = api.model("tagger")

    reply = api.call("tagger", "POST", USER_TAGS, {"params": {
        "resourceType": "ModelVO", "resourceUuid": model, "tag": "owner-tag"}})

    assert reply.status == 200, reply.text
    assert list(reply.json()) == ["inventory"]
    inventory = reply.json()["inventory"]
    assert list(inventory) == TAG_FIELDS
    assert inventory["resourceUuid"] == model
    assert inventory["resourceType"] == "ModelVO"
    assert inventory["tag"] == "owner-tag"
    assert uuids(api.get("tagger", f"{USER_TAGS}/{inventory['uuid']}")) == [inventory["uuid"]]
    assert uuids(api.get("tagger", f"{MODELS}?q=__userTag__=owner-tag")) == [model]
    assert uuids(api.get("tagger", f"{MODELS}?q=__tagUuid__={inventory['uuid']}")) == [model]


def test_create_user_tag_on_record(api):
    group = api.create("tagger", GROUPS, "params", {"status": "Running", "type": "Container",
                                                    "modelServiceType": "FineTune"})
    record = api.create("tagger", RECORDS, "params", {
        "modelUuid": api.model("tagger"), "modelServiceInstanceGroupUuid": group})

    tag = api.tag("tagger", record, "record-tag", "TrainedModelRecordVO")

    assert uuids(api.get("tagger", f"{RECORDS}?q=__userTag__=record-tag")) == [record]
    assert uuids(api.get("tagger", f"{USER_TAGS}?q=resourceUuid={record}")) == [tag]


def test_admin_tags_owned_model(api):
    model = api.model("tagger")

    tag = api.tag(None, model, "admin-on-owned")

    assert uuids(api.get("tagger", f"{USER_TAGS}/{tag}")) == [tag]
    assert uuids(api.get("tagger", f"{MODELS}?q=__userTag__=admin-on-owned")) == [model]


def test_create_system_tag_admin(api):
    model = api.model("tagger")

    reply = api.call(None, "POST", SYSTEM_TAGS, {"params": {
        "resourceType": "ModelVO", "resourceUuid": model, "tag": "quota::5"}})

    assert reply.status == 200, reply.text
    inventory = reply.json()["inventory"]
    assert list(inventory) == TAG_FIELDS
    assert inventory["tag"] == "quota::5"
    assert uuids(api.get(None, f"{SYSTEM_TAGS}/{inventory['uuid']}")) == [inventory["uuid"]]
    assert uuids(api.get("tagger", f"{SYSTEM_TAGS}/{inventory['uuid']}")) == [inventory["uuid"]]
    assert uuids(api.get("tagger", f"{MODELS}?q=__systemTag__=quota::5")) == [model]
    assert api.get("tagger", f"{USER_TAGS}/{inventory['uuid']}").body == EMPTY_QUERY


def test_create_system_tag_normal(api):
    model = api.model("tagger")
    before = tag_tables(api.server)

    reply = api.call("tagger", "POST", SYSTEM_TAGS, {"params": {
        "resourceType": "ModelVO", "resourceUuid": model, "tag": "quota::5"}})

    assert reply.status == 503
    error = reply.json()["error"]
    assert error["code"] == "ID.1002"
    assert error["description"] == NO_PERMISSION
    assert tag_tables(api.server) == before


BAD_TAG_BODIES = [
    ("bogus-type", {"resourceType": "BogusVO", "resourceUuid": "MODEL", "tag": "x"},
     "params.resourceType"),
    ("lower-type", {"resourceType": "modelvo", "resourceUuid": "MODEL", "tag": "x"},
     "params.resourceType"),
    ("account-type", {"resourceType": "AccountVO", "resourceUuid": "MODEL", "tag": "x"},
     "params.resourceType"),
    ("no-type", {"resourceUuid": "MODEL", "tag": "x"}, "params.resourceType"),
    ("type-number", {"resourceType": 3, "resourceUuid": "MODEL", "tag": "x"},
     "params.resourceType"),
    ("no-uuid", {"resourceType": "ModelVO", "tag": "x"}, "params.resourceUuid"),
    ("no-tag", {"resourceType": "ModelVO", "resourceUuid": "MODEL"}, "params.tag"),
    ("tag-number", {"resourceType": "ModelVO", "resourceUuid": "MODEL", "tag": 5},
     "params.tag"),
    ("tag-too-long", {"resourceType": "ModelVO", "resourceUuid": "MODEL", "tag": "t" * 2049},
     "params.tag"),
    ("missing-resource", {"resourceType": "ModelVO", "resourceUuid": uid("9", 1), "tag": "x"},
     f"resource[uuid:{uid('9', 1)}] not found"),
    ("wrong-type", {"resourceType": "DatasetVO", "resourceUuid": "MODEL", "tag": "x"},
     "resource[uuid:MODEL] not found"),
]


@pytest.mark.parametrize("path", [USER_TAGS, SYSTEM_TAGS], ids=["user", "system"])
@pytest.mark.parametrize("case, params, expected", BAD_TAG_BODIES,
                         ids=[case[0] for case in BAD_TAG_BODIES])
def test_create_tag_rejected(api, path, case, params, expected):
    model = api.model("tagger")
    body = json.loads(json.dumps({"params": params}).replace("MODEL", model))
    role = "tagger" if path == USER_TAGS else None
    before = tag_tables(api.server)

    reply = api.call(role, "POST", path, body)

    assert reply.status == 503, reply.text
    error = reply.json()["error"]
    assert error["code"] == "SYS.1007"
    assert expected.replace("MODEL", model) in error["details"]
    assert tag_tables(api.server) == before


@pytest.mark.parametrize("body", ['{"params":"x"}', "[]", '{"other":{}}'])
def test_create_tag_bad_envelope(api, body):
    before = tag_tables(api.server)

    reply = api.server.request("POST", USER_TAGS, body=body, session=api.sessions["tagger"])

    assert reply.status == 503
    assert reply.json()["error"]["code"] == "SYS.1007"
    assert tag_tables(api.server) == before


@pytest.mark.parametrize("role", ["tagger", None], ids=["owner", "admin"])
def test_delete_tag(api, role):
    model = api.model("tagger")
    tag = api.tag("tagger", model, "doomed")
    kept_tag = api.tag("tagger", model, "kept")

    reply = api.call(role, "DELETE", f"{TAGS}/{tag}")

    assert reply.status == 200
    assert reply.body == b"{}"
    assert api.get("tagger", f"{USER_TAGS}/{tag}").body == EMPTY_QUERY
    assert tags_of(api.server, model) == [("UserTagVO", "kept")]
    assert uuids(api.get("tagger", f"{MODELS}?q=__userTag__=doomed")) == []
    assert uuids(api.get("tagger", f"{USER_TAGS}/{kept_tag}")) == [kept_tag]


def test_delete_system_tag_admin(api):
    model = api.model("tagger")
    tag = api.tag(None, model, "sys::doomed", system=True)

    reply = api.call(None, "DELETE", f"{TAGS}/{tag}")

    assert reply.status == 200
    assert reply.body == b"{}"
    assert tags_of(api.server, model) == []


@pytest.mark.parametrize("role", ["tagger", None], ids=["normal", "admin"])
def test_delete_unknown_tag(api, role):
    before = tag_tables(api.server)

    reply = api.call(role, "DELETE", f"{TAGS}/{uid('9', 2)}")

    assert reply.status == 200
    assert reply.body == b"{}"
    assert tag_tables(api.server) == before


def test_delete_tag_of_outsider(api):
    model = api.model("tagger")
    tag = api.tag("tagger", model, "not-yours")
    before = tag_tables(api.server)

    reply = api.call("outsider", "DELETE", f"{TAGS}/{tag}")

    assert reply.status == 200
    assert reply.body == b"{}"
    assert tag_tables(api.server) == before


def test_tag_on_outsider_resource(api):
    model = api.model("tagger")
    before = tag_tables(api.server)

    reply = api.call("outsider", "POST", USER_TAGS, {"params": {
        "resourceType": "ModelVO", "resourceUuid": model, "tag": "mine"}})

    assert reply.status == 503
    assert reply.json()["error"]["details"] == f"resource[uuid:{model}] not found"
    assert tag_tables(api.server) == before


# -- visibility and lifetime ------------------------------------------------------------------

def test_tags_follow_resource_visibility(api):
    model = api.model("tagger")
    user_tag = api.tag("tagger", model, "follows")
    system_tag = api.tag(None, model, "follows::sys", system=True)
    outsider = api.accounts["outsider"]

    def outsider_sees() -> dict[str, list[str]]:
        return {
            "user": uuids(api.get("outsider", f"{USER_TAGS}?q=resourceUuid={model}")),
            "system": uuids(api.get("outsider", f"{SYSTEM_TAGS}?q=resourceUuid={model}")),
            "get": uuids(api.get("outsider", f"{USER_TAGS}/{user_tag}")),
            "model": uuids(api.get("outsider", f"{MODELS}?q=__userTag__=follows")),
        }

    hidden = {"user": [], "system": [], "get": [], "model": []}
    visible = {"user": [user_tag], "system": [system_tag], "get": [user_tag], "model": [model]}
    assert outsider_sees() == hidden

    shared = api.call("tagger", "PUT", SHARING, {"shareResource": {
        "resourceUuids": [model], "accountUuids": [outsider]}})
    assert shared.status == 200, shared.text
    assert outsider_sees() == visible

    revoked = api.call("tagger", "PUT", SHARING, {"revokeResourceSharing": {
        "resourceUuids": [model], "accountUuids": [outsider]}})
    assert revoked.status == 200, revoked.text
    assert outsider_sees() == hidden


def test_tag_counts_follow_visibility(api):
    model = api.model("tagger")
    api.tag("tagger", model, "counted")

    owner = api.get("tagger", f"{USER_TAGS}?count=true&q=tag=counted")
    outsider = api.get("outsider", f"{USER_TAGS}?count=true&q=tag=counted")
    admin = api.get(None, f"{USER_TAGS}?count=true&q=tag=counted")

    assert owner.json()["total"] == 1
    assert outsider.json()["total"] == 0
    assert admin.json()["total"] == 1


def new_resource(api: TagApi, kind: str) -> tuple[str, str, str]:
    """Create a resource of `kind` as the tagger and return (uuid, resourceType, delete path)."""
    if kind == "model":
        return api.model("tagger"), "ModelVO", MODELS
    if kind == "dataset":
        uuid = api.create("tagger", DATASETS, "params",
                          {"name": f"data-{next(_names)}", "modelCenterUuid": CENTER})
        return uuid, "DatasetVO", DATASETS
    group = api.create("tagger", GROUPS, "params", {"status": "Running", "type": "Container",
                                                    "modelServiceType": "FineTune"})
    if kind == "group":
        return group, "ModelServiceInstanceGroupVO", GROUPS
    record = api.create("tagger", RECORDS, "params", {
        "modelUuid": api.model("tagger"), "modelServiceInstanceGroupUuid": group})
    return record, "TrainedModelRecordVO", RECORDS


@pytest.mark.parametrize("kind", ["model", "dataset", "group", "record"])
def test_tags_deleted_with_resource(api, kind):
    uuid, resource_type, path = new_resource(api, kind)
    user_tag = api.tag("tagger", uuid, f"{kind}-tag", resource_type)
    system_tag = api.tag(None, uuid, f"{kind}::sys", resource_type, system=True)
    assert len(tags_of(api.server, uuid)) == 2

    reply = api.call("tagger", "DELETE", f"{path}/{uuid}")

    assert reply.status == 200
    assert tags_of(api.server, uuid) == []
    assert api.get(None, f"{USER_TAGS}/{user_tag}").body == EMPTY_QUERY
    assert api.get(None, f"{SYSTEM_TAGS}/{system_tag}").body == EMPTY_QUERY


def test_center_delete_drops_model_tags(api):
    center = api.create(None, CENTERS, "param", {"name": "mc-doomed", "managementIp": "10.0.0.9",
                                                 "managementPort": 8989})
    model = api.create(None, MODELS, "param", {"name": "doomed-model", "modelCenterUuid": center})
    api.tag(None, model, "doomed-model-tag")
    api.tag(None, center, "doomed-center-tag", "ModelCenterVO")

    reply = api.call(None, "DELETE", f"{CENTERS}/{center}")

    assert reply.status == 200
    assert tags_of(api.server, model) == []
    assert tags_of(api.server, center) == []


# -- tags in a create body ----------------------------------------------------------------------

def test_create_body_user_tags(api):
    model = api.model("tagger", userTags=["body-alpha", "body-beta"])

    assert sorted(tags_of(api.server, model)) == [("UserTagVO", "body-alpha"),
                                                  ("UserTagVO", "body-beta")]
    assert uuids(api.get("tagger", f"{MODELS}?q=__userTag__=body-beta")) == [model]
    assert api.get("outsider", f"{MODELS}?q=__userTag__=body-beta").body == EMPTY_QUERY


def test_create_body_system_tags_admin(api):
    model = api.model(None, systemTags=["body::sys"], userTags=["body-user"])

    assert sorted(tags_of(api.server, model)) == [("SystemTagVO", "body::sys"),
                                                  ("UserTagVO", "body-user")]
    assert uuids(api.get(None, f"{MODELS}?q=__systemTag__=body::sys")) == [model]


def test_create_body_system_tags_normal(api):
    name = f"tagged-model-{next(_names)}"
    before = tag_tables(api.server)

    reply = api.call("tagger", "POST", MODELS, {
        "param": {"name": name, "modelCenterUuid": CENTER}, "systemTags": ["body::sys"]})

    assert reply.status == 503
    assert reply.json()["error"]["code"] == "ID.1002"
    assert tag_tables(api.server) == before
    assert api.get(None, f"{MODELS}?q=name={name}").body == EMPTY_QUERY
