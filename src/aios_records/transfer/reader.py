"""Streaming reader of query-reply files and detection of their resource type.

A file contains what a ZStack query API returns: a JSON object with an
`inventories` list, possibly after a `schema` map and a `total`. The reader
yields the inventories one at a time with ijson, so memory does not grow with
the size of the file.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import BinaryIO

import ijson

from ..resources import RESOURCES, Resource
from ..writes.validation import json_type_name

_BY_CLASS = {resource.inventory_class: resource for resource in RESOURCES.values()}
_SCHEMA_PREFIX = "schema."

# ijson's (prefix, event, value) triple, such as ("inventories.item.uuid", "string", "d374...").
ParseEvent = tuple[str, str, object]


class TransferError(Exception):
    """A file that cannot be imported at all; `key` names a message in `transfer.messages`."""

    def __init__(self, key: str, **fields: object) -> None:
        super().__init__(key)
        self.key = key
        self.fields = fields


class InventoryStream:
    """The inventories of one query-reply file, read incrementally.

    `bytes_read` counts the bytes taken from the file so far, for a progress
    bar. `schema_class` is the class that the `schema` map names, once the
    map has been read; ZStack writes `schema` before `inventories`.
    """

    def __init__(self, file: BinaryIO) -> None:
        self._file = file
        self.bytes_read = 0
        self.schema_class: str | None = None
        self._found_list = False

    def read(self, size: int = -1) -> bytes:
        """Read from the file and count the bytes (ijson calls this)."""
        data = self._file.read(size)
        self.bytes_read += len(data)
        return data

    def items(self) -> Iterator[object]:
        """Yield each element of `inventories` in file order.

        Raises TransferError when the file is no JSON object with an
        `inventories` list or its schema mixes classes, and ijson.JSONError
        when the JSON is malformed or truncated.
        """
        # NOTE: ijson's C backend (yajl) rejects integers beyond the signed 64-bit
        # range as invalid JSON, so such a number fails the whole file, not one row.
        events = ijson.parse(self, use_float=True)
        yield from ijson.items(self._watch(events), "inventories.item")
        if not self._found_list:
            raise TransferError("not_a_reply")

    def _watch(self, events: Iterator[ParseEvent]) -> Iterator[ParseEvent]:
        """Pass parse events through, noting the schema's class and the inventories list."""
        first = True
        for prefix, event, value in events:
            if first:
                if event != "start_map":
                    raise TransferError("not_a_reply")
                first = False
            elif prefix == "inventories" and event == "start_array":
                self._found_list = True
            elif event == "string" and prefix.startswith(_SCHEMA_PREFIX):
                self._note_schema_class(value)
            yield prefix, event, value

    def _note_schema_class(self, name: str) -> None:
        # A reply of one query names one class, so a second class is an error
        # found at once, and the reader keeps one name however long the schema is.
        if self.schema_class is None:
            self.schema_class = name
        elif name != self.schema_class:
            raise TransferError("schema_mixed", classes=[self.schema_class, name])


def resource_for_class(name: str) -> Resource:
    """Return the resource whose inventory class is `name`, or raise TransferError."""
    resource = _BY_CLASS.get(name)
    if resource is None:
        raise TransferError("schema_unknown_class", name=name, classes=sorted(_BY_CLASS))
    return resource


def resource_for_fields(item: object) -> Resource:
    """Return the one resource that the keys of the first inventory fit, or raise TransferError.

    A resource fits when its fields contain every key. When several fit, the
    one whose non-null fields are all present wins. A reply omits only null
    fields, so a complete inventory has every non-null field of its type.
    """
    if not isinstance(item, Mapping):
        raise TransferError("type_first_row_not_object", actual=json_type_name(item))
    keys = set(item)
    candidates = [r for r in RESOURCES.values() if keys <= set(r.field_names)]
    if not candidates:
        raise TransferError("type_unknown", fields=list(item), types=list(RESOURCES))
    if len(candidates) == 1:
        return candidates[0]

    complete = [r for r in candidates
                if {f.name for f in r.fields if not f.nullable} <= keys]
    if len(complete) == 1:
        return complete[0]
    raise TransferError("type_ambiguous", fields=list(item),
                        candidates=[r.name for r in candidates])
