"""The rule pack's row-level rules, as Great Expectations custom expectations.

Importing this module registers them with GX, so a suite under
``expectations/`` can name them like any core expectation and they run in
the same validation, with the same ``meta.severity`` semantics (a failed
``row`` rule quarantines exactly the rows that break it)::

    {"type": "expect_column_values_to_be_investment_project_code",
     "kwargs": {"column": "project_code"},
     "meta": {"severity": "row", "expected": "形如 2022-321002-48-01-123456，区划代码为有效的GB/T 2260代码"},
     "description": "项目代码须符合《投资项目代码》格式，且其中的行政区划代码真实有效"}

The pack (see also :mod:`citydw.quality.checks` for the cross-month and
table rules GX cannot see):

- ``expect_column_values_to_be_investment_project_code`` (row): 项目代码格式（GB/T 40058）
  与其中的行政区划代码（GB/T 2260，在代码年份有效）;
- ``expect_column_values_to_be_unified_social_credit_code`` (row): 统一社会信用代码校验位（GB 32100）;
- ``expect_column_values_to_be_city_district`` (row): 所在地区须为本市所辖区县;
- spent ≤ allocated needs no new class: GX's ``expect_column_pair_values_a_to_be_greater_than_b``
  with ``column_A: allocated``, ``column_B: cumulative_spent``, ``or_equal: true`` (row),
  described 累计支出不得超过分配金额.

Each expectation carries a default Chinese ``description``; a suite may
override it. The metrics are implemented for pandas only: citydw validates
the parsed delivery in memory, never in the database.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
from great_expectations.compatibility import pydantic
from great_expectations.core.suite_parameters import SuiteParameterDict
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import BatchExpectation, ColumnMapExpectation
from great_expectations.expectations.metrics.map_metric_provider import (
    ColumnMapMetricProvider,
    column_condition_partial,
)
from stdnum.cn import uscc

from citydw.quality.regions import is_valid_project_code

_LIBRARY_METADATA: dict = {
    "maturity": "production",
    "tags": ["citydw", "column map expectation"],
    "contributors": ["citydw"],
    "requirements": ["python-stdnum"],
}


def _each(column: pd.Series, check) -> pd.Series:
    """``check`` applied to each distinct value once (columns repeat values a lot)."""
    verdicts = {value: bool(check(value)) for value in pd.unique(column.astype("object"))}
    return column.astype("object").map(verdicts).astype(bool)


# --- 项目代码 ------------------------------------------------------------------------------


class ColumnValuesInvestmentProjectCode(ColumnMapMetricProvider):
    condition_metric_name = "column_values.citydw_investment_project_code"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column: pd.Series, **kwargs) -> pd.Series:
        return _each(column, is_valid_project_code)


class _CitydwColumnMapExpectation(ColumnMapExpectation):
    """A column map expectation with a default Chinese description, used when the suite gives none."""

    default_description: ClassVar[str] = ""

    @pydantic.validator("description", always=True, allow_reuse=True)
    def _describe(cls, value: str | None) -> str | None:
        return value or cls.default_description or None


class ExpectColumnValuesToBeInvestmentProjectCode(_CitydwColumnMapExpectation):
    """项目代码: ``YYYY-AAAAAA-DD-TT-RRRRRR`` (GB/T 40058-2021) whose AAAAAA is a GB/T 2260 division
    code in use in the year YYYY. There is no public check digit, so format and region are what can be checked.
    """

    default_description: ClassVar[str] = (
        "项目代码须符合《投资项目代码》格式（GB/T 40058-2021），且其中的行政区划代码真实有效（GB/T 2260）"
    )
    map_metric = "column_values.citydw_investment_project_code"
    success_keys = ("mostly",)
    library_metadata: ClassVar[dict] = _LIBRARY_METADATA


# --- 统一社会信用代码 --------------------------------------------------------------------------


class ColumnValuesUnifiedSocialCreditCode(ColumnMapMetricProvider):
    condition_metric_name = "column_values.citydw_uscc"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column: pd.Series, **kwargs) -> pd.Series:
        # Compact form only: a code with spaces or lower case is what the clerk must fix too.
        return _each(column, lambda value: isinstance(value, str) and value == value.strip() and uscc.is_valid(value))


class ExpectColumnValuesToBeUnifiedSocialCreditCode(_CitydwColumnMapExpectation):
    """统一社会信用代码 (GB 32100-2015): 18 characters of ``0-9A-HJ-NPQRTUWXY``, the last a check
    character (weights 3^i mod 31), validated with python-stdnum's ``stdnum.cn.uscc``.
    """

    default_description: ClassVar[str] = (
        "统一社会信用代码须为18位且校验位正确（GB 32100-2015），不得含空格、小写字母或字母I、O、Z、S、V"
    )
    map_metric = "column_values.citydw_uscc"
    success_keys = ("mostly",)
    library_metadata: ClassVar[dict] = _LIBRARY_METADATA


# --- 所在地区 ----------------------------------------------------------------------------------


class ColumnValuesCityDistrict(ColumnMapMetricProvider):
    condition_metric_name = "column_values.citydw_city_district"
    condition_value_keys = ("district_codes",)

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column: pd.Series, district_codes, **kwargs) -> pd.Series:
        if not district_codes:
            return pd.Series(np.zeros(len(column), dtype=bool), index=column.index)
        return column.astype("object").isin(list(district_codes))


class ExpectColumnValuesToBeCityDistrict(_CitydwColumnMapExpectation):
    """A district of the configured city. The readers have already turned a name a clerk writes
    (江都, 江都区, 扬州市江都区) into its 6-digit code, so what is left here is not one of the city's.
    ``district_codes`` is normally ``{"$PARAMETER": "district_codes"}``: the city is configuration.
    """

    district_codes: list | SuiteParameterDict = pydantic.Field(default_factory=lambda: {"$PARAMETER": "district_codes"})
    default_description: ClassVar[str] = "所在地区须为本市所辖区县"
    map_metric = "column_values.citydw_city_district"
    args_keys = ("column", "district_codes")
    success_keys = ("district_codes", "mostly")
    library_metadata: ClassVar[dict] = _LIBRARY_METADATA


REGISTERED = (
    ExpectColumnValuesToBeInvestmentProjectCode,
    ExpectColumnValuesToBeUnifiedSocialCreditCode,
    ExpectColumnValuesToBeCityDistrict,
)


# --- the dataset rules, for Data Docs only -----------------------------------------------------


class ExpectCitydwDatasetRule(BatchExpectation):
    """Stands for one of :mod:`citydw.quality.checks`' dataset rules (``check``) in rendered
    Data Docs. Those rules compare a delivery with the previous month in the warehouse and run
    outside GX, so this expectation cannot be run: declare them in the suite's ``meta.citydw_checks``.
    """

    check: str
    column: str | None = None
    metric_dependencies = ("table.row_count",)
    library_metadata: ClassVar[dict] = _LIBRARY_METADATA

    def _validate(self, metrics, runtime_configuration=None, execution_engine=None):
        raise NotImplementedError(
            f"{self.check} is a citydw dataset rule: list it under the suite's meta.citydw_checks, "
            "not among its expectations (it needs the previous month from the warehouse)"
        )
