"""Timestamp parsing and formatting in ZStack's wire formats.

Instants are handled as aware `datetime` objects in UTC. Storage keeps whole
seconds; replies render `MMM d, yyyy h:mm:ss a` (Java's pattern, English month
names) in the server's configured time zone.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_NUMBERS = {name.lower(): i + 1 for i, name in enumerate(MONTHS)}

ACCEPTED_FORMATS = (
    "yyyy-MM-dd HH:mm:ss, yyyy-MM-dd HH:mm:ss.SSS, yyyy-MM-dd, "
    "ISO 8601 with or without an offset, 'Nov 19, 2025 6:20:07 PM', epoch milliseconds"
)

_SQL_LITERAL = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?: (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?)?")
_REPLY_FORMAT = re.compile(
    r"([A-Za-z]{3}) (\d{1,2}), (\d{4}) (\d{1,2}):(\d{2}):(\d{2}) ([AaPp][Mm])"
)
_EPOCH_MILLIS = re.compile(r"-?\d+")


class InvalidTimestamp(ValueError):
    """The text is in none of the accepted timestamp forms."""


def parse_timestamp(text: str, zone: ZoneInfo) -> datetime:
    """Parse a condition value into an aware UTC datetime.

    A value without an offset is read in `zone`. For a local time that occurs
    twice the earlier instant wins (fold=0); a local time inside a gap is moved
    forward by the gap's length, which is what fold=0 gives in `zoneinfo`.
    Raises InvalidTimestamp for anything else.
    """
    value = text.strip()

    if _EPOCH_MILLIS.fullmatch(value):
        try:
            return datetime.fromtimestamp(int(value) / 1000, tz=timezone.utc)
        except (OverflowError, OSError, ValueError) as exc:
            raise InvalidTimestamp(text) from exc

    local = _parse_local(value)
    if local is None:
        try:
            local = datetime.fromisoformat(value)
        except ValueError as exc:
            raise InvalidTimestamp(text) from exc

    if local.tzinfo is None:
        local = local.replace(tzinfo=zone, fold=0)
    try:
        return local.astimezone(timezone.utc)
    except (OverflowError, ValueError) as exc:
        raise InvalidTimestamp(text) from exc


def _parse_local(value: str) -> datetime | None:
    """Parse the SQL-literal and reply forms; None when neither matches."""
    match = _SQL_LITERAL.fullmatch(value)
    if match:
        year, month, day, hour, minute, second, fraction = match.groups()
        micro = int((fraction or "0")[:6].ljust(6, "0"))
        return _build(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                      int(second or 0), micro)

    match = _REPLY_FORMAT.fullmatch(value)
    if match:
        month_name, day, year, hour, minute, second, meridiem = match.groups()
        month = _MONTH_NUMBERS.get(month_name.lower())
        hour_12 = int(hour)
        if month is None or not 1 <= hour_12 <= 12:
            raise InvalidTimestamp(value)
        hour_24 = hour_12 % 12 + (12 if meridiem.lower() == "pm" else 0)
        return _build(int(year), month, int(day), hour_24, int(minute), int(second), 0)

    return None


def _build(year: int, month: int, day: int, hour: int, minute: int, second: int,
           micro: int) -> datetime:
    try:
        return datetime(year, month, day, hour, minute, second, micro)
    except ValueError as exc:
        raise InvalidTimestamp(f"{year}-{month}-{day} {hour}:{minute}:{second}") from exc


def format_reply(instant: datetime, zone: ZoneInfo) -> str:
    """Render an instant as `Nov 19, 2025 6:20:07 PM` in `zone`."""
    local = instant.astimezone(zone)
    hour = local.hour % 12 or 12
    meridiem = "PM" if local.hour >= 12 else "AM"
    return (
        f"{MONTHS[local.month - 1]} {local.day}, {local.year} "
        f"{hour}:{local.minute:02d}:{local.second:02d} {meridiem}"
    )
