"""Finding the table in a grid of cell text (citydw.parsing.grid)."""

from __future__ import annotations

from datetime import date

import pytest

from citydw.parsing import grid
from citydw.parsing.model import DeliveryUnreadable
from citydw.registry import DatasetSpec

HEADERS = ["项目代码", "项目名称", "所在地区", "总投资（万元）", "本月完成投资（万元）"]


@pytest.mark.parametrize(
    ("written", "name", "unit"),
    [
        ("总投资（亿元）", "总投资", "亿元"),
        ("总投资(万元)", "总投资", "万元"),
        ("总投资\n（ 亿元 ）", "总投资", "亿元"),
        ("总投资【万元】", "总投资", "万元"),
        ("总投资（单位：亿元）", "总投资", "亿元"),
        ("完成比例（%）", "完成比例", "%"),
        ("完成比例(％)", "完成比例", "%"),
        ("*项目代码", "项目代码", None),
        ("项目　代码 ", "项目代码", None),
        ("期限（年）", "期限(年)", None),  # 年 is not a unit the registry converts
    ],
)
def test_read_header_splits_name_and_unit(written: str, name: str, unit: str | None) -> None:
    header = grid.read_header(written)
    assert (header.name, header.unit) == (name, unit)


@pytest.mark.parametrize(
    ("written", "field"),
    [
        ("项目代码", "project_code"),
        ("总投资（亿元）", "total_investment"),
        ("7月完成投资", "month_investment"),
        ("7月份完成投资（万元）", "month_investment"),
        ("1-7月累计完成投资", "ytd_investment"),
        ("1－7月累计完成投资（万元）", "ytd_investment"),
        ("一至七月累计完成投资", "ytd_investment"),
        ("本年累计完成投资", "ytd_investment"),
        ("年度计划完成投资", "annual_plan_investment"),
        ("是否专项债\n项目", "is_bond_funded"),
        ("投资完成情况", None),
        ("序号", None),
    ],
)
def test_match_field_by_header_or_pattern(drc: DatasetSpec, written: str, field: str | None) -> None:
    matched = grid.match_field(grid.read_header(written), drc)
    assert (matched.field if matched else None) == field


@pytest.mark.parametrize(
    ("titles", "month"),
    [
        (["扬州市2022年1-7月重大项目推进情况调度表"], date(2022, 7, 1)),
        (["2022年7月重大项目调度表"], date(2022, 7, 1)),
        (["扬州市2022年1至7月重大项目推进情况表"], date(2022, 7, 1)),
        (["2022年1～12月"], date(2022, 12, 1)),
        (["２０２２年一至七月"], date(2022, 7, 1)),
        (["2022年十一月"], date(2022, 11, 1)),
        (["填报日期：2022年8月5日", "扬州市2022年1-7月调度表"], date(2022, 7, 1)),
        (["2022年度重大项目"], None),
        ([], None),
    ],
)
def test_month_in_titles(titles: list[str], month: date | None) -> None:
    assert grid.month_in_titles(titles) == month


def test_unit_in_titles_skips_the_reporting_unit() -> None:
    assert grid.unit_in_titles(["填报单位：市发改委", "单位：亿元"]) == "亿元"
    assert grid.unit_in_titles(["（单位:万元）"]) == "万元"
    assert grid.unit_in_titles(["填报单位：市发改委"]) is None


def test_find_layout_prefers_the_leaf_row_of_a_two_row_header(drc: DatasetSpec) -> None:
    rows = [
        ["扬州市2022年1-7月重大项目推进情况调度表", "", "", "", ""],
        ["项目代码", "项目名称", "所在地区", "投资完成情况", ""],
        ["", "", "", "总投资（亿元）", "本月完成投资"],
        ["2022-321012-48-01-000001", "沿江公路", "江都", "12", "0.25"],
    ]
    layout = grid.find_layout(rows, drc, "t.xlsx")
    assert layout is not None
    assert (layout.header_row, layout.data_start, layout.width) == (2, 3, 5)
    assert layout.columns == {
        "project_code": 0,
        "project_name": 1,
        "district": 2,
        "total_investment": 3,
        "month_investment": 4,
    }
    assert layout.units == {"total_investment": "亿元"}
    assert layout.factors == {"total_investment": 10_000.0}
    assert layout.declared_month == date(2022, 7, 1)


def test_find_layout_single_row_wins_a_tie(drc: DatasetSpec) -> None:
    rows = [["基本情况", "", "投资"], HEADERS, ["a", "b", "c", "1", "2"]]
    layout = grid.find_layout(rows, drc, "t.xlsx")
    assert layout is not None
    assert layout.header_row == 1
    assert layout.extra_headers == []


def test_find_layout_needs_two_template_headers(drc: DatasetSpec) -> None:
    assert grid.find_layout([["项目代码", "备注"], ["x", "y"]], drc, "t.xlsx") is None
    assert grid.find_layout([], drc, "t.xlsx") is None


def test_a_field_named_twice_is_unreadable(drc: DatasetSpec) -> None:
    with pytest.raises(DeliveryUnreadable, match=r"t\.xlsx.*第D列“总投资（万元）”和第F列“总投资（亿元）”"):
        grid.find_layout([[*HEADERS, "总投资（亿元）"]], drc, "t.xlsx")


def test_column_letter() -> None:
    assert [grid.column_letter(i) for i in (0, 25, 26, 27, 701, 702)] == ["A", "Z", "AA", "AB", "ZZ", "AAA"]


def test_a_unit_row_under_the_header_is_read_not_loaded(drc: DatasetSpec) -> None:
    rows = [HEADERS, ["", "", "", "亿元", "（万元）"], ["a", "b", "江都", "1.5", "2"]]
    layout = grid.find_layout(rows, drc, "t.xlsx")
    assert layout is not None
    assert layout.data_start == 2
    assert layout.units == {"total_investment": "万元", "month_investment": "万元"}  # the header's 万元 wins
    rows[0] = ["项目代码", "项目名称", "所在地区", "总投资", "本月完成投资"]
    layout = grid.find_layout(rows, drc, "t.xlsx")
    assert layout is not None
    assert layout.units == {"total_investment": "亿元", "month_investment": "万元"}
    assert layout.factors == {"total_investment": 10_000.0, "month_investment": 1.0}


def test_a_column_number_row_is_not_data(drc: DatasetSpec) -> None:
    layout = grid.find_layout([["序号", *HEADERS], ["甲", "1", "2", "3", "4", "5"], ["1", "a"]], drc, "t.xlsx")
    assert layout is not None
    assert layout.data_start == 2
    assert not grid.is_column_number_row(["1", "2022-321012-48-01-000001", "3"])
    assert not grid.is_column_number_row(["1", "2", "3", "4", "8"])


@pytest.mark.parametrize(
    ("written", "field"),
    [
        ("2022年度计划投资", "annual_plan_investment"),
        ("2022年年度计划投资（万元）", "annual_plan_investment"),
        ("2022年计划投资", "annual_plan_investment"),
        ("8月完成投资", "month_investment"),
        ("当月完成投资", "month_investment"),
        ("2022年8月完成投资", "month_investment"),
        ("1-8月累计完成投资", "ytd_investment"),
        ("1～8月累计完成投资（亿元）", "ytd_investment"),
        ("今年累计完成投资", "ytd_investment"),
        ("是否专项债项目（是/否）", "is_bond_funded"),
        ("问题类型（要素保障/征地拆迁/…）", "blocker_type"),
        ("项目状态（储备、新开工、在建、竣工）", "status"),
        ("总投资（美元）", "total_investment"),  # matched, so the unit can be refused by name
        ("项目代码（新）", None),
        ("总投资（含税）", None),  # not a unit: an extra column, not a unit to refuse
        ("总投资（其中：中央预算内资金）", None),
    ],
)
def test_headers_in_clerks_words_match_every_dataset_alike(drc: DatasetSpec, written: str, field: str | None) -> None:
    matched = grid.match_field(grid.read_header(written), drc)
    assert (matched.field if matched else None) == field


@pytest.mark.parametrize(
    ("written", "unit", "factor"),
    [
        ("万m²", "万m2", 1.0),
        ("万㎡", "万m2", 1.0),
        ("万平米", "万平米", 1.0),
        ("㎡", "m2", 0.0001),
        ("平方米", "平方米", 0.0001),
    ],
)
def test_unit_spellings_convert_to_the_canonical_unit(
    gauge: DatasetSpec, written: str, unit: str, factor: float
) -> None:
    header = grid.read_header(f"建筑面积（{written}）")
    assert (header.name, header.unit) == ("建筑面积", unit)
    assert gauge.field("floor_area").unit_factor(header.unit) == factor


def test_an_unknown_unit_is_refused_by_name(drc: DatasetSpec) -> None:
    rows = [["项目代码", "项目名称", "总投资（美元）"]]
    with pytest.raises(DeliveryUnreadable, match=r"f\.xlsx：第C列“总投资（美元）”的单位“美元”无法识别.*万元、亿元"):
        grid.find_layout(rows, drc, "f.xlsx")


@pytest.mark.parametrize(
    ("titles", "month"),
    [
        (["扬州市重大项目调度表", "填报日期：", "2022年9月5日"], None),
        (["2022年1-8月重大项目调度表", "填报时间 2022年9月5日"], date(2022, 8, 1)),
        (["2022年9月5日", "扬州市2022年1-8月重大项目调度表"], date(2022, 8, 1)),
        (["重大项目调度表（截至2022年8月31日）"], date(2022, 8, 1)),
    ],
)
def test_the_title_month_is_the_titles_not_a_fill_dates(titles: list[str], month: date | None) -> None:
    assert grid.month_in_titles(titles) == month


def test_last_and_this_months_cumulative_side_by_side(drc: DatasetSpec) -> None:
    rows = [["2022年1-8月重大项目调度表"], ["项目代码", "项目名称", "1-7月累计完成投资", "1-8月累计完成投资"]]
    layout = grid.find_layout(rows, drc, "f.xlsx")
    assert layout is not None
    assert layout.columns["ytd_investment"] == 3 and layout.extra_headers == ["1-7月累计完成投资"]
    with pytest.raises(DeliveryUnreadable, match="无法判断以哪一列为准（报表标题是2022年9月，两列都不是这个月的数）"):
        grid.find_layout([["2022年1-9月"], rows[1]], drc, "f.xlsx")  # neither names September


def test_sections_subtotals_counted_totals_and_notes_are_structure(drc: DatasetSpec) -> None:
    rows = [
        ["序号", "项目代码", "项目名称", "所在地区", "总投资（万元）"],
        ["一、基础设施类（2个）", "", "", "", ""],
        ["1", "2022-321002-48-01-000001", "道路", "广陵区", "100"],
        ["说明：以下项目为新增。", "", "", "", ""],
        ["2", "2022-321002-48-01-000002", "桥梁", "广陵区", "200"],
        ["", "基础设施类小计", "", "", "300"],
        ["二", "", "生态环境类", "", ""],
        ["3", "2022-321002-48-01-000003", "湿地", "高邮", "50"],
        ["", "广陵区小计", "", "", "300"],
        ["合计（3个）", "", "", "", "350"],
        ["数据来源：各区发改部门", "", "", "", ""],
        ["4", "", "注释下面的一行", "", ""],
    ]
    layout = grid.find_layout(rows, drc, "f.xlsx")
    assert layout is not None
    body = grid.grid_from_rows(rows[1:], 2, layout.width)
    data, totals, notes = grid.row_masks(body, layout, drc)
    assert body.source_rows[data].tolist() == [3, 5, 8]
    assert body.source_rows[totals].tolist() == [10]
    assert notes == ["说明：以下项目为新增。", "数据来源：各区发改部门"]
