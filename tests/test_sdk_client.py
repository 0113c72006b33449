"""The modern SDK client against real servers: calls, queries, paging, types, sessions."""

from __future__ import annotations

import json
import time
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import httpx
import pytest
import sqlalchemy as sa
from conftest import SESSION_EXPIRED_BODY
from sdk_scenarios import (  # noqa: F401 - silent_port is a fixture
    INVALID_SESSION,
    CountingProxy,
    World,
    client_arguments,
    error_call,
    silent_port,
    success_call,
)

from aios_records.apis import API_SPECS
from aios_records.config import host_time_zone
from aios_records.query.language import OPERATORS
from aios_records.sdk import (
    ApiError,
    Client,
    ModelInventory,
    Q,
    TrainedModelRecordInventory,
    escape_like,
)
from aios_records.sdk import conditions as sdk_conditions
from aios_records.storage import database

EXAMPLE_UUID = "d374c0670c744f0f85c9d33041475eb1"
EXAMPLE_CREATED = datetime(2025, 11, 19, 10, 20, 7, tzinfo=timezone.utc)

# Names that `name=<value>` cannot express: the server would split at the
# operator inside the value, drop a leading `=`, or read `null` as IS NULL.
# The client sends them as escaped LIKE patterns instead.
OPERATOR_NAMES = ["a>=b", "x!=y", "p~=q", "q?=r", "less<=more", "=starts", "null", "NULL",
                  "50%_off\\"]


def base_url(server) -> str:
    return f"http://127.0.0.1:{server.port}/zstack"


@pytest.fixture(scope="module")
def world(make_module_server) -> World:
    return World(make_module_server("--admin-password", "password"))


@pytest.fixture
def demo(demo_server):
    with Client(base_url(demo_server), session_id=demo_server.session,
                time_zone="Asia/Shanghai") as client:
        yield client


def make_client(world: World, session: str | None) -> Client:
    return Client(base_url(world.server), session_id=session)


@pytest.mark.parametrize("api_name", sorted(API_SPECS))
def test_call_succeeds(world, api_name):
    spec = API_SPECS[api_name]
    call = success_call(world, api_name)

    with make_client(world, call.session) as client:
        value = client.call(api_name, **client_arguments(spec, call.parameters))

    call.check(value)


@pytest.mark.parametrize("api_name", sorted(API_SPECS))
def test_call_error_path(world, api_name):
    spec = API_SPECS[api_name]
    call = error_call(world, api_name)

    with make_client(world, call.session) as client, pytest.raises(ApiError) as caught:
        client.call(api_name, **client_arguments(spec, call.parameters))

    error = caught.value
    assert error.code == call.code, error
    assert error.status == call.status
    assert error.description
    if call.status == 503:
        assert json.loads(error.raw_body)["error"] == error.error
    else:
        assert error.details == error.raw_body.decode()


def test_unknown_api_rejected(world):
    with make_client(world, world.admin) as client, pytest.raises(ValueError, match="NoSuchApi"):
        client.call("NoSuchApi")


def test_expired_session_raises_with_body(world):
    with make_client(world, INVALID_SESSION) as client, pytest.raises(ApiError) as caught:
        client.query("Model")

    assert caught.value.code == "ID.1001"
    assert caught.value.details == "Session expired"
    assert caught.value.raw_body == SESSION_EXPIRED_BODY
    assert "ID.1001" in str(caught.value)


def test_plain_text_400_becomes_error(world):
    with make_client(world, None) as client, pytest.raises(ApiError) as caught:
        client.query("Model")

    assert (caught.value.code, caught.value.status) == ("HTTP.400", 400)
    assert caught.value.details == "missing header 'Authorization'"


def test_details_follow_accept_language(world):
    with Client(base_url(world.server), session_id=world.admin,
                headers={"Accept-Language": "zh-CN"}) as client, \
            pytest.raises(ApiError) as caught:
        client.query("Model", "noSuchField=1")

    assert caught.value.description == "One or more API argument is invalid"
    assert any(ord(char) > 127 for char in caught.value.details), caught.value.details


def test_login_logout_context_manager(world):
    with Client(base_url(world.server)) as client:
        session = client.login("admin", "password")
        assert client.validate_session()
        assert world.session_valid(session)

    assert not world.session_valid(session)


def test_given_session_kept_on_exit(world):
    session = world.server.login_session()
    with Client(base_url(world.server), session_id=session) as client:
        assert client.count("Model") >= 1

    assert world.session_valid(session)


def test_relogin_after_session_deleted(world):
    with Client(base_url(world.server)) as client:
        first = client.login("admin", "password")
        world.request("DELETE", f"/v1/accounts/sessions/{first}")
        assert not world.session_valid(first)

        found = client.query("Model", uuid=world.uuids["Model"])

        assert [model.uuid for model in found] == [world.uuids["Model"]]
        assert client.session_id != first
        assert world.session_valid(client.session_id)


def test_relogin_retries_only_once(world, monkeypatch):
    client = Client(base_url(world.server))
    client.login("admin", "password")
    world.request("DELETE", f"/v1/accounts/sessions/{client.session_id}")
    logins = []
    monkeypatch.setattr(client, "_log_in", lambda credentials: logins.append(1) or INVALID_SESSION)

    with pytest.raises(ApiError) as caught:
        client.count("Model")

    assert caught.value.code == "ID.1001"
    assert len(logins) == 1
    client.close()


def test_no_relogin_without_credentials(world):
    session = world.server.login_session()
    world.request("DELETE", f"/v1/accounts/sessions/{session}")

    with make_client(world, session) as client, pytest.raises(ApiError) as caught:
        client.count("Model")

    assert caught.value.code == "ID.1001"


def test_operator_names_round_trip(world):
    center = world.uuids["ModelCenter"]
    with make_client(world, world.admin) as client:
        created = {}
        for name in OPERATOR_NAMES:
            body = {"param": {"name": name, "modelCenterUuid": center}}
            created[name] = client.call("AddModel", body=body)["inventory"]["uuid"]

        for name, uuid in created.items():
            # Text comparison ignores ASCII case, so "null" and "NULL" find each other.
            same = {created[other] for other in created if other.lower() == name.lower()}
            exact = [m.uuid for m in client.query("Model", Q.name == name)]
            assert set(exact) == same, name
            others = client.query("Model", Q.name != name, Q.modelCenterUuid == center)
            assert uuid not in [m.uuid for m in others], name


def test_comma_in_list_rejected():
    with pytest.raises(ValueError, match="contains a comma"):
        Q.name.in_(["a,b"]).render()


def test_unexpressible_condition_rejected():
    with pytest.raises(ValueError, match="cannot be sent"):
        (Q.name > "a>=b").render()
    with pytest.raises(ValueError, match=r"\\="):
        Q.name.like("a>=%").render()


def test_sdk_operator_order_matches_server():
    assert sdk_conditions.OPERATORS == OPERATORS


def test_escape_like_matches_literally(world):
    with make_client(world, world.admin) as client:
        center = world.uuids["ModelCenter"]
        name = world.unique("under_score%")
        client.call("AddModel", body={"param": {"name": name, "modelCenterUuid": center}})
        client.call("AddModel", body={"param": {"name": name.replace("_", "X"),
                                                "modelCenterUuid": center}})

        found = client.query("Model", Q.name.like(escape_like(name[:-3]) + "%"))

    assert [model.name for model in found] == [name]


def test_example_record_typed(demo):
    record = demo.get("TrainedModelRecord", EXAMPLE_UUID)

    assert isinstance(record, TrainedModelRecordInventory)
    assert record.modelUuid == "f9878203ed4048fe99a8909ca90cc105"
    assert record.sourceModelUuid is None
    assert record.createDate == EXAMPLE_CREATED
    assert record.lastOpDate == EXAMPLE_CREATED
    assert record.createDate.utcoffset() == timedelta(hours=8)
    assert demo.get("TrainedModelRecord", "0" * 32) is None


def test_datetimes_equal_stored_instants(demo, demo_server):
    engine = database.create_engine(demo_server.database_url)
    with engine.connect() as conn:
        stored = dict(conn.execute(sa.text(
            'SELECT uuid, "createDate" FROM "TrainedModelRecordVO" ORDER BY uuid LIMIT 50')).all())
    engine.dispose()

    records = demo.query("TrainedModelRecord", Q.uuid.in_(stored), limit=50)

    assert len(records) == 50
    for record in records:
        expected = datetime.fromisoformat(str(stored[record.uuid])).replace(tzinfo=timezone.utc)
        assert record.createDate == expected, record.uuid


def test_time_zone_reads_reply_dates(demo_server):
    with Client(base_url(demo_server), session_id=demo_server.session,
                time_zone=ZoneInfo("UTC")) as client:
        record = client.get("TrainedModelRecord", EXAMPLE_UUID)

    # Reply dates carry no offset, so they are read in the zone the client is
    # given: here 18:20:07 in UTC rather than in the server's Asia/Shanghai.
    assert record.createDate == EXAMPLE_CREATED + timedelta(hours=8)


def test_default_time_zone_is_local(demo_server):
    with Client(base_url(demo_server)) as client:
        assert client.time_zone == ZoneInfo(host_time_zone())


def test_typed_numbers_and_booleans(demo):
    model = demo.query("Model", limit=1)[0]
    dataset = demo.query("Dataset", limit=1)[0]

    assert isinstance(model, ModelInventory)
    assert isinstance(model.size, int)
    assert isinstance(dataset.system, bool)


def test_fields_leave_others_none(demo):
    records = demo.query("TrainedModelRecord", uuid=EXAMPLE_UUID, fields=["uuid", "createDate"])

    assert records[0].createDate == EXAMPLE_CREATED
    assert records[0].modelUuid is None


def raw_total(server, *conditions: str) -> int:
    query = "&".join(f"q={c}" for c in conditions)
    return server.get(f"/v1/ai/trained-model/records?{query}&count=true").json()["total"]


def test_datetime_conditions(demo, demo_server):
    aware = datetime(2025, 11, 19, 18, 20, 7, tzinfo=timezone(timedelta(hours=8)))
    naive = datetime(2025, 11, 19, 18, 20, 7)

    expected = raw_total(demo_server, "createDate%3E2025-11-19%2018:20:07")
    assert demo.count("TrainedModelRecord", Q.createDate > aware) == expected
    assert demo.count("TrainedModelRecord", Q.createDate > naive) == expected
    assert demo.count("TrainedModelRecord", createDate=aware) >= 1
    assert demo.count("TrainedModelRecord", Q.createDate >= date(2026, 1, 1)) == raw_total(
        demo_server, "createDate%3E=2026-01-01")


def test_operator_helpers(demo, demo_server):
    assert demo.count("TrainedModelRecord", Q.sourceModelUuid.is_null()) == raw_total(
        demo_server, "sourceModelUuid%20is%20null")
    assert demo.count("TrainedModelRecord", Q.datasetUuid.not_null()) == raw_total(
        demo_server, "datasetUuid%20not%20null")
    assert demo.count("TrainedModelRecord", sourceModelUuid=None) == raw_total(
        demo_server, "sourceModelUuid=null")
    assert demo.count("TrainedModelRecord", Q.model.name.like("Qwen2.5-7B%")) == raw_total(
        demo_server, "model.name~=Qwen2.5-7B%25")
    some = [r.uuid for r in demo.query("TrainedModelRecord", limit=3)]
    assert [r.uuid for r in demo.query("TrainedModelRecord", Q.uuid.in_(some))] == some
    assert demo.count("TrainedModelRecord", uuid=some) == 3
    assert demo.count("TrainedModelRecord", Q.uuid.not_in(some)) == 2000 - 3


def test_keyword_conditions(demo):
    records = demo.query("TrainedModelRecord", modelUuid="f9878203ed4048fe99a8909ca90cc105")

    assert EXAMPLE_UUID in [record.uuid for record in records]
    assert all(r.modelUuid == "f9878203ed4048fe99a8909ca90cc105" for r in records)


def test_query_by_inventory_class(demo):
    assert demo.count(TrainedModelRecordInventory) == 2000
    with pytest.raises(ValueError, match="unknown resource"):
        demo.count("TrainedModelRecords")


def test_iterate_equals_one_big_query(demo):
    everything = demo.query("TrainedModelRecord", limit=5000)

    paged = list(demo.iterate("TrainedModelRecord", page_size=7))

    assert len(everything) == 2000
    assert paged == everything


def test_iterate_sorted_with_condition(demo):
    conditions = (Q.datasetUuid.not_null(),)
    everything = demo.query("TrainedModelRecord", *conditions, sort="-createDate", limit=5000)

    paged = list(demo.iterate("TrainedModelRecord", *conditions, sort="-createDate",
                              page_size=97))

    assert paged == everything
    assert [r.createDate for r in paged] == sorted((r.createDate for r in paged), reverse=True)


def test_iterate_empty_and_bad_page_size(demo):
    assert list(demo.iterate("TrainedModelRecord", uuid="0" * 32)) == []
    with pytest.raises(ValueError, match="page_size"):
        next(demo.iterate("TrainedModelRecord", page_size=0))


def test_connection_reused(world):
    proxy = CountingProxy(world.server.port)
    try:
        with Client(f"http://127.0.0.1:{proxy.port}/zstack") as client:
            client.login("admin", "password")
            for _ in range(10):
                client.count("Model")
    finally:
        proxy.close()

    assert proxy.connections == 1


def test_timeout_configurable(silent_port):
    client = Client(f"http://127.0.0.1:{silent_port}/zstack", timeout=0.3,
                    session_id=INVALID_SESSION)
    assert client.timeout.read == 0.3

    began = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        client.count("Model")

    assert time.monotonic() - began < 5
    client.close()
