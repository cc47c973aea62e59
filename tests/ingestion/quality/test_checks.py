"""The rule pack's dataset rules through the real pipeline: DRC workbooks, the previous month in raw."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from builders import drc_project, drc_workbook

from citydw.city import load_city
from citydw.orchestration import ingest_dataset
from citydw.parsing.model import SOURCE_ROW, ParsedDelivery
from citydw.quality.checks import CheckConfigurationError, check_delivery
from citydw.registry import load_registry
from citydw.settings import get_settings

JUNE, JULY = date(2022, 6, 1), date(2022, 7, 1)
DATASET = "drc.major_projects"
YTD, MONTH, TOTAL = "累计完成投资（万元）", "本月完成投资（万元）", "总投资（万元）"


@pytest.fixture
def put(tmp_path):
    def write(name: str, data: bytes) -> str:
        path = tmp_path / name
        path.write_bytes(data)
        return str(path)

    return write


def june_rows(count: int = 5) -> list[dict]:
    return [drc_project(n, **{YTD: 1400, MONTH: 200}) for n in range(1, count + 1)]


def results(db, month):
    rows = db.execute(
        """
        select r.rule_id, r.severity, r.success, r.element_count, r.unexpected_count, r.unexpected_sample
        from meta.validation_results r join meta.deliveries d using (delivery_id)
        where d.report_month = %s and r.rule_id like 'citydw.%%'
        """,
        (month,),
    ).fetchall()
    return {row[0]: row[1:] for row in rows}


def test_cross_month_rules_quarantine_falls_and_warn_of_changes_and_unit_slips(db, put):
    ingest_dataset(DATASET, "2022-06", file=put("june.xlsx", drc_workbook(june_rows(), JUNE)))
    july = [
        drc_project(1, **{YTD: 1200, MONTH: 0}),  # cumulative fell: 1400 → 1200
        drc_project(2, **{YTD: 1900, MONTH: 200}),  # month 200, cumulative grew 500
        drc_project(3, **{YTD: 1600, MONTH: 200, TOTAL: 10003 * 10_000}),  # 元 typed in a 万元 column
        drc_project(4, **{YTD: 1600, MONTH: 200}),
        drc_project(5, **{YTD: 1600, MONTH: 200}),
        drc_project(9, 项目代码="2015-321088-48-01-000009", **{YTD: 100, MONTH: 100}),  # 江都市 was gone by 2015
    ]

    result = ingest_dataset(DATASET, "2022-07", file=put("july.xlsx", drc_workbook(july, JULY)))

    assert (result.status, result.rows_loaded, result.rows_quarantined) == ("accepted", 4, 2)
    quarantined = db.execute(
        "select source_row, column_name, value, rule_id, rule, expected from meta.quarantine order by source_row"
    ).fetchall()
    # Header on row 3: project 1 is on row 4, the bad project code on row 9.
    assert quarantined[0][:4] == (
        4,
        "ytd_investment",
        "1,200（上月为1,400）",
        "citydw.cumulative_never_falls:ytd_investment",
    )
    assert "不得低于上月" in quarantined[0][4] and "累计" in quarantined[0][5]
    assert quarantined[1][:4] == (
        9, "project_code", "2015-321088-48-01-000009",
        "expect_column_values_to_be_investment_project_code:project_code",
    )  # fmt: skip
    assert "行政区划" in quarantined[1][4]

    found = results(db, JULY)
    change = found["citydw.month_equals_cumulative_change:month_investment,ytd_investment"]
    assert change[:4] == ("warning", False, 5, 2)  # rows 1 (0, not −200) and 2 (200, not 500); new project 9 skipped
    assert any("差额应为500" in sample for sample in change[4])
    slip = found["citydw.unit_slip:total_investment"]
    assert slip[:2] == ("warning", False) and slip[3] == 1 and "约10,000倍" in slip[4][0]
    assert found["citydw.unit_slip:annual_plan_investment"][1] is True
    assert found["citydw.row_count_collapse"][1] is True
    # Warnings do not hold rows back; only the row rule did.
    loaded = db.execute("select project_code from raw.drc__major_projects where report_month = %s", (JULY,)).fetchall()
    assert sorted(code[-1] for (code,) in loaded) == ["2", "3", "4", "5"]


def test_january_starts_a_new_year_so_only_month_equals_cumulative_is_checked(db, put):
    rows = [drc_project(1, **{YTD: 300, MONTH: 300}), drc_project(2, **{YTD: 300, MONTH: 250})]
    ingest_dataset(DATASET, "2022-01", file=put("jan.xlsx", drc_workbook(rows, date(2022, 1, 1))))

    found = results(db, date(2022, 1, 1))
    assert found["citydw.cumulative_never_falls:ytd_investment"][1:3] == (True, 0)
    assert found["citydw.month_equals_cumulative_change:month_investment,ytd_investment"][1:4] == (False, 2, 1)


def test_a_collapsing_row_count_is_held_until_a_person_confirms_it(db, put):
    """Issue 11.5: a delivery with far fewer rows than last month's is rejected until confirmed."""
    ingest_dataset(DATASET, "2022-06", file=put("june.xlsx", drc_workbook(june_rows(6), JUNE)))
    july = put("july.xlsx", drc_workbook([drc_project(1, **{YTD: 1600, MONTH: 200}), drc_project(2)], JULY))

    held = ingest_dataset(DATASET, "2022-07", file=july)

    assert held.status == "rejected" and held.reason.startswith("行数骤降，请确认（发现：本月2行，上月6行）")
    collapse = results(db, JULY)["citydw.row_count_collapse"]
    assert collapse[:2] == ("blocking", False) and collapse[4] == ["本月2行，上月6行"]
    assert db.execute("select count(*) from raw.drc__major_projects where report_month = %s", (JULY,)).fetchone() == (
        0,
    )

    assert ingest_dataset(DATASET, "2022-07", file=july).status == "unchanged"  # the same bytes alone change nothing
    confirmed = ingest_dataset(DATASET, "2022-07", file=july, confirm_shrink=True)

    assert (confirmed.status, confirmed.version, confirmed.rows_loaded) == ("accepted", 1, 2)
    assert db.execute(
        "select version, status, status_reason from meta.deliveries where report_month = %s", (JULY,)
    ).fetchall() == [(1, "accepted", None)]
    collapse = results(db, JULY)["citydw.row_count_collapse"]
    assert collapse[:2] == ("warning", False)
    assert db.execute(
        "select count(*) from meta.validation_results r join meta.deliveries d using (delivery_id) "
        "where d.report_month = %s and r.rule_id = 'citydw.row_count_collapse'",
        (JULY,),
    ).fetchone() == (1,)  # decided again, not recorded twice


def _parsed(frame: pd.DataFrame, totals: pd.DataFrame | None) -> ParsedDelivery:
    parsed = ParsedDelivery(frame=frame, file_name="july.xlsx", headers={"total_investment": "总投资（万元）"})
    if totals is not None:
        parsed.total_rows = totals  # what the reader keeps of the 合计 row (see citydw.quality.checks)
    return parsed


def test_a_total_row_that_does_not_add_up_rejects_as_blocking(db):
    spec = load_registry(get_settings().registry_path).dataset(DATASET)
    frame = pd.DataFrame({"project_code": ["a", "b"], "total_investment": [100.0, 250.5], SOURCE_ROW: [5, 6]})
    checks = [{"check": "total_row_matches", "columns": ["total_investment", "ytd_investment"]}]

    matching = check_delivery(
        db, spec, JULY, _parsed(frame, pd.DataFrame({"total_investment": [350.5], SOURCE_ROW: [4]})), checks
    )
    wrong = check_delivery(
        db, spec, JULY, _parsed(frame, pd.DataFrame({"total_investment": [450.5], SOURCE_ROW: [4]})), checks
    )
    no_total = check_delivery(db, spec, JULY, _parsed(frame, None), checks)

    assert matching[0].success and matching[0].element_count == 1
    assert (wrong[0].success, wrong[0].severity) == (False, "blocking")
    assert wrong[0].failures[0].source_row == 4 and "相差100" in wrong[0].failures[0].value
    assert no_total[0].success and no_total[0].element_count == 0


def test_a_misconfigured_check_names_the_suite_entry(db):
    spec = load_registry(get_settings().registry_path).dataset(DATASET)
    parsed = _parsed(pd.DataFrame({SOURCE_ROW: []}), None)
    with pytest.raises(CheckConfigurationError, match=r"entry 1.*not_a_field"):
        check_delivery(db, spec, JULY, parsed, [{"check": "unit_slip", "columns": ["not_a_field"]}])
    with pytest.raises(CheckConfigurationError, match="unknown check"):
        check_delivery(db, spec, JULY, parsed, [{"check": "guess"}])
    assert load_city().code == "321000"
