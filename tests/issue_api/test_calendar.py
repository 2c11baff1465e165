"""Working-day deadlines: weekends, configured holidays and make-up working days (unit tests)."""
from __future__ import annotations

import datetime as dt

import pytest

from issue_api.calendar import DEADLINE_WORKING_DAYS, WorkingCalendar
from issue_api.clock import SHANGHAI

D = dt.date


def test_weekends_do_not_count() -> None:
    calendar = WorkingCalendar()
    assert calendar.add_working_days(D(2026, 11, 27), 1) == D(2026, 11, 30)  # Friday -> Monday
    assert calendar.add_working_days(D(2026, 11, 28), 1) == D(2026, 11, 30)  # Saturday -> Monday
    assert calendar.add_working_days(D(2026, 11, 23), 5) == D(2026, 11, 30)  # Monday -> next Monday
    assert calendar.add_working_days(D(2026, 11, 27), 15) == D(2026, 12, 18)


def test_holidays_are_skipped_and_make_up_days_count() -> None:
    national_day = {D(2026, 10, 1) + dt.timedelta(days=i) for i in range(7)}
    calendar = WorkingCalendar(holidays=national_day, extra_workdays={D(2026, 10, 10)})  # a Saturday worked
    assert not calendar.is_working_day(D(2026, 10, 1))
    assert calendar.is_working_day(D(2026, 10, 10))
    # Filed Wed 30 Sep: holidays 1-7 Oct, then Thu 8, Fri 9, Sat 10 (make-up day), Mon 12, Tue 13.
    assert calendar.add_working_days(D(2026, 9, 30), 5) == D(2026, 10, 13)


def test_deadline_is_end_of_the_last_working_day_in_beijing_time() -> None:
    calendar = WorkingCalendar()
    # 23:30 UTC on Thursday is already Friday 07:30 in Beijing: counting starts from Friday.
    filed = dt.datetime(2026, 11, 26, 23, 30, tzinfo=dt.timezone.utc)
    deadline = calendar.deadline(filed, "consult")
    assert deadline == dt.datetime(2026, 12, 4, 23, 59, 59, tzinfo=SHANGHAI)


@pytest.mark.parametrize("kind,days", [("consult", 5), ("help", 5), ("complaint", 15), ("report", 15),
                                       ("suggestion", 15), ("praise", 3)])
def test_time_limit_per_kind(kind: str, days: int) -> None:
    assert DEADLINE_WORKING_DAYS[kind] == days
    filed = dt.datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)  # a Monday
    deadline = WorkingCalendar().deadline(filed, kind).date()
    weekdays = sum(1 for i in range(1, (deadline - filed.date()).days + 1)
                   if (filed.date() + dt.timedelta(days=i)).weekday() < 5)
    assert weekdays == days


@pytest.mark.parametrize("local,inside", [
    ("2026-12-01T08:59:59", False), ("2026-12-01T09:00:00", True), ("2026-12-01T11:59:59", True),
    ("2026-12-01T12:00:00", False), ("2026-12-01T14:00:00", True), ("2026-12-01T18:00:00", False),
    ("2026-12-05T10:00:00", False),  # Saturday
    ("2026-10-01T10:00:00", False),  # a holiday
    ("2026-10-10T10:00:00", True),   # a Saturday worked (调休)
])
def test_callback_hours_are_windows_of_working_days(local: str, inside: bool) -> None:
    calendar = WorkingCalendar(holidays={dt.date(2026, 10, 1)}, extra_workdays={dt.date(2026, 10, 10)})
    windows = ((dt.time(9), dt.time(12)), (dt.time(14), dt.time(18)))
    moment = dt.datetime.fromisoformat(local).replace(tzinfo=SHANGHAI)
    assert calendar.within_hours(moment, windows) is inside
    assert calendar.within_hours(moment.astimezone(dt.timezone.utc), windows) is inside  # any zone in
