"""Running a dataset's suite on a parsed delivery and sorting failures by severity.

GX Core validates the frame in memory (an ephemeral context, analytics
off); what the failures mean is decided here: any failed *blocking* rule
rejects the delivery, each row named by a failed *row* rule is quarantined,
*warnings* are only reported.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import pandas as pd

from citydw.months import next_month
from citydw.parsing.model import SOURCE_ROW, ParsedDelivery
from citydw.validation.suites import Severity

if TYPE_CHECKING:
    import great_expectations as gx

    from citydw.city import City

TITLE_MONTH = "title_month"
"""Column the runner adds: the month the file's title names, checked against the report month."""

SAMPLE_SIZE = 20


@dataclass(frozen=True)
class RowFailure:
    source_row: int
    column: str | None
    value: str | None


@dataclass(frozen=True)
class RuleResult:
    """One expectation evaluated on one delivery."""

    rule_id: str
    expectation_type: str
    column: str | None
    severity: Severity
    description: str
    expected: str | None
    success: bool
    element_count: int | None = None
    unexpected_count: int | None = None
    sample: list[str] = field(default_factory=list)
    failures: tuple[RowFailure, ...] = ()


@dataclass(frozen=True)
class ValidationOutcome:
    suite_name: str
    rules: tuple[RuleResult, ...]

    @property
    def blocking_failures(self) -> list[RuleResult]:
        return [r for r in self.rules if r.severity == "blocking" and not r.success]

    @property
    def row_failures(self) -> list[RuleResult]:
        return [r for r in self.rules if r.severity == "row" and not r.success]

    @property
    def warnings(self) -> list[RuleResult]:
        return [r for r in self.rules if r.severity == "warning" and not r.success]


def suite_parameters(report_month: date, city: City) -> dict[str, Any]:
    """Values suites refer to as ``{"$PARAMETER": name}``; known at run time only."""
    return {
        "report_month": [f"{report_month:%Y-%m}"],
        # Last day of the month, as a datetime: GX compares date columns with datetimes.
        "report_month_end": datetime.combine(next_month(report_month) - timedelta(days=1), time()),
        "report_year": report_month.year,
        "district_codes": city.district_codes,
        "province_city_codes": sorted(city.province_cities),
        "city_code": [city.code],
    }


@lru_cache(maxsize=1)
def _batch_definition() -> Any:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas("citydw").add_dataframe_asset("delivery")
    return asset.add_batch_definition_whole_dataframe("whole_delivery")


def frame_for_validation(parsed: ParsedDelivery) -> pd.DataFrame:
    frame = parsed.frame
    title_month = f"{parsed.declared_month:%Y-%m}" if parsed.declared_month else None
    return frame.assign(**{TITLE_MONTH: pd.Series([title_month] * len(frame), index=frame.index, dtype="string")})


def validate(
    parsed: ParsedDelivery, suite: gx.ExpectationSuite, *, report_month: date, city: City
) -> ValidationOutcome:
    frame = frame_for_validation(parsed)
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(
        suite,
        result_format={
            "result_format": "COMPLETE",
            "unexpected_index_column_names": [SOURCE_ROW],
            "partial_unexpected_count": SAMPLE_SIZE,
            "return_unexpected_index_query": False,
        },
        expectation_parameters=suite_parameters(report_month, city),
    )
    rules = []
    for expectation_result in result.results:
        rule = _rule_result(expectation_result, set(frame.columns))
        if rule is not None:
            rules.append(rule)
    return ValidationOutcome(suite_name=suite.name, rules=tuple(rules))


def _columns_of(kwargs: dict) -> list[str]:
    names = [kwargs.get("column"), kwargs.get("column_A"), kwargs.get("column_B")]
    names += list(kwargs.get("column_list") or [])
    return [n for n in names if n]


def _rule_id(config: Any) -> str:
    explicit = (config.meta or {}).get("rule_id")
    if explicit:
        return str(explicit)
    columns = _columns_of(config.kwargs)
    return config.type + (":" + ",".join(columns) if columns else "")


def _text(value: Any) -> str | None:
    if value is None or (not isinstance(value, (list, dict, str)) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return str(value)


def _rule_result(expectation_result: Any, frame_columns: set[str]) -> RuleResult | None:
    config = expectation_result.expectation_config
    columns = _columns_of(config.kwargs)
    meta = config.meta or {}
    error = _raised_exception(expectation_result.exception_info or {})
    if error is not None:
        if any(c not in frame_columns for c in columns) and config.type != "expect_column_to_exist":
            # The column is absent: its existence rule already speaks for it.
            return None
        raise RuntimeError(f"rule {config.type} on {columns} could not run: {error}")
    details = expectation_result.result or {}
    failures = tuple(_row_failures(details.get("unexpected_index_list") or [], columns))
    return RuleResult(
        rule_id=_rule_id(config),
        expectation_type=config.type,
        column=",".join(columns) or None,
        severity=meta["severity"],
        description=config.description or config.type,
        expected=meta.get("expected"),
        success=bool(expectation_result.success),
        element_count=details.get("element_count"),
        unexpected_count=details.get("unexpected_count"),
        sample=[t for t in (_text(v) for v in details.get("partial_unexpected_list") or []) if t is not None],
        failures=failures,
    )


def _raised_exception(exception_info: dict) -> str | None:
    """The message of an error GX caught while evaluating a rule, or None.

    GX reports it either at the top level or, per metric, one level down.
    """
    entries = [exception_info, *(v for v in exception_info.values() if isinstance(v, dict))]
    for entry in entries:
        if entry.get("raised_exception"):
            return str(entry.get("exception_message") or "unknown error")
    return None


def _row_failures(index_list: list[dict], columns: list[str]) -> list[RowFailure]:
    failures = []
    for entry in index_list:
        values = [_text(entry.get(c)) for c in columns if c in entry]
        failures.append(
            RowFailure(
                source_row=int(entry[SOURCE_ROW]),
                column=columns[0] if len(columns) == 1 else ",".join(columns) or None,
                value=values[0] if len(values) == 1 else " / ".join(v or "" for v in values) or None,
            )
        )
    return failures
