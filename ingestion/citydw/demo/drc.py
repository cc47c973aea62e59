"""The DRC's 重大项目月度调度表 (drc.major_projects), as its clerks fill it in.

One xlsx a month, one row per project of the year's list, in the layouts real
clerks use and vary from month to month: a title and a unit row above a
(usually two-row, merged) header, a 序号 column, a 合计 row first or last,
blank rows, notes under the table, amounts now in 万元 and now in 亿元, some
typed as text, dates in mixed forms, districts without their suffix. All of
that is what the reader must undo; none of it changes a value.

On top, with ``defect_rate`` > 0, some months carry real mistakes (see
:data:`citydw.demo.manifest.DEFECT_KINDS`), each one recorded as a
:class:`~citydw.demo.manifest.Defect` for the manifest.
"""

from __future__ import annotations

import calendar
import io
import random
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from citydw.demo import messy
from citydw.demo.manifest import Defect
from citydw.demo.orders import Order, Rendered
from citydw.demo.world import ProjectMonth, World
from citydw.registry import DatasetSpec

DATASET = "drc.major_projects"

# Chance that a month carries each kind of defect, at defect_rate 1.
DEFECT_CHANCES: dict[str, float] = {
    "duplicate_code": 0.25,
    "negative_amount": 0.3,
    "wrong_district": 0.25,
    "non_numeric_amount": 0.3,
}
WRONG_DISTRICT = "南京市玄武区"
NON_NUMERIC = "待核实"
MONEY_FIELDS = ("total_investment", "annual_plan_investment", "month_investment", "ytd_investment")

# Column groups of the two-row header, in the two orders clerks use.
_BASIC, _MONEY, _PROGRESS, _PROBLEMS = "项目基本情况", "投资完成情况", "推进情况", "存在问题及需协调事项"
COLUMN_ORDERS: dict[str, tuple[tuple[str | None, tuple[str, ...]], ...]] = {
    "contract": (
        (_BASIC, ("project_code", "project_name", "category", "district", "responsible_unit", "status")),
        (_MONEY, MONEY_FIELDS),
        (_PROGRESS, ("planned_start_date", "actual_start_date", "planned_completion_date", "progress_note")),
        (_PROBLEMS, ("blocker_type", "blocker_note")),
        (None, ("is_bond_funded",)),
    ),
    "bond_first": (
        (_BASIC, ("project_code", "project_name", "category", "district", "responsible_unit", "is_bond_funded")),
        (_MONEY, MONEY_FIELDS),
        (_PROGRESS, ("status", "planned_start_date", "actual_start_date", "planned_completion_date", "progress_note")),
        (_PROBLEMS, ("blocker_type", "blocker_note")),
    ),
}
_WIDTHS = {"project_code": 26, "project_name": 36, "responsible_unit": 30, "progress_note": 34, "blocker_note": 30}


@dataclass(frozen=True)
class Layout:
    """How this month's clerk laid the sheet out."""

    unit: str  # 万元 or 亿元
    unit_in_headers: bool
    subtitle: bool
    unit_row_with_date: bool
    blank_rows_above_header: int
    header_rows: int
    serial_column: bool
    total_first: bool
    total_label: str
    total_as_formula: bool
    column_order: str
    rows_by_district: bool
    district_style: str  # full, short, mixed
    planned_date_style: str
    actual_date_style: str
    mixed_dates: bool
    date_format: str  # display format of real Excel dates
    text_amount_share: float
    blank_rows_below_table: int
    sheet_name: str
    file_prefix: str
    remarks: bool
    freeze_header: bool


def choose_layout(rng: random.Random, month: date) -> Layout:
    unit = rng.choices(("万元", "亿元"), weights=(3, 1))[0]
    bare_headers = rng.random() < 0.5
    text_amount_share = rng.choice((0.0, 0.0, 0.02, 0.08))
    formula_total = rng.random() < 0.4
    return Layout(
        unit=unit,
        unit_in_headers=unit == "万元" or not bare_headers,
        subtitle=rng.random() < 0.25,
        unit_row_with_date=rng.random() < 0.4,
        blank_rows_above_header=rng.choice((0, 0, 1)),
        header_rows=rng.choices((2, 1), weights=(4, 1))[0],
        serial_column=rng.random() < 0.8,
        total_first=rng.random() < 0.5,
        total_label=rng.choice(("合计", "合计", "总计", "全市合计")),
        # Excel's SUM skips numbers typed as text: a formula total only where there are none.
        total_as_formula=formula_total and text_amount_share == 0,
        column_order=rng.choices(("contract", "bond_first"), weights=(7, 3))[0],
        rows_by_district=rng.random() < 0.3,
        district_style=rng.choice(("full", "full", "short", "mixed")),
        planned_date_style=rng.choice(messy.DATE_STYLES),
        actual_date_style=rng.choice(messy.DAY_STYLES),
        mixed_dates=rng.random() < 0.3,
        date_format=rng.choice(("yyyy-mm-dd", "yyyy/m/d", 'yyyy"年"m"月"d"日"')),
        text_amount_share=text_amount_share,
        blank_rows_below_table=rng.choice((1, 2)),
        sheet_name=rng.choice(("Sheet1", "重大项目", f"{month.month}月", "调度表")),
        file_prefix=rng.choice(("", "", "", "", "附件1：")),
        remarks=rng.random() < 0.5,
        freeze_header=rng.random() < 0.5,
    )


@dataclass(frozen=True)
class Column:
    field: str | None  # None for 序号
    header: str
    group: str | None


def title(city_name: str, month: date) -> str:
    period = "1月" if month.month == 1 else f"1-{month.month}月"
    return f"{city_name}{month.year}年{period}重大项目推进情况调度表"


def columns(spec: DatasetSpec, layout: Layout, month: date) -> list[Column]:
    """The sheet's columns with their leaf headers as DEPARTMENTS.md writes them.

    The year-to-date header carries the month ("1-7月累计完成投资（万元）");
    in January, where "1-1月" would be odd, it is the template's own
    "年度累计完成投资（万元）".
    """
    unit_suffix = f"（{layout.unit}）" if layout.unit_in_headers else ""
    result = [Column(None, "序号", None)] if layout.serial_column else []
    for group, fields in COLUMN_ORDERS[layout.column_order]:
        for name in fields:
            header = spec.field(name).header or name
            if name == "ytd_investment" and month.month > 1:
                header = f"1-{month.month}月累计完成投资"
            if name in MONEY_FIELDS:
                header += unit_suffix
            result.append(Column(name, header, group))
    return result


def render_major_projects(world: World, order: Order) -> Rendered:
    """This month's 调度表 as the DRC delivers it (``order.spec`` is the registry's DRC template)."""
    assert order.spec is not None, "the DRC writer takes its headers from the registry's drc.major_projects"
    month = order.month
    layout = choose_layout(world.rng(DATASET, "layout", month.isoformat()), month)
    records = _records(world, month, layout)
    defects = _inject_defects(world.rng(DATASET, "defects", month.isoformat()), records, order.defect_rate)
    sheet_title = title(world.city.name, month)
    content, first_data_row = _workbook(
        world, order, month, layout, records, order.delivered_at, drop_field=order.drop_field
    )
    for defect in defects:
        defect["source_row"] = first_data_row + next(i for i, r in enumerate(records) if r is defect["record"])
    return Rendered(
        file_name=f"{layout.file_prefix}{sheet_title}.xlsx",
        content=content,
        rows=len(records),
        defects=[
            Defect(
                dataset=DATASET,
                month=f"{month:%Y-%m}",
                kind=d["kind"],
                project_code=d["record"]["project_code"],
                source_row=d["source_row"],
                field=d["field"],
                value=d["value"],
                row_key=d["record"]["project_code"],
            )
            for d in sorted(defects, key=lambda d: d["source_row"])
        ],
        layout=asdict(layout),
    )


# -- rows ------------------------------------------------------------------------------------


def _records(world: World, month: date, layout: Layout) -> list[dict[str, Any]]:
    """One dict per project row, canonical values; amounts in 0.01 万元 so totals add up exactly."""
    states = world.snapshot(month)
    if layout.rows_by_district:
        codes = world.city.district_codes
        states = sorted(states, key=lambda s: codes.index(s.project.district_code))  # stable: keeps category order
    return [_record(state) for state in states]


def _record(state: ProjectMonth) -> dict[str, Any]:
    project = state.project
    return {
        "project_code": project.code,
        "project_name": project.name,
        "category": project.category,
        "district": project.district_code,
        "responsible_unit": project.responsible_unit,
        "status": state.status,
        "total_investment": round(project.total_investment * 100),
        "annual_plan_investment": round(state.annual_plan_investment * 100),
        "month_investment": round(state.month_investment * 100),
        "ytd_investment": round(state.ytd_investment * 100),
        "planned_start_date": project.planned_start_date,
        "actual_start_date": state.actual_start_date,
        "planned_completion_date": project.planned_completion_date,
        "progress_note": state.progress_note,
        "blocker_type": state.blocker_type,
        "blocker_note": state.blocker_note,
        "is_bond_funded": "是" if project.is_bond_funded else "否",
        "_copy": 0,  # 1 for a row pasted twice
    }


def _inject_defects(rng: random.Random, records: list[dict[str, Any]], defect_rate: float) -> list[dict[str, Any]]:
    """Put this month's mistakes into ``records`` (in place); return what was done.

    Every draw is taken whatever the rate, so a defect, when there is one,
    is the same at any positive rate, and the rest of the file never moves.
    Each defect gets a row of its own.
    """
    draws = {kind: (rng.random(), rng.randrange(len(records)), rng.random()) for kind in DEFECT_CHANCES}
    taken: set[int] = set()
    done: list[dict[str, Any]] = []
    for kind, (chance_draw, index, detail) in draws.items():
        if not records or chance_draw >= min(1.0, DEFECT_CHANCES[kind] * defect_rate):
            continue
        while index in taken:
            index = (index + 1) % len(records)
        taken.add(index)
        record = records[index]
        if kind == "duplicate_code":
            done.append({"kind": kind, "record": record, "field": "project_code", "value": record["project_code"]})
        elif kind == "negative_amount":
            cents = record["month_investment"] or round(5_000 + detail * 80_000)
            record["month_investment"] = -cents
            done.append({"kind": kind, "record": record, "field": "month_investment", "value": f"{-cents / 100:.2f}"})
        elif kind == "wrong_district":
            record["district_text"] = WRONG_DISTRICT
            done.append({"kind": kind, "record": record, "field": "district", "value": WRONG_DISTRICT})
        elif kind == "non_numeric_amount":
            field = MONEY_FIELDS[int(detail * len(MONEY_FIELDS))]
            record[field] = NON_NUMERIC
            done.append({"kind": kind, "record": record, "field": field, "value": NON_NUMERIC})
    # The pasted-twice row goes in last, right below its original; the
    # defect points at the copy, the row a checker flags as the repeat.
    for defect in done:
        if defect["kind"] == "duplicate_code":
            original = defect["record"]
            copy = {**original, "_copy": 1}
            records.insert(next(i for i, r in enumerate(records) if r is original) + 1, copy)
            defect["record"] = copy
    return done


# -- the workbook ----------------------------------------------------------------------------


class _Formats:
    def __init__(self, book: xlsxwriter.Workbook, layout: Layout):
        border = {"border": 1, "font_name": "宋体", "font_size": 10, "valign": "vcenter"}
        self.title = book.add_format({"bold": True, "font_size": 16, "font_name": "方正小标宋简体", "align": "center"})
        self.subtitle = book.add_format({"font_size": 11, "align": "center"})
        self.plain = book.add_format({"font_size": 10})
        self.right = book.add_format({"font_size": 10, "align": "right"})
        self.header = book.add_format(
            {**border, "bold": True, "align": "center", "text_wrap": True, "bg_color": "#DDEBF7"}
        )
        self.text = book.add_format(border)
        self.wrap = book.add_format({**border, "text_wrap": True})
        self.center = book.add_format({**border, "align": "center"})
        decimals = "0.00" if layout.unit == "万元" else "0.0000"
        self.money = book.add_format({**border, "num_format": f"#,##{decimals}"})
        self.date = book.add_format({**border, "num_format": layout.date_format, "align": "center"})
        self.total = book.add_format({**border, "bold": True, "align": "center"})
        self.total_money = book.add_format({**border, "bold": True, "num_format": f"#,##{decimals}"})


def _workbook(
    world: World,
    order: Order,
    month: date,
    layout: Layout,
    records: list[dict[str, Any]],
    delivered_at: datetime,
    *,
    drop_field: str | None = None,
) -> tuple[bytes, int]:
    """The xlsx bytes, and the 1-based row of the first project row."""
    assert order.spec is not None
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False})
    contact = order.contact
    unit_name = f"{world.city.name}{order.department_name.removeprefix('市')}"
    # A fixed creation time (the delivery's) keeps the bytes the same for a seed.
    book.set_properties(
        {
            "author": contact.name if contact else unit_name,
            "company": unit_name,
            "created": delivered_at.replace(tzinfo=None),
        }
    )
    formats = _Formats(book, layout)
    sheet = book.add_worksheet(layout.sheet_name)
    cols = [c for c in columns(order.spec, layout, month) if c.field is None or c.field != drop_field]
    last_col = len(cols) - 1

    row = 0
    sheet.merge_range(row, 0, row, last_col, title(world.city.name, month), formats.title)
    sheet.set_row(row, 30)
    row += 1
    if layout.subtitle:
        last_day = calendar.monthrange(month.year, month.month)[1]
        sheet.merge_range(row, 0, row, last_col, f"（截至{month.year}年{month.month}月{last_day}日）", formats.subtitle)
        row += 1
    if layout.unit_row_with_date:
        filled = delivered_at.date()
        sheet.write_string(row, 0, f"填报日期：{filled.year}年{filled.month}月{filled.day}日", formats.plain)
    sheet.write_string(row, last_col, f"单位：{layout.unit}", formats.right)
    row += 1 + layout.blank_rows_above_header

    row = _write_header(sheet, row, cols, layout, formats)
    if layout.freeze_header:
        sheet.freeze_panes(row, 0)

    total_row = row if layout.total_first else row + len(records)
    first_data = row + 1 if layout.total_first else row
    for offset, record in enumerate(records):
        _write_record(sheet, first_data + offset, cols, record, offset + 1, month, layout, formats, world)
    last_data = first_data + len(records) - 1
    _write_total(sheet, total_row, cols, records, first_data, last_data, layout, formats)
    row = max(total_row, last_data) + 1

    row += layout.blank_rows_below_table
    if contact:
        sheet.write_string(
            row, 0, f"填报单位：{unit_name}  填报人：{contact.name}  联系电话：{contact.phone or ''}", formats.plain
        )
        row += 1
    if layout.remarks:
        sheet.write_string(
            row,
            0,
            "注：1.项目状态按储备、新开工、在建、竣工填报；2.问题类型按要素保障、征地拆迁、"
            "行政审批、考古勘探、资金、其他填报；3.本表数据以项目单位报送为准。",
            formats.plain,
        )

    for index, column in enumerate(cols):
        sheet.set_column(index, index, _WIDTHS.get(column.field or "", 12 if column.field else 6))
    book.close()
    return buffer.getvalue(), first_data + 1


def _write_header(sheet: Worksheet, row: int, cols: list[Column], layout: Layout, formats: _Formats) -> int:
    """The header from ``row``; returns the row after it."""
    if layout.header_rows == 1:
        for index, column in enumerate(cols):
            sheet.write_string(row, index, column.header, formats.header)
        return row + 1
    index = 0
    while index < len(cols):
        group = cols[index].group
        end = index
        while group and end + 1 < len(cols) and cols[end + 1].group == group:
            end += 1
        if group is None:  # a column of its own: the leaf header spans both rows
            sheet.merge_range(row, index, row + 1, index, cols[index].header, formats.header)
        else:
            if end > index:
                sheet.merge_range(row, index, row, end, group, formats.header)
            else:
                sheet.write_string(row, index, group, formats.header)
            for leaf in range(index, end + 1):
                sheet.write_string(row + 1, leaf, cols[leaf].header, formats.header)
        index = end + 1
    sheet.set_row(row + 1, 42)
    return row + 2


def _write_record(
    sheet: Worksheet,
    row: int,
    cols: list[Column],
    record: dict[str, Any],
    serial: int,
    month: date,
    layout: Layout,
    formats: _Formats,
    world: World,
) -> None:
    # One generator per row, so a pasted-twice row elsewhere never changes this one.
    rng = world.rng(DATASET, "cells", month.isoformat(), record["project_code"], record["_copy"])
    for index, column in enumerate(cols):
        if column.field is None:
            sheet.write_number(row, index, serial, formats.center)
            continue
        value = record[column.field]
        if column.field == "district":
            _write_cell(
                sheet,
                row,
                index,
                record.get("district_text") or _district_name(world, value, layout, rng),
                formats.text,
                formats,
            )
        elif column.field in MONEY_FIELDS:
            _write_cell(sheet, row, index, _amount(value, layout, rng), formats.money, formats)
        elif column.field.endswith("_date"):
            if value is None:
                sheet.write_blank(row, index, None, formats.text)
                continue
            usual = layout.actual_date_style if column.field == "actual_start_date" else layout.planned_date_style
            style = messy.pick_date_style(rng, usual, value, layout.mixed_dates)
            _write_cell(sheet, row, index, messy.write_date(value, style), formats.date, formats)
        else:
            fmt = formats.wrap if column.field in ("project_name", "progress_note", "blocker_note") else formats.text
            _write_cell(sheet, row, index, value, fmt, formats)


def _write_cell(sheet: Worksheet, row: int, col: int, value: messy.Cell, fmt: Format, formats: _Formats) -> None:
    if value is None or value == "":
        sheet.write_blank(row, col, None, fmt)
    elif isinstance(value, str):
        sheet.write_string(row, col, value, formats.text if fmt is formats.money else fmt)
    elif isinstance(value, date):
        sheet.write_datetime(row, col, datetime.combine(value, datetime.min.time()), fmt)
    else:
        sheet.write_number(row, col, value, fmt)


def _district_name(world: World, code: str, layout: Layout, rng: random.Random) -> str:
    district = next(d for d in world.city.districts if d.code == code)
    short = layout.district_style == "short" or (layout.district_style == "mixed" and rng.random() < 0.4)
    return (district.short_name or district.name) if short else district.name


def _amount(cents: int | str, layout: Layout, rng: random.Random) -> str | float:
    draw, form = rng.random(), rng.choice(messy.AMOUNT_TEXT_FORMS)
    if isinstance(cents, str):  # a defect: text where the amount belongs
        return cents
    if layout.unit == "万元":
        value, decimals = cents / 100, 2
    else:
        value, decimals = round(cents / 1_000_000, 6), 6
    return messy.write_amount(value, decimals, form if draw < layout.text_amount_share else "number")


def _write_total(
    sheet: Worksheet,
    row: int,
    cols: list[Column],
    records: list[dict[str, Any]],
    first_data: int,
    last_data: int,
    layout: Layout,
    formats: _Formats,
) -> None:
    """The 合计 row: the sums of the amounts as written, so it adds up for a checker too."""
    for index, column in enumerate(cols):
        if index == 0:
            sheet.write_string(row, index, layout.total_label, formats.total)
        elif column.field in MONEY_FIELDS:
            cents = sum(r[column.field] for r in records if isinstance(r[column.field], int))
            total = cents / 100 if layout.unit == "万元" else round(cents / 1_000_000, 6)
            if layout.total_as_formula:
                span = f"{xl_rowcol_to_cell(first_data, index)}:{xl_rowcol_to_cell(last_data, index)}"
                sheet.write_formula(row, index, f"=SUM({span})", formats.total_money, total)
            else:
                sheet.write_number(row, index, total, formats.total_money)
        else:
            sheet.write_blank(row, index, None, formats.total)
