"""An injectable source of the current time, so tests can move time forward."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone


class Clock:
    """Wall-clock UTC time in whole seconds, plus an offset that tests may set.

    A subclass that changes `now` changes `seconds` alike, so both tell one time.
    """

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return (datetime.now(timezone.utc) + self.offset).replace(microsecond=0)

    def seconds(self) -> float:
        """Return the time of `now` as POSIX seconds with a fraction, without building a datetime."""
        return time.time() + self.offset.total_seconds()
