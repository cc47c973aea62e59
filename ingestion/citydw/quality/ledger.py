"""The delivery ledger: when each delivery is due, whether it came, and the month close.

Python owns what needs the registry or the official calendar and writes it
to ``meta`` (migration 0004); dbt derives the ledger mart from it
(``marts.fct_department_delivery_monthly``, ``marts.dim_report_month``):

- ``meta.working_days`` — every day of the years chinese-calendar knows that
  the ledger needs, holidays and make-up working days (调休) included, so SQL
  can count working days late;
- ``meta.delivery_schedule`` — one row per monthly dataset × report month
  from the first month the warehouse has seen up to the month asked for,
  with its due date (:func:`citydw.calendar.due_date`);
- ``meta.waivers`` — dataset-months the city decided not to wait for.

:func:`delivery_states` reads the same facts straight from ``meta`` for the
daily watch, which must not depend on when dbt last ran.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import psycopg
from psycopg.rows import dict_row

from citydw.calendar import CalendarNotPublished, due_date, is_working_day
from citydw.loading import write_rows
from citydw.months import month_range
from citydw.registry import DatasetSpec, Registry

log = logging.getLogger(__name__)


# --- the calendar ------------------------------------------------------------------------------


def refresh_calendar(conn: psycopg.Connection, years: Iterable[int]) -> int:
    """Write the official calendar of ``years`` (those published) to ``meta.working_days``; returns days written."""
    wanted = sorted(set(years))
    known = {
        row[0]
        for row in conn.execute(
            "select distinct extract(year from day)::int from meta.working_days where extract(year from day) = any(%s)",
            (wanted,),
        )
    }
    rows = []
    for year in wanted:
        if year in known:
            continue
        try:
            is_working_day(date(year, 1, 1))
        except CalendarNotPublished:
            log.warning("official working-day calendar for %s not published (chinese-calendar); not written", year)
            continue
        day = date(year, 1, 1)
        while day.year == year:
            _on_holiday, holiday = chinese_calendar.get_holiday_detail(day)
            rows.append((day, is_working_day(day), getattr(holiday, "value", holiday)))
            day += timedelta(days=1)
    if rows:
        with conn.transaction():
            conn.execute("select pg_advisory_xact_lock(hashtextextended('citydw:working_days', 0))")
            # Another process may have written a year meanwhile: its rows are the same facts.
            years_now = sorted({r[0].year for r in rows})
            conn.execute("delete from meta.working_days where extract(year from day)::int = any(%s)", (years_now,))
            write_rows(conn, "meta.working_days", ["day", "is_working_day", "holiday_name"], rows)
    return len(rows)


def add_working_days(start: date, count: int) -> date:
    """The ``count``-th working day after ``start`` (``start`` itself not counted)."""
    day, seen = start, 0
    while seen < count:
        day += timedelta(days=1)
        seen += is_working_day(day)
    return day


def working_days_between(start: date, end: date) -> int:
    """Working days in (start, end]: after ``start``, up to and including ``end``; 0 if end ≤ start."""
    seen, day = 0, start
    while day < end:
        day += timedelta(days=1)
        seen += is_working_day(day)
    return seen


# --- the schedule -------------------------------------------------------------------------------


def chased_datasets(registry: Registry) -> list[DatasetSpec]:
    """Datasets the ledger chases month by month.

    Yearly reference data (stats) is due once a year and has no monthly
    slot; it is left out until its delivery month convention is settled.
    """
    return [spec for spec in registry.datasets.values() if spec.frequency == "monthly" and spec.due.working_day]


def first_month_seen(conn: psycopg.Connection, datasets: list[str]) -> date | None:
    """The earliest report month the warehouse has any record of for ``datasets``.

    Only the chased (monthly) datasets count: yearly reference data carries
    the 1 January of the year it describes, which is not a month anyone ran.
    """
    row = conn.execute(
        """
        select min(report_month) from (
            select min(report_month) as report_month from meta.deliveries where dataset = any(%(datasets)s)
            union all select min(report_month) from meta.fetch_attempts where dataset = any(%(datasets)s)
            union all select min(report_month) from meta.delivery_schedule where dataset = any(%(datasets)s)
        ) as seen
        """,
        {"datasets": datasets},
    ).fetchone()
    return row[0] if row else None


def refresh_schedule(conn: psycopg.Connection, registry: Registry, up_to: date, since: date | None = None) -> int:
    """Schedule every chased dataset for each month from ``since`` (default: the first month seen) to ``up_to``.

    Idempotent: due dates and names are rewritten from the registry, so a
    changed due rule or a renamed department shows on the next refresh.
    Returns the number of dataset-months scheduled.
    """
    first = since or first_month_seen(conn, [spec.id for spec in chased_datasets(registry)]) or up_to
    months = month_range(min(first, up_to), up_to)
    refresh_calendar(conn, range(months[0].year, months[-1].year + 2))
    rows = []
    for spec in chased_datasets(registry):
        department = registry.department(spec.department)
        for month in months:
            try:
                due = due_date(spec.due, month)
            except CalendarNotPublished as error:
                log.warning("%s %s: no due date yet: %s", spec.id, f"{month:%Y-%m}", error)
                continue
            rows.append((spec.id, month, spec.department, department.name, spec.title, due))
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(
            """
            insert into meta.delivery_schedule
                (dataset, report_month, department, department_name, dataset_title, due_date)
            values (%s, %s, %s, %s, %s, %s)
            on conflict (dataset, report_month) do update set
                department = excluded.department,
                department_name = excluded.department_name,
                dataset_title = excluded.dataset_title,
                due_date = excluded.due_date,
                scheduled_at = case
                    when meta.delivery_schedule.due_date is distinct from excluded.due_date then now()
                    else meta.delivery_schedule.scheduled_at
                end
            """,
            rows,
        )
    return len(rows)


# --- waivers and the month close ------------------------------------------------------------------


class WaiverError(ValueError):
    """A waiver cannot be recorded or revoked as asked; the message says why."""


def waive(conn: psycopg.Connection, dataset: str, month: date, *, reason: str, waived_by: str) -> int:
    """Record that ``dataset``'s delivery for ``month`` is not waited for; returns the waiver's id."""
    if not reason.strip() or not waived_by.strip():
        raise WaiverError("a waiver needs a reason and the name of who decided it")
    with conn.transaction():
        existing = conn.execute(
            """
            select waiver_id, waived_by from meta.waivers
            where dataset = %s and report_month = %s and revoked_at is null
            """,
            (dataset, month),
        ).fetchone()
        if existing:
            raise WaiverError(
                f"{dataset} {month:%Y-%m} is already waived (waiver {existing[0]} by {existing[1]}); revoke it first"
            )
        row = conn.execute(
            """
            insert into meta.waivers (dataset, report_month, reason, waived_by)
            values (%s, %s, %s, %s) returning waiver_id
            """,
            (dataset, month, reason.strip(), waived_by.strip()),
        ).fetchone()
    assert row is not None
    return int(row[0])


def revoke_waiver(conn: psycopg.Connection, dataset: str, month: date, *, revoked_by: str) -> bool:
    """Revoke the active waiver of ``dataset`` for ``month``; False if there was none."""
    row = conn.execute(
        """
        update meta.waivers set revoked_by = %s, revoked_at = now()
        where dataset = %s and report_month = %s and revoked_at is null
        returning waiver_id
        """,
        (revoked_by, dataset, month),
    ).fetchone()
    return row is not None


# --- the state of each delivery, for the watch ----------------------------------------------------


@dataclass(frozen=True)
class DeliveryState:
    """Where one dataset's delivery for one month stands on a given day."""

    dataset: str
    department: str
    department_name: str
    dataset_title: str
    report_month: date
    due_date: date
    versions: int
    first_received_date: date | None
    accepted_version: int | None
    latest_version: int | None
    latest_status: str | None
    latest_reason: str | None
    latest_file: str | None
    is_waived: bool

    @property
    def is_received(self) -> bool:
        return self.versions > 0

    @property
    def is_accepted(self) -> bool:
        return self.accepted_version is not None

    @property
    def is_rejected(self) -> bool:
        return not self.is_accepted and self.latest_status == "rejected"


def delivery_states(conn: psycopg.Connection, month: date, timezone: str) -> list[DeliveryState]:
    """Every scheduled dataset's state for ``month``, from ``meta`` (run :func:`refresh_schedule` first)."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            """
            select
                schedule.dataset, schedule.department, schedule.department_name, schedule.dataset_title,
                schedule.report_month, schedule.due_date,
                count(deliveries.delivery_id) as versions,
                min((deliveries.received_at at time zone %(tz)s)::date) as first_received_date,
                max(deliveries.version) filter (where deliveries.status = 'accepted') as accepted_version,
                max(deliveries.version) as latest_version,
                (array_agg(deliveries.status order by deliveries.version desc))[1] as latest_status,
                (array_agg(deliveries.status_reason order by deliveries.version desc))[1] as latest_reason,
                (array_agg(deliveries.file_name order by deliveries.version desc))[1] as latest_file,
                exists (
                    select 1 from meta.waivers
                    where waivers.dataset = schedule.dataset and waivers.report_month = schedule.report_month
                      and waivers.revoked_at is null
                ) as is_waived
            from meta.delivery_schedule as schedule
            left join meta.deliveries as deliveries
                on deliveries.dataset = schedule.dataset and deliveries.report_month = schedule.report_month
                -- decided versions only: not one being processed, nor one an ingest was killed on
                and deliveries.status <> 'received' and coalesce(deliveries.rejection_kind, 'content') <> 'interrupted'
            where schedule.report_month = %(month)s
            group by schedule.dataset, schedule.department, schedule.department_name, schedule.dataset_title,
                     schedule.report_month, schedule.due_date
            order by schedule.department, schedule.dataset
            """,
            {"tz": timezone, "month": month},
        )
        return [DeliveryState(**row) for row in cur.fetchall()]


def local_today(timezone: str, now: datetime | None = None) -> date:
    return (now or datetime.now(ZoneInfo(timezone))).astimezone(ZoneInfo(timezone)).date()
