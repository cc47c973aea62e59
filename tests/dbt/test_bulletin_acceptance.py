"""A provincial bulletin written outside the team, through reader, GX, raw and dbt, ranks the city right.

The city (扬州, 321000) issued 120.00 亿元 in Jan–Jul against 90.46 last year:
+32.66 %, the fastest growth of the 13 cities, and the 6th largest amount.
"""

from __future__ import annotations

from datetime import date

import pytest
from builders import bulletin_workbook

from citydw.orchestration import ingest_dataset
from citydw.transform import build

JULY = date(2022, 7, 1)

BULLETIN = {  # city code → (Jan–Jul issued, same period last year, spent), 亿元
    "320100": (310.50, 290.00, 180.10),
    "320200": (205.30, 190.20, 120.00),
    "320300": (160.00, 150.00, 90.00),
    "320400": (115.20, 120.00, 70.00),
    "320500": (402.00, 380.00, 250.00),
    "320600": (150.00, 140.00, 80.00),
    "320700": (88.00, 80.00, 40.00),
    "320800": (95.60, 90.00, 50.00),
    "320900": (110.00, 100.00, 60.00),
    "321000": (120.00, 90.46, 66.00),
    "321100": (70.00, 60.00, 30.00),
    "321200": (99.00, 95.00, 45.00),
    "321300": (65.00, 60.00, 30.00),
}


@pytest.mark.slow
def test_the_city_ranks_sixth_by_amount_and_first_by_growth(db, tmp_path):
    path = tmp_path / "关于2022年1-7月全省新增专项债券发行使用情况的通报.xlsx"
    path.write_bytes(bulletin_workbook(JULY, BULLETIN))

    result = ingest_dataset("finance.province_bond_bulletin", "2022-07", file=str(path))
    assert (result.status, result.rows_loaded) == ("accepted", 13)  # the 全省合计 row is not data
    assert db.execute(
        "select issued_ytd, issued_ytd_prev_year from raw.finance__province_bond_bulletin where city_code = '321000'"
    ).fetchone() == (1_200_000, 904_600)  # 亿元 → 万元
    assert build().success

    row = db.execute(
        """
        select issued_ytd_wan, issued_ytd_prev_year_wan, round(issued_yoy_growth, 4)::float,
               province_rank_by_issued, province_rank_by_growth, province_city_count
        from marts.bond_city_vs_province_monthly where report_month = '2022-07-01'
        """
    ).fetchone()
    assert row == (1_200_000, 904_600, 0.3266, 6, 1, 13)


@pytest.mark.slow
def test_the_brief_says_sixth_and_first_with_the_growth(db, tmp_path):
    """The same outside bulletin, alone in the warehouse: the brief's PDF names both ranks and the growth,
    and every other section says its data has not come in rather than printing zeros."""
    import subprocess

    from citydw.brief.render import make_brief

    path = tmp_path / "关于2022年1-7月全省新增专项债券发行使用情况的通报.xlsx"
    path.write_bytes(bulletin_workbook(JULY, BULLETIN))
    assert ingest_dataset("finance.province_bond_bulletin", "2022-07", file=str(path)).status == "accepted"
    assert build().success

    brief = make_brief(JULY, conn=db)
    text = "".join(
        subprocess.run(["pdftotext", str(brief.pdf), "-"], capture_output=True, text=True, check=True).stdout.split()
    )
    assert "1-7月全市新增专项债券发行1,200,000万元，同比增长32.66%" in text
    assert "总额列全省第6位，增幅列全省第1位（全省最高）" in text
    assert "初步数（未确认）" in text  # the other twelve datasets never came
    assert "重大项目调度表尚未报送" in text
