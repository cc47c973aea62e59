"""``bi_query_p95_ms``: the ten questions' queries on a warehouse holding the history.

The queries are ``dbt_project/analyses/ten_questions/*.sql`` as they are:
plain PostgreSQL on the marts' question views, each returning every month.
A BI tool picks the month with its own filter, which wraps the query
(Superset's and Metabase's filters on a SQL dataset):
``select * from (<file>) as question where report_month = <month>``; so
does this, for the latest month each question answers. After one untimed
pass, each run times ``bi_passes`` passes over the ten on one connection, as
a BI tool holds one, fetching every row; a run's figure is the p95 of its
latencies.
"""

from __future__ import annotations

import statistics
import time

import psycopg
from psycopg import sql

from bench.context import REPO, Bench
from bench.results import Measurement, percentile

QUESTIONS = REPO / "dbt_project" / "analyses" / "ten_questions"


def queries() -> dict[str, str]:
    found = {path.stem: path.read_text(encoding="utf-8") for path in sorted(QUESTIONS.glob("q*.sql"))}
    if not found:
        raise FileNotFoundError(f"no questions (q*.sql) in {QUESTIONS}")
    return found


def filtered(query: str, conn: psycopg.Connection) -> sql.Composed:
    """The question as a BI tool's month filter runs it: wrapped, for the latest month it answers."""
    inner = sql.SQL(query.strip().rstrip(";"))  # type: ignore[arg-type]  # a file of the repository
    (month,) = conn.execute(sql.SQL("select max(report_month) from ({}) as question").format(inner)).fetchone()
    return sql.SQL("select * from ({}) as question where report_month = {}").format(inner, sql.Literal(month))


def run(bench: Bench, database: str, key: str = "bi_query_p95_ms") -> Measurement:
    latencies: dict[str, list[float]] = {name: [] for name in queries()}
    p95s = []
    with psycopg.connect(bench.warehouse.url(database), autocommit=True) as conn:
        questions = {name: filtered(query, conn) for name, query in queries().items()}
        rows = {name: len(conn.execute(query).fetchall()) for name, query in questions.items()}  # untimed
        for _ in range(bench.runs):
            run_latencies = []
            for _ in range(bench.sizes.bi_passes):
                for name, query in questions.items():
                    start = time.perf_counter()
                    conn.execute(query).fetchall()
                    elapsed = (time.perf_counter() - start) * 1000
                    latencies[name].append(elapsed)
                    run_latencies.append(elapsed)
            p95s.append(percentile(run_latencies, 0.95))
    bench.log(f"  BI: {len(questions)} questions, p95 {statistics.median(p95s):.1f} ms")
    return Measurement(
        key,
        p95s,
        {
            "queries": f"{QUESTIONS.relative_to(REPO)}/q*.sql ({len(questions)})",
            "passes_per_run": bench.sizes.bi_passes,
            "median_ms_by_query": {name: round(statistics.median(v), 2) for name, v in latencies.items()},
            "rows_by_query": rows,
        },
    )
