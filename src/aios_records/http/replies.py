"""Run a compiled list query and build its reply, streaming large pages.

`schema` precedes `inventories` and lists every position, so the row count of
a page must be known before the first byte. Pages of up to `CHUNK_ROWS` rows
are read whole. A larger page is counted first and then streamed chunk by
chunk from a server-side cursor, so memory stays bounded whatever the `limit`.
Count and rows are read in one transaction (one snapshot), so they agree.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

import sqlalchemy as sa

from ..query.engine import CompiledQuery
from ..rendering import KEPT_SCHEMA_ROWS, InventoryRenderer, schema_bytes

CHUNK_ROWS = 2000
SCHEMA_CHUNK = 20000


@dataclass
class Reply:
    """A finished body, or a stream of body pieces that owns the connection."""

    body: bytes | None = None
    stream: Iterator[bytes] | None = None


def _head(cls: str, total: int | None, page_rows: int) -> Iterator[bytes]:
    yield b'{"schema":{'
    high = page_rows
    while high > 0:
        low = max(0, high - SCHEMA_CHUNK)
        if high != page_rows:
            yield b","
        yield schema_bytes(cls, high, low)
        high = low
    yield b"}"
    if total is not None:
        yield b',"total":%d' % total


def page_body(compiled: CompiledQuery, total: int | None, rows: Sequence[Sequence] | None,
              renderer: InventoryRenderer) -> bytes:
    """Build the whole reply of a page read at once; `rows` is None for `count=true`."""
    cls = compiled.resource.inventory_class
    if rows is None:
        return b"".join(_head(cls, total, 0)) + b"}"
    if total is None and len(rows) <= KEPT_SCHEMA_ROWS:
        head = _kept_head(cls, len(rows))
    else:
        head = b"".join(_head(cls, total, len(rows))) + b',"inventories":'
    return head + renderer.render_rows(rows, compiled.fields) + b"}"


@lru_cache(maxsize=1024)
def _kept_head(inventory_class: str, page_rows: int) -> bytes:
    """Return the bytes before the inventories of a page without `total`, kept for common sizes."""
    return b"".join(_head(inventory_class, None, page_rows)) + b',"inventories":'


def execute(conn: sa.Connection, compiled: CompiledQuery,
            renderer: InventoryRenderer) -> Reply:
    """Run `compiled` on `conn`; the caller closes `conn` unless a stream is returned."""
    parameters = compiled.parameters
    total = (conn.execute(compiled.count, parameters).scalar_one()
             if compiled.count is not None else None)
    if compiled.rows is None:
        return Reply(body=page_body(compiled, total, None, renderer))

    page_rows = None
    if compiled.limit > CHUNK_ROWS:
        # Counted before the rows are read, because PyMySQL cannot run a
        # statement while a server-side cursor is open.
        page_rows = conn.execute(
            sa.select(sa.func.count()).select_from(compiled.rows.subquery()), parameters
        ).scalar_one()
    if page_rows is None or page_rows <= CHUNK_ROWS:
        rows = conn.execute(compiled.rows, parameters).fetchall()
        return Reply(body=page_body(compiled, total, rows, renderer))

    # psycopg and PyMySQL read a whole result into memory unless it comes
    # from a server-side cursor, which `stream_results` selects. SQLite reads
    # rows as they are fetched either way.
    result = conn.execute(compiled.rows, parameters,
                          execution_options={"stream_results": True})
    first = result.fetchmany(CHUNK_ROWS)
    return Reply(stream=_stream(conn, result, first, compiled, total, page_rows, renderer))


def _stream(conn: sa.Connection, result: sa.CursorResult, first: list,
            compiled: CompiledQuery, total: int | None, page_rows: int,
            renderer: InventoryRenderer) -> Iterator[bytes]:
    try:
        yield from _head(compiled.resource.inventory_class, total, page_rows)
        yield b',"inventories":['
        chunk, separator = first, b""
        while chunk:
            yield separator + renderer.render_rows(chunk, compiled.fields)[1:-1]
            separator = b","
            chunk = result.fetchmany(CHUNK_ROWS)
        yield b"]}"
    finally:
        result.close()
        conn.close()
