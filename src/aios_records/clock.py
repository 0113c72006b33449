"""An injectable source of the current time, so tests can move time forward."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone


class Clock:
    """Wall-clock UTC time in whole seconds, plus an offset that tests may set.

    A subclass that overrides only `now` gets a `seconds` derived from it,
    so both always give one time.
    """

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if "now" in cls.__dict__ and "seconds" not in cls.__dict__:
            cls.seconds = _seconds_from_now

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return (datetime.now(timezone.utc) + self.offset).replace(microsecond=0)

    def seconds(self) -> float:
        """Return the time of `now` as POSIX seconds with a fraction, without building a datetime."""
        return time.time() + self.offset.total_seconds()


def _seconds_from_now(clock: Clock) -> float:
    return clock.now().timestamp()
