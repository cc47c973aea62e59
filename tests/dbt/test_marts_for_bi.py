"""The marts as a BI user meets them: charts need no SQL, joins are declared, nothing is bookkeeping.

On the sample city (two months and a population year), built, then rebuilt
with --full-refresh and built again (so a replaced table and a merged
dimension are both seen), what PostgreSQL holds in ``marts`` is checked:

- every column of every table and view has a comment that starts with its
  Chinese label;
- a Chinese name beside every code a chart shows: ``district_name`` beside
  every ``district_code``, ``facility_type_name`` beside ``facility_type``;
- no build bookkeeping (``input_fingerprint``, ``delivery_id``, ``loaded_at``)
  in any mart; the incremental marts keep theirs in
  ``intermediate.<mart>__built_months``;
- numerics carry the precision their unit says: no unconstrained ``numeric``,
  万元 with 2 decimals, rates with 4, percentage points with 2;
- named primary keys and foreign keys to the dimensions, none named after
  dbt's temporary tables, and still there after a full refresh and a merge.
"""

from __future__ import annotations

import re
from datetime import date

import psycopg
import pytest

from citydw.transform import run_dbt

pytestmark = pytest.mark.slow

CJK = r"[\u4e00-\u9fff]"
RATES = {"spending_progress", "issued_yoy_growth", "annual_completion_rate", "residents_within_radius_share"}
FOREIGN_KEYS = {
    # (table, column) → dimension, as a BI tool reads them from the catalog.
    ("fct_project_progress_monthly", "district_code"): "dim_district",
    ("fct_project_progress_monthly", "source_department"): "dim_department",
    ("fct_bond_spending_monthly", "district_code"): "dim_district",
    ("bond_spending_by_district_monthly", "district_code"): "dim_district",
    ("fct_facility_coverage_monthly", "district_code"): "dim_district",
    ("fct_facility_coverage_monthly", "facility_type"): "dim_facility_type",
    ("fct_demolition_progress_monthly", "district_code"): "dim_district",
    ("fct_drainage_zone_progress_monthly", "district_code"): "dim_district",
    ("fct_spatial_plan_progress_monthly", "district_code"): "dim_district",
    ("dim_project", "district_code"): "dim_district",
    ("dim_facility", "district_code"): "dim_district",
    ("fct_facility_register_monthly", "district_code"): "dim_district",
    ("fct_facility_register_monthly", "facility_type"): "dim_facility_type",
    ("dim_community", "district_code"): "dim_district",
    ("dim_dataset", "department"): "dim_department",
}


def build(url: str, *args: str) -> None:
    result = run_dbt(["build", *args], url=url)
    assert result.success, "\n".join(result.failures)


def mart_columns(conn: psycopg.Connection) -> dict[str, dict[str, tuple[str, str | None]]]:
    """relation → column → (type as PostgreSQL writes it, comment), for every table and view of marts."""
    columns: dict[str, dict[str, tuple[str, str | None]]] = {}
    for relation, column, data_type, comment in conn.execute(
        """
        select class.relname, attribute.attname, format_type(attribute.atttypid, attribute.atttypmod),
               col_description(class.oid, attribute.attnum)
        from pg_class as class
        inner join pg_attribute as attribute on attribute.attrelid = class.oid
        where class.relnamespace = 'marts'::regnamespace and class.relkind in ('r', 'v', 'p')
          and attribute.attnum > 0 and not attribute.attisdropped
        """
    ):
        columns.setdefault(relation, {})[column] = (data_type, comment)
    return columns


def constraints(conn: psycopg.Connection) -> list[tuple[str, str, str, str | None, list[str]]]:
    """(table, name, type, referenced table, columns) of every constraint in marts."""
    return conn.execute(
        """
        select conrelid::regclass::text, conname, contype::text, confrelid::regclass::text,
               array(select attname from pg_attribute
                     where attrelid = conrelid and attnum = any(conkey) order by attnum)::text[]
        from pg_constraint
        where connamespace = 'marts'::regnamespace
        """
    ).fetchall()


def assert_keys_are_named_and_declared(conn: psycopg.Connection) -> None:
    found = constraints(conn)
    for table, name, kind, _, _ in found:
        bare = table.removeprefix("marts.")
        assert "dbt" not in name and name.startswith(bare), f"{table}: constraint {name}"
        assert not name[-1].isdigit(), f"{table}: constraint {name}"
        if kind == "p":
            assert name == f"{bare}_pkey"
    tables = {table.removeprefix("marts.") for table, *_ in found}
    assert {table for table in tables if not table.startswith("question_")} == {
        table
        for table, kind in conn.execute(
            "select relname, relkind from pg_class where relnamespace = 'marts'::regnamespace and relkind = 'r'"
        )
    }, "a mart table without a primary key"
    foreign = {
        (table.removeprefix("marts."), columns[0]): target.removeprefix("marts.")
        for table, _, kind, target, columns in found
        if kind == "f"
    }
    for key, dimension in FOREIGN_KEYS.items():
        assert foreign.get(key) == dimension, f"{key} has no foreign key to {dimension}"
    # Indexes a person can read too: the primary key's, and one per column BI tools filter by.
    indexes = conn.execute(
        """
        select table_class.relname, index_class.relname
        from pg_index
        inner join pg_class as table_class on table_class.oid = pg_index.indrelid
        inner join pg_class as index_class on index_class.oid = pg_index.indexrelid
        where table_class.relnamespace = 'marts'::regnamespace
        """
    ).fetchall()
    for table, index in indexes:
        assert re.fullmatch(rf"{table}_(pkey|[a-z_]+_idx)", index), f"marts.{table}: index {index}"
    assert ("fct_facility_coverage_monthly", "fct_facility_coverage_monthly_facility_type_idx") in indexes


def test_every_mart_column_a_bi_user_sees_is_labelled_typed_and_joined(raw_warehouse, warehouse_url, sample):
    conn = raw_warehouse
    for month in (date(2022, 1, 1), date(2022, 2, 1)):
        sample.load_month(conn, month)
    sample.load_reference_year(conn, 2021)
    build(warehouse_url)

    columns = mart_columns(conn)
    assert {
        "fct_facility_coverage_monthly",
        "fct_bond_spending_monthly",
        "question_07_facility_coverage_vs_standard",
    } <= set(columns)
    for relation, relation_columns in columns.items():
        for column, (data_type, comment) in relation_columns.items():
            assert comment and re.match(CJK, comment), f"marts.{relation}.{column}: {comment!r}"
            assert column not in {"input_fingerprint", "delivery_id", "loaded_at"}, f"marts.{relation}.{column}"
            assert data_type != "numeric", f"marts.{relation}.{column} is an unconstrained numeric"
            if column.endswith("_wan"):
                assert data_type.endswith(",2)"), (relation, column, data_type)
            if column.endswith("_pp"):
                assert data_type.endswith(",2)"), (relation, column, data_type)
            if column in RATES:
                assert data_type.endswith(",4)"), (relation, column, data_type)
        if "district_code" in relation_columns:
            assert "district_name" in relation_columns, f"marts.{relation} has district_code without district_name"
        if "facility_type" in relation_columns:
            assert "facility_type_name" in relation_columns, f"marts.{relation}"

    # What a chart shows: the Chinese names, filled in.
    assert conn.execute(
        "select distinct district_name, facility_type_name from marts.fct_facility_coverage_monthly "
        "where district_code = '321012' and facility_type in ('primary_school', 'public_parking') order by 2"
    ).fetchall() == [("江都区", "公共停车场"), ("江都区", "小学")]
    assert (
        conn.execute(
            "select count(*) filter (where district_name is null), count(*) from marts.fct_bond_spending_monthly"
        ).fetchone()[0]
        == 0
    )
    (progress,) = conn.execute(
        "select spending_progress::text from marts.fct_bond_spending_monthly where spending_progress is not null limit 1"
    ).fetchone()
    assert re.fullmatch(r"\d+\.\d{4}", progress), progress

    # The bookkeeping is where the incremental logic finds it, out of BI's sight.
    assert conn.execute("select count(*) from intermediate.fct_bond_spending_monthly__built_months").fetchone() == (2,)

    assert_keys_are_named_and_declared(conn)
    # A replaced table keeps its names; a merged dimension keeps the facts' foreign keys.
    build(warehouse_url, "--full-refresh")
    assert_keys_are_named_and_declared(conn)
    sample.load_month(conn, date(2022, 3, 1))
    build(warehouse_url)
    assert_keys_are_named_and_declared(conn)
    assert conn.execute("select count(distinct report_month) from marts.fct_bond_spending_monthly").fetchone() == (3,)
