"""Isolation between accounts: what a normal account can see, change and learn.

The `world` server contains two teams, alpha and bravo, each with models, a
dataset, a group, records and tags, plus private rows of the admin. Each team
lent one model to the other, which built records on it, and then revoked the
share. So each team owns records that name a model it can no longer see, and
a leaking expansion would show up. Tests against `world` only read it or make
writes that must fail, so its contents stay fixed and every expected list is
written out. Sharing tests run on a second server, and the login timing check
on a third.
"""

from __future__ import annotations

import json
import secrets
import statistics
import time
import urllib.parse

import pytest
import sqlalchemy as sa
from conftest import ADMIN_PASSWORD, Reply, Server, sha512

from aios_records.storage import database

ADMIN_UUID = "36c27e8ff05c4780bf6d2fa65700f22e"
ACCOUNTS = "/v1/accounts"
RECORDS = "/v1/ai/trained-model/records"
RECORD_SINGULAR = "/v1/ai/trained-model/record"
MODELS = "/v1/ai/models"
DATASETS = "/v1/ai/datasets"
GROUPS = "/v1/ai/model-services/instances/groups"
GROUP_UPDATES = "/v1/model-service-instance-groups"
CENTERS = "/v1/ai/model-centers"
SHARING = "/v1/accounts/resources/actions"
USER_TAGS = "/v1/user-tags"
SYSTEM_TAGS = "/v1/system-tags"
TAGS = "/v1/tags"

EMPTY_QUERY = b'{"schema":{},"inventories":[]}'
WRONG_CREDENTIALS = (
    b'{"error":{"code":"ID.1000","description":"Unable to authenticate a user",'
    b'"details":"wrong account name or password"}}'
)
SNAPSHOT_TABLES = ("TrainedModelRecordVO", "ModelVO", "DatasetVO", "ModelServiceInstanceGroupVO",
                   "ModelCenterVO", "UserTagVO", "SystemTagVO", "AccountResourceRefVO",
                   "SharedResourceVO", "AccountVO")

MODEL, DATASET, GROUP, RECORD, CENTER = "1", "2", "3", "4", "5"


def uid(owner: str, kind: str, number: int) -> str:
    """Return a readable uuid: owner letter (a, b or e for the admin), kind digit, number."""
    return f"{owner}{kind}{number:030d}"


# The fixed world. `a` is team alpha, `b` team bravo, `e` the admin.
SHARED_CENTER = uid("e", CENTER, 1)
PRIVATE_CENTER = uid("e", CENTER, 2)
ADMIN_MODEL = uid("e", MODEL, 1)
ADMIN_GROUP = uid("e", GROUP, 1)
ADMIN_RECORD = uid("e", RECORD, 1)


def team_uuids(team: str) -> dict[str, str]:
    """Return the uuids of one team's rows by role."""
    return {
        "base": uid(team, MODEL, 1),
        "trained": uid(team, MODEL, 2),
        "lent": uid(team, MODEL, 3),
        "data": uid(team, DATASET, 1),
        "job": uid(team, GROUP, 1),
        "record": uid(team, RECORD, 1),
        "on_lent": uid(team, RECORD, 2),
        "from_lent": uid(team, RECORD, 3),
    }


ALPHA, BRAVO = team_uuids("a"), team_uuids("b")
TEAM_NAMES = {"a": "alpha", "b": "bravo"}


def own_rows(team: dict[str, str]) -> dict[str, list[str]]:
    """Return, by list path, the uuids a team owns, in uuid order."""
    return {
        MODELS: [team["base"], team["trained"], team["lent"]],
        DATASETS: [team["data"]],
        GROUPS: [team["job"]],
        RECORDS: [team["record"], team["on_lent"], team["from_lent"]],
    }


# -- helpers ----------------------------------------------------------------------

def call(server: Server, method: str, path: str, body: object = None,
         session: str | None = None) -> Reply:
    """Send a request, as the admin unless `session` names another session."""
    data = None if body is None else json.dumps(body)
    return server.request(method, path, body=data, session=session)


def created(server: Server, path: str, key: str, params: dict,
            session: str | None = None) -> str:
    reply = call(server, "POST", path, {key: params}, session=session)
    assert reply.status == 200, reply.text
    return reply.json()["inventory"]["uuid"]


def query(condition: str) -> str:
    return "q=" + urllib.parse.quote(condition, safe="")


def uuids(reply: Reply) -> list[str]:
    assert reply.status == 200, reply.text
    return [row["uuid"] for row in reply.json()["inventories"]]


def total(reply: Reply) -> int:
    assert reply.status == 200, reply.text
    return reply.json()["total"]


def share(server: Server, resource: str, accounts: list[str] | None = None,
          to_public: bool = False, session: str | None = None, revoke: bool = False) -> Reply:
    key = "revokeResourceSharing" if revoke else "shareResource"
    section = {"resourceUuids": [resource], "accountUuids": accounts or [], "toPublic": to_public}
    return call(server, "PUT", SHARING, {key: section}, session=session)


def snapshot(server: Server) -> dict[str, list[tuple]]:
    """Read every row of the resource, tag, ownership, sharing and account tables."""
    engine = database.create_engine(server.database_url)
    try:
        with engine.connect() as conn:
            return {
                table: [tuple(row) for row in conn.execute(
                    sa.text(f'SELECT * FROM "{table}" ORDER BY 1, 2'))]
                for table in SNAPSHOT_TABLES
            }
    finally:
        engine.dispose()


def normalized(reply: Reply, uuid: str) -> tuple[int, str | None, bytes]:
    """Return status, content type and body with `uuid` replaced by a placeholder."""
    return (reply.status, reply.headers.get("content-type"),
            reply.body.replace(uuid.encode(), b"<uuid>"))


# -- the fixed world ----------------------------------------------------------------

class World:
    """The `world` server and the sessions and uuids of its accounts and tags."""

    def __init__(self, server: Server) -> None:
        self.server = server
        # Account uuids and sessions by team letter.
        self.accounts: dict[str, str] = {}
        self.sessions: dict[str, str] = {}
        # User tag uuids by "<team letter>-<role>" ("e" for the admin's tag), and
        # system tag uuids by team letter.
        self.user_tags: dict[str, str] = {}
        self.system_tags: dict[str, str] = {}


def build_team(world: World, letter: str) -> None:
    server, name = world.server, TEAM_NAMES[letter]
    session = world.sessions[letter]
    ids = team_uuids(letter)
    for role in ("base", "trained", "lent"):
        created(server, MODELS, "param", {"name": f"{name}-{role}",
                                          "modelCenterUuid": SHARED_CENTER,
                                          "resourceUuid": ids[role]}, session)
    created(server, DATASETS, "params", {"name": f"{name}-data", "modelCenterUuid": SHARED_CENTER,
                                         "resourceUuid": ids["data"]}, session)
    created(server, GROUPS, "params", {"name": f"{name}-job", "status": "Running",
                                       "modelServiceType": "FineTune", "type": "Container",
                                       "modelUuid": ids["base"], "resourceUuid": ids["job"]},
            session)
    created(server, RECORDS, "params", {"modelUuid": ids["trained"],
                                        "sourceModelUuid": ids["base"],
                                        "modelServiceInstanceGroupUuid": ids["job"],
                                        "datasetUuid": ids["data"],
                                        "resourceUuid": ids["record"]}, session)
    for key, resource_type, resource, tag in (
            ("gold", "TrainedModelRecordVO", ids["record"], f"{name}-gold"),
            ("model", "ModelVO", ids["trained"], f"{name}-model-tag"),
            ("lent", "ModelVO", ids["lent"], f"{name}-lent-tag")):
        world.user_tags[f"{letter}-{key}"] = created(
            server, USER_TAGS, "params",
            {"resourceType": resource_type, "resourceUuid": resource, "tag": tag}, session)
    world.system_tags[letter] = created(
        server, SYSTEM_TAGS, "params",
        {"resourceType": "ModelVO", "resourceUuid": ids["trained"], "tag": f"{name}::system"})


def lend_model(world: World, lender: str, borrower: str) -> None:
    """Share the lender's `lent` model, let the borrower build two records on it, revoke."""
    server = world.server
    lent = team_uuids(lender)["lent"]
    own = team_uuids(borrower)
    reply = share(server, lent, [world.accounts[borrower]], session=world.sessions[lender])
    assert reply.status == 200, reply.text
    session = world.sessions[borrower]
    created(server, RECORDS, "params", {"modelUuid": lent, "sourceModelUuid": own["base"],
                                        "modelServiceInstanceGroupUuid": own["job"],
                                        "datasetUuid": own["data"],
                                        "resourceUuid": own["on_lent"]}, session)
    created(server, RECORDS, "params", {"modelUuid": own["trained"], "sourceModelUuid": lent,
                                        "modelServiceInstanceGroupUuid": own["job"],
                                        "resourceUuid": own["from_lent"]}, session)
    reply = share(server, lent, [world.accounts[borrower]], session=world.sessions[lender],
                  revoke=True)
    assert reply.status == 200, reply.text


@pytest.fixture(scope="module")
def world(make_module_server) -> World:
    server = make_module_server("--admin-password", ADMIN_PASSWORD)
    server.session = server.login_session()
    built = World(server)

    created(server, CENTERS, "param", {"name": "mc-security", "managementIp": "10.0.0.1",
                                       "managementPort": 8989, "resourceUuid": SHARED_CENTER})
    assert share(server, SHARED_CENTER, to_public=True).status == 200
    created(server, CENTERS, "param", {"name": "mc-private", "managementIp": "10.0.0.3",
                                       "managementPort": 8989, "resourceUuid": PRIVATE_CENTER})
    created(server, MODELS, "param", {"name": "admin-model", "modelCenterUuid": SHARED_CENTER,
                                      "resourceUuid": ADMIN_MODEL})
    created(server, GROUPS, "params", {"name": "admin-job", "status": "Running",
                                       "modelServiceType": "FineTune", "type": "Container",
                                       "resourceUuid": ADMIN_GROUP})
    created(server, RECORDS, "params", {"modelUuid": ADMIN_MODEL,
                                        "modelServiceInstanceGroupUuid": ADMIN_GROUP,
                                        "resourceUuid": ADMIN_RECORD})
    built.user_tags["e"] = created(server, USER_TAGS, "params", {
        "resourceType": "ModelVO", "resourceUuid": ADMIN_MODEL, "tag": "admin-tag"})

    for letter, name in TEAM_NAMES.items():
        params = {"name": f"team-{name}", "password": sha512(f"{name}-pw")}
        built.accounts[letter] = created(server, ACCOUNTS, "params", params)
        built.sessions[letter] = server.login_session(f"team-{name}", f"{name}-pw")
    for letter in TEAM_NAMES:
        build_team(built, letter)
    lend_model(built, "a", "b")
    lend_model(built, "b", "a")
    return built


TEAMS = [("a", ALPHA), ("b", BRAVO)]
TEAM_IDS = ["alpha", "bravo"]


# -- list queries, counts and GET by uuid ----------------------------------------------

@pytest.mark.parametrize("letter, own", TEAMS, ids=TEAM_IDS)
@pytest.mark.parametrize("path", [MODELS, DATASETS, GROUPS, RECORDS])
def test_list_only_own(world, letter, own, path):
    reply = world.server.request("GET", path, session=world.sessions[letter])

    assert uuids(reply) == own_rows(own)[path]


@pytest.mark.parametrize("letter, own", TEAMS, ids=TEAM_IDS)
@pytest.mark.parametrize("path", [MODELS, DATASETS, GROUPS, RECORDS])
def test_count_only_own(world, letter, own, path):
    session = world.sessions[letter]

    counted = world.server.request("GET", f"{path}?count=true", session=session)
    with_rows = world.server.request("GET", f"{path}?replyWithCount=true&limit=1",
                                     session=session)

    assert total(counted) == len(own_rows(own)[path])
    assert total(with_rows) == len(own_rows(own)[path])


def test_admin_sees_everything(world):
    expected = {
        MODELS: sorted([ADMIN_MODEL, *own_rows(ALPHA)[MODELS], *own_rows(BRAVO)[MODELS]]),
        DATASETS: sorted([ALPHA["data"], BRAVO["data"]]),
        GROUPS: sorted([ADMIN_GROUP, ALPHA["job"], BRAVO["job"]]),
        RECORDS: sorted([ADMIN_RECORD, *own_rows(ALPHA)[RECORDS], *own_rows(BRAVO)[RECORDS]]),
        CENTERS: [SHARED_CENTER, PRIVATE_CENTER],
    }
    for path, expected_uuids in expected.items():
        assert uuids(world.server.get(path)) == expected_uuids, path


@pytest.mark.parametrize("letter", ["a", "b"], ids=TEAM_IDS)
def test_public_center_seen(world, letter):
    reply = world.server.request("GET", CENTERS, session=world.sessions[letter])

    assert uuids(reply) == [SHARED_CENTER]


def foreign_rows(letter: str) -> list[tuple[str, str]]:
    """Return (GET path, uuid) of every row that `letter`'s team may not see."""
    other = BRAVO if letter == "a" else ALPHA
    rows = [(MODELS, ADMIN_MODEL), (GROUPS, ADMIN_GROUP), (RECORDS, ADMIN_RECORD),
            (RECORD_SINGULAR, ADMIN_RECORD), (CENTERS, PRIVATE_CENTER)]
    for path, found in own_rows(other).items():
        rows.extend((path, uuid) for uuid in found)
    rows.extend((RECORD_SINGULAR, uuid) for uuid in own_rows(other)[RECORDS])
    return rows


@pytest.mark.parametrize("letter", ["a", "b"], ids=TEAM_IDS)
def test_get_foreign_uuid_empty(world, letter):
    session = world.sessions[letter]
    for path, uuid in foreign_rows(letter):
        foreign = world.server.request("GET", f"{path}/{uuid}", session=session)
        random = world.server.request("GET", f"{path}/{secrets.token_hex(16)}", session=session)
        assert foreign.status == 200, (path, uuid)
        assert foreign.body == EMPTY_QUERY, (path, uuid)
        assert foreign.body == random.body, (path, uuid)
        assert foreign.headers["content-type"] == random.headers["content-type"]


@pytest.mark.parametrize("letter", ["a", "b"], ids=TEAM_IDS)
def test_query_foreign_uuid_empty(world, letter):
    session = world.sessions[letter]
    for path, uuid in foreign_rows(letter):
        if path == RECORD_SINGULAR:
            continue
        reply = world.server.request("GET", f"{path}?q=uuid={uuid}&replyWithCount=true",
                                     session=session)
        assert reply.body == b'{"schema":{},"total":0,"inventories":[]}', (path, uuid)


def test_get_own_uuid_both_paths(world):
    session = world.sessions["b"]
    for path in (RECORDS, RECORD_SINGULAR):
        reply = world.server.request("GET", f"{path}/{BRAVO['record']}", session=session)
        assert uuids(reply) == [BRAVO["record"]], path


def test_in_list_keeps_own_only(world):
    listed = ",".join([ALPHA["record"], BRAVO["record"], ADMIN_RECORD, BRAVO["on_lent"]])

    reply = world.server.request("GET", f"{RECORDS}?q=uuid?={listed}",
                                 session=world.sessions["b"])

    assert uuids(reply) == [BRAVO["record"], BRAVO["on_lent"]]


# -- expansions -----------------------------------------------------------------------

# (path, condition naming the other team's rows). Each team owns a row that the
# condition would select if the other team's rows leaked into the expansion.
HIDDEN_EXPANSIONS = [
    (RECORDS, "model.name={other}-lent"),
    (RECORDS, "sourceModel.name={other}-lent"),
    (RECORDS, "model.__userTag__={other}-lent-tag"),
    (RECORDS, "sourceModel.__userTag__?={other}-lent-tag,none"),
    (RECORDS, "model.name~={other}-%"),
    (MODELS, "trainedModelRecord.modelServiceInstanceGroup.name={other}-job"),
    (MODELS, "trainedModelRecord.uuid={on_lent}"),
    (MODELS, "derivedTrainedModelRecord.uuid={from_lent}"),
    (MODELS, "derivedTrainedModelRecord.modelServiceInstanceGroup.name={other}-job"),
    (MODELS, "trainedModelRecord.sourceModel.name={other}-base"),
    (DATASETS, "trainedModelRecord.model.name={other}-lent"),
    (GROUPS, "trainedModelRecord.model.name={other}-lent"),
    (CENTERS, "model.name={other}-trained"),
    (CENTERS, "dataset.name={other}-data"),
    (CENTERS, "model.trainedModelRecord.uuid={record}"),
]


def hidden_condition(template: str, letter: str) -> str:
    other_letter = "b" if letter == "a" else "a"
    other = team_uuids(other_letter)
    return template.format(other=TEAM_NAMES[other_letter], lent=other["lent"],
                           on_lent=other["on_lent"], from_lent=other["from_lent"],
                           record=other["record"])


@pytest.mark.parametrize("letter", ["a", "b"], ids=TEAM_IDS)
@pytest.mark.parametrize("path, template", HIDDEN_EXPANSIONS,
                         ids=[template for _, template in HIDDEN_EXPANSIONS])
def test_expansion_hides_foreign(world, letter, path, template):
    condition = hidden_condition(template, letter)
    session = world.sessions[letter]

    hidden = world.server.request("GET", f"{path}?{query(condition)}", session=session)
    counted = world.server.request("GET", f"{path}?{query(condition)}&count=true",
                                   session=session)
    as_admin = world.server.get(f"{path}?{query(condition)}")

    assert hidden.body == EMPTY_QUERY
    assert total(counted) == 0
    # The admin sees the rows behind the condition, so the condition is not vacuous.
    assert uuids(as_admin) != []


def test_expansion_same_as_missing(world):
    session = world.sessions["b"]

    foreign = world.server.request("GET", f"{RECORDS}?q=model.name=alpha-trained",
                                   session=session)
    missing = world.server.request("GET", f"{RECORDS}?q=model.name=nobody-trained",
                                   session=session)

    assert foreign.body == missing.body == EMPTY_QUERY


def test_expansion_negative_own_only(world):
    session = world.sessions["b"]

    reply = world.server.request("GET", f"{RECORDS}?q=model.name!=zzz", session=session)
    chained = world.server.request("GET", f"{RECORDS}?q=model.modelCenter.name=mc-security",
                                   session=session)

    # bravo's record on alpha's lent model names a model bravo can no longer see.
    assert uuids(reply) == [BRAVO["record"], BRAVO["from_lent"]]
    assert uuids(chained) == [BRAVO["record"], BRAVO["from_lent"]]


def test_admin_follows_lent_model(world):
    reply = world.server.get(f"{RECORDS}?q=model.name=alpha-lent")

    assert uuids(reply) == [BRAVO["on_lent"]]


# -- tags and accounts -----------------------------------------------------------------

@pytest.mark.parametrize("letter", ["a", "b"], ids=TEAM_IDS)
def test_user_tags_only_own(world, letter):
    reply = world.server.request("GET", f"{USER_TAGS}?replyWithCount=true",
                                 session=world.sessions[letter])

    expected = sorted(uuid for key, uuid in world.user_tags.items() if key.startswith(letter))
    assert uuids(reply) == expected
    assert total(reply) == 3


@pytest.mark.parametrize("letter", ["a", "b"], ids=TEAM_IDS)
def test_system_tags_only_own(world, letter):
    reply = world.server.request("GET", SYSTEM_TAGS, session=world.sessions[letter])

    assert uuids(reply) == [world.system_tags[letter]]


FOREIGN_TAG_QUERIES = [
    (USER_TAGS, "tag={other}-gold"),
    (USER_TAGS, "resourceUuid={record}"),
    (USER_TAGS, "uuid={tag}"),
    (SYSTEM_TAGS, "tag={other}::system"),
    (RECORDS, "__userTag__={other}-gold"),
    (MODELS, "__systemTag__={other}::system"),
    (MODELS, "__tagUuid__={tag}"),
    (MODELS, "__userTag__~={other}%"),
]


@pytest.mark.parametrize("path, template", FOREIGN_TAG_QUERIES,
                         ids=[template for _, template in FOREIGN_TAG_QUERIES])
def test_tag_query_hides_foreign(world, path, template):
    condition = template.format(other="alpha", record=ALPHA["record"],
                                tag=world.user_tags["a-model"])

    reply = world.server.request("GET", f"{path}?{query(condition)}",
                                 session=world.sessions["b"])
    as_admin = world.server.get(f"{path}?{query(condition)}")

    assert reply.body == EMPTY_QUERY
    assert uuids(as_admin) != []


def test_get_foreign_tag_empty(world):
    session = world.sessions["b"]
    for path, uuid in ((USER_TAGS, world.user_tags["a-gold"]),
                       (USER_TAGS, world.user_tags["e"]),
                       (SYSTEM_TAGS, world.system_tags["a"])):
        assert world.server.request("GET", f"{path}/{uuid}", session=session).body == EMPTY_QUERY


def test_negative_tag_own_only(world):
    reply = world.server.request("GET", f"{MODELS}?q=__userTag__!=zzz",
                                 session=world.sessions["b"])

    assert uuids(reply) == own_rows(BRAVO)[MODELS]


def test_accounts_hidden(world):
    session = world.sessions["b"]
    alpha = world.accounts["a"]

    listed = world.server.request("GET", ACCOUNTS, session=session)
    got = world.server.request("GET", f"{ACCOUNTS}/{alpha}", session=session)
    random = world.server.request("GET", f"{ACCOUNTS}/{secrets.token_hex(16)}", session=session)
    by_name = world.server.request("GET", f"{ACCOUNTS}?q=name=team-alpha", session=session)

    assert uuids(listed) == [world.accounts["b"]]
    assert got.body == random.body == EMPTY_QUERY
    assert by_name.body == EMPTY_QUERY


# -- writes on foreign rows --------------------------------------------------------------

# (name, method, path, body) with {uuid} for the target. Every attempt must fail
# exactly as it fails for a random uuid, and change nothing.
FOREIGN_WRITES = [
    ("update-model", "PUT", MODELS + "/{uuid}", {"updateModel": {"description": "x"}}),
    ("update-dataset", "PUT", DATASETS + "/{uuid}", {"updateDataset": {"description": "x"}}),
    ("update-group", "PUT", GROUP_UPDATES + "/{uuid}",
     {"updateModelServiceInstanceGroup": {"description": "x"}}),
    ("delete-model", "DELETE", MODELS + "/{uuid}", None),
    ("delete-dataset", "DELETE", DATASETS + "/{uuid}", None),
    ("delete-group", "DELETE", GROUPS + "/{uuid}", None),
    ("delete-record", "DELETE", RECORDS + "/{uuid}", None),
    ("record-model", "POST", RECORDS,
     {"params": {"modelUuid": "{uuid}", "modelServiceInstanceGroupUuid": BRAVO["job"]}}),
    ("record-source", "POST", RECORDS,
     {"params": {"modelUuid": BRAVO["trained"], "sourceModelUuid": "{uuid}",
                 "modelServiceInstanceGroupUuid": BRAVO["job"]}}),
    ("record-group", "POST", RECORDS,
     {"params": {"modelUuid": BRAVO["trained"], "modelServiceInstanceGroupUuid": "{uuid}"}}),
    ("record-dataset", "POST", RECORDS,
     {"params": {"modelUuid": BRAVO["trained"], "modelServiceInstanceGroupUuid": BRAVO["job"],
                 "datasetUuid": "{uuid}"}}),
    ("group-model", "POST", GROUPS,
     {"params": {"status": "Running", "modelServiceType": "FineTune", "type": "Container",
                 "modelUuid": "{uuid}"}}),
    ("group-update-model", "PUT", f"{GROUP_UPDATES}/{BRAVO['job']}",
     {"updateModelServiceInstanceGroup": {"modelUuid": "{uuid}"}}),
    ("model-center", "POST", MODELS, {"param": {"name": "x", "modelCenterUuid": "{uuid}"}}),
    ("dataset-center", "POST", DATASETS, {"params": {"name": "x", "modelCenterUuid": "{uuid}"}}),
    ("tag-model", "POST", USER_TAGS,
     {"params": {"resourceType": "ModelVO", "resourceUuid": "{uuid}", "tag": "mine"}}),
    ("tag-record", "POST", USER_TAGS,
     {"params": {"resourceType": "TrainedModelRecordVO", "resourceUuid": "{uuid}",
                 "tag": "mine"}}),
    ("system-tag", "POST", SYSTEM_TAGS,
     {"params": {"resourceType": "ModelVO", "resourceUuid": "{uuid}", "tag": "mine"}}),
    ("share", "PUT", SHARING,
     {"shareResource": {"resourceUuids": ["{uuid}"], "accountUuids": ["{bravo}"]}}),
    ("revoke", "PUT", SHARING,
     {"revokeResourceSharing": {"resourceUuids": ["{uuid}"], "accountUuids": ["{bravo}"]}}),
    ("delete-tag", "DELETE", TAGS + "/{uuid}", None),
    ("update-account", "PUT", ACCOUNTS + "/{uuid}", {"updateAccount": {"description": "x"}}),
    ("delete-account", "DELETE", ACCOUNTS + "/{uuid}", None),
]

# Foreign targets of each write, by kind of row.
FOREIGN_TARGETS = {
    "update-model": [ALPHA["trained"], ALPHA["lent"], ADMIN_MODEL],
    "update-dataset": [ALPHA["data"]],
    "update-group": [ALPHA["job"], ADMIN_GROUP],
    "delete-model": [ALPHA["trained"], ALPHA["lent"], ADMIN_MODEL],
    "delete-dataset": [ALPHA["data"]],
    "delete-group": [ALPHA["job"], ADMIN_GROUP],
    "delete-record": [ALPHA["record"], ADMIN_RECORD],
    "record-model": [ALPHA["trained"], ALPHA["lent"], ADMIN_MODEL],
    "record-source": [ALPHA["base"], ALPHA["lent"]],
    "record-group": [ALPHA["job"], ADMIN_GROUP],
    "record-dataset": [ALPHA["data"]],
    "group-model": [ALPHA["base"], ADMIN_MODEL],
    "group-update-model": [ALPHA["base"], ALPHA["lent"], ADMIN_MODEL],
    "model-center": [PRIVATE_CENTER],
    "dataset-center": [PRIVATE_CENTER],
    "tag-model": [ALPHA["trained"], ALPHA["lent"], ADMIN_MODEL],
    "tag-record": [ALPHA["record"], ADMIN_RECORD],
    "system-tag": [ALPHA["trained"], ADMIN_MODEL],
    "share": [ALPHA["trained"], ALPHA["record"], ADMIN_MODEL],
    "revoke": [ALPHA["trained"], ADMIN_MODEL],
    "delete-tag": ["a-gold", "a-model", "e", "system-a"],
    "update-account": ["account-a", ADMIN_UUID],
    "delete-account": ["account-a"],
}


def resolve_target(world: World, target: str) -> str:
    if target.startswith("account-"):
        return world.accounts[target[-1]]
    if target.startswith("system-"):
        return world.system_tags[target[-1]]
    return world.user_tags.get(target, target)


def fill(template: object, uuid: str, bravo: str) -> object:
    if template is None:
        return None
    text = json.dumps(template).replace("{uuid}", uuid).replace("{bravo}", bravo)
    return json.loads(text)


@pytest.mark.parametrize("name, method, path, body", FOREIGN_WRITES,
                         ids=[write[0] for write in FOREIGN_WRITES])
def test_foreign_write_like_missing(world, name, method, path, body):
    server, session = world.server, world.sessions["b"]
    bravo = world.accounts["b"]
    for target in FOREIGN_TARGETS[name]:
        uuid = resolve_target(world, target)
        random_uuid = secrets.token_hex(16)
        before = snapshot(server)

        foreign = call(server, method, path.format(uuid=uuid), fill(body, uuid, bravo),
                       session=session)
        random = call(server, method, path.format(uuid=random_uuid),
                      fill(body, random_uuid, bravo), session=session)

        assert snapshot(server) == before, target
        assert normalized(foreign, uuid) == normalized(random, random_uuid), target


@pytest.mark.parametrize("path", [MODELS, DATASETS, GROUP_UPDATES])
def test_foreign_update_not_found(world, path):
    key = {MODELS: "updateModel", DATASETS: "updateDataset",
           GROUP_UPDATES: "updateModelServiceInstanceGroup"}[path]
    target = {MODELS: ALPHA["trained"], DATASETS: ALPHA["data"], GROUP_UPDATES: ALPHA["job"]}[path]

    reply = call(world.server, "PUT", f"{path}/{target}", {key: {"description": "x"}},
                 session=world.sessions["b"])

    assert reply.status == 503
    assert reply.json()["error"] == {"code": "SYS.1007",
                                     "description": "One or more API argument is invalid",
                                     "details": f"resource[uuid:{target}] not found"}


@pytest.mark.parametrize("path, target", [(MODELS, ALPHA["trained"]), (RECORDS, ALPHA["record"]),
                                          (TAGS, None)])
def test_foreign_delete_empty_reply(world, path, target):
    uuid = target or world.user_tags["a-gold"]

    reply = call(world.server, "DELETE", f"{path}/{uuid}", session=world.sessions["b"])

    assert reply.status == 200
    assert reply.body == b"{}"


def test_foreign_record_reference_text(world):
    body = {"params": {"modelUuid": ALPHA["trained"],
                       "modelServiceInstanceGroupUuid": BRAVO["job"]}}

    reply = call(world.server, "POST", RECORDS, body, session=world.sessions["b"])

    assert reply.status == 503
    error = reply.json()["error"]
    assert error["code"] == "SYS.1007"
    assert "params.modelUuid" in error["details"]
    assert ALPHA["trained"] in error["details"]


@pytest.mark.parametrize("foreign, own", [
    (ALPHA["trained"], BRAVO["data"]),
    (ALPHA["data"], BRAVO["job"]),
    (ADMIN_RECORD, BRAVO["record"]),
], ids=["alpha-model", "alpha-dataset", "admin-record"])
def test_resource_uuid_in_use(world, foreign, own):
    # A uuid cannot be reused, so creating with a used one must fail. The reply
    # is the same whichever account owns the row with that uuid.
    server, session = world.server, world.sessions["b"]
    params = {"name": "reused", "modelCenterUuid": SHARED_CENTER}
    before = snapshot(server)

    foreign_reply = call(server, "POST", MODELS, {"param": {**params, "resourceUuid": foreign}},
                 session=session)
    own_reply = call(server, "POST", MODELS, {"param": {**params, "resourceUuid": own}},
                     session=session)

    assert snapshot(server) == before
    assert foreign_reply.status == 503
    assert foreign_reply.json()["error"]["code"] == "SYS.1007"
    assert normalized(foreign_reply, foreign) == normalized(own_reply, own)


# -- sharing ---------------------------------------------------------------------------

class Sharing:
    """The sharing server: an owner, a receiver and a bystander, each with a group."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.accounts: dict[str, str] = {}
        self.sessions: dict[str, str] = {}
        self.groups: dict[str, str] = {}
        self.models = 0

    def new_model(self, role: str | None) -> tuple[str, str]:
        """Create a model as `role` (None for the admin) and return (uuid, name)."""
        self.models += 1
        name = f"shared-model-{self.models}"
        session = None if role is None else self.sessions[role]
        uuid = created(self.server, MODELS, "param",
                       {"name": name, "modelCenterUuid": SHARED_CENTER}, session)
        return uuid, name

    def get(self, role: str, path: str) -> Reply:
        return self.server.request("GET", path, session=self.sessions[role])


@pytest.fixture(scope="module")
def sharing(make_module_server) -> Sharing:
    server = make_module_server("--admin-password", ADMIN_PASSWORD)
    server.session = server.login_session()
    built = Sharing(server)
    created(server, CENTERS, "param", {"name": "mc-sharing", "managementIp": "10.0.0.2",
                                       "managementPort": 8989, "resourceUuid": SHARED_CENTER})
    assert share(server, SHARED_CENTER, to_public=True).status == 200
    for role in ("owner", "receiver", "bystander"):
        built.accounts[role] = created(server, ACCOUNTS, "params",
                                      {"name": role, "password": sha512(f"{role}-pw")})
        built.sessions[role] = server.login_session(role, f"{role}-pw")
        built.groups[role] = created(server, GROUPS, "params", {
            "name": f"{role}-job", "status": "Running", "modelServiceType": "FineTune",
            "type": "Container"}, built.sessions[role])
    return built


def sees(sharing: Sharing, role: str, uuid: str, name: str) -> dict[str, bool]:
    """Return whether `role` finds the model through list, GET, count and name query."""
    return {
        "list": uuid in uuids(sharing.get(role, MODELS)),
        "get": uuids(sharing.get(role, f"{MODELS}/{uuid}")) == [uuid],
        "count": total(sharing.get(role, f"{MODELS}?count=true&q=name={name}")) == 1,
        "query": uuids(sharing.get(role, f"{MODELS}?q=name={name}")) == [uuid],
    }


ALL_SEEN = {"list": True, "get": True, "count": True, "query": True}
NONE_SEEN = {"list": False, "get": False, "count": False, "query": False}


def test_share_reaches_receiver(sharing):
    uuid, name = sharing.new_model("owner")
    assert sees(sharing, "receiver", uuid, name) == NONE_SEEN

    reply = share(sharing.server, uuid, [sharing.accounts["receiver"]],
                  session=sharing.sessions["owner"])

    assert reply.status == 200, reply.text
    assert reply.body == b"{}"
    assert sees(sharing, "receiver", uuid, name) == ALL_SEEN
    assert sees(sharing, "bystander", uuid, name) == NONE_SEEN
    assert sees(sharing, "owner", uuid, name) == ALL_SEEN


def test_shared_model_in_record(sharing):
    uuid, name = sharing.new_model("owner")
    receiver = sharing.accounts["receiver"]
    assert share(sharing.server, uuid, [receiver], session=sharing.sessions["owner"]).status == 200

    record = created(sharing.server, RECORDS, "params",
                     {"modelUuid": uuid, "modelServiceInstanceGroupUuid":
                      sharing.groups["receiver"]}, sharing.sessions["receiver"])

    by_model = sharing.get("receiver", f"{RECORDS}?q=model.name={name}")
    assert uuids(by_model) == [record]
    assert sharing.get("owner", f"{RECORDS}?q=model.name={name}").body == EMPTY_QUERY


def test_revoke_hides_at_once(sharing):
    uuid, name = sharing.new_model("owner")
    receiver = sharing.accounts["receiver"]
    assert share(sharing.server, uuid, [receiver], session=sharing.sessions["owner"]).status == 200
    record = created(sharing.server, RECORDS, "params",
                     {"modelUuid": uuid, "modelServiceInstanceGroupUuid":
                      sharing.groups["receiver"]}, sharing.sessions["receiver"])
    assert sees(sharing, "receiver", uuid, name) == ALL_SEEN

    reply = share(sharing.server, uuid, [receiver], session=sharing.sessions["owner"],
                  revoke=True)

    assert reply.status == 200, reply.text
    assert sees(sharing, "receiver", uuid, name) == NONE_SEEN
    assert sharing.get("receiver", f"{RECORDS}?q=model.name={name}").body == EMPTY_QUERY
    assert uuids(sharing.get("receiver", f"{RECORDS}/{record}")) == [record]
    assert sees(sharing, "owner", uuid, name) == ALL_SEEN


def test_admin_shares_public(sharing):
    uuid, name = sharing.new_model(None)
    for role in ("owner", "receiver", "bystander"):
        assert sees(sharing, role, uuid, name) == NONE_SEEN, role

    shared = share(sharing.server, uuid, to_public=True)

    assert shared.status == 200, shared.text
    for role in ("owner", "receiver", "bystander"):
        assert sees(sharing, role, uuid, name) == ALL_SEEN, role

    revoked = share(sharing.server, uuid, to_public=True, revoke=True)

    assert revoked.status == 200, revoked.text
    for role in ("owner", "receiver", "bystander"):
        assert sees(sharing, role, uuid, name) == NONE_SEEN, role


def test_admin_shares_owned_model(sharing):
    uuid, name = sharing.new_model("owner")

    reply = share(sharing.server, uuid, [sharing.accounts["receiver"]])

    assert reply.status == 200, reply.text
    assert sees(sharing, "receiver", uuid, name) == ALL_SEEN
    assert sees(sharing, "bystander", uuid, name) == NONE_SEEN


@pytest.mark.parametrize("revoke", [False, True], ids=["share", "revoke"])
def test_public_share_by_normal(sharing, revoke):
    uuid, name = sharing.new_model("owner")
    before = snapshot(sharing.server)

    reply = share(sharing.server, uuid, to_public=True, session=sharing.sessions["owner"],
                  revoke=revoke)

    assert reply.status == 503
    error = reply.json()["error"]
    assert error["code"] == "ID.1002"
    assert error["description"] == "The user doesn't have permission to perform the operation"
    assert snapshot(sharing.server) == before
    assert sees(sharing, "bystander", uuid, name) == NONE_SEEN


def shared_write(sharing: Sharing, api: str, uuid: str, tag_uuid: str) -> Reply:
    """Send one write of a shared-but-not-owned model as the receiver."""
    session = sharing.sessions["receiver"]
    server = sharing.server
    bystander = sharing.accounts["bystander"]
    receiver = sharing.accounts["receiver"]
    if api == "UpdateModel":
        return call(server, "PUT", f"{MODELS}/{uuid}", {"updateModel": {"name": "taken"}},
                    session=session)
    if api == "DeleteModel":
        return call(server, "DELETE", f"{MODELS}/{uuid}", session=session)
    if api == "CreateUserTag":
        return call(server, "POST", USER_TAGS, {"params": {
            "resourceType": "ModelVO", "resourceUuid": uuid, "tag": "mine"}}, session=session)
    if api == "ShareResource":
        return share(server, uuid, [bystander], session=session)
    if api == "RevokeResourceSharing":
        return share(server, uuid, [receiver], session=session, revoke=True)
    return call(server, "DELETE", f"{TAGS}/{tag_uuid}", session=session)


@pytest.mark.parametrize("api", ["UpdateModel", "DeleteModel", "CreateUserTag", "ShareResource",
                                 "RevokeResourceSharing", "DeleteTag"])
def test_shared_write_denied(sharing, api):
    uuid, name = sharing.new_model("owner")
    tag_uuid = created(sharing.server, USER_TAGS, "params",
                       {"resourceType": "ModelVO", "resourceUuid": uuid, "tag": "owners"},
                       sharing.sessions["owner"])
    receiver = sharing.accounts["receiver"]
    assert share(sharing.server, uuid, [receiver], session=sharing.sessions["owner"]).status == 200
    before = snapshot(sharing.server)

    reply = shared_write(sharing, api, uuid, tag_uuid)

    assert reply.status == 503, reply.text
    error = reply.json()["error"]
    assert error["code"] == "SYS.1006"
    assert error["description"] == "An operation failed"
    assert error["details"].startswith(f"operation[API:{api}] is denied"), error
    assert snapshot(sharing.server) == before
    assert sees(sharing, "receiver", uuid, name) == ALL_SEEN


def test_share_unknown_account(sharing):
    uuid, _ = sharing.new_model("owner")
    missing = secrets.token_hex(16)
    before = snapshot(sharing.server)

    reply = share(sharing.server, uuid, [missing], session=sharing.sessions["owner"])

    assert reply.status == 503
    assert reply.json()["error"]["code"] == "SYS.1007"
    assert missing in reply.json()["error"]["details"]
    assert snapshot(sharing.server) == before


# -- sessions ----------------------------------------------------------------------------

def test_session_acts_as_its_account(sharing):
    server = sharing.server
    logins = []
    for role in ("owner", "receiver", "owner", "bystander", "receiver"):
        session = server.login_session(role, f"{role}-pw")
        logins.append((role, session))

    for role, session in logins:
        account = sharing.accounts[role]
        reply = server.request("GET", ACCOUNTS, session=session)
        assert uuids(reply) == [account], role
        own_group = server.request("GET", f"{GROUPS}", session=session)
        assert uuids(own_group) == [sharing.groups[role]], role


def test_session_creates_for_its_account(sharing):
    uuid, name = sharing.new_model("receiver")

    engine = database.create_engine(sharing.server.database_url)
    try:
        with engine.connect() as conn:
            owner = conn.execute(sa.text(
                'SELECT "accountUuid" FROM "AccountResourceRefVO" WHERE "resourceUuid" = :u'),
                {"u": uuid}).scalar()
    finally:
        engine.dispose()

    assert owner == sharing.accounts["receiver"]
    assert sees(sharing, "receiver", uuid, name) == ALL_SEEN
    assert sees(sharing, "owner", uuid, name) == NONE_SEEN


# -- login timing --------------------------------------------------------------------------

def timed_login(server: Server, name: str, password: str) -> tuple[float, bytes]:
    started = time.perf_counter()
    reply = server.login(name, password)
    return time.perf_counter() - started, reply.body


def test_login_timing_hides_names(make_server):
    """A wrong name must cost what a wrong password costs, so names cannot be probed."""
    server = make_server("--admin-password", ADMIN_PASSWORD)
    server.session = server.login_session()
    created(server, ACCOUNTS, "params", {"name": "timing-user", "password": sha512("right")})
    attempts = {"name": ("no-such-user", "right"), "password": ("timing-user", "wrong")}

    for _ in range(20):
        for name, password in attempts.values():
            timed_login(server, name, password)

    durations: dict[str, list[float]] = {"name": [], "password": []}
    for index in range(200):
        # Alternate which kind goes first, so drift over time hits both alike.
        order = ("name", "password") if index % 2 == 0 else ("password", "name")
        for kind in order:
            elapsed, body = timed_login(server, *attempts[kind])
            assert body == WRONG_CREDENTIALS, kind
            durations[kind].append(elapsed)

    wrong_name = statistics.median(durations["name"])
    wrong_password = statistics.median(durations["password"])
    assert max(wrong_name, wrong_password) <= 1.2 * min(wrong_name, wrong_password), (
        f"median login time: wrong name {wrong_name * 1000:.1f} ms, "
        f"wrong password {wrong_password * 1000:.1f} ms")
