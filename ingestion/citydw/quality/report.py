"""``citydw report --month``: the month's data-quality report, correction workbooks, Data Docs and notices.

:func:`run` is what the report DAG and the command call:

1. bring the ledger up to date for the month (:func:`prepare_month`): the
   schedule and calendar in ``meta``, the correction cases;
2. rebuild the quality marts (``dbt build -s +path:models/marts/quality``:
   seconds), so the ledger mart reflects what step 1 wrote;
3. write ``<reports>/YYYY-MM/``: ``index.html`` with its charts under
   ``charts/`` (SVG, rendered offline), ``datadocs/`` (GX Data Docs) and
   ``corrections/<department>.xlsx``;
4. send the correction notices (once per dataset and version).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import psycopg
from psycopg.rows import dict_row

from citydw.city import City, load_city
from citydw.months import month_range, parse_month
from citydw.quality import cases as case_book
from citydw.quality import charts, chase, ledger, workbooks
from citydw.registry import Registry, load_registry
from citydw.settings import Settings, get_settings

log = logging.getLogger(__name__)

# The quality marts with what they read, and the views that read them (question 10): rebuilding a
# table drops the views on it (dbt swaps it in and drops the old one with cascade), so they are rebuilt too.
QUALITY_MARTS = "+path:models/marts/quality+"
HEATMAP_MONTHS = 12
TOP_RULES = 10

STATUS_WORDS = {
    "accepted": "已接收",
    "corrected": "已更正",
    "waived": "已豁免",
    "rejected": "被退回",
    "received": "处理中",
    "missing": "缺报",
    "pending": "未到期",
}


@dataclass
class ReportResult:
    """What a report run wrote and sent; small enough to return from an Airflow task."""

    month: date
    index: Path
    charts: list[Path] = field(default_factory=list)
    workbooks: dict[str, Path] = field(default_factory=dict)
    datadocs: Path | None = None
    is_certified: bool = False
    open_cases: int = 0
    alerts: int = 0

    def summary(self) -> str:
        state = "certified" if self.is_certified else "provisional"
        return (
            f"report {self.month:%Y-%m} ({state}): {self.index}; {len(self.charts)} charts, "
            f"{len(self.workbooks)} correction workbooks, {self.open_cases} open cases, {self.alerts} alerts"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "month": f"{self.month:%Y-%m}",
            "index": str(self.index),
            "workbooks": {k: str(v) for k, v in self.workbooks.items()},
            "is_certified": self.is_certified,
            "open_cases": self.open_cases,
            "alerts": self.alerts,
        }


def prepare_month(
    conn: psycopg.Connection, registry: Registry, city: City, month: date, as_of: date | None = None
) -> list[case_book.CaseRow]:
    """Schedule and calendar up to ``month``, and every dataset's correction cases of ``month``
    (their deadlines counted from no later than ``as_of``, the run's day)."""
    ledger.refresh_schedule(conn, registry, up_to=month)
    return sync_month_cases(conn, registry, city, month, as_of)


def sync_month_cases(
    conn: psycopg.Connection, registry: Registry, city: City, month: date, as_of: date | None = None
) -> list[case_book.CaseRow]:
    """Every dataset's correction cases of ``month``, on a schedule already refreshed up to it."""
    due_dates: dict[str, date] = dict(
        conn.execute(
            "select dataset, due_date from meta.delivery_schedule where report_month = %s", (month,)
        ).fetchall()
    )
    for spec in registry.datasets.values():
        case_book.sync_cases(conn, spec, month, due_dates.get(spec.id), city.timezone, as_of=as_of)
    return case_book.cases_for_month(conn, month, list(registry.datasets))


def run(
    month: str | date,
    *,
    url: str | None = None,
    settings: Settings | None = None,
    build: bool = True,
    notify: bool = True,
    send: chase.Sender | None = None,
    as_of: str | date | None = None,
) -> ReportResult:
    """The data-quality report of ``month``, its correction workbooks and notices (see module doc).

    ``as_of`` is the day the report is as of (the run's logical date; None:
    today): lateness is counted and correction deadlines set from it, so a
    month replayed later (a backfill, the demo's 2022) reads as it did then.
    """
    from citydw.warehouse.connect import connect, prepare_warehouse, resolve_warehouse_url

    settings = settings or get_settings()
    month = parse_month(month) if isinstance(month, str) else month
    registry = load_registry(settings.registry_path)
    city = load_city(settings.city_dir)
    as_of = date.fromisoformat(as_of) if isinstance(as_of, str) else as_of
    url = prepare_warehouse(url or resolve_warehouse_url(settings))
    with connect(url, autocommit=True) as conn:
        cases = prepare_month(conn, registry, city, month, as_of)
    if build:
        from citydw.transform import run_dbt

        outcome = run_dbt(["build", "--select", QUALITY_MARTS], url=url, settings=settings, as_of=as_of)
        if not outcome.success:
            raise RuntimeError("dbt build of the quality marts failed:\n" + "\n".join(outcome.failures))

    folder = settings.reports_dir / f"{month:%Y-%m}"
    with connect(url, autocommit=True) as conn:
        result = write_report(conn, registry, city, month, folder, cases, settings.expectations_path)
        if notify:
            notices = chase.plan_correction_notices(cases, registry, city, month, result.workbooks)
            result.alerts = chase.send_planned(conn, registry, notices, send=send)
    log.info(result.summary())
    return result


def write_report(
    conn: psycopg.Connection,
    registry: Registry,
    city: City,
    month: date,
    folder: Path,
    cases: list[case_book.CaseRow],
    expectations_dir: Path,
) -> ReportResult:
    """Write index.html, its charts, the Data Docs and the correction workbooks of ``month`` into ``folder``."""
    from citydw.quality.datadocs import build_month_docs

    folder.mkdir(parents=True, exist_ok=True)
    ledger_rows = _ledger(conn, month)
    this_month = ledger_rows[ledger_rows["report_month"] == month] if not ledger_rows.empty else ledger_rows
    certification = conn.execute(
        "select is_certified, certified_at from marts.dim_report_month where report_month = %s", (month,)
    ).fetchone()
    is_certified = bool(certification and certification[0])
    rules = _rule_failures(conn, month)

    chart_files: dict[str, Path] = {}
    if not ledger_rows.empty:
        chart_files["timeliness"] = charts.render_svg(
            charts.timeliness_heatmap(_heatmap_cells(ledger_rows)), folder / "charts" / "timeliness.svg"
        )
        rates = _pass_rates(ledger_rows)
        if not rates.empty:
            chart_files["pass_rates"] = charts.render_svg(
                charts.pass_rates(rates), folder / "charts" / "pass_rates.svg"
            )
    if not rules.empty:
        chart_files["top_rules"] = charts.render_svg(
            charts.top_rules(rules.head(TOP_RULES)), folder / "charts" / "top_rules.svg"
        )
    quarantined = _quarantine_by_department(this_month)
    if not quarantined.empty:
        chart_files["quarantine"] = charts.render_svg(
            charts.quarantine_by_department(quarantined), folder / "charts" / "quarantine.svg"
        )

    written = workbooks.write_workbooks(folder.parent, registry, city, month, cases)
    datadocs: Path | None = None
    try:
        datadocs = build_month_docs(conn, registry, city, month, folder / "datadocs", expectations_dir)
    except Exception:
        # The validation details are a supplement: the month keeps its report and workbooks without them.
        log.exception("Data Docs of %s could not be written; the report says so instead", f"{month:%Y-%m}")
    index = folder / "index.html"
    html = _render_index(
        city=city,
        month=month,
        is_certified=is_certified,
        certified_at=certification[1] if certification else None,
        this_month=this_month,
        rules=rules.head(TOP_RULES),
        charts={name: path.relative_to(folder).as_posix() for name, path in chart_files.items()},
        workbooks={code: path.relative_to(folder).as_posix() for code, path in written.items()},
        datadocs=datadocs.relative_to(folder).as_posix() if datadocs else None,
        open_cases=sum(case.is_open for case in cases),
        as_of=this_month["as_of_date"].iloc[0] if not this_month.empty else None,
    )
    partial = index.with_suffix(".html.partial")
    partial.write_text(html, encoding="utf-8")
    partial.replace(index)
    return ReportResult(
        month=month,
        index=index,
        charts=list(chart_files.values()),
        workbooks=written,
        datadocs=datadocs,
        is_certified=is_certified,
        open_cases=sum(case.is_open for case in cases),
    )


# --- the data ------------------------------------------------------------------------------------


def _ledger(conn: psycopg.Connection, month: date) -> pd.DataFrame:
    first = month_range(date(month.year - 1, month.month, 1), month)[1]
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            """
            select report_month, department, department_name, dataset, dataset_title, due_date, received_at,
                   is_missing, is_late, working_days_late, versions_received, status, rows_received, rows_loaded,
                   rows_quarantined, blocking_failures, warnings, open_correction_cases, rejection_reason,
                   waiver_reason, as_of_date
            from marts.fct_department_delivery_monthly
            where report_month between %s and %s
            order by report_month, department, dataset
            """,
            (first, month),
        )
        return pd.DataFrame(cur.fetchall())


def _rule_failures(conn: psycopg.Connection, month: date) -> pd.DataFrame:
    """Rows affected per rule in the version that speaks for each dataset this month."""
    rows = conn.execute(
        """
        with current_versions as (
            select distinct on (dataset) delivery_id, dataset
            from meta.deliveries
            where report_month = %(month)s and status in ('accepted', 'rejected')
            order by dataset, (status = 'accepted') desc, version desc
        ),
        quarantined as (
            select
                quarantine.rule,
                quarantine.severity,
                count(distinct (quarantine.delivery_id, quarantine.source_row)) as rows
            from meta.quarantine
            inner join current_versions on current_versions.delivery_id = quarantine.delivery_id
            group by quarantine.rule, quarantine.severity
        ),
        whole_file as (
            select
                results.description as rule,
                results.severity,
                sum(greatest(coalesce(results.unexpected_count, 1), 1)) as rows
            from meta.validation_results as results
            inner join current_versions on current_versions.delivery_id = results.delivery_id
            where not results.success and results.severity in ('blocking', 'warning')
            group by results.description, results.severity
        )
        select rule, severity, sum(rows)::bigint as rows
        from (select * from quarantined union all select * from whole_file) as failures
        group by rule, severity
        order by rows desc, rule
        """,
        {"month": month},
    ).fetchall()
    return pd.DataFrame(rows, columns=["rule", "severity", "rows"])


def _outcome(row: pd.Series) -> str:
    if row["status"] == "waived":
        return "已豁免"
    if row["status"] == "pending":
        return "未到期"
    if row["status"] == "missing":
        return "缺报"
    if row["status"] == "rejected":
        return "退回"
    return "逾期" if row["is_late"] else "按时"


def _heatmap_cells(ledger_rows: pd.DataFrame) -> pd.DataFrame:
    frame = ledger_rows.assign(
        month=ledger_rows["report_month"].map(lambda d: f"{d:%Y-%m}"),
        outcome=ledger_rows.apply(_outcome, axis=1),
    )
    frame["rank"] = frame["outcome"].map({name: i for i, name in enumerate(charts.TIMELINESS_ORDER)})
    frame["detail"] = frame["dataset_title"] + "：" + frame["outcome"]
    cells = (
        frame.sort_values("rank")
        .groupby(["department_name", "month"], as_index=False)
        .agg(outcome=("outcome", "first"), working_days_late=("working_days_late", "max"), detail=("detail", "；".join))
    )
    return cells


def _pass_rates(ledger_rows: pd.DataFrame) -> pd.DataFrame:
    frame = ledger_rows.assign(month=ledger_rows["report_month"].map(lambda d: f"{d:%Y-%m}"))
    rates = []
    for month, group in frame.groupby("month"):
        due = group[(group["status"] != "pending") & (group["status"] != "waived")]
        received = group[group["versions_received"] > 0]
        accepted = group[group["rows_received"].notna()]
        if len(due):
            on_time = ((due["versions_received"] > 0) & ~due["is_late"]).sum()
            rates.append((month, "按时报送率", on_time / len(due)))
        if len(received):
            rates.append((month, "报表一次通过率", (received["status"] == "accepted").sum() / len(received)))
        if len(accepted) and accepted["rows_received"].sum() > 0:
            rates.append((month, "数据行通过率", accepted["rows_loaded"].sum() / accepted["rows_received"].sum()))
    return pd.DataFrame(rates, columns=["month", "measure", "rate"])


def _quarantine_by_department(this_month: pd.DataFrame) -> pd.DataFrame:
    if this_month.empty:
        return pd.DataFrame(columns=["department_name", "rows_quarantined"])
    counts = (
        this_month.assign(rows_quarantined=this_month["rows_quarantined"].fillna(0).astype(int))
        .groupby("department_name", as_index=False)["rows_quarantined"]
        .sum()
    )
    return counts[counts["rows_quarantined"] > 0]


# --- the page ----------------------------------------------------------------------------------


def _render_index(*, city: City, month: date, this_month: pd.DataFrame, **context: Any) -> str:
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("citydw.quality", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
        undefined=jinja2.StrictUndefined,
    )
    rows = [] if this_month.empty else this_month.to_dict(orient="records")
    zone = ZoneInfo(city.timezone)
    for row in rows:
        row["status_words"] = STATUS_WORDS.get(row["status"], row["status"])
        row["received_local"] = (
            row["received_at"].astimezone(zone).strftime("%Y-%m-%d %H:%M") if pd.notna(row["received_at"]) else ""
        )
        for name in ("rows_received", "rows_loaded", "rows_quarantined"):
            row[name] = "" if pd.isna(row[name]) else int(row[name])
    due_passed = [r for r in rows if r["status"] not in ("pending", "waived")]
    summary = {
        "expected": len(rows),
        "received": sum(r["versions_received"] > 0 for r in rows),
        "on_time": sum(r["versions_received"] > 0 and not r["is_late"] for r in due_passed),
        "late": sum(bool(r["is_late"]) for r in rows),
        "missing": sum(r["status"] == "missing" for r in rows),
        "rejected": sum(r["status"] == "rejected" for r in rows),
        "quarantined": sum(r["rows_quarantined"] or 0 for r in rows),
    }
    return environment.get_template("report.html.j2").render(
        city=city,
        month=month,
        rows=rows,
        summary=summary,
        generated_at=datetime.now(zone),
        rules=context.pop("rules").to_dict(orient="records"),
        severity_words=charts.SEVERITY_LABELS,
        **context,
    )
