"""``citydw load-history`` leaves the marts as month-by-month runs of the monthly DAG would.

Two years of the sample city (2021-01 … 2022-12, the generator's deliveries
with their defects, corrections and late files, the API departments served
as in ``make demo``) go, each on a fresh database of its own:

(a) month by month, through what the DAG's tasks call for each month in
    order: every dataset's ingest (``ingest_month``), the build as of the
    month's scheduled run day, then the report's ledger step (schedule and
    correction cases, ``prepare_month``); the report's own rebuild of the
    quality marts is made once, after the last month, as of its day (it
    rebuilds what the monthly build built, from the ledger just refreshed);
(b) through the bulk path, two workers.

The projects' status history (the dbt snapshot behind ``dim_project``) is
what tells them apart if the bulk path builds only once: it is compared
through ``dim_project``.

Every table and view of the marts schema must then be equal, row for row and
column for column, save the columns that say *when* a version was decided
(the wall clock of the run that decided it, different between any two runs).
About 8 minutes on 2 cores: 24 monthly builds are most of it.
"""

from __future__ import annotations

from datetime import date

import psycopg
import pytest
from psycopg import sql

from citydw.city import load_city
from citydw.demo.generate import generate
from citydw.demo.run import demo_apis
from citydw.history_load import dataset_groups, load_history, scheduled_run_day
from citydw.months import month_range
from citydw.orchestration import ingest_month
from citydw.quality.report import QUALITY_MARTS, prepare_month
from citydw.registry import load_registry
from citydw.settings import get_settings
from citydw.transform import build, run_dbt
from citydw.warehouse.connect import connect

FIRST, LAST = date(2021, 1, 1), date(2022, 12, 1)

WALL_CLOCK_COLUMNS = {"accepted_at", "certified_at", "waived_at"}
"""When a version was accepted (``meta.deliveries.decided_at``, now() at the decision) or waived."""


def marts(url: str) -> dict[str, list[tuple]]:
    """Every relation of the marts schema: its rows, every column but the wall-clock ones, ordered."""
    with psycopg.connect(url) as conn:
        relations = [
            row[0]
            for row in conn.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
            )
        ]
        found = {}
        for relation in relations:
            columns = [
                row[0]
                for row in conn.execute(
                    "select column_name from information_schema.columns"
                    " where table_schema = 'marts' and table_name = %s order by ordinal_position",
                    (relation,),
                )
                if row[0] not in WALL_CLOCK_COLUMNS
            ]
            listed = sql.SQL(", ").join(sql.Identifier(column) for column in columns)
            found[relation] = conn.execute(
                sql.SQL("select {columns} from marts.{relation} order by {columns}").format(
                    columns=listed, relation=sql.Identifier(relation)
                )
            ).fetchall()
    return found


def first_difference(expected: list[tuple], loaded: list[tuple]) -> str:
    """Row counts and the first pair of rows that differ, for the failure message."""
    for position, (want, got) in enumerate(zip(expected, loaded, strict=False)):
        if want != got:
            return f"{len(expected)} vs {len(loaded)} rows; row {position}: month by month {want}, bulk {got}"
    return f"{len(expected)} vs {len(loaded)} rows"


def month_by_month(url: str) -> None:
    """What the monthly DAG and the report DAG do for each month, in order (module doc, (a))."""
    settings = get_settings()
    registry, city = load_registry(settings.registry_path), load_city(settings.city_dir)
    for month in month_range(FIRST, LAST):
        ingest_month(f"{month:%Y-%m}", url=url)
        outcome = build(url=url, as_of=scheduled_run_day(month))
        assert outcome.success, outcome.failures
        with connect(url, autocommit=True) as conn:
            prepare_month(conn, registry, city, month, scheduled_run_day(month))
    outcome = run_dbt(["build", "--select", QUALITY_MARTS], url=url, as_of=scheduled_run_day(LAST))
    assert outcome.success, outcome.failures


def use_archive(monkeypatch: pytest.MonkeyPatch, folder) -> None:
    monkeypatch.setenv("CITYDW_ARCHIVE_URL", str(folder))
    get_settings.cache_clear()


@pytest.mark.slow
def test_load_history_gives_the_marts_of_month_by_month_runs(new_database, citydw_home, monkeypatch):
    settings = get_settings()
    generate(str(settings.drop_root), FIRST, LAST, seed=2022)
    with new_database() as reference_url, new_database() as bulk_url, demo_apis(settings):
        use_archive(monkeypatch, citydw_home / "archive-month-by-month")
        month_by_month(reference_url)
        use_archive(monkeypatch, citydw_home / "archive-bulk")
        outcome = load_history(FIRST, LAST, workers=2, url=bulk_url)
        assert outcome.succeeded, (outcome.errors, outcome.build_failures)

        expected, loaded = marts(reference_url), marts(bulk_url)
        assert sorted(loaded) == sorted(expected)
        certified = [row for row in expected["dim_report_month"] if row[4]]
        assert certified, "no month certified: the comparison would prove little"
        empty = [relation for relation, rows in expected.items() if not rows]
        assert not empty, f"empty after two years, the comparison would prove little: {empty}"
        differing = {
            relation: first_difference(rows, loaded[relation])
            for relation, rows in expected.items()
            if loaded[relation] != rows
        }
        assert not differing, f"marts that differ from month-by-month runs: {differing}"


def test_datasets_whose_rules_read_each_other_are_ingested_by_one_worker():
    settings = get_settings()
    groups = dataset_groups(load_registry(settings.registry_path), settings.expectations_path)
    together = next(group for group in groups if "finance.bond_allocations" in group)
    # known_in_dataset reads DRC's projects; bulletin_agrees_with_bonds reads the bulletin, and it the bonds.
    assert together == ["drc.major_projects", "finance.bond_allocations", "finance.province_bond_bulletin"]
    assert sorted(d for group in groups for d in group) == sorted(load_registry(settings.registry_path).datasets)
