"""Report templates for the departments, generated from the registry so they cannot drift from it.

For each file dataset and report month, :func:`xlsx_template` writes the form
a clerk fills in: the title with the month (the reader checks it), a unit
row, the headers exactly as the registry (and DEPARTMENTS.md) spells them
with their units, a frozen header, a drop-down list on every enumerated
field (the registry's ``values``, the city's districts, 是/否), an input hint
on code columns, number and date formats, and — for a running ledger
(``running_ledger: true``: a project list, a register) — last month's
accepted rows, so the clerk updates rather than retypes. This month's own
flows (fields named ``month_…``) are left empty in those rows: last month's
figure would be wrong if the clerk forgot to change it.

A CSV dataset also gets :func:`csv_template`, in UTF-8 (with a byte-order
mark, which Excel needs) and in GB18030, the two encodings the reader takes.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime

import psycopg
import xlsxwriter
from psycopg import sql

from citydw.city import City
from citydw.quality.workbooks import neutralise
from citydw.registry import DatasetSpec, FieldSpec, Registry

LIST_ROWS = 2000
"""Rows below the header that carry the drop-down lists and formats."""

HEADER_ROW = 2
"""0-based row of the headers: title, unit row, header."""

_NUMBER_FORMATS = {"decimal": "#,##0.00", "percent": "0.00", "integer": "0", "date": "yyyy-mm-dd"}
_TYPE_HINTS = {
    "date": "日期，如 2022-03-15（只有月份时填 2022-03）",
    "region_code": "6位行政区划代码，如 321002",
    "percent": "百分数的数值，如 85.2 表示 85.2%",
}


@dataclass(frozen=True)
class TemplateFile:
    file_name: str
    media_type: str
    data: bytes


XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def file_datasets(registry: Registry) -> list[DatasetSpec]:
    """Datasets delivered as files: the ones a clerk fills in a template for."""
    return [spec for spec in registry.datasets.values() if spec.channel.kind == "file"]


def period_text(spec: DatasetSpec, month: date) -> str:
    """How the title names the period: "2022年1-7月", "2022年1月", or "2021年" for yearly data."""
    if spec.frequency == "yearly":
        return f"{month.year}年"
    return f"{month.year}年1月" if month.month == 1 else f"{month.year}年1-{month.month}月"


def title(spec: DatasetSpec, city: City, month: date) -> str:
    return f"{city.name}{period_text(spec, month)}{spec.title}"


def header_text(field: FieldSpec, month: date) -> str:
    """The header the template writes: the registry's, the month filled in, the unit in brackets."""
    assert field.header is not None
    header = field.header.replace("1-N月", f"1-{month.month}月")
    return f"{header}（{field.unit}）" if field.unit else header


def template_fields(spec: DatasetSpec) -> list[FieldSpec]:
    return [f for f in spec.fields if f.header]


def choices(field: FieldSpec, city: City) -> list[str] | None:
    """The drop-down list of a field, if it has one."""
    if field.values:
        return list(field.values)
    if field.type == "district":
        return [d.name for d in city.districts]
    if field.type == "boolean":
        return [field.true_values[0], field.false_values[0]]
    return None


def previous_rows(conn: psycopg.Connection | None, spec: DatasetSpec, month: date, city: City) -> list[list[object]]:
    """Last month's accepted rows of a running ledger, as the clerk would write them (empty if none)."""
    if conn is None or not spec.running_ledger or spec.frequency != "monthly":
        return []
    previous = date(month.year - 1, 12, 1) if month.month == 1 else date(month.year, month.month - 1, 1)
    fields = template_fields(spec)
    exists = conn.execute("select to_regclass(%s) is not null", (f"raw.{spec.raw_table}",)).fetchone()
    if not exists or not exists[0]:
        return []
    present = {
        row[0]
        for row in conn.execute(
            "select column_name from information_schema.columns where table_schema = 'raw' and table_name = %s",
            (spec.raw_table,),
        )
    }
    wanted = [f for f in fields if f.field in present and not f.field.startswith("month_")]
    if not wanted:
        return []
    query = sql.SQL("select {} from raw.{} where report_month = %s order by source_row").format(
        sql.SQL(", ").join(sql.Identifier(f.field) for f in wanted), sql.Identifier(spec.raw_table)
    )
    names = {d.code: d.name for d in city.districts}
    rows = []
    for record in conn.execute(query, (previous,)):
        values = dict(zip([f.field for f in wanted], record, strict=True))
        rows.append([_as_written(f, values.get(f.field), names) for f in fields])
    return rows


def _as_written(field: FieldSpec, value: object, district_names: dict[str, str]) -> object:
    if value is None:
        return None
    if field.type == "district":
        return district_names.get(str(value), str(value))
    if field.type == "boolean":
        return field.true_values[0] if value else field.false_values[0]
    if field.type in ("decimal", "percent", "integer"):
        return float(value)  # type: ignore[arg-type]
    return value


def xlsx_template(spec: DatasetSpec, city: City, month: date, conn: psycopg.Connection | None = None) -> TemplateFile:
    """The .xlsx form of ``spec`` for ``month``; pre-filled from the warehouse when ``conn`` is given."""
    fields = template_fields(spec)
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer,
        {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False},
    )
    formats = {
        "title": book.add_format({"bold": True, "font_size": 14}),
        "note": book.add_format({"font_color": "#555555"}),
        "header": book.add_format(
            {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "vcenter"}
        ),
        "text": book.add_format({"num_format": "@"}),
        **{kind: book.add_format({"num_format": pattern}) for kind, pattern in _NUMBER_FORMATS.items()},
    }
    sheet = book.add_worksheet(spec.title[:31])
    sheet.write_string(0, 0, title(spec, city, month), formats["title"])
    units = sorted({f.unit for f in fields if f.unit and f.unit != "%"})
    sheet.write_string(1, 0, f"单位：{'、'.join(units)}（以各列表头为准）" if units else "", formats["note"])
    first, last = HEADER_ROW + 1, HEADER_ROW + LIST_ROWS
    for column, field in enumerate(fields):
        header = header_text(field, month)
        cell_format = formats.get(field.type, formats["text"])
        sheet.write_string(HEADER_ROW, column, header, formats["header"])
        sheet.set_column(column, column, max(10, min(30, len(header) * 2 + 2)), cell_format)
        listed = choices(field, city)
        hint = field.hint or _TYPE_HINTS.get(field.type)
        if listed:
            sheet.data_validation(
                first, column, last, column,
                {"validate": "list", "source": listed, "input_title": header[:32],
                 "input_message": ("请从下拉列表中选择" + (f"。{hint}" if hint else ""))[:255],
                 "error_title": "不在可选范围内", "error_message": f"{header}应为：{'、'.join(listed)}"[:255]},
            )  # fmt: skip
        elif hint:
            sheet.data_validation(
                first, column, last, column,
                {"validate": "any", "input_title": header[:32], "input_message": hint[:255]},
            )  # fmt: skip
    for offset, row in enumerate(previous_rows(conn, spec, month, city)):
        for column, (field, value) in enumerate(zip(fields, row, strict=True)):
            _write(sheet, first + offset, column, field, value, formats)
    sheet.freeze_panes(first, 0)
    sheet.set_row(HEADER_ROW, 32)
    book.close()
    return TemplateFile(f"{title(spec, city, month)}.xlsx", XLSX_MEDIA_TYPE, buffer.getvalue())


def _write(sheet, row: int, column: int, field: FieldSpec, value: object, formats: dict) -> None:
    if value is None:
        return
    cell_format = formats.get(field.type, formats["text"])
    if isinstance(value, (date, datetime)):
        moment = value if isinstance(value, datetime) else datetime.combine(value, datetime.min.time())
        sheet.write_datetime(row, column, moment, cell_format)
    elif isinstance(value, float):
        sheet.write_number(row, column, value, cell_format)
    else:
        sheet.write_string(row, column, neutralise(value), cell_format)


def csv_template(
    spec: DatasetSpec, city: City, month: date, encoding: str, conn: psycopg.Connection | None = None
) -> TemplateFile:
    """The CSV form of ``spec`` for ``month`` in ``utf-8`` (with BOM) or ``gb18030``."""
    if encoding not in ("utf-8", "gb18030"):
        raise ValueError(f"a CSV template is written in utf-8 or gb18030, not {encoding!r}")
    fields = template_fields(spec)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow([title(spec, city, month)])
    units = sorted({f.unit for f in fields if f.unit and f.unit != "%"})
    writer.writerow([f"单位：{'、'.join(units)}（以各列表头为准）"] if units else [])
    writer.writerow([header_text(f, month) for f in fields])
    for row in previous_rows(conn, spec, month, city):
        writer.writerow([_csv_cell(value) for value in row])
    data = text.getvalue().encode("utf-8-sig" if encoding == "utf-8" else "gb18030")
    label = "UTF-8" if encoding == "utf-8" else "GB18030"
    return TemplateFile(f"{title(spec, city, month)}（{label}）.csv", "text/csv", data)


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        written = repr(value)
        return written[:-2] if written.endswith(".0") else written
    return neutralise(value)


def templates_for(
    spec: DatasetSpec, city: City, month: date, conn: psycopg.Connection | None = None
) -> dict[str, TemplateFile]:
    """Every template of ``spec`` by kind: ``xlsx``, and for a CSV dataset ``csv-utf8`` and ``csv-gb18030``."""
    found = {"xlsx": xlsx_template(spec, city, month, conn)}
    if spec.channel.format == "csv":
        found["csv-utf8"] = csv_template(spec, city, month, "utf-8", conn)
        found["csv-gb18030"] = csv_template(spec, city, month, "gb18030", conn)
    return found
