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


def as_of_for_run(as_of_param: str | None, logical_date: datetime | None, timezone: str) -> str | None:
    """The day a run judges lateness and correction deadlines on (YYYY-MM-DD), or None for today.

    The ``as_of`` param, else the run's logical date in the city's zone: a
    month re-run or replayed later (a backfill, the demo's 2022) reads as it
    did on its schedule, not on the day it ran. A run without a logical date
    (triggered by an asset) has None, unless its trigger carried one
    (:func:`as_of_for_report`).
    """
    if as_of_param:
        return date.fromisoformat(as_of_param).isoformat()
    if logical_date is None:
        return None
    return logical_date.astimezone(ZoneInfo(timezone)).date().isoformat()


def as_of_for_report(
    as_of_param: str | None,
    triggering_asset_events: Mapping[Any, Iterable[Any]] | None,
    logical_date: datetime | None,
    timezone: str,
) -> str | None:
    """The report's as-of day: the param; else the newest triggering build's ``extra["as_of"]``; else the
    run's logical date; else None (today)."""
    if as_of_param:
        return date.fromisoformat(as_of_param).isoformat()
    days = [
        (getattr(event, "timestamp", None), str(extra["as_of"]))
        for events in (triggering_asset_events or {}).values()
        for event in events
        if (extra := getattr(event, "extra", None) or {}).get("as_of")
    ]
    if days:
        latest = sorted(days, key=lambda found: found[0].timestamp() if found[0] else 0)[-1][1]
        return date.fromisoformat(latest).isoformat()
    return as_of_for_run(None, logical_date, timezone)
