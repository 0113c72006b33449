"""Index creation for migrations, in each dialect's form of the comparison keys.

SQLite indexes the bare columns, whose NOCASE collation already folds case.
PostgreSQL indexes `lower(column)` for text with NULLS FIRST on every key
(see `types.index_key`). MariaDB/MySQL index a stored, invisible generated
column `<column>Folded` holding the column with A-Z lowered, which
`types.fold` names in queries. On PostgreSQL and MariaDB a unique index on the
folded primary key also serves lookups and the uuid tie-breaker of every sort.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from .types import FOLDED_SUFFIX, index_key, mysql_fold_sql

# Maximum prefix, in characters, of a text column in a MariaDB index. InnoDB
# keys are at most 3072 bytes, and utf8mb4 takes up to 4 bytes a character.
MYSQL_INDEX_PREFIX = 512

# Columns of the migrated tables that are not text.
NON_TEXT_COLUMNS = frozenset({"createDate", "lastOpDate", "expiredDate", "toPublic"})


def create_index(name: str, table: str, columns: Sequence[str], unique: bool = False) -> None:
    """Create an index over `columns` of `table` in the connected dialect's key form."""
    bind = op.get_bind()
    if bind.dialect.name == "mysql":
        _create_mysql_index(bind, name, table, columns, unique)
        return
    placeholder = sa.Table(table, sa.MetaData(), *(sa.Column(c) for c in columns))
    keys = [index_key(placeholder.c[c], c not in NON_TEXT_COLUMNS) for c in columns]
    sa.Index(name, *keys, unique=unique).create(bind)


def _create_mysql_index(bind: sa.Connection, name: str, table: str, columns: Sequence[str],
                        unique: bool) -> None:
    quote = bind.dialect.identifier_preparer.quote
    lengths = {c["name"]: getattr(c["type"], "length", None)
               for c in sa.inspect(bind).get_columns(table)}
    keys = []
    for column in columns:
        if column in NON_TEXT_COLUMNS:
            keys.append(quote(column))
            continue
        folded = column + FOLDED_SUFFIX
        length = lengths[column]
        if folded not in lengths:
            bind.exec_driver_sql(
                f"ALTER TABLE {quote(table)} ADD COLUMN {quote(folded)} "
                f"VARCHAR({length}) COLLATE utf8mb4_nopad_bin "
                f"AS ({mysql_fold_sql(quote(column))}) STORED INVISIBLE")
            lengths[folded] = length
        prefix = f"({MYSQL_INDEX_PREFIX})" if length > MYSQL_INDEX_PREFIX else ""
        keys.append(quote(folded) + prefix)
    kind = "UNIQUE INDEX" if unique else "INDEX"
    bind.exec_driver_sql(f"CREATE {kind} {quote(name)} ON {quote(table)} ({', '.join(keys)})")


def create_folded_key_index(name: str, table: str, column: str) -> None:
    """Make a text key unique after folding, where the column's collation does not fold.

    SQLite's NOCASE primary keys and unique columns already reject values
    that differ only in the case of A-Z, so this does nothing there.
    """
    if op.get_bind().dialect.name != "sqlite":
        create_index(name, table, [column], unique=True)
