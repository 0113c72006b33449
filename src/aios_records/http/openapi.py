"""The OpenAPI 3 document of every route, built from `API_SPECS` and the resources.

No path, parameter or schema is written here per API: operations come from
`apis.API_SPECS`, request bodies from each resource's `WriteSpec` and fields,
and reply schemas from the inventory fields. An API or field added there
appears in the document at once. The server sends the document at
`{context-path}/openapi.json`, and the schemathesis test fuzzes the server
against it.
"""

from __future__ import annotations

import re
from functools import lru_cache

import orjson

from .. import __version__
from ..accounts.management import NORMAL as NORMAL_ACCOUNT_TYPE
from ..apis import API_SPECS, ApiSpec
from ..errors import DESCRIPTIONS
from ..query.language import INT32_MAX, MAX_CONDITIONS, OPERATORS
from ..resources import (
    ACCOUNT,
    OWNED_RESOURCES,
    QUERY_RESOURCES,
    RESOURCES,
    TAG_FIELDS,
    USER_TAG,
    Field,
    FieldType,
    Resource,
)
from ..timestamps import MONTHS
from ..writes.validation import NON_BLANK_FIELDS, value_range, writable_fields
from .envelopes import JSON_CONTENT_TYPE, TEXT_CONTENT_TYPE

OPENAPI_VERSION = "3.0.3"
DOCUMENT_PATH = "/openapi.json"
SECURITY_SCHEME = "session"

UUID_PATTERN = "^[0-9a-fA-F]{32}$"
# The reply format of timestamps, `Nov 19, 2025 6:20:07 PM`.
REPLY_DATE_PATTERN = (
    f"^(?:{'|'.join(MONTHS)}) [1-9][0-9]?, [0-9]{{1,4}} (?:1[0-2]|[1-9]):[0-5][0-9]:[0-5][0-9] "
    "(?:AM|PM)$"
)

_REF = "#/components/schemas/"
_REGEX_SPECIAL = frozenset("\\^$.|?*+()[]{}")


def ref(name: str) -> dict:
    return {"$ref": _REF + name}


@lru_cache(maxsize=8)
def openapi_bytes(context_path: str) -> bytes:
    """Return the encoded document for a server under `context_path` (cached)."""
    return orjson.dumps(build_openapi(context_path))


def build_openapi(context_path: str) -> dict:
    """Build the OpenAPI 3 document of every route under `context_path`."""
    paths: dict[str, dict] = {}
    for path, method, operation in _operations():
        paths.setdefault(path, {})[method] = operation
    paths[DOCUMENT_PATH] = {"get": _document_operation()}
    for item in paths.values():
        if "get" in item:
            # Starlette routes HEAD to every GET endpoint, and uvicorn drops the body.
            item["head"] = _head_operation(item["get"])
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "aios-records",
            "version": __version__,
            "description": (
                "ZStack AIOS trained-model record API. Paths start at the context path given "
                "in `servers`. Generated from the server's API registry."
            ),
        },
        "servers": [{"url": context_path or "/"}],
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": _component_schemas(),
                       "securitySchemes": {SECURITY_SCHEME: _security_scheme()}},
        "security": [{SECURITY_SCHEME: []}],
    }


# -- operations ---------------------------------------------------------------


def _operations() -> list[tuple[str, str, dict]]:
    """Return (path, method, operation) for every route the server has."""
    operations: list[tuple[str, str, dict]] = []
    merged: dict[tuple[str, str], list[ApiSpec]] = {}
    for spec in API_SPECS.values():
        if spec.kind == "query":
            operations.extend(_query_operations(spec))
        else:
            merged.setdefault((spec.path, spec.method.lower()), []).append(spec)
    for (path, method), specs in merged.items():
        # ShareResource and RevokeResourceSharing share one route, and the body key selects the API.
        operations.append((path, method, _write_operation(path, specs)))
    return operations


def _query_operations(spec: ApiSpec) -> list[tuple[str, str, dict]]:
    resource = spec.resource
    operations = []
    list_paths = (resource.query_path, *resource.list_path_aliases)
    for index, path in enumerate(list_paths):
        operation_id = spec.name if index == 0 else f"{spec.name}Alias{index}"
        operation = {
            "operationId": operation_id,
            "summary": f"{spec.name}: list {resource.name} inventories matching the conditions",
            "x-zstack-api": spec.name,
            "parameters": [*_query_parameters(resource), _accept_language()],
            "responses": _responses(spec, ref(f"{resource.name}InventoriesReply"),
                                    path_has_parameters=False),
        }
        operations.append((path, "get", operation))

    get_paths = (resource.query_path, *resource.extra_query_paths)
    for index, prefix in enumerate(get_paths):
        suffix = "" if index == 0 else f"Alias{index}"
        operation = {
            "operationId": f"{spec.name}ByUuid{suffix}",
            "summary": (f"{spec.name}: the {resource.name} with this uuid, or an empty list "
                        "when it does not exist or is not visible. Every query parameter is "
                        "ignored."),
            "x-zstack-api": spec.name,
            "parameters": [_path_parameter("uuid"), _accept_language()],
            "responses": _responses(spec, ref(f"{resource.name}InventoryByUuidReply"),
                                    path_has_parameters=True),
        }
        operations.append((f"{prefix}/{{uuid}}", "get", operation))
    return operations


def _head_operation(get_operation: dict) -> dict:
    """Return the HEAD twin of a GET operation: the same statuses, no bodies."""
    responses = {
        status: {"description": response["description"],
                 "headers": {"Content-Type": {"schema": {"type": "string"}}}}
        for status, response in get_operation["responses"].items()
    }
    return {**get_operation, "operationId": "Head" + get_operation["operationId"],
            "summary": "The GET of the same path without a body", "responses": responses}


def _write_operation(path: str, specs: list[ApiSpec]) -> dict:
    spec = specs[0]
    names = [s.name for s in specs]
    bodies = [_request_body_schema(s) for s in specs]
    body = bodies[0] if len(bodies) == 1 else {"anyOf": bodies}
    parameters = [_path_parameter(name) for name in re.findall(r"{(\w+)}", path)]
    operation: dict = {
        "operationId": "Or".join(names),
        "summary": " or ".join(names) + (" (admin only)" if spec.admin_only else ""),
        "x-zstack-api": names[0] if len(names) == 1 else names,
        "parameters": [*parameters, _accept_language()],
        "responses": _responses(spec, _success_schema(spec), path_has_parameters=bool(parameters)),
    }
    if spec.body_key is not None:
        operation["requestBody"] = {"required": True,
                                    "content": {"application/json": {"schema": body}}}
    if not spec.needs_session:
        operation["security"] = []
    return operation


def _document_operation() -> dict:
    return {
        "operationId": "GetOpenApiDocument",
        "summary": "This document",
        "security": [],
        "responses": {"200": {
            "description": "The OpenAPI document",
            "content": {JSON_CONTENT_TYPE: {"schema": {
                "type": "object", "required": ["openapi", "info", "paths"],
            }}},
        }},
    }


def _success_schema(spec: ApiSpec) -> dict:
    if spec.reply == "empty":
        return ref("EmptyReply")
    if spec.reply == "valid":
        return ref("ValidReply")
    if spec.kind == "login":
        return ref("LogInReply")
    return ref(f"{spec.resource.name}InventoryReply")


def _responses(spec: ApiSpec, success: dict, path_has_parameters: bool) -> dict:
    responses = {"200": {"description": "Success",
                         "content": {JSON_CONTENT_TYPE: {"schema": success}}}}
    if spec.needs_session or spec.body_key is not None or spec.kind == "query":
        responses["400"] = _text_response(
            "Missing or malformed Authorization header, malformed query string, or a request "
            "over a documented limit")
    if path_has_parameters:
        responses["404"] = _text_response(
            "No route: `no api mapping to <path>` (a path parameter containing `/` makes "
            "another path)")
    responses["503"] = {
        "description": "ZStack error: invalid argument (SYS.1007), invalid session (ID.1001), "
                       "permission (ID.1002, SYS.1006), authentication (ID.1000), "
                       "internal error (SYS.1000)",
        "content": {JSON_CONTENT_TYPE: {"schema": ref("ErrorReply")}},
    }
    return responses


def _text_response(description: str) -> dict:
    return {"description": description,
            "content": {TEXT_CONTENT_TYPE: {"schema": {"type": "string"}}}}


# -- parameters ---------------------------------------------------------------


def _path_parameter(name: str) -> dict:
    return {"name": name, "in": "path", "required": True,
            "schema": {"type": "string", "pattern": UUID_PATTERN}}


def _accept_language() -> dict:
    return {"name": "Accept-Language", "in": "header", "required": False,
            "description": "`zh-CN` or `en` selects the language of error details",
            "schema": {"type": "string"}}


def _regex_literal(text: str) -> str:
    """Escape `text` for an ECMA-262 pattern, where `re.escape`'s `\\ ` and `\\~` are invalid."""
    return "".join("\\" + char if char in _REGEX_SPECIAL else char for char in text)


def _alternation(names: list[str] | tuple[str, ...]) -> str:
    return "(?:" + "|".join(_regex_literal(name) for name in names) + ")"


def condition_fields(resource: Resource) -> list[str]:
    """Return the field paths a `q` condition may name: own fields, tag fields, one hop."""
    names = [*resource.field_names, *TAG_FIELDS]
    for expansion in resource.expansions:
        target = QUERY_RESOURCES[expansion.target]
        names.extend(f"{expansion.name}.{name}" for name in target.field_names)
    return names


def _query_parameters(resource: Resource) -> list[dict]:
    fields = _alternation(resource.field_names)
    condition = (f"^{_alternation(condition_fields(resource))} ?"
                 f"{_alternation(OPERATORS)}.*$")
    page = {"type": "integer", "format": "int32", "minimum": 0, "maximum": INT32_MAX}
    return [
        {"name": "q", "in": "query", "style": "form", "explode": True,
         "description": "Conditions, all ANDed: `field<operator>value`",
         "schema": {"type": "array", "maxItems": MAX_CONDITIONS,
                    "items": {"type": "string", "pattern": condition}}},
        {"name": "limit", "in": "query", "description": "Page size, default 1000",
         "schema": page},
        {"name": "start", "in": "query", "description": "Offset, default 0", "schema": page},
        {"name": "count", "in": "query", "description": "Reply only `total`",
         "schema": {"type": "boolean"}},
        {"name": "replyWithCount", "in": "query", "description": "Add `total` to the reply",
         "schema": {"type": "boolean"}},
        {"name": "sort", "in": "query", "description": "`+field` ascending, `-field` descending",
         "schema": {"type": "string", "pattern": f"^[+-]?{fields}$"}},
        {"name": "fields", "in": "query", "description": "Comma-separated fields to reply",
         "schema": {"type": "string", "pattern": f"^{fields}(?:,{fields})*,?$"}},
        {"name": "groupBy", "in": "query", "description": "Accepted and ignored",
         "schema": {"type": "string"}},
        {"name": "filterName", "in": "query", "description": "Accepted and ignored",
         "schema": {"type": "string"}},
    ]


def _security_scheme() -> dict:
    return {"type": "apiKey", "in": "header", "name": "Authorization",
            "description": "`OAuth <session uuid>`, the uuid from LogInByAccount"}


# -- request bodies -----------------------------------------------------------


def _request_body_schema(spec: ApiSpec) -> dict:
    if spec.kind == "login":
        return ref("LogInByAccountRequest")
    return ref(f"{spec.name}Request")


def _write_field_schema(field: Field, choices: dict[str, tuple[str, ...]],
                        required: bool) -> dict:
    """Return the schema of a field as the write APIs check it (`check_value`)."""
    if field.type is FieldType.STRING:
        schema: dict = {"type": "string"}
        if field.max_length is not None:
            schema["maxLength"] = field.max_length
        if field.name in choices:
            schema["enum"] = list(choices[field.name])
        if field.name in NON_BLANK_FIELDS:
            schema["pattern"] = r"\S"
    elif field.type is FieldType.BOOL:
        schema = {"type": "boolean"}
    else:
        low, high = value_range(field)
        schema = {"type": "integer", "format": "int32" if field.type is FieldType.INT else "int64",
                  "minimum": low, "maximum": high}
    if not required:
        # A null value counts as absent. OpenAPI 3.0 wants null listed in an enum too.
        schema["nullable"] = True
        if "enum" in schema:
            schema["enum"].append(None)
    return schema


def _section(properties: dict, required: list[str] | tuple[str, ...] = ()) -> dict:
    section: dict = {"type": "object", "properties": properties}
    if required:
        section["required"] = list(required)
    return section


def _resource_uuid() -> dict:
    return {"type": "string", "pattern": UUID_PATTERN, "nullable": True,
            "description": "The uuid of the new resource. A retry with the same uuid and "
                           "content returns the existing resource."}


def _string_list() -> dict:
    return {"type": "array", "items": {"type": "string"}}


def _create_request(resource: Resource) -> dict:
    spec = resource.writes
    properties = {
        field.name: _write_field_schema(field, spec.choices, field.name in spec.required)
        for field in writable_fields(resource, updating=False)
    }
    properties["resourceUuid"] = _resource_uuid()
    section = _section(properties, spec.required)
    body: dict = {"type": "object",
                  "properties": {key: section for key in spec.create_body_keys}}
    tags = {"type": "array", "nullable": True,
            "items": {"type": "string", "maxLength": USER_TAG.field("tag").max_length}}
    body["properties"]["systemTags"] = {**tags, "description": "Tags to add (admin only)"}
    body["properties"]["userTags"] = tags
    if len(spec.create_body_keys) == 1:
        body["required"] = [spec.create_body_keys[0]]
    else:
        body["anyOf"] = [{"required": [key]} for key in spec.create_body_keys]
    return body


def _update_request(resource: Resource) -> dict:
    spec = resource.writes
    properties = {
        field.name: _write_field_schema(field, spec.choices, required=False)
        for field in writable_fields(resource, updating=True)
    }
    return {"type": "object", "required": [spec.update_body_key],
            "properties": {spec.update_body_key: _section(properties)}}


def _account_requests() -> dict[str, dict]:
    name = _write_field_schema(ACCOUNT.field("name"), {}, required=True)
    description = _write_field_schema(ACCOUNT.field("description"), {}, required=False)
    password = {"type": "string", "description": "SHA-512 hex digest of the password"}
    create = _section({
        "name": name, "password": password, "description": description,
        "type": {"type": "string", "enum": [NORMAL_ACCOUNT_TYPE, None], "nullable": True},
        "resourceUuid": _resource_uuid(),
    }, ("name", "password"))
    update = _section({"name": {**name, "nullable": True}, "description": description,
                       "password": {**password, "nullable": True}})
    return {
        "CreateAccountRequest": {"type": "object", "required": ["params"],
                                 "properties": {"params": create}},
        "UpdateAccountRequest": {"type": "object", "required": ["updateAccount"],
                                 "properties": {"updateAccount": update}},
    }


def _tag_request() -> dict:
    section = _section({
        "resourceType": {"type": "string",
                         "enum": [resource.table for resource in OWNED_RESOURCES.values()]},
        "resourceUuid": {"type": "string", "pattern": UUID_PATTERN},
        "tag": _write_field_schema(USER_TAG.field("tag"), {}, required=True),
    }, ("resourceType", "resourceUuid", "tag"))
    return {"type": "object", "required": ["params"], "properties": {"params": section}}


def _sharing_request(body_key: str) -> dict:
    properties = {
        "resourceUuids": {**_string_list(), "minItems": 1},
        "accountUuids": {**_string_list(), "nullable": True},
        "toPublic": {"type": "boolean", "nullable": True,
                     "description": "Share with every account (admin only)"},
    }
    if body_key == "revokeResourceSharing":
        properties["all"] = {"type": "boolean", "nullable": True,
                             "description": "Revoke every share of the resources"}
    return {"type": "object", "required": [body_key],
            "properties": {body_key: _section(properties, ("resourceUuids",))}}


def _login_request() -> dict:
    optional = {"type": "string", "nullable": True, "description": "Accepted and ignored"}
    section = _section({
        "accountName": {"type": "string"},
        "password": {"type": "string", "description": "SHA-512 hex digest of the password"},
        "accountType": optional, "captchaUuid": optional, "verifyCode": optional,
        "clientInfo": {"nullable": True, "description": "Accepted and ignored"},
    }, ("accountName", "password"))
    return {"type": "object", "required": ["logInByAccount"],
            "properties": {"logInByAccount": section}}


def _request_schemas() -> dict[str, dict]:
    schemas = {"LogInByAccountRequest": _login_request(), **_account_requests()}
    for resource in RESOURCES.values():
        spec = resource.writes
        schemas[f"{spec.create_api}Request"] = _create_request(resource)
        if spec.update_api is not None:
            schemas[f"{spec.update_api}Request"] = _update_request(resource)
    for spec in API_SPECS.values():
        if spec.kind == "action":
            schemas[f"{spec.name}Request"] = _sharing_request(spec.body_key)
        elif spec.kind == "create" and spec.resource.name.endswith("Tag"):
            schemas[f"{spec.name}Request"] = _tag_request()
    return schemas


# -- replies ------------------------------------------------------------------


def _reply_field_schema(field: Field) -> dict:
    if field.type is FieldType.STRING:
        return {"type": "string"}
    if field.type is FieldType.TIMESTAMP:
        return {"type": "string", "pattern": REPLY_DATE_PATTERN}
    if field.type is FieldType.BOOL:
        return {"type": "boolean"}
    return {"type": "integer", "format": "int32" if field.type is FieldType.INT else "int64"}


def _inventory_schema(resource: Resource, with_required: bool) -> dict:
    """Return the inventory object. The server omits null fields, so none is nullable."""
    schema: dict = {
        "type": "object",
        "properties": {field.name: _reply_field_schema(field) for field in resource.fields},
        "additionalProperties": False,
    }
    required = [field.name for field in resource.fields if not field.nullable]
    if with_required and required:
        schema["required"] = required
    return schema


def _inventories_reply(resource: Resource, item: dict, max_items: int | None = None) -> dict:
    inventories: dict = {"type": "array", "items": item}
    if max_items is not None:
        inventories["maxItems"] = max_items
    return {
        "type": "object",
        "required": ["schema"],
        "properties": {
            "schema": {"type": "object", "description": "`inventories[N]` to the Java class name",
                       "additionalProperties": {"type": "string",
                                                "enum": [resource.inventory_class]}},
            "total": {"type": "integer", "minimum": 0},
            "inventories": inventories,
        },
        "additionalProperties": False,
    }


def _resource_schemas(resource: Resource) -> dict[str, dict]:
    name = resource.name
    return {
        f"{name}Inventory": _inventory_schema(resource, with_required=True),
        # `fields=` may leave out any field, so a list reply requires none.
        f"{name}InventoryProjection": _inventory_schema(resource, with_required=False),
        f"{name}InventoriesReply": _inventories_reply(resource,
                                                      ref(f"{name}InventoryProjection")),
        f"{name}InventoryByUuidReply": _inventories_reply(resource, ref(f"{name}Inventory"),
                                                          max_items=1),
        f"{name}InventoryReply": {"type": "object", "required": ["inventory"],
                                  "properties": {"inventory": ref(f"{name}Inventory")},
                                  "additionalProperties": False},
    }


def _error_reply() -> dict:
    text = {"type": "string"}
    return {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {
            "type": "object",
            "required": ["code", "description"],
            "properties": {
                "code": {"type": "string", "enum": list(DESCRIPTIONS)},
                "description": {"type": "string", "enum": list(DESCRIPTIONS.values())},
                "details": text, "elaboration": text, "location": text,
                "messages": {}, "cost": {}, "cause": {}, "opaque": {},
            },
            "additionalProperties": False,
        }},
        "additionalProperties": False,
    }


def _session_inventory() -> dict:
    date = {"type": "string", "pattern": REPLY_DATE_PATTERN}
    uuid = {"type": "string", "pattern": UUID_PATTERN}
    return {
        "type": "object",
        "required": ["uuid", "accountUuid", "userUuid", "expiredDate", "createDate",
                     "noSessionEvaluation"],
        "properties": {"uuid": uuid, "accountUuid": uuid, "userUuid": uuid,
                       "expiredDate": date, "createDate": date,
                       "noSessionEvaluation": {"type": "boolean"}},
        "additionalProperties": False,
    }


def _component_schemas() -> dict[str, dict]:
    schemas: dict[str, dict] = {
        "ErrorReply": _error_reply(),
        "EmptyReply": {"type": "object", "additionalProperties": False},
        "ValidReply": {"type": "object", "required": ["valid"],
                       "properties": {"valid": {"type": "boolean"}},
                       "additionalProperties": False},
        "LogInReply": {"type": "object", "required": ["inventory"],
                       "properties": {"inventory": _session_inventory()},
                       "additionalProperties": False},
    }
    for resource in QUERY_RESOURCES.values():
        schemas.update(_resource_schemas(resource))
    schemas.update(_request_schemas())
    return dict(sorted(schemas.items()))
