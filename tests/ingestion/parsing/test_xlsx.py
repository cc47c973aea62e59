"""Reading Excel deliveries (citydw.parsing.xlsx) from the fixture files of tests/fixtures/drc/."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Callable
from datetime import date

import pandas as pd
import pytest
import xlsxwriter

from citydw.city import City
from citydw.parsing.model import SOURCE_ROW, DeliveryUnreadable, ParsedDelivery
from citydw.parsing.reader import read_delivery
from citydw.parsing.xlsx import check_zip
from citydw.registry import DatasetSpec

Files = Callable[[str], bytes]
CODES = ["2022-321012-48-01-000001", "2022-321002-48-01-000002", "2021-321084-30-03-000003"]
MONEY = ["total_investment", "annual_plan_investment", "month_investment", "ytd_investment"]


class _StartsWith(str):
    """Equal to any message that starts with this text (the date message lists examples)."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and other.startswith(str(self))

    __hash__ = str.__hash__


STARTS_WITH_DATE = _StartsWith("应为日期")


def read(name: str, files: Files, spec: DatasetSpec, city: City) -> ParsedDelivery:
    return read_delivery(files(name), name, spec, city)


def day(text: str | None) -> pd.Timestamp | None:
    return pd.Timestamp(text) if text else None


def column(parsed: ParsedDelivery, field: str) -> list[object]:
    """A frame column as plain Python values, missing values as None."""
    series = parsed.frame[field]
    return [None if pd.isna(value) else value for value in series.tolist()]


def test_clean_template(fixture_file: Files, drc: DatasetSpec, city: City) -> None:
    parsed = read("clean.xlsx", fixture_file, drc, city)
    assert list(parsed.frame.columns) == [*drc.field_names, SOURCE_ROW]
    assert column(parsed, "project_code") == CODES
    assert column(parsed, "district") == ["321012", "321002", "321084"]
    assert column(parsed, "total_investment") == [120000.0, 45000.5, 8000.0]
    assert column(parsed, "planned_completion_date") == [day("2024-12-31"), day("2023-12-01"), day("2023-06-30")]
    assert column(parsed, "actual_start_date") == [day("2022-02-20"), day("2022-06-01"), None]
    assert column(parsed, "is_bond_funded") == [True, False, False]
    assert column(parsed, "blocker_type") == ["征地拆迁", None, "行政审批"]
    assert column(parsed, SOURCE_ROW) == [2, 3, 4]
    assert parsed.issues == []
    assert parsed.sheet == "Sheet1"
    assert parsed.declared_month is None
    assert parsed.headers["total_investment"] == "总投资（万元）"
    assert parsed.units == dict.fromkeys(MONEY, "万元")
    assert parsed.extra_headers == []


def test_dtypes_are_the_ones_parsed_delivery_promises(fixture_file: Files, drc: DatasetSpec, city: City) -> None:
    dtypes = read("clean.xlsx", fixture_file, drc, city).frame.dtypes
    assert dtypes["project_code"] == pd.StringDtype("pyarrow")
    assert dtypes["district"] == pd.StringDtype("pyarrow")
    assert dtypes["total_investment"] == "float64"
    assert dtypes["planned_start_date"] == "datetime64[ns]"
    assert dtypes["is_bond_funded"] == "boolean"
    assert dtypes[SOURCE_ROW] == "int64"


def test_title_rows_and_a_unit_row(fixture_file: Files, drc: DatasetSpec, city: City) -> None:
    parsed = read("title_and_unit_row.xlsx", fixture_file, drc, city)
    assert parsed.declared_month == date(2022, 7, 1)
    # 单位：亿元 converts every money column whose header has no unit; the one in 万元 stays
    assert column(parsed, "total_investment") == [120000.0, 45000.5]
    assert column(parsed, "annual_plan_investment") == [30000.0, 12000.0]
    assert column(parsed, "month_investment") == [2500.0, 800.0]
    assert column(parsed, "ytd_investment") == [18000.0, 2400.0]
    assert parsed.units == {**dict.fromkeys(MONEY, "亿元"), "ytd_investment": "万元"}
    assert column(parsed, SOURCE_ROW) == [4, 5]
    assert parsed.sheet == "重大项目"


def test_units_written_in_the_headers(fixture_file: Files, drc: DatasetSpec, city: City) -> None:
    parsed = read("header_units.xlsx", fixture_file, drc, city)
    assert parsed.units == {
        "total_investment": "亿元", "annual_plan_investment": "万元", "month_investment": "元", "ytd_investment": "万元"
    }  # fmt: skip
    assert column(parsed, "total_investment") == [120000.0, 45000.5]  # 12 亿元, 4.50005 亿元
    assert column(parsed, "month_investment") == [2500.0, 800.0]  # 25,000,000 元
    assert parsed.headers["project_code"] == "*项目代码"
    assert parsed.headers["annual_plan_investment"] == "年度计划投资\n(万元)"
    assert parsed.declared_month == date(2022, 7, 1)


def test_two_row_header_with_a_merged_group(fixture_file: Files, drc: DatasetSpec, city: City) -> None:
    parsed = read("two_row_header.xlsx", fixture_file, drc, city)
    assert list(parsed.frame.columns) == [*drc.field_names, SOURCE_ROW]
    assert column(parsed, "annual_plan_investment") == [30000.0, 12000.0]
    assert column(parsed, "ytd_investment") == [18000.0, 2400.0]
    assert column(parsed, "project_code") == CODES[:2]
    assert column(parsed, SOURCE_ROW) == [4, 5]
    assert parsed.extra_headers == []
    assert parsed.declared_month == date(2022, 7, 1)


def test_serial_column_totals_blank_rows_and_notes(fixture_file: Files, drc: DatasetSpec, city: City) -> None:
    parsed = read("serial_totals_notes.xlsx", fixture_file, drc, city)
    assert column(parsed, "project_code") == CODES
    assert column(parsed, SOURCE_ROW) == [3, 5, 7]  # rows 2 (合  计) and 6 (小计) dropped; notes end the table
    assert parsed.extra_headers == []  # 序号 is not an extra header
    assert parsed.issues == []


def test_every_way_of_writing_a_value(fixture_file: Files, drc: DatasetSpec, city: City) -> None:
    parsed = read("messy_values.xlsx", fixture_file, drc, city)
    assert column(parsed, "project_name")[0] == "江都区沿江高等级公路"
    assert column(parsed, "district") == ["321012", "321002", "321084", "开发区"]
    assert column(parsed, "total_investment") == [120000.0, None, 8000.25, None]
    assert column(parsed, "annual_plan_investment") == [30000.0, None, 0.0, None]
    assert column(parsed, "month_investment") == [2500.0, None, 0.0, None]
    assert column(parsed, "ytd_investment") == [18000.0, -12.5, None, None]
    assert column(parsed, "planned_start_date") == [day("2022-01-15"), day("2022-05-01"), day("2022-03-15"), None]
    assert column(parsed, "actual_start_date") == [day("2022-02-20"), day("2022-06-01"), day("2022-03-15"), None]
    assert column(parsed, "planned_completion_date") == [day("2024-12-31"), day("2023-12-31"), day("2022-03-15"), None]
    assert column(parsed, "progress_note") == ["=1+1", "无", "前期工作", None]
    assert column(parsed, "blocker_note") == ["'; drop table x;--", "无", "环评尚未批复", None]
    assert column(parsed, "is_bond_funded") == [True, False, True, None]
    issues = [(i.source_row, i.field, i.header, i.value, i.rule_id, i.message) for i in parsed.issues]
    assert issues == [
        (5, "total_investment", "总投资（万元）", "约5亿", "parse.decimal", "应为数字（万元）"),
        (5, "annual_plan_investment", "年度计划投资（万元）", "1.2.3", "parse.decimal", "应为数字（万元）"),
        (5, "month_investment", "本月完成投资（万元）", "12,34", "parse.decimal", "应为数字（万元）"),
        (5, "ytd_investment", "年度累计完成投资（万元）", "85%", "parse.decimal", "应为数字（万元）"),
        (5, "planned_start_date", "计划开工时间", "2022-02-30", "parse.date", STARTS_WITH_DATE),
        (5, "actual_start_date", "实际开工时间", "明年", "parse.date", STARTS_WITH_DATE),
        (5, "planned_completion_date", "计划竣工时间", "2022年13月", "parse.date", STARTS_WITH_DATE),
        (5, "is_bond_funded", "是否专项债项目", "也许", "parse.boolean", "应为“是”或“否”"),
    ]


def test_headers_that_carry_the_month(fixture_file: Files, drc: DatasetSpec, city: City) -> None:
    parsed = read("month_headers.xlsx", fixture_file, drc, city)
    assert parsed.headers["month_investment"] == "7月份完成投资"
    assert parsed.headers["ytd_investment"] == "1-7月累计完成投资（万元）"
    assert parsed.headers["annual_plan_investment"] == "年度计划完成投资"
    assert column(parsed, "month_investment") == [2500.0]


def test_a_missing_column_is_absent_not_empty(fixture_file: Files, drc: DatasetSpec, city: City) -> None:
    parsed = read("missing_project_code.xlsx", fixture_file, drc, city)
    assert "project_code" not in parsed.frame.columns
    assert "project_code" not in parsed.headers
    assert parsed.extra_headers == ["备注"]
    assert column(parsed, "project_name") == ["江都区沿江高等级公路", "广陵新城污水处理厂提标改造"]


def test_the_table_may_be_on_a_later_sheet(fixture_file: Files, drc: DatasetSpec, city: City) -> None:
    parsed = read("second_sheet.xlsx", fixture_file, drc, city)
    assert parsed.sheet == "7月"
    assert column(parsed, "project_code") == [CODES[2]]


def test_a_clerks_real_report(fixture_file: Files, drc: DatasetSpec, city: City) -> None:
    parsed = read("clerk_report.xlsx", fixture_file, drc, city)
    assert parsed.sheet == "7月"
    assert parsed.declared_month == date(2022, 7, 1)
    assert parsed.extra_headers == ["备注"]
    assert parsed.headers["is_bond_funded"] == "是否专项债\n项目"
    assert parsed.headers["month_investment"] == "7月完成投资"
    assert parsed.units == {**dict.fromkeys(MONEY, "亿元"), "ytd_investment": "万元"}
    assert column(parsed, SOURCE_ROW) == [7, 8, 9, 10]
    assert column(parsed, "project_code") == [*CODES, "2022-321000-48-01-000004"]
    assert column(parsed, "district") == ["321012", "321002", "321084", "开发区"]
    assert column(parsed, "total_investment") == [120000.0, 45000.5, 8000.0, None]
    assert column(parsed, "annual_plan_investment") == [30000.0, 12000.0, 0.0, 5000.0]
    assert column(parsed, "month_investment") == [2500.0, None, 0.0, 500.0]
    assert column(parsed, "ytd_investment") == [18000.0, 2400.0, 0.0, 500.0]
    assert column(parsed, "planned_start_date") == [day("2022-01-15"), day("2022-05-01"), day("2022-10-01"), None]
    assert column(parsed, "actual_start_date") == [day("2022-02-20"), day("2022-06-01"), None, day("2022-04-01")]
    assert column(parsed, "planned_completion_date") == [day("2024-12-01"), day("2023-12-01"), day("2023-06-30"), None]
    assert column(parsed, "progress_note")[2] == "=前期工作"
    assert column(parsed, "is_bond_funded") == [True, False, False, True]
    assert [(i.source_row, i.field, i.value, i.message) for i in parsed.issues] == [
        (10, "total_investment", "待定", "应为数字（亿元）"),
        (10, "planned_start_date", "2022-13-01", STARTS_WITH_DATE),
    ]


# --- files that are rejected as a whole ------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.xlsx", r"empty\.xlsx：文件为空"),
        ("empty_sheet.xlsx", r"empty_sheet\.xlsx：工作簿中没有数据"),
        ("not_excel_pdf.xlsx", r"not_excel_pdf\.xlsx：不是有效的Excel文件（看起来是PDF文件）"),
        ("not_excel_text.xlsx", r"not_excel_text\.xlsx：不是有效的Excel文件（看起来是文本文件"),
        ("truncated.xlsx", r"truncated\.xlsx：Excel文件已损坏或不完整"),
        ("zip_bomb.xlsx", r"zip_bomb\.xlsx：文件解压后超过200 MB"),
        (
            "no_header.xlsx",
            r"no_header\.xlsx：未找到表头（已查找工作表：Sheet1；工作表“Sheet1”见到的表头：债券编码、债券名称、分配金额\(万元\)）"
            r".*项目代码、项目名称",
        ),
        ("duplicate_column.xlsx", r"duplicate_column\.xlsx：第G列“总投资（万元）”和第R列“总投资（亿元）”"),
        ("wrong_unit.xlsx", r"wrong_unit\.xlsx：列“总投资（亩）”的单位“亩”无法换算"),
    ],
)
def test_unreadable_files(fixture_file: Files, drc: DatasetSpec, city: City, name: str, message: str) -> None:
    with pytest.raises(DeliveryUnreadable, match=message):
        read(name, fixture_file, drc, city)


def test_zip_bomb_is_refused_before_anything_is_inflated(fixture_file: Files) -> None:
    data = fixture_file("zip_bomb.xlsx")
    assert len(data) < 300_000
    with pytest.raises(DeliveryUnreadable, match="疑似压缩炸弹"):
        check_zip(data, "zip_bomb.xlsx")


def test_a_part_packed_a_thousand_to_one_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("xl/workbook.xml", b"<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (20 * 1024 * 1024))
    with pytest.raises(DeliveryUnreadable, match="压缩比异常"):
        check_zip(buffer.getvalue(), "ratio.xlsx")


def test_a_corrupt_part_is_refused(fixture_file: Files) -> None:
    data = bytearray(fixture_file("clean.xlsx"))
    start = data.index(b"xl/worksheets/sheet1.xml") + 200  # inside the sheet's compressed data
    data[start : start + 40] = bytes(40)
    with pytest.raises(DeliveryUnreadable, match="已损坏或不完整"):
        check_zip(bytes(data), "corrupt.xlsx")


def test_a_zip_that_is_not_a_workbook() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", b"<document/>")
    with pytest.raises(DeliveryUnreadable, match="不是有效的Excel文件"):
        check_zip(buffer.getvalue(), "letter.xlsx")


# --- percent cells (a template DRC does not have) -------------------------------------------


def test_percent_formatted_cells_read_as_the_clerk_sees_them(gauge: DatasetSpec, city: City) -> None:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer)
    sheet = book.add_worksheet("片区")
    percent = book.add_format({"num_format": "0.0%"})
    sheet.write_row(
        0, 0, ["片区编号", "区划代码", "户数", "完成比例（%）", "征地面积（公顷）", "建筑面积（平方米）", "投用时间"]
    )
    sheet.write_row(1, 0, ["PQ-01", "321012"])
    sheet.write_number(1, 2, 120)
    sheet.write_number(1, 3, 0.852, percent)
    sheet.write_number(1, 4, 2)
    sheet.write_number(1, 5, 15000)
    sheet.write_datetime(1, 6, dt.datetime(2023, 6, 30), book.add_format({"num_format": "yyyy年m月d日"}))
    sheet.write_row(2, 0, ["PQ-02", 321084.0, "12.5", "85.2%", "—", "", "2023.06"])
    book.close()
    parsed = read_delivery(buffer.getvalue(), "片区.xlsx", gauge, city)
    assert column(parsed, "completion_pct") == [85.2, 85.2]
    assert column(parsed, "district_code") == ["321012", "321084"]
    assert column(parsed, "households") == [120, None]
    assert column(parsed, "land") == [30.0, None]  # 2 公顷 = 30 亩
    assert column(parsed, "floor_area") == [1.5, None]  # 15000 平方米 = 1.5 万平方米
    assert column(parsed, "open_date") == [day("2023-06-30"), day("2023-06-01")]
    assert parsed.frame["households"].dtype == "Int64"
    assert [(i.field, i.value, i.rule_id, i.message) for i in parsed.issues] == [
        ("households", "12.5", "parse.integer", "应为整数")
    ]
