"""API metadata for the CLI, read from the API registry and the resource definitions.

Completion, parsing and help all read it from this module, so a field or API added to
`aios_records.resources` or `aios_records.apis` appears in the CLI at once.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..apis import API_SPECS, ApiSpec
from ..resources import OWNED_RESOURCES, QUERY_RESOURCES, TAG_FIELDS, FieldType, Resource
from ..sdk.parameters import QUERY_PARAMETERS, action_parameters, parameter_type
from ..sdk.transport import path_parameters

# Commands of the shell itself; API names start with a capital letter, these do not.
SHELL_COMMANDS = ("help", "output", "exit", "quit")
OUTPUT_FORMATS = ("json", "compact", "table")
# Options of the aios-cli command itself, valid only before the API name.
CLI_VALUE_OPTIONS = ("--host", "--port", "--context-path", "--output", "--timeout", "--config")
CLI_OPTIONS = (*CLI_VALUE_OPTIONS, "--help", "-h", "--version")

# Query parameters given as `name=value`; every other argument of a query is a condition.
QUERY_OPTIONS = tuple(name for name in QUERY_PARAMETERS if name != "conditions")
SORT_DIRECTIONS = ("asc", "desc")
BOOLEAN_VALUES = ("true", "false")

# Condition operators in the order completion offers them. The server tests
# for them in another order (`aios_records.sdk.conditions.OPERATORS`).
COMPARISON_OPERATORS = ("=", "!=", ">", ">=", "<", "<=", "?=", "!?=", "~=", "!~=")
NULL_OPERATORS = ("is null", "not null")

SESSION_PARAMETER = "sessionId"
SESSION_PATH_PARAMETER = "sessionUuid"

# Required body fields of the APIs whose body is not a resource's fields.
# Resource creates take theirs from `WriteSpec.required`.
_OTHER_REQUIRED: dict[str, tuple[str, ...]] = {
    "LogInByAccount": ("accountName", "password"),
    "CreateAccount": ("name", "password"),
    "ShareResource": ("resourceUuids",),
    "RevokeResourceSharing": ("resourceUuids",),
    "CreateUserTag": ("resourceType", "resourceUuid", "tag"),
    "CreateSystemTag": ("resourceType", "resourceUuid", "tag"),
}


def api_names() -> list[str]:
    return sorted(API_SPECS)


def api_spec(name: str) -> ApiSpec | None:
    return API_SPECS.get(name)


def query_resource(spec: ApiSpec) -> Resource | None:
    """Return the resource a query API reads, or None for any other API."""
    return spec.resource if spec.kind == "query" else None


def follow_expansions(resource: Resource, names: Sequence[str]) -> Resource | None:
    """Return the resource reached through a chain of expansion names, or None if one is unknown."""
    for name in names:
        expansion = resource.expansion(name)
        if expansion is None:
            return None
        resource = QUERY_RESOURCES[expansion.target]
    return resource


def field_type_name(resource: Resource, name: str) -> str:
    if name in TAG_FIELDS:
        return "tag"
    field = resource.field(name)
    return field.type.name.lower() if field is not None else "string"


def condition_values(resource: Resource, name: str) -> tuple[str, ...]:
    """Return the values worth offering after `field=`: choices of the field, or booleans."""
    field = resource.field(name)
    if field is None:
        return ()
    if field.type is FieldType.BOOL:
        return BOOLEAN_VALUES
    if resource.writes is not None:
        return resource.writes.choices.get(name, ())
    return ()


def write_parameters(spec: ApiSpec) -> tuple[str, ...]:
    """Return the `name=value` parameters of a non-query API, without `sessionId`."""
    return tuple(name for name in action_parameters(spec) if name != SESSION_PARAMETER)


def required_parameters(spec: ApiSpec) -> tuple[str, ...]:
    """Return the parameters a call of `spec` cannot do without.

    The session of LogOut and ValidateSession is not listed, because the
    CLI takes the saved session when it is not given.
    """
    names = [name for name in path_parameters(spec) if name != SESSION_PATH_PARAMETER]
    if spec.name in _OTHER_REQUIRED:
        names.extend(_OTHER_REQUIRED[spec.name])
    elif spec.kind == "create" and spec.resource is not None and spec.resource.writes:
        names.extend(spec.resource.writes.required)
    return tuple(names)


def parameter_values(spec: ApiSpec, name: str) -> tuple[str, ...]:
    """Return the values worth offering for a parameter of a non-query API."""
    if parameter_type(spec, name) == "boolean":
        return BOOLEAN_VALUES
    if name == "resourceType" and spec.name in ("CreateUserTag", "CreateSystemTag"):
        return tuple(resource.table for resource in OWNED_RESOURCES.values())
    resource = spec.resource
    if resource is not None and resource.writes is not None:
        return resource.writes.choices.get(name, ())
    return ()
