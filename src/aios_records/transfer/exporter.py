"""Export resource tables as files in the shape of a query reply, `{"inventories":[...]}`.

Inventories are rendered as the query API renders them: wire field order,
null fields omitted, dates in the reply format in a given time zone, and
Gson's HTML escaping. Rows are read in uuid order, in chunks, inside one read
transaction, so the file is one consistent snapshot and memory stays bounded.
"""

from __future__ import annotations

import os
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from ..rendering import InventoryRenderer
from ..resources import Resource
from ..storage.schema import RESOURCE_TABLES

CHUNK_ROWS = 2000


def export_path(output_dir: Path, resource: Resource) -> Path:
    return output_dir / f"{resource.name}.json"


def export_resource(engine: sa.Engine, resource: Resource, output_dir: Path,
                    zone: ZoneInfo) -> tuple[Path, int]:
    """Write every row of `resource` to `output_dir/<name>.json`; return the path and row count.

    The file is written under a temporary name and renamed when complete, so
    a failed export never leaves a truncated file under the final name.
    """
    path = export_path(output_dir, resource)
    partial = path.with_name(path.name + ".part")
    renderer = InventoryRenderer(zone)
    table = RESOURCE_TABLES[resource.name]
    query = sa.select(*(table.c[name] for name in resource.field_names)).order_by(table.c.uuid)

    count = 0
    try:
        with engine.connect() as conn, conn.begin(), open(partial, "wb") as out:
            result = conn.execute(query)
            out.write(b'{"inventories":[')
            separator = b""
            while chunk := result.fetchmany(CHUNK_ROWS):
                # render_rows returns a JSON array; its brackets are dropped so
                # the chunks join into one array.
                out.write(separator + renderer.render_rows(chunk, resource.fields)[1:-1])
                separator = b","
                count += len(chunk)
            out.write(b"]}")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path, count
