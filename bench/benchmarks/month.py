"""``month120_vs_month1`` and ``bi_query_p95_ms``: what ten years of history cost a month, and BI.

The measured month (2022-07, the demo city's deliveries) goes through the
real pipeline — every dataset's ingest, then ``dbt build`` — in a fresh
process (``bench.month_child``), once on an empty migrated warehouse and
once on one holding the history: the months before it, synthesised from
real ingested months (``bench.history``) and built by dbt. Each run starts
from a file-level copy of its template, always under the same database name
so dbt's partial parsing is equally warm in both; rounds alternate which
goes first, and the ratio is taken per round.

The BI queries then run on the history warehouse (see ``bench.bi``).
"""

from __future__ import annotations

from datetime import date

import psycopg
from psycopg import sql

from bench import bi, history, province
from bench.context import Bench
from bench.machine import load_average
from bench.results import Measurement, summary
from citydw.demo.generate import generate
from citydw.registry import load_registry

MONTH = date(2022, 7, 1)
"""A month like most: its year's reference data (population, communities) arrived months ago.

The run that first finds a new year's reference data rebuilds every month of
the marts that read it (``all_months`` in ``incremental_by_month``): once a
year, by design, and not what "a month's cost" means here."""
EMPTY = "bench_month_empty"
HISTORY = "bench_month_history"
RUN_DB = "bench_month"
SEED = 2022


def run(bench: Bench) -> list[Measurement]:
    sizes = bench.sizes
    window = history.months_before(MONTH, sizes.history_months)
    seeds = window[-sizes.seed_months :]
    bench.log(f"  generating the demo city's deliveries {seeds[0]:%Y-%m}..{MONTH:%Y-%m}")
    generate(str(bench.drop), seeds[0], MONTH, seed=SEED)
    templates = {"empty": EMPTY, "history": HISTORY}
    bench.warehouse.migrated(EMPTY)
    setup = _build_history(bench, window, seeds)
    bench.shared["month_city_history"] = setup

    reports: dict[str, list[dict]] = {"empty": [], "history": []}
    loads = []
    for round_ in range(bench.heavy_runs):
        order = ("empty", "history") if round_ % 2 == 0 else ("history", "empty")
        for condition in order:
            url = bench.warehouse.copy_of(templates[condition], RUN_DB)
            bench.warehouse.checkpoint()
            report = bench.run_child("bench.month_child", ["--url", url, "--months", f"{MONTH:%Y-%m}"], url=url)
            if not report["dbt_success"]:
                raise RuntimeError(f"dbt build failed on the {condition} warehouse: {report['dbt_failures']}")
            reports[condition].append(report)
        loads.append(load_average())
        bench.log(
            f"  month round {round_ + 1}: empty {reports['empty'][-1]['seconds']:.1f}s, "
            f"history {reports['history'][-1]['seconds']:.1f}s"
        )
    bench.warehouse.drop(RUN_DB)
    ratios = [h["seconds"] / e["seconds"] for h, e in zip(reports["history"], reports["empty"], strict=True)]

    def part(condition: str, key: str) -> dict[str, float]:
        return summary([r[key] for r in reports[condition]])

    month_details = {
        "month": f"{MONTH:%Y-%m}",
        "history_months": len(window),
        "history": f"{window[0]:%Y-%m}..{window[-1]:%Y-%m}",
        "seeded_months": [f"{m:%Y-%m}" for m in seeds],
        **setup,
        "empty_seconds": part("empty", "seconds"),
        "history_seconds": part("history", "seconds"),
        "empty_ingest_seconds": part("empty", "ingest_seconds"),
        "history_ingest_seconds": part("history", "ingest_seconds"),
        "empty_build_seconds": part("empty", "build_seconds"),
        "history_build_seconds": part("history", "build_seconds"),
        "rows_loaded": reports["history"][0]["rows_loaded"],
        "statuses": reports["history"][0]["statuses"],
        "dbt_counts": reports["history"][0]["dbt_counts"],
        "empty_dbt_slowest_last_run": reports["empty"][-1].get("dbt_slowest"),
        "history_dbt_slowest_last_run": reports["history"][-1].get("dbt_slowest"),
        "load_average_1m": loads,
    }
    measurements = [Measurement("month120_vs_month1", ratios, month_details)]
    measurements.append(bi.run(bench, HISTORY))
    return measurements


def _build_history(
    bench: Bench, window: list[date], seeds: list[date], *, template: str = HISTORY, factor: int = 1
) -> dict:
    """A history template: seeded months ingested, copied over the window (``factor`` × the rows), built by dbt."""
    bench.warehouse.drop(RUN_DB)
    url = bench.warehouse.migrated(RUN_DB)
    bench.log(f"  ingesting {len(seeds)} real month(s) to build history from")
    seeded = bench.run_child(
        "bench.month_child", ["--url", url, "--months", ",".join(f"{m:%Y-%m}" for m in seeds), "--no-build"], url=url
    )
    with psycopg.connect(url, autocommit=True) as conn:
        shifts = history.plan(conn, load_registry(), window)
        bench.log(f"  copying them to {len(window)} months ({len(shifts)} dataset-months)")
        written = history.replicate(conn, shifts)
        if factor > 1:
            bench.log(f"  making every register's rows {factor} rows (a province's volume)")
            written["raw (province copies)"] = province.multiply_history(conn, load_registry(), factor)
        conn.execute("vacuum analyze")
        raw_rows = sum(n for table, n in written.items() if table.startswith("raw."))
        total_raw = conn.execute(
            "select coalesce(sum(n_live_tup), 0) from pg_stat_user_tables where schemaname = 'raw'"
        ).fetchone()
    bench.log("  building the marts over the whole history")
    built = bench.run_child("bench.month_child", ["--url", url], url=url)
    if not built["dbt_success"]:
        raise RuntimeError(f"dbt build over the history failed: {built['dbt_failures']}")
    bench.warehouse.execute("vacuum analyze", RUN_DB)
    bench.warehouse.drop(template)
    bench.warehouse.execute(
        sql.SQL("alter database {} rename to {}").format(sql.Identifier(RUN_DB), sql.Identifier(template))
    )
    return {
        "history_volume_factor": factor,
        "history_first_build_slowest": built.get("dbt_slowest"),
        "seed_ingest_seconds": round(seeded["seconds"], 1),
        "history_raw_rows_copied": raw_rows,
        "history_raw_rows": int(total_raw[0]) if total_raw else None,
        "history_first_build_seconds": round(built["seconds"], 1),
    }


# --- a province's volume ------------------------------------------------------------------------

PROVINCE_HISTORY = "bench_month_province_history"
PROVINCE_FACTOR = 100
"""DESIGN.md's province: 13 cities, 100× the demo city's rows a month."""
QUICK_PROVINCE_FACTOR = 3


def run_province(bench: Bench) -> list[Measurement]:
    """``month_province_vs_city`` and ``bi_query_p95_ms_province``.

    The same month (2022-07) through the same pipeline in a fresh process,
    paired: at the demo city's volume on its ten-year history (the template
    ``run`` builds, reused when it ran first), and at a province's on a
    ten-year history with every register's rows made 100× (``bench.province``),
    its deliveries the demo's with every record made 100× records. Rounds
    alternate which goes first; the ratio is taken per round.
    """
    sizes = bench.sizes
    factor = QUICK_PROVINCE_FACTOR if bench.quick else PROVINCE_FACTOR
    window = history.months_before(MONTH, sizes.history_months)
    seeds = window[-sizes.seed_months :]
    registry = load_registry()
    if "month_city_history" in bench.shared:
        city_setup = bench.shared["month_city_history"]
    else:
        bench.log(f"  generating the demo city's deliveries {seeds[0]:%Y-%m}..{MONTH:%Y-%m}")
        generate(str(bench.drop), seeds[0], MONTH, seed=SEED)
        city_setup = _build_history(bench, window, seeds)
    province_drop = bench.work / "drop-province"
    bench.log(f"  generating the province's deliveries of {MONTH:%Y-%m} ({factor}× the rows)")
    province.province_deliveries(str(province_drop), MONTH, registry, factor, seed=SEED)
    province_setup = _build_history(bench, window, seeds, template=PROVINCE_HISTORY, factor=factor)

    conditions = {
        "city": (HISTORY, {}),
        "province": (PROVINCE_HISTORY, {"CITYDW_DROP_URL": str(province_drop)}),
    }
    reports: dict[str, list[dict]] = {"city": [], "province": []}
    loads = []
    for round_ in range(bench.heavy_runs):
        order = ("city", "province") if round_ % 2 == 0 else ("province", "city")
        for condition in order:
            template, env = conditions[condition]
            url = bench.warehouse.copy_of(template, RUN_DB)
            bench.warehouse.checkpoint()
            report = bench.run_child("bench.month_child", ["--url", url, "--months", f"{MONTH:%Y-%m}"], url=url, **env)
            if not report["dbt_success"]:
                raise RuntimeError(f"dbt build failed on the {condition} warehouse: {report['dbt_failures']}")
            reports[condition].append(report)
        loads.append(load_average())
        bench.log(
            f"  province round {round_ + 1}: city {reports['city'][-1]['seconds']:.1f}s, "
            f"province {reports['province'][-1]['seconds']:.1f}s"
        )
    bench.warehouse.drop(RUN_DB)
    ratios = [p["seconds"] / c["seconds"] for p, c in zip(reports["province"], reports["city"], strict=True)]

    def part(condition: str, key: str) -> dict[str, float]:
        return summary([r[key] for r in reports[condition]])

    details = {
        "month": f"{MONTH:%Y-%m}",
        "history_months": len(window),
        "volume_factor": factor,
        "city_history": city_setup,
        "province_history": province_setup,
        **{
            f"{condition}_{key}": part(condition, key)
            for condition in ("city", "province")
            for key in ("seconds", "ingest_seconds", "build_seconds")
        },
        "city_rows_loaded": reports["city"][0]["rows_loaded"],
        "province_rows_loaded": reports["province"][0]["rows_loaded"],
        "province_statuses": reports["province"][0]["statuses"],
        "city_dbt_slowest_last_run": reports["city"][-1].get("dbt_slowest"),
        "province_dbt_slowest_last_run": reports["province"][-1].get("dbt_slowest"),
        "load_average_1m": loads,
    }
    return [
        Measurement("month_province_vs_city", ratios, details),
        bi.run(bench, PROVINCE_HISTORY, key="bi_query_p95_ms_province"),
    ]
