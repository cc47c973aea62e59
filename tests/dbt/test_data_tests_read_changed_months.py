"""A build's data tests on a mart built by month read the months that build changed, not every month.

At a province's volume a test of every month of a mart reads millions of
rows per test per build (issue 14); a month's rows only change when a
build rebuilds it, and that build tests it (macros/where_subquery.sql).
The same holds for the staging views: a month of raw only changes with
its accepted delivery. Here a wrong value is put in by hand: in a month the
last build changed, the tests fail; in a month it did not, they pass,
unless `test_all_months` asks for every month.
"""

from __future__ import annotations

from datetime import date

import psycopg
import pytest

from citydw.transform import run_dbt

pytestmark = pytest.mark.slow

MART = "fct_bond_spending_monthly"
WRONG_TYPE = "一般债券"  # not a special bond: the column's accepted_values test fails on it


def build(url: str) -> None:
    result = run_dbt(["build"], url=url)
    assert result.success, "\n".join(result.failures)


def dbt_tests_pass(url: str, model: str = MART, *, all_months: bool = False) -> bool:
    args = ["test", "-s", model]
    if all_months:
        args += ["--vars", '{"test_all_months": true}']
    return run_dbt(args, url=url).success


def duplicate_a_row(conn: psycopg.Connection, raw_table: str, month: date, where: str = "true") -> None:
    """One raw row of ``month`` (matching ``where``) twice: the unique tests on its key fail on it."""
    conn.execute(
        f"insert into raw.{raw_table} select * from raw.{raw_table} where ctid = "
        f"(select ctid from raw.{raw_table} where report_month = %s and {where} limit 1)",
        (month,),
    )


def set_wrong_type(conn: psycopg.Connection, month: date | None) -> None:
    """Give one row of ``month`` a bond type the tests reject (None: put every row right again)."""
    conn.execute(f"update marts.{MART} set bond_type = '新增专项债券' where bond_type = %s", (WRONG_TYPE,))
    if month is not None:
        conn.execute(
            f"update marts.{MART} set bond_type = %s where ctid = "
            f"(select ctid from marts.{MART} where report_month = %s limit 1)",
            (WRONG_TYPE, month),
        )


def test_a_builds_tests_read_the_months_it_rebuilt(raw_warehouse, warehouse_url, sample):
    conn = raw_warehouse
    for month in (date(2021, 11, 1), date(2021, 12, 1), date(2022, 1, 1)):
        sample.load_month(conn, month)
    for year in (2020, 2021):
        sample.load_reference_year(conn, year)
    build(warehouse_url)
    sample.load_month(conn, date(2022, 2, 1))
    build(warehouse_url)

    built_last = [
        month
        for (month,) in conn.execute(
            f"select report_month from intermediate.{MART}__built_months"
            f" where built_at = (select max(built_at) from intermediate.{MART}__built_months)"
        )
    ]
    assert built_last == [date(2022, 2, 1)]  # January's window (Nov–Jan) did not change

    set_wrong_type(conn, date(2022, 2, 1))
    assert not dbt_tests_pass(warehouse_url), "a wrong value in the month the build rebuilt was not seen"

    set_wrong_type(conn, date(2021, 11, 1))
    assert dbt_tests_pass(warehouse_url), "the tests read a month the last build did not rebuild"
    assert not dbt_tests_pass(warehouse_url, all_months=True), "test_all_months did not read every month"

    set_wrong_type(conn, None)
    assert dbt_tests_pass(warehouse_url, all_months=True)


def test_a_staging_views_tests_read_the_months_whose_deliveries_changed(raw_warehouse, warehouse_url, sample):
    conn = raw_warehouse
    for month in (date(2021, 11, 1), date(2021, 12, 1)):
        sample.load_month(conn, month)
    for year in (2020, 2021):
        sample.load_reference_year(conn, year)
    build(warehouse_url)
    sample.load_month(conn, date(2022, 1, 1), only={"finance.bond_allocations"})
    build(warehouse_url)
    view = "stg_finance__bond_allocations"
    # A row twice: the view's unique (report_month, bond_code, project_code) test fails on it.
    duplicate_a_row(conn, "finance__bond_allocations", date(2021, 11, 1))  # a month no build since has changed
    assert dbt_tests_pass(warehouse_url, view), "the view's tests read a month whose delivery did not change"
    assert not dbt_tests_pass(warehouse_url, view, all_months=True)
    duplicate_a_row(conn, "finance__bond_allocations", date(2022, 1, 1))  # the month the last build found new
    assert not dbt_tests_pass(warehouse_url, view), "a wrong row in the month whose delivery changed was not seen"


def test_the_mapped_facilities_tests_read_the_months_whose_registers_changed(raw_warehouse, warehouse_url, sample):
    """int_facility_types_mapped (every register row × type, 7M rows at a province's volume) records its months too."""
    conn = raw_warehouse
    for month in (date(2021, 11, 1), date(2021, 12, 1)):
        sample.load_month(conn, month)
    for year in (2020, 2021):
        sample.load_reference_year(conn, year)
    build(warehouse_url)
    sample.load_month(conn, date(2022, 1, 1), only={"education.schools"})
    build(warehouse_url)
    model = "int_facility_types_mapped"
    # A school twice: the unique (report_month, facility_type, source_dataset, facility_id) test fails on it.
    primary_school = "type = '小学'"
    duplicate_a_row(conn, "education__schools", date(2021, 11, 1), primary_school)  # no build since changed it
    assert dbt_tests_pass(warehouse_url, model), (
        "the mapped facilities' tests read a month whose registers did not change"
    )
    assert not dbt_tests_pass(warehouse_url, model, all_months=True)
    duplicate_a_row(conn, "education__schools", date(2022, 1, 1), primary_school)  # its new register
    assert not dbt_tests_pass(warehouse_url, model), "a wrong row in the month whose register changed was not seen"
