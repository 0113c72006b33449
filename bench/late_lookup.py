"""Compare plain paging with paging on uuids first, in process, on one database.

Usage: python bench/late_lookup.py --data-dir /tmp/bench1m
Prints the best of three runs of each list query in both forms.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from aios_records.query.engine import QueryCompiler, _late_row_lookup
from aios_records.query.language import parse_query
from aios_records.query.visibility import ADMIN
from aios_records.resources import TRAINED_MODEL_RECORD
from aios_records.storage import database
from aios_records.storage.schema import QUERY_TABLES

CASES = [
    {"limit": ["1000"]},
    {"q": ["createDate>2026-10-29"], "limit": ["100"]},
    {"sort": ["-createDate"], "start": ["500000"], "limit": ["100"]},
    {"q": ["model.modelCenter.name=mc-shanghai-01"], "limit": ["100"]},
    {"limit": ["100000"]},
]


def best_of_three(conn: sa.Connection, statement: sa.Select) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        conn.execute(statement).fetchall()
        best = min(best, time.perf_counter() - started)
    return best * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True, type=Path)
    args = parser.parse_args()

    engine = database.create_engine(database.sqlite_url_for(args.data_dir))
    compiler = QueryCompiler(ZoneInfo("UTC"))
    resource = TRAINED_MODEL_RECORD
    table = QUERY_TABLES[resource.name]
    columns = [table.c[f.name] for f in resource.fields]

    print(f"{'query':<60} {'plain ms':>10} {'uuids first ms':>15}")
    with engine.connect() as conn:
        for params in CASES:
            request = parse_query(params)
            where = [compiler.condition(resource, table, c, ADMIN) for c in request.conditions]
            order = compiler._order(resource, table, request)
            plain = (sa.select(*columns).where(*where).order_by(*order)
                     .limit(request.limit).offset(request.start))
            late = _late_row_lookup(table, columns, where, order, request)
            label = "&".join(f"{name}={values[0]}" for name, values in params.items())
            print(f"{label:<60} {best_of_three(conn, plain):>10.1f} "
                  f"{best_of_three(conn, late):>15.1f}")


if __name__ == "__main__":
    main()
