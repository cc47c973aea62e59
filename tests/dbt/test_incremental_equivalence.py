"""Incremental marts stay correct when past months are corrected: an incremental build equals a full refresh.

Five months of the sample city (2021-11 … 2022-03) and two population years
are built; then past months are corrected the way the loader corrects them
(a new accepted version replaces the month's rows) and a new month arrives:

- 2022-01 bond allocations: 150 万元 of spending a report forgot, which
  changes is_idle of February and March (they look back two months);
- 2022-01 parking ledger: a car park's spaces;
- 2021-12 demolition: the December total, which is last year's total of
  every 2022 month;
- 2022-02 DRC projects: a blocker added;
- 2021 population (yearly reference): every month's residents;
- 2022-03 spatial plans: the month's rows vanish from raw;
- 2022-04: every monthly dataset, a normal new month.

An incremental build must then give marts identical, row for row and
value for value, to a --full-refresh build; and it must really be
incremental: months no input of which changed are not rewritten.
"""

from __future__ import annotations

from datetime import date

import psycopg
import pytest
from psycopg import sql

from citydw.transform import run_dbt

pytestmark = pytest.mark.slow

MONTHS = [date(2021, 11, 1), date(2021, 12, 1), date(2022, 1, 1), date(2022, 2, 1), date(2022, 3, 1)]


def marts(conn: psycopg.Connection) -> dict[str, list[str]]:
    """Every table in the marts schema, as the sorted text of its rows."""
    tables = [
        row[0]
        for row in conn.execute(
            "select table_name from information_schema.tables "
            "where table_schema = 'marts' and table_type = 'BASE TABLE' order by table_name"
        )
    ]
    return {
        table: [
            row[0]
            for row in conn.execute(
                sql.SQL("select t::text from marts.{} as t order by 1").format(sql.Identifier(table))
            )
        ]
        for table in tables
    }


def row_versions(conn: psycopg.Connection, table: str) -> dict[date, set[str]]:
    """The xmin (writing transaction) of each month's rows: unchanged when the month was not rebuilt."""
    rows = conn.execute(
        sql.SQL("select report_month, xmin::text from marts.{}").format(sql.Identifier(table))
    ).fetchall()
    versions: dict[date, set[str]] = {}
    for month, xmin in rows:
        versions.setdefault(month, set()).add(xmin)
    return versions


def build(url: str, *args: str) -> None:
    result = run_dbt(["build", *args], url=url)
    assert result.success, "\n".join(result.failures)


def test_an_incremental_build_after_corrections_equals_a_full_refresh(raw_warehouse, warehouse_url, sample):
    conn = raw_warehouse
    for month in MONTHS:
        sample.load_month(conn, month)
    for year in (2020, 2021):
        sample.load_reference_year(conn, year)
    build(warehouse_url)

    first_build = marts(conn)
    assert {
        "fct_project_progress_monthly",
        "fct_bond_spending_monthly",
        "bond_spending_by_district_monthly",
        "bond_city_vs_province_monthly",
        "fct_facility_coverage_monthly",
        "fct_demolition_progress_monthly",
        "fct_spatial_plan_progress_monthly",
        "fct_drainage_zone_progress_monthly",
        "dim_project",
        "dim_facility",
        "fct_facility_register_monthly",
        "dim_community",
    } <= set(first_build)
    bonds_before = row_versions(conn, "fct_bond_spending_monthly")
    registers_before = row_versions(conn, "fct_facility_register_monthly")
    plans_before = row_versions(conn, "fct_spatial_plan_progress_monthly")
    idle_before = dict(
        conn.execute(
            "select report_month, is_idle from marts.fct_bond_spending_monthly "
            "where project_code = '2021-321003-48-01-000002'"
        ).fetchall()
    )
    assert idle_before == {
        date(2021, 11, 1): False,
        date(2021, 12, 1): False,
        date(2022, 1, 1): False,
        date(2022, 2, 1): True,
        date(2022, 3, 1): True,
    }

    # Corrections of past months, as the loader makes them, and a new month.
    sample.load_month(
        conn, date(2022, 1, 1), corrected=True, only={"finance.bond_allocations", "urban_mgmt.parking_lots"}
    )
    sample.load_month(conn, date(2021, 12, 1), corrected=True, only={"expropriation.demolition_progress"})
    sample.load_month(conn, date(2022, 2, 1), corrected=True, only={"drc.major_projects"})
    sample.load_reference_year(conn, 2021, corrected=True)
    conn.execute("delete from raw.nrp__spatial_plans where report_month = '2022-03-01'")
    sample.load_month(conn, date(2022, 4, 1))

    build(warehouse_url)
    incremental = marts(conn)

    # It was incremental: months whose inputs did not change were not rewritten …
    bonds_after = row_versions(conn, "fct_bond_spending_monthly")
    for month in (date(2021, 11, 1), date(2021, 12, 1)):
        assert bonds_after[month] == bonds_before[month], f"{month} of fct_bond_spending_monthly was rebuilt"
    # … while the corrected month and the two that look back at it were.
    for month in (date(2022, 1, 1), date(2022, 2, 1), date(2022, 3, 1)):
        assert bonds_after[month].isdisjoint(bonds_before[month]), f"{month} was not rebuilt"
    # The registers: only January's car parks were corrected.
    registers_after = row_versions(conn, "fct_facility_register_monthly")
    for month in (date(2021, 11, 1), date(2021, 12, 1), date(2022, 2, 1), date(2022, 3, 1)):
        assert registers_after[month] == registers_before[month], f"{month} of the registers was rebuilt"
    assert registers_after[date(2022, 1, 1)].isdisjoint(registers_before[date(2022, 1, 1)])
    plans_after = row_versions(conn, "fct_spatial_plan_progress_monthly")
    assert date(2022, 3, 1) not in plans_after, "a month that vanished from raw is still in the mart"
    assert plans_after[date(2022, 1, 1)] == plans_before[date(2022, 1, 1)]

    # The corrections show where they should.
    idle_after = dict(
        conn.execute(
            "select report_month, is_idle from marts.fct_bond_spending_monthly "
            "where project_code = '2021-321003-48-01-000002'"
        ).fetchall()
    )
    assert idle_after == {
        date(2021, 11, 1): False,
        date(2021, 12, 1): False,
        date(2022, 1, 1): False,
        date(2022, 2, 1): False,
        date(2022, 3, 1): False,
        date(2022, 4, 1): True,
    }
    assert conn.execute(
        "select distinct prev_year_total_demolished::text from marts.fct_demolition_progress_monthly "
        "where district_code = '321002' and report_month >= '2022-01-01'"
    ).fetchall() == [("9.9000",)]
    assert conn.execute(
        "select resident_population::text from marts.fct_facility_coverage_monthly "
        "where district_code = '321002' and facility_type = 'public_parking' and report_month = '2022-01-01'"
    ).fetchone() == ("106000",)
    assert incremental != first_build

    build(warehouse_url, "--full-refresh")
    full_refresh = marts(conn)

    assert set(incremental) == set(full_refresh)
    for table in sorted(full_refresh):
        assert incremental[table] == full_refresh[table], f"marts.{table} differs from a full refresh"


def test_a_new_month_alone_is_appended_to_dim_facility_and_equals_a_full_refresh(raw_warehouse, warehouse_url, sample):
    """dim_facility reads only a build's new month when that is all it adds (macros/latest_state.sql)."""
    conn = raw_warehouse
    for month in MONTHS[:3]:
        sample.load_month(conn, month)
    for year in (2020, 2021):
        sample.load_reference_year(conn, year)
    build(warehouse_url)

    def versions(dataset: str) -> dict[str, str]:
        return dict(
            conn.execute(
                "select facility_id, xmin::text from marts.dim_facility where source_dataset = %s", (dataset,)
            ).fetchall()
        )

    clinics_before = versions("health.clinics")
    assert clinics_before
    # February: no clinics register this time, and one car park leaves the parking ledger.
    new_month = MONTHS[3]
    deliveries = sample.sample_city(new_month)
    del deliveries["health.clinics"]
    lots = deliveries.pop("urban_mgmt.parking_lots")
    for dataset, rows in deliveries.items():
        sample.load_delivery(conn, dataset, new_month, rows)
    sample.load_delivery(conn, "urban_mgmt.parking_lots", new_month, lots[1:])
    build(warehouse_url)
    incremental = marts(conn)

    assert versions("health.clinics") == clinics_before, "a register without a new month was rewritten"
    assert conn.execute(
        "select is_in_latest_register, last_reported_month from marts.dim_facility"
        " where source_dataset = 'urban_mgmt.parking_lots' and facility_id = %s",
        (lots[0]["lot_id"],),
    ).fetchone() == (False, MONTHS[2])
    assert (
        conn.execute(
            "select count(*) from marts.dim_facility where source_dataset = 'urban_mgmt.parking_lots'"
            " and is_in_latest_register and last_reported_month = %s",
            (new_month,),
        ).fetchone()[0]
        == len(lots) - 1
    )

    build(warehouse_url, "--full-refresh")
    full_refresh = marts(conn)
    for table in sorted(full_refresh):
        assert incremental[table] == full_refresh[table], f"marts.{table} differs from a full refresh"
