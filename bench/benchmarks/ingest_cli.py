"""``citydw ingest`` as a user runs it: ``ingest_cli_1m_vs_psql_copy``, ``peak_rss_mib_cli_1m``, ``peak_rss_ratio_3m_vs_1m``.

Ours is the whole command, ``citydw ingest --month 2022-07 --dataset
finance.bond_allocations --file F``, of the bench generator's 1M-row
delivery: a process of its own (interpreter start, imports, the migrations
check, GX's import, archive, parse, validate, load, accept), timed and its
peak memory read from outside by :mod:`bench.whole_process`. The baseline is
``psql \\copy`` of the rows it loaded into the same raw table (same index,
same foreign key), also a whole process. Rounds alternate which goes first.

Memory flat in the rows: the same command on a 3M-row delivery, its peak
divided by the 1M-row command's median peak.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from datetime import date
from pathlib import Path

import psycopg
from psycopg import sql

from bench import data
from bench.benchmarks.ingest import BASELINE_DB, DATASET, INGEST_DB, TEMPLATE, _export_rows, timed_psql_copy
from bench.context import REPO, Bench
from bench.machine import load_average
from bench.results import Measurement, summary
from citydw.parsing.model import SOURCE_ROW
from citydw.registry import load_registry

MONTH = date(2022, 7, 1)
CITYDW = Path(sys.executable).with_name("citydw")
BIG_FACTOR = 3
"""The larger delivery is this many times the 1M one: 3M rows at the issue's size."""


def run(bench: Bench) -> list[Measurement]:
    rows = bench.sizes.ingest_rows
    spec = load_registry().dataset(DATASET)
    target = f"raw.{spec.raw_table}"
    table = sql.Identifier("raw", spec.raw_table)
    columns = ["report_month", "delivery_id", SOURCE_ROW, *spec.field_names]
    delivery = bench.work / f"bond_allocations_cli_{rows}.csv"
    bench.log(f"  writing a {rows:,}-row {DATASET} delivery for {MONTH:%Y-%m}")
    written = data.bond_allocations_csv(rows, MONTH, delivery)
    file_mib = round(delivery.stat().st_size / 2**20, 1)
    bench.warehouse.migrated(TEMPLATE)
    rows_csv = bench.work / "bond_allocations_cli_rows.csv"
    baseline_url = bench.warehouse.copy_of(TEMPLATE, BASELINE_DB)

    def psql() -> float:
        return timed_psql_copy(bench, table, target, columns, rows_csv)

    ours: list[dict] = []
    baseline: list[float] = []
    loads = []
    for round_ in range(bench.heavy_runs):
        if round_ == 0:
            ours.append(_command(bench, delivery))
            _export_rows(bench, target, table, columns, rows_csv, baseline_url, spec)
            baseline.append(psql())
        elif round_ % 2 == 1:
            baseline.append(psql())
            ours.append(_command(bench, delivery))
        else:
            ours.append(_command(bench, delivery))
            baseline.append(psql())
        loads.append(load_average())
        bench.log(
            f"  citydw ingest round {round_ + 1}: {ours[-1]['seconds']:.2f}s, peak {ours[-1]['peak_rss_mib']:.0f} MiB; "
            f"psql \\copy {baseline[-1]:.2f}s"
        )
    delivery.unlink()

    big_rows = BIG_FACTOR * rows
    big = bench.work / f"bond_allocations_cli_{big_rows}.csv"
    bench.log(f"  writing a {big_rows:,}-row delivery")
    big_written = data.bond_allocations_csv(big_rows, MONTH, big)
    big_runs = [_command(bench, big) for _ in range(max(1, bench.heavy_runs - 1))]
    for report in big_runs:
        bench.log(
            f"  citydw ingest of {big_rows:,} rows: {report['seconds']:.2f}s, peak {report['peak_rss_mib']:.0f} MiB"
        )
    big.unlink()
    bench.warehouse.drop(INGEST_DB)
    bench.warehouse.drop(BASELINE_DB)

    seconds = [r["seconds"] for r in ours]
    peaks = [r["peak_rss_mib"] for r in ours]
    common = {
        "command": f"citydw ingest --month {MONTH:%Y-%m} --dataset {DATASET} --file F",
        "rows": rows,
        "defective_rows": written["defective_rows"],
        "file_mib": file_mib,
        "rows_loaded": ours[0]["rows_loaded"],
        "rows_quarantined": ours[0]["rows_quarantined"],
        "cli_seconds": summary(seconds),
        "cli_cpu_seconds": summary([r["cpu_seconds"] for r in ours]),
        "psql_copy_seconds": summary(baseline),
        "load_average_1m": loads,
    }
    return [
        Measurement("ingest_cli_1m_vs_psql_copy", [s / b for s, b in zip(seconds, baseline, strict=True)], common),
        Measurement("peak_rss_mib_cli_1m", peaks, {"rows": rows, "cli_seconds": summary(seconds)}),
        Measurement(
            "peak_rss_ratio_3m_vs_1m",
            [r["peak_rss_mib"] / statistics.median(peaks) for r in big_runs],
            {
                "rows": big_rows,
                "defective_rows": big_written["defective_rows"],
                "peak_rss_mib": summary([r["peak_rss_mib"] for r in big_runs]),
                "peak_rss_mib_1m": summary(peaks),
                "cli_seconds": summary([r["seconds"] for r in big_runs]),
                "rows_loaded": big_runs[0]["rows_loaded"],
            },
        ),
    ]


def _command(bench: Bench, delivery: Path) -> dict:
    """One ``citydw ingest`` of ``delivery`` into a fresh copy of the migrated database, as a whole process."""
    url = bench.warehouse.copy_of(TEMPLATE, INGEST_DB)
    bench.warehouse.checkpoint()
    result = bench.work / "ingest-cli-result.json"
    command = [CITYDW, "ingest", "--month", f"{MONTH:%Y-%m}", "--dataset", DATASET, "--file", str(delivery)]
    with (bench.work / "ingest-cli.log").open("a", encoding="utf-8") as output:
        subprocess.run(
            [sys.executable, "-m", "bench.whole_process", str(result), "--", *map(str, command)],
            cwd=REPO,
            env=bench.child_env(url),
            stdout=output,
            stderr=subprocess.STDOUT,
            check=True,
        )
    report = json.loads(result.read_text(encoding="utf-8"))
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "select status, rows_loaded, rows_quarantined, status_reason from meta.deliveries where dataset = %s",
            (DATASET,),
        ).fetchone()
    if row is None or row[0] != "accepted":
        raise RuntimeError(f"the benchmark delivery was not accepted: {row}; see {bench.work / 'ingest-cli.log'}")
    return {**report, "rows_loaded": row[1], "rows_quarantined": row[2]}
