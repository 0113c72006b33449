"""CreateAccount, QueryAccount, UpdateAccount, DeleteAccount and login of normal accounts.

All requests go to one real server per module. Each test creates the
accounts it needs under names of its own, so tests do not depend on order.
"""

from __future__ import annotations

import itertools
import json
import re

import pytest
import sqlalchemy as sa
from conftest import ADMIN_PASSWORD, SESSION_EXPIRED_BODY, Reply, Server, sha512

from aios_records.storage import database

ADMIN_UUID = "36c27e8ff05c4780bf6d2fa65700f22e"
ACCOUNTS = "/v1/accounts"
MODELS = "/v1/ai/models"
DATASETS = "/v1/ai/datasets"
GROUPS = "/v1/ai/model-services/instances/groups"
RECORDS = "/v1/ai/trained-model/records"
CENTERS = "/v1/ai/model-centers"
SHARING = "/v1/accounts/resources/actions"
USER_TAGS = "/v1/user-tags"

ACCOUNT_CLASS = "org.zstack.header.identity.AccountInventory"
UUID = re.compile(r"[0-9a-f]{32}")
NO_PERMISSION = "The user doesn't have permission to perform the operation"
WRONG_CREDENTIALS = (
    b'{"error":{"code":"ID.1000","description":"Unable to authenticate a user",'
    b'"details":"wrong account name or password"}}'
)
EMPTY_QUERY = b'{"schema":{},"inventories":[]}'
CENTER = "c" + "0" * 30 + "1"
MISSING = "9" * 32

_names = itertools.count(1)


# -- helpers ----------------------------------------------------------------------

def call(server: Server, method: str, path: str, body: object = None,
         session: str | None = None) -> Reply:
    """Send a request, as the admin unless `session` names another session."""
    data = None if body is None else json.dumps(body)
    return server.request(method, path, body=data, session=session)


def error_of(reply: Reply, code: str) -> dict:
    """Check that `reply` is a 503 with error `code` and return the error object."""
    assert reply.status == 503, reply.text
    error = reply.json()["error"]
    assert error["code"] == code, error
    return error


def new_name(stem: str) -> str:
    return f"{stem}-{next(_names)}"


def create_account(server: Server, name: str, password: str, **extra) -> dict:
    reply = call(server, "POST", ACCOUNTS,
                 {"params": {"name": name, "password": sha512(password), **extra}})
    assert reply.status == 200, reply.text
    return reply.json()["inventory"]


def new_account(server: Server, stem: str = "team") -> tuple[dict, str, str]:
    """Create a normal account, log it in and return (inventory, password, session)."""
    name = new_name(stem)
    password = f"{name}-secret"
    account = create_account(server, name, password)
    return account, password, server.login_session(name, password)


def inventories(reply: Reply) -> list[dict]:
    assert reply.status == 200, reply.text
    return reply.json()["inventories"]


def uuids(reply: Reply) -> list[str]:
    return [row["uuid"] for row in inventories(reply)]


def read_rows(server: Server, sql: str, **params) -> list[dict]:
    engine = database.create_engine(server.database_url)
    try:
        with engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(sa.text(sql), params)]
    finally:
        engine.dispose()


def account_rows(server: Server) -> list[dict]:
    return read_rows(server, 'SELECT * FROM "AccountVO" ORDER BY uuid')


# -- fixture ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def server(make_module_server) -> Server:
    """A server whose admin added one model center, shared with every account."""
    started = make_module_server("--admin-password", ADMIN_PASSWORD)
    started.session = started.login_session()
    center = call(started, "POST", CENTERS, {"param": {
        "name": "mc-accounts", "managementIp": "10.0.0.1", "managementPort": 8989,
        "resourceUuid": CENTER}})
    assert center.status == 200, center.text
    shared = call(started, "PUT", SHARING,
                  {"shareResource": {"resourceUuids": [CENTER], "toPublic": True}})
    assert shared.status == 200, shared.text
    return started


# -- CreateAccount ------------------------------------------------------------------

def test_create_account_reply(server):
    name = new_name("create")
    reply = call(server, "POST", ACCOUNTS,
                 {"params": {"name": name, "password": sha512("pw"), "description": "team one"}})

    assert reply.status == 200, reply.text
    assert list(reply.json()) == ["inventory"]
    inventory = reply.json()["inventory"]
    assert list(inventory) == ["uuid", "name", "type", "description", "createDate",
                               "lastOpDate"]
    assert UUID.fullmatch(inventory["uuid"])
    assert inventory["name"] == name
    assert inventory["type"] == "Normal"
    assert inventory["description"] == "team one"
    assert inventory["lastOpDate"] == inventory["createDate"]


def test_create_account_queryable(server):
    account = create_account(server, new_name("queryable"), "pw")

    listed = inventories(server.get(f"{ACCOUNTS}/{account['uuid']}"))

    assert listed == [account]


def test_create_account_type_normal(server):
    account = create_account(server, new_name("typed"), "pw", type="Normal")

    assert account["type"] == "Normal"


def test_create_account_password_hashed(server):
    name = new_name("hashed")
    create_account(server, name, "pw")

    [row] = read_rows(server, 'SELECT password FROM "AccountVO" WHERE name = :name', name=name)

    assert row["password"].startswith("scrypt$")
    assert sha512("pw") not in row["password"]
    assert sha512("pw").upper() not in row["password"]


def test_create_account_resource_uuid(server):
    expected_uuid = "a" * 31 + "1"

    account = create_account(server, new_name("fixed"), "pw", resourceUuid=expected_uuid)

    assert account["uuid"] == expected_uuid


@pytest.mark.parametrize("name", ["fresh", "admin", "own", "bad"])
def test_create_account_by_normal(server, name):
    account, _, session = new_account(server)
    # The permission check runs first, so the reply reveals nothing about the name.
    params = {"fresh": {"name": new_name("forbidden"), "password": sha512("pw")},
              "admin": {"name": "admin", "password": sha512("pw")},
              "own": {"name": account["name"], "password": sha512("pw")},
              "bad": {"name": 5}}[name]
    before = account_rows(server)

    reply = call(server, "POST", ACCOUNTS, {"params": params}, session=session)

    assert reply.status == 503
    assert reply.json() == {"error": {
        "code": "ID.1002", "description": NO_PERMISSION,
        "details": "operation[API:CreateAccount] is allowed only for the admin account; "
                   "ask the admin to perform it"}}
    assert account_rows(server) == before


@pytest.mark.parametrize("spelling", [str.lower, str.upper, str.title])
def test_create_account_duplicate_name(server, spelling):
    name = new_name("dup-name")
    create_account(server, name, "pw")
    before = account_rows(server)

    reply = call(server, "POST", ACCOUNTS,
                 {"params": {"name": spelling(name), "password": sha512("other")}})

    error = error_of(reply, "SYS.1007")
    assert spelling(name) in error["details"]
    assert account_rows(server) == before


@pytest.mark.parametrize("name", ["admin", "ADMIN", "Admin"])
def test_create_account_admin_name(server, name):
    before = account_rows(server)

    reply = call(server, "POST", ACCOUNTS, {"params": {"name": name, "password": sha512("pw")}})

    error = error_of(reply, "SYS.1007")
    assert name in error["details"]
    assert account_rows(server) == before


def test_create_account_admin_uuid(server):
    before = account_rows(server)

    reply = call(server, "POST", ACCOUNTS, {"params": {
        "name": new_name("impostor"), "password": sha512("pw"), "resourceUuid": ADMIN_UUID}})

    error = error_of(reply, "SYS.1007")
    assert ADMIN_UUID in error["details"]
    assert account_rows(server) == before
    assert server.login("admin", ADMIN_PASSWORD).status == 200


def test_create_account_non_ascii_case(server):
    # Names compare with ASCII-only case folding, so Ä and ä are different letters.
    lower = create_account(server, new_name("ärger"), "pw")

    upper = create_account(server, lower["name"].replace("ä", "Ä"), "pw")

    assert upper["uuid"] != lower["uuid"]


BAD_BODIES = [
    ("missing-name", {"params": {"password": sha512("pw")}}, "params.name"),
    ("missing-password", {"params": {"name": "NAME"}}, "params.password"),
    ("null-name", {"params": {"name": None, "password": sha512("pw")}}, "params.name"),
    ("name-number", {"params": {"name": 7, "password": sha512("pw")}}, "params.name"),
    ("password-number", {"params": {"name": "NAME", "password": 7}}, "params.password"),
    ("password-list", {"params": {"name": "NAME", "password": ["x"]}}, "params.password"),
    ("description-number",
     {"params": {"name": "NAME", "password": sha512("pw"), "description": 1}},
     "params.description"),
    ("name-too-long", {"params": {"name": "n" * 256, "password": sha512("pw")}}, "params.name"),
    ("empty-name", {"params": {"name": " ", "password": sha512("pw")}}, "params.name"),
    ("params-text", {"params": "NAME"}, "params"),
    ("no-params", {"name": "NAME", "password": sha512("pw")}, "params"),
    ("type-number", {"params": {"name": "NAME", "password": sha512("pw"), "type": 1}},
     "params.type"),
]


@pytest.mark.parametrize("case, body, field", BAD_BODIES, ids=[case[0] for case in BAD_BODIES])
def test_create_account_bad_body(server, case, body, field):
    name = new_name("bad-body")
    body = json.loads(json.dumps(body).replace('"NAME"', json.dumps(name)))
    before = account_rows(server)

    reply = call(server, "POST", ACCOUNTS, body)

    error = error_of(reply, "SYS.1007")
    assert f"field[{field}]" in error["details"]
    assert account_rows(server) == before


def test_create_account_body_not_object(server):
    before = account_rows(server)

    reply = server.request("POST", ACCOUNTS, body="[1, 2]")

    error_of(reply, "SYS.1007")
    assert account_rows(server) == before


@pytest.mark.parametrize("account_type", ["SystemAdmin", "Admin", "Root"])
def test_create_account_type_rejected(server, account_type):
    name = new_name("typed")
    before = account_rows(server)

    reply = call(server, "POST", ACCOUNTS,
                 {"params": {"name": name, "password": sha512("pw"), "type": account_type}})

    error = error_of(reply, "SYS.1007")
    assert "params.type" in error["details"]
    assert account_type in error["details"]
    assert account_rows(server) == before


# -- login --------------------------------------------------------------------------

def test_normal_account_login(server):
    name = new_name("login")
    account = create_account(server, name, "s3cret")

    reply = server.login(name, "s3cret")

    assert reply.status == 200, reply.text
    session = reply.json()["inventory"]
    assert UUID.fullmatch(session["uuid"])
    assert session["accountUuid"] == account["uuid"]
    assert session["userUuid"] == account["uuid"]


def test_normal_account_wrong_password(server):
    name = new_name("login")
    create_account(server, name, "s3cret")

    reply = server.login(name, "S3cret")

    assert reply.status == 503
    assert reply.body == WRONG_CREDENTIALS


def test_normal_session_works(server):
    account, _, session = new_account(server)

    reply = server.request("GET", ACCOUNTS, session=session)

    assert uuids(reply) == [account["uuid"]]


# -- QueryAccount -------------------------------------------------------------------

def test_admin_sees_all_accounts(server):
    first = create_account(server, new_name("seen"), "pw")
    second = create_account(server, new_name("seen"), "pw")
    stored = [row["uuid"] for row in account_rows(server)]

    listed = uuids(server.get(ACCOUNTS))

    assert listed == stored
    assert ADMIN_UUID in listed
    assert first["uuid"] in listed
    assert second["uuid"] in listed


def test_admin_gets_any_account(server):
    account = create_account(server, new_name("got"), "pw")

    assert uuids(server.get(f"{ACCOUNTS}/{account['uuid']}")) == [account["uuid"]]
    assert uuids(server.get(f"{ACCOUNTS}/{ADMIN_UUID}")) == [ADMIN_UUID]


def test_admin_account_inventory(server):
    [admin] = inventories(server.get(f"{ACCOUNTS}/{ADMIN_UUID}"))

    assert admin["name"] == "admin"
    assert admin["type"] == "SystemAdmin"
    assert "password" not in admin


def test_normal_sees_only_itself(server):
    account, _, session = new_account(server)
    other = create_account(server, new_name("other"), "pw")

    listed = server.request("GET", ACCOUNTS, session=session)
    counted = server.request("GET", f"{ACCOUNTS}?count=true", session=session)
    by_name = server.request("GET", f"{ACCOUNTS}?q=name={other['name']}", session=session)

    assert uuids(listed) == [account["uuid"]]
    assert listed.json()["schema"] == {"inventories[0]": ACCOUNT_CLASS}
    assert counted.json() == {"schema": {}, "total": 1}
    assert by_name.body == EMPTY_QUERY


def test_normal_gets_only_itself(server):
    account, _, session = new_account(server)
    other = create_account(server, new_name("other"), "pw")

    own = server.request("GET", f"{ACCOUNTS}/{account['uuid']}", session=session)
    foreign = server.request("GET", f"{ACCOUNTS}/{other['uuid']}", session=session)
    admin = server.request("GET", f"{ACCOUNTS}/{ADMIN_UUID}", session=session)
    missing = server.request("GET", f"{ACCOUNTS}/{MISSING}", session=session)

    assert uuids(own) == [account["uuid"]]
    assert foreign.body == EMPTY_QUERY
    assert admin.body == EMPTY_QUERY
    assert missing.body == EMPTY_QUERY


# -- UpdateAccount ------------------------------------------------------------------

def test_update_own_password(server):
    account, old_password, session = new_account(server)

    reply = call(server, "PUT", f"{ACCOUNTS}/{account['uuid']}",
                 {"updateAccount": {"password": sha512("brand-new")}}, session=session)

    assert reply.status == 200, reply.text
    assert reply.json()["inventory"]["uuid"] == account["uuid"]
    assert "password" not in reply.json()["inventory"]
    assert server.login(account["name"], "brand-new").status == 200
    old_login = server.login(account["name"], old_password)
    assert old_login.status == 503
    assert old_login.body == WRONG_CREDENTIALS


def test_update_own_description(server):
    account, _, session = new_account(server)

    reply = call(server, "PUT", f"{ACCOUNTS}/{account['uuid']}",
                 {"updateAccount": {"description": "now described"}}, session=session)

    assert reply.status == 200, reply.text
    assert reply.json()["inventory"]["description"] == "now described"
    [stored] = inventories(server.get(f"{ACCOUNTS}/{account['uuid']}"))
    assert stored["description"] == "now described"


@pytest.mark.parametrize("target", ["other", "admin", "missing"])
def test_update_other_account(server, target):
    _, _, session = new_account(server)
    other, other_password, _ = new_account(server, "victim")
    uuid = {"other": other["uuid"], "admin": ADMIN_UUID, "missing": MISSING}[target]
    before = account_rows(server)

    reply = call(server, "PUT", f"{ACCOUNTS}/{uuid}",
                 {"updateAccount": {"password": sha512("hijacked")}}, session=session)

    error = error_of(reply, "ID.1002")
    assert error["description"] == NO_PERMISSION
    assert account_rows(server) == before
    assert server.login(other["name"], other_password).status == 200
    assert server.login(other["name"], "hijacked").status == 503


def test_admin_updates_account(server):
    account, old_password, _ = new_account(server)

    reply = call(server, "PUT", f"{ACCOUNTS}/{account['uuid']}",
                 {"updateAccount": {"password": sha512("set-by-admin"),
                                    "description": "reset"}})

    assert reply.status == 200, reply.text
    assert reply.json()["inventory"]["description"] == "reset"
    assert server.login(account["name"], "set-by-admin").status == 200
    assert server.login(account["name"], old_password).status == 503


def test_update_account_name(server):
    account, password, session = new_account(server)
    renamed = new_name("renamed")

    reply = call(server, "PUT", f"{ACCOUNTS}/{account['uuid']}",
                 {"updateAccount": {"name": renamed}}, session=session)

    assert reply.status == 200, reply.text
    assert reply.json()["inventory"]["name"] == renamed
    assert server.login(renamed, password).status == 200
    assert server.login(account["name"], password).status == 503


def test_update_own_type_no_admin(server):
    account, _, session = new_account(server)
    other = create_account(server, new_name("other"), "pw")

    reply = call(server, "PUT", f"{ACCOUNTS}/{account['uuid']}",
                 {"updateAccount": {"type": "SystemAdmin"}}, session=session)

    # Ignoring the field and rejecting it are both safe, but becoming an admin is not.
    assert reply.status in (200, 503), reply.text
    [stored] = read_rows(server, 'SELECT type FROM "AccountVO" WHERE uuid = :uuid',
                         uuid=account["uuid"])
    assert stored["type"] == "Normal"
    assert uuids(server.request("GET", ACCOUNTS, session=session)) == [account["uuid"]]
    foreign = server.request("GET", f"{ACCOUNTS}/{other['uuid']}", session=session)
    assert foreign.body == EMPTY_QUERY


def test_update_account_name_taken(server):
    account, _, session = new_account(server)
    other = create_account(server, new_name("taken"), "pw")
    before = account_rows(server)

    reply = call(server, "PUT", f"{ACCOUNTS}/{account['uuid']}",
                 {"updateAccount": {"name": other["name"].upper()}}, session=session)

    error = error_of(reply, "SYS.1007")
    assert other["name"].upper() in error["details"]
    assert account_rows(server) == before


@pytest.mark.parametrize("section, field", [
    ({"password": 12}, "updateAccount.password"),
    ({"description": ["x"]}, "updateAccount.description"),
    ({"name": 5}, "updateAccount.name"),
])
def test_update_account_bad_body(server, section, field):
    account, _, session = new_account(server)
    before = account_rows(server)

    reply = call(server, "PUT", f"{ACCOUNTS}/{account['uuid']}", {"updateAccount": section},
                 session=session)

    error = error_of(reply, "SYS.1007")
    assert f"field[{field}]" in error["details"]
    assert account_rows(server) == before


def test_admin_updates_missing_account(server):
    reply = call(server, "PUT", f"{ACCOUNTS}/{MISSING}",
                 {"updateAccount": {"description": "nobody"}})

    error = error_of(reply, "SYS.1007")
    assert error["details"] == f"resource[uuid:{MISSING}] not found"


# -- DeleteAccount ------------------------------------------------------------------

def test_delete_account_by_normal(server):
    _, _, session = new_account(server)
    victim = create_account(server, new_name("victim"), "pw")
    before = account_rows(server)

    reply = call(server, "DELETE", f"{ACCOUNTS}/{victim['uuid']}", session=session)

    error = error_of(reply, "ID.1002")
    assert error["description"] == NO_PERMISSION
    assert account_rows(server) == before


def test_delete_admin_rejected(server):
    before = account_rows(server)

    reply = call(server, "DELETE", f"{ACCOUNTS}/{ADMIN_UUID}")

    assert reply.status == 503, reply.text
    assert reply.json()["error"]["code"] in ("SYS.1007", "ID.1002")
    assert account_rows(server) == before
    assert server.login("admin", ADMIN_PASSWORD).status == 200


def test_delete_unknown_account(server):
    before = account_rows(server)

    reply = call(server, "DELETE", f"{ACCOUNTS}/{MISSING}")

    assert reply.status == 200
    assert reply.body == b"{}"
    assert account_rows(server) == before


def test_delete_account(server):
    account, password, _ = new_account(server)

    reply = call(server, "DELETE", f"{ACCOUNTS}/{account['uuid']}")
    again = call(server, "DELETE", f"{ACCOUNTS}/{account['uuid']}")

    assert reply.status == 200
    assert reply.body == b"{}"
    assert again.body == b"{}"
    assert server.get(f"{ACCOUNTS}/{account['uuid']}").body == EMPTY_QUERY
    login = server.login(account["name"], password)
    assert login.status == 503
    assert login.body == WRONG_CREDENTIALS


def test_delete_account_ends_sessions(server):
    account, password, first = new_account(server)
    second = server.login_session(account["name"], password)
    assert server.request("GET", ACCOUNTS, session=first).status == 200
    assert server.request("GET", MODELS, session=second).status == 200

    deleted = call(server, "DELETE", f"{ACCOUNTS}/{account['uuid']}")

    assert deleted.status == 200
    for session in (first, second):
        reply = server.request("GET", ACCOUNTS, session=session)
        assert reply.status == 503
        assert reply.body == SESSION_EXPIRED_BODY
    write = call(server, "POST", MODELS, {"param": {"name": "late", "modelCenterUuid": CENTER}},
                 session=second)
    assert write.body == SESSION_EXPIRED_BODY
    valid = server.request("GET", f"/v1/accounts/sessions/{first}/valid")
    assert valid.json() == {"valid": False}
    stored = read_rows(server, 'SELECT uuid FROM "SessionVO" WHERE "accountUuid" = :uuid',
                       uuid=account["uuid"])
    assert stored == []


def create_owned_world(server: Server, session: str, stem: str) -> dict[str, str]:
    """Create a model, dataset, group, record and user tag as the session's account."""

    def create(path: str, key: str, params: dict) -> str:
        reply = call(server, "POST", path, {key: params}, session=session)
        assert reply.status == 200, reply.text
        return reply.json()["inventory"]["uuid"]

    model = create(MODELS, "param", {"name": f"{stem}-model", "modelCenterUuid": CENTER})
    dataset = create(DATASETS, "params", {"name": f"{stem}-data", "modelCenterUuid": CENTER})
    group = create(GROUPS, "params", {"name": f"{stem}-job", "status": "Running",
                                      "modelServiceType": "FineTune", "type": "Container"})
    record = create(RECORDS, "params", {"modelUuid": model, "modelServiceInstanceGroupUuid": group,
                                        "datasetUuid": dataset})
    tag = create(USER_TAGS, "params", {"resourceType": "ModelVO", "resourceUuid": model,
                                       "tag": f"{stem}-tag"})
    return {"model": model, "dataset": dataset, "group": group, "record": record, "tag": tag}


def test_delete_account_resources_to_admin(server):
    account, _, session = new_account(server)
    stem = account["name"]
    owned = create_owned_world(server, session, stem)
    refs = read_rows(server, 'SELECT * FROM "AccountResourceRefVO" WHERE "accountUuid" = :a',
                     a=account["uuid"])
    assert len(refs) == 4

    assert call(server, "DELETE", f"{ACCOUNTS}/{account['uuid']}").status == 200

    paths = {"model": MODELS, "dataset": DATASETS, "group": GROUPS, "record": RECORDS,
             "tag": USER_TAGS}
    for kind, path in paths.items():
        assert uuids(server.get(f"{path}/{owned[kind]}")) == [owned[kind]], kind
        assert uuids(server.get(f"{path}?q=uuid={owned[kind]}")) == [owned[kind]], kind
    by_model = server.get(f"{RECORDS}?q=model.name={stem}-model")
    assert uuids(by_model) == [owned["record"]]
    by_tag = server.get(f"{MODELS}?q=__userTag__={stem}-tag")
    assert uuids(by_tag) == [owned["model"]]
    moved = read_rows(server, 'SELECT * FROM "AccountResourceRefVO" WHERE "accountUuid" = :a '
                      'OR "ownerAccountUuid" = :a', a=account["uuid"])
    assert moved == []


def test_delete_account_admin_owns(server):
    account, _, session = new_account(server)
    owned = create_owned_world(server, session, account["name"])
    assert call(server, "DELETE", f"{ACCOUNTS}/{account['uuid']}").status == 200

    update = call(server, "PUT", f"{MODELS}/{owned['model']}",
                  {"updateModel": {"description": "kept by admin"}})
    delete = call(server, "DELETE", f"{RECORDS}/{owned['record']}")

    assert update.status == 200, update.text
    assert update.json()["inventory"]["description"] == "kept by admin"
    assert delete.status == 200
    assert server.get(f"{RECORDS}/{owned['record']}").body == EMPTY_QUERY


def test_reused_name_sees_nothing(server):
    account, password, session = new_account(server)
    owned = create_owned_world(server, session, account["name"])
    assert call(server, "DELETE", f"{ACCOUNTS}/{account['uuid']}").status == 200

    successor = create_account(server, account["name"], password)
    new_session = server.login_session(account["name"], password)

    assert successor["uuid"] != account["uuid"]
    for path in (MODELS, DATASETS, GROUPS, RECORDS, USER_TAGS):
        assert server.request("GET", path, session=new_session).body == EMPTY_QUERY, path
    reply = server.request("GET", f"{MODELS}/{owned['model']}", session=new_session)
    assert reply.body == EMPTY_QUERY


def test_delete_account_drops_received_shares(server):
    account, _, session = new_account(server)
    model = call(server, "POST", MODELS,
                 {"param": {"name": new_name("admin-shared"), "modelCenterUuid": CENTER}})
    model_uuid = model.json()["inventory"]["uuid"]
    shared = call(server, "PUT", SHARING, {"shareResource": {
        "resourceUuids": [model_uuid], "accountUuids": [account["uuid"]]}})
    assert shared.status == 200, shared.text
    assert uuids(server.request("GET", f"{MODELS}/{model_uuid}", session=session)) == [model_uuid]

    assert call(server, "DELETE", f"{ACCOUNTS}/{account['uuid']}").status == 200

    shares = read_rows(server, 'SELECT * FROM "SharedResourceVO" '
                       'WHERE "receiverAccountUuid" = :a', a=account["uuid"])
    assert shares == []
    assert uuids(server.get(f"{MODELS}/{model_uuid}")) == [model_uuid]


def test_admin_cannot_be_renamed(make_server):
    server = make_server("--admin-password", "password")
    admin = server.login_session()
    reply = server.request("PUT", f"/v1/accounts/{ADMIN_UUID}",
                           body=json.dumps({"updateAccount": {"name": "root"}}), session=admin)
    assert reply.status == 503
    assert reply.json()["error"]["code"] == "SYS.1007"
    assert "keeps the name admin" in reply.json()["error"]["details"]
    assert server.login("admin", "password").status == 200
