"""Working days on the official Chinese calendar, and when each delivery is due.

Due dates count working days the way the State Council's notices define
them: statutory holidays are off, and the weekend days declared make-up
working days (调休) are on. The calendar data comes from ``chinese-calendar``,
which covers the years the State Council has announced; a date beyond them
is an error, not a guess, because a wrong due date would chase a
department wrongly.
"""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar

from citydw.months import next_month
from citydw.registry import Due


class CalendarNotPublished(LookupError):
    """The official calendar for the year is not known yet (update chinese-calendar)."""


def is_working_day(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError as error:
        raise CalendarNotPublished(
            f"the official working-day calendar for {day.year} is not available: "
            "upgrade chinese-calendar once the State Council has published it"
        ) from error


def nth_working_day(month: date, n: int) -> date:
    """The n-th working day (1-based) of ``month``."""
    day, seen = date(month.year, month.month, 1), 0
    while True:
        if is_working_day(day):
            seen += 1
            if seen == n:
                return day
        day += timedelta(days=1)


def due_date(due: Due, report_month: date) -> date:
    """When the delivery for ``report_month`` is due."""
    if due.working_day is not None:
        return nth_working_day(next_month(report_month), due.working_day)
    if due.month_day is not None:
        month, day = due.month_day
        return date(report_month.year + 1, month, day)
    raise ValueError("a due rule needs working_day or month_day")


def working_days_late(due: date, received: date) -> int:
    """Working days after ``due`` on which the delivery was still outstanding (0 if on time)."""
    late, day = 0, due + timedelta(days=1)
    while day <= received:
        late += is_working_day(day)
        day += timedelta(days=1)
    return late
