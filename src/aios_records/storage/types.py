"""Column types that carry the contract's comparison rules into each SQL dialect.

Text columns compare with ASCII-only case folding: A-Z match a-z, while
accents, other scripts and trailing spaces stay significant. Each dialect
gets there differently (docs/deploy.md compares them):

- SQLite: the built-in NOCASE collation, which folds A-Z only. Comparisons
  use the bare column, and its plain indexes serve `=`, IN, ordering and LIKE.
- PostgreSQL: columns use the "C" collation, and comparisons apply `lower()`
  to the column. Under the "C" collation `lower()` changes A-Z only. The
  value side is lowered in Python, and expression indexes on `lower(column)`
  serve the comparisons.
- MariaDB/MySQL: columns use `utf8mb4_bin`. Comparisons apply 26 nested
  `REPLACE` calls that turn A-Z into a-z, because `LOWER()` and the `_ci`
  collations fold accented and non-Latin letters too. The value side is
  lowered in Python.

`ci_text` columns do this by themselves. Their comparator wraps the column in
`fold()` for `=`, `!=`, `<`, `>`, IN, LIKE and ORDER BY. A folded column binds
its values through `FoldedText`, which lowers A-Z in Python on every dialect
but SQLite.

Timestamps are UTC with whole-second precision. Python code sees them as text
`YYYY-MM-DD HH:MM:SS` on every dialect. SQLite stores that text so other SQLite
tools can read it, and PostgreSQL and MariaDB store native timestamps
(`TIMESTAMP WITHOUT TIME ZONE` and `DATETIME`) holding UTC.
"""

from __future__ import annotations

import operator
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import operators
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.visitors import InternalTraversal

# Longest VARCHAR before a column becomes TEXT.
MAX_VARCHAR = 4096

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")

# Collation of `ci_text` columns per dialect.
TEXT_COLLATIONS = {"sqlite": "NOCASE", "postgresql": "C", "mysql": "utf8mb4_nopad_bin"}


def ascii_lower(text: str) -> str:
    """Return `text` with A-Z turned into a-z and every other character kept."""
    return text.translate(_ASCII_LOWER)


class FoldedText(sa.types.TypeDecorator):
    """Type of a folded text expression: binds values with A-Z lowered.

    SQLite compares through the NOCASE collation of the column instead, so
    values go to it unchanged.
    """

    impl = sa.String
    cache_ok = True

    def bind_processor(self, dialect):
        # Values reach SQLite unchanged, so no call per bound value is needed.
        return None if dialect.name == "sqlite" else super().bind_processor(dialect)

    def process_bind_param(self, value, dialect):
        if value is None or dialect.name == "sqlite" or not isinstance(value, str):
            return value
        return ascii_lower(value)


class fold(FunctionElement):  # noqa: N801 - named like the SQL functions it renders
    """A text column with A-Z folded to a-z, as each dialect compares it."""

    name = "fold"
    type = FoldedText()
    inherit_cache = True


@compiles(fold)
def _fold_default(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


@compiles(fold, "postgresql")
def _fold_postgresql(element, compiler, **kw):
    return f"lower({compiler.process(element.clauses, **kw)})"


def mysql_fold_sql(column_sql: str) -> str:
    """Return MySQL/MariaDB SQL that lowers A-Z in `column_sql`, deterministically."""
    sql = column_sql
    for upper in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        sql = f"REPLACE({sql}, '{upper}', '{upper.lower()}')"
    return sql


# Suffix of the MariaDB/MySQL generated column holding a text column's folded value.
FOLDED_SUFFIX = "Folded"

# (table, column) pairs that have a folded generated column on MariaDB/MySQL,
# filled in by storage/schema.py from its indexes. The migrations create the
# same columns (storage/ddl.py).
MYSQL_FOLDED_COLUMNS: set[tuple[str, str]] = set()


@compiles(fold, "mysql")
def _fold_mysql(element, compiler, **kw):
    (column,) = element.clauses.clauses
    table = getattr(column, "table", None)
    if isinstance(column, sa.Column) and table is not None and (
            table.name, column.name) in MYSQL_FOLDED_COLUMNS:
        # The indexed generated column. EXPLAIN on MariaDB 10.11 shows a full
        # scan when the query repeats the column's expression instead.
        quote = compiler.preparer.quote
        return f"{quote(table.name)}.{quote(column.name + FOLDED_SUFFIX)}"
    return mysql_fold_sql(compiler.process(element.clauses, **kw))


# Operators whose text operands are folded before comparing.
_FOLDED_OPERATORS = frozenset({
    operators.eq, operators.ne, operators.lt, operators.le, operators.gt, operators.ge,
    operators.in_op, operators.not_in_op, operators.like_op, operators.not_like_op,
    operators.between_op, operators.not_between_op, operators.asc_op, operators.desc_op,
    operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge,
})


def folded(expression):
    """Return `expression` folded when it is a `ci_text` column, else unchanged."""
    if isinstance(getattr(expression, "type", None), CaseInsensitiveText):
        return fold(expression)
    return expression


def _folded_operand(other):
    """Fold a column, or the columns a subquery selects, on the other side of an operator."""
    if isinstance(other, sa.Select):
        return other.with_only_columns(*(folded(c) for c in other.selected_columns))
    if isinstance(other, sa.CompoundSelect):
        selects = [_folded_operand(s) for s in other.selects]
        return sa.CompoundSelect(other.keyword, *selects)
    return folded(other)


class CaseInsensitiveText(sa.types.TypeDecorator):
    """Text compared with ASCII-only case folding on every dialect."""

    impl = sa.String
    cache_ok = True

    def __init__(self, length: int | None = None) -> None:
        super().__init__(length)
        self.max_length = length

    def load_dialect_impl(self, dialect):
        collation = TEXT_COLLATIONS.get(dialect.name)
        if self.max_length is None:
            return dialect.type_descriptor(sa.Text(collation=collation))
        return dialect.type_descriptor(sa.String(self.max_length, collation=collation))

    class comparator_factory(sa.types.TypeDecorator.Comparator):  # noqa: N801
        def operate(self, op, *other, **kwargs):
            if op in _FOLDED_OPERATORS:
                return op(fold(self.expr), *(_folded_operand(o) for o in other), **kwargs)
            return super().operate(op, *other, **kwargs)

        def reverse_operate(self, op, other, **kwargs):
            if op in _FOLDED_OPERATORS:
                return op(_folded_operand(other), fold(self.expr), **kwargs)
            return super().reverse_operate(op, other, **kwargs)


def ci_text(length: int | None = 255) -> sa.types.TypeEngine:
    """Return a text type that compares with ASCII-only case folding."""
    if length is None or length > MAX_VARCHAR:
        return CaseInsensitiveText(None)
    return CaseInsensitiveText(length)


class index_key(FunctionElement):  # noqa: N801 - named like the SQL functions it renders
    """One key of an index, in the form the dialect's comparisons and ORDER BY use.

    PostgreSQL gets `lower(column)` for text and NULLS FIRST on every key, so
    an index serves `ORDER BY ... ASC NULLS FIRST` forwards and `DESC NULLS
    LAST` backwards. Other dialects get the bare column.
    """

    name = "index_key"
    inherit_cache = True
    _traverse_internals = FunctionElement._traverse_internals + [
        ("text", InternalTraversal.dp_boolean)]

    def __init__(self, column, text: bool) -> None:
        self.text = text
        super().__init__(column)


@compiles(index_key)
def _index_key_default(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


@compiles(index_key, "postgresql")
def _index_key_postgresql(element, compiler, **kw):
    column = compiler.process(element.clauses, **kw)
    if element.text:
        column = f"lower({column})"
    return f"{column} NULLS FIRST"


def index_keys(table_columns, *names: str) -> list:
    """Return the index keys for the named columns of a table (`table.c` or a column list)."""
    keys = []
    for name in names:
        column = table_columns[name]
        keys.append(index_key(column, isinstance(column.type, CaseInsensitiveText)))
    return keys


class UtcTimestamp(sa.types.TypeDecorator):
    """A whole-second UTC instant: text in Python, native where the database has a type.

    Values bound and returned are text `YYYY-MM-DD HH:MM:SS`, optionally with
    `.ffffff` in conditions. PostgreSQL and MariaDB receive naive UTC datetimes.
    """

    impl = sa.DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.String(19))
        return dialect.type_descriptor(sa.DateTime())

    def bind_processor(self, dialect):
        # SQLite stores the text as it comes, so it needs no conversion call.
        return None if dialect.name == "sqlite" else super().bind_processor(dialect)

    def result_processor(self, dialect, coltype):
        return None if dialect.name == "sqlite" else super().result_processor(dialect, coltype)

    def process_bind_param(self, value, dialect):
        if dialect.name == "sqlite" or not isinstance(value, str):
            return value
        return _parse_db_text(value)

    def process_result_value(self, value, dialect):
        if isinstance(value, datetime):
            return to_db_time(value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value)
        return value


def _parse_db_text(text: str) -> datetime:
    """Parse `YYYY-MM-DD HH:MM:SS[.ffffff]` into a naive UTC datetime."""
    whole = datetime.strptime(text[:19], "%Y-%m-%d %H:%M:%S")
    if len(text) > 20 and text[19] == ".":
        return whole.replace(microsecond=int(text[20:26].ljust(6, "0")))
    return whole


def utc_timestamp() -> sa.types.TypeEngine:
    """Return a whole-second UTC timestamp type (text on SQLite)."""
    return UtcTimestamp()


def to_db_time(instant: datetime) -> str:
    """Convert an aware instant to the stored form of a `utc_timestamp` column."""
    utc = instant.astimezone(timezone.utc)
    # Formatted by hand because strftime("%Y") does not pad years below 1000
    # on glibc, and the text must sort in time order.
    return (f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d} "
            f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}")


def to_db_comparable(instant: datetime) -> str:
    """Convert an instant for comparison with a `utc_timestamp` column, keeping any fraction.

    Whole seconds give the stored form, so `=` matches. A fraction is
    appended as `.ffffff`. On SQLite the stored text is a prefix of it, so text
    comparison orders the fractional instant just after its whole second,
    which is exactly how the instants compare. PostgreSQL and MariaDB compare
    it as a datetime with microseconds.
    """
    utc = instant.astimezone(timezone.utc)
    text = to_db_time(utc)
    if utc.microsecond:
        text += f".{utc.microsecond:06d}"
    return text


def from_db_time(value: str | datetime) -> datetime:
    """Convert a stored `utc_timestamp` value to an aware UTC datetime."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    # fromisoformat reads this fixed form in about a sixth of strptime's time
    # (0.8 instead of 5.4 microseconds on CPython 3.11).
    return datetime.fromisoformat(value[:19]).replace(tzinfo=timezone.utc)


class sort_key(FunctionElement):  # noqa: N801 - named like the SQL functions it renders
    """An ORDER BY key with NULLs first ascending and last descending on every dialect.

    SQLite and MariaDB order NULLs that way by default, and PostgreSQL gets
    explicit NULLS FIRST or NULLS LAST, matching its `index_key` indexes.
    """

    name = "sort_key"
    inherit_cache = True
    # Part of the statement cache key, so ASC and DESC compile separately.
    _traverse_internals = FunctionElement._traverse_internals + [
        ("descending", InternalTraversal.dp_boolean)]

    def __init__(self, expression, descending: bool) -> None:
        self.descending = descending
        super().__init__(expression)


@compiles(sort_key)
def _sort_key_default(element, compiler, **kw):
    direction = "DESC" if element.descending else "ASC"
    return f"{compiler.process(element.clauses, **kw)} {direction}"


@compiles(sort_key, "postgresql")
def _sort_key_postgresql(element, compiler, **kw):
    direction = "DESC NULLS LAST" if element.descending else "ASC NULLS FIRST"
    return f"{compiler.process(element.clauses, **kw)} {direction}"
