"""The service's notion of "now".

Deadlines and the overdue flag depend on the time; a fixed clock (env ISSUE_API_NOW) lets a demo or a
test show an overdue ticket without waiting two weeks. Without it the real clock is used.
"""
from __future__ import annotations

import datetime as dt
from typing import Optional
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock:
    def __init__(self, fixed: Optional[dt.datetime] = None) -> None:
        self._fixed = fixed.astimezone(dt.timezone.utc) if fixed is not None else None

    def now(self) -> dt.datetime:
        """Timezone-aware UTC time."""
        return self._fixed if self._fixed is not None else dt.datetime.now(dt.timezone.utc)


def to_utc_naive(value: dt.datetime) -> dt.datetime:
    """Databases store naive UTC, so that SQLite and PostgreSQL compare the same way."""
    return value.astimezone(dt.timezone.utc).replace(tzinfo=None)


def from_utc_naive(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.timezone.utc)


def iso_local(value: Optional[dt.datetime]) -> Optional[str]:
    """ISO 8601 in Beijing time (what callers and operators read), from stored naive UTC."""
    if value is None:
        return None
    return from_utc_naive(value).astimezone(SHANGHAI).isoformat(timespec="seconds")
