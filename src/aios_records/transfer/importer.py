"""Import query-reply files into the resource tables, one transaction per file.

Rows are checked with the write APIs' rules, dates are read in a given time
zone and stored in UTC, and rows are upserted by uuid, so importing the same
file twice leaves the tables as the first import did. References between rows
are not checked, because records are history and may name deleted resources.
By default a file with any bad row writes nothing; with `skip_bad_rows` its
good rows are written and the bad ones reported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import ijson
import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite

from ..accounts.bootstrap import ADMIN_UUID
from ..errors import ApiError, invalid_argument
from ..resources import Field, FieldType, Resource
from ..storage.database import write_transaction
from ..storage.schema import RESOURCE_TABLES, account_resource_ref_table
from ..storage.types import to_db_time
from ..timestamps import ACCEPTED_FORMATS, InvalidTimestamp, parse_timestamp
from ..writes.validation import (
    check_record_sources,
    check_value,
    is_uuid,
    json_type_name,
)
from .reader import InventoryStream, TransferError, resource_for_class, resource_for_fields

# Rows per executemany call; all batches of a file share one transaction.
BATCH_ROWS = 1000
# Problems kept for the report of one file. Further problems are only
# counted, so a file of millions of bad rows does not fill memory.
MAX_LISTED_PROBLEMS = 100
MAX_IGNORED_FIELDS = 20


@dataclass
class ImportResult:
    """Outcome of importing one file; `error` is set when the file was rejected as a whole."""

    path: Path
    resource: Resource | None = None
    rows: int = 0
    imported: int = 0
    bad_rows: int = 0
    problems: list[tuple[int, ApiError]] = field(default_factory=list)
    unlisted_problems: int = 0
    ignored_fields: list[str] = field(default_factory=list)
    committed: bool = False
    error: TransferError | None = None


class _RejectFile(Exception):
    """Raised inside the transaction to roll back a file that has bad rows."""


def import_file(engine: sa.Engine, path: Path, zone: ZoneInfo, resource: Resource | None = None,
                skip_bad_rows: bool = False,
                on_progress: Callable[[int], None] | None = None,
                owner_uuid: str = ADMIN_UUID) -> ImportResult:
    """Import one file and return what happened; nothing is written unless it commits.

    `resource` forces the type; otherwise the file's schema or the fields of
    its first inventory decide it. `on_progress` receives the number of bytes
    read so far, after each batch. The imported rows belong to `owner_uuid`,
    also when an earlier import gave them another owner.

    NOTE: the transaction holds SQLite's write lock until the file is done, so
    while a large file is imported, server requests that write (logins and
    session renewals too) wait and fail after the busy timeout.
    """
    result = ImportResult(path, resource=resource)
    try:
        with open(path, "rb") as file, write_transaction(engine) as conn:
            owner = _Owner(owner_uuid, conn.dialect.name)
            _import_rows(conn, InventoryStream(file), result, zone, skip_bad_rows, on_progress,
                         owner)
            if result.bad_rows and not skip_bad_rows:
                raise _RejectFile
        result.committed = True
    except _RejectFile:
        result.imported = 0
    except TransferError as exc:
        result.error = exc
    except ijson.JSONError as exc:
        result.error = TransferError("invalid_json", rows=result.rows,
                                     error=_json_error_text(exc))
    except OSError as exc:
        result.error = TransferError("cannot_read", error=exc.strerror or exc)
    except sa.exc.SQLAlchemyError as exc:
        result.error = TransferError("database_failed", error=getattr(exc, "orig", None) or exc)
    if result.error is not None:
        result.imported = 0
    return result


def _import_rows(conn: sa.Connection, stream: InventoryStream, result: ImportResult,
                 zone: ZoneInfo, skip_bad_rows: bool,
                 on_progress: Callable[[int], None] | None, owner: _Owner) -> None:
    statement = None
    field_names: frozenset[str] = frozenset()
    batch: list[dict[str, object]] = []

    for row_number, item in enumerate(stream.items(), start=1):
        if statement is None:
            result.resource = _file_resource(stream, result.resource, item)
            statement = upsert_statement(result.resource, conn.dialect.name)
            field_names = frozenset(result.resource.field_names)
        result.rows = row_number
        if isinstance(item, dict):
            _note_ignored_fields(result, item.keys() - field_names)

        values, problems = convert_row(result.resource, item, zone)
        if problems:
            result.bad_rows += 1
            _note_problems(result, row_number, problems)
            continue
        # After a bad row an all-or-nothing import only checks the rest.
        if result.bad_rows and not skip_bad_rows:
            continue
        batch.append(values)
        if len(batch) >= BATCH_ROWS:
            _flush(conn, statement, batch, result, stream, on_progress, owner)

    if batch and (skip_bad_rows or not result.bad_rows):
        _flush(conn, statement, batch, result, stream, on_progress, owner)
    if on_progress is not None:
        on_progress(stream.bytes_read)


class _Owner:
    """Records the owner of imported rows in AccountResourceRefVO."""

    def __init__(self, account_uuid: str, dialect_name: str) -> None:
        self.account_uuid = account_uuid
        ref = account_resource_ref_table
        self.upsert = _upsert(ref, ref.c.resourceUuid, ["accountUuid", "ownerAccountUuid"],
                              dialect_name)

    def assign(self, conn: sa.Connection, resource: Resource,
               batch: list[dict[str, object]]) -> None:
        ref = account_resource_ref_table
        uuids = [row["uuid"] for row in batch]
        if self.account_uuid == ADMIN_UUID:
            # Rows without an owner row belong to the admin.
            conn.execute(ref.delete().where(ref.c.resourceUuid.in_(uuids)))
            return
        conn.execute(self.upsert, [
            {"resourceUuid": uuid, "resourceType": resource.table,
             "accountUuid": self.account_uuid, "ownerAccountUuid": self.account_uuid,
             "createDate": row["createDate"], "lastOpDate": row["lastOpDate"]}
            for uuid, row in zip(uuids, batch)
        ])


def _flush(conn: sa.Connection, statement, batch: list[dict[str, object]],
           result: ImportResult, stream: InventoryStream,
           on_progress: Callable[[int], None] | None, owner: _Owner) -> None:
    conn.execute(statement, batch)
    owner.assign(conn, result.resource, batch)
    result.imported += len(batch)
    batch.clear()
    if on_progress is not None:
        on_progress(stream.bytes_read)


def _file_resource(stream: InventoryStream, type_option: Resource | None,
                   first_item: object) -> Resource:
    """Decide the file's resource from `--type`, the schema, or the first inventory."""
    if type_option is not None:
        if stream.schema_class is not None and stream.schema_class != type_option.inventory_class:
            raise TransferError("type_conflict", name=stream.schema_class,
                                resource=type_option.name)
        return type_option
    if stream.schema_class is not None:
        return resource_for_class(stream.schema_class)
    return resource_for_fields(first_item)


def upsert_statement(resource: Resource, dialect_name: str) -> sa.Insert:
    """Build an insert of `resource` rows that updates every other column on a uuid conflict."""
    table = RESOURCE_TABLES[resource.name]
    others = [name for name in resource.field_names if name != "uuid"]
    return _upsert(table, table.c.uuid, others, dialect_name)


def _upsert(table: sa.Table, key: sa.Column, updated: list[str], dialect_name: str) -> sa.Insert:
    """Build the dialect's insert-or-update on the primary key `key`.

    PostgreSQL matches the conflict through the unique index on `lower(key)`,
    so a key differing only in the case of A-Z updates the row as on SQLite,
    whose NOCASE primary key treats the two as equal. MariaDB's ON DUPLICATE
    KEY UPDATE fires on any unique key, including the folded one.
    """
    if dialect_name == "postgresql":
        insert = postgresql.insert(table)
        return insert.on_conflict_do_update(
            index_elements=[sa.func.lower(sa.column(key.name))],
            set_={name: insert.excluded[name] for name in updated},
        )
    if dialect_name == "mysql":
        insert = mysql.insert(table)
        return insert.on_duplicate_key_update({name: insert.inserted[name] for name in updated})
    insert = sqlite.insert(table)
    return insert.on_conflict_do_update(
        index_elements=[key], set_={name: insert.excluded[name] for name in updated},
    )


def convert_row(resource: Resource, item: object,
                zone: ZoneInfo) -> tuple[dict[str, object], list[ApiError]]:
    """Return the column values of one inventory and the problems found in it.

    Every field gets a value (None, a default, or the checked value), so all
    rows of a batch have the same keys. Unknown keys are ignored.
    """
    if not isinstance(item, dict):
        return {}, [invalid_argument("row_not_object", actual=json_type_name(item))]
    values: dict[str, object] = {}
    problems: list[ApiError] = []
    for field_ in resource.fields:
        try:
            values[field_.name] = _column_value(resource, field_, item.get(field_.name), zone)
        except ApiError as exc:
            problems.append(exc)
    if not problems:
        try:
            check_record_sources(resource, values)
        except ApiError as exc:
            problems.append(exc)
    return values, problems


def _column_value(resource: Resource, field_: Field, value: object, zone: ZoneInfo) -> object:
    spec = resource.writes
    if value is None:
        if field_.name in spec.defaults:
            return spec.defaults[field_.name]
        if field_.nullable and field_.name not in spec.required:
            return None
        # createDate and lastOpDate are required too, because a default of "now"
        # would invent history and make a second import change the rows.
        raise invalid_argument("missing_field", field=field_.name)

    if field_.name == "uuid":
        if not is_uuid(value):
            raise invalid_argument("not_a_uuid", field=field_.name, value=value)
        return value.lower()
    if field_.type is FieldType.TIMESTAMP:
        return _stored_time(field_, value, zone)
    return check_value(field_, value, field_.name, spec.choices)


def _stored_time(field_: Field, value: object, zone: ZoneInfo) -> str:
    """Parse a date in the reply format or another accepted form, read in `zone`."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ApiError("SYS.1007", "wrong_body_type", field=field_.name, expected="string",
                       actual=json_type_name(value))
    try:
        return _stored_time_text(str(value), zone)
    except InvalidTimestamp:
        raise invalid_argument("bad_timestamp", field=field_.name, value=value,
                               forms=ACCEPTED_FORMATS) from None


# createDate usually equals lastOpDate, and rows written together share dates.
@lru_cache(maxsize=4096)
def _stored_time_text(text: str, zone: ZoneInfo) -> str:
    return to_db_time(parse_timestamp(text, zone))


def _json_error_text(exc: ijson.JSONError) -> str:
    """Return the first line of a parser error, without yajl's lines that point into the text."""
    text = exc.args[0] if exc.args else ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    lines = str(text).strip().splitlines()
    return lines[0].rstrip(".") if lines else type(exc).__name__


def _note_problems(result: ImportResult, row_number: int, problems: list[ApiError]) -> None:
    for problem in problems:
        if len(result.problems) < MAX_LISTED_PROBLEMS:
            result.problems.append((row_number, problem))
        else:
            result.unlisted_problems += 1


def _note_ignored_fields(result: ImportResult, unknown: set[str]) -> None:
    for name in unknown:
        if name not in result.ignored_fields and len(result.ignored_fields) < MAX_IGNORED_FIELDS:
            result.ignored_fields.append(name)
