"""Correction cases: what each department must fix, and when a correction closes it.

A case is one problem in one dataset-month, followed across the versions of
the delivery:

- a *row* case per quarantined value: rule × column × the row's key (its
  项目代码 …), numbered when the same key breaks the same rule twice (a
  duplicated row);
- a *delivery* case per blocking rule that rejected a version, or per file
  that could not be read at all.

:func:`sync_cases` rebuilds the cases of a dataset-month from
``meta.deliveries``, ``meta.quarantine`` and ``meta.validation_results``
and writes them to ``meta.correction_cases``: where the problem was last
seen (file, version, row, value), and — when a later version was accepted
without it — which version closed it and when. Replaying the whole history
each time makes the sync idempotent and order-independent, so the daily
watch, the report and a re-run all agree.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
from psycopg.rows import dict_row

from citydw.calendar import CalendarNotPublished
from citydw.display import for_people
from citydw.quality.ledger import add_working_days
from citydw.registry import DatasetSpec

CORRECTION_WORKING_DAYS = 3
"""Working days a department has to correct a problem: counted from the due date, or from the
day the problem was found if that is later (a late delivery does not earn extra days)."""

ACCEPTED_ONCE = ("accepted", "superseded")

log = logging.getLogger(__name__)


@dataclass
class _Case:
    problem_key: str
    kind: str
    delivery_id: int
    file_name: str | None
    version: int
    source_row: int | None
    row_key: str | None
    column_name: str | None
    header: str | None
    value: str | None
    rule_id: str
    rule: str
    expected: str | None
    opened_at: datetime
    opened_version: int
    closed_at: datetime | None = None
    closed_by_delivery_id: int | None = None
    received_at: datetime | None = None  # when the version that opened the case arrived


def sync_cases(
    conn: psycopg.Connection,
    spec: DatasetSpec,
    month: date,
    due: date | None,
    timezone: str,
    *,
    as_of: date | None = None,
) -> int:
    """Rebuild ``spec``'s correction cases for ``month``; returns how many are open.

    A case's deadline counts from the day it was found, and no later than
    ``as_of`` (the run's logical day): a month replayed years later gets the
    deadlines it had on its schedule.
    """
    versions = _decided_versions(conn, spec.id, month)
    cases: dict[str, _Case] = {}
    for version in versions:
        found = _problems(conn, spec, version)
        for key, problem in found.items():
            case = cases.get(key)
            if case is None or case.closed_at is not None:
                # New, or back after a correction had closed it: open (again) from this version.
                cases[key] = _Case(
                    problem_key=key,
                    opened_at=version["decided_at"],
                    opened_version=version["version"],
                    received_at=version["received_at"],
                    **problem,
                )
            else:
                for field, value in problem.items():
                    setattr(case, field, value)
        if version["status"] in ACCEPTED_ONCE:
            for key, case in cases.items():
                if case.closed_at is None and key not in found and case.version < version["version"]:
                    case.closed_at = version["decided_at"]
                    case.closed_by_delivery_id = version["delivery_id"]
    _write(conn, spec.id, month, list(cases.values()), due, timezone, as_of)
    return sum(case.closed_at is None for case in cases.values())


def row_words(source_row: int | None, is_api: bool) -> str:
    """Where a problem is, as the department counts: a file's row (as Excel numbers it), an API's record."""
    if source_row is None:
        return "整表"
    return f"第{source_row}条记录" if is_api else f"第{source_row}行"


def correction_deadline(start: date) -> date:
    """:data:`CORRECTION_WORKING_DAYS` working days after ``start``.

    Beyond the years the official calendar is published for, weekdays stand
    in for working days (logged): a deadline a holiday off is better than no
    correction list at all, and the calendar error still stops the due dates.
    """
    try:
        return add_working_days(start, CORRECTION_WORKING_DAYS)
    except CalendarNotPublished:
        log.warning("official calendar after %s not published: deadline counted in weekdays", start)
        day, left = start, CORRECTION_WORKING_DAYS
        while left:
            day += timedelta(days=1)
            left -= day.weekday() < 5
        return day


def _decided_versions(conn: psycopg.Connection, dataset: str, month: date) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            """
            select delivery_id, version, status, status_reason, file_name,
                   coalesce(decided_at, registered_at) as decided_at, received_at
            from meta.deliveries
            where dataset = %s and report_month = %s and status in ('accepted', 'rejected', 'superseded')
            order by version
            """,
            (dataset, month),
        )
        return cur.fetchall()


def _problems(conn: psycopg.Connection, spec: DatasetSpec, version: dict) -> dict[str, dict]:
    """The problems of one version by problem key."""
    where = {
        "delivery_id": version["delivery_id"],
        "file_name": version["file_name"],
        "version": version["version"],
    }
    found: dict[str, dict] = {}
    seen: Counter[str] = Counter()
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            """
            select source_row, column_name, header, value, rule_id, rule, expected, record
            from meta.quarantine
            where delivery_id = %s and severity = 'row'
            order by source_row, rule_id, column_name
            """,
            (version["delivery_id"],),
        )
        for row in cur.fetchall():
            row_key = _row_key(spec, row["record"])
            identity = f"row|{row['rule_id']}|{row['column_name'] or ''}|{row_key or 'row' + str(row['source_row'])}"
            seen[identity] += 1
            found[f"{identity}|{seen[identity]}"] = {
                **where,
                "kind": "row",
                "source_row": row["source_row"],
                "row_key": row_key,
                "column_name": row["column_name"],
                "header": row["header"],
                "value": row["value"],
                "rule_id": row["rule_id"],
                "rule": row["rule"],
                "expected": row["expected"],
            }
        if version["status"] != "rejected":
            return found
        cur.execute(
            """
            select rule_id, column_name, description, unexpected_sample
            from meta.validation_results
            where delivery_id = %s and severity = 'blocking' and not success
            order by result_id
            """,
            (version["delivery_id"],),
        )
        blocking = cur.fetchall()
    for rule in blocking:
        sample = rule["unexpected_sample"] or []
        found[f"delivery|{rule['rule_id']}"] = {
            **where,
            "kind": "delivery",
            "source_row": None,
            "row_key": None,
            "column_name": rule["column_name"],
            "header": None,
            "value": "、".join(str(v) for v in sample[:5]) or None,
            "rule_id": rule["rule_id"],
            "rule": f"报表被退回：{rule['description']}",
            "expected": None,
        }
    if not blocking and not found:
        # Rejected before validation (unreadable, empty) or because every row failed.
        found["delivery|rejected"] = {
            **where,
            "kind": "delivery",
            "source_row": None,
            "row_key": None,
            "column_name": None,
            "header": None,
            "value": None,
            "rule_id": "delivery.rejected",
            "rule": f"报表被退回：{version['status_reason'] or '文件无法读取'}",
            "expected": "按模板重新填报后报送",
        }
    return found


def _row_key(spec: DatasetSpec, record: object) -> str | None:
    if isinstance(record, str):
        record = json.loads(record)
    if not isinstance(record, dict) or not spec.key:
        return None
    values = [record.get(field) for field in spec.key]
    shown = [for_people(v) for v in values]
    if any(v is None or v.strip() == "" for v in shown):
        return None
    return " / ".join(v.strip() for v in shown if v is not None)


def _write(
    conn: psycopg.Connection,
    dataset: str,
    month: date,
    cases: list[_Case],
    due: date | None,
    timezone: str,
    as_of: date | None = None,
) -> None:
    zone = ZoneInfo(timezone)
    with conn.transaction(), conn.cursor() as cur:
        conn.execute("select pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"citydw:cases:{dataset}:{month}",))
        cur.execute(
            """
            delete from meta.correction_cases
            where dataset = %s and report_month = %s and not (problem_key = any(%s))
            """,
            (dataset, month, [c.problem_key for c in cases]),
        )
        for case in cases:
            found_on = case.opened_at.astimezone(zone).date()
            if as_of and found_on > as_of:
                # Decided after the run's day: a replay (backfill, demo). The file was there on arrival.
                arrived = case.received_at.astimezone(zone).date() if case.received_at else as_of
                found_on = min(arrived, as_of)
            deadline = correction_deadline(max(found_on, due or found_on))
            cur.execute(
                """
                insert into meta.correction_cases
                    (dataset, report_month, problem_key, kind, delivery_id, file_name, version, source_row, row_key,
                     column_name, header, value, rule_id, rule, expected, deadline, opened_at, updated_at,
                     closed_at, closed_by_delivery_id)
                values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, now(), %s, %s)
                on conflict (dataset, report_month, problem_key) do update set
                    kind = excluded.kind, delivery_id = excluded.delivery_id, file_name = excluded.file_name,
                    version = excluded.version, source_row = excluded.source_row, row_key = excluded.row_key,
                    column_name = excluded.column_name, header = excluded.header, value = excluded.value,
                    rule_id = excluded.rule_id, rule = excluded.rule, expected = excluded.expected,
                    deadline = excluded.deadline, opened_at = excluded.opened_at,
                    closed_at = excluded.closed_at, closed_by_delivery_id = excluded.closed_by_delivery_id,
                    updated_at = case
                        when (meta.correction_cases.delivery_id, meta.correction_cases.closed_at)
                             is distinct from (excluded.delivery_id, excluded.closed_at)
                        then now() else meta.correction_cases.updated_at
                    end
                """,
                (
                    dataset, month, case.problem_key, case.kind, case.delivery_id, case.file_name, case.version,
                    case.source_row, case.row_key, case.column_name, case.header, case.value, case.rule_id,
                    case.rule, case.expected, deadline, case.opened_at, case.closed_at, case.closed_by_delivery_id,
                ),
            )  # fmt: skip


@dataclass(frozen=True)
class CaseRow:
    """A case as the correction workbook and the report show it."""

    dataset: str
    report_month: date
    kind: str
    file_name: str | None
    version: int
    source_row: int | None
    row_key: str | None
    column: str | None
    value: str | None
    rule: str
    expected: str | None
    deadline: date
    is_open: bool
    closed_at: datetime | None
    closed_by_version: int | None


def cases_for_month(conn: psycopg.Connection, month: date, datasets: list[str]) -> list[CaseRow]:
    """Every case of ``datasets`` for ``month``: open ones first, then by file row."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            """
            select cases.dataset, cases.report_month, cases.kind, cases.file_name, cases.version, cases.source_row,
                   cases.row_key, coalesce(cases.header, cases.column_name) as column, cases.value, cases.rule,
                   cases.expected, cases.deadline, cases.closed_at is null as is_open, cases.closed_at,
                   closing.version as closed_by_version
            from meta.correction_cases as cases
            left join meta.deliveries as closing on closing.delivery_id = cases.closed_by_delivery_id
            where cases.report_month = %s and cases.dataset = any(%s)
            order by cases.closed_at is not null, cases.dataset, cases.kind, cases.source_row nulls first,
                     cases.rule_id
            """,
            (month, datasets),
        )
        return [CaseRow(**row) for row in cur.fetchall()]
