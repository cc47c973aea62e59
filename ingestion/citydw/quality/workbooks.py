"""Correction workbooks: for each department with problems, a list in Chinese of what to fix.

``.citydw/reports/YYYY-MM/corrections/<department>.xlsx`` has two sheets:
待更正 (open cases: the file, the row number in the department's own file,
the column as they headed it, the value they wrote, the rule broken, what
is expected and by when) and 已整改 (cases a later accepted version
closed). A department without any case for the month gets no workbook, and
a stale one from an earlier run is removed.

Everything written comes from the department's own file, so a value like
``=HYPERLINK(...)`` or ``@SUM(...)`` must never become a formula in the
recipient's Excel: every text cell goes through :func:`neutralise`, and the
workbook is written with xlsxwriter's string-to-formula/URL/number
conversions off.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import xlsxwriter

from citydw.city import City
from citydw.display import for_people
from citydw.quality.cases import CaseRow, row_words
from citydw.registry import Department, Registry

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
TEXT_MARKER = "'"
"""Put before a value that a spreadsheet could read as a formula; shown as text, as Excel's own typed apostrophe."""

HEADER_ROW = 4
"""1-based row of the column headers in both sheets (title, unit line and a note above)."""

OPEN_COLUMNS = ("序号", "报表", "文件名", "版本", "行号", "记录编号", "列名", "填报值", "问题", "应为", "更正期限")
CLOSED_COLUMNS = (
    "序号",
    "报表",
    "文件名",
    "版本",
    "行号",
    "记录编号",
    "列名",
    "原填报值",
    "问题",
    "整改版本",
    "销号时间",
)
_WIDTHS = {"报表": 22, "文件名": 36, "记录编号": 26, "列名": 18, "填报值": 22, "原填报值": 22, "问题": 48, "应为": 36}


def neutralise(value: object) -> str:
    """A cell's text that no spreadsheet will evaluate: ``=1+1`` → ``'=1+1``."""
    text = for_people(value) or ""
    return TEXT_MARKER + text if text.startswith(FORMULA_TRIGGERS) else text


def workbook_path(reports_dir: Path, month: date, department: str) -> Path:
    return reports_dir / f"{month:%Y-%m}" / "corrections" / f"{department}.xlsx"


def write_department_workbook(
    path: Path,
    department: Department,
    registry: Registry,
    city: City,
    month: date,
    cases: list[CaseRow],
    now: datetime | None = None,
) -> Path:
    """Write one department's correction workbook for ``month`` to ``path``."""
    titles = {spec.id: spec.title for spec in department.datasets}
    api = {spec.id for spec in department.datasets if spec.channel.kind == "api"}
    path.parent.mkdir(parents=True, exist_ok=True)
    generated = (now or datetime.now(ZoneInfo(city.timezone))).astimezone(ZoneInfo(city.timezone))
    partial = path.with_suffix(".xlsx.partial")
    book = xlsxwriter.Workbook(
        str(partial), {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    )
    formats = {
        "title": book.add_format({"bold": True, "font_size": 14}),
        "note": book.add_format({"font_size": 10, "font_color": "#555555", "text_wrap": True, "valign": "top"}),
        "header": book.add_format(
            {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "vcenter"}
        ),
        "text": book.add_format({"border": 1, "text_wrap": True, "valign": "top"}),
        "number": book.add_format({"border": 1, "valign": "top"}),
        "date": book.add_format({"border": 1, "valign": "top", "num_format": "yyyy-mm-dd"}),
        "time": book.add_format({"border": 1, "valign": "top", "num_format": "yyyy-mm-dd hh:mm"}),
    }
    title = f"{city.name}{month.year}年{month.month}月城建数据报送问题更正清单"
    heading = f"报送单位：{department.name}　　生成时间：{generated:%Y-%m-%d %H:%M}"
    open_cases = [c for c in cases if c.is_open]
    closed_cases = [c for c in cases if not c.is_open]

    sheet = book.add_worksheet("待更正")
    _preamble(
        sheet,
        formats,
        title,
        heading,
        "说明：请按“应为”一栏修改贵单位原报表中对应的行和列，并在更正期限前重新报送整张报表。"
        + (
            "接口报送的数据按“第几条记录”定位（接口返回的记录顺序，从1起）。"
            if api
            else "行号为贵单位报送文件中的行号（与Excel左侧行号一致）。"
        )
        + "重新报送的报表校验通过后，相应问题自动销号。"
        if open_cases
        else "本月报送问题已全部整改，感谢配合。",
        len(OPEN_COLUMNS),
    )
    _header(sheet, formats, OPEN_COLUMNS)
    for index, case in enumerate(open_cases, start=1):
        row = HEADER_ROW + index - 1
        _cells(sheet, row, formats, index, titles.get(case.dataset, case.dataset), case, case.dataset in api)
        sheet.write_string(row, 7, neutralise(case.value), formats["text"])
        sheet.write_string(row, 8, neutralise(case.rule), formats["text"])
        sheet.write_string(row, 9, neutralise(case.expected), formats["text"])
        sheet.write_datetime(row, 10, datetime.combine(case.deadline, datetime.min.time()), formats["date"])
    _finish(sheet, OPEN_COLUMNS, len(open_cases))

    sheet = book.add_worksheet("已整改")
    _preamble(sheet, formats, title, heading, "以下问题已由更正后的报表销号。", len(CLOSED_COLUMNS))
    _header(sheet, formats, CLOSED_COLUMNS)
    for index, case in enumerate(closed_cases, start=1):
        row = HEADER_ROW + index - 1
        _cells(sheet, row, formats, index, titles.get(case.dataset, case.dataset), case, case.dataset in api)
        sheet.write_string(row, 7, neutralise(case.value), formats["text"])
        sheet.write_string(row, 8, neutralise(case.rule), formats["text"])
        if case.closed_by_version is not None:
            sheet.write_number(row, 9, case.closed_by_version, formats["number"])
        if case.closed_at is not None:
            closed = case.closed_at.astimezone(ZoneInfo(city.timezone)).replace(tzinfo=None)
            sheet.write_datetime(row, 10, closed, formats["time"])
    _finish(sheet, CLOSED_COLUMNS, len(closed_cases))
    book.close()
    partial.replace(path)  # readers never see half a workbook
    return path


def _preamble(sheet, formats, title: str, heading: str, note: str, width: int) -> None:
    sheet.merge_range(0, 0, 0, width - 1, neutralise(title), formats["title"])
    sheet.merge_range(1, 0, 1, width - 1, neutralise(heading), formats["note"])
    sheet.merge_range(2, 0, 2, width - 1, neutralise(note), formats["note"])
    sheet.set_row(2, 32)


def _header(sheet, formats, columns: tuple[str, ...]) -> None:
    for column, name in enumerate(columns):
        sheet.write_string(HEADER_ROW - 1, column, name, formats["header"])
        sheet.set_column(column, column, _WIDTHS.get(name, 10))


def _cells(sheet, row: int, formats, index: int, title: str, case: CaseRow, is_api: bool) -> None:
    sheet.write_number(row, 0, index, formats["number"])
    sheet.write_string(row, 1, neutralise(title), formats["text"])
    sheet.write_string(row, 2, neutralise(case.file_name), formats["text"])
    sheet.write_number(row, 3, case.version, formats["number"])
    if case.source_row is not None and not is_api:
        sheet.write_number(row, 4, case.source_row, formats["number"])
    else:  # an API department counts records, not rows
        sheet.write_string(row, 4, row_words(case.source_row, is_api), formats["text"])
    sheet.write_string(row, 5, neutralise(case.row_key), formats["text"])
    sheet.write_string(row, 6, neutralise(case.column), formats["text"])


def _finish(sheet, columns: tuple[str, ...], rows: int) -> None:
    sheet.freeze_panes(HEADER_ROW, 0)
    sheet.autofilter(HEADER_ROW - 1, 0, HEADER_ROW - 1 + rows, len(columns) - 1)
    # Printed as clerks print it: A4 landscape, every column on the page width (as many pages
    # down as the rows need), the header row repeated on each page; a few rows print on one page.
    sheet.set_paper(9)  # A4
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(HEADER_ROW - 1)
    sheet.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    sheet.center_horizontally()
    sheet.set_footer("&C第 &P 页，共 &N 页")


def write_workbooks(
    reports_dir: Path, registry: Registry, city: City, month: date, cases: list[CaseRow]
) -> dict[str, Path]:
    """One workbook per department with cases for ``month``; stale ones of departments without removed."""
    written: dict[str, Path] = {}
    for code, department in sorted(registry.departments.items()):
        ids = {spec.id for spec in department.datasets}
        mine = [case for case in cases if case.dataset in ids]
        path = workbook_path(reports_dir, month, code)
        if mine:
            written[code] = write_department_workbook(path, department, registry, city, month, mine)
        elif path.exists():
            path.unlink()
    return written
