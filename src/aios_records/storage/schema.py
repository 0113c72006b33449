"""SQLAlchemy Core tables, derived from the resource definitions.

Table and column names are ZStack's (`TrainedModelRecordVO.modelUuid` and so
on). Every indexed field gets a composite index ending in `uuid`, so a
condition on it, a sort by it and the uuid tie-breaker of that sort are all
served by one index.
"""

from __future__ import annotations

import sqlalchemy as sa

from ..resources import RESOURCES, Field, FieldType, Resource
from .types import MYSQL_FOLDED_COLUMNS, CaseInsensitiveText, ci_text, index_keys, utc_timestamp

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


# Tables stored in uuid order (SQLite WITHOUT ROWID). SQLite runs many list
# queries by walking rows in uuid order until `limit` rows match, for example
# with a negative condition and often with a range condition. In a rowid table
# that walk follows the uuid index and seeks each row at random. Over
# 1,000,000 records, `q=createDate>` one day before the newest record took
# about 1 s per request that way and takes about 0.08 s here, as
# docs/benchmarks.md records. SQLite's documentation advises WITHOUT ROWID for
# rows under about 1/20 of a page (200 bytes for 4 KiB pages). A record row is
# about that size, so tables with long text columns stay rowid tables.
CLUSTERED_BY_UUID = frozenset({"TrainedModelRecordVO"})


def _resource_table(resource: Resource) -> sa.Table:
    columns = [
        sa.Column(f.name, column_type(f), primary_key=f.name == "uuid", nullable=f.nullable)
        for f in resource.fields
    ]
    options = {"sqlite_with_rowid": False} if resource.table in CLUSTERED_BY_UUID else {}
    table = sa.Table(resource.table, metadata, *columns, **options)
    for f in resource.fields:
        if f.indexed:
            sa.Index(f"idx{resource.table}{f.name}", *index_keys(table.c, f.name, "uuid"))
    return table


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


# Owner of each resource created by a normal account. A resource without a
# row here belongs to the admin (demo data, imports without an owner).
account_resource_ref_table = sa.Table(
    "AccountResourceRefVO",
    metadata,
    sa.Column("resourceUuid", ci_text(32), primary_key=True),
    sa.Column("resourceType", ci_text(64), nullable=False),
    sa.Column("accountUuid", ci_text(32), nullable=False),
    sa.Column("ownerAccountUuid", ci_text(32), nullable=False),
    sa.Column("createDate", utc_timestamp(), nullable=False),
    sa.Column("lastOpDate", utc_timestamp(), nullable=False),
    sa.Index("idxAccountResourceRefVOaccountUuid", "accountUuid", "resourceUuid"),
)

# One row per (resource, receiving account), or one with toPublic set and no receiver.
shared_resource_table = sa.Table(
    "SharedResourceVO",
    metadata,
    sa.Column("uuid", ci_text(32), primary_key=True),
    sa.Column("ownerAccountUuid", ci_text(32), nullable=False),
    sa.Column("receiverAccountUuid", ci_text(32)),
    sa.Column("toPublic", sa.Boolean(), nullable=False),
    sa.Column("resourceType", ci_text(64), nullable=False),
    sa.Column("resourceUuid", ci_text(32), nullable=False),
    sa.Column("createDate", utc_timestamp(), nullable=False),
    sa.Column("lastOpDate", utc_timestamp(), nullable=False),
    sa.Index("idxSharedResourceVOreceiver", "receiverAccountUuid", "resourceUuid"),
    sa.Index("idxSharedResourceVOpublic", "toPublic", "resourceUuid"),
    sa.Index("idxSharedResourceVOresourceUuid", "resourceUuid"),
)

# Tables of every queryable resource, by resource name.
QUERY_TABLES: dict[str, sa.Table] = {
    **RESOURCE_TABLES,
    "Account": account_table,
    "UserTag": user_tag_table,
    "SystemTag": system_tag_table,
}


def _mysql_folded_columns() -> set[tuple[str, str]]:
    """Return the text columns that have a folded generated column on MariaDB/MySQL.

    They are the text columns of every index and primary key, and
    `AccountVO.name`, matching what the migrations create.
    """
    found = {("AccountVO", "name")}
    for table in metadata.tables.values():
        columns = list(table.primary_key.columns)
        for index in table.indexes:
            for expression in index.expressions:
                columns.extend(c for c in sa.sql.visitors.iterate(expression)
                               if isinstance(c, sa.Column))
        found.update((table.name, c.name) for c in columns
                     if isinstance(c.type, CaseInsensitiveText))
    return found


MYSQL_FOLDED_COLUMNS.update(_mysql_folded_columns())
