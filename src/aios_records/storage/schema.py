"""SQLAlchemy Core tables, derived from the resource definitions.

Table and column names are ZStack's (`TrainedModelRecordVO.modelUuid` and so
on). Every indexed field gets a composite index ending in `uuid`, so a
condition on it, a sort by it and the uuid tie-breaker of that sort are all
served by one index.
"""

from __future__ import annotations

import sqlalchemy as sa

from ..resources import RESOURCES, Field, FieldType, Resource
from .types import ci_text, utc_timestamp

metadata = sa.MetaData()


def column_type(field: Field) -> sa.types.TypeEngine:
    if field.type is FieldType.STRING:
        return ci_text(field.max_length)
    if field.type is FieldType.TIMESTAMP:
        return utc_timestamp()
    if field.type is FieldType.LONG:
        return sa.BigInteger()
    if field.type is FieldType.INT:
        return sa.Integer()
    return sa.Boolean()


def _resource_table(resource: Resource) -> sa.Table:
    columns = [
        sa.Column(f.name, column_type(f), primary_key=f.name == "uuid", nullable=f.nullable)
        for f in resource.fields
    ]
    indexes = [
        sa.Index(f"idx{resource.table}{f.name}", f.name, "uuid")
        for f in resource.fields
        if f.indexed
    ]
    return sa.Table(resource.table, metadata, *columns, *indexes)


RESOURCE_TABLES: dict[str, sa.Table] = {
    name: _resource_table(resource) for name, resource in RESOURCES.items()
}

account_table = sa.Table(
    "AccountVO",
    metadata,
    sa.Column("uuid", ci_text(32), primary_key=True),
    sa.Column("name", ci_text(255), nullable=False, unique=True),
    sa.Column("type", ci_text(128), nullable=False),
    sa.Column("description", ci_text(2048)),
    sa.Column("password", sa.String(255), nullable=False),
    sa.Column("createDate", utc_timestamp(), nullable=False),
    sa.Column("lastOpDate", utc_timestamp(), nullable=False),
)

session_table = sa.Table(
    "SessionVO",
    metadata,
    sa.Column("uuid", ci_text(32), primary_key=True),
    sa.Column("accountUuid", ci_text(32), nullable=False),
    sa.Column("userUuid", ci_text(32), nullable=False),
    sa.Column("expiredDate", utc_timestamp(), nullable=False),
    sa.Column("createDate", utc_timestamp(), nullable=False),
    sa.Column("lastOpDate", utc_timestamp(), nullable=False),
    sa.Index("idxSessionVOaccountUuid", "accountUuid", "expiredDate"),
    sa.Index("idxSessionVOexpiredDate", "expiredDate"),
)


def _tag_table(name: str) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        sa.Column("uuid", ci_text(32), primary_key=True),
        sa.Column("resourceUuid", ci_text(32), nullable=False),
        sa.Column("resourceType", ci_text(64), nullable=False),
        sa.Column("tag", ci_text(2048), nullable=False),
        sa.Column("createDate", utc_timestamp(), nullable=False),
        sa.Column("lastOpDate", utc_timestamp(), nullable=False),
        sa.Index(f"idx{name}resourceUuid", "resourceUuid"),
        sa.Index(f"idx{name}tag", "tag"),
    )


user_tag_table = _tag_table("UserTagVO")
system_tag_table = _tag_table("SystemTagVO")
