"""The sections' sentences say what the figures say: words by sign, ties, first and last, and gaps in the data."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from citydw.brief import sentences
from citydw.brief.figures import Figures, query_names

JULY = date(2022, 7, 1)


def figures(**results) -> Figures:
    """Every query empty except those given."""
    return Figures(JULY, {name: results.get(name, []) for name in query_names()})


def bonds_city(**values):
    row = {
        "issued_ytd_wan": D("866300"),
        "issued_ytd_prev_year_wan": D("653000"),
        "issued_yoy_growth": D("0.3266"),
        "province_rank_by_issued": 6,
        "province_rank_by_growth": 1,
        "province_city_count": 13,
        "spending_progress": D("0.6598"),
        "province_avg_spending_progress": D("0.5082"),
        "spending_progress_gap_pp": D("15.16"),
    }
    row.update(values)
    return row


def test_the_bond_headline_as_the_speech_reads_it():
    (headline,) = sentences.bonds_lead(figures(bonds_city=[bonds_city()]))
    assert headline == (
        "1-7月全市新增专项债券发行866,300万元，同比增长32.66%，总额列全省第6位，"
        "增幅列全省第1位（全省最高）；支出进度65.98%，高于全省平均15.16个百分点。"
    )


def test_the_bond_headline_turns_with_the_signs():
    city = bonds_city(
        issued_yoy_growth=D("-0.052"),
        province_rank_by_issued=13,
        province_rank_by_growth=13,
        spending_progress_gap_pp=D("-3.2"),
    )
    (headline,) = sentences.bonds_lead(figures(bonds_city=[city]))
    assert "同比下降5.20%" in headline
    assert "总额列全省第13位（全省最低）" in headline
    assert "增幅列全省第13位（全省最低）" in headline
    assert "低于全省平均3.20个百分点" in headline
    assert "增长" not in headline and "高于" not in headline and "最高" not in headline


def test_no_spending_report_is_said_not_dashed():
    (headline,) = sentences.bonds_lead(
        figures(bonds_city=[bonds_city(spending_progress=None, spending_progress_gap_pp=None)])
    )
    assert headline.endswith("增幅列全省第1位（全省最高）；全市专项债券资金使用情况表尚未报送，支出进度暂缺。")


def test_no_bulletin_is_said_not_zeroed():
    (headline,) = sentences.bonds_lead(figures())
    assert "尚未收到" in headline and "0" not in headline.replace("1-7", "")


def district(name, progress, rank, spread):
    return {
        "district_name": name,
        "spending_progress": D(progress),
        "rank_in_city": rank,
        "spread_pp": D(spread),
        "city_spending_progress": D("0.3"),
    }


def test_the_best_and_worst_districts_with_ties():
    rows = [
        district("广陵区", "0.48", 1, "41.33"),
        district("江都区", "0.48", 1, "41.33"),
        district("邗江区", "0.0667", 3, "41.33"),
    ]
    _, spread = sentences.bonds_lead(figures(bonds_districts=rows))[:2]
    assert (
        spread == "分地区看，支出进度最快的是广陵区、江都区（均为48.00%），最慢的是邗江区（6.67%），相差41.33个百分点。"
    )


def demolition(ytd, previous, target):
    city = {
        "district_code": None,
        "district_name": "全市",
        "ytd_demolished": D(ytd),
        "annual_target": D(target),
        "target_completion_rate": D(ytd) / D(target),
        "prev_year_total_demolished": None if previous is None else D(previous),
        "prev_year_total_rate": None if previous is None else D(ytd) / D(previous),
        "ytd_land_mu": D("10"),
    }
    return [city]


def test_demolition_has_passed_or_not_last_years_total():
    (above,) = sentences.demolition_lead(figures(demolition=demolition("130", "126", "260")))
    assert "已超过上年全年总量" in above and "完成全年目标任务（260万平方米）的50.00%" in above
    (below,) = sentences.demolition_lead(figures(demolition=demolition("73.5", "126", "126")))
    assert "尚未达到上年全年总量" in below and "为其58.33%" in below
    (unknown,) = sentences.demolition_lead(figures(demolition=demolition("73.5", None, "126")))
    assert "上年全年拆迁量暂缺" in unknown and "超过" not in unknown and "尚未达到" not in unknown


def test_the_months_status_names_what_is_missing():
    status = {"is_certified": False}
    outstanding = [
        {"department_name": "市财政局", "dataset_title": "专项债券资金使用情况表", "what_is_missing": "未报送"}
    ]
    word, note = sentences.status_line(figures(month_status=[status], month_outstanding=outstanding))
    assert word == "初步数（未确认）"
    assert "市财政局《专项债券资金使用情况表》未报送" in note
    word, _ = sentences.status_line(figures(month_status=[{"is_certified": True}]))
    assert word == "正式数"
    word, _ = sentences.status_line(figures())
    assert word == "初步数（未确认）"


def test_every_section_has_a_headline_on_an_empty_month():
    for section in sentences.sections(figures()):
        assert section.headline.endswith("。"), section
