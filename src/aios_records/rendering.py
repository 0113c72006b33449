"""Inventories as ZStack's query API renders them, shared by HTTP replies and exports.

Field order is the wire order, null fields are omitted, timestamps use the
reply format in a configured time zone, and strings carry Gson's default HTML
escaping.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import orjson

from .resources import Field, FieldType
from .storage.types import from_db_time
from .timestamps import format_reply

# Gson escapes these inside strings by default; U+2028 and U+2029 it escapes
# always. In compact JSON they can only occur inside strings, so replacing
# them in the encoded bytes is safe.
_GSON_ESCAPES = (
    (b"<", b"\\u003c"),
    (b">", b"\\u003e"),
    (b"&", b"\\u0026"),
    (b"=", b"\\u003d"),
    (b"'", b"\\u0027"),
    ("\u2028".encode(), b"\\u2028"),
    ("\u2029".encode(), b"\\u2029"),
)


# The ASCII characters among _GSON_ESCAPES, and E2, the first UTF-8 byte of
# U+2028 and U+2029 (and of other characters, which then take the slower,
# exact path).
_GSON_FIRST_BYTES = b"<>&='\xe2"


def gson_escape(encoded: bytes) -> bytes:
    # One translate() looks for all these bytes in one pass, a fraction of
    # the time of one `in` test per sequence (CPython 3.11), and most bodies
    # contain none of them.
    if len(encoded.translate(None, _GSON_FIRST_BYTES)) == len(encoded):
        return encoded
    for raw, escaped in _GSON_ESCAPES:
        if raw in encoded:
            encoded = encoded.replace(raw, escaped)
    return encoded


def dumps_success(value: object) -> bytes:
    return gson_escape(orjson.dumps(value))


class InventoryRenderer:
    """Turns result rows into inventory dicts: wire field order, nulls omitted, dates formatted."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        # Records written in one batch share timestamps, and createDate usually
        # equals lastOpDate, so caching saves most formatting work on big pages.
        self._format_date = lru_cache(maxsize=65536)(self._format_date_uncached)
        self._converters: dict[int, tuple[Sequence[Field], list]] = {}

    def _format_date_uncached(self, value: str | datetime) -> str:
        return format_reply(from_db_time(value), self.zone)

    def converters(self, fields: Sequence[Field]) -> list[tuple[str, Callable | None]]:
        """Return each field's reply name and value converter, kept per `fields` object.

        Compiled queries hand the same `fields` tuple to every request, so the
        list is built once per query shape. The entry keeps `fields` alive, so
        its id is not reused while kept.
        """
        kept = self._converters.get(id(fields))
        if kept is not None and kept[0] is fields:
            return kept[1]
        converters = [
            (f.name, self._format_date if f.type is FieldType.TIMESTAMP else
             (bool if f.type is FieldType.BOOL else None))
            for f in fields
        ]
        if len(self._converters) >= MAX_KEPT_CONVERTERS:
            # Requests compiled outside the caches bring new tuples each time;
            # starting over keeps the map small and lets the hot ones back in.
            self._converters.clear()
        self._converters[id(fields)] = (fields, converters)
        return converters

    def render_rows(self, rows: Iterable[Sequence], fields: Sequence[Field]) -> bytes:
        """Encode rows as the JSON array of inventories."""
        converters = self.converters(fields)
        return dumps_success([_inventory(row, converters) for row in rows])

    def inventory(self, row: Sequence, fields: Sequence[Field]) -> dict:
        """Return one row as an inventory dict, ready for `dumps_success`."""
        return _inventory(row, self.converters(fields))


def _inventory(row: Sequence, converters: list[tuple[str, Callable | None]]) -> dict:
    inventory = {}
    for (name, convert), value in zip(converters, row):
        if value is not None:
            inventory[name] = convert(value) if convert else value
    return inventory


# Field lists whose converters an InventoryRenderer keeps before it starts over.
MAX_KEPT_CONVERTERS = 1024
# Schemas of pages up to this many rows are kept once built; most replies are such pages.
KEPT_SCHEMA_ROWS = 100


def schema_bytes(inventory_class: str, count: int, first: int = 0) -> bytes:
    """Encode `"inventories[N]":"<class>"` entries for positions first..count-1, last first.

    Returns the entries without surrounding braces, so callers can stream a
    long schema in pieces.
    """
    if count <= KEPT_SCHEMA_ROWS:
        return _kept_schema_bytes(inventory_class, count, first)
    return _schema_bytes(inventory_class, count, first)


@lru_cache(maxsize=1024)
def _kept_schema_bytes(inventory_class: str, count: int, first: int) -> bytes:
    return _schema_bytes(inventory_class, count, first)


def _schema_bytes(inventory_class: str, count: int, first: int) -> bytes:
    suffix = f']":"{inventory_class}"'
    return ",".join(
        f'"inventories[{i}{suffix}' for i in range(count - 1, first - 1, -1)
    ).encode("ascii")
