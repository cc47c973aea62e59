"""A month keeps its report, workbooks and Data Docs whatever its rules recorded (issue 18.1).

A bond correction with one quarantined row used to make the bulletin rule
record 2 unexpected values of 1 element; GX then refused the result
(``InvalidCacheValueError``) and ``citydw report`` died without a report.
These tests run on the whole registry (not the DRC-only one of this folder).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from builders import bulletin_workbook

from citydw.city import load_city
from citydw.orchestration import ingest_dataset
from citydw.quality import report
from citydw.settings import get_settings

REPO = Path(__file__).resolve().parents[3]
BONDS = "finance.bond_allocations"
BOND_HEADER = (
    "债券编码,债券名称,债券类型,发行日期,期限（年）,票面利率（%）,项目代码,项目名称,区划代码,投向领域,"
    "分配金额（万元）,本月支出（万元）,累计支出（万元）\n"
)


def bond_row(code: str, project: str, allocated: float, spent: float) -> str:
    return f"{code},2022年江苏省政府专项债券,新增专项债券,2022-03-15,10,3.12,{project},某项目,321002,交通,{allocated},0,{spent}\n"


def city_bulletin(city_issued_yi: float, city_spent_yi: float) -> bytes:
    """A July bulletin where every other city issued 100 亿元 and spent 50."""
    city = load_city()
    rows = {code: (100.0, 80.0, 50.0) for code in sorted(city.province_cities)}
    rows[city.code] = (city_issued_yi, 80.0, city_spent_yi)
    return bulletin_workbook(date(2022, 7, 1), rows)


@pytest.fixture(autouse=True)
def drc_only(monkeypatch, tmp_path):
    """This module needs the finance datasets: the repository's registry and suites, not the DRC alone."""
    monkeypatch.setenv("CITYDW_REGISTRY_DIR", str(REPO / "registry"))
    monkeypatch.setenv("CITYDW_EXPECTATIONS_DIR", str(REPO / "expectations"))
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "dbt-target"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _bonds(tmp_path: Path, name: str, rows: list[str]) -> str:
    path = tmp_path / name
    path.write_bytes((BOND_HEADER + "".join(rows)).encode("gb18030"))
    return str(path)


def _bulletin_results(db) -> list[tuple]:
    return db.execute(
        """
        select d.version, r.success, r.element_count, r.unexpected_count
        from meta.validation_results r join meta.deliveries d using (delivery_id)
        where d.dataset = %s and r.rule_id like 'citydw.bulletin_agrees_with_bonds%%'
        order by d.version
        """,
        (BONDS,),
    ).fetchall()


@pytest.mark.slow
def test_a_bond_correction_with_a_duplicate_row_still_gets_its_report_and_workbook(db, tmp_path, citydw_home):
    first = bond_row("2022-JS-ZX-001", "2022-321002-48-01-000001", 50000, 20000)
    second = bond_row("2022-JS-ZX-002", "2022-321002-48-01-000002", 30000, 10000)
    assert ingest_dataset(BONDS, "2022-07", file=_bonds(tmp_path, "v1.csv", [first, second])).status == "accepted"
    bulletin = tmp_path / "bulletin.xlsx"
    bulletin.write_bytes(city_bulletin(8.0, 3.0))  # agrees: 80000 and 30000 万元
    assert ingest_dataset("finance.province_bond_bulletin", "2022-07", file=str(bulletin)).status == "accepted"

    # The correction repeats bond 1 × project 1: both copies are quarantined, bond 1 no longer adds up.
    correction = ingest_dataset(BONDS, "2022-07", file=_bonds(tmp_path, "v2.csv", [first, second, first]))
    assert (correction.status, correction.version, correction.rows_quarantined) == ("accepted", 2, 2)

    # Both figures disagree now: two unexpected values of the two compared, never more than compared.
    assert _bulletin_results(db) == [(1, True, 0, 0), (2, False, 2, 2)]  # v1 came before the bulletin

    result = report.run("2022-07", notify=False)

    folder = Path(citydw_home) / "reports" / "2022-07"
    assert result.index.is_file() and (folder / "corrections" / "finance.xlsx").is_file()
    assert result.datadocs == folder / "datadocs" / "index.html"
    page = (folder / "datadocs" / BONDS / "v2.html").read_text(encoding="utf-8")
    assert "Great Expectations" in page and "全省通报中本市数据与本市专项债券资金使用情况表不一致" in page


@pytest.mark.slow
def test_a_result_gx_refuses_still_gets_a_page_with_a_note(db, tmp_path, citydw_home):
    """Rows recorded before the fix (2 of 1) stay in meta: the month's pages render them anyway."""
    row = bond_row("2022-JS-ZX-001", "2022-321002-48-01-000001", 50000, 20000)
    assert ingest_dataset(BONDS, "2022-07", file=_bonds(tmp_path, "v1.csv", [row])).status == "accepted"
    db.execute(
        """
        update meta.validation_results set success = false, element_count = 1, unexpected_count = 2,
               unexpected_sample = %s
        where rule_id like 'citydw.bulletin_agrees_with_bonds%%'
        """,
        (json.dumps(["通报 62,000 万元，本市报表 50,000 万元", "通报 3 万元，本市报表 2 万元"]),),
    )

    result = report.run("2022-07", notify=False)

    folder = Path(citydw_home) / "reports" / "2022-07"
    assert result.index.is_file()
    page = (folder / "datadocs" / BONDS / "v1.html").read_text(encoding="utf-8")
    assert "以下为同一批校验结果的简表" in page and "通报 62,000 万元，本市报表 50,000 万元" in page
    assert "datadocs/index.html" in result.index.read_text(encoding="utf-8")
