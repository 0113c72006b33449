"""Typed inventories: one frozen dataclass per queryable resource, built from its fields.

`TrainedModelRecordInventory`, `ModelInventory`, ... carry every field of
the resource in wire order. A field the reply omits (the server omits null
fields, and `fields=` leaves out the rest) is None. Timestamps become aware
datetimes in the time zone the caller gives.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from ..resources import QUERY_RESOURCES, FieldType, Resource
from ..timestamps import parse_timestamp

_PYTHON_TYPES = {
    FieldType.STRING: str,
    FieldType.TIMESTAMP: datetime,
    FieldType.LONG: int,
    FieldType.INT: int,
    FieldType.BOOL: bool,
}


def _inventory_class(resource: Resource) -> type:
    class_name = resource.inventory_class.rsplit(".", 1)[1]
    fields = [
        (field.name, _PYTHON_TYPES[field.type] | None, dataclasses.field(default=None))
        for field in resource.fields
    ]
    cls = dataclasses.make_dataclass(class_name, fields, frozen=True)
    cls.__module__ = __name__
    cls.__doc__ = f"An inventory of {resource.name} ({resource.inventory_class})."
    cls.resource_name = resource.name
    return cls


INVENTORY_CLASSES: dict[str, type] = {
    name: _inventory_class(resource) for name, resource in QUERY_RESOURCES.items()
}
globals().update({cls.__name__: cls for cls in INVENTORY_CLASSES.values()})


def resource_of(resource: str | type) -> Resource:
    """Return the Resource for a name ("TrainedModelRecord") or an inventory class."""
    name = getattr(resource, "resource_name", resource)
    try:
        return QUERY_RESOURCES[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown resource {resource!r}; expected one of {', '.join(QUERY_RESOURCES)}"
        ) from None


def parse_inventory(resource: Resource, data: Mapping[str, object], zone: ZoneInfo):
    """Build the typed inventory of a reply object; dates are read and returned in `zone`.

    NOTE: replies carry no UTC offset, so in a zone with daylight saving time
    a date in the hour repeated in autumn reads as the earlier instant.
    """
    values = {}
    for field in resource.fields:
        value = data.get(field.name)
        if value is None:
            continue
        if field.type is FieldType.TIMESTAMP:
            value = parse_timestamp(str(value), zone).astimezone(zone)
        values[field.name] = value
    return INVENTORY_CLASSES[resource.name](**values)
