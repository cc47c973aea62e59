"""Which month or day a quality DAG run is about: from its params, its trigger, or its date — never "now"."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from citydw.months import parse_month, previous_month


def month_for_report(
    month_param: str | None, triggering_asset_events: Mapping[Any, Iterable[Any]] | None, run_after: datetime | None
) -> str:
    """The report month: the ``month`` param; else the newest triggering asset event's ``extra["month"]``;
    else the month before the run."""
    if month_param:
        return f"{parse_month(month_param):%Y-%m}"
    months = [
        (getattr(event, "timestamp", None), str(extra["month"]))
        for events in (triggering_asset_events or {}).values()
        for event in events
        if (extra := getattr(event, "extra", None) or {}).get("month")
    ]
    if months:
        # Newest event first; events without a timestamp keep their order.
        latest = sorted(months, key=lambda found: found[0].timestamp() if found[0] else 0)[-1][1]
        return f"{parse_month(latest):%Y-%m}"
    if run_after is None:
        raise ValueError("a report run needs a 'month' param, a triggering asset event with extra.month, or a date")
    return f"{previous_month(run_after):%Y-%m}"


def day_for_watch(as_of_param: str | None, logical_date: datetime | None, timezone: str) -> str:
    """The day the watch chases as: the ``as_of`` param, else the run's logical date in the city's zone."""
    if as_of_param:
        return date.fromisoformat(as_of_param).isoformat()
    if logical_date is None:
        raise ValueError("a watch run needs an 'as_of' param or a logical date")
    return logical_date.astimezone(ZoneInfo(timezone)).date().isoformat()
