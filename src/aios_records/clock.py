"""An injectable source of the current time, so tests can move time forward."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone


class Clock:
    """Wall-clock UTC time in whole seconds, plus an offset that tests may set."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return (datetime.now(timezone.utc) + self.offset).replace(microsecond=0)
