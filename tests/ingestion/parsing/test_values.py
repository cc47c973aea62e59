"""Cell text → canonical values (citydw.parsing.values), column at a time."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from citydw.parsing import values


def column(*cells: str | None) -> pa.Array:
    return pa.array(list(cells), pa.string())


def test_decimal_understands_what_clerks_write() -> None:
    result = values.to_decimal(
        column("１２３４．５", "1,234.5", "1，234", " 12 ", "\u300012\xa0", "-3.5", "\u22122", "+7", "1e3", "", None)
    )
    assert result.values.to_pylist() == [1234.5, 1234.5, 1234.0, 12.0, 12.0, -3.5, -2.0, 7.0, 1000.0, None, None]
    assert not result.bad.any()


@pytest.mark.parametrize("marker", ["—", "-", "/", "无", "——", "－", "\\"])
def test_empty_markers_are_no_value_not_an_error(marker: str) -> None:
    result = values.to_decimal(column(marker))
    assert result.values.to_pylist() == [None]
    assert not result.bad.any()


@pytest.mark.parametrize("text", ["约5亿", "1.2.3", "12,34", "85%", "abc", "1e400", "１２万"])
def test_decimal_rejects_what_is_not_a_number(text: str) -> None:
    result = values.to_decimal(column(text))
    assert result.values.to_pylist() == [None]
    assert result.bad.tolist() == [True]
    assert result.rule_id == "parse.decimal"


def test_unit_factor_is_applied_and_rounded_to_six_places() -> None:
    result = values.to_decimal(column("1.5", "4.50005", "0.1", "3"), factor=10_000)
    assert result.values.to_pylist() == [15000.0, 45000.5, 1000.0, 30000.0]
    yuan = values.to_decimal(column("12345678", "1"), factor=0.0001)
    assert yuan.values.to_pylist() == [1234.5678, 0.0001]


def test_percent_accepts_a_percent_sign() -> None:
    result = values.to_decimal(column("85.2%", "85.2", "８５％", "100 %"), percent=True)
    assert result.values.to_pylist() == [85.2, 85.2, 85.0, 100.0]
    assert not result.bad.any()


def test_integer_accepts_a_whole_float_but_not_a_fraction() -> None:
    result = values.to_integer(column("12", "12.0", "1,200", "12.5", ""))
    assert result.values.to_pylist() == [12, 12, 1200, None, None]
    assert result.bad.tolist() == [False, False, False, True, False]
    assert result.rule_id == "parse.integer"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2022-03-15", dt.datetime(2022, 3, 15)),
        ("2022/3/15", dt.datetime(2022, 3, 15)),
        ("2022.03.15", dt.datetime(2022, 3, 15)),
        ("2022.03", dt.datetime(2022, 3, 1)),
        ("2022-3", dt.datetime(2022, 3, 1)),
        ("2022年3月", dt.datetime(2022, 3, 1)),
        ("2022年3月份", dt.datetime(2022, 3, 1)),
        ("2022年3月15日", dt.datetime(2022, 3, 15)),
        ("2022 年 3 月 15 日", dt.datetime(2022, 3, 15)),
        ("２０２２年３月１５日", dt.datetime(2022, 3, 15)),
        ("20220315", dt.datetime(2022, 3, 15)),
        ("202203", dt.datetime(2022, 3, 1)),
        ("44635", dt.datetime(2022, 3, 15)),
        ("44635.5", dt.datetime(2022, 3, 15)),
        ("2022-03-15 00:00:00", dt.datetime(2022, 3, 15)),
        ("2022/3/15 9:30", dt.datetime(2022, 3, 15)),
    ],
)
def test_dates_in_every_form_a_clerk_writes(text: str, expected: dt.datetime) -> None:
    result = values.to_date(column(text))
    assert result.values.to_pylist() == [expected]
    assert not result.bad.any()


@pytest.mark.parametrize(
    "text", ["2022-02-30", "2022年13月", "明年", "2022-13-01", "321012", "3月15日", "15/03/2022", "20223"]
)
def test_dates_that_are_not_dates(text: str) -> None:
    result = values.to_date(column(text))
    assert result.values.to_pylist() == [None]
    assert result.bad.tolist() == [True]
    assert result.rule_id == "parse.date"


def test_dates_repeat_and_mix_with_empty_cells() -> None:
    result = values.to_date(column("2022-03-15", None, "—", "2022-03-15", "x", "2022.03"))
    assert result.values.to_pylist() == [
        dt.datetime(2022, 3, 15),
        None,
        None,
        dt.datetime(2022, 3, 15),
        None,
        dt.datetime(2022, 3, 1),
    ]
    assert result.bad.tolist() == [False, False, False, False, True, False]


def test_booleans_use_the_templates_words() -> None:
    result = values.to_boolean(
        column("是", "否", "√", "×", " 是 ", "TRUE", "", "也许"), ("是", "√", "TRUE"), ("否", "×")
    )
    assert result.values.to_pylist() == [True, False, True, False, True, True, None, None]
    assert result.bad.tolist() == [False] * 7 + [True]


def test_text_is_kept_verbatim_after_trimming() -> None:
    cells = column("=1+1", "'; drop table x;--", "\u3000 江都区沿江高等级公路 \xa0", "＝SUM(A1)", "a\nb", "  ")
    assert values.to_text(cells).values.to_pylist() == [
        "=1+1",
        "'; drop table x;--",
        "江都区沿江高等级公路",
        "＝SUM(A1)",
        "a\nb",
        None,
    ]


def test_district_resolves_names_and_keeps_what_it_cannot(city) -> None:
    result = values.to_district(
        column("江都", "江都区", "扬州市江都区", "321012", "江都市", " 邗江 ", "开发区", None), city
    )
    assert result.values.to_pylist() == ["321012", "321012", "321012", "321012", "321012", "321003", "开发区", None]
    assert not result.bad.any()  # an unknown district is validation's to reject, not a parse issue


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (12.0, "12"),
        (44635.0, "44635"),
        (1234.5, "1234.5"),
        (0.1 + 0.2, "0.3"),
        (True, "TRUE"),
        (7, "7"),
        (dt.datetime(2022, 3, 15), "2022-03-15"),
        (dt.date(2022, 3, 15), "2022-03-15"),
        ("=1+1", "=1+1"),
    ],
)
def test_cell_text_of_typed_cells(value: object, text: str) -> None:
    assert values.cell_text(value) == text


def test_cell_text_of_a_percent_formatted_cell() -> None:
    assert values.cell_text(0.852, as_percent=True) == "85.2%"
