"""What the warehouse holds now, in a few lines: for the end of ``make demo`` and for operators."""

from __future__ import annotations

from datetime import date

import psycopg

from citydw.settings import Settings


def delivery_counts(conn: psycopg.Connection) -> list[tuple[str, str, int]]:
    """(dataset, status, versions) over all months."""
    return conn.execute("select dataset, status, count(*) from meta.deliveries group by 1, 2 order by 1, 2").fetchall()


def month_outcome(conn: psycopg.Connection, month: date, this_run: dict[str, str] | None = None) -> list[str]:
    """One line per dataset for a run month: the accepted version, or why there is none.

    With ``this_run`` (dataset → what this run's ingest did), each line starts
    with that, and a dataset whose ingest failed says so with the error, even
    when an earlier run's accepted version is still the one loaded.
    """
    rows = conn.execute(
        """
        select distinct on (dataset) dataset, report_month, version, status, rows_loaded, rows_quarantined,
               file_name, status_reason
        from meta.deliveries
        where report_month = %s or (report_month = %s and dataset like 'stats.%%')
        order by dataset, (status = 'accepted') desc, version desc
        """,
        (month, date(month.year - 1, 1, 1)),
    ).fetchall()
    this_run = this_run or {}
    lines = []
    seen = set()
    for dataset, period, version, status, loaded, quarantined, file_name, reason in rows:
        seen.add(dataset)
        if this_run.get(dataset) == "failed":
            lines.append(_failed_line(conn, dataset, month, f"v{version} {status} from an earlier run stays"))
            continue
        counts = f"loaded {loaded or 0:>5}  quarantined {quarantined or 0:>4}" if status == "accepted" else ""
        why = f"  — {reason}" if reason and status != "accepted" else ""
        run = f"{this_run[dataset]:<10} " if dataset in this_run else ""
        lines.append(f"  {run}{dataset:<36} {period:%Y-%m}  {status:<10} v{version} {counts}  ({file_name}){why}")
    for dataset in sorted(d for d, outcome in this_run.items() if d not in seen):
        lines.append(
            _failed_line(conn, dataset, month, "nothing loaded")
            if this_run[dataset] == "failed"
            else f"  {this_run[dataset]:<10} {dataset}"
        )
    return lines


def _failed_line(conn: psycopg.Connection, dataset: str, month: date, loaded: str) -> str:
    """A dataset whose ingest failed in this run, with the last error its source gave."""
    error = conn.execute(
        """
        select detail from meta.fetch_attempts
        where dataset = %s and outcome = 'error' and report_month in (%s, %s)
        order by attempted_at desc limit 1
        """,
        (dataset, month, date(month.year - 1, 1, 1)),
    ).fetchone()
    why = f" — {error[0]}" if error and error[0] else ""
    return f"  {'FAILED':<10} {dataset:<36} ({loaded}){why}"


def mart_counts(conn: psycopg.Connection) -> list[tuple[str, int, int | None]]:
    """(mart, rows, distinct report months) for every table in ``marts``."""
    tables = conn.execute(
        """
        select c.relname, exists (
            select 1 from pg_attribute a
            where a.attrelid = c.oid and a.attname = 'report_month' and not a.attisdropped)
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'marts' and c.relkind in ('r', 'v', 'm', 'p')
        order by 1
        """
    ).fetchall()
    counts = []
    for name, has_month in tables:
        months = "count(distinct report_month)" if has_month else "null"
        counted = conn.execute(
            psycopg.sql.SQL("select count(*), {months} from marts.{table}").format(
                months=psycopg.sql.SQL(months), table=psycopg.sql.Identifier(name)
            )
        ).fetchone()
        assert counted is not None  # an aggregate always returns its row
        rows, distinct_months = counted
        counts.append((name, rows, distinct_months))
    return counts


def render(conn: psycopg.Connection, url: str, settings: Settings) -> str:
    from citydw.warehouse.connect import bi_url, redact_url

    lines = ["", "Deliveries (versions by status):"]
    by_dataset: dict[str, list[str]] = {}
    for dataset, status, count in delivery_counts(conn):
        by_dataset.setdefault(dataset, []).append(f"{count} {status}")
    lines += [f"  {dataset:<40} {', '.join(parts)}" for dataset, parts in by_dataset.items()]
    lines += ["", "Marts:"]
    for name, rows, months in mart_counts(conn):
        span = f", {months} months" if months is not None else ""
        lines.append(f"  marts.{name:<40} {rows:>7} rows{span}")
    lines += [
        "",
        f"Reports:     {settings.reports_dir}/YYYY-MM/",
        f"Logs:        {settings.home_dir / 'logs'}/  (run-YYYY-MM.log: each month's Airflow, dbt and GX output;"
        " errors.log: tracebacks)",
        f"Warehouse:   {redact_url(url)}  (owner; `citydw warehouse url` prints it with its password)",
        f"BI tools:    {bi_url(url, settings) or 'set CITYDW_BI_PASSWORD to let the read-only role citydw_bi log in'}",
        "             (read-only role citydw_bi: the marts schema only)",
    ]
    return "\n".join(lines)
