"""Correction cases and workbooks: what a department is told to fix, and how a correction closes it."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
from builders import drc_project, drc_workbook

from citydw.quality.watch import watch
from citydw.quality.workbooks import HEADER_ROW, OPEN_COLUMNS, neutralise

JULY = date(2022, 7, 1)
SHANGHAI = ZoneInfo("Asia/Shanghai")
MONEY = "总投资（万元）"


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def sheet_rows(path: Path, sheet: str) -> list[dict]:
    book = openpyxl.load_workbook(path)
    cells = list(book[sheet].iter_rows(min_row=HEADER_ROW, values_only=True))
    return [dict(zip(cells[0], row, strict=True)) for row in cells[1:]]


def open_cases(db) -> list[tuple]:
    return db.execute(
        "select source_row, column_name, value, version from meta.correction_cases where closed_at is null order by 1"
    ).fetchall()


def test_quarantined_rows_become_a_chinese_workbook_that_runs_no_formula_and_closes_when_corrected(
    db, drop, citydw_home, httpserver
):
    v1 = [
        drc_project(1),
        drc_project(2, 所在地区="=1+1"),  # a formula where a district belongs
        drc_project(3, **{MONEY: -5}),
        drc_project(4, **{"本月完成投资（万元）": "@待核实"}),
    ]
    drop(JULY, "扬州市2022年1-7月重大项目.xlsx", drc_workbook(v1, JULY), local("2022-08-04 10:00"))

    watch("2022-08-05", "2022-07")

    workbook = Path(citydw_home) / "reports" / "2022-07" / "corrections" / "drc.xlsx"
    rows = sheet_rows(workbook, "待更正")
    assert list(rows[0]) == list(OPEN_COLUMNS)
    by_row = {row["行号"]: row for row in rows}
    assert sorted(by_row) == [5, 6, 7]  # rows of the department's own file (header on row 3)
    district = by_row[5]
    assert district["文件名"] == "扬州市2022年1-7月重大项目.xlsx" and district["版本"] == 1
    assert district["报表"] == "重大项目月度调度表" and district["记录编号"] == "2022-321002-48-01-000002"
    assert district["列名"] == "所在地区" and district["填报值"] == "'=1+1"
    assert district["问题"] == "所在地区须为本市所辖区县" and "广陵区" in district["应为"]
    assert by_row[6]["填报值"] == "'-5" and by_row[7]["填报值"] == "'@待核实"
    assert by_row[6]["更正期限"].date() > date(2022, 8, 5)
    sheet = openpyxl.load_workbook(workbook)["待更正"]
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert "更正清单" in sheet["A1"].value and "市发展和改革委员会" in sheet["A2"].value
    # Printed as a clerk prints it: A4 landscape, all columns on the page width, the header row on every page.
    setup = sheet.page_setup
    assert (int(setup.paperSize), setup.orientation) == (9, "landscape")
    assert sheet.sheet_properties.pageSetUpPr.fitToPage and (setup.fitToWidth or 1, setup.fitToHeight) == (
        1,
        0,
    )  # 1 is the default
    assert sheet.print_title_rows == "$4:$4"

    # The department's notice went to its webhook, once.
    notices = db.execute(
        "select problem_key, channel, recipient, status, subject from meta.alerts "
        "where problem_key like 'corrections:%'"
    ).fetchall()
    assert notices == [("corrections:drc.major_projects:v1", "webhook", "发改委测试回调", "sent",
                        "【更正通知】《重大项目月度调度表》2022年7月数据有3项问题待更正")]  # fmt: skip
    posted = [json.loads(request.get_data()) for request, _ in httpserver.log]
    assert any("第5行" in message["message"] and "所在地区" in message["message"] for message in posted)

    # v2 fixes rows 5 and 6 and still has the unreadable amount, now on row 6.
    v2 = [drc_project(1), drc_project(2), drc_project(4, **{"本月完成投资（万元）": "@待核实"}), drc_project(3)]
    drop(JULY, "v2.xlsx", drc_workbook(v2, JULY), local("2022-08-08 10:00"))
    watch("2022-08-08", "2022-07")

    assert open_cases(db) == [(6, "month_investment", "@待核实", 2)]
    closed = sheet_rows(workbook, "已整改")
    assert sorted(row["行号"] for row in closed) == [5, 6] and {row["整改版本"] for row in closed} == {2}

    # v3 fixes everything: no case stays open, the workbook says so.
    drop(JULY, "v3.xlsx", drc_workbook([drc_project(n) for n in (1, 2, 3, 4)], JULY), local("2022-08-09 10:00"))
    watch("2022-08-09", "2022-07")

    assert open_cases(db) == []
    assert sheet_rows(workbook, "待更正") == []
    assert len(sheet_rows(workbook, "已整改")) == 3
    assert db.execute("select count(*) from meta.alerts where problem_key like 'corrections:%'").fetchone() == (2,)


def test_a_rejected_delivery_is_a_case_until_a_version_is_accepted(db, drop, citydw_home):
    drop(JULY, "june-title.xlsx", drc_workbook([drc_project(1)], date(2022, 6, 1)), local("2022-08-03 10:00"))
    watch("2022-08-04", "2022-07")

    cases = db.execute("select kind, rule, source_row, closed_at from meta.correction_cases").fetchall()
    assert [(kind, source_row, closed) for kind, _rule, source_row, closed in cases] == [("delivery", None, None)]
    assert cases[0][1].startswith("报表被退回：报表标题所写月份须与报送月份一致")
    rows = sheet_rows(Path(citydw_home) / "reports" / "2022-07" / "corrections" / "drc.xlsx", "待更正")
    assert rows[0]["行号"] == "整表" and rows[0]["填报值"] == "2022-06"
    rejected = db.execute(
        "select subject from meta.alerts where problem_key = 'delivery-rejected:drc.major_projects:v1'"
    )
    assert "未通过校验" in rejected.fetchone()[0]

    drop(JULY, "july.xlsx", drc_workbook([drc_project(1)], JULY), local("2022-08-04 11:00"))
    watch("2022-08-05", "2022-07")

    assert db.execute("select count(*) from meta.correction_cases where closed_at is null").fetchone() == (0,)


def test_neutralise_marks_every_formula_trigger():
    assert [neutralise(v) for v in ("=SUM(A1)", "+1", "-5", "@x", "\t=1", "正常", None, 12)] == [
        "'=SUM(A1)", "'+1", "'-5", "'@x", "'\t=1", "正常", "", "12",
    ]  # fmt: skip
