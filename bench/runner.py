"""Runs the benchmarks in order and writes their results.

A run works in a folder of its own (a temporary one unless ``--work`` names
one): the generated data, the embedded warehouse's home, the children's
CITYDW_HOME, Airflow home and dbt target. A benchmark that fails is
reported and the others still run; the exit status says whether all ran.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench import docs, machine
from bench.context import REPO, Bench, Sizes
from bench.results import GOALS, KEYS, RESULTS, Measurement, write
from bench.warehouse import PSQL, bench_warehouse

QUICK_RESULTS = RESULTS.with_name("quick.json")
PARTIAL_RESULTS = RESULTS.with_name("partial.json")
"""Where ``--only`` writes by default: some keys, not a run the docs can show."""


@dataclass(frozen=True)
class Options:
    quick: bool = False
    runs: int | None = None
    output: Path | None = None
    skip_demo: bool = False
    demo_runs: int = 3
    only: tuple[str, ...] = ()
    work: Path | None = None
    keep: bool = False
    profile: bool = False
    update_docs: bool = True


def run(options: Options) -> int:
    started = time.time()
    runs = options.runs or 3
    heavy_runs = options.runs or (1 if options.quick else 3)
    output = options.output or (QUICK_RESULTS if options.quick else PARTIAL_RESULTS if options.only else RESULTS)
    work = options.work or Path(tempfile.mkdtemp(prefix="citydw-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    sizes = Sizes.quick() if options.quick else Sizes.full()
    print(f"citydw benchmarks ({'quick' if options.quick else 'full'}), working in {work}", flush=True)

    measurements: list[Measurement] = []
    problems: dict[str, str] = {}
    load_at_start = machine.load_average()
    with bench_warehouse(work / "server") as warehouse:
        bench = Bench(
            quick=options.quick,
            runs=runs,
            heavy_runs=heavy_runs,
            sizes=sizes,
            work=work,
            warehouse=warehouse,
            log_file=work / "bench.log",
        )
        for name, keys, step in _steps(options):
            if options.only and not set(keys) & set(options.only) and name not in options.only:
                continue
            if name == "demo" and (options.quick or options.skip_demo):
                problems.update(dict.fromkeys(keys, "skipped (--quick or --skip-demo)"))
                continue
            bench.log(f"{name}: {', '.join(keys)}")
            step_start = time.perf_counter()
            try:
                measurements += step(bench)
            except Exception as error:  # one benchmark's failure is reported, the rest still run
                bench.log(f"{name} FAILED: {error}")
                traceback.print_exc()
                problems.update(dict.fromkeys(keys, f"failed: {error}"))
            bench.log(f"{name}: done in {time.perf_counter() - step_start:.0f}s")
        profiles = dict(bench.shared.get("profiles", {}))

    meta = {
        "command": "python -m bench " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
        "quick": options.quick,
        "started_at": datetime.fromtimestamp(started, UTC).isoformat(timespec="seconds"),
        "duration_seconds": round(time.time() - started),
        "runs": runs,
        "heavy_runs": heavy_runs,
        "demo_runs": 0 if options.quick or options.skip_demo else options.demo_runs,
        "sizes": sizes.__dict__,
        "git": _git_revision(),
        "load_average_1m": {"start": load_at_start, "end": machine.load_average()},
        "machine": machine.describe(PSQL),
    }
    document = write(output, meta, measurements, problems)
    print(docs.table(document), flush=True)
    print(f"results: {output}", flush=True)
    for name, path in profiles.items():
        kept = output.parent / "profiles" / f"{name}.txt"
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, kept)
        print(f"profile: {kept}", flush=True)
    if output == RESULTS and options.update_docs and not options.only:
        docs.update(document)
        print(f"docs: {docs.DOCS}", flush=True)
    if options.keep:
        print(f"kept {work}", flush=True)
    else:
        shutil.rmtree(work, ignore_errors=True)
    missing = [key for key in KEYS if key not in document and (not options.only or key in options.only)]
    demo_skipped = [k for k in missing if k == "demo_seconds" and (options.quick or options.skip_demo)]
    return 1 if set(missing) - set(demo_skipped) else 0


def _steps(options: Options) -> list[tuple[str, tuple[str, ...], Callable[[Bench], list[Measurement]]]]:
    from bench.benchmarks import dags, demo, history_bulk, ingest, ingest_cli, load, month

    return [
        ("dags", ("dag_parse_seconds_max",), dags.run),
        ("load", ("load_vs_psql_copy",), load.run),
        (
            "ingest",
            ("ingest_csv_1m_vs_psql_copy", "validation_share", "peak_rss_mib_1m"),
            lambda bench: ingest.run(bench, profile=options.profile),
        ),
        (
            "ingest_cli",
            ("ingest_cli_1m_vs_psql_copy", "peak_rss_mib_cli_1m", "peak_rss_ratio_3m_vs_1m"),
            ingest_cli.run,
        ),
        ("month", ("month120_vs_month1", "bi_query_p95_ms"), month.run),
        ("province", ("month_province_vs_city", "bi_query_p95_ms_province"), month.run_province),
        ("history", ("history_10y_seconds",), history_bulk.run),
        ("demo", ("demo_seconds",), lambda bench: demo.run(bench, options.demo_runs)),
    ]


def _git_revision() -> dict[str, str | bool | None]:
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain"], cwd=REPO, capture_output=True, text=True).stdout
    except OSError:
        return {"commit": None, "dirty": None}
    return {"commit": head or None, "dirty": bool(status.strip())}


assert set(GOALS) == set(KEYS)
