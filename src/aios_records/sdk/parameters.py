"""The parameters of each API, derived from the API registry and the resource fields.

Query APIs take the query parameters, write APIs take the writable fields of
their resource, and the few APIs whose bodies are not a resource's fields
(login, accounts, sharing, tags) are listed in `_OTHER_BODY_FIELDS`.
"""

from __future__ import annotations

from ..apis import ApiSpec
from ..resources import FieldType
from .transport import path_parameters

QUERY_PARAMETERS = (
    "conditions", "limit", "start", "count", "replyWithCount", "sortBy", "sortDirection",
    "fields",
)

# Tags to put on a new resource. They travel beside the body section, and
# only the creates of the five AI resources apply them.
TAG_PARAMETERS = ("systemTags", "userTags")

# Fields the server sets itself; they are never part of a request body.
_SERVER_FIELDS = frozenset({"uuid", "createDate", "lastOpDate"})

_TAG_BODY = ("resourceType", "resourceUuid", "tag")
_OTHER_BODY_FIELDS: dict[str, tuple[str, ...]] = {
    # The optional fields ZStack's login accepts; the server ignores them.
    "LogInByAccount": ("accountName", "password", "accountType", "captchaUuid", "verifyCode",
                       "clientInfo"),
    "CreateAccount": ("name", "password", "type", "description", "resourceUuid"),
    "UpdateAccount": ("name", "password", "description"),
    "ShareResource": ("resourceUuids", "accountUuids", "toPublic"),
    "RevokeResourceSharing": ("resourceUuids", "accountUuids", "toPublic", "all"),
    "CreateUserTag": _TAG_BODY,
    "CreateSystemTag": _TAG_BODY,
}

# Body fields that hold a password: the SDK sends their SHA-512 hex digest.
PASSWORD_FIELDS = frozenset({"password"})


def body_fields(spec: ApiSpec) -> tuple[str, ...]:
    """Return the names that go into the body section under `spec.body_key`."""
    if spec.name in _OTHER_BODY_FIELDS:
        return _OTHER_BODY_FIELDS[spec.name]
    if spec.body_key is None:
        return ()
    resource = spec.resource
    if resource is None or resource.writes is None:
        raise LookupError(f"no body fields are known for {spec.name}; add them to this module")
    names = [field.name for field in resource.fields if field.name not in _SERVER_FIELDS]
    if spec.kind == "create":
        return (*names, "resourceUuid")
    return tuple(name for name in names if name not in resource.writes.immutable)


def action_parameters(spec: ApiSpec) -> tuple[str, ...]:
    """Return every attribute an action of `spec` accepts, `sessionId` included."""
    names: list[str] = list(path_parameters(spec))
    if spec.kind == "query":
        names.extend(QUERY_PARAMETERS)
    else:
        names.extend(body_fields(spec))
    if spec.kind == "delete":
        # ZStack's SDKs send `deleteMode=Permissive` or `Enforcing`; the server ignores it.
        names.append("deleteMode")
    if spec.kind == "create" and spec.resource is not None and spec.resource.writes is not None:
        names.extend(TAG_PARAMETERS)
    if spec.needs_session:
        names.append("sessionId")
    return tuple(dict.fromkeys(names))


# JSON types of the parameters that are not resource fields. Resource fields
# take the type of their `Field`, and every other parameter is a string.
_PARAMETER_TYPES: dict[str, str] = {
    "limit": "integer", "start": "integer", "count": "boolean", "replyWithCount": "boolean",
    "conditions": "list", "fields": "list",
    "systemTags": "list", "userTags": "list",
    "resourceUuids": "list", "accountUuids": "list", "toPublic": "boolean", "all": "boolean",
}

_FIELD_TYPES = {
    FieldType.STRING: "string", FieldType.TIMESTAMP: "string", FieldType.LONG: "integer",
    FieldType.INT: "integer", FieldType.BOOL: "boolean",
}


def parameter_type(spec: ApiSpec, name: str) -> str:
    """Return the JSON type of parameter `name` of `spec`: string, integer, boolean or list."""
    if name in _PARAMETER_TYPES:
        return _PARAMETER_TYPES[name]
    if spec.resource is not None and spec.name not in _OTHER_BODY_FIELDS:
        field = spec.resource.field(name)
        if field is not None:
            return _FIELD_TYPES[field.type]
    return "string"
