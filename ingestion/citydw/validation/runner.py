"""Running a dataset's suite on a parsed delivery and sorting failures by severity.

GX Core validates the frame in memory (an ephemeral context, analytics
off); what the failures mean is decided here: any failed *blocking* rule
rejects the delivery, each row named by a failed *row* rule is quarantined,
*warnings* are only reported.

A delivery is validated in two passes, because nearly every rule passes on
nearly every delivery and GX's COMPLETE result format (the failing rows'
indexes and values) is the expensive one: first every rule with the BASIC
format (success, counts and a sample), then only the rules that failed, with
COMPLETE, on the delivery as parsed. The results are the same as one COMPLETE
pass: a rule that passes has no failing rows to list. On a million rows this
and the two measures below take GX from ~2.4 s to ~0.85 s of CPU (see
docs/benchmarks.md):

* GX fingerprints every in-memory batch (an md5 over ``hash_pandas_object``
  of the whole frame) for a batch marker citydw never reads — each delivery's
  sha256 is in ``meta.deliveries`` — so the fingerprint is switched off.
* GX checks ``expect_column_values_to_be_between`` on pandas' nullable
  ``Int64`` columns one Python call per value, but vectorised on ``float64``;
  the first pass sees integer columns as ``float64`` (exact below 2**53)
  where only numeric rules read them. The second pass, which reports values,
  sees the integers as parsed.
"""

from __future__ import annotations

import copy
import os
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import pandas as pd

from citydw.display import for_people
from citydw.months import next_month
from citydw.parsing.model import SOURCE_ROW, ParsedDelivery
from citydw.validation.suites import Severity

if TYPE_CHECKING:
    import great_expectations as gx

    from citydw.city import City
    from citydw.registry import DatasetSpec

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


def suite_parameters(report_month: date, city: City, spec: DatasetSpec | None = None) -> dict[str, Any]:
    """Values suites refer to as ``{"$PARAMETER": name}``: known at run time, or kept in the registry
    (``values_<field>``, an enumerated field's allowed values, which the templates' lists show too)."""
    return {
        **(spec.suite_parameters if spec is not None else {}),
        "report_month": [f"{report_month:%Y-%m}"],
        # Last day of the month, as a datetime: GX compares date columns with datetimes.
        "report_month_end": datetime.combine(next_month(report_month) - timedelta(days=1), time()),
        "report_year": report_month.year,
        "district_codes": city.district_codes,
        "province_city_codes": sorted(city.province_cities),
        "city_code": [city.code],
    }


BASIC_FORMAT: dict[str, Any] = {"result_format": "BASIC", "partial_unexpected_count": SAMPLE_SIZE}
"""First pass: success, element and unexpected counts, and a sample of failing values."""

COMPLETE_FORMAT: dict[str, Any] = {
    "result_format": "COMPLETE",
    "unexpected_index_column_names": [SOURCE_ROW],
    "partial_unexpected_count": SAMPLE_SIZE,
    "return_unexpected_index_query": False,
}
"""Second pass, failed rules only: every failing row's ``source_row`` and value."""

NUMERIC_RULES = frozenset(
    {
        "expect_column_to_exist",
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_null",
        "expect_column_values_to_be_between",
        "expect_column_pair_values_a_to_be_greater_than_b",
        "expect_column_min_to_be_between",
        "expect_column_max_to_be_between",
        "expect_column_sum_to_be_between",
        "expect_column_mean_to_be_between",
    }
)
"""Rules whose verdict on an integer column is the same whether it holds ``Int64`` or ``float64``."""

_EXACT_FLOAT_INTEGERS = 2**53
_POSITION = "citydw_position"


@lru_cache(maxsize=1)
def _batch_definition() -> Any:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.execution_engine import pandas_execution_engine

    # Frames at or above this size get no fingerprint batch marker: none do (see the module docstring).
    pandas_execution_engine.HASH_THRESHOLD = 0

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas("citydw").add_dataframe_asset("delivery")
    return asset.add_batch_definition_whole_dataframe("whole_delivery")


def warm_up() -> None:
    """Import GX and build its context now, not in a server's first request (it takes seconds)."""
    import citydw.quality.expectations  # noqa: F401 - registers the rule pack

    _batch_definition()


_warming: threading.Thread | None = None
_warming_lock = threading.Lock()


def warm_up_in_background() -> None:
    """Start :func:`warm_up` in a thread, once per process, so GX loads while the caller parses a file.

    Importing great_expectations costs about two seconds of a whole ``citydw
    ingest``; reading the body of a large file mostly runs in pyarrow without
    the GIL, so the import then takes little of the wall time. :func:`validate`
    waits for the thread (its context is built once), and an error in the
    thread is met again, and raised, when :func:`validate` builds the context itself.
    """
    global _warming
    with _warming_lock:
        if _warming is None:
            _warming = threading.Thread(target=_warm_up_quietly, name="citydw-gx-warm-up", daemon=True)
            _warming.start()


def _warm_up_quietly() -> None:
    try:
        warm_up()
    except Exception:  # validate() builds the context again and reports what fails
        _batch_definition.cache_clear()


def _wait_for_warm_up() -> None:
    with _warming_lock:
        warming = _warming
    if warming is not None:
        warming.join()


def frame_for_validation(parsed: ParsedDelivery) -> pd.DataFrame:
    frame = parsed.frame
    title_month = f"{parsed.declared_month:%Y-%m}" if parsed.declared_month else None
    return frame.assign(**{TITLE_MONTH: pd.Series([title_month] * len(frame), index=frame.index, dtype="string")})


def validate(
    parsed: ParsedDelivery,
    suite: gx.ExpectationSuite,
    *,
    report_month: date,
    city: City,
    spec: DatasetSpec | None = None,
) -> ValidationOutcome:
    _wait_for_warm_up()
    frame = frame_for_validation(parsed)
    parameters = suite_parameters(report_month, city, spec)
    first = _batch_definition().get_batch(batch_parameters={"dataframe": _numeric_view(frame, suite)})
    results = list(first.validate(suite, result_format=BASIC_FORMAT, expectation_parameters=parameters).results)
    failed = [
        position
        for position, result in enumerate(results)
        if not result.success and _raised_exception(result.exception_info or {}) is None
    ]
    if failed:
        results = _with_failing_rows(frame, suite.name, results, failed)
    rules = []
    for expectation_result in results:
        rule = _rule_result(expectation_result, set(frame.columns))
        if rule is not None:
            rules.append(rule)
    return ValidationOutcome(suite_name=suite.name, rules=tuple(rules))


def _with_failing_rows(frame: pd.DataFrame, suite_name: str, results: list[Any], failed: list[int]) -> list[Any]:
    """``results`` with the failed rules' results replaced by COMPLETE ones, computed on ``frame``."""
    import great_expectations as gx

    # The failed rules again, their parameters already substituted, each tagged with its place.
    configs = []
    for position in failed:
        config = copy.deepcopy(results[position].expectation_config)
        config.meta = {**(config.meta or {}), _POSITION: position}
        configs.append(config)
    again = gx.ExpectationSuite(name=suite_name, expectations=configs)
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": frame})
    merged = list(results)
    for result in batch.validate(again, result_format=COMPLETE_FORMAT).results:
        position = result.expectation_config.meta.pop(_POSITION)
        merged[position] = result
    return merged


def _numeric_view(frame: pd.DataFrame, suite: gx.ExpectationSuite) -> pd.DataFrame:
    """``frame`` with each ``Int64`` column that only :data:`NUMERIC_RULES` read as exact ``float64``."""
    read_otherwise = {
        column
        for config in suite.expectation_configurations
        if config.type not in NUMERIC_RULES
        for column in _columns_of(config.kwargs)
    }
    converted = {}
    for column in frame.columns:
        if column in read_otherwise or not isinstance(frame[column].dtype, pd.Int64Dtype):
            continue
        values = frame[column]
        if values.notna().any() and values.abs().max() >= _EXACT_FLOAT_INTEGERS:
            continue
        converted[column] = values.astype("float64")
    return frame.assign(**converted) if converted else frame


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
    """A failing value as the department reads it (a pair rule's values as "A / B", never a tuple repr)."""
    return for_people(value)


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
