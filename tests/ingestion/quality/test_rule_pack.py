"""The rule pack's row rules as GX expectations: project codes, credit codes, districts, spent ≤ allocated."""

from __future__ import annotations

from datetime import date

import great_expectations as gx
import pandas as pd
import pytest
from stdnum.cn import uscc

import citydw.quality.expectations  # noqa: F401 - registers the rule pack
from citydw.city import load_city
from citydw.parsing.model import SOURCE_ROW, ParsedDelivery
from citydw.quality.regions import is_region_code, project_code_problem, region_name
from citydw.validation.runner import validate
from citydw.validation.suites import read_suite_document

TEXT = pd.StringDtype("pyarrow")


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("2022-321002-48-01-000001", None),
        ("2022-320000-48-01-000001", None),  # a provincial project
        ("2010-321088-48-01-000001", None),  # 江都市 until 2011
        ("2015-321088-48-01-000001", "2015年不是有效的行政区划"),
        ("2022-329999-48-01-000001", "不是有效的GB/T 2260代码"),
        ("2022-32100-48-01-000001", "格式应为"),
        ("２０２２-321002-48-01-000001", "格式应为"),
    ],
)
def test_project_codes_are_checked_for_format_and_a_real_region_of_their_year(code, problem):
    found = project_code_problem(code)
    assert (found is None) if problem is None else (problem in found)


def test_the_region_table_knows_the_sample_city_and_when_divisions_changed():
    assert region_name("321000") == "扬州市"
    assert [region_name(c) for c in ("321002", "321003", "321012", "321023", "321081", "321084")] == [
        "广陵区", "邗江区", "江都区", "宝应县", "仪征市", "高邮市",
    ]  # fmt: skip
    assert is_region_code("321012", 2012) and not is_region_code("321012", 2010)  # 江都区 since 2011
    assert all(is_region_code(code) for code in load_city().province_cities)


def _suite(*expectations: dict) -> gx.ExpectationSuite:
    document = {"name": "test", "expectations": list(expectations)}
    for expectation in document["expectations"]:
        expectation["severity"] = {"blocking": "critical", "row": "warning", "warning": "info"}[
            expectation["meta"]["severity"]
        ]
    return gx.ExpectationSuite(**document)


def _run(frame: pd.DataFrame, suite: gx.ExpectationSuite):
    outcome = validate(
        ParsedDelivery(frame=frame, file_name="t.xlsx"), suite, report_month=date(2022, 7, 1), city=load_city()
    )
    return {rule.rule_id: rule for rule in outcome.rules}


def test_row_rules_fail_exactly_the_rows_that_break_them_with_chinese_descriptions():
    valid = "91320000134754565" + uscc.calc_check_digit("91320000134754565")
    frame = pd.DataFrame(
        {
            "project_code": pd.Series(
                ["2022-321002-48-01-000001", "2015-321088-48-01-000002", None, "bad"], dtype=TEXT
            ),
            "unit_code": pd.Series(
                [valid, valid[:-1] + ("0" if valid[-1] != "0" else "1"), None, "=cmd|' /C calc'!A0"], dtype=TEXT
            ),
            "district": pd.Series(["321002", "南京市玄武区", "321012", None], dtype=TEXT),
            "allocated": [100.0, 50.0, None, 10.0],
            "cumulative_spent": [90.0, 60.0, 1.0, 10.0],
            SOURCE_ROW: [4, 5, 6, 7],
        }
    )
    suite = _suite(
        {"type": "expect_column_values_to_be_investment_project_code", "kwargs": {"column": "project_code"},
         "meta": {"severity": "row"}},
        {"type": "expect_column_values_to_be_unified_social_credit_code", "kwargs": {"column": "unit_code"},
         "meta": {"severity": "row"}},
        {"type": "expect_column_values_to_be_city_district", "kwargs": {"column": "district"},
         "meta": {"severity": "row"}},
        {"type": "expect_column_pair_values_a_to_be_greater_than_b",
         "kwargs": {"column_A": "allocated", "column_B": "cumulative_spent", "or_equal": True,
                    "ignore_row_if": "either_value_is_missing"},
         "meta": {"severity": "row"}, "description": "累计支出不得超过分配金额"},
    )  # fmt: skip

    rules = _run(frame, suite)

    code = rules["expect_column_values_to_be_investment_project_code:project_code"]
    assert [(f.source_row, f.value) for f in code.failures] == [(5, "2015-321088-48-01-000002"), (7, "bad")]
    assert code.description.startswith("项目代码须符合") and code.severity == "row"
    credit = rules["expect_column_values_to_be_unified_social_credit_code:unit_code"]
    assert [f.source_row for f in credit.failures] == [5, 7] and "统一社会信用代码" in credit.description
    district = rules["expect_column_values_to_be_city_district:district"]
    assert [(f.source_row, f.value) for f in district.failures] == [(5, "南京市玄武区")]
    assert district.description == "所在地区须为本市所辖区县"
    spent = rules["expect_column_pair_values_a_to_be_greater_than_b:allocated,cumulative_spent"]
    assert [f.source_row for f in spent.failures] == [5]


def test_the_dataset_rule_placeholder_cannot_be_run_by_gx():
    suite = _suite(
        {"type": "expect_citydw_dataset_rule", "kwargs": {"check": "unit_slip"}, "meta": {"severity": "warning"}}
    )
    with pytest.raises(RuntimeError, match="citydw dataset rule"):
        _run(pd.DataFrame({SOURCE_ROW: [1]}), suite)


def test_the_repository_suite_still_loads_with_the_rule_pack_registered(drc_only):
    document = read_suite_document(drc_only["expectations"] / "drc.major_projects.json")
    assert gx.ExpectationSuite(**document).expectations
