"""Years of history, synthesised from months that went through the real pipeline.

Running 120 months through the pipeline would take hours, so the history is
made the way the issue allows: a few real months (the demo city's
deliveries, ingested by ``citydw.orchestration.ingest_month``) are copied,
in SQL, to every earlier month of the window. A copy is a new version of
each delivery in ``meta.deliveries`` (new ids, the same statuses) with its
raw rows, validation results, quarantine, fetch attempts, schedule and
correction cases; every date and timestamp in them moves by the same number
of months, so a copied month looks like one delivered that month. Monthly
data is copied from the seeded month with the same calendar month (else the
last seeded month), yearly reference data (``report_month`` 1 January) from
the seeded year.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import psycopg
from psycopg import sql

from citydw.months import month_range, previous_month
from citydw.registry import Registry

SHIFT_TABLE = "bench_shift"
MAP_TABLE = "bench_delivery_map"


@dataclass(frozen=True)
class Shift:
    dataset: str
    source: date
    target: date

    @property
    def months(self) -> int:
        return (self.target.year - self.source.year) * 12 + self.target.month - self.source.month


def months_before(month: date, count: int) -> list[date]:
    """The ``count`` report months before ``month``, oldest first."""
    first_index = month.year * 12 + month.month - 1 - count
    return month_range(date(first_index // 12, first_index % 12 + 1, 1), previous_month(month))


def plan(conn: psycopg.Connection, registry: Registry, window: list[date]) -> list[Shift]:
    """The copies that fill ``window`` (and its years' reference data) from what was delivered."""
    delivered: dict[str, set[date]] = {}
    for dataset, month in conn.execute("select distinct dataset, report_month from meta.deliveries"):
        delivered.setdefault(dataset, set()).add(month)
    shifts = []
    years = sorted({m.year for m in window})
    for dataset, months in delivered.items():
        spec = registry.datasets.get(dataset)
        if spec is None:
            continue
        if spec.frequency == "yearly":
            # A month reads the reference data of the year before it.
            source = max(months)
            targets = [date(year - 1, 1, 1) for year in years]
        else:
            source = None
            targets = window
        for target in targets:
            if target in months:
                continue
            if spec.frequency == "yearly":
                chosen = source
            else:
                same_month = [m for m in months if m.month == target.month]
                chosen = max(same_month) if same_month else max(months)
            assert chosen is not None
            shifts.append(Shift(dataset, chosen, target))
    return shifts


def replicate(conn: psycopg.Connection, shifts: list[Shift]) -> dict[str, int]:
    """Copy each shift's deliveries and everything that refers to them; returns rows written per table."""
    written: dict[str, int] = {}
    shift_table, map_table = sql.Identifier(SHIFT_TABLE), sql.Identifier(MAP_TABLE)
    with conn.transaction():
        conn.execute(
            sql.SQL("create temp table {} (dataset text, source date, target date, months int)").format(shift_table)
        )
        with conn.cursor() as cur, cur.copy(sql.SQL("copy {} from stdin").format(shift_table)) as copy:
            for shift in shifts:
                copy.write_row((shift.dataset, shift.source, shift.target, shift.months))
        conn.execute(
            sql.SQL(
                """
                create temp table {map_table} as
                select d.delivery_id as old_id, nextval('meta.deliveries_delivery_id_seq') as new_id,
                       s.target, s.months
                from meta.deliveries d
                inner join {shift_table} s on s.dataset = d.dataset and s.source = d.report_month
                """
            ).format(map_table=map_table, shift_table=shift_table)
        )
        written["meta.deliveries"] = _copy_table(conn, "meta", "deliveries", by_delivery=True, new_key=True)
        for schema, table in _tables(conn):
            if (schema, table) == ("meta", "deliveries"):
                continue
            columns = _columns(conn, schema, table)
            if "delivery_id" in columns:
                written[f"{schema}.{table}"] = _copy_table(conn, schema, table, by_delivery=True)
            elif "report_month" in columns and "dataset" in columns:
                written[f"{schema}.{table}"] = _copy_table(conn, schema, table, by_delivery=False)
        conn.execute(sql.SQL("drop table {}").format(map_table))
        conn.execute(sql.SQL("drop table {}").format(shift_table))
    return written


def _tables(conn: psycopg.Connection) -> list[tuple[str, str]]:
    return [
        (schema, table)
        for schema, table in conn.execute(
            """
            select table_schema, table_name from information_schema.tables
            where table_schema in ('raw', 'meta') and table_type = 'BASE TABLE'
              and table_name not in ('schema_migrations', 'working_days', 'alerts', 'waivers')
            order by table_schema, table_name
            """
        )
    ]


def _columns(conn: psycopg.Connection, schema: str, table: str) -> dict[str, tuple[str, str | None]]:
    return {
        name: (data_type, default)
        for name, data_type, default in conn.execute(
            """
            select column_name, data_type, column_default from information_schema.columns
            where table_schema = %s and table_name = %s order by ordinal_position
            """,
            (schema, table),
        )
    }


def _copy_table(conn: psycopg.Connection, schema: str, table: str, *, by_delivery: bool, new_key: bool = False) -> int:
    columns = _columns(conn, schema, table)
    names, values = [], []
    for name, (data_type, default) in columns.items():
        if default and default.startswith("nextval(") and not (new_key and name == "delivery_id"):
            continue  # a new serial key
        column = sql.Identifier("t", name)
        if name == "delivery_id" and by_delivery:
            value: sql.Composable = sql.SQL("m.new_id")
        elif name == "report_month":
            value = sql.SQL("m.target")
        elif data_type == "date":
            value = sql.SQL("({} + make_interval(months => m.months))::date").format(column)
        elif data_type.startswith("timestamp"):
            value = sql.SQL("{} + make_interval(months => m.months)").format(column)
        else:
            value = column
        names.append(sql.Identifier(name))
        values.append(value)
    if by_delivery:
        join = sql.SQL("inner join {} m on m.old_id = t.delivery_id").format(sql.Identifier(MAP_TABLE))
    else:
        join = sql.SQL("inner join {} m on m.dataset = t.dataset and m.source = t.report_month").format(
            sql.Identifier(SHIFT_TABLE)
        )
    statement = sql.SQL("insert into {table} ({names}) select {values} from {table} t {join}").format(
        table=sql.Identifier(schema, table),
        names=sql.SQL(", ").join(names),
        values=sql.SQL(", ").join(values),
        join=join,
    )
    return conn.execute(statement).rowcount
