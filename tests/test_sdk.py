"""The zssdk-style SDK against real servers: every action, encoding, errors and timeouts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from conftest import SESSION_EXPIRED_BODY, sha512
from sdk_scenarios import (  # noqa: F401 - silent_port is a fixture
    INVALID_SESSION,
    CountingProxy,
    World,
    error_call,
    silent_port,
    success_call,
)

from aios_records import zssdk
from aios_records.apis import API_SPECS
from aios_records.sdk import Client, Q
from aios_records.zssdk import (
    AddModelAction,
    CreateAccountAction,
    LogInByAccountAction,
    QueryModelAction,
    QueryTrainedModelRecordAction,
    configure,
)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_SCRIPT = ROOT / "examples" / "zssdk-example-record.py"
CLIENT_SCRIPT = ROOT / "examples" / "sdk-client.py"
EXAMPLE_UUID = "d374c0670c744f0f85c9d33041475eb1"

# The reply example of the product page, as the example script prints it.
PRODUCT_PAGE_EXAMPLE = """\
{
  "inventories": [
    {
      "uuid": "d374c0670c744f0f85c9d33041475eb1",
      "modelUuid": "f9878203ed4048fe99a8909ca90cc105",
      "modelServiceInstanceGroupUuid": "4ad1e97134d44e18a72a84b6b1aabd0c",
      "datasetUuid": "b9d2327ad5ad477bbbcdc6d5534c1e96",
      "createDate": "Nov 19, 2025 6:20:07 PM",
      "lastOpDate": "Nov 19, 2025 6:20:07 PM"
    }
  ]
}
"""

# Model names with every character that naive URL building breaks. None
# contains a comma, so each can also be listed in a `?=` condition, and none
# contains an operator such as `>=`, so `name=<value>` reads back unchanged.
HOSTILE_NAMES = [
    "amp&hash#plus+space 'single' \"double\" 100% back\\slash 中文 <lt >gt =eq",
    "%41 %zz %2B +%20 %",
    " leading and trailing spaces  ",
    "q=name=x&q=uuid=y#fragment",
    "训练记录 — 模型 ✓",
]
COMMA_NAME = "comma, then & # + % \\ 中文 <x> =y"


@pytest.fixture(scope="module")
def world(make_module_server) -> World:
    return World(make_module_server("--admin-password", "password"))


@pytest.fixture
def at_world(world) -> World:
    configure(port=world.server.port)
    return world


@pytest.fixture
def at_demo(demo_server):
    configure(port=demo_server.port)
    return demo_server


def run_action(api_name: str, parameters: dict, session: str | None):
    action = zssdk.action_for(api_name)()
    for name, value in parameters.items():
        setattr(action, name, value)
    if session is not None:
        action.sessionId = session
    return action.call()


def test_one_action_per_api():
    assert sorted(zssdk.ACTIONS) == sorted(f"{name}Action" for name in API_SPECS)
    assert zssdk.QueryTrainedModelRecordAction.API is API_SPECS["QueryTrainedModelRecord"]


@pytest.mark.parametrize("api_name", sorted(API_SPECS))
def test_action_succeeds(at_world, api_name):
    call = success_call(at_world, api_name)

    res = run_action(api_name, call.parameters, call.session)

    assert res.error is None, res.error
    assert res.success
    assert res.status == 200
    call.check(res.value)


@pytest.mark.parametrize("api_name", sorted(API_SPECS))
def test_action_error_path(at_world, api_name):
    call = error_call(at_world, api_name)

    res = run_action(api_name, call.parameters, call.session)

    assert res.value is None
    assert not res.success
    assert res.error.code == call.code, res.error
    assert res.status == call.status
    assert res.error.description
    if call.status == 503:
        assert json.loads(res.raw_body)["error"] == res.error
    else:
        assert res.error.details == res.raw_body.decode()


def test_product_page_snippet_prints_example(demo_server):
    env = {**os.environ, "AIOS_PORT": str(demo_server.port)}
    result = subprocess.run([sys.executable, str(EXAMPLE_SCRIPT)], capture_output=True,
                            text=True, env=env, timeout=60)

    assert result.returncode == 0, result.stderr
    assert result.stdout == PRODUCT_PAGE_EXAMPLE


@pytest.mark.parametrize("script", [EXAMPLE_SCRIPT, CLIENT_SCRIPT], ids=["zssdk", "client"])
def test_readme_shows_sdk_example(script):
    code = script.read_text(encoding="utf-8")
    body = code[code.index('"""\n\n') + 5:]  # without the module docstring
    for readme in ("README.md", "README.zh-CN.md"):
        assert body in (ROOT / readme).read_text(encoding="utf-8"), readme
    assert PRODUCT_PAGE_EXAMPLE in (ROOT / "README.md").read_text(encoding="utf-8")


def test_client_example_runs(demo_server):
    env = {**os.environ, "AIOS_URL": f"http://127.0.0.1:{demo_server.port}/zstack"}
    result = subprocess.run([sys.executable, str(CLIENT_SCRIPT)], capture_output=True,
                            text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()

    no_base = demo_server.get("/v1/ai/trained-model/records?q=sourceModelUuid%20is%20null"
                              "&count=true").json()["total"]
    on_dataset = demo_server.get("/v1/ai/trained-model/records?count=true"
                                 "&q=datasetUuid=b9d2327ad5ad477bbbcdc6d5534c1e96").json()["total"]
    assert lines[0] == "f9878203ed4048fe99a8909ca90cc105 2025-11-19T18:20:07+08:00"
    assert lines[1].startswith("5 recent Qwen2.5-7B records, newest ")
    assert lines[2] == f"{no_base} records without a base model"
    assert lines[3] == f"{on_dataset} records on the example's dataset"
    assert lines[4] == "SYS.1007 One or more API argument is invalid"


def test_hostile_names_round_trip(at_world):
    world = at_world
    center = world.uuids["ModelCenter"]
    client = Client(f"http://127.0.0.1:{world.server.port}/zstack", session_id=world.admin)
    uuids = {}
    for index, name in enumerate([*HOSTILE_NAMES, COMMA_NAME]):
        if index % 2 == 0:
            res = AddModelAction(name=name, modelCenterUuid=center, sessionId=world.admin).call()
            assert res.error is None, res.error
            inventory = res.value.inventory
        else:
            inventory = client.call("AddModel", body={"param": {"name": name,
                                                               "modelCenterUuid": center}})
            inventory = inventory["inventory"]
        assert inventory["name"] == name
        uuids[name] = inventory["uuid"]

    for name, uuid in uuids.items():
        res = QueryModelAction(conditions=[f"name={name}"], sessionId=world.admin).call()
        assert res.error is None, res.error
        assert [item.uuid for item in res.value.inventories] == [uuid], name
        assert [model.uuid for model in client.query("Model", f"name={name}")] == [uuid], name
        assert [model.uuid for model in client.query("Model", name=name)] == [uuid], name

    listed = f"name?={','.join(HOSTILE_NAMES)}"
    res = QueryModelAction(conditions=[listed], sessionId=world.admin).call()
    assert res.error is None, res.error
    assert sorted(item.name for item in res.value.inventories) == sorted(HOSTILE_NAMES)
    found = client.query("Model", Q.name.in_(HOSTILE_NAMES))
    assert sorted(model.name for model in found) == sorted(HOSTILE_NAMES)
    client.close()


def test_condition_objects_accepted(at_world):
    model = at_world.uuids["Model"]
    res = QueryModelAction(conditions=[Q.uuid == model, Q.name.not_null()],
                           sessionId=at_world.admin).call()

    assert [item.uuid for item in res.value.inventories] == [model]


def test_iso_date_with_plus_offset(at_demo):
    condition = "createDate=2025-11-19T18:20:07+08:00"
    res = QueryTrainedModelRecordAction(conditions=[condition],
                                        sessionId=at_demo.session).call()

    assert res.error is None, res.error
    assert [item.uuid for item in res.value.inventories] == [EXAMPLE_UUID]


def test_like_pattern_percent_sent_encoded(at_demo):
    res = QueryModelAction(conditions=["name~=Qwen2.5-7B%"], count=True,
                           sessionId=at_demo.session).call()
    expected = at_demo.get("/v1/ai/models?q=name~%3DQwen2.5-7B%25&count=true").json()

    assert res.value.total == expected["total"]
    assert res.value.total > 0


def test_paging_sort_and_fields(at_demo):
    action = QueryTrainedModelRecordAction(
        conditions=["datasetUuid!=null"], limit=5, start=3, replyWithCount=True,
        sortBy="createDate", sortDirection="desc", fields=["uuid", "createDate"],
        sessionId=at_demo.session)

    res = action.call()

    path = ("/v1/ai/trained-model/records?q=datasetUuid!%3Dnull&limit=5&start=3"
            "&replyWithCount=true&sort=-createDate&fields=uuid,createDate")
    assert res.value == at_demo.get(path).json()
    assert [sorted(item) for item in res.value.inventories] == [["createDate", "uuid"]] * 5


def test_ascending_sort_sends_plus(at_demo):
    res = QueryTrainedModelRecordAction(sortBy="createDate", limit=3,
                                        sessionId=at_demo.session).call()
    expected = at_demo.get("/v1/ai/trained-model/records?sort=%2BcreateDate&limit=3").json()

    assert res.value == expected


def test_bad_sort_direction_rejected(at_demo):
    action = QueryTrainedModelRecordAction(sortBy="createDate", sortDirection="up",
                                           sessionId=at_demo.session)

    with pytest.raises(ValueError, match="sortDirection"):
        action.call()


def test_expired_session_error_keeps_body(at_demo):
    res = QueryTrainedModelRecordAction(sessionId=INVALID_SESSION).call()

    assert res.status == 503
    assert res.error.code == "ID.1001"
    assert res.error.details == "Session expired"
    assert res.raw_body == SESSION_EXPIRED_BODY


def test_missing_session_is_plain_text_error(at_demo):
    res = QueryTrainedModelRecordAction().call()

    assert res.status == 400
    assert res.error.code == "HTTP.400"
    assert res.error.description == "Bad Request"
    assert res.error.details == "missing header 'Authorization'"
    assert res.raw_body == b"missing header 'Authorization'"


def test_create_account_hashes_password(at_world):
    name = at_world.unique("hashed")
    res = CreateAccountAction(name=name, password="plain secret", sessionId=at_world.admin).call()
    assert res.error is None, res.error

    login = LogInByAccountAction(accountName=name, password="plain secret").call()

    assert login.error is None, login.error
    assert at_world.server.login(name, "plain secret").status == 200
    assert at_world.server.login(name, sha512("plain secret")).status == 503


def test_unknown_parameter_rejected():
    action = QueryTrainedModelRecordAction()

    with pytest.raises(AttributeError, match="has no parameter 'sessionID'"):
        action.sessionID = "x"
    with pytest.raises(AttributeError, match="has no parameter 'uuid'"):
        AddModelAction(uuid="x")


def test_missing_path_parameter_rejected(at_world):
    with pytest.raises(ValueError, match="path parameter 'uuid'"):
        zssdk.DeleteModelAction(sessionId=at_world.admin).call()


def test_missing_attribute_reads_as_none(at_demo):
    res = QueryTrainedModelRecordAction(conditions=[f"uuid={EXAMPLE_UUID}"],
                                        sessionId=at_demo.session).call()

    assert res.value.inventories[0].sourceModelUuid is None
    assert res.value.total is None


def test_actions_reuse_connection(world):
    proxy = CountingProxy(world.server.port)
    configure(port=proxy.port)
    try:
        for _ in range(10):
            res = zssdk.ValidateSessionAction(sessionUuid=world.admin).call()
            assert res.value.valid is True
    finally:
        configure()
        proxy.close()

    assert proxy.connections == 1


def test_conditions_must_be_list(at_world):
    action = QueryModelAction(conditions="name=x", sessionId=at_world.admin)

    with pytest.raises(TypeError, match="list of conditions"):
        action.call()


def test_read_timeout_configurable(silent_port):
    configure(port=silent_port, read_timeout=0.3)
    try:
        assert zssdk.current_timeout().read == 0.3
        began = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            QueryTrainedModelRecordAction(sessionId=INVALID_SESSION).call()
        assert time.monotonic() - began < 5
    finally:
        configure()
