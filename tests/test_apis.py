"""The API registry and the server agree: every listed API has a route."""

import pytest

from aios_records.apis import API_SPECS
from aios_records.resources import QUERY_RESOURCES

SOME_UUID = "0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="module")
def server(make_module_server):
    return make_module_server("--admin-password", "password")


def test_one_query_api_per_resource():
    queried = sorted(spec.resource.name for spec in API_SPECS.values() if spec.kind == "query")
    assert queried == sorted(QUERY_RESOURCES)


@pytest.mark.parametrize("name", sorted(API_SPECS))
def test_server_routes_every_api(server, name):
    spec = API_SPECS[name]
    path = spec.path.replace("{uuid}", SOME_UUID).replace("{sessionUuid}", SOME_UUID)
    body = "{}" if spec.body_key else None

    reply = server.request(spec.method, path, body=body, session=None)

    if spec.needs_session:
        assert (reply.status, reply.text) == (400, "missing header 'Authorization'")
    else:
        assert reply.status in (200, 503), reply.text
        assert reply.headers["content-type"] == "application/json;charset=utf-8"
