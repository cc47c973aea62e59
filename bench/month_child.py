"""Report months through the full pipeline, in a process of their own, reported as JSON.

What the monthly DAG's tasks call, in the order it calls them: every
dataset's ingest (``citydw.orchestration.ingest_month``) for each month, then
one ``dbt build`` (``citydw.transform.build``). The four API departments are
served by the demo API server from the generated feeds, as in ``make demo``.
A fresh process per measured run, like an Airflow task, so no run inherits
another's warm imports; Airflow's own scheduling is left out, as its cost
does not depend on history.

    python -m bench.month_child --url URL --months 2022-01 --result R   (CITYDW_DROP_URL: the deliveries)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--months", default="", help="comma-separated YYYY-MM; none: build only")
    parser.add_argument("--no-build", action="store_true", help="ingest only")
    parser.add_argument("--result", required=True, help="write the JSON report here")
    args = parser.parse_args(argv)

    from citydw.demo.run import demo_apis
    from citydw.orchestration import ingest_month
    from citydw.settings import get_settings
    from citydw.transform import build

    months = [m for m in args.months.split(",") if m]
    start = time.perf_counter()
    results = []
    if months:
        with demo_apis(get_settings()):
            for month in months:
                results += ingest_month(month, url=args.url)
    ingested = time.perf_counter()
    outcome = None if args.no_build else build(url=args.url)
    built = time.perf_counter()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    report = {
        "seconds": built - start,
        "ingest_seconds": ingested - start,
        "build_seconds": built - ingested,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "statuses": {f"{r.dataset} {r.report_month:%Y-%m}": r.status for r in results},
        "rows_loaded": sum(r.rows_loaded for r in results),
        "dbt_success": None if outcome is None else outcome.success,
        "dbt_counts": None if outcome is None else outcome.counts,
        "dbt_failures": [] if outcome is None else outcome.failures[:5],
        "dbt_slowest": [] if outcome is None else _slowest_nodes(),
    }
    with open(args.result, "w", encoding="utf-8") as handle:
        json.dump(report, handle, ensure_ascii=False)
    return 0 if outcome is None or outcome.success else 1


def _slowest_nodes(count: int = 8) -> list[tuple[str, float]]:
    """The dbt nodes that took longest in the build just run, from its run_results.json."""
    target = Path(os.environ.get("DBT_TARGET_PATH", "dbt_project/target"))
    try:
        results = json.loads((target / "run_results.json").read_text(encoding="utf-8"))["results"]
    except (OSError, KeyError, ValueError):
        return []
    ranked = sorted(results, key=lambda r: -r["execution_time"])[:count]
    return [(r["unique_id"], round(r["execution_time"], 2)) for r in ranked]


if __name__ == "__main__":
    raise SystemExit(main())
