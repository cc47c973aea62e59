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
