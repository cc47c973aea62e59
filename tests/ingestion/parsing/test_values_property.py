"""The value parser's promise, for any input: a canonical value, or a row problem with a reason.

Hypothesis feeds the readers every kind of cell they can meet — any text a
clerk can type, and any object calamine or a JSON feed can hand over
(floats including NaN, ±inf and 1e308, huge ints, bools, dates, times,
Excel error text, None) — and checks that parsing never raises, that every
non-empty cell either became a value of its field's type in range, or put
its row in ``issues`` with a Chinese reason, and that no cell is silently
dropped to NULL.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata

import pandas as pd
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from citydw.city import load_city
from citydw.parsing import values
from citydw.parsing.model import SOURCE_ROW
from citydw.parsing.records import read_records
from citydw.registry import DatasetSpec, FieldSpec

CITY = load_city()

TYPES = ("text", "district", "region_code", "decimal", "percent", "integer", "date", "boolean")

# What clerks type, weighted towards the characters numbers and dates are made of.
clerk_text = st.one_of(
    st.text(),
    st.text(alphabet="0123456789.,-+eE%年月日/ \u3000１２３４５６７８９０．，－％∞infINFnaN", max_size=24),
    st.sampled_from(
        ["1e308", "-1e308", "1e400", "1e-400", "Infinity", "-inf", "NaN", "∞", "#DIV/0!", "#N/A", "#VALUE!",
         "99999999999999999999", "2022-02-30", "44635", "1,234.5", "—", "无", "", " ", "\u200b"]
    ),
)  # fmt: skip

cell_object = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e308, -1e308, 1.7976931348623157e308, 5e-324, -0.0]),
    st.dates(),
    st.datetimes(),
    st.times(),
    st.timedeltas(),
    clerk_text,
)


def _spec(field_type: str) -> FieldSpec:
    unit = {"decimal": "万元", "percent": "%"}.get(field_type)
    return FieldSpec(field="f", header="列", key="v", type=field_type, unit=unit)


def _no_value(text: str | None) -> bool:
    """Whether a cell says "nothing here": blank, or one of the empty markers of number and date columns."""
    if text is None:
        return True
    trimmed = text.strip(values.TRIM_CHARACTERS)
    folded = re.sub(r"[\s\u200b\ufeff]+", "", unicodedata.normalize("NFKC", trimmed))
    return trimmed == "" or folded == "" or re.match(values.EMPTY_MARKERS, folded) is not None


def _canonical(value: object, field_type: str) -> bool:
    if field_type in ("decimal", "percent"):
        return isinstance(value, float) and math.isfinite(value) and abs(value) < values.LARGEST_NUMBER
    if field_type == "integer":
        return isinstance(value, int) and abs(value) < values.LARGEST_NUMBER
    if field_type == "date":
        return isinstance(value, dt.datetime) and 1900 <= value.year <= 2100
    if field_type == "boolean":
        return isinstance(value, bool)
    return isinstance(value, str) and value == value.strip(values.TRIM_CHARACTERS) and value != ""


@settings(max_examples=300, deadline=None)
@given(field_type=st.sampled_from(TYPES), cells=st.lists(st.one_of(st.none(), clerk_text), max_size=12))
def test_any_cell_text_becomes_a_value_or_is_flagged(field_type, cells):
    result = values.convert(pa.array(cells, pa.string()), _spec(field_type), CITY)

    converted = result.values.to_pylist()
    assert len(converted) == len(cells) == len(result.bad)
    for position, (cell, value) in enumerate(zip(cells, converted, strict=True)):
        if result.bad[position]:
            assert value is None
            rule_id, reason = result.reason(position)
            assert rule_id.startswith("parse.") and re.search(r"[\u4e00-\u9fff]", reason)
        elif value is None:
            assert _no_value(cell), f"{cell!r} became NULL without a reason"
        else:
            assert _canonical(value, field_type), f"{cell!r} became {value!r}"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    field_type=st.sampled_from(TYPES),
    cells=st.lists(cell_object, min_size=1, max_size=8),
)
def test_any_cell_object_becomes_a_value_or_quarantines_its_row(field_type, cells):
    """Through a reader (API records, the same path as calamine's cells): never raises, nothing lost."""
    spec = DatasetSpec.model_validate(
        {
            "department": "test",
            "name": "cells",
            "title": "测试表",
            "channel": {"kind": "api", "format": "json", "endpoint": "t?month={month}"},
            "due": {"working_day": 5},
            "key": [],
            "fields": [_spec(field_type).model_dump()],
        }
    )
    parsed = read_records([{"v": cell} for cell in cells], spec, CITY, "cells.json")

    flagged = {issue.source_row for issue in parsed.issues}
    for issue in parsed.issues:
        assert re.search(r"[\u4e00-\u9fff]", issue.message), issue
    for row, cell in enumerate(cells, start=1):
        value = parsed.frame.loc[parsed.frame[SOURCE_ROW] == row, "f"].iloc[0]
        if row in flagged:
            assert pd.isna(value)
        elif pd.isna(value):
            assert _no_value(values.cell_text(cell)), f"{cell!r} became NULL without a reason"


# --- the same promise through a real workbook (issue 18.3) --------------------------------------

# Template columns the workbook property fills, by type: their 0-based column in builders.DRC_HEADERS.
WORKBOOK_FIELDS = {"project_name": 1, "total_investment": 6, "planned_start_date": 10, "is_bond_funded": 16}

excel_cell = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=True, allow_infinity=True),  # NaN and ±inf are written as #NUM! / #DIV/0! cells
    st.sampled_from([1e308, -1e308, 44635.0, 0.852, -0.0]),
    st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(9999, 12, 31)),
    st.text(max_size=20).filter(lambda text: not text.startswith(("=", "{"))),
    st.tuples(st.just("formula"), st.sampled_from(["#DIV/0!", "#N/A", "#VALUE!", "#REF!", 5, "文字", ""])),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cells=st.lists(st.fixed_dictionaries({name: excel_cell for name in WORKBOOK_FIELDS}), min_size=1, max_size=5))
def test_any_excel_cell_becomes_a_value_or_quarantines_its_row(drc, cells):
    """Through calamine: error cells and formulas are row problems naming the cell, never a silent NULL."""
    from citydw.parsing.xlsx import read_xlsx

    data, written = _workbook(cells)
    parsed = read_xlsx(data, "property.xlsx", drc, CITY)

    flagged = {(issue.source_row, issue.field) for issue in parsed.issues}
    assert parsed.frame[SOURCE_ROW].tolist() == list(range(4, 4 + len(cells)))
    for (row, field), cell in written.items():
        value = parsed.frame.loc[parsed.frame[SOURCE_ROW] == row, field].iloc[0]
        if isinstance(cell, tuple):  # an error value, or a formula's result
            if isinstance(cell[1], str) and cell[1].startswith("#"):
                assert (row, field) in flagged, f"{cell!r} in row {row} became {value!r} without a problem"
        elif (row, field) not in flagged and pd.isna(value) and cell is not None:
            text = values.cell_text(cell)
            assert _no_value(text), f"{cell!r} in row {row} became NULL without a reason"


def _workbook(rows: list[dict]) -> tuple[bytes, dict[tuple[int, str], object]]:
    """A DRC report whose WORKBOOK_FIELDS cells hold ``rows``; (row, field) → what was written."""
    import io

    import xlsxwriter
    from builders import DRC_HEADERS, drc_project

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "nan_inf_to_errors": True})
    sheet = book.add_worksheet("Sheet1")
    dates = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write(0, 0, "扬州市2022年1-7月重大项目推进情况调度表")
    sheet.write(1, 0, "单位：万元")
    sheet.write_row(2, 0, [header.format(ytd="1-7月") for header in DRC_HEADERS])
    written = {}
    for offset, cells in enumerate(rows):
        base = list(drc_project(offset + 1).values())
        for column, value in enumerate(base):
            if value is not None and column not in WORKBOOK_FIELDS.values():
                sheet.write(3 + offset, column, value)
        for field, column in WORKBOOK_FIELDS.items():
            cell = cells[field]
            written[(4 + offset, field)] = cell
            if isinstance(cell, tuple):
                sheet.write_formula(3 + offset, column, "=1/0", None, cell[1])
            elif isinstance(cell, dt.datetime):
                sheet.write_datetime(3 + offset, column, cell, dates)
            elif isinstance(cell, str):
                sheet.write_string(3 + offset, column, cell) if cell else None
            elif cell is not None:
                sheet.write(3 + offset, column, cell)
    book.close()
    return buffer.getvalue(), written
