"""Checks of write-API bodies against the resource definitions.

Each failure is a SYS.1007 argument error naming the field, raised before
anything is written.
"""

from __future__ import annotations

import re

from ..errors import ApiError, invalid_argument
from ..resources import USER_TAG, Field, FieldType, Resource

INT32_RANGE = (-(2**31), 2**31 - 1)
INT64_RANGE = (-(2**63), 2**63 - 1)
NOT_WRITABLE = frozenset({"uuid", "createDate", "lastOpDate"})
_UUID = re.compile(r"[0-9a-fA-F]{32}")
# Fields whose value must contain more than whitespace.
NON_BLANK_FIELDS = frozenset({"name", "managementIp"})
# User and system tags share one column size.
TAG_MAX_LENGTH = USER_TAG.field("tag").max_length

_JSON_TYPE_NAMES = {str: "string", dict: "object", int: "integer", bool: "boolean",
                    list: "list", float: "number", type(None): "null"}


def json_type_name(value: object) -> str:
    return _JSON_TYPE_NAMES.get(type(value), type(value).__name__)


def value_range(field: Field) -> tuple[int, int]:
    """Return the lowest and highest value a number field accepts on write."""
    low, high = INT32_RANGE if field.type is FieldType.INT else INT64_RANGE
    if field.minimum is not None:
        low = field.minimum
    return low, high


def reject_nul(value: str, name: str) -> None:
    """Raise SYS.1007 naming `name` when `value` contains a NUL character.

    PostgreSQL text cannot contain NUL, so every backend rejects it in the
    same way instead of storing it on SQLite and MariaDB only.
    """
    position = value.find("\x00")
    if position >= 0:
        raise invalid_argument("nul_character", field=name, position=position)


def require_field(body: dict, name: str, expected: type, prefix: str = ""):
    """Return `body[name]`, raising SYS.1007 naming the field when missing or mistyped."""
    if body.get(name) is None:
        raise invalid_argument("missing_body_field", field=prefix + name)
    value = body[name]
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        raise ApiError("SYS.1007", "wrong_body_type", field=prefix + name,
                       expected=_JSON_TYPE_NAMES[expected], actual=json_type_name(value))
    return value


def body_section(body: dict, keys: tuple[str, ...]) -> tuple[str, dict]:
    """Return the first of `keys` present in `body` (`param` or `params`) and its object.

    Errors about the section's fields name them under the key the client sent.
    """
    for key in keys:
        if key in body:
            return key, require_field(body, key, dict)
    raise invalid_argument("missing_body_field", field=keys[0])


def resource_uuid(section: dict) -> str | None:
    """Return the optional `resourceUuid` in lower case, or raise SYS.1007 when malformed."""
    value = section.get("resourceUuid")
    if value is None:
        return None
    if not isinstance(value, str) or not _UUID.fullmatch(value):
        raise invalid_argument("bad_resource_uuid", uuid=value)
    return value.lower()


def writable_fields(resource: Resource, updating: bool) -> list[Field]:
    immutable = resource.writes.immutable if updating else ()
    return [f for f in resource.fields if f.name not in NOT_WRITABLE and f.name not in immutable]


def validate_values(resource: Resource, section: dict, prefix: str,
                    updating: bool = False) -> dict[str, object]:
    """Return the column values given in `section`, typed and checked.

    On create, required fields must be present and defaults fill the rest;
    on update, only the given fields are returned. Unknown keys are ignored,
    as ZStack ignores them.
    """
    spec = resource.writes
    values: dict[str, object] = {}
    for field in writable_fields(resource, updating):
        if field.name in section and section[field.name] is not None:
            values[field.name] = check_value(field, section[field.name], prefix + field.name,
                                             spec.choices)
        elif not updating and field.name in spec.required:
            raise invalid_argument("missing_body_field", field=prefix + field.name)
        elif not updating:
            values[field.name] = spec.defaults.get(field.name)
    return values


def check_record_sources(resource: Resource, values: dict[str, object]) -> None:
    """Raise SYS.1007 when a trained-model record names its model as its own base model."""
    if resource.name != "TrainedModelRecord":
        return
    model, source = values.get("modelUuid"), values.get("sourceModelUuid")
    if isinstance(model, str) and isinstance(source, str) and model.lower() == source.lower():
        raise invalid_argument("model_is_own_source", uuid=model)


def is_uuid(value: object) -> bool:
    """Return whether `value` is a string of 32 hexadecimal characters."""
    return isinstance(value, str) and _UUID.fullmatch(value) is not None


def check_value(field: Field, value: object, name: str,
                choices: dict[str, tuple[str, ...]]) -> object:
    """Return a non-null `value` for `field` after checking its type, length, range and choices.

    Raises SYS.1007 naming `name`, the field as the caller spells it
    (`params.name` in a request body, `name` in an imported file).
    Timestamp fields are not handled here.
    """
    if field.type is FieldType.STRING:
        if not isinstance(value, str):
            raise ApiError("SYS.1007", "wrong_body_type", field=name, expected="string",
                           actual=json_type_name(value))
        if field.max_length is not None and len(value) > field.max_length:
            raise invalid_argument("too_long", field=name, length=len(value),
                                   limit=field.max_length)
        reject_nul(value, name)
        if field.name in choices and value not in choices[field.name]:
            raise invalid_argument("bad_choice", field=name, value=value,
                                   choices=list(choices[field.name]))
        if not value.strip() and field.name in NON_BLANK_FIELDS:
            raise invalid_argument("empty_required", field=name)
        return value

    if field.type is FieldType.BOOL:
        if not isinstance(value, bool):
            raise ApiError("SYS.1007", "wrong_body_type", field=name, expected="boolean",
                           actual=json_type_name(value))
        return value

    low, high = value_range(field)
    if isinstance(value, float) and abs(value) >= 2**63:
        # orjson reads an integer literal beyond 64 bits as a float, so such
        # a value is out of every field's range whatever its type was.
        raise invalid_argument("out_of_range", field=name, value=value, low=low, high=high)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ApiError("SYS.1007", "wrong_body_type", field=name, expected="integer",
                       actual=json_type_name(value))
    if not low <= value <= high:
        raise invalid_argument("out_of_range", field=name, value=value, low=low, high=high)
    return value


def tag_list(body: dict, key: str) -> list[str]:
    """Return the optional `systemTags`/`userTags` list of a create body.

    Each tag must fit the tag column, as CreateUserTag and CreateSystemTag check.
    """
    value = body.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise invalid_argument("bad_tag_list", field=key)
    for index, tag in enumerate(value):
        if len(tag) > TAG_MAX_LENGTH:
            raise invalid_argument("too_long", field=f"{key}[{index}]", length=len(tag),
                                   limit=TAG_MAX_LENGTH)
        reject_nul(tag, f"{key}[{index}]")
    return value
