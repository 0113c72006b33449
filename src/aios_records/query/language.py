"""Syntax of ZStack's query string: conditions, paging, sorting and field lists.

This module only checks the shape of the request; every failure here is a
plain-text 400, raised before the session is checked. Meaning (which fields
exist, what a value means for a field's type) is the engine's business.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import bad_query_parameter

# Operators in the order ZStack tests for them: the first one that occurs
# anywhere in the condition wins, so `name~=a!=b` splits at `!=`.
OPERATORS = ("!=", ">=", "<=", "!?=", "!~=", "~=", "?=", "=", ">", "<", "is null", "not null")

# ZStack's internal spelling of each operator, used in its error texts.
INTERNAL_NAMES = {
    "=": "=", "!=": "!=", ">": ">", ">=": ">=", "<": "<", "<=": "<=",
    "?=": "in", "!?=": "not in", "~=": "like", "!~=": "not like",
    "is null": "is null", "not null": "is not null",
}

NEGATIVE_OPERATORS = frozenset({"!=", "!?=", "!~="})

_OPERATOR_LIST_TEXT = "[[" + ", ".join(OPERATORS) + "]]"

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
DEFAULT_LIMIT = 1000

# Request size limits, documented in the README. They bound the work one
# request can ask for and keep every statement under SQLite's limit of
# 32,766 bound parameters.
MAX_CONDITIONS = 100
MAX_IN_ITEMS = 10_000
# Each expansion in a field path nests one subquery. SQLite 3.40's parser
# stack overflows at 10 nested expansions for a normal account (visibility
# filters nest deeper than the admin's), so the limit keeps a margin below that.
MAX_EXPANSIONS = 6


@dataclass(frozen=True)
class Condition:
    """One `q` value: a (possibly dotted) field path, an operator and the raw value."""

    text: str
    field: str
    operator: str
    value: str | None

    @property
    def path(self) -> list[str]:
        return self.field.split(".")


@dataclass(frozen=True)
class QueryRequest:
    """A list query's parameters after syntax checks, before field checks."""

    conditions: tuple[Condition, ...] = ()
    limit: int = DEFAULT_LIMIT
    start: int = 0
    count: bool = False
    reply_with_count: bool = False
    sort_field: str | None = None
    sort_descending: bool = False
    fields: tuple[str, ...] | None = None


def parse_condition(text: str) -> Condition:
    """Split one `q` value into field, operator and value, as ZStack does."""
    operator = next((op for op in OPERATORS if op in text), None)
    if operator is None:
        raise bad_query_parameter(
            f"The '{text}' in the parameter[q] doesn't contain any query operator. "
            f"Valid query operators are {_OPERATOR_LIST_TEXT}"
        )

    field, _, value = text.partition(operator)
    field = field.strip()
    if not field:
        raise bad_query_parameter(
            f"The '{text}' in parameter[q] is not a key-value pair split by "
            f"{INTERNAL_NAMES[operator]}"
        )

    if operator in ("is null", "not null"):
        return Condition(text, field, operator, None)

    # ZStack swallows the operator when it is repeated right after itself, so
    # `name==x` means `name=x`; the rest of the value stays untouched.
    while value.startswith(operator):
        value = value[len(operator):]
    return Condition(text, field, operator, value)


def parse_query(params: dict[str, list[str]]) -> QueryRequest:
    """Build a QueryRequest from decoded parameters (name -> values in arrival order)."""
    conditions = _parse_conditions(params.get("q", []))

    limit = _parse_int(params, "limit", DEFAULT_LIMIT)
    start = _parse_int(params, "start", 0)
    count = _first(params, "count").lower() == "true"
    reply_with_count = _first(params, "replyWithCount").lower() == "true"

    sort_field, sort_descending = None, False
    sort = _first(params, "sort")
    if sort:
        if sort[0] in "+-":
            sort_descending = sort[0] == "-"
            sort = sort[1:].strip()
        sort_field = sort

    return QueryRequest(
        conditions=conditions,
        limit=limit,
        start=start,
        count=count,
        reply_with_count=reply_with_count,
        sort_field=sort_field,
        sort_descending=sort_descending,
        fields=_parse_fields(params),
    )


def _parse_conditions(values: list[str]) -> tuple[Condition, ...]:
    unique = list(dict.fromkeys(values))
    if len(unique) > MAX_CONDITIONS:
        raise bad_query_parameter(
            f"The request has {len(unique)} conditions in parameter[q], "
            f"more than the limit of {MAX_CONDITIONS}"
        )
    conditions = tuple(parse_condition(value) for value in unique)
    for condition in conditions:
        expansions = len(condition.path) - 1
        if expansions > MAX_EXPANSIONS:
            raise bad_query_parameter(
                f"The '{condition.text}' in parameter[q] follows {expansions} expansions, "
                f"more than the limit of {MAX_EXPANSIONS}"
            )
    items = sum(len(c.value.split(",")) for c in conditions if c.operator in ("?=", "!?="))
    if items > MAX_IN_ITEMS:
        raise bad_query_parameter(
            f"The conditions in parameter[q] list {items} values for ?= and !?=, "
            f"more than the limit of {MAX_IN_ITEMS}"
        )
    return conditions


def _first(params: dict[str, list[str]], name: str) -> str:
    values = params.get(name)
    return values[0].strip() if values else ""


def _parse_int(params: dict[str, list[str]], name: str, default: int) -> int:
    if name not in params:
        return default
    text = _first(params, name)
    digits = text[1:] if text[:1] in ("+", "-") else text
    if digits.isascii() and digits.isdigit():
        # Without its leading zeros a 32-bit value has at most 10 digits, and
        # int() rejects texts of more than 4,300 digits, so longer ones stop here.
        significant = digits.lstrip("0") or "0"
        value = int(significant) if len(significant) <= 10 else 10**10
        if text.startswith("-"):
            value = -value
        if INT32_MIN <= value <= INT32_MAX:
            return value
    raise bad_query_parameter(f"'{name}' must be an integer")


def _parse_fields(params: dict[str, list[str]]) -> tuple[str, ...] | None:
    if "fields" not in params:
        return None
    text = _first(params, "fields")
    if not text:
        # An empty list is a field error (503), checked by the engine.
        return ()
    items = text.split(",")
    while items and items[-1] == "":
        items.pop()
    if not items:
        raise bad_query_parameter("'fields' contains zero field")
    return tuple(item.strip() for item in items)
