"""The 1M-row CSV ingest: ``ingest_csv_1m_vs_psql_copy``, ``validation_share``, ``peak_rss_mib_1m``.

Ours is the whole ingest of one ``finance.bond_allocations`` delivery (a
13-column CSV as the Finance Bureau writes it, GB18030, title and unit rows)
through ``citydw.pipeline.ingest``: archive, register, parse, validate with
the dataset's GX suite and dataset rules, quarantine the rows that break a
row rule (one in 10,000), load, accept. Each run is a fresh process on a
fresh copy of a migrated database (``bench.ingest_child``), so each pays
what an Airflow task pays: GX's import and context, the suite's loading.

The baseline is ``psql \\copy`` of the rows that ingest loaded (exported
from the raw table after the first run, in the raw table's columns) into
the same table. Rounds alternate which goes first.
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import psycopg
from psycopg import sql

from bench import data
from bench.benchmarks.load import register_delivery
from bench.context import Bench
from bench.machine import load_average
from bench.results import Measurement, summary
from citydw import loading
from citydw.parsing.model import SOURCE_ROW
from citydw.registry import DatasetSpec, load_registry

DATASET = "finance.bond_allocations"
MONTH = date(2022, 1, 1)
TEMPLATE = "bench_ingest_template"
INGEST_DB = "bench_ingest"
BASELINE_DB = "bench_ingest_baseline"
VALIDATION_PHASES = ("validate_gx", "validate_dataset_rules")


def run(bench: Bench, profile: bool = False) -> list[Measurement]:
    rows = bench.sizes.ingest_rows
    spec = load_registry().dataset(DATASET)
    target = f"raw.{spec.raw_table}"
    table = sql.Identifier("raw", spec.raw_table)
    columns = ["report_month", "delivery_id", SOURCE_ROW, *spec.field_names]
    delivery = bench.work / f"bond_allocations_{rows}.csv"
    bench.log(f"  writing a {rows:,}-row {DATASET} delivery")
    written = data.bond_allocations_csv(rows, MONTH, delivery)
    bench.warehouse.migrated(TEMPLATE)
    rows_csv = bench.work / "bond_allocations_rows.csv"
    baseline_url = bench.warehouse.copy_of(TEMPLATE, BASELINE_DB)

    def ours() -> dict:
        url = bench.warehouse.copy_of(TEMPLATE, INGEST_DB)
        bench.warehouse.checkpoint()
        report = bench.run_child(
            "bench.ingest_child",
            ["--url", url, "--dataset", DATASET, "--month", f"{MONTH:%Y-%m}", "--file", str(delivery)],
            url=url,
        )
        if report["status"] != "accepted":
            raise RuntimeError(f"the benchmark delivery was {report['status']}: {report['reason']}")
        return report

    def psql() -> float:
        return timed_psql_copy(bench, table, target, columns, rows_csv)

    reports: list[dict] = []
    baseline: list[float] = []
    loads = []
    for round_ in range(bench.heavy_runs):
        if round_ == 0:
            reports.append(ours())
            _export_rows(bench, target, table, columns, rows_csv, baseline_url, spec)
            baseline.append(psql())
        elif round_ % 2 == 1:
            baseline.append(psql())
            reports.append(ours())
        else:
            reports.append(ours())
            baseline.append(psql())
        loads.append(load_average())
        bench.log(
            f"  ingest round {round_ + 1}: ours {reports[-1]['seconds']:.2f}s "
            f"(validation {_validation(reports[-1]):.2f}s, peak {reports[-1]['peak_rss_mib']:.0f} MiB), "
            f"psql \\copy {baseline[-1]:.2f}s"
        )
    if profile:
        url = bench.warehouse.copy_of(TEMPLATE, INGEST_DB)
        profile_path = bench.work / "profile-ingest.txt"
        bench.run_child(
            "bench.ingest_child",
            ["--url", url, "--dataset", DATASET, "--month", f"{MONTH:%Y-%m}", "--file", str(delivery),
             "--profile", str(profile_path)],
            url=url,
        )  # fmt: skip
        bench.shared["profiles"] = {**bench.shared.get("profiles", {}), "ingest": str(profile_path)}
    bench.warehouse.drop(INGEST_DB)
    bench.warehouse.drop(BASELINE_DB)

    seconds = [r["seconds"] for r in reports]
    phases = {name: summary([r["phases"].get(name, 0.0) for r in reports]) for name in reports[0]["phases"]}
    common = {
        "dataset": DATASET,
        "rows": rows,
        "defective_rows": written["defective_rows"],
        "file_mib": round(delivery.stat().st_size / 2**20, 1),
        "encoding": "GB18030",
        "rows_loaded": reports[0]["rows_loaded"],
        "rows_quarantined": reports[0]["rows_quarantined"],
        "ingest_seconds": summary(seconds),
        "ingest_cpu_seconds": summary([r["cpu_seconds"] for r in reports]),
        "psql_copy_seconds": summary(baseline),
        "phases_seconds": phases,
        "load_average_1m": loads,
    }
    return [
        Measurement("ingest_csv_1m_vs_psql_copy", [s / b for s, b in zip(seconds, baseline, strict=True)], common),
        Measurement(
            "validation_share",
            [_validation(r) / r["seconds"] for r in reports],
            {"validation_seconds": summary([_validation(r) for r in reports]), "phases": list(VALIDATION_PHASES)},
        ),
        Measurement(
            "peak_rss_mib_1m",
            [r["peak_rss_mib"] for r in reports],
            {"rows": rows, "peak_rss_mib_when_each_phase_ended": reports[-1].get("peak_rss_mib_after")},
        ),
    ]


def _validation(report: dict) -> float:
    return sum(report["phases"].get(name, 0.0) for name in VALIDATION_PHASES)


def timed_psql_copy(bench: Bench, table: sql.Identifier, target: str, columns: list[str], rows_csv: Path) -> float:
    """The baseline: ``psql \\copy`` of ``rows_csv`` into the emptied, checkpointed raw table, in seconds."""
    bench.warehouse.execute(sql.SQL("truncate {}").format(table), BASELINE_DB)
    bench.warehouse.checkpoint()
    start = time.perf_counter()
    bench.warehouse.psql(BASELINE_DB, f"\\copy {target} ({', '.join(columns)}) from '{rows_csv}' with (format csv)")
    return time.perf_counter() - start


def _export_rows(
    bench: Bench,
    target: str,
    table: sql.Identifier,
    columns: list[str],
    path: Path,
    baseline_url: str,
    spec: DatasetSpec,
) -> None:
    """The rows the first ingest loaded, as a CSV for the baseline; and a delivery they can refer to."""
    bench.warehouse.psql(INGEST_DB, f"\\copy (select {', '.join(columns)} from {target}) to '{path}' with (format csv)")
    with psycopg.connect(bench.warehouse.url(INGEST_DB)) as conn:
        row = conn.execute(sql.SQL("select min(delivery_id), max(delivery_id) from {}").format(table)).fetchone()
    assert row is not None and row[0] == row[1], "the benchmark ingest loaded one delivery"
    with psycopg.connect(baseline_url, autocommit=True) as conn:
        loading.ensure_raw_table(conn, spec)
        register_delivery(conn, spec.id, MONTH, delivery_id=row[0])
