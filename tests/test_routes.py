"""Routing: 404 texts, slashes, HEAD, GET by uuid, neighbour routes and the order of checks."""

from __future__ import annotations

import asyncio

import pytest
from conftest import ADMIN_PASSWORD, SESSION_EXPIRED_BODY, Server, without_session
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.routing import Match, Route, Router

from aios_records.config import Settings
from aios_records.demo import EXAMPLE_RECORD_UUID
from aios_records.http.app import create_app
from aios_records.http.routing import MethodRoute, NormalizingRouter
from aios_records.storage import database

RECORDS = "/v1/ai/trained-model/records"
RECORD = "/v1/ai/trained-model/record"
JSON_TYPE = "application/json;charset=utf-8"
EMPTY_REPLY = b'{"schema":{},"inventories":[]}'
UNKNOWN_UUID = "00000000000000000000000000000000"
UNKNOWN_SESSION = "OAuth 0123456789abcdef0123456789abcdef"
UNKNOWN_SESSION_HEADER = {"Authorization": UNKNOWN_SESSION}

NEIGHBOURS = [
    ("/v1/ai/models", "org.zstack.ai.entity.ModelInventory"),
    ("/v1/ai/datasets", "org.zstack.ai.entity.DatasetInventory"),
    ("/v1/ai/model-services/instances/groups",
     "org.zstack.ai.entity.ModelServiceInstanceGroupInventory"),
    ("/v1/ai/model-centers", "org.zstack.ai.entity.ModelCenterInventory"),
    (RECORDS, "org.zstack.ai.entity.TrainedModelRecordInventory"),
]


# -- unknown paths ------------------------------------------------------------


@pytest.mark.parametrize("sent, named", [
    ("/v1/ai/trained-model/recordz", "/v1/ai/trained-model/recordz"),
    ("/v1/ai/trained-model/records/", "/v1/ai/trained-model/records/"),
    ("/v1/ai/trained-model/record/", "/v1/ai/trained-model/record/"),
    (f"/v1/ai/trained-model/records/{EXAMPLE_RECORD_UUID}/",
     f"/v1/ai/trained-model/records/{EXAMPLE_RECORD_UUID}/"),
    (f"/v1/ai/trained-model/record/{EXAMPLE_RECORD_UUID}/x",
     f"/v1/ai/trained-model/record/{EXAMPLE_RECORD_UUID}/x"),
    ("/v1/ai/models/", "/v1/ai/models/"),
    ("/v1/ai/datasets/", "/v1/ai/datasets/"),
    ("/v1/ai/model-centers/", "/v1/ai/model-centers/"),
    ("/v1/ai/Trained-Model/records", "/v1/ai/Trained-Model/records"),
    ("/v1/ai//no-such///thing", "/v1/ai//no-such///thing"),
    ("/v1/no%20such%2Bpath", "/v1/no such+path"),
    ("/v1/%E6%A8%A1%E5%9E%8B", "/v1/模型"),
    ("/v1/", "/v1/"),
    ("/v1", "/v1"),
])
def test_unknown_path_404(demo_server, sent, named):
    reply = demo_server.get(sent)
    assert reply.status == 404
    assert reply.headers["content-type"].startswith("text/plain")
    assert reply.text == f"no api mapping to {named}"


def test_unknown_path_omits_query(demo_server):
    reply = demo_server.get("/v1/ai/nothing?q=uuid=1&limit=x")
    assert reply.status == 404
    assert reply.text == "no api mapping to /v1/ai/nothing"


def test_invalid_utf8_path_404(demo_server):
    reply = demo_server.get("/v1/%ff%fe")
    assert reply.status == 404
    assert reply.text.startswith("no api mapping to /v1/")


def test_path_outside_context_404(demo_server):
    reply = demo_server.get(RECORDS, prefix=False)
    assert reply.status == 404


# -- slashes ------------------------------------------------------------------


def test_repeated_slashes_collapse(demo_server):
    expected = demo_server.get(f"{RECORDS}?limit=3")
    assert expected.status == 200
    for path in ("/zstack/v1/ai//trained-model///records?limit=3",
                 "//zstack//v1/ai/trained-model/records?limit=3",
                 "/zstack/v1//ai/trained-model//records?limit=3"):
        reply = demo_server.get(path, prefix=False)
        assert reply.status == 200, path
        assert reply.body == expected.body, path


def test_get_by_uuid_double_slash(demo_server):
    expected = demo_server.get(f"{RECORD}/{EXAMPLE_RECORD_UUID}")
    for path in (f"{RECORD}//{EXAMPLE_RECORD_UUID}", f"{RECORDS}///{EXAMPLE_RECORD_UUID}"):
        reply = demo_server.get(path)
        assert reply.status == 200, path
        assert reply.body == expected.body, path


def test_groups_trailing_slash(demo_server):
    plain = demo_server.get("/v1/ai/model-services/instances/groups?limit=4")
    slashed = demo_server.get("/v1/ai/model-services/instances/groups/?limit=4")
    assert plain.status == 200
    assert slashed.status == 200
    assert slashed.body == plain.body
    assert b"ModelServiceInstanceGroupInventory" in slashed.body


def test_groups_double_slash_uuid(demo_server):
    first = demo_server.get("/v1/ai/model-services/instances/groups?limit=1").json()
    uuid = first["inventories"][0]["uuid"]
    reply = demo_server.get(f"/v1/ai/model-services/instances/groups//{uuid}")
    assert reply.status == 200
    assert reply.json()["inventories"] == first["inventories"]


# -- HEAD ---------------------------------------------------------------------


@pytest.mark.parametrize("path", [
    f"{RECORDS}?limit=2",
    f"{RECORD}/{EXAMPLE_RECORD_UUID}",
    f"{RECORDS}/{UNKNOWN_UUID}",
    "/v1/ai/models?limit=1",
])
def test_head_like_get(demo_server, path):
    get = demo_server.get(path)
    head = demo_server.request("HEAD", path)
    assert head.status == get.status == 200
    assert head.headers["content-type"] == JSON_TYPE
    assert head.body == b""
    assert int(head.headers["content-length"]) == len(get.body)


def test_head_streamed_page(demo_server):
    # A page of 2000 rows or more is streamed. HEAD must still release its
    # database connection, so more HEADs than the pool holds (32) must succeed.
    for _ in range(40):
        head = demo_server.request("HEAD", f"{RECORDS}?limit=3000")
        assert head.status == 200
        assert head.headers["content-type"] == JSON_TYPE
        assert head.body == b""
    assert demo_server.get(f"{RECORDS}?limit=1").status == 200


def test_head_checks(demo_server):
    missing = without_session(demo_server).request("HEAD", RECORDS)
    assert missing.status == 400
    assert missing.body == b""

    unknown = without_session(demo_server).request("HEAD", RECORDS, headers=UNKNOWN_SESSION_HEADER)
    assert unknown.status == 503
    assert unknown.body == b""

    not_found = demo_server.request("HEAD", "/v1/ai/nothing")
    assert not_found.status == 404
    assert not_found.body == b""


# -- GET by uuid --------------------------------------------------------------


def test_get_by_uuid_both_paths(demo_server):
    singular = demo_server.get(f"{RECORD}/{EXAMPLE_RECORD_UUID}")
    plural = demo_server.get(f"{RECORDS}/{EXAMPLE_RECORD_UUID}")
    assert singular.status == plural.status == 200
    assert singular.headers["content-type"] == JSON_TYPE
    assert singular.body == plural.body
    inventories = singular.json()["inventories"]
    assert [inventory["uuid"] for inventory in inventories] == [EXAMPLE_RECORD_UUID]


@pytest.mark.parametrize("query", [
    f"q=uuid={UNKNOWN_UUID}",
    "limit=0",
    "start=5",
    "fields=createDate",
    "count=true",
    "replyWithCount=true",
    "sort=-nosuchfield",
    "q=nooperator",
    "q==value",
    "q=nosuchfield=1",
    "limit=abc",
    "limit=",
    "start=-1",
    "fields=,",
    "fields=",
    "q=%ff",
    "q=createDate>not-a-date",
    "&".join(f"q=uuid!={n}" for n in range(150)),
    "sessionId=whatever&filterName=x&groupBy=y",
])
def test_get_by_uuid_ignores_query(demo_server, query):
    expected = demo_server.get(f"{RECORD}/{EXAMPLE_RECORD_UUID}")
    for base in (RECORD, RECORDS):
        reply = demo_server.get(f"{base}/{EXAMPLE_RECORD_UUID}?{query}")
        assert reply.status == 200, reply.text
        assert reply.body == expected.body


@pytest.mark.parametrize("segment", [
    UNKNOWN_UUID,
    "not-a-uuid",
    "%27%20OR%20%271%27%3D%271",
    "d374c0670c744f0f85c9d33041475eb",
    "d374c0670c744f0f85c9d33041475eb1%20",
    "%25",
])
def test_get_by_uuid_not_found(demo_server, segment):
    for base in (RECORD, RECORDS):
        reply = demo_server.get(f"{base}/{segment}")
        assert reply.status == 200
        assert reply.headers["content-type"] == JSON_TYPE
        assert reply.body == EMPTY_REPLY


def test_get_by_uuid_ignores_case(demo_server):
    # GET by uuid is the condition uuid=<segment>, and text compares ignore ASCII case.
    expected = demo_server.get(f"{RECORD}/{EXAMPLE_RECORD_UUID}")
    reply = demo_server.get(f"{RECORD}/{EXAMPLE_RECORD_UUID.upper()}")
    assert reply.status == 200
    assert reply.body == expected.body


# -- Content-Type and neighbour routes ----------------------------------------


def test_content_type_exact(demo_server):
    session = demo_server.login_session()
    replies = [
        demo_server.get(f"{RECORDS}?limit=1"),
        demo_server.get(f"{RECORDS}?count=true"),
        demo_server.get(f"{RECORD}/{EXAMPLE_RECORD_UUID}"),
        demo_server.get(f"{RECORD}/{UNKNOWN_UUID}"),
        demo_server.get(f"{RECORDS}?q=nosuchfield=1"),
        demo_server.login(),
        demo_server.login("admin", "wrong"),
        demo_server.get(f"/v1/accounts/sessions/{session}/valid"),
        demo_server.request("DELETE", f"/v1/accounts/sessions/{session}"),
        without_session(demo_server).get(RECORDS, headers=UNKNOWN_SESSION_HEADER),
    ]
    for reply in replies:
        assert reply.headers["content-type"] == JSON_TYPE, reply.text


@pytest.mark.parametrize("path, inventory_class", NEIGHBOURS)
def test_neighbour_routes(demo_server, path, inventory_class):
    listed = demo_server.get(f"{path}?limit=2&replyWithCount=true")
    assert listed.status == 200, listed.text
    assert listed.headers["content-type"] == JSON_TYPE
    body = listed.json()
    assert list(body) == ["schema", "total", "inventories"]
    assert body["total"] >= 1
    expected_schema = {f"inventories[{i}]": inventory_class
                       for i in reversed(range(len(body["inventories"])))}
    assert body["schema"] == expected_schema
    assert list(body["schema"]) == list(expected_schema)

    first = body["inventories"][0]
    by_uuid = demo_server.get(f"{path}/{first['uuid']}")
    assert by_uuid.status == 200
    assert by_uuid.json() == {"schema": {"inventories[0]": inventory_class},
                              "inventories": [first]}


def test_model_center_listed(demo_server):
    body = demo_server.get("/v1/ai/model-centers").json()
    assert [center["name"] for center in body["inventories"]] == ["mc-shanghai-01"]


@pytest.mark.parametrize("path, _", NEIGHBOURS)
def test_neighbour_routes_need_session(demo_server, path, _):
    missing = without_session(demo_server).get(path)
    assert missing.status == 400
    assert missing.text == "missing header 'Authorization'"
    unknown = without_session(demo_server).get(path, headers=UNKNOWN_SESSION_HEADER)
    assert unknown.status == 503
    assert unknown.body == SESSION_EXPIRED_BODY


# -- order of checks ----------------------------------------------------------


def test_order_path_before_header(demo_server):
    reply = without_session(demo_server).get("/v1/ai/nothing?limit=x")
    assert reply.status == 404
    assert reply.text == "no api mapping to /v1/ai/nothing"


@pytest.mark.parametrize("query", ["limit=x", "q=nooperator", "fields=,", "q=%ff"])
def test_order_header_before_query(demo_server, query):
    missing = without_session(demo_server).get(f"{RECORDS}?{query}")
    assert missing.status == 400
    assert missing.text == "missing header 'Authorization'"

    bearer = {"Authorization": "Bearer x"}
    wrong = without_session(demo_server).get(f"{RECORDS}?{query}", headers=bearer)
    assert wrong.status == 400
    assert wrong.text == "Authorization type must be 'OAuth'"


@pytest.mark.parametrize("query, text", [
    ("limit=x", "Invalid query parameter. 'limit' must be an integer"),
    ("start=1.5", "Invalid query parameter. 'start' must be an integer"),
    ("fields=,", "Invalid query parameter. 'fields' contains zero field"),
    ("q=%ff", "Invalid query parameter. The query string is not valid UTF-8"),
    ("q=nooperator",
     "Invalid query parameter. The 'nooperator' in the parameter[q] doesn't contain any query "
     "operator. Valid query operators are [[!=, >=, <=, !?=, !~=, ~=, ?=, =, >, <, is null, "
     "not null]]"),
])
def test_order_query_before_session(demo_server, query, text):
    reply = without_session(demo_server).get(f"{RECORDS}?{query}", headers=UNKNOWN_SESSION_HEADER)
    assert reply.status == 400
    assert reply.headers["content-type"].startswith("text/plain")
    assert reply.text == text


@pytest.mark.parametrize("query", [
    "q=nosuchfield=1",
    "sort=nosuchfield",
    "fields=nosuchfield",
    "fields=",
    "limit=-1",
    "start=-1",
    "q=nosuchexpansion.name=x",
    "q=createDate>not-a-date",
])
def test_order_session_before_fields(demo_server, query):
    live = demo_server.get(f"{RECORDS}?{query}")
    assert live.status == 503
    assert live.json()["error"]["code"] == "SYS.1007"

    reply = without_session(demo_server).get(f"{RECORDS}?{query}", headers=UNKNOWN_SESSION_HEADER)
    assert reply.status == 503
    assert reply.body == SESSION_EXPIRED_BODY


def test_order_get_by_uuid(demo_server):
    path = f"{RECORD}/{EXAMPLE_RECORD_UUID}?limit=x"
    missing = without_session(demo_server).get(path)
    assert missing.status == 400
    assert missing.text == "missing header 'Authorization'"

    unknown = without_session(demo_server).get(path, headers=UNKNOWN_SESSION_HEADER)
    assert unknown.status == 503
    assert unknown.body == SESSION_EXPIRED_BODY


# -- context path -------------------------------------------------------------


@pytest.fixture(scope="module")
def custom_server(make_module_server) -> Server:
    server = make_module_server("--admin-password", ADMIN_PASSWORD, "--context-path", "/custom",
                                context_path="/custom")
    server.session = server.login_session()
    return server


def test_context_path_moves_routes(custom_server):
    listed = custom_server.get(f"{RECORDS}?replyWithCount=true")
    assert listed.status == 200
    assert listed.body == b'{"schema":{},"total":0,"inventories":[]}'
    assert custom_server.get(f"{RECORD}/{UNKNOWN_UUID}").body == EMPTY_REPLY
    assert custom_server.get("/v1/ai/models").status == 200
    valid = custom_server.get(f"/v1/accounts/sessions/{custom_server.session}/valid")
    assert valid.body == b'{"valid":true}'


def test_context_path_old_prefix_404(custom_server):
    reply = custom_server.get(f"/zstack{RECORDS}", prefix=False)
    assert reply.status == 404
    login = custom_server.request("PUT", "/zstack/v1/accounts/login", prefix=False, body=b"{}")
    assert login.status == 404


def test_context_path_404_text(custom_server):
    reply = custom_server.get("/v1/ai/nothing")
    assert reply.status == 404
    assert reply.text == "no api mapping to /v1/ai/nothing"


def test_root_context_path(make_module_server):
    server = make_module_server("--admin-password", ADMIN_PASSWORD, "--context-path", "/",
                                context_path="")
    server.session = server.login_session()
    assert server.get(RECORDS).status == 200
    assert server.get(f"/zstack{RECORDS}", prefix=False).status == 404


@pytest.mark.parametrize("path, methods", [
    (f"{RECORDS}/{EXAMPLE_RECORD_UUID}", {"GET", "HEAD", "DELETE"}),
    ("/v1/accounts/0123456789abcdef0123456789abcdef", {"GET", "HEAD", "PUT", "DELETE"}),
])
def test_method_not_allowed_lists_all(demo_server, path, methods):
    reply = demo_server.request("PATCH", path)
    assert reply.status == 405, reply.text
    allowed = {method.strip() for method in reply.headers["allow"].split(",")}
    assert allowed == methods


def test_merged_routes_dispatch_by_method(demo_server):
    session = demo_server.login().json()["inventory"]["uuid"]
    uuid = "0123456789abcdef0123456789abcdee"
    assert demo_server.get(f"{RECORDS}/{uuid}", session=session).json()["inventories"] == []
    deleted = demo_server.request("DELETE", f"{RECORDS}/{uuid}", session=session)
    assert deleted.status == 200, deleted.text


def test_method_route_sends_head_to_get():
    calls = []

    async def get_endpoint(scope, receive, send):
        calls.append(scope["method"])

    route = MethodRoute("/x", {"GET": get_endpoint})
    scope = {"type": "http", "method": "HEAD", "path": "/x", "headers": []}
    asyncio.run(route.handle(scope, None, None))

    assert calls == ["HEAD"]


# -- GET routes looked up by path ---------------------------------------------


def starlette_choice(router: Router, path: str) -> tuple | None:
    """Return the route, GET app and path parameters that Starlette's matching picks."""
    scope = {"type": "http", "method": "GET", "path": path, "root_path": ""}
    for route in router.routes:
        match, child = route.matches(scope)
        if match is Match.FULL:
            app = route.endpoints["GET"] if isinstance(route, MethodRoute) else route.app
            return route, app, child["path_params"]
    return None


@pytest.fixture(scope="module")
def served_router(tmp_path_factory) -> NormalizingRouter:
    data_dir = tmp_path_factory.mktemp("routing")
    url = database.sqlite_url_for(data_dir)
    engine = database.create_engine(url)
    database.prepare_schema(engine)
    yield create_app(Settings(database_url=url, data_dir=data_dir), engine)
    engine.dispose()


def route_paths(router: Router, segments: list[str]) -> list[str]:
    """Fill every route's parameters with each of `segments`, and add neighbouring paths."""
    paths = []
    for route in router.routes:
        for segment in segments:
            filled = route.path
            for name in route.param_convertors:
                filled = filled.replace(f"{{{name}}}", segment)
            paths += [filled, filled + "/", filled.rpartition("/")[0], f"{filled}/{segment}"]
    return paths


SEGMENTS = [UNKNOWN_UUID, EXAMPLE_RECORD_UUID, "login", "sessions", "valid", "resources",
            "actions", "openapi.json", "0", "probe", "x y", "%2F", "ü", "\n", "x\n", "login\n",
            "\r", "\t", " ", "\x00"]


def test_get_shortcut_picks_starlettes_route(served_router):
    shortcuts = 0
    for path in route_paths(served_router, SEGMENTS):
        found = served_router.get_shortcut(path)
        if found is None:
            continue
        shortcuts += 1
        assert found == starlette_choice(served_router, path), path

    assert shortcuts > 0


def route_heads(router: Router) -> list[str]:
    """Return every route's path up to its last slash, and those heads with a slash added."""
    heads = {route.path.rpartition("/")[0] for route in router.routes}
    return sorted(heads | {f"{head}/" for head in heads})


@given(segment=st.text(alphabet=st.characters(codec="utf-8"), max_size=40))
@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_get_shortcut_any_last_segment(served_router, segment):
    for head in route_heads(served_router):
        path = f"{head}/{segment}"
        found = served_router.get_shortcut(path)
        if found is not None:
            assert found == starlette_choice(served_router, path), path


def test_get_shortcut_leaves_final_newline(served_router):
    # `$` in Starlette's patterns matches before a final newline, so the
    # static alias "groups/" takes "groups/\n", not the GET-by-uuid route.
    path = "/zstack/v1/ai/model-services/instances/groups/\n"

    chosen = starlette_choice(served_router, path)

    assert served_router.get_shortcut(path) is None
    assert chosen is not None
    assert chosen[0].path == "/zstack/v1/ai/model-services/instances/groups/"


def test_get_shortcut_serves_query_routes(served_router):
    listed = served_router.get_shortcut("/zstack/v1/ai/trained-model/records")
    record = served_router.get_shortcut(f"/zstack/v1/ai/trained-model/record/{UNKNOWN_UUID}")

    assert listed is not None
    assert record is not None
    assert record[2] == {"uuid": UNKNOWN_UUID}


async def named(scope, receive, send):
    """An endpoint that the synthetic routers below never call."""


@pytest.mark.parametrize("routes, path, expected", [
    # An earlier parameter route takes every last segment, so it keeps them.
    ([Route("/a/{first}", named), Route("/a/{uuid}", named)], "/a/1", 0),
    # An earlier static GET route keeps its own segment only.
    ([Route("/a/login", named), Route("/a/{uuid}", named)], "/a/login", 0),
    ([Route("/a/login", named), Route("/a/{uuid}", named)], "/a/other", 1),
    # A route without GET does not take a GET, so the later route does.
    ([Route("/a/login", named, methods=["PUT"]), Route("/a/{uuid}", named)], "/a/login", 1),
    # A parameter before the last segment, or a convertor: no shortcut.
    ([Route("/{x}/b", named)], "/a/b", None),
    ([Route("/a/{n:int}", named)], "/a/5", None),
])
def test_get_shortcut_synthetic_routes(routes, path, expected):
    router = NormalizingRouter(routes=routes)

    found = router.get_shortcut(path)

    if expected is None:
        assert found is None
    else:
        assert found is not None
        assert found[0] is routes[expected]
        assert found == starlette_choice(router, path)


class ScopeRecorder:
    """An ASGI app that keeps the scope of every call."""

    def __init__(self) -> None:
        self.scopes = []

    async def __call__(self, scope, receive, send) -> None:
        self.scopes.append(scope)


def test_get_shortcut_sets_starlettes_keys():
    recorder = ScopeRecorder()
    router = NormalizingRouter(routes=[Route("/a/{uuid}", recorder)])
    scope = {"type": "http", "method": "GET", "path": "/a/7", "root_path": "", "headers": [],
             "query_string": b""}
    asyncio.run(router(scope, None, None))

    assert len(recorder.scopes) == 1
    seen = recorder.scopes[0]
    assert seen["path_params"] == {"uuid": "7"}
    assert seen["router"] is router
    assert seen["route"] is router.routes[0]
    assert seen["endpoint"] is recorder
