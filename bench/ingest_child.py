"""One ingest of one delivery file, in a process of its own, reported as JSON on stdout.

The ingest benchmark runs this once per measured run, so every run starts
cold the way an Airflow task does (GX's context is built, the suite loaded),
and the peak resident memory is the ingest's alone, not the benchmark
runner's. Phases are timed by wrapping the pipeline's own steps; nothing
in the package changes for it.

    python -m bench.ingest_child --url URL --dataset finance.bond_allocations --month 2022-01 --file F --result R
"""

from __future__ import annotations

import argparse
import functools
import json
import resource
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

PHASES: dict[str, float] = defaultdict(float)
PEAK_AFTER: dict[str, float] = {}  # the process's peak RSS (MiB) when each phase ended: who set the peak


def _peak_mib() -> float:
    """This process's peak resident memory in MiB.

    Linux's VmHWM, not ``ru_maxrss``: a child started with vfork (as
    ``subprocess`` does) inherits in ``ru_maxrss`` the peak of its parent,
    here the benchmark runner holding a million rows of its own.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux, the best left


def _timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            PHASES[name] += time.perf_counter() - start
            PEAK_AFTER[name] = round(_peak_mib())

    return wrapper


def _instrument() -> None:
    from citydw import archive, loading, pipeline
    from citydw.parsing import grid

    archive.store = _timed("archive", archive.store)
    # The file read and laid out, then its rows converted block by block while the load COPYs them.
    pipeline._lay_out = _timed("parse", pipeline._lay_out)
    grid.LaidOut.build = _timed("parse_convert", grid.LaidOut.build)
    pipeline._validate = _timed("validate_gx", pipeline._validate)
    pipeline._with_dataset_rules = _timed("validate_dataset_rules", pipeline._with_dataset_rules)
    loading.replace_partition = _timed("load", loading.replace_partition)
    pipeline._record_findings = _timed("record_findings", pipeline._record_findings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--month", required=True)
    parser.add_argument("--file", required=True)
    parser.add_argument("--result", required=True, help="write the JSON report here")
    parser.add_argument("--profile", help="write a pyinstrument profile here (.txt: text, else HTML)")
    args = parser.parse_args(argv)

    from citydw.months import parse_month
    from citydw.pipeline import Context, ingest
    from citydw.sources.filedrop import candidate_from_file
    from citydw.warehouse.connect import connect, prepare_warehouse

    prepare_warehouse(args.url)  # normally a no-op: the runner hands over a migrated database
    _instrument()
    context = Context.load()
    spec = context.registry.dataset(args.dataset)
    month = parse_month(args.month)
    profiler = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.005)
        profiler.start()
    start = time.perf_counter()
    with connect(args.url, autocommit=True) as conn:
        result = ingest(conn, spec, month, context, [candidate_from_file(args.file)])
    seconds = time.perf_counter() - start
    if profiler is not None:
        profiler.stop()
        with open(args.profile, "w", encoding="utf-8") as handle:
            text = args.profile.endswith(".txt")
            handle.write(profiler.output_text(show_all=False) if text else profiler.output_html())
    usage = resource.getrusage(resource.RUSAGE_SELF)
    report = {
        "seconds": seconds,
        "phases": dict(PHASES),
        "status": result.status,
        "reason": result.reason,
        "rows_received": result.rows_received,
        "rows_loaded": result.rows_loaded,
        "rows_quarantined": result.rows_quarantined,
        "peak_rss_mib": _peak_mib(),
        "peak_rss_mib_after": PEAK_AFTER,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
    }
    with open(args.result, "w", encoding="utf-8") as handle:
        json.dump(report, handle)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
