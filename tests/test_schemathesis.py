"""Fuzz every route of a live server with schemathesis, against the server's own OpenAPI document.

One server process on a loopback port serves a small demo world. Each
operation of the document becomes one test that sends generated requests,
valid and invalid ones (schemathesis's positive and negative modes plus its
coverage phase). Every request carries the admin's session in the
Authorization header, so it gets past the session check to the query and
body checks.

A request fails the test when the server returns 500 or SYS.1000, returns a
status, content type or body that the document does not list, puts a Python
traceback in a body, or takes longer than 10 seconds.

`AIOS_RECORDS_FUZZ_EXAMPLES` (Hypothesis examples per operation in the
fuzzing phase, default 25) and `AIOS_RECORDS_FUZZ_SEED` (default 1) run a
longer or a different fuzz locally.
"""

from __future__ import annotations

import os

import orjson
import pytest
import schemathesis
from conftest import database_url_for, run_cli, without_session
from openapi_spec_validator import validate
from schemathesis.checks import max_response_time, not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from aios_records.apis import API_SPECS
from aios_records.http.envelopes import JSON_CONTENT_TYPE, TEXT_CONTENT_TYPE
from aios_records.http.openapi import build_openapi
from aios_records.resources import RESOURCES

CONTEXT_PATH = "/zstack"
MAX_EXAMPLES = int(os.environ.get("AIOS_RECORDS_FUZZ_EXAMPLES", "25"))
SEED = int(os.environ.get("AIOS_RECORDS_FUZZ_SEED", "1"))
RESPONSE_TIME_LIMIT = 10.0

CONFIG = schemathesis.Config.from_dict({
    "seed": SEED,
    "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "database": "none"},
    "phases": {"stateful": {"enabled": False}},
    "checks": {
        # ZStack returns every API error as 503 with a JSON body, so only the
        # other 5xx statuses count as server errors. `no_internal_error` checks SYS.1000.
        "not_a_server_error": {"expected-statuses": ["2XX", "4XX", "503"]},
        "max_response_time": RESPONSE_TIME_LIMIT,
    },
})
schema = schemathesis.openapi.from_dict(build_openapi(CONTEXT_PATH), config=CONFIG)

TRACEBACK_MARKERS = (b"Traceback (most recent call last)", b'File "/', b".py\", line ")


def exact_content_type(ctx, response, case):
    """Check the whole Content-Type header, which schemathesis compares without parameters."""
    if case.method == "HEAD" or response.status_code not in (200, 400, 404, 503):
        return
    received = response.headers.get("content-type", [None])[0]
    expected = TEXT_CONTENT_TYPE if response.status_code in (400, 404) else JSON_CONTENT_TYPE
    assert received == expected, f"Content-Type {received!r}, expected {expected!r}"


def no_traceback(ctx, response, case):
    """Check that no reply body carries a Python traceback."""
    for marker in TRACEBACK_MARKERS:
        assert marker not in response.content, f"the body contains {marker!r}"


def no_internal_error(ctx, response, case):
    """Check that bad input never gets SYS.1000, the code of unexpected failures."""
    if response.status_code != 503 or case.method == "HEAD":
        return
    error = orjson.loads(response.content).get("error", {})
    assert error.get("code") != "SYS.1000", f"SYS.1000 reply: {error.get('details')}"


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    max_response_time,
    exact_content_type,
    no_traceback,
    no_internal_error,
]


@pytest.fixture(scope="module")
def fuzz_server(make_module_server, tmp_path_factory):
    """A server over a 200-record demo world that the fuzz may change at will."""
    data_dir = tmp_path_factory.mktemp("fuzz")
    run_cli("demo-data", "--data-dir", str(data_dir), "--database-url",
            database_url_for(data_dir), "--records", "200", "--seed", "1")
    server = make_module_server(data_dir=data_dir)
    server.session = server.login_session()
    return server


def test_document_is_valid_openapi():
    validate(build_openapi(CONTEXT_PATH))


def test_document_has_every_api():
    operations = [operation for item in build_openapi(CONTEXT_PATH)["paths"].values()
                  for operation in item.values()]
    documented = set()
    for operation in operations:
        names = operation.get("x-zstack-api", [])
        documented.update([names] if isinstance(names, str) else names)

    assert documented == set(API_SPECS)


@pytest.mark.parametrize("resource", RESOURCES.values(), ids=lambda resource: resource.name)
def test_create_body_follows_write_spec(resource):
    schemas = build_openapi(CONTEXT_PATH)["components"]["schemas"]
    spec = resource.writes
    body = schemas[f"{spec.create_api}Request"]
    section = body["properties"][spec.create_body_keys[0]]

    assert section["required"] == list(spec.required)
    for name, choices in spec.choices.items():
        nullable = [] if name in spec.required else [None]
        assert section["properties"][name]["enum"] == [*choices, *nullable]
    for field in resource.fields:
        if field.name in section["properties"] and field.max_length is not None:
            assert section["properties"][field.name]["maxLength"] == field.max_length


def test_document_follows_context_path(make_server):
    server = make_server("--admin-password", "password", "--context-path", "/api",
                         context_path="/api")

    reply = server.request("GET", "/openapi.json")

    assert reply.status == 200
    assert reply.json()["servers"] == [{"url": "/api"}]


def test_served_document_is_generated_one(fuzz_server):
    reply = without_session(fuzz_server).request("GET", "/openapi.json")

    assert reply.status == 200
    assert reply.headers["content-type"] == JSON_CONTENT_TYPE
    assert reply.json() == build_openapi(CONTEXT_PATH)


@schema.parametrize()
def test_route_survives_fuzzing(case, fuzz_server):
    base_url = f"http://127.0.0.1:{fuzz_server.port}{CONTEXT_PATH}"
    case.call_and_validate(
        base_url=base_url,
        headers={"Authorization": f"OAuth {fuzz_server.session}"},
        checks=CHECKS,
        timeout=RESPONSE_TIME_LIMIT + 5,
    )
