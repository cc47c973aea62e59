"""A department's table as a clerk lays it out, written as xlsx or CSV.

The department writers decide what each cell says (a number, text typed
into a number cell, a date in one of its forms, a district with or without
its suffix); this module decides only where things go: a title and maybe a
subtitle, a unit row, a one- or two-row header (groups merged over their
leaves), a 序号 column, a 合计 row first or last, blank rows and notes under
the table. It returns each data row's 1-based row number in the file, as
the readers number rows, so a defect can be pointed at.

CSV is what Excel's "save as CSV" makes of the same sheet: every row of the
sheet is a record (merged cells keep their text in the first cell), dates
are written as text, and the encoding is the one the clerk's Excel used.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from citydw.city import City
from citydw.demo import messy
from citydw.demo.messy import Cell


@dataclass(frozen=True)
class Column:
    header: str  # the leaf header as written, unit included
    field: str | None = None  # None for 序号 and columns the template does not have
    group: str | None = None  # the merged cell above it in a two-row header
    decimals: int | None = 2  # shown decimals of numbers; None: as many as the value has
    width: int = 12
    wrap: bool = False
    number_format: str | None = None  # an Excel format for its numbers instead ("0.00%": 0.852 shows 85.20%)


@dataclass
class Table:
    title: str
    columns: list[Column]
    rows: list[list[Cell]]  # data rows, one cell per column (序号 included when there is one)
    subtitle: str | None = None
    unit_row: str | None = None  # "单位：万元", at the right above the header
    filled_row: str | None = None  # "填报单位：…" or "填报日期：…", at the left of the unit row
    header_rows: int = 1  # 2: the groups merged above the leaves
    blank_rows_above_header: int = 0
    total: list[Cell] | None = None
    total_first: bool = False
    blank_rows_below: int = 1
    notes: list[str] = field(default_factory=list)
    sheet_name: str = "Sheet1"
    date_format: str = "yyyy-mm-dd"
    freeze_header: bool = False

    def lines(self) -> tuple[list[tuple[str, list[Cell]]], list[int]]:
        """The sheet row by row (kind, cells) and the 0-based index of each data row.

        Kinds: title, subtitle, unit, blank, group, header, data, total, note.
        """
        width = len(self.columns)
        out: list[tuple[str, list[Cell]]] = [("title", [self.title] + [None] * (width - 1))]
        if self.subtitle:
            out.append(("subtitle", [self.subtitle] + [None] * (width - 1)))
        if self.unit_row or self.filled_row:
            cells: list[Cell] = [None] * width
            if self.filled_row:
                cells[0] = self.filled_row
            if self.unit_row:
                cells[-1] = self.unit_row
            out.append(("unit", cells))
        out.extend(("blank", [None] * width) for _ in range(self.blank_rows_above_header))
        if self.header_rows == 2:
            upper: list[Cell] = []
            for index, column in enumerate(self.columns):
                starts = index == 0 or self.columns[index - 1].group != column.group
                upper.append(column.header if column.group is None else (column.group if starts else None))
            out.append(("group", upper))
            out.append(("header", [c.header if c.group else None for c in self.columns]))
        else:
            out.append(("header", [c.header for c in self.columns]))
        if self.total is not None and self.total_first:
            out.append(("total", list(self.total)))
        data_rows = []
        for row in self.rows:
            data_rows.append(len(out))
            out.append(("data", list(row)))
        if self.total is not None and not self.total_first:
            out.append(("total", list(self.total)))
        out.extend(("blank", [None] * width) for _ in range(self.blank_rows_below))
        out.extend(("note", [note] + [None] * (width - 1)) for note in self.notes)
        return out, data_rows


def to_xlsx(table: Table, *, author: str, company: str, created: datetime) -> tuple[bytes, list[int]]:
    """The workbook's bytes and the 1-based row number of each data row."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False})
    # A fixed creation time (the delivery's) keeps the bytes the same for a seed.
    book.set_properties({"author": author, "company": company, "created": created.replace(tzinfo=None)})
    border = {"border": 1, "font_name": "宋体", "font_size": 10, "valign": "vcenter"}
    title_format = book.add_format({"bold": True, "font_size": 16, "font_name": "方正小标宋简体", "align": "center"})
    subtitle_format = book.add_format({"font_size": 11, "align": "center"})
    plain = book.add_format({"font_size": 10})
    right = book.add_format({"font_size": 10, "align": "right"})
    header_format = book.add_format(
        {**border, "bold": True, "align": "center", "text_wrap": True, "bg_color": "#DDEBF7"}
    )
    text = book.add_format(border)
    wrap = book.add_format({**border, "text_wrap": True})
    bold = book.add_format({**border, "bold": True, "align": "center"})
    date_format = book.add_format({**border, "num_format": table.date_format, "align": "center"})
    number_formats = {}
    for column in table.columns:
        pattern = column.number_format or _pattern(column.decimals)
        if pattern not in number_formats:
            number_formats[pattern] = book.add_format({**border, "num_format": pattern})
    column_formats = [number_formats[c.number_format or _pattern(c.decimals)] for c in table.columns]

    sheet = book.add_worksheet(table.sheet_name)
    lines, data_rows = table.lines()
    last_col = len(table.columns) - 1
    header_start = next(i for i, (kind, _) in enumerate(lines) if kind in ("group", "header"))
    for row, (kind, cells) in enumerate(lines):
        if kind == "title":
            sheet.merge_range(row, 0, row, last_col, str(cells[0]), title_format)
            sheet.set_row(row, 30)
        elif kind == "subtitle":
            sheet.merge_range(row, 0, row, last_col, str(cells[0]), subtitle_format)
        elif kind == "unit":
            if cells[0] is not None:
                sheet.write_string(row, 0, str(cells[0]), plain)
            if cells[-1] is not None and last_col > 0:
                sheet.write_string(row, last_col, str(cells[-1]), right)
        elif kind == "note":
            sheet.write_string(row, 0, str(cells[0]), plain)
        elif kind in ("group", "header"):
            continue
        elif kind in ("data", "total"):
            for col, value in enumerate(cells):
                column = table.columns[col]
                fmt = bold if kind == "total" and isinstance(value, str) else (wrap if column.wrap else text)
                _write(sheet, row, col, value, fmt, column_formats[col], date_format)
    _write_header(sheet, header_start, table, header_format)
    if table.freeze_header:
        sheet.freeze_panes(header_start + table.header_rows, 0)
    for index, column in enumerate(table.columns):
        sheet.set_column(index, index, column.width)
    book.close()
    return buffer.getvalue(), [index + 1 for index in data_rows]


def _pattern(decimals: int | None) -> str:
    return "General" if decimals is None else ("0" if decimals == 0 else "0." + "0" * decimals)


def _write(sheet: Worksheet, row: int, col: int, value: Cell, fmt, number_fmt, date_fmt) -> None:
    if value is None or value == "":
        sheet.write_blank(row, col, None, fmt)
    elif isinstance(value, str):
        sheet.write_string(row, col, value, fmt)
    elif isinstance(value, bool):
        sheet.write_string(row, col, "是" if value else "否", fmt)
    elif isinstance(value, date):
        sheet.write_datetime(row, col, datetime.combine(value, datetime.min.time()), date_fmt)
    else:
        sheet.write_number(row, col, value, number_fmt)


def _write_header(sheet: Worksheet, row: int, table: Table, fmt) -> None:
    columns = table.columns
    if table.header_rows == 1:
        for index, column in enumerate(columns):
            sheet.write_string(row, index, column.header, fmt)
        return
    index = 0
    while index < len(columns):
        group = columns[index].group
        end = index
        while group and end + 1 < len(columns) and columns[end + 1].group == group:
            end += 1
        if group is None:  # a column of its own: the leaf header spans both rows
            sheet.merge_range(row, index, row + 1, index, columns[index].header, fmt)
        else:
            if end > index:
                sheet.merge_range(row, index, row, end, group, fmt)
            else:
                sheet.write_string(row, index, group, fmt)
            for leaf in range(index, end + 1):
                sheet.write_string(row + 1, leaf, columns[leaf].header, fmt)
        index = end + 1
    sheet.set_row(row + 1, 42)


def to_csv(table: Table, *, encoding: str) -> tuple[bytes, list[int]]:
    """The CSV bytes in ``encoding`` (utf-8, utf-8-sig, gb18030) and each data row's 1-based record number."""
    lines, data_rows = table.lines()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for _, cells in lines:
        writer.writerow([_csv_text(value, table.columns[i].decimals) for i, value in enumerate(cells)])
    return buffer.getvalue().encode(encoding), [index + 1 for index in data_rows]


def _csv_text(value: Cell, decimals: int | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, date):
        return f"{value.year}/{value.month}/{value.day}"  # how Excel writes a date cell to CSV
    if isinstance(value, int) or (float(value).is_integer() and decimals in (None, 0)):
        return str(int(value))
    if decimals is None:
        return repr(float(value))  # the shortest text that reads back as the same number
    return f"{value:.{decimals}f}"


# -- from canonical records to a clerk's cells ------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One template column: the field, its header as this month's sheet writes it, how values look."""

    field: str
    header: str  # unit and month included: "1-7月累计完成投资（万元）"
    kind: str = "text"  # text, district, money, integer, date, percent, boolean
    group: str | None = None
    decimals: int = 2
    width: int = 12
    wrap: bool = False


@dataclass(frozen=True)
class Style:
    """How this month's clerk lays the sheet out and types the values."""

    header_rows: int
    serial: bool
    total_first: bool
    total_label: str
    subtitle: bool
    blank_rows_above_header: int
    blank_rows_below: int
    remarks: bool
    district_style: str  # full, short, mixed
    date_style: str  # for dates with a day
    month_date_style: str  # for dates that are the 1st (planned dates)
    mixed_dates: bool
    text_number_share: float  # share of numbers typed as text ("1,234.50", full-width, spaced)
    percent_form: str  # number, sign, full_width, excel (a number formatted as %)
    serial_date_share: float  # share of dates whose cell lost its date format: an Excel serial number
    sheet_name: str
    date_format: str
    freeze_header: bool


def choose_style(
    rng: random.Random, *, sheet_names: tuple[str, ...] = ("Sheet1",), two_row_chance: float = 0.5
) -> Style:
    return Style(
        header_rows=2 if rng.random() < two_row_chance else 1,
        serial=rng.random() < 0.7,
        total_first=rng.random() < 0.3,
        total_label=rng.choice(("合计", "合计", "总计", "全市合计")),
        subtitle=rng.random() < 0.25,
        blank_rows_above_header=rng.choice((0, 0, 1)),
        blank_rows_below=rng.choice((1, 2)),
        remarks=rng.random() < 0.4,
        district_style=rng.choice(("full", "full", "short", "mixed")),
        date_style=rng.choice(messy.DAY_STYLES),
        month_date_style=rng.choice(messy.DATE_STYLES),
        mixed_dates=rng.random() < 0.3,
        text_number_share=rng.choice((0.0, 0.0, 0.03, 0.08)),
        percent_form=rng.choice(("number", "number", "sign", "excel", "full_width")),
        serial_date_share=rng.choice((0.0, 0.0, 0.0, 0.1)),
        sheet_name=rng.choice(sheet_names),
        date_format=rng.choice(("yyyy-mm-dd", "yyyy/m/d", 'yyyy"年"m"月"d"日"')),
        freeze_header=rng.random() < 0.4,
    )


def cell(value: Any, spec: Field, style: Style, rng: random.Random, city: City, *, csv_file: bool = False) -> Cell:
    """What the clerk types for ``value`` of ``spec``'s kind. A ``str`` where a number or date
    belongs (a defect) is typed as it is. Draws are taken whatever the value, so a row's other
    cells never depend on it."""
    draw, form = rng.random(), rng.choice(messy.AMOUNT_TEXT_FORMS)
    if value is None or value == "":
        return None
    if isinstance(value, str) and spec.kind not in ("text", "district"):
        return value
    if spec.kind == "district":
        district = next((d for d in city.districts if d.code == value), None)
        return messy.district_text(district, style.district_style, rng) if district else str(value)
    if spec.kind in ("money", "integer"):
        number = float(value)
        decimals = 0 if spec.kind == "integer" else spec.decimals
        return messy.write_amount(
            round(number, decimals), decimals, form if draw < style.text_number_share else "number"
        )
    if spec.kind == "date":
        assert isinstance(value, date)
        if draw < style.serial_date_share:
            return float(excel_serial(value))
        usual = style.month_date_style if value.day == 1 else style.date_style
        chosen = messy.pick_date_style(rng, usual, value, style.mixed_dates)
        if csv_file and chosen == "excel":
            chosen = "slash"  # what Excel writes for a date cell when saving as CSV
        return messy.write_date(value, chosen)
    if spec.kind == "percent":
        number = float(value)
        if style.percent_form == "excel":
            return (
                messy.percent_text(number, spec.decimals, "sign")
                if csv_file
                else round(number / 100, spec.decimals + 2)
            )
        return messy.percent_text(number, spec.decimals, style.percent_form)
    if spec.kind == "boolean":
        return "是" if value else "否"
    return value if isinstance(value, (str, float, int)) else str(value)


def excel_serial(day: date) -> int:
    """Excel's serial day number (1900 date system) of ``day``: 2022-03-15 → 44635."""
    return (day - date(1899, 12, 30)).days


def build(
    fields: list[Field],
    records: Sequence[Mapping[str, Any]],
    style: Style,
    *,
    title: str,
    unit_row: str | None,
    city: City,
    cell_rng: Callable[[int, Mapping[str, Any]], random.Random],
    subtitle: str | None = None,
    filled_row: str | None = None,
    total: Mapping[str, Any] | None = None,
    notes: list[str] | None = None,
    csv_file: bool = False,
    extra_columns: Sequence[tuple[Column, Callable[[int, Mapping[str, Any]], Cell]]] | None = None,
) -> Table:
    """A :class:`Table` of ``records`` in ``style``: 序号 if the style has one, then ``fields``.

    ``cell_rng(position, record)`` gives the generator a row's cells draw
    from: one per row, keyed by the row's identity, so a row put in or
    taken out elsewhere never changes it. ``total`` holds the 合计 row's
    values by field.
    """
    columns = [Column("序号", None, None, decimals=0, width=6)] if style.serial else []
    for spec in fields:
        number_format = None
        if spec.kind == "percent" and style.percent_form == "excel" and not csv_file:
            number_format = "0." + "0" * spec.decimals + "%" if spec.decimals else "0%"
        decimals = 0 if spec.kind in ("integer", "date") else spec.decimals
        columns.append(Column(spec.header, spec.field, spec.group, decimals, spec.width, spec.wrap, number_format))
    for extra, _ in extra_columns or []:
        columns.append(extra)
    rows = []
    for position, record in enumerate(records):
        rng = cell_rng(position, record)
        row: list[Cell] = [float(position + 1)] if style.serial else []
        row += [cell(record.get(spec.field), spec, style, rng, city, csv_file=csv_file) for spec in fields]
        row += [make(position, record) for _, make in extra_columns or []]
        rows.append(row)
    total_row: list[Cell] | None = None
    if total is not None:
        # The label goes in the 序号 column, or else over the first field's cell.
        total_row = [style.total_label] if style.serial else []
        for index, spec in enumerate(fields):
            value = total.get(spec.field)
            if index == 0 and not style.serial:
                total_row.append(style.total_label)
            elif value is None:
                total_row.append(None)
            else:
                total_row.append(round(float(value), 0 if spec.kind == "integer" else spec.decimals))
        total_row += [None] * len(extra_columns or [])
    return Table(
        title=title,
        columns=columns,
        rows=rows,
        subtitle=subtitle if style.subtitle else None,
        unit_row=unit_row,
        filled_row=filled_row,
        header_rows=style.header_rows if any(f.group for f in fields) else 1,
        blank_rows_above_header=style.blank_rows_above_header,
        total=total_row,
        total_first=style.total_first,
        blank_rows_below=style.blank_rows_below,
        notes=list(notes or []),
        sheet_name=style.sheet_name,
        date_format=style.date_format,
        freeze_header=style.freeze_header,
    )
