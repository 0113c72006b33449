"""SQLite query plans of TrainedModelRecordVO list queries, and migration/metadata agreement.

The queries come from the real `QueryCompiler` and run as `EXPLAIN QUERY PLAN`
with their bound parameters, over a migrated database containing the seed-1
demo world (3,000 records), once after `ANALYZE` and once without statistics.
Plan lines are in SQLite 3.40's wording (`SEARCH t USING INDEX i (a=?)`,
`SCAN t USING COVERING INDEX i`, ...).

Why a plan is good or bad here: the table is stored in uuid order (WITHOUT
ROWID), and every indexed field has an index on (field, uuid) with the
column's collation. A condition should be served by its field's index
(`SEARCH`), and a sort should read rows in index order (no `USE TEMP B-TREE
FOR ORDER BY`). A walk of the whole table should read the table itself in
uuid order, which is sequential, and never a secondary index with one table
seek per row.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from aios_records.demo import write_demo_world
from aios_records.query.engine import CompiledQuery, QueryCompiler
from aios_records.query.language import INT32_MAX, QueryRequest, parse_condition
from aios_records.resources import TRAINED_MODEL_RECORD, FieldType
from aios_records.storage import database
from aios_records.storage.schema import RESOURCE_TABLES, metadata
from conftest import sqlite_only

# Query plans and the table layout checked here are SQLite's.
pytestmark = sqlite_only

TABLE = TRAINED_MODEL_RECORD.table
RECORDS = 3000

TEXT_FIELDS = tuple(f.name for f in TRAINED_MODEL_RECORD.fields if f.is_text)
NULLABLE_FIELDS = tuple(f.name for f in TRAINED_MODEL_RECORD.fields if f.nullable)
NOT_NULL_FIELDS = tuple(f.name for f in TRAINED_MODEL_RECORD.fields if not f.nullable)
ALL_FIELDS = TRAINED_MODEL_RECORD.field_names
RANGE_OPERATORS = (">", ">=", "<", "<=")


def sample_value(field: str) -> str:
    if TRAINED_MODEL_RECORD.field(field).type is FieldType.TIMESTAMP:
        return "2025-06-01 00:00:00"
    return "8f3a"


def condition_text(field: str, operator: str) -> str:
    """Return a `q` value applying `operator` to `field` with a value of the field's type."""
    value = sample_value(field)
    if operator == "is null":
        return f"{field} is null"
    if operator in ("?=", "!?="):
        second = "2025-06-02 00:00:00" if value[0] == "2" else "c01d"
        return f"{field}{operator}{value},{second}"
    if operator in ("~=", "!~="):
        return f"{field}{operator}{value}%"
    return f"{field}{operator}{value}"


def index_name(field: str) -> str:
    return f"idx{TABLE}{field}"


def searched_structure(field: str) -> str:
    """Return how a plan line names the structure that serves a search on `field`."""
    return "PRIMARY KEY" if field == "uuid" else f"INDEX {index_name(field)}"


# Every positive single-field condition that an index on the field can serve:
# comparisons, IN, LIKE with a literal prefix, and IS NULL on nullable fields.
POSITIVE_CASES = [
    *((field, op) for field in ALL_FIELDS for op in ("=", *RANGE_OPERATORS, "?=")),
    *((field, "~=") for field in TEXT_FIELDS),
    *((field, "is null") for field in NULLABLE_FIELDS),
]

# Negative operators (!=, !?=, !~=) match everything outside one value, list or
# pattern, so no index range contains exactly their matches. SQLite evaluates
# them while walking rows, so they are checked below for walking the table in
# uuid order (and stopping at `limit`), not for using an index.
NEGATIVE_CASES = [
    *((field, op) for field in ALL_FIELDS for op in ("!=", "!?=")),
    *((field, "!~=") for field in TEXT_FIELDS),
]


def case_id(case: tuple[str, str]) -> str:
    return f"{case[0]} {case[1]}"


@pytest.fixture(scope="module", params=["analyzed", "not analyzed"])
def engine(request, tmp_path_factory) -> Iterator[sa.Engine]:
    """A migrated database with the seed-1 demo world, with and without `ANALYZE` statistics.

    Neither `demo-data` nor `serve` runs ANALYZE, so served databases usually
    have no statistics and the planner uses its built-in estimates.
    """
    directory = tmp_path_factory.mktemp("plans")
    engine = database.create_engine(database.sqlite_url_for(directory))
    database.upgrade(engine)
    write_demo_world(engine, records=RECORDS, seed=1)
    if request.param == "analyzed":
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def compiler() -> QueryCompiler:
    return QueryCompiler(ZoneInfo("UTC"))


def query_plan(engine: sa.Engine, statement: sa.Select,
               bound: Mapping[str, object] | None = None) -> list[str]:
    """Return the detail column of `EXPLAIN QUERY PLAN` for `statement` with its bound values.

    `bound` gives the values of parameters the statement leaves open, as
    `CompiledQuery.parameters` does. `render_postcompile` expands IN lists
    into one `?` per item, as execution does.
    """
    with engine.connect() as conn:
        compiled = statement.compile(dialect=conn.dialect,
                                     compile_kwargs={"render_postcompile": True})
        values = compiled.construct_params(dict(bound) if bound else None)
        parameters = tuple(values[name] for name in compiled.positiontup)
        rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", parameters).all()
    return [row[-1] for row in rows]


def rows_plan(engine: sa.Engine, compiler: QueryCompiler, request: QueryRequest) -> list[str]:
    compiled = compiler.compile(TRAINED_MODEL_RECORD, request)
    return query_plan(engine, compiled.rows, compiled.parameters)


def count_plan(engine: sa.Engine, compiler: QueryCompiler, request: QueryRequest) -> list[str]:
    counted = QueryRequest(conditions=request.conditions, count=True)
    compiled = compiler.compile(TRAINED_MODEL_RECORD, counted)
    return query_plan(engine, compiled.count, compiled.parameters)


def one_condition(field: str, operator: str, **paging) -> QueryRequest:
    return QueryRequest(conditions=(parse_condition(condition_text(field, operator)),), **paging)


def count_vm_steps(engine: sa.Engine, compiled: CompiledQuery) -> int:
    """Run the rows of `compiled` and return how many virtual-machine instructions SQLite executed."""
    steps = 0

    def tick() -> int:
        nonlocal steps
        steps += 1
        return 0

    with engine.connect() as conn:
        driver_connection = conn.connection.dbapi_connection
        driver_connection.set_progress_handler(tick, 1)
        try:
            conn.execute(compiled.rows, compiled.parameters).all()
        finally:
            driver_connection.set_progress_handler(None, 1)
    return steps


# -- storage layout -----------------------------------------------------------


def test_record_table_is_stored_in_uuid_order(engine):
    with engine.connect() as conn:
        sql = conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (TABLE,)
        ).scalar_one()
    table = RESOURCE_TABLES[TRAINED_MODEL_RECORD.name]
    assert sql.rstrip().endswith("WITHOUT ROWID")
    assert table.dialect_options["sqlite"]["with_rowid"] is False


@pytest.mark.parametrize("field", [f.name for f in TRAINED_MODEL_RECORD.fields if f.indexed])
def test_field_index_is_field_then_uuid(engine, field):
    with engine.connect() as conn:
        keys = [row for row in conn.exec_driver_sql(f'PRAGMA index_xinfo("{index_name(field)}")')
                if row[5]]  # row: seqno, cid, name, desc, collation, is key column
    expected_collation = "NOCASE" if field in TEXT_FIELDS else "BINARY"
    assert [key[2] for key in keys] == [field, "uuid"]
    assert keys[0][4] == expected_collation
    assert keys[1][4] == "NOCASE"


# -- conditions ---------------------------------------------------------------


@pytest.mark.parametrize("case", POSITIVE_CASES, ids=case_id)
def test_condition_count_searches_field_index(engine, compiler, case):
    field, operator = case
    plan = count_plan(engine, compiler, one_condition(field, operator))
    assert len(plan) == 1, plan
    assert plan[0].startswith(f"SEARCH {TABLE} USING "), plan
    assert searched_structure(field) in plan[0], plan
    assert f"({field}" in plan[0], plan


@pytest.mark.parametrize("field", ALL_FIELDS)
def test_equality_list_reads_index_in_uuid_order(engine, compiler, field):
    # The (field, uuid) index contains the matches of `field=` already in the
    # default uuid order, so no sort step is needed.
    plan = rows_plan(engine, compiler, one_condition(field, "="))
    assert plan == [f"SEARCH {TABLE} USING {searched_structure(field)} ({field}=?)"]


@pytest.mark.parametrize("case", POSITIVE_CASES, ids=case_id)
def test_condition_list_searches_or_walks_table(engine, compiler, case):
    # With the default uuid order and limit 1000, SQLite may walk the table in
    # uuid order and stop after 1000 matches instead of searching the index
    # and sorting every match. Without STAT4 statistics it cannot tell which
    # is cheaper. Both are acceptable because the walk reads the uuid-ordered
    # table sequentially. A walk through a secondary index, which seeks the
    # table once per row, must not appear.
    field, operator = case
    plan = rows_plan(engine, compiler, one_condition(field, operator))
    if plan[0].startswith("SEARCH"):
        assert searched_structure(field) in plan[0], plan
    else:
        assert plan == [f"SCAN {TABLE}"]


@pytest.mark.parametrize("field", ALL_FIELDS)
@pytest.mark.parametrize("operator", RANGE_OPERATORS)
@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
def test_range_sorted_by_same_field_uses_one_index(engine, compiler, field, operator,
                                                   descending):
    request = one_condition(field, operator, sort_field=field, sort_descending=descending)
    plan = rows_plan(engine, compiler, request)
    assert len(plan) == 1, plan
    assert plan[0].startswith(f"SEARCH {TABLE} USING {searched_structure(field)} "), plan


def test_like_prefix_with_escaped_wildcard_searches_index(engine, compiler):
    # `\_` is a literal underscore, so the literal prefix is `8f_a` and the
    # index range still applies.
    request = QueryRequest(conditions=(parse_condition(r"modelUuid~=8f\_a%"),), count=True)
    compiled = compiler.compile(TRAINED_MODEL_RECORD, request)
    plan = query_plan(engine, compiled.count, compiled.parameters)
    assert plan == [f"SEARCH {TABLE} USING COVERING INDEX {index_name('modelUuid')} "
                    "(modelUuid>? AND modelUuid<?)"]


@pytest.mark.parametrize("field", NOT_NULL_FIELDS)
def test_is_null_of_not_null_column_skips_rows(engine, compiler, field):
    # SQLite 3.40 folds `x IS NULL` to false when x is declared NOT NULL. The
    # plan still shows SCAN, but the bytecode jumps over the loop, which the
    # count of executed VM instructions shows. The `not null` query is the
    # control, which visits every row.
    is_null = compiler.compile(TRAINED_MODEL_RECORD, one_condition(field, "is null"))
    not_null = compiler.compile(
        TRAINED_MODEL_RECORD, QueryRequest(conditions=(parse_condition(f"{field} not null"),)))
    assert count_vm_steps(engine, is_null) < 100
    assert count_vm_steps(engine, not_null) > RECORDS


@pytest.mark.parametrize("case", NEGATIVE_CASES, ids=case_id)
def test_negative_condition_walks_table_in_uuid_order(engine, compiler, case):
    field, operator = case
    plan = rows_plan(engine, compiler, one_condition(field, operator))
    assert plan == [f"SCAN {TABLE}"]


@pytest.mark.parametrize("text", [
    "model.name=Qwen2.5-7B-Instruct",
    "modelServiceInstanceGroup.name=ft-x",
])
def test_expansion_hop_searches_join_index(engine, compiler, text):
    plan = rows_plan(engine, compiler, QueryRequest(conditions=(parse_condition(text),)))
    local_field = TRAINED_MODEL_RECORD.expansion(text.split(".")[0]).local_field
    # Cross-table pages look up rows after paging on uuids, so the hop may
    # run inside the materialized page and read the index alone.
    searches = [f"SEARCH {TABLE} USING {kind}INDEX {index_name(local_field)} ({local_field}=?)"
                for kind in ("", "COVERING ")]
    assert any(line in searches for line in plan), plan
    assert any(line.endswith("(name=?)") and line.startswith("SEARCH ") for line in plan), plan


# -- sorting and counting -----------------------------------------------------


@pytest.mark.parametrize("field", ALL_FIELDS)
@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
@pytest.mark.parametrize("limit", [100, 1000, INT32_MAX])
def test_sort_reads_rows_in_index_order(engine, compiler, field, descending, limit):
    request = QueryRequest(sort_field=field, sort_descending=descending, limit=limit)
    plan = rows_plan(engine, compiler, request)
    expected = f"SCAN {TABLE} USING INDEX {index_name(field)}"
    if field == "uuid":
        expected = f"SCAN {TABLE}"
    assert "USE TEMP B-TREE FOR ORDER BY" not in plan
    assert plan == [expected]


def test_default_order_walks_table(engine, compiler):
    assert rows_plan(engine, compiler, QueryRequest()) == [f"SCAN {TABLE}"]


def test_count_without_condition_reads_covering_index(engine, compiler):
    plan = count_plan(engine, compiler, QueryRequest())
    assert len(plan) == 1, plan
    assert plan[0].startswith(f"SCAN {TABLE} USING COVERING INDEX "), plan


# -- migrations ---------------------------------------------------------------


def test_migration_matches_schema_metadata(tmp_path):
    engine = database.create_engine(database.sqlite_url_for(tmp_path))
    try:
        database.upgrade(engine)
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            differences = compare_metadata(context, metadata)

            # The control: a metadata copy without one index must differ, so
            # an empty result above is a real comparison.
            reduced = sa.MetaData()
            for table in metadata.sorted_tables:
                copy = table.to_metadata(reduced)
                if table.name == TABLE:
                    copy.indexes = {i for i in copy.indexes if i.name != index_name("createDate")}
            control = compare_metadata(context, reduced)
    finally:
        engine.dispose()
    assert differences == []
    assert [diff[0] for diff in control] == ["remove_index"]
