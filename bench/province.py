"""A province's volume: every row of the demo city's monthly registers made ``factor`` rows.

DESIGN.md's province is 13 cities and 100× the rows. It is made from the
demo city the same way in two places, so the two agree row for row:

* :func:`multiply_history` — the history already in ``raw`` (copied months,
  ``bench.history``): ``factor - 1`` copies of every row, in SQL, and the
  accepted deliveries' row counts to match;
* :func:`province_deliveries` — the measured month's files and API feeds, as
  the demo generator writes them but with every record made ``factor``
  records, so the real ingest reads, validates and loads 100× the rows.

Copy ``k`` of a row has the same district and values and distinct keys
(:func:`province_key`), the same in every dataset and month, so a project's
code in the DRC list, the transport feed and the bond table still match,
and a month's cross-month rules find last month's row. Datasets keyed by
district (demolition progress, the province's bond bulletin) and the
yearly reference data (population, communities) stay as they are: a
province has no more districts per city, and the marts' foreign keys to
``dim_district`` and ``dim_facility_type`` hold.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any
from unittest import mock

import psycopg
from psycopg import sql

from citydw.registry import DatasetSpec, Registry

KEY_FIELDS = ("project_code", "facility_id", "bond_code", "project_id", "zone_code", "plan_code", "lot_id")
"""The identifying fields a copy changes, wherever they appear (a bond's project_code too)."""
FILING_CODE = re.compile(r"^\d{4}-\d{6}-\d{2}-\d{2}-\d{6}$")
"""A project's filing code (项目代码): year, district, industry, type (characters 16–17), serial."""


def province_key(value: str, copy: int) -> str:
    """Copy ``copy``'s key for ``value``, in the format the suite checks (copy 0 is the row itself).

    A filing code keeps its year, district and serial and moves its two-digit
    type code by ``copy`` (mod 100); an 18-character unified social credit
    code moves its first two digits the same way; any other code gets a
    ``-Pnn`` suffix. Two of the demo's codes that differ only there would
    collide; its serials are random, and the marts' unique tests would say so.
    """
    if copy == 0:
        return value
    if FILING_CODE.match(value):
        return f"{value[:15]}{(int(value[15:17]) + copy) % 100:02d}{value[17:]}"
    if len(value) == 18 and value[:2].isdigit():
        return f"{(int(value[:2]) + copy) % 100:02d}{value[2:]}"
    return f"{value}-P{copy:02d}"


def province_key_sql(column: sql.Composable, copy: sql.Composable) -> sql.Composable:
    """:func:`province_key` in SQL, for the history's copies."""
    return sql.SQL(
        """case
            when {copy} = 0 then {column}
            when {column} ~ {pattern}
                then left({column}, 15) || lpad(mod(substr({column}, 16, 2)::int + {copy}, 100)::text, 2, '0')
                     || substr({column}, 18)
            when length({column}) = 18 and left({column}, 2) ~ '^[0-9]{{2}}$'
                then lpad(mod(left({column}, 2)::int + {copy}, 100)::text, 2, '0') || substr({column}, 3)
            else {column} || '-P' || lpad({copy}::text, 2, '0')
        end"""
    ).format(column=column, copy=copy, pattern=sql.Literal(FILING_CODE.pattern))


def multiplied(spec: DatasetSpec) -> bool:
    """Whether a dataset's rows are copied: monthly registers keyed by a code, not by district."""
    return spec.frequency == "monthly" and any(field in KEY_FIELDS for field in spec.key)


def multiply_history(conn: psycopg.Connection, registry: Registry, factor: int) -> int:
    """Make every multiplied dataset's raw rows ``factor`` rows; returns the rows written.

    The accepted deliveries' ``rows_loaded`` and ``rows_received`` grow to
    match, as if the departments had delivered the province's rows.
    """
    written = 0
    copies = sql.Identifier("copies", "k")
    with conn.transaction():
        for spec in registry.datasets.values():
            if not multiplied(spec):
                continue
            table = sql.Identifier("raw", spec.raw_table)
            columns = [
                name
                for (name,) in conn.execute(
                    "select column_name from information_schema.columns"
                    " where table_schema = 'raw' and table_name = %s order by ordinal_position",
                    (spec.raw_table,),
                )
            ]
            if not columns:
                continue
            values = []
            for name in columns:
                column = sql.Identifier("t", name)
                if name in KEY_FIELDS:
                    values.append(province_key_sql(column, copies))
                elif name == "source_row":
                    values.append(sql.SQL("{} + {} * 1000000").format(column, copies))
                else:
                    values.append(column)
            written += conn.execute(
                sql.SQL(
                    "insert into {table} ({names}) select {values} from {table} t, generate_series(1, {last}) copies(k)"
                ).format(
                    table=table,
                    names=sql.SQL(", ").join(map(sql.Identifier, columns)),
                    values=sql.SQL(", ").join(values),
                    last=sql.Literal(factor - 1),
                )
            ).rowcount
            conn.execute(
                "update meta.deliveries set rows_loaded = rows_loaded * %s, rows_received = rows_received * %s"
                " where dataset = %s and status = 'accepted'",
                (factor, factor, spec.id),
            )
    return written


def _record_keys(registry: Registry) -> set[str]:
    """The key fields by every name a record uses for them: the field, and its JSON API key."""
    names = set(KEY_FIELDS)
    for spec in registry.datasets.values():
        names.update(f.key for f in spec.fields if f.field in KEY_FIELDS and f.key)
    return names


def _copies(records: Sequence[Mapping[str, Any]], factor: int, keys: set[str]) -> list[Any]:
    if not any(keys & set(record) for record in records):
        return list(records)  # keyed by district: one row per district, as in the city
    return [
        {
            name: province_key(value, copy) if name in keys and isinstance(value, str) else value
            for name, value in record.items()
        }
        for copy in range(factor)
        for record in records
    ]


@contextmanager
def province_volume(registry: Registry, factor: int) -> Iterator[None]:
    """While open, the demo generator writes every multiplied record ``factor`` times (its 合计 row too).

    The generator has three places rows pass through: ``tables.build`` (every
    file but the DRC's), ``json_records`` (the API feeds) and the DRC writer's
    ``_records``. A bench-only patch: the demo itself stays one city.
    """
    from citydw.demo import drc, registers, sectors, tables

    keys = _record_keys(registry)
    build, json_records, drc_records = tables.build, sectors.json_records, drc._records

    def build_province(fields: Any, records: Sequence[Mapping[str, Any]], style: Any, **options: Any) -> Any:
        many = _copies(records, factor, keys)
        total = options.get("total")
        if total is not None and len(many) > len(records):
            options["total"] = {
                name: value * factor if isinstance(value, (int, float)) else value for name, value in total.items()
            }
        return build(fields, many, style, **options)

    def json_province(records: list[dict[str, Any]]) -> bytes:
        return json_records(_copies(records, factor, keys))

    def drc_province(*args: Any) -> list[dict[str, Any]]:
        return _copies(drc_records(*args), factor, keys)

    with (
        mock.patch.object(tables, "build", build_province),
        mock.patch.object(drc, "_records", drc_province),
        mock.patch.object(sectors, "json_records", json_province),
        mock.patch.object(registers, "json_records", json_province),
    ):
        yield


def province_deliveries(out: str, month: date, registry: Registry, factor: int, *, seed: int) -> list[str]:
    """The demo city's deliveries of ``month`` at ``factor`` times the rows, written under ``out``."""
    from citydw.demo.generate import generate

    with province_volume(registry, factor):
        return generate(out, month, month, seed=seed, registry=registry)
