"""Query conditions built from Python values: `Q.name == "x"`, `Q.createDate > datetime(...)`.

The server looks for the operators of a `q` value in a fixed order and splits
at the first one that occurs anywhere in the text. A value that contains an
operator (`a>=b`, `x!=y`) is therefore split in the wrong place, so each
condition is rendered, read back the way the server reads it, and only sent
when the server would see the same field, operator and value.

Some text cannot be compared with `=`: it contains an operator, starts with
`=`, or is the word `null`, which `=` reads as IS NULL. Equality on such text
is sent as an escaped LIKE pattern. It matches the same rows, because LIKE
and `=` both ignore the case of ASCII letters only. Anything else that cannot
be expressed raises ValueError before a request is sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo

from ..resources import TAG_FIELDS

# The server's operators in the order it tests for them.
OPERATORS = ("!=", ">=", "<=", "!?=", "!~=", "~=", "?=", "=", ">", "<", "is null", "not null")

_NULL_OPERATORS = ("is null", "not null")
_LIST_OPERATORS = ("?=", "!?=")
_LIKE_FOR_EQUALITY = {"=": "~=", "!=": "!~="}


def read_as_server(text: str) -> tuple[str, str, str | None] | None:
    """Return (field, operator, value) as the server splits a condition, or None without operator."""
    operator = next((op for op in OPERATORS if op in text), None)
    if operator is None:
        return None
    field, _, value = text.partition(operator)
    if operator in _NULL_OPERATORS:
        return field.strip(), operator, None
    # The server drops copies of the operator repeated right after it (`name==x`).
    while value.startswith(operator):
        value = value[len(operator):]
    return field.strip(), operator, value


def escape_like(text: str) -> str:
    r"""Return a LIKE pattern that matches `text` literally.

    `%` and `_` are wildcards and `\` is the escape character. `=` is escaped
    too, so that no operator such as `>=` appears in the pattern, and `\=`
    still matches `=`.
    """
    escaped = []
    for char in text:
        if char in "%_\\=":
            escaped.append("\\")
        escaped.append(char)
    return "".join(escaped)


def format_value(value: object, zone: tzinfo | None = None) -> str:
    """Render a Python value as condition text.

    Aware datetimes become ISO 8601 with their offset. A naive datetime or a
    date (midnight) is taken in `zone` and written with that zone's offset;
    without a zone it is written without offset, which the server reads in
    its own time zone.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.tzinfo is None and zone is not None:
            value = value.replace(tzinfo=zone)
        return value.isoformat()
    if isinstance(value, date):
        if zone is None:
            return value.isoformat()
        return datetime.combine(value, time(), tzinfo=zone).isoformat()
    if isinstance(value, (int, float, str)):
        return str(value)
    raise TypeError(f"cannot use a {type(value).__name__} as a condition value: {value!r}")


@dataclass(frozen=True)
class Condition:
    """One `q` condition: a field path (`name`, `model.name`), an operator and a value.

    `value` is a Python value, a list for `?=`/`!?=`, and None for `is null`
    and `not null`.
    """

    field: str
    operator: str
    value: object = None

    def render(self, zone: tzinfo | None = None) -> str:
        """Return the `q` text; naive datetimes are taken in `zone` (see format_value)."""
        if self.operator in _NULL_OPERATORS:
            return f"{self.field} {self.operator}"

        if self.operator in _LIST_OPERATORS:
            items = [format_value(item, zone) for item in self.value]
            if not items:
                raise ValueError(f"{self.field}: an in_() or not_in() list needs at least one value")
            for item in items:
                if "," in item:
                    raise ValueError(
                        f"{self.field}: the list value {item!r} contains a comma, and the "
                        f"server splits ?= lists at every comma; compare it with == instead"
                    )
            return self._checked(self.operator, ",".join(items))

        text = format_value(self.value, zone)
        if self.operator in _LIKE_FOR_EQUALITY:
            plain = f"{self.field}{self.operator}{text}"
            if text.lower() != "null" and read_as_server(plain) == (self.field, self.operator,
                                                                    text):
                return plain
            if isinstance(self.value, str):
                return self._checked(_LIKE_FOR_EQUALITY[self.operator], escape_like(text))
        return self._checked(self.operator, text)

    def _checked(self, operator: str, text: str) -> str:
        rendered = f"{self.field}{operator}{text}"
        reading = read_as_server(rendered)
        if reading != (self.field, operator, text):
            hint = r" (write '=' as '\=' in a LIKE pattern)" if "~=" in operator else ""
            raise ValueError(
                f"the condition {rendered!r} cannot be sent: the server would read it as "
                f"field {reading[0]!r}, operator {reading[1]!r}, value {reading[2]!r}, "
                f"because the value contains an operator{hint}"
            )
        return rendered

    def __str__(self) -> str:
        return self.render()


class Field:
    """A field path for building conditions; `Q.model.name == "x"` is `model.name=x`.

    Attribute access extends the path, so the class defines no attributes
    that could shadow a field name. `Q["__userTag__"]` and `Q["model.name"]`
    work too.
    """

    __slots__ = ("_path",)
    __hash__ = None  # `==` builds a Condition, so fields are not hashable.

    def __init__(self, path: tuple[str, ...] = ()) -> None:
        object.__setattr__(self, "_path", path)

    def __getattr__(self, name: str) -> Field:
        if name.startswith("_") and name not in TAG_FIELDS:
            raise AttributeError(name)
        return Field(self._path + (name,))

    def __getitem__(self, name: str) -> Field:
        return Field(self._path + tuple(name.split(".")))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("field paths are read-only")

    def __repr__(self) -> str:
        return "Q." + ".".join(self._path) if self._path else "Q"

    @property
    def _name(self) -> str:
        if not self._path:
            raise ValueError("name a field first, as in Q.name == 'x'")
        return ".".join(self._path)

    def __eq__(self, value: object) -> Condition:  # type: ignore[override]
        return self.is_null() if value is None else Condition(self._name, "=", value)

    def __ne__(self, value: object) -> Condition:  # type: ignore[override]
        return self.not_null() if value is None else Condition(self._name, "!=", value)

    def __gt__(self, value: object) -> Condition:
        return Condition(self._name, ">", value)

    def __ge__(self, value: object) -> Condition:
        return Condition(self._name, ">=", value)

    def __lt__(self, value: object) -> Condition:
        return Condition(self._name, "<", value)

    def __le__(self, value: object) -> Condition:
        return Condition(self._name, "<=", value)

    def like(self, pattern: str) -> Condition:
        r"""SQL LIKE: `%` and `_` are wildcards, `\` escapes (see escape_like)."""
        return Condition(self._name, "~=", pattern)

    def not_like(self, pattern: str) -> Condition:
        return Condition(self._name, "!~=", pattern)

    def in_(self, values: Iterable[object]) -> Condition:
        return Condition(self._name, "?=", list(values))

    def not_in(self, values: Iterable[object]) -> Condition:
        return Condition(self._name, "!?=", list(values))

    def is_null(self) -> Condition:
        return Condition(self._name, "is null")

    def not_null(self) -> Condition:
        return Condition(self._name, "not null")


Q = Field()


def equality(name: str, value: object) -> Condition:
    """Build the condition of a keyword argument: a list means `?=`, None means `is null`."""
    if isinstance(value, (list, tuple, set, frozenset)):
        return Condition(name, "?=", list(value))
    return Q[name] == value
