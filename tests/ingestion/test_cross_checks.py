"""Cross-checks between deliveries, recorded as warnings in meta.validation_results."""

from __future__ import annotations

from datetime import date

from builders import bulletin_workbook, drc_project, drc_workbook

from citydw.city import load_city
from citydw.orchestration import ingest_dataset

JUNE, JULY = date(2022, 6, 1), date(2022, 7, 1)

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
    return bulletin_workbook(JULY, rows)


def warning_results(db, dataset: str, rule_prefix: str):
    return db.execute(
        """
        select r.success, r.unexpected_count, r.unexpected_sample
        from meta.validation_results r join meta.deliveries d using (delivery_id)
        where d.dataset = %s and r.rule_id like %s and r.severity = 'warning'
        order by r.result_id
        """,
        (dataset, rule_prefix + "%"),
    ).fetchall()


def test_bonds_for_projects_the_drc_does_not_know_are_a_warning(db, tmp_path):
    drc = tmp_path / "drc.xlsx"
    drc.write_bytes(drc_workbook([drc_project(1), drc_project(2)], JULY))
    ingest_dataset("drc.major_projects", "2022-07", file=str(drc))
    bonds = tmp_path / "bonds.csv"
    unknown = "2022-321002-48-01-999999"
    csv = BOND_HEADER + bond_row("2022-JS-ZX-001", "2022-321002-48-01-000001", 5000, 1200)
    csv += bond_row("2022-JS-ZX-001", unknown, 800, 0)
    bonds.write_bytes(csv.encode("gb18030"))

    result = ingest_dataset("finance.bond_allocations", "2022-07", file=str(bonds))

    assert (result.status, result.rows_loaded) == ("accepted", 2)  # a warning holds nothing back
    [(success, count, sample)] = warning_results(db, "finance.bond_allocations", "citydw.known_in_dataset")
    assert (success, count, sample) == (False, 1, [unknown])


def test_the_city_row_of_the_bulletin_must_agree_with_its_bond_data(db, tmp_path):
    bonds = tmp_path / "bonds.csv"
    bonds.write_bytes(
        (BOND_HEADER + bond_row("2022-JS-ZX-001", "2022-321002-48-01-000001", 50000, 20000)).encode("gb18030")
    )
    ingest_dataset("finance.bond_allocations", "2022-07", file=str(bonds))
    agreeing, disagreeing = tmp_path / "ok.xlsx", tmp_path / "bad.xlsx"
    agreeing.write_bytes(city_bulletin(5.0, 2.0))  # 5 亿元 = 50000 万元, 2 亿元 = 20000 万元
    disagreeing.write_bytes(city_bulletin(6.2, 2.0))

    assert ingest_dataset("finance.province_bond_bulletin", "2022-07", file=str(agreeing)).status == "accepted"
    assert ingest_dataset("finance.province_bond_bulletin", "2022-07", file=str(disagreeing)).status == "accepted"

    results = warning_results(db, "finance.province_bond_bulletin", "citydw.bulletin_agrees_with_bonds")
    assert [r[0] for r in results] == [True, False]
    assert results[1][2] == ["通报 62,000 万元，本市报表 50,000 万元"]


def test_a_figure_ten_thousand_times_last_month_is_a_unit_slip_warning(db, tmp_path):
    june, july = tmp_path / "june.xlsx", tmp_path / "july.xlsx"
    june.write_bytes(drc_workbook([drc_project(n) for n in range(1, 6)], JUNE))
    slipped = [drc_project(n) for n in range(1, 5)] + [drc_project(5, **{"总投资（万元）": 10005 * 10_000})]
    july.write_bytes(drc_workbook(slipped, JULY))
    ingest_dataset("drc.major_projects", "2022-06", file=str(june))

    result = ingest_dataset("drc.major_projects", "2022-07", file=str(july))

    assert result.status == "accepted" and result.rows_loaded == 5
    slips = warning_results(db, "drc.major_projects", "citydw.unit_slip:total_investment")
    assert [(s, c) for s, c, _ in slips] == [(True, 0), (False, 1)]
