"""Column types that carry the contract's comparison rules into each SQL dialect.

Text columns compare with ASCII-only case folding: on SQLite that is the
built-in NOCASE collation, which folds A-Z only and keeps trailing spaces
significant, and indexes built with it serve `=`, IN, ordering and LIKE.
Timestamps are UTC with whole-second precision; SQLite keeps them as text
`YYYY-MM-DD HH:MM:SS` so other SQLite tools can read them.
"""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa

# Longest VARCHAR before a column becomes TEXT.
MAX_VARCHAR = 4096


def ci_text(length: int | None = 255) -> sa.types.TypeEngine:
    """Return a text type that compares with ASCII-only case folding."""
    if length is None or length > MAX_VARCHAR:
        return sa.Text().with_variant(sa.Text(collation="NOCASE"), "sqlite")
    return sa.String(length).with_variant(sa.String(length, collation="NOCASE"), "sqlite")


def utc_timestamp() -> sa.types.TypeEngine:
    """Return a whole-second UTC timestamp type (text on SQLite)."""
    return sa.DateTime().with_variant(sa.String(19), "sqlite")


def to_db_time(instant: datetime) -> str:
    """Convert an aware instant to the stored form of a `utc_timestamp` column.

    TODO: SQLite only; PostgreSQL and MariaDB will take a naive UTC datetime.
    """
    utc = instant.astimezone(timezone.utc)
    # Formatted by hand because strftime("%Y") does not pad years below 1000
    # on glibc, and the text must sort in time order.
    return (f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d} "
            f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}")


def to_db_comparable(instant: datetime) -> str:
    """Convert an instant for comparison with a `utc_timestamp` column, keeping any fraction.

    Whole seconds give the stored form, so `=` matches. A fraction is
    appended as `.ffffff`; the stored text is a prefix of it, so text
    comparison orders the fractional instant just after its whole second,
    which is exactly how the instants compare.
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
    return datetime.strptime(value[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)
