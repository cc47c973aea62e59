"""The brief's comparatives follow the sign of the number, at the precision the brief prints."""

from __future__ import annotations

from decimal import Decimal

import pytest

from citydw.brief import wording as w


@pytest.mark.parametrize(
    ("gap", "expected"),
    [
        (15.16, "高于全省平均15.16个百分点"),
        (Decimal("-22.381879441723472382"), "低于全省平均22.38个百分点"),
        (0, "与全省平均持平"),
        (0.004, "与全省平均持平"),  # prints as 0.00: never "高于…0.00个百分点"
        (-0.004, "与全省平均持平"),
        (0.005, "高于全省平均0.01个百分点"),  # half up, as people round
        (-0.005, "低于全省平均0.01个百分点"),
        (None, "暂无全省平均可比"),
    ],
)
def test_gap_words_follow_the_sign(gap, expected):
    assert w.gap_to("全省平均", gap) == expected


@pytest.mark.parametrize(
    ("rate", "expected"),
    [
        (Decimal("0.3266"), "同比增长32.66%"),
        (-0.05, "同比下降5.00%"),
        (0, "与上年同期持平"),
        (0.00004, "与上年同期持平"),
        (-0.00004, "与上年同期持平"),
        (None, "上年同期无可比数据"),
    ],
)
def test_growth_words_follow_the_sign(rate, expected):
    assert w.growth(rate) == expected


@pytest.mark.parametrize(
    ("position", "count", "tied", "expected"),
    [
        (1, 13, False, "列全省第1位（全省最高）"),
        (13, 13, False, "列全省第13位（全省最低）"),
        (6, 13, False, "列全省第6位"),
        (1, 13, True, "列全省并列第1位（全省最高）"),
        (1, 1, False, "列全省第1位"),  # alone: neither the highest nor the lowest of anything
        (None, 13, False, "暂无全省排名"),
    ],
)
def test_ranks_name_the_first_and_the_last(position, count, tied, expected):
    assert w.rank(position, count, tied=tied) == expected


def test_rank_one_of_a_speed_is_the_fastest():
    assert w.rank(1, 6, scope="全市", top="最快") == "列全市第1位（全市最快）"
    assert w.rank(6, 6, scope="全市", top="最快") == "列全市第6位（全市最慢）"


@pytest.mark.parametrize(
    ("value", "reference", "expected"),
    [
        (130, 126, "已超过上年全年总量"),
        (73.5, 126, "尚未达到上年全年总量"),
        (126, 126, "已达到上年全年总量"),
        (125.999, 126, "已达到上年全年总量"),  # equal as printed
        (None, 126, "上年全年总量暂无数据"),
        (73.5, None, "上年全年总量暂无数据"),
    ],
)
def test_against_a_reference(value, reference, expected):
    assert w.against(value, reference, "上年全年总量") == expected


def test_more_or_less_and_ties():
    assert w.more_or_less(2, 1) == "高于"
    assert w.more_or_less(1, 2) == "低于"
    assert w.more_or_less(1.001, 1) == "持平于"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("1989900"), "1,989,900"),
        (Decimal("866300.50"), "866,300.5"),
        (1837.5, "1,837.5"),
        (Decimal("0.001"), "0"),
        (Decimal("-0.001"), "0"),  # never "-0"
        (None, "—"),
    ],
)
def test_numbers_as_people_write_them(value, text):
    assert w.number(value) == text


def test_amounts_rates_and_points():
    assert w.wan(Decimal("866300")) == "866,300万元"
    assert w.percent(Decimal("0.6598")) == "65.98%"
    assert w.percent(Decimal("0.3266"), 1) == "32.7%"
    assert w.percent(Decimal("-0.0000001")) == "0.00%"
    assert w.points(Decimal("-15.155")) == "15.16个百分点"
    assert w.signed(16) == "+16.00"
    assert w.signed(-2) == "-2.00"
    assert w.signed(-0.001) == "0.00"


def test_count_lists_put_the_largest_first_and_leave_out_zeros():
    assert (
        w.count_list({"要素保障": 1, "征地拆迁": 3, "行政审批": 0, "考古勘探": 1})
        == "征地拆迁3个、要素保障1个、考古勘探1个"
    )
    assert w.count_list({"要素保障": 0}) == ""
    assert w.count_list({"已批复": 1, "编制中": 5, "未启动": 0}, "项", largest_first=False) == "已批复1项、编制中5项"


def test_months_label():
    assert w.months_label(1) == "1月"
    assert w.months_label(7) == "1-7月"
