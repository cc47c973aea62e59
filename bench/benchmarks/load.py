"""``load_vs_psql_copy``: our load of rows into their raw table ÷ ``psql \\copy`` of the same rows.

Ours is what the pipeline calls once a delivery is accepted:
``loading.replace_partition`` (delete the month, COPY the frame) in one
transaction, from the frame the parser hands over (pandas dtypes as
``ParsedDelivery`` documents them) to commit. The baseline is ``psql \\copy``
of the same rows from a CSV file written beforehand, into the same table with
the same index and foreign key. Each round times both, in alternating order,
after emptying the table and a checkpoint; the ratio is taken per round.
"""

from __future__ import annotations

import time
from datetime import date

import psycopg
from psycopg import sql

from bench import data
from bench.context import Bench
from bench.machine import load_average
from bench.results import Measurement, summary
from citydw import loading

DATABASE = "bench_load"
MONTH = date(2022, 1, 1)


def register_delivery(conn: psycopg.Connection, dataset: str, month: date, delivery_id: int | None = None) -> int:
    """A row in meta.deliveries for loaded rows to refer to (raw tables have a foreign key to it)."""
    row = conn.execute(
        """
        insert into meta.deliveries
            (delivery_id, dataset, report_month, version, sha256, size_bytes, source_uri, archive_uri,
             received_at, status)
        values (coalesce(%s, nextval('meta.deliveries_delivery_id_seq')), %s, %s, 1, repeat('0', 64), 0,
                'bench', 'bench', now(), 'accepted')
        returning delivery_id
        """,
        (delivery_id, dataset, month),
    ).fetchone()
    assert row is not None
    return int(row[0])


def run(bench: Bench) -> list[Measurement]:
    rows = bench.sizes.load_rows
    spec = data.LOAD_SPEC
    url = bench.warehouse.migrated(DATABASE)
    with psycopg.connect(url, autocommit=True) as conn:
        delivery_id = register_delivery(conn, spec.id, MONTH)
        loading.ensure_raw_table(conn, spec)
    frame = data.load_frame(rows)
    csv_path = bench.work / "load12.csv"
    columns = data.canonical_csv(frame, spec, MONTH, delivery_id, csv_path)
    target = f"raw.{spec.raw_table}"
    table = sql.Identifier("raw", spec.raw_table)
    copy_command = f"\\copy {target} ({', '.join(columns)}) from '{csv_path}' with (format csv)"

    def empty() -> None:
        bench.warehouse.execute(sql.SQL("truncate {}").format(table), DATABASE)
        bench.warehouse.checkpoint()

    def psql() -> float:
        start = time.perf_counter()
        bench.warehouse.psql(DATABASE, copy_command)
        return time.perf_counter() - start

    def ours() -> float:
        start = time.perf_counter()
        with psycopg.connect(url) as conn, conn.transaction():
            loaded = loading.replace_partition(conn, spec, MONTH, delivery_id, frame)
        seconds = time.perf_counter() - start
        assert loaded == rows, f"loaded {loaded} of {rows} rows"
        return seconds

    timings: dict[str, list[float]] = {"psql": [], "ours": []}
    loads = []
    for round_ in range(bench.runs):
        order = ("psql", "ours") if round_ % 2 == 0 else ("ours", "psql")
        for which in order:
            empty()
            timings[which].append(psql() if which == "psql" else ours())
        loads.append(load_average())
        bench.log(f"  load round {round_ + 1}: psql {timings['psql'][-1]:.2f}s, ours {timings['ours'][-1]:.2f}s")
    empty()
    ratios = [o / p for o, p in zip(timings["ours"], timings["psql"], strict=True)]
    return [
        Measurement(
            "load_vs_psql_copy",
            ratios,
            {
                "rows": rows,
                "columns": len(spec.fields),
                "table": target,
                "csv_mib": round(csv_path.stat().st_size / 2**20, 1),
                "psql_copy_seconds": summary(timings["psql"]),
                "ours_seconds": summary(timings["ours"]),
                "load_average_1m": loads,
            },
        )
    ]
