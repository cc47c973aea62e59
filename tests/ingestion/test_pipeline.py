"""The ingest pipeline against a real PostgreSQL: versions, corrections, rejections, quarantine."""

from __future__ import annotations

from datetime import date

import pytest
from builders import drc_project, drc_workbook

from citydw.orchestration import ingest_dataset

JULY = date(2022, 7, 1)
DATASET = "drc.major_projects"


@pytest.fixture
def drop(tmp_path):
    def write(name: str, data: bytes) -> str:
        path = tmp_path / name
        path.write_bytes(data)
        return str(path)

    return write


def raw_rows(db, month=JULY):
    return db.execute(
        """
        select project_code, project_name, category, district, status, total_investment, ytd_investment,
               actual_start_date, is_bond_funded, delivery_id
        from raw.drc__major_projects where report_month = %s order by project_code
        """,
        (month,),
    ).fetchall()


def versions(db, month=JULY):
    return db.execute(
        "select version, status from meta.deliveries where dataset = %s and report_month = %s order by version",
        (DATASET, month),
    ).fetchall()


def test_a_clean_report_is_accepted_with_every_value_canonical(db, drop):
    rows = [drc_project(1), drc_project(2, 所在地区="江都", 项目状态="储备", 实际开工时间=None)]
    result = ingest_dataset(DATASET, "2022-07", file=drop("july.xlsx", drc_workbook(rows, JULY)))

    assert (result.status, result.version, result.rows_loaded, result.rows_quarantined) == ("accepted", 1, 2, 0)
    loaded = raw_rows(db)
    assert [r[:5] for r in loaded] == [
        ("2022-321002-48-01-000001", "扬州市第1号道路改造工程", "基础设施", "321002", "在建"),
        ("2022-321002-48-01-000002", "扬州市第2号道路改造工程", "基础设施", "321012", "储备"),
    ]
    assert loaded[0][5] == 10001 and loaded[0][6] == 1400
    assert loaded[0][7] == date(2022, 1, 20) and loaded[1][7] is None
    assert loaded[0][8] is False
    assert versions(db) == [(1, "accepted")]


def test_the_same_bytes_again_change_nothing(db, drop):
    path = drop("july.xlsx", drc_workbook([drc_project(1), drc_project(2)], JULY))
    ingest_dataset(DATASET, "2022-07", file=path)
    before = db.execute("select *, xmin::text from raw.drc__major_projects order by source_row").fetchall()

    again = ingest_dataset(DATASET, "2022-07", file=path)

    assert again.status == "unchanged"
    assert db.execute("select *, xmin::text from raw.drc__major_projects order by source_row").fetchall() == before
    assert versions(db) == [(1, "accepted")]


def test_a_correction_supersedes_the_accepted_version_and_keeps_history(db, drop):
    ingest_dataset(DATASET, "2022-07", file=drop("v1.xlsx", drc_workbook([drc_project(1), drc_project(2)], JULY)))
    corrected = [drc_project(1, **{"累计完成投资（万元）": 1500}), drc_project(3)]

    result = ingest_dataset(DATASET, "2022-07", file=drop("v2.xlsx", drc_workbook(corrected, JULY)))

    assert (result.status, result.version) == ("accepted", 2)
    assert versions(db) == [(1, "superseded"), (2, "accepted")]
    loaded = raw_rows(db)
    assert [(r[0][-6:], r[6]) for r in loaded] == [("000001", 1500), ("000003", 1400)]
    assert {r[9] for r in loaded} == {result.delivery_id}


def test_a_report_without_project_code_is_rejected_and_changes_nothing(db, drop):
    ingest_dataset(DATASET, "2022-07", file=drop("v1.xlsx", drc_workbook([drc_project(1)], JULY)))
    before = raw_rows(db)

    result = ingest_dataset(
        DATASET, "2022-07", file=drop("no-code.xlsx", drc_workbook([drc_project(2)], JULY, omit=("项目代码",)))
    )

    assert result.status == "rejected"
    assert "项目代码" in result.reason
    assert result.file_name == "no-code.xlsx" and "no-code.xlsx" in result.summary()
    assert raw_rows(db) == before
    assert versions(db) == [(1, "accepted"), (2, "rejected")]


def test_a_title_naming_another_month_is_rejected(db, drop):
    result = ingest_dataset(
        DATASET, "2022-07", file=drop("june.xlsx", drc_workbook([drc_project(1)], date(2022, 6, 1)))
    )

    assert result.status == "rejected"
    assert "月份" in result.reason and "2022-06" in result.reason
    assert db.execute("select count(*) from raw.drc__major_projects").fetchone() == (0,)


def test_bad_rows_are_quarantined_with_row_column_rule_and_value(db, drop):
    rows = [
        drc_project(1),
        drc_project(2),
        drc_project(2, 项目名称="重复代码的项目"),  # duplicate project code
        drc_project(4, **{"总投资（万元）": -5}),  # negative amount
        drc_project(5, 所在地区="南京市玄武区"),  # not a district of the city
        drc_project(6, **{"本月完成投资（万元）": "待核实"}),  # not a number
    ]
    result = ingest_dataset(DATASET, "2022-07", file=drop("july.xlsx", drc_workbook(rows, JULY)))

    assert result.status == "accepted"
    assert [r[0][-6:] for r in raw_rows(db)] == ["000001"]
    quarantined = db.execute(
        "select source_row, column_name, value, rule_id from meta.quarantine order by source_row, rule_id"
    ).fetchall()
    # Rows 4 and 5 of the sheet hold the duplicate code (header is row 3, data starts at row 4).
    assert (
        5,
        "project_code",
        "2022-321002-48-01-000002",
        "expect_column_values_to_be_unique:project_code",
    ) in quarantined
    assert (
        6,
        "project_code",
        "2022-321002-48-01-000002",
        "expect_column_values_to_be_unique:project_code",
    ) in quarantined
    assert (7, "total_investment", "-5", "expect_column_values_to_be_between:total_investment") in quarantined
    assert (8, "district", "南京市玄武区", "expect_column_values_to_be_in_set:district") in quarantined
    assert (9, "month_investment", "待核实", "parse.decimal") in quarantined
    assert result.rows_quarantined == 5
    delivery = db.execute("select rows_received, rows_loaded, rows_quarantined from meta.deliveries").fetchone()
    assert delivery == (6, 1, 5)
    described = [p.describe() for p in result.problems if p.source_row == 8]
    assert described and "第8行" in described[0] and "所在地区" in described[0] and "南京市玄武区" in described[0]


def test_a_report_whose_rows_all_fail_is_rejected(db, drop):
    rows = [drc_project(n, 所在地区="外地", **{"总投资（万元）": "不详"}) for n in (1, 2, 3)]
    result = ingest_dataset(DATASET, "2022-07", file=drop("bad.xlsx", drc_workbook(rows, JULY)))

    assert result.status == "rejected" and "3" in result.reason
    assert db.execute("select count(*) from raw.drc__major_projects").fetchone() == (0,)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("report.xlsx", b"%PDF-1.4 not a workbook", "report.xlsx"),
        ("empty.xlsx", b"", "empty.xlsx"),
    ],
)
def test_unreadable_files_are_rejected_with_a_message_naming_the_file(db, drop, name, data, message):
    result = ingest_dataset(DATASET, "2022-07", file=drop(name, data))

    assert result.status == "rejected"
    assert message in result.reason
    assert versions(db) == [(1, "rejected")]


def test_a_missing_delivery_is_recorded_not_raised(db):
    result = ingest_dataset(DATASET, "2022-07")

    assert result.status == "missing"
    assert db.execute("select outcome from meta.fetch_attempts").fetchall() == [("missing",)]
