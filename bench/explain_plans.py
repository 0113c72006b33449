"""Print the PostgreSQL or MariaDB plans of typical list queries.

Usage: python bench/explain_plans.py DATABASE_URL [--records N]

Writes the demo world (seed 1) into an empty database first, then prints
EXPLAIN for SELECTs built by the query engine itself, so the plans show
whether the folded-text indexes serve `=`, IN, prefix LIKE and ORDER BY.
"""

from __future__ import annotations

import argparse
from zoneinfo import ZoneInfo

from aios_records.demo import database_has_data, write_demo_world
from aios_records.query.engine import QueryCompiler
from aios_records.query.language import QueryRequest, parse_condition
from aios_records.resources import RESOURCES
from aios_records.storage import database

# (resource, conditions, sort field, descending)
CASES = [
    ("TrainedModelRecord", ["modelUuid=AB00000000000000000000000000000F"], None, False),
    ("TrainedModelRecord", ["modelUuid?=ab,cd,ef"], None, False),
    ("TrainedModelRecord", ["modelUuid~=ab%"], None, False),
    ("TrainedModelRecord", [], "modelUuid", False),
    ("TrainedModelRecord", [], "modelUuid", True),
    ("TrainedModelRecord", [], "createDate", True),
    ("TrainedModelRecord", [], None, False),
    ("TrainedModelRecord", ["uuid=ABC"], None, False),
    ("Model", ["name=Foo"], None, False),
    ("Model", ["name~=fo%"], "name", False),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database_url")
    parser.add_argument("--records", type=int, default=20_000)
    args = parser.parse_args()

    engine = database.create_engine(args.database_url)
    if engine.dialect.name == "sqlite":
        raise SystemExit("use tests/test_storage_plans.py for SQLite plans")
    database.prepare_schema(engine)
    if not database_has_data(engine):
        write_demo_world(engine, records=args.records, seed=1)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("ANALYZE")
        else:
            conn.exec_driver_sql('ANALYZE TABLE "TrainedModelRecordVO", "ModelVO"').all()

    compiler = QueryCompiler(ZoneInfo("UTC"))
    for resource, conditions, sort, descending in CASES:
        request = QueryRequest(conditions=tuple(parse_condition(c) for c in conditions),
                               sort_field=sort, sort_descending=descending, limit=20)
        query = compiler.compile(RESOURCES[resource], request).rows
        # The values are the fixed test cases above, so inlining them is safe.
        sql = str(query.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
        print(f"== {resource} q={conditions} sort={'-' if descending else ''}{sort or ''}")
        with engine.connect() as conn:
            for row in conn.exec_driver_sql("EXPLAIN " + sql):
                print("  ", " | ".join(str(value) for value in row))
    engine.dispose()


if __name__ == "__main__":
    main()
