"""Report months: the first day of the month a delivery reports on."""

from __future__ import annotations

import re
from datetime import date, datetime


def parse_month(text: str) -> date:
    """``2022-07`` (or ``2022-07-01``) → date(2022, 7, 1); anything else is an error that says the form."""
    match = re.fullmatch(r"(\d{4})-(\d{1,2})(?:-01)?", text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValueError(f"report month {text!r} is not of the form YYYY-MM")
    return date(int(match.group(1)), int(match.group(2)), 1)


def previous_month(day: date | datetime) -> date:
    """The month before the one ``day`` falls in: what a run in early August reports on (July)."""
    return date(day.year - 1, 12, 1) if day.month == 1 else date(day.year, day.month - 1, 1)


def next_month(month: date) -> date:
    return date(month.year + 1, 1, 1) if month.month == 12 else date(month.year, month.month + 1, 1)


def month_range(first: date, last: date) -> list[date]:
    """Every report month from ``first`` to ``last``, both included."""
    months, month = [], date(first.year, first.month, 1)
    while month <= last:
        months.append(month)
        month = next_month(month)
    return months
