"""Small builders for delivery files in tests: a clean DRC report with exactly the rows given.

The messy real-world layouts are covered by the fixture files under
``tests/fixtures/drc/``; these builders make the many small variations the
pipeline tests need (a correction, a missing column, a wrong title month).
"""

from __future__ import annotations

import io
from datetime import date

import xlsxwriter

DRC_HEADERS = [
    "项目代码", "项目名称", "项目类别", "所在地区", "责任单位", "项目状态", "总投资（万元）",
    "年度计划投资（万元）", "本月完成投资（万元）", "{ytd}累计完成投资（万元）", "计划开工时间",
    "实际开工时间", "计划竣工时间", "形象进度", "问题类型", "存在问题", "是否专项债项目",
]  # fmt: skip


def drc_project(number: int, **overrides: object) -> dict[str, object]:
    """One valid project row, keyed by header (the YTD header without its month)."""
    row: dict[str, object] = {
        "项目代码": f"2022-321002-48-01-{number:06d}",
        "项目名称": f"扬州市第{number}号道路改造工程",
        "项目类别": "基础设施",
        "所在地区": "广陵区",
        "责任单位": "扬州市城建国有资产控股（集团）有限责任公司",
        "项目状态": "在建",
        "总投资（万元）": 10000 + number,
        "年度计划投资（万元）": 2400,
        "本月完成投资（万元）": 200,
        "累计完成投资（万元）": 1400,
        "计划开工时间": "2022-01-15",
        "实际开工时间": "2022-01-20",
        "计划竣工时间": "2023-12",
        "形象进度": "主体施工",
        "问题类型": None,
        "存在问题": None,
        "是否专项债项目": "否",
    }
    row.update(overrides)
    return row


def drc_workbook(
    rows: list[dict[str, object]], month: date, *, omit: tuple[str, ...] = (), total: dict[str, object] | None = None
) -> bytes:
    """A DRC report for ``month``: title row, unit row, header, the rows, a 合计 row (with ``total``'s values)."""
    ytd_header = f"1-{month.month}月"
    headers = [h.format(ytd=ytd_header) for h in DRC_HEADERS if h.split("（")[0] not in omit]
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet("Sheet1")
    sheet.write(0, 0, f"扬州市{month.year}年1-{month.month}月重大项目推进情况调度表")
    sheet.write(1, 0, "单位：万元")
    for column, header in enumerate(headers):
        sheet.write(2, column, header)
    for offset, row in enumerate(rows):
        for column, header in enumerate(headers):
            key = "累计完成投资（万元）" if header.startswith(ytd_header) else header
            value = row.get(key)
            if isinstance(value, str):
                # write_string: a text starting with "=" stays text, as a clerk's typed cell is.
                sheet.write_string(3 + offset, column, value)
            elif value is not None:
                sheet.write(3 + offset, column, value)
    sheet.write(3 + len(rows), 0, "合计")
    for column, header in enumerate(headers):
        if total and header in total:
            sheet.write(3 + len(rows), column, total[header])
    workbook.close()
    return buffer.getvalue()


def bulletin_workbook(month: date, rows: dict[str, tuple[float, float, float]]) -> bytes:
    """The province's bulletin for ``month``: city code → (issued, issued last year, spent), in 亿元.

    Cities are named from the configured province; a 全省合计 row closes the table.
    """
    from citydw.city import load_city

    names = load_city().province_cities
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet()
    sheet.write(0, 0, f"关于{month.year}年1-{month.month}月全省新增专项债券发行使用情况的通报")
    headers = [
        "地区",
        "区划代码",
        f"1-{month.month}月新增专项债券发行额（亿元）",
        "上年同期发行额（亿元）",
        "累计支出（亿元）",
        "支出进度（%）",
    ]
    sheet.write_row(1, 0, headers)
    for offset, (code, (issued, before, spent)) in enumerate(rows.items(), start=2):
        sheet.write_row(offset, 0, [names[code], code, issued, before, spent, round(100 * spent / issued, 2)])
    totals = [sum(v[i] for v in rows.values()) for i in range(3)]
    sheet.write_row(2 + len(rows), 0, ["全省合计", "", *totals, round(100 * totals[2] / totals[0], 2)])
    book.close()
    return buffer.getvalue()
