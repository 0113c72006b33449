"""A reference evaluator of list queries, written from the wire contract alone.

It evaluates a query over a world held in plain Python lists of dicts, so the
differential test can compare it with the service. It imports nothing from
`aios_records`: the field lists, the condition syntax, the case folding, LIKE,
NULL handling, sort order and paging are restated here from the contract, so a
mistake shared by both sides needs two independent authors to make it.

A world maps each resource name to its rows. Row values are Python values:
`str`, `int`, `bool`, aware UTC `datetime` (whole seconds) or None. Tags are
dicts with `kind` ("user" or "system"), `uuid`, `resourceUuid`,
`resourceType` and `tag`. A caller other than the admin may see only the rows
whose uuids are in its `visible` set (owned, shared with it, or public), in
the queried table and in every expansion hop. Tags follow their resource.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from zoneinfo import ZoneInfo

TEXT, TIMESTAMP, LONG, INT, BOOL = "S", "T", "L", "I", "B"


@dataclass(frozen=True)
class Kind:
    """A resource as the contract describes it: table, inventory class, fields, expansions."""

    name: str
    table: str
    inventory_class: str
    fields: tuple[tuple[str, str], ...]
    # expansion name -> (target resource, local field, remote field)
    expansions: dict[str, tuple[str, str, str]]

    def field_type(self, name: str) -> str | None:
        return dict(self.fields).get(name)

    @property
    def field_names(self) -> list[str]:
        return [name for name, _ in self.fields]


def _fields(spec: str) -> tuple[tuple[str, str], ...]:
    """Parse "name:T name2" into ((name, T), (name2, S)), with text as the default type."""
    pairs = []
    for item in spec.split():
        name, _, kind = item.partition(":")
        pairs.append((name, kind or TEXT))
    return tuple(pairs)


_DATES = "createDate:T lastOpDate:T"
_PACKAGE = "org.zstack.ai.entity."

KINDS: dict[str, Kind] = {kind.name: kind for kind in (
    Kind("TrainedModelRecord", "TrainedModelRecordVO", _PACKAGE + "TrainedModelRecordInventory",
         _fields("uuid modelUuid sourceModelUuid modelServiceInstanceGroupUuid datasetUuid "
                 + _DATES),
         {"model": ("Model", "modelUuid", "uuid"),
          "sourceModel": ("Model", "sourceModelUuid", "uuid"),
          "modelServiceInstanceGroup": ("ModelServiceInstanceGroup",
                                        "modelServiceInstanceGroupUuid", "uuid"),
          "dataset": ("Dataset", "datasetUuid", "uuid")}),
    Kind("Model", "ModelVO", _PACKAGE + "ModelInventory",
         _fields("uuid name description installPath parameters modelCenterUuid logo vendor "
                 "introduction size:L version type minGpuMemory:L " + _DATES),
         {"modelCenter": ("ModelCenter", "modelCenterUuid", "uuid"),
          "trainedModelRecord": ("TrainedModelRecord", "uuid", "modelUuid"),
          "derivedTrainedModelRecord": ("TrainedModelRecord", "uuid", "sourceModelUuid")}),
    Kind("Dataset", "DatasetVO", _PACKAGE + "DatasetInventory",
         _fields("uuid name description url installPath modelCenterUuid size:L system:B "
                 + _DATES),
         {"modelCenter": ("ModelCenter", "modelCenterUuid", "uuid"),
          "trainedModelRecord": ("TrainedModelRecord", "uuid", "datasetUuid")}),
    Kind("ModelServiceInstanceGroup", "ModelServiceInstanceGroupVO",
         _PACKAGE + "ModelServiceInstanceGroupInventory",
         _fields("uuid modelServiceUuid modelUuid status modelServiceType type name description "
                 + _DATES),
         {"model": ("Model", "modelUuid", "uuid"),
          "trainedModelRecord": ("TrainedModelRecord", "uuid", "modelServiceInstanceGroupUuid")}),
    Kind("ModelCenter", "ModelCenterVO", _PACKAGE + "ModelCenterInventory",
         _fields("uuid name description url status managementIp managementPort:I "
                 "storageNetworkUuid serviceNetworkUuid containerRegistry containerNetwork "
                 + _DATES),
         {"model": ("Model", "uuid", "modelCenterUuid"),
          "dataset": ("Dataset", "uuid", "modelCenterUuid")}),
)}

TAG_FIELDS = ("__userTag__", "__systemTag__", "__tagUuid__")

# Operators in the order they are tested: the first one found anywhere in a condition wins.
OPERATORS = ("!=", ">=", "<=", "!?=", "!~=", "~=", "?=", "=", ">", "<", "is null", "not null")
_POSITIVE_FORM = {"!=": "=", "!?=": "?=", "!~=": "~="}

DEFAULT_LIMIT = 1000


class QueryError(Exception):
    """The contract's reply to a bad query: an HTTP status and, for 503, an error code."""

    def __init__(self, status: int, code: str | None = None) -> None:
        super().__init__(f"{status} {code or ''}")
        self.status = status
        self.code = code


def bad_syntax() -> QueryError:
    return QueryError(400)


def bad_argument() -> QueryError:
    return QueryError(503, "SYS.1007")


def fold(text: str) -> str:
    """Fold A-Z to a-z and nothing else, the contract's only case rule."""
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in text)


# -- values -----------------------------------------------------------------------------

_NUMBER_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def parse_number(text: str) -> Fraction | float:
    """Read a decimal number exactly, and raise an argument error for anything else.

    An exponent beyond +-100 is clamped: next to the 64-bit integers stored,
    1e999 behaves like infinity and 1e-999 like 1e-100.
    """
    if not _NUMBER_TEXT.fullmatch(text):
        raise bad_argument()
    mantissa, _, exponent = text.lower().partition("e")
    value = Fraction(mantissa)
    power = int(exponent or "0")
    if value and power > 100:
        return float("inf") if value > 0 else float("-inf")
    return value * Fraction(10) ** max(power, -100)


def parse_bool(text: str) -> bool:
    lowered = fold(text)
    if lowered not in ("true", "false"):
        raise bad_argument()
    return lowered == "true"


@dataclass(frozen=True)
class TimeValue:
    """A timestamp condition value: its text, and the instant the contract gives it.

    The world generator renders an instant in one of the accepted forms and
    records what that text means (microseconds since the epoch), so the
    reference needs no date parser of its own. `micros` is None for a text
    that is no timestamp at all.
    """

    text: str
    micros: int | None


class Values:
    """Meanings of timestamp texts used in a query: text -> microseconds or None."""

    def __init__(self) -> None:
        self.times: dict[str, int | None] = {}

    def add(self, value: TimeValue) -> str:
        self.times[value.text] = value.micros
        return value.text

    def time(self, text: str) -> int:
        if text not in self.times or self.times[text] is None:
            raise bad_argument()
        return self.times[text]


def epoch_micros(instant: datetime) -> int:
    delta = instant - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def local_wall_to_micros(wall: datetime, zone: ZoneInfo) -> int:
    """Return the instant a zone-less wall time means in `zone`, by the contract's rule.

    Of the instants showing that wall time, the earliest wins. A wall time in
    a gap (spring forward) is read with the offset in force before the gap,
    which moves it forward by the gap's length.
    """
    naive = wall.replace(tzinfo=None)
    offsets = {}
    for hours in (26, 2, 0, -2, -26):
        try:
            probe = (naive - timedelta(hours=hours)).replace(tzinfo=timezone.utc)
            offsets.setdefault(probe.astimezone(zone).utcoffset(), hours)
        except OverflowError:
            continue  # near year 1 or 9999 there is nothing to probe on that side
    candidates = []
    for offset in offsets:
        instant = (naive - offset).replace(tzinfo=timezone.utc)
        try:
            local_wall = instant.astimezone(zone).replace(tzinfo=None)
        except OverflowError:
            continue
        if local_wall == naive:
            candidates.append(instant)
    if candidates:
        return epoch_micros(min(candidates))
    # The offsets were probed from the earliest instant on, so the first is the one before.
    before = next(iter(offsets))
    return epoch_micros((naive - before).replace(tzinfo=timezone.utc))


# -- conditions -------------------------------------------------------------------------

@dataclass(frozen=True)
class ParsedCondition:
    path: list[str]
    operator: str
    value: str | None


def parse_condition(text: str) -> ParsedCondition:
    """Split one `q` value into field path, operator and value.

    The first operator of OPERATORS found anywhere in the text wins. The field
    is trimmed, the value is not, and repeats of the operator right after it
    are dropped.
    """
    found = [op for op in OPERATORS if op in text]
    if not found:
        raise bad_syntax()
    operator = found[0]
    position = text.index(operator)
    field = text[:position].strip()
    if field == "":
        raise bad_syntax()
    if operator in ("is null", "not null"):
        return ParsedCondition(field.split("."), operator, None)
    value = text[position + len(operator):]
    while value.startswith(operator):
        value = value[len(operator):]
    return ParsedCondition(field.split("."), operator, value)


def like_matches(value: str, pattern: str) -> bool:
    """LIKE with `%`, `_` and a backslash escape; a trailing lone backslash is literal."""
    regex = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            regex.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if char == "%":
            regex.append(".*")
        elif char == "_":
            regex.append(".")
        else:
            regex.append(re.escape(char))
        i += 1
    return re.fullmatch("".join(regex), value, re.DOTALL) is not None


def _compare(op: str, left, right) -> bool:
    return {"=": left == right, "!=": left != right, ">": left > right, ">=": left >= right,
            "<": left < right, "<=": left <= right}[op]


class Reference:
    """Evaluator of list queries over one world, rendering timestamps in `zone`."""

    def __init__(self, world: dict[str, list[dict]], tags: list[dict], zone: ZoneInfo,
                 values: Values | None = None, visible: set[str] | None = None) -> None:
        self.world = world
        self.tags = tags
        self.zone = zone
        self.values = values or Values()
        # Folded uuids the caller may see, or None for the admin, who may see every row.
        self.visible = visible

    def rows(self, resource: str) -> list[dict]:
        rows = self.world.get(resource, [])
        if self.visible is None:
            return rows
        return [row for row in rows if fold(row["uuid"]) in self.visible]

    # A predicate is a function row -> bool, built before any row is read so
    # that argument errors surface even over an empty table, as on the server.

    def predicate(self, kind: Kind, path: list[str], op: str, value: str | None):
        if len(path) == 1:
            return self._field_predicate(kind, path[0], op, value)
        if path[0] not in kind.expansions:
            raise bad_argument()
        target_name, local, remote = kind.expansions[path[0]]
        if len(path) == 2 and path[1] == remote:
            return self._field_predicate(kind, local, op, value)
        target = KINDS[target_name]
        inner = self.predicate(target, path[1:], op, value)
        targets = self.rows(target_name)

        def related(row: dict) -> bool:
            key = row[local]
            if key is None:
                return False
            return any(t[remote] is not None and fold(t[remote]) == fold(key) and inner(t)
                       for t in targets)
        return related

    def _field_predicate(self, kind: Kind, name: str, op: str, value: str | None):
        if name in TAG_FIELDS:
            return self._tag_predicate(kind, name, op, value)
        field_type = kind.field_type(name)
        if field_type is None:
            raise bad_argument()
        test = self._value_test(field_type, op, value)
        return lambda row: test(row[name])

    def _value_test(self, field_type: str, op: str, value: str | None):
        """Return value -> bool for one operator on one field type."""
        if op == "is null":
            return lambda v: v is None
        if op == "not null":
            return lambda v: v is not None
        if op in ("=", "!=") and fold(value) == "null":
            return (lambda v: v is None) if op == "=" else (lambda v: v is not None)

        if op in ("~=", "!~="):
            if field_type == TIMESTAMP:
                raise bad_argument()
            pattern = fold(value)
            expected_match = op == "~="

            def like(v) -> bool:
                if v is None:
                    return False
                return like_matches(self._like_text(field_type, v), pattern) == expected_match
            return like

        convert = self._converter(field_type)
        if op in ("?=", "!?="):
            items = [convert(item) for item in value.split(",")]
            expected_match = op == "?="

            def in_list(v) -> bool:
                return v is not None and (self._stored(field_type, v) in items) == expected_match
            return in_list

        operand = convert(value)
        return lambda v: v is not None and _compare(op, self._stored(field_type, v), operand)

    def _converter(self, field_type: str):
        if field_type == TEXT:
            return fold
        if field_type == TIMESTAMP:
            return self.values.time
        if field_type == BOOL:
            return parse_bool
        return parse_number

    @staticmethod
    def _stored(field_type: str, value):
        """Return a stored value in the form conditions compare it."""
        if field_type == TEXT:
            return fold(value)
        if field_type == TIMESTAMP:
            return epoch_micros(value)
        if field_type in (LONG, INT):
            return Fraction(value)
        return value

    @staticmethod
    def _like_text(field_type: str, value) -> str:
        # NOTE: LIKE on a boolean column reads it as MySQL's TINYINT(1), "1" or "0".
        if field_type == BOOL:
            return "1" if value else "0"
        if field_type == TEXT:
            return fold(value)
        return str(value)

    def _tag_predicate(self, kind: Kind, name: str, op: str, value: str | None):
        kinds = {"__userTag__": ("user",), "__systemTag__": ("system",),
                 "__tagUuid__": ("user", "system")}[name]
        column = "uuid" if name == "__tagUuid__" else "tag"
        is_null = op == "is null" or (op == "=" and fold(value) == "null")
        any_tag = op == "not null" or (op == "!=" and fold(value) == "null")
        if is_null:
            return lambda row: False
        negative = op in _POSITIVE_FORM and not any_tag
        test = None if any_tag else self._value_test(TEXT, _POSITIVE_FORM.get(op, op), value)

        def has_matching_tag(row: dict) -> bool:
            for tag in self.tags:
                if (tag["kind"] in kinds and fold(tag["resourceUuid"]) == fold(row["uuid"])
                        and fold(tag["resourceType"]) == fold(kind.table)
                        and (test is None or test(tag[column]))):
                    return True
            return False

        if negative:
            return lambda row: not has_matching_tag(row)
        return has_matching_tag

    # -- the whole query ------------------------------------------------------------------

    def query(self, resource: str, params: list[tuple[str, str]]) -> dict:
        """Return the reply body of a list query, or raise QueryError."""
        kind = KINDS[resource]
        q_values = [value for name, value in params if name == "q"]
        first: dict[str, str] = {}
        for name, value in params:
            if name != "q" and name not in first:
                first[name] = value.strip()

        # Syntax errors (400) come before every argument error (503).
        conditions = [parse_condition(text) for text in dict.fromkeys(q_values)]
        limit = _parse_int(first, "limit", DEFAULT_LIMIT)
        start = _parse_int(first, "start", 0)
        fields = _parse_fields(first)

        predicates = [self.predicate(kind, c.path, c.operator, c.value) for c in conditions]
        if limit < 0 or start < 0:
            raise bad_argument()
        if fields is not None:
            if not fields or any(name not in kind.field_names for name in fields):
                raise bad_argument()
        sort_field, descending = _parse_sort(first.get("sort", ""))
        if sort_field is not None and sort_field not in kind.field_names:
            raise bad_argument()

        rows = [row for row in self.rows(resource) if all(test(row) for test in predicates)]
        rows = self._sorted(kind, rows, sort_field, descending)

        count = fold(first.get("count", "")) == "true"
        with_count = fold(first.get("replyWithCount", "")) == "true"
        if count:
            return {"schema": {}, "total": len(rows)}
        page = rows[start:start + limit]
        body: dict = {"schema": {f"inventories[{i}]": kind.inventory_class
                                 for i in reversed(range(len(page)))}}
        if with_count:
            body["total"] = len(rows)
        body["inventories"] = [self.inventory(kind, row, fields) for row in page]
        return body

    def _sorted(self, kind: Kind, rows: list[dict], sort_field: str | None,
                descending: bool) -> list[dict]:
        def key(row: dict):
            uuid = fold(row["uuid"])
            if sort_field is None or sort_field == "uuid":
                return (uuid,)
            value = row[sort_field]
            if value is None:
                return (0, 0, uuid)
            return (1, self._stored(kind.field_type(sort_field), value), uuid)
        return sorted(rows, key=key, reverse=descending)

    def inventory(self, kind: Kind, row: dict, fields: list[str] | None) -> dict:
        inventory = {}
        for name, field_type in kind.fields:
            if fields is not None and name not in fields:
                continue
            value = row[name]
            if value is None:
                continue
            inventory[name] = self.render_date(value) if field_type == TIMESTAMP else value
        return inventory

    def render_date(self, instant: datetime) -> str:
        """Render `Nov 19, 2025 6:20:07 PM` in the reference's zone."""
        local = instant.astimezone(self.zone)
        months = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
        hour = local.hour % 12
        return (f"{months[local.month - 1]} {local.day}, {local.year} "
                f"{hour if hour else 12}:{local.minute:02d}:{local.second:02d} "
                f"{'AM' if local.hour < 12 else 'PM'}")


def _parse_int(first: dict[str, str], name: str, default: int) -> int:
    if name not in first:
        return default
    text = first[name]
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        raise bad_syntax()
    number = int(text)
    if not -(2**31) <= number < 2**31:
        raise bad_syntax()
    return number


def _parse_fields(first: dict[str, str]) -> list[str] | None:
    if "fields" not in first:
        return None
    text = first["fields"]
    if text == "":
        return []
    items = text.split(",")
    while items and items[-1] == "":
        items.pop()
    if not items:
        raise bad_syntax()
    return items


def _parse_sort(text: str) -> tuple[str | None, bool]:
    if text == "":
        return None, False
    if text[0] in "+-":
        return text[1:].strip(), text[0] == "-"
    return text, False
