"""Reports in the habits real clerks have (issue 16, layout cases of issue 18), ingested into PostgreSQL.

Each fixture under tests/fixtures/<department>/ is written by
tests/fixtures/make_habit_fixtures.py in one habit; each test asserts what
landed in ``raw`` (or that nothing did, and why, in Chinese).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from builders import drc_project, drc_workbook

from citydw.orchestration import ingest_dataset

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
AUGUST = date(2022, 8, 1)
DRC = "drc.major_projects"


def quarantined(db, delivery_id: int) -> list[tuple]:
    return db.execute(
        "select source_row, rule_id, value from meta.quarantine where delivery_id = %s and severity = 'row' "
        "order by source_row",
        (delivery_id,),
    ).fetchall()


def drc_rows(db, month: date = AUGUST) -> list[tuple]:
    return db.execute(
        """
        select project_code, district, total_investment, annual_plan_investment, month_investment, ytd_investment,
               category, blocker_type, is_bond_funded
        from raw.drc__major_projects where report_month = %s order by project_code
        """,
        (month,),
    ).fetchall()


def test_a_demolition_report_headed_2022年度拆迁目标_with_units_spelt_as_clerks_do_loads_whole(db):
    result = ingest_dataset(
        "expropriation.demolition_progress", "2022-08", file=str(FIXTURES / "expropriation/year_prefixed_target.xlsx")
    )

    assert (result.status, result.rows_loaded, result.rows_quarantined) == ("accepted", 6, 0), result.summary()
    rows = db.execute(
        """
        select district, annual_target, month_demolished, ytd_demolished, month_households, month_land, ytd_land
        from raw.expropriation__demolition_progress where report_month = %s order by district
        """,
        (AUGUST,),
    ).fetchall()
    assert rows[0] == ("321002", Decimal("30.5"), Decimal("1.2"), Decimal("18.2"), 36, Decimal("12.5"), Decimal("60"))
    # 8月拆迁面积（㎡） 2,500 ㎡ is 0.25 万平方米; 1-8月累计征地面积（公顷） 1.0 公顷 is 15 亩.
    assert rows[4] == ("321081", Decimal("10"), Decimal("0.25"), Decimal("6.8"), 5, Decimal("3"), Decimal("15"))
    assert quarantined(db, result.delivery_id) == []


def test_a_population_csv_with_district_subtotals_and_a_数据来源_footnote_loads_only_streets(db):
    result = ingest_dataset("stats.population", "2023-03", file=str(FIXTURES / "stats/population_footnote.csv"))

    assert (result.status, result.rows_loaded, result.rows_quarantined) == ("accepted", 4, 0), result.summary()
    by_district = db.execute(
        "select district_code, count(*), sum(residents) from raw.stats__population group by 1 order by 1"
    ).fetchall()
    assert by_district == [("321002", 2, 105310), ("321012", 2, 378924)]  # not doubled by the 小计 rows
    assert quarantined(db, result.delivery_id) == []


def test_a_drc_report_with_fill_date_sections_merged_districts_on_its_second_sheet_loads_every_project(db):
    result = ingest_dataset(DRC, "2022-08", file=str(FIXTURES / "drc/fill_date_sections_merged.xlsx"))

    assert (result.status, result.rows_loaded, result.rows_quarantined) == ("accepted", 7, 0), result.summary()
    rows = drc_rows(db)
    # 所在地区 merged over 江都区's three projects and 高邮市's two: every row has its district.
    assert [(code[-1], district) for code, district, *_ in rows] == [
        ("1", "321012"), ("2", "321012"), ("3", "321012"), ("4", "321002"),
        ("5", "321084"), ("6", "321084"), ("7", "321081"),
    ]  # fmt: skip
    assert [row[6] for row in rows] == ["基础设施"] * 4 + ["生态环境"] * 3
    # The headers carrying their allowed values are matched: the columns are loaded, not NULL.
    assert {row[8] for row in rows} == {False}
    assert db.execute(
        "select count(*) from raw.drc__major_projects where blocker_type is null and report_month = %s", (AUGUST,)
    ).fetchone() == (7,)  # empty in the file, and a column that exists
    assert quarantined(db, result.delivery_id) == []
    # The 合计（7个） row is the table's total and agrees with the rows; the 小计 rows are not projects.
    assert db.execute(
        "select success from meta.validation_results where delivery_id = %s and rule_id like %s",
        (result.delivery_id, "%total_row_matches%"),
    ).fetchall() == [(True,)]


def test_a_说明_line_in_the_middle_of_the_table_loses_no_project(db):
    result = ingest_dataset(DRC, "2022-08", file=str(FIXTURES / "drc/note_mid_table.xlsx"))

    assert (result.status, result.rows_loaded, result.rows_quarantined) == ("accepted", 12, 0), result.summary()
    codes = [row[0] for row in drc_rows(db)]
    assert codes == [f"2022-321002-48-01-{number:06d}" for number in range(1, 13)]  # not the row under 注：


def test_a_workbook_of_month_sheets_gives_the_report_months_sheet(db):
    result = ingest_dataset(DRC, "2022-08", file=str(FIXTURES / "drc/month_sheets.xlsx"))

    assert (result.status, result.rows_loaded) == ("accepted", 2), result.summary()
    assert {row[5] for row in drc_rows(db)} == {Decimal("1600")}  # the "8月" sheet, not July's first one


def test_a_header_repeated_above_a_second_page_is_not_a_project(db):
    result = ingest_dataset(DRC, "2022-08", file=str(FIXTURES / "drc/repeated_header.xlsx"))

    assert (result.status, result.rows_loaded, result.rows_quarantined) == ("accepted", 4, 0), result.summary()
    assert [row[1] for row in drc_rows(db)] == ["321002", "321002", "321003", "321003"]


def test_a_unit_written_only_in_the_group_header_converts_the_columns_under_it(db):
    result = ingest_dataset(DRC, "2022-08", file=str(FIXTURES / "drc/unit_in_group_header.xlsx"))

    assert (result.status, result.rows_loaded, result.rows_quarantined) == ("accepted", 2, 0), result.summary()
    assert [row[2:6] for row in drc_rows(db)] == [
        (Decimal("60000"), Decimal("42000"), Decimal("3500"), Decimal("28000")),  # 4.2 亿元 is 42,000 万元
        (Decimal("60000"), Decimal("12000"), Decimal("800"), Decimal("6400")),
    ]


def test_last_months_cumulative_beside_this_months_takes_the_one_naming_the_report_month(db):
    result = ingest_dataset(DRC, "2022-08", file=str(FIXTURES / "drc/cumulative_two_months.xlsx"))

    assert (result.status, result.rows_loaded) == ("accepted", 2), result.summary()
    assert {row[5] for row in drc_rows(db)} == {Decimal("1600")}  # 1-8月, not 1-7月's 1,400


def test_an_excel_tables_totals_row_is_the_total_not_a_project(db):
    result = ingest_dataset(DRC, "2022-08", file=str(FIXTURES / "drc/excel_table_totals.xlsx"))

    assert (result.status, result.rows_loaded, result.rows_quarantined) == ("accepted", 3, 0), result.summary()
    assert quarantined(db, result.delivery_id) == []


def test_an_unknown_unit_is_named_as_such_with_the_sheet_read(db):
    result = ingest_dataset(DRC, "2022-08", file=str(FIXTURES / "drc/unknown_unit.xlsx"))

    assert result.status == "rejected"
    assert "工作表“8月”" in result.reason
    assert "单位“美元”无法识别" in result.reason and "万元" in result.reason
    assert "缺少" not in result.reason
    assert db.execute("select count(*) from raw.drc__major_projects").fetchone() == (0,)


def test_a_missing_column_rejection_names_the_sheet_read_and_the_headers_seen(db):
    result = ingest_dataset(DRC, "2022-08", file=str(FIXTURES / "drc/misspelt_header.xlsx"))

    assert result.status == "rejected"
    assert "项目代码" in result.reason
    assert "工作表“8月”" in result.reason and "见到的表头：" in result.reason
    assert "其中不是模板列的：项目编码" in result.reason


def test_a_header_below_row_50_is_not_called_an_empty_workbook(db):
    result = ingest_dataset(DRC, "2022-08", file=str(FIXTURES / "drc/header_below_row_50.xlsx"))

    assert result.status == "rejected"
    assert "所有工作表都是空的" not in result.reason
    assert "第60行" in result.reason


def test_excels_unicode_text_is_read_as_a_tab_separated_file(db):
    result = ingest_dataset("water.water_projects", "2022-08", file=str(FIXTURES / "drc/unicode_text.txt"))

    assert (result.status, result.rows_loaded, result.rows_quarantined) == ("accepted", 2, 0), result.summary()
    assert db.execute(
        "select project_code, district, ytd_investment from raw.water__water_projects order by project_code"
    ).fetchall() == [
        ("2022-321002-48-01-000001", "321084", Decimal("1600")),
        ("2022-321002-48-01-000002", "321002", Decimal("1600")),
    ]


def test_one_saved_page_of_an_api_feed_is_not_the_whole_register(db):
    result = ingest_dataset(
        "transport.transport_projects", "2022-08", file=str(FIXTURES / "transport/one_saved_page.json")
    )

    assert result.status == "rejected"
    assert "共有11条" in result.reason and "本页4条" in result.reason
    assert db.execute("select count(*) from raw.transport__transport_projects").fetchone() == (0,)


def test_dates_as_epoch_milliseconds_are_the_day_in_the_city(db):
    result = ingest_dataset(
        "transport.transport_projects", "2022-08", file=str(FIXTURES / "transport/epoch_millisecond_dates.json")
    )

    assert (result.status, result.rows_loaded, result.rows_quarantined) == ("accepted", 11, 0), result.summary()
    assert db.execute(
        "select distinct planned_start_date, actual_start_date from raw.transport__transport_projects"
    ).fetchall() == [(date(2022, 3, 15), date(2022, 3, 15))]


def test_a_delivery_named_in_upper_case_is_seen_by_the_file_drop(db, citydw_home):
    folder = Path(citydw_home) / "drop" / "drc" / "major_projects" / "2022-07"
    folder.mkdir(parents=True)
    (folder / "重大项目调度表7月.XLSX").write_bytes(drc_workbook([drc_project(1), drc_project(2)], date(2022, 7, 1)))

    result = ingest_dataset(DRC, "2022-07")

    assert (result.status, result.file_name, result.rows_loaded) == ("accepted", "重大项目调度表7月.XLSX", 2)


def water_rows(db) -> list[tuple]:
    return db.execute("select report_month, count(*) from raw.water__water_projects group by 1 order by 1").fetchall()


def test_a_drc_workbook_sent_as_waters_report_is_refused_naming_what_gave_it_away(db):
    july = ingest_dataset("water.water_projects", "2022-07", file=str(FIXTURES / "water/july_12_projects.csv"))
    assert (july.status, july.rows_loaded) == ("accepted", 12), july.summary()

    result = ingest_dataset("water.water_projects", "2022-08", file=str(FIXTURES / "drc/august_198_projects.xlsx"))

    assert result.status == "rejected"
    assert "不像是《水利重大项目月度调度表》" in result.reason
    assert "市发展和改革委员会" in result.reason  # the 填报单位 above the table
    assert "本月198行，是上月12行的16.5倍" in result.reason, result.reason
    assert water_rows(db) == [(date(2022, 7, 1), 12)]


def test_waters_own_next_month_with_a_new_project_is_accepted(db):
    ingest_dataset("water.water_projects", "2022-07", file=str(FIXTURES / "water/july_12_projects.csv"))

    result = ingest_dataset("water.water_projects", "2022-08", file=str(FIXTURES / "water/august_13_projects.csv"))

    assert (result.status, result.rows_loaded) == ("accepted", 13), result.summary()
    assert water_rows(db) == [(date(2022, 7, 1), 12), (date(2022, 8, 1), 13)]
