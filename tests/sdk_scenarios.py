"""One successful and one failing call of every API, shared by both SDK test modules.

A scenario gives the parameters as zssdk action attributes (`uuid`,
`name`, `conditions`, ...). `client_arguments()` turns them into the path
parameters, body and query parameters of `Client.call`, so both SDK styles
run the same calls. The world the scenarios need is set up with plain HTTP
requests, independent of the SDK.
"""

from __future__ import annotations

import itertools
import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from conftest import Server, sha512

from aios_records.apis import API_SPECS, ApiSpec
from aios_records.sdk.parameters import TAG_PARAMETERS
from aios_records.sdk.transport import path_parameters

INVALID_SESSION = "0" * 32
NORMAL_PASSWORD = "normal-secret"


@dataclass
class ApiCall:
    """A call to make: parameters, session, and what the reply must show.

    `check` inspects the reply object of a successful call. A failing call
    names the error `code` and HTTP `status` it must get.
    """

    parameters: dict
    session: str | None
    check: Callable[[dict], None] = field(default=lambda value: None)
    code: str | None = None
    status: int | None = None


class World:
    """A server with an admin session, a normal account and one row of each resource."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.admin = server.login_session()
        self._names = itertools.count()

        self.normal_name = self.unique("normal")
        self.normal_account = self.create("CreateAccount", {
            "name": self.normal_name, "password": sha512(NORMAL_PASSWORD)})["uuid"]
        self.normal = server.login_session(self.normal_name, NORMAL_PASSWORD)

        self.uuids: dict[str, str] = {"Account": self.normal_account}
        for resource in ("ModelCenter", "Model", "Dataset", "ModelServiceInstanceGroup",
                         "TrainedModelRecord", "UserTag", "SystemTag"):
            self.uuids[resource] = self.fresh(resource)

    def unique(self, prefix: str) -> str:
        return f"{prefix}-{next(self._names)}"

    def request(self, method: str, path: str, body: dict | None = None,
                session: str | None = None) -> dict:
        reply = self.server.request(method, path, body=json.dumps(body) if body else None,
                                    session=session or self.admin)
        assert reply.status == 200, reply.text
        return reply.json()

    def create(self, api_name: str, section: dict) -> dict:
        spec = API_SPECS[api_name]
        return self.request(spec.method, spec.path, {spec.body_key: section})["inventory"]

    def create_body(self, resource: str) -> dict:
        """Return a valid create body section for a new row of `resource`."""
        if resource == "ModelCenter":
            return {"name": self.unique("center"), "managementIp": "192.0.2.10",
                    "managementPort": 8989}
        if resource in ("Model", "Dataset"):
            return {"name": self.unique(resource.lower()),
                    "modelCenterUuid": self.uuids["ModelCenter"]}
        if resource == "ModelServiceInstanceGroup":
            return {"name": self.unique("group"), "status": "Running",
                    "modelServiceType": "FineTune", "type": "Container"}
        if resource == "TrainedModelRecord":
            return {"modelUuid": self.uuids["Model"],
                    "modelServiceInstanceGroupUuid": self.uuids["ModelServiceInstanceGroup"]}
        if resource == "Account":
            return {"name": self.unique("account"), "password": "plain-password"}
        if resource in ("UserTag", "SystemTag"):
            return {"resourceType": "ModelVO", "resourceUuid": self.uuids["Model"],
                    "tag": self.unique("tag")}
        raise AssertionError(f"no create body for {resource}")

    def fresh(self, resource: str) -> str:
        """Create a new row of `resource` and return its uuid."""
        api_name = next(spec.name for spec in API_SPECS.values()
                        if spec.kind == "create" and spec.resource.name == resource)
        section = self.create_body(resource)
        if resource == "Account":
            section["password"] = sha512(section["password"])
        return self.create(api_name, section)["uuid"]

    def visible(self, resource: str, uuid: str) -> bool:
        path = API_SPECS[f"Query{resource}"].path
        return bool(self.request("GET", f"{path}?q=uuid={uuid}")["inventories"])

    def session_valid(self, session: str) -> bool:
        return self.request("GET", f"/v1/accounts/sessions/{session}/valid")["valid"]


def success_call(world: World, api_name: str) -> ApiCall:
    """Return a call of `api_name` that succeeds, with a check of its reply."""
    spec = API_SPECS[api_name]
    resource = spec.resource.name if spec.resource is not None else None

    if spec.kind == "login":
        def check_login(value):
            assert len(value["inventory"]["uuid"]) == 32
        return ApiCall({"accountName": "admin", "password": "password"}, None, check_login)

    if spec.kind == "logout":
        session = world.server.login_session()

        def check_logout(value):
            assert value == {}
            assert not world.session_valid(session)
        return ApiCall({"sessionUuid": session}, None, check_logout)

    if spec.kind == "validate":
        return ApiCall({"sessionUuid": world.admin}, None,
                       lambda value: _assert_equal(value, {"valid": True}))

    if spec.kind == "query":
        uuid = world.uuids[resource]

        def check_query(value):
            assert [item["uuid"] for item in value["inventories"]] == [uuid]
        return ApiCall({"conditions": [f"uuid={uuid}"], "limit": 1}, world.admin, check_query)

    if spec.kind == "create":
        parameters = world.create_body(resource)
        if resource == "Model":
            parameters["userTags"] = [world.unique("created-with-tag")]

        def check_create(value):
            inventory = value["inventory"]
            assert len(inventory["uuid"]) == 32
            assert world.visible(resource, inventory["uuid"])
            for name in ("name", "tag", "modelUuid"):
                if name in parameters:
                    assert inventory[name] == parameters[name]
            if "userTags" in parameters:
                tags = world.request(
                    "GET", f"/v1/user-tags?q=resourceUuid={inventory['uuid']}")["inventories"]
                assert [tag["tag"] for tag in tags] == parameters["userTags"]
        return ApiCall(parameters, world.admin, check_create)

    if spec.kind == "update":
        uuid = world.normal_account if resource == "Account" else world.fresh(resource)
        description = world.unique("described & updated 中文")

        def check_update(value):
            assert value["inventory"]["uuid"] == uuid
            assert value["inventory"]["description"] == description
        return ApiCall({"uuid": uuid, "description": description}, world.admin, check_update)

    if spec.kind == "delete":
        tag_resource = resource or "UserTag"
        uuid = world.fresh(tag_resource)

        def check_delete(value):
            assert value == {}
            assert not world.visible(tag_resource, uuid)
        return ApiCall({"uuid": uuid, "deleteMode": "Permissive"}, world.admin, check_delete)

    if spec.name in ("ShareResource", "RevokeResourceSharing"):
        model = world.fresh("Model")
        if spec.name == "RevokeResourceSharing":
            world.request("PUT", spec.path, {"shareResource": {
                "resourceUuids": [model], "accountUuids": [world.normal_account]}})
        expected = spec.name == "ShareResource"

        def check_sharing(value):
            assert value == {}
            reply = world.request("GET", f"/v1/ai/models?q=uuid={model}", session=world.normal)
            assert bool(reply["inventories"]) is expected
        return ApiCall({"resourceUuids": [model], "accountUuids": [world.normal_account]},
                       world.admin, check_sharing)

    raise AssertionError(f"no success scenario for {api_name}")


def error_call(world: World, api_name: str) -> ApiCall:
    """Return a call of `api_name` that fails, with the error code and status it gets.

    Admin-only APIs fail for the normal account with ID.1002. The others
    fail on a bad argument (SYS.1007), a wrong password (ID.1000), an
    invalid session (ID.1001, for deletes, which ignore unknown uuids), or
    a path parameter containing `/` (the plain-text 404).
    """
    spec = API_SPECS[api_name]
    if spec.admin_only:
        call = success_call(world, api_name)
        return ApiCall(call.parameters, world.normal, code="ID.1002", status=503)
    if spec.kind == "login":
        return ApiCall({"accountName": "admin", "password": "wrong"}, None,
                       code="ID.1000", status=503)
    if spec.kind in ("logout", "validate"):
        return ApiCall({"sessionUuid": "not/a-session"}, None, code="HTTP.404", status=404)
    if spec.kind == "query":
        return ApiCall({"conditions": ["noSuchField=1"]}, world.admin, code="SYS.1007",
                       status=503)
    if spec.kind == "create":
        return ApiCall({}, world.admin, code="SYS.1007", status=503)
    if spec.kind == "update":
        return ApiCall({"uuid": "0123456789abcdef0123456789abcdef", "description": "x"},
                       world.admin, code="SYS.1007", status=503)
    if spec.kind == "delete":
        return ApiCall({"uuid": "0123456789abcdef0123456789abcdef"}, INVALID_SESSION,
                       code="ID.1001", status=503)
    if spec.kind == "action":
        return ApiCall({"accountUuids": [world.normal_account]}, world.admin, code="SYS.1007",
                       status=503)
    raise AssertionError(f"no error scenario for {api_name}")


def client_arguments(spec: ApiSpec, parameters: dict) -> dict:
    """Turn action attributes into `Client.call` keyword arguments, as the wire carries them."""
    remaining = dict(parameters)
    path_params = {name: remaining.pop(name) for name in path_parameters(spec)
                   if name in remaining}
    arguments: dict = {"path_params": path_params}
    if spec.kind == "query":
        arguments["params"] = {"q": remaining.pop("conditions", []),
                               "limit": remaining.pop("limit", None)}
    elif spec.kind == "delete":
        arguments["params"] = {"deleteMode": remaining.pop("deleteMode", None)}
    if spec.body_key is not None:
        body: dict = {name: remaining.pop(name) for name in TAG_PARAMETERS if name in remaining}
        section = {name: sha512(value) if name == "password" else value
                   for name, value in remaining.items()}
        arguments["body"] = {spec.body_key: section, **body}
        remaining = {}
    assert not remaining, f"parameters left over for {spec.name}: {remaining}"
    return arguments


@pytest.fixture
def silent_port():
    """A loopback port that accepts connections and never replies, for timeout tests."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.1)
    accepted = []
    stop = threading.Event()

    def accept():
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    listener.close()


class CountingProxy:
    """A loopback TCP proxy to `port` that counts the connections clients open."""

    def __init__(self, port: int) -> None:
        self.upstream_port = port
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self._sockets: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return self._listener.getsockname()[1]

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            self.connections += 1
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            self._sockets.extend((client, upstream))
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(source, target), daemon=True).start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        for sock in self._sockets:
            sock.close()
        self._listener.close()


def _pump(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
        target.shutdown(socket.SHUT_WR)
    except OSError:
        pass  # the other side closed; the proxy is shutting down


def _assert_equal(actual, expected) -> None:
    assert actual == expected
