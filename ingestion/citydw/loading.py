"""Loading accepted rows into ``raw.<department>__<dataset>``.

A month is a partition of the raw table: loading a delivery deletes the
month's rows and COPYs the new ones in the caller's transaction, so readers
see the old version or the new one, never a mix, and a crash leaves the old
one in place. Rows travel as CSV produced by Arrow's C++ writer and go
through PostgreSQL's COPY: no ``to_sql``, no row-by-row INSERT.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator
from datetime import date

import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.csv as pa_csv
from psycopg import sql

from citydw.parsing.model import SOURCE_ROW
from citydw.registry import DatasetSpec

COPY_BATCH_ROWS = 100_000

_ARROW_TYPES: dict[str, pa.DataType] = {
    "text": pa.string(),
    "integer": pa.int64(),
    "decimal": pa.float64(),
    "percent": pa.float64(),
    "date": pa.date32(),
    "boolean": pa.bool_(),
    "district": pa.string(),
    "region_code": pa.string(),
}


def raw_table(spec: DatasetSpec) -> sql.Composed:
    return sql.SQL("raw.{}").format(sql.Identifier(spec.raw_table))


def ensure_raw_table(conn: psycopg.Connection, spec: DatasetSpec) -> None:
    """Create the dataset's raw table from the registry, adding fields the registry gained since.

    DDL is issued only when something is missing: ALTER TABLE takes an
    exclusive lock even when it changes nothing, and BI queries and other
    months' loads should not queue behind a no-op.
    """
    table = raw_table(spec)
    existing = {
        row[0]
        for row in conn.execute(
            "select column_name from information_schema.columns where table_schema = 'raw' and table_name = %s",
            (spec.raw_table,),
        )
    }
    if not existing:
        conn.execute(
            sql.SQL(
                """
                create table if not exists {table} (
                    report_month date not null,
                    delivery_id bigint not null references meta.deliveries (delivery_id),
                    source_row integer,
                    loaded_at timestamptz not null default now()
                )
                """
            ).format(table=table)
        )
        conn.execute(
            sql.SQL("create index if not exists {index} on {table} (report_month)").format(
                index=sql.Identifier(f"{spec.raw_table}__report_month"), table=table
            )
        )
        conn.execute(
            sql.SQL("comment on table {table} is {comment}").format(
                table=table,
                comment=sql.Literal(f"{spec.title} ({spec.id}): the accepted version of each month's delivery."),
            )
        )
    for field in spec.fields:
        if field.field in existing:
            continue
        conn.execute(
            sql.SQL("alter table {table} add column if not exists {column} {type}").format(
                table=table, column=sql.Identifier(field.field), type=sql.SQL(field.postgres_type)
            )
        )


def to_arrow(frame: pd.DataFrame, spec: DatasetSpec, report_month: date, delivery_id: int) -> pa.Table:
    """The rows as an Arrow table with the raw table's columns and types."""
    count = len(frame)
    columns: dict[str, pa.Array] = {
        "report_month": pa.array([report_month] * count, type=pa.date32()),
        "delivery_id": pa.array([delivery_id] * count, type=pa.int64()),
        SOURCE_ROW: pa.array(frame[SOURCE_ROW].to_numpy(dtype="int64"), type=pa.int32()),
    }
    for field in spec.fields:
        target = _ARROW_TYPES[field.type]
        if field.field not in frame.columns:
            columns[field.field] = pa.nulls(count, type=target)
            continue
        array = pa.array(frame[field.field], from_pandas=True)
        if pa.types.is_timestamp(array.type) and target == pa.date32():
            array = array.cast(pa.date32(), safe=False)
        columns[field.field] = array.cast(target)
    return pa.table(columns)


def _csv_chunks(table: pa.Table) -> Iterator[bytes]:
    options = pa_csv.WriteOptions(include_header=False, batch_size=COPY_BATCH_ROWS)
    for batch in table.to_batches(max_chunksize=COPY_BATCH_ROWS):
        buffer = io.BytesIO()
        pa_csv.write_csv(batch, buffer, options)
        yield buffer.getvalue()


def copy_table(conn: psycopg.Connection, target: sql.Composable, table: pa.Table) -> int:
    """COPY an Arrow table into ``target`` (columns by name); returns the row count."""
    statement = sql.SQL("copy {target} ({columns}) from stdin (format csv)").format(
        target=target, columns=sql.SQL(", ").join(sql.Identifier(name) for name in table.column_names)
    )
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for chunk in _csv_chunks(table):
            copy.write(chunk)
    return table.num_rows


def replace_partition(
    conn: psycopg.Connection,
    spec: DatasetSpec,
    report_month: date,
    delivery_id: int,
    frames: pd.DataFrame | Iterable[pd.DataFrame],
) -> int:
    """Replace the month's rows with ``frames``' (a frame, or blocks of one as they are parsed), in the caller's transaction.

    Each block goes to Arrow and CSV :data:`COPY_BATCH_ROWS` rows at a time
    and into one COPY, so the load holds one batch's copy of the rows, not a
    second whole table, and the server parses a block while the next is made.
    """
    ensure_raw_table(conn, spec)
    table = raw_table(spec)
    conn.execute(sql.SQL("delete from {table} where report_month = %s").format(table=table), (report_month,))
    columns = ["report_month", "delivery_id", SOURCE_ROW, *(field.field for field in spec.fields)]
    statement = sql.SQL("copy {target} ({columns}) from stdin (format csv)").format(
        target=table, columns=sql.SQL(", ").join(sql.Identifier(name) for name in columns)
    )
    rows = 0
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for frame in [frames] if isinstance(frames, pd.DataFrame) else frames:
            for start in range(0, len(frame), COPY_BATCH_ROWS):
                batch = to_arrow(frame.iloc[start : start + COPY_BATCH_ROWS], spec, report_month, delivery_id)
                for chunk in _csv_chunks(batch):
                    copy.write(chunk)
            rows += len(frame)
    return rows


def delete_rows(conn: psycopg.Connection, spec: DatasetSpec, report_month: date, source_rows: Iterable[int]) -> int:
    """Delete the month's rows with these ``source_row`` numbers (in the caller's transaction); returns how many."""
    rows = sorted(source_rows)
    if not rows:
        return 0
    deleted = conn.execute(
        sql.SQL("delete from {table} where report_month = %s and source_row = any(%s)").format(table=raw_table(spec)),
        (report_month, rows),
    )
    return deleted.rowcount


def write_rows(conn: psycopg.Connection, target: str, columns: list[str], rows: Iterable[tuple]) -> None:
    """COPY Python tuples into a meta table (small volumes: quarantine, results)."""
    schema, name = target.split(".")
    statement = sql.SQL("copy {schema}.{name} ({columns}) from stdin").format(
        schema=sql.Identifier(schema),
        name=sql.Identifier(name),
        columns=sql.SQL(", ").join(sql.Identifier(c) for c in columns),
    )
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for row in rows:
            copy.write_row(tuple(json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v for v in row))
