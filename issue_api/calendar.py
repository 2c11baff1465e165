"""Working-day arithmetic for ticket deadlines.

Hotline time limits are counted in working days (GB/T 33358 practice): weekends and public holidays
do not count, but the State Council's make-up working days (调休, a Saturday or Sunday worked) do.
The holiday list changes every year, so it is configuration (ISSUE_API_HOLIDAYS / ISSUE_API_WORKDAYS)
rather than code.
"""
from __future__ import annotations

import datetime as dt
from typing import AbstractSet, Mapping, Sequence, Tuple

from .clock import SHANGHAI

# Working days allowed per request kind, after the day of filing: 咨询/求助 are answered within a
# week, 投诉/举报/建议 need an investigation (local rules say 13-15 days), 表扬 is only passed on.
DEADLINE_WORKING_DAYS: Mapping[str, int] = {
    "consult": 5,
    "help": 5,
    "complaint": 15,
    "report": 15,
    "suggestion": 15,
    "praise": 3,
}


class WorkingCalendar:
    def __init__(self, holidays: AbstractSet[dt.date] = frozenset(), extra_workdays: AbstractSet[dt.date] = frozenset()) -> None:
        self.holidays = frozenset(holidays)
        self.extra_workdays = frozenset(extra_workdays)

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.extra_workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def add_working_days(self, start: dt.date, count: int) -> dt.date:
        """The `count`-th working day after `start` (`start` itself never counts)."""
        day = start
        remaining = count
        while remaining > 0:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return day

    def deadline(self, filed_at: dt.datetime, kind: str) -> dt.datetime:
        """End of the last allowed working day, Beijing time, as an aware datetime.

        Counting starts on the day after filing, so a ticket filed late in the evening is not
        penalised for the hours that were left of that day.
        """
        local_day = filed_at.astimezone(SHANGHAI).date()
        return end_of_day(self.add_working_days(local_day, DEADLINE_WORKING_DAYS[kind]))

    def within_hours(self, moment: dt.datetime, windows: Sequence[Tuple[dt.time, dt.time]]) -> bool:
        """Whether `moment` falls in one of the day's `windows` (start inclusive, end exclusive) of a
        working day, Beijing time: when reporters may be called back."""
        local = moment.astimezone(SHANGHAI)
        if not self.is_working_day(local.date()):
            return False
        clock = local.time().replace(tzinfo=None)
        return any(start <= clock < end for start, end in windows)


def end_of_day(day: dt.date) -> dt.datetime:
    """A deadline day's last second, Beijing time (aware)."""
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=SHANGHAI)
