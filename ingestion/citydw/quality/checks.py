"""The rule pack's dataset rules: what a suite cannot see in one file alone.

GX validates one parsed delivery. These rules compare it with the previous
month's accepted rows in ``raw`` and with the file's own total row, and run
after parsing, before loading: the pipeline adds their results to the
suite's (:func:`check_delivery` returns the same ``RuleResult`` objects), so
they are recorded in ``meta.validation_results`` and act with the same
severities — a failed ``blocking`` rule rejects the delivery, a ``row`` rule
quarantines the rows it names, a ``warning`` is reported.

A dataset opts in, rule by rule, in its suite file (one place for all of a
dataset's rules), under the suite's ``meta.citydw_checks``::

    "meta": {"citydw_checks": [
      {"check": "cumulative_never_falls", "cumulative": "ytd_investment"},
      {"check": "month_equals_cumulative_change", "month": "month_investment", "cumulative": "ytd_investment"},
      {"check": "total_row_matches", "columns": ["total_investment", "annual_plan_investment",
                                                  "month_investment", "ytd_investment"]},
      {"check": "unit_slip", "columns": ["total_investment", "annual_plan_investment"]},
      {"check": "row_count_collapse", "min_ratio": 0.5}
    ]}

Each entry may set ``severity``, ``description`` and ``expected`` (Chinese)
to override the defaults in :data:`CHECKS`. Rows are matched across months
by the dataset's registry ``key`` (e.g. 项目代码).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import pandas as pd
import psycopg
from psycopg import sql

from citydw.months import previous_month
from citydw.parsing.model import SOURCE_ROW, ParsedDelivery
from citydw.registry import DatasetSpec
from citydw.validation.runner import SAMPLE_SIZE, RowFailure, RuleResult
from citydw.validation.suites import SEVERITIES, Severity

TOTAL_ROWS_ATTRIBUTE = "total_rows"
"""Where a reader leaves the total row(s) it recognised: a frame shaped like ``ParsedDelivery.frame``
(canonical fields, canonical units, ``source_row``), one row per 合计/总计 row of the file."""


@dataclass(frozen=True)
class CheckDefinition:
    severity: Severity
    description: str
    expected: str


CHECKS: dict[str, CheckDefinition] = {
    "cumulative_never_falls": CheckDefinition(
        "row",
        "{cumulative_header}不得低于上月报送的累计数（同一年度内累计数只增不减）",
        "不低于上月已入库的{cumulative_header}",
    ),
    "month_equals_cumulative_change": CheckDefinition(
        "warning",
        "{month_header}应等于{cumulative_header}较上月的增加额（1月等于累计数）",
        "本月数 = 本月累计 − 上月累计",
    ),
    "total_row_matches": CheckDefinition(
        "blocking",
        "合计行须等于各行数据之和",
        "合计行数值等于各行之和；请核对是否漏填、多填或合计公式范围有误",
    ),
    "unit_slip": CheckDefinition(
        "warning",
        "{column_header}与上月相比相差约一万倍，疑似单位填错（元/万元/亿元）",
        "按表头单位填报，与上月同一项目数量级一致",
    ),
    "known_in_dataset": CheckDefinition(
        "warning",
        "{column_header}在{other_title}中不存在",
        "与{other_title}中登记的项目一致",
    ),
    "bulletin_agrees_with_bonds": CheckDefinition(
        "warning",
        "全省通报中本市数据与本市专项债券资金使用情况表不一致",
        "两表相差不超过{tolerance}万元（通报以亿元保留两位小数）",
    ),
    "row_count_collapse": CheckDefinition(
        "warning",
        "本月报送行数较上月锐减，疑似漏报",
        "行数不少于上月的{min_percent}%",
    ),
}


class CheckConfigurationError(ValueError):
    """A suite's ``meta.citydw_checks`` entry is wrong; the message names the suite and the entry."""


@dataclass(frozen=True)
class _Inputs:
    conn: psycopg.Connection
    spec: DatasetSpec
    month: date
    parsed: ParsedDelivery
    config: dict[str, Any]
    definition: CheckDefinition

    def header(self, field: str) -> str:
        """The template's header of ``field``: rule texts stay the same from month to month
        (a file's "1-7月累计…" header is kept with each quarantined value instead)."""
        template = self.spec.field(field).header if field in self.spec.field_names else None
        return f"“{template or self.parsed.headers.get(field) or field}”"


def check_delivery(
    conn: psycopg.Connection,
    spec: DatasetSpec,
    month: date,
    parsed: ParsedDelivery,
    checks: list[dict[str, Any]],
) -> list[RuleResult]:
    """Run the dataset rules ``checks`` (a suite's ``meta.citydw_checks``) on one parsed delivery.

    Reads the previous month's accepted rows and delivery from the warehouse;
    writes nothing. A rule that has nothing to compare (January for a
    within-year rule, no previous month loaded, no total row) is recorded as
    passed on zero rows, so the report shows it ran.
    """
    results = []
    for position, config in enumerate(checks, start=1):
        name = config.get("check")
        if name not in CHECKS:
            raise CheckConfigurationError(
                f"{spec.id}: meta.citydw_checks entry {position} names unknown check {name!r}; "
                f"known: {', '.join(CHECKS)}"
            )
        severity = config.get("severity", CHECKS[name].severity)
        if severity not in SEVERITIES:
            raise CheckConfigurationError(f"{spec.id}: meta.citydw_checks entry {position}: severity {severity!r}")
        for field in _fields_named(config):
            if field not in spec.field_names:
                raise CheckConfigurationError(
                    f"{spec.id}: meta.citydw_checks entry {position} ({name}) names {field!r}, "
                    "not a field of the dataset"
                )
        inputs = _Inputs(conn, spec, month, parsed, config, CHECKS[name])
        results.extend(_RUNNERS[name](inputs))
    return results


def suite_checks(suite_document: dict) -> list[dict[str, Any]]:
    """The dataset rules a suite file declares (its ``meta.citydw_checks``), or none."""
    return list((suite_document.get("meta") or {}).get("citydw_checks") or [])


# --- the rules -------------------------------------------------------------------------------


def _cumulative_never_falls(inputs: _Inputs) -> list[RuleResult]:
    cumulative = inputs.config["cumulative"]
    within_year = inputs.config.get("within_year", True)
    tolerance = float(inputs.config.get("tolerance", 0.005))
    compared, failures = 0, []
    if not (within_year and inputs.month.month == 1):
        previous = _previous_values(inputs, [cumulative])
        for source_row, key, current in _rows(inputs.parsed, inputs.spec, cumulative):
            before = previous.get(key or (), {}).get(cumulative)
            if current is None or before is None:
                continue
            compared += 1
            if current < before - tolerance:
                failures.append(RowFailure(source_row, cumulative, f"{_num(current)}（上月为{_num(before)}）"))
    return [
        _result(
            inputs,
            "cumulative_never_falls",
            cumulative,
            compared,
            failures,
            cumulative_header=inputs.header(cumulative),
        )
    ]


def _month_equals_cumulative_change(inputs: _Inputs) -> list[RuleResult]:
    month_field, cumulative = inputs.config["month"], inputs.config["cumulative"]
    absolute = float(inputs.config.get("tolerance", 0.5))
    relative = float(inputs.config.get("relative_tolerance", 0.001))
    january = inputs.month.month == 1 and inputs.config.get("within_year", True)
    previous = {} if january else _previous_values(inputs, [cumulative])
    months = dict((row, value) for row, _key, value in _rows(inputs.parsed, inputs.spec, month_field))
    compared, failures = 0, []
    for source_row, key, current in _rows(inputs.parsed, inputs.spec, cumulative):
        month_value = months.get(source_row)
        before = 0.0 if january else previous.get(key or (), {}).get(cumulative)
        if current is None or month_value is None or before is None:
            continue
        compared += 1
        change = current - before
        if abs(month_value - change) > absolute + relative * abs(change):
            failures.append(
                RowFailure(
                    source_row,
                    month_field,
                    f"本月{_num(month_value)}，累计{_num(current)}，上月累计{_num(before)}（差额应为{_num(change)}）",
                )
            )
    return [
        _result(
            inputs,
            "month_equals_cumulative_change",
            month_field,
            compared,
            failures,
            rule_columns=f"{month_field},{cumulative}",
            month_header=inputs.header(month_field),
            cumulative_header=inputs.header(cumulative),
        )
    ]


def _total_row_matches(inputs: _Inputs) -> list[RuleResult]:
    totals = getattr(inputs.parsed, TOTAL_ROWS_ATTRIBUTE, None)
    frame = inputs.parsed.frame
    compared, failures = 0, []
    # A column with an unreadable cell cannot be summed: that cell's row is quarantined already.
    unreadable = {issue.field for issue in inputs.parsed.issues}
    if isinstance(totals, pd.DataFrame) and not totals.empty:
        for column in inputs.config["columns"]:
            if column not in totals.columns or column not in frame.columns or column in unreadable:
                continue
            written = pd.to_numeric(totals[column], errors="coerce").dropna()
            if written.empty:
                continue
            # Subtotals (小计) are smaller than the grand total: the largest one is the 合计.
            position = written.abs().idxmax()
            total, total_row = float(written[position]), int(totals.loc[position, SOURCE_ROW])
            values = pd.to_numeric(frame[column], errors="coerce")
            summed = float(values.sum(skipna=True))
            compared += 1
            if abs(summed - total) > _total_tolerance(inputs, column, int(values.notna().sum())):
                failures.append(
                    RowFailure(
                        total_row, column, f"合计{_num(total)}，各行之和{_num(summed)}，相差{_num(total - summed)}"
                    )
                )
    return [
        _result(inputs, "total_row_matches", None, compared, failures, rule_columns=",".join(inputs.config["columns"]))
    ]


def _unit_slip(inputs: _Inputs) -> list[RuleResult]:
    factor = float(inputs.config.get("factor", 10_000))
    # Within half an order of magnitude of the factor: 10⁴ × a value that also moved a little.
    low, high = factor / math.sqrt(10), factor * math.sqrt(10)
    columns = list(inputs.config["columns"])
    previous = _previous_values(inputs, columns)
    results = []
    for column in columns:
        compared, failures = 0, []
        for source_row, key, current in _rows(inputs.parsed, inputs.spec, column):
            before = previous.get(key or (), {}).get(column)
            if not current or not before or current <= 0 or before <= 0:
                continue
            compared += 1
            ratio = current / before
            if low <= ratio <= high or low <= 1 / ratio <= high:
                failures.append(
                    RowFailure(
                        source_row, column, f"{_num(current)}（上月为{_num(before)}，约{_num(round(ratio, 4))}倍）"
                    )
                )
        results.append(_result(inputs, "unit_slip", column, compared, failures, column_header=inputs.header(column)))
    return results


def _row_count_collapse(inputs: _Inputs) -> list[RuleResult]:
    min_ratio = float(inputs.config.get("min_ratio", 0.5))
    min_previous = int(inputs.config.get("min_previous", 10))
    row = inputs.conn.execute(
        """
        select rows_received from meta.deliveries
        where dataset = %s and report_month = %s and status = 'accepted'
        """,
        (inputs.spec.id, previous_month(inputs.month)),
    ).fetchone()
    rows_now = len(inputs.parsed.frame)
    compared, sample = 0, []
    if row and row[0] is not None and row[0] >= min_previous:
        compared = 1
        if rows_now < min_ratio * row[0]:
            sample = [f"本月{rows_now}行，上月{row[0]}行"]
    result = _result(inputs, "row_count_collapse", None, compared, [], min_percent=_num(min_ratio * 100))
    if sample:
        result = replace(result, success=False, unexpected_count=1, sample=sample)
    return [result]


def _known_in_dataset(inputs: _Inputs) -> list[RuleResult]:
    """Rows whose ``column`` value the other dataset does not know (e.g. bonds for projects the DRC lacks).

    The other dataset is read at its latest accepted month up to this one:
    departments deliver on different days, and a project known last month is
    still known.
    """
    column, other_id = inputs.config["column"], inputs.config["dataset"]
    from citydw.registry import load_registry

    other = load_registry().dataset(other_id)
    known = _latest_values(inputs, other.raw_table, column)
    failures = []
    if known:
        for source_row, value in _text_values(inputs.parsed, column):
            if value is not None and value not in known:
                failures.append(RowFailure(source_row=source_row, column=column, value=value))
    return [
        _result(
            inputs, "known_in_dataset", column, len(inputs.parsed.frame) if known else 0, failures,
            column_header=inputs.header(column), other_title=f"{other.title}（{other.id}）",
        )
    ]  # fmt: skip


_BONDS, _BULLETIN, _NEW_BONDS = "finance__bond_allocations", "finance__province_bond_bulletin", "新增专项债券"


def _bulletin_agrees_with_bonds(inputs: _Inputs) -> list[RuleResult]:
    """The city's row of the provincial bulletin against the sums of its own bond allocations.

    Issued = Σ allocated of 新增专项债券 issued from January to the month's end;
    spent = Σ cumulative_spent of those. Runs on whichever of the two
    datasets arrives second (the other one is read from ``raw``), so the
    order of delivery does not matter.
    """
    from citydw.city import load_city

    city_code = load_city().code
    tolerance = float(inputs.config.get("tolerance_wan", 100))
    frame = inputs.parsed.frame
    if inputs.spec.raw_table == _BULLETIN:
        city_rows = frame[frame["city_code"].astype("string") == city_code] if "city_code" in frame else frame.iloc[0:0]
        if city_rows.empty:
            return [_result(inputs, "bulletin_agrees_with_bonds", None, 0, [], tolerance=_num(tolerance))]
        row = city_rows.iloc[0]
        bulletin = {"issued_ytd": _float(row.get("issued_ytd")), "spent_ytd": _float(row.get("spent_ytd"))}
        source_row = int(row[SOURCE_ROW])
        bonds = _bond_sums_in_raw(inputs)
    else:
        bonds = _bond_sums(frame, inputs.month)
        bulletin = _bulletin_city_row_in_raw(inputs, city_code)
        source_row = None
    failures = []
    if bonds is not None and bulletin is not None:
        for column, own in (("issued_ytd", bonds[0]), ("spent_ytd", bonds[1])):
            reported = bulletin.get(column)
            if reported is not None and abs(reported - own) > tolerance:
                failures.append(
                    RowFailure(
                        source_row=source_row or 0,
                        column=column,
                        value=f"通报 {_num(reported)} 万元，本市报表 {_num(own)} 万元",
                    )
                )
    compared = 1 if bonds is not None and bulletin is not None else 0
    result = _result(inputs, "bulletin_agrees_with_bonds", None, compared, failures, tolerance=_num(tolerance))
    if source_row is None and failures:
        # Seen from the bonds file, the mismatch is no row of the department's own: report it, name no row.
        result = replace(result, failures=())
    return [result]


def _float(value: Any) -> float | None:
    number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
    return None if pd.isna(number) else float(number)


def _bond_sums(frame: pd.DataFrame, month: date) -> tuple[float, float] | None:
    needed = {"bond_type", "issue_date", "allocated", "cumulative_spent"}
    if frame.empty or not needed <= set(frame.columns):
        return None
    issued = pd.to_datetime(frame["issue_date"], errors="coerce")
    month_end = pd.Timestamp(month) + pd.offsets.MonthEnd(0)
    new = frame[
        (frame["bond_type"].astype("string") == _NEW_BONDS) & (issued.dt.year == month.year) & (issued <= month_end)
    ]
    return float(pd.to_numeric(new["allocated"]).sum()), float(pd.to_numeric(new["cumulative_spent"]).sum())


def _bond_sums_in_raw(inputs: _Inputs) -> tuple[float, float] | None:
    if not _table_exists(inputs.conn, _BONDS):
        return None
    row = inputs.conn.execute(
        sql.SQL(
            """
            select count(*),
                   coalesce(sum(allocated) filter (where bond_type = %s and extract(year from issue_date) = %s
                                                   and issue_date < %s), 0),
                   coalesce(sum(cumulative_spent) filter (where bond_type = %s and extract(year from issue_date) = %s
                                                          and issue_date < %s), 0)
            from {table} where report_month = %s
            """
        ).format(table=sql.SQL("raw.{}").format(sql.Identifier(_BONDS))),
        (_NEW_BONDS, inputs.month.year, _next(inputs.month)) * 2 + (inputs.month,),
    ).fetchone()
    return None if not row or not row[0] else (float(row[1]), float(row[2]))


def _bulletin_city_row_in_raw(inputs: _Inputs, city_code: str) -> dict[str, float | None] | None:
    if not _table_exists(inputs.conn, _BULLETIN):
        return None
    row = inputs.conn.execute(
        sql.SQL("select issued_ytd, spent_ytd from {table} where report_month = %s and city_code = %s").format(
            table=sql.SQL("raw.{}").format(sql.Identifier(_BULLETIN))
        ),
        (inputs.month, city_code),
    ).fetchone()
    if row is None:
        return None
    return {"issued_ytd": _float(row[0]), "spent_ytd": _float(row[1])}


def _next(month: date) -> date:
    from citydw.months import next_month

    return next_month(month)


def _table_exists(conn: psycopg.Connection, table: str) -> bool:
    found = conn.execute("select to_regclass(%s)", (f"raw.{table}",)).fetchone()
    return bool(found and found[0])


def _latest_values(inputs: _Inputs, table: str, column: str) -> set[str]:
    """Values of ``column`` in ``raw.<table>`` at its latest loaded month up to this one."""
    if not _table_exists(inputs.conn, table):
        return set()
    query = sql.SQL(
        """
        select distinct {column}::text from {table}
        where report_month = (select max(report_month) from {table} where report_month <= %s)
        """
    ).format(column=sql.Identifier(column), table=sql.SQL("raw.{}").format(sql.Identifier(table)))
    return {row[0] for row in inputs.conn.execute(query, (inputs.month,)) if row[0] is not None}


def _text_values(parsed: ParsedDelivery, column: str) -> list[tuple[int, str | None]]:
    frame = parsed.frame
    if column not in frame.columns:
        return []
    values = frame[column].astype("string")
    return [
        (int(row), None if pd.isna(value) else str(value).strip())
        for row, value in zip(frame[SOURCE_ROW], values, strict=True)
    ]


_RUNNERS: dict[str, Callable[[_Inputs], list[RuleResult]]] = {
    "known_in_dataset": _known_in_dataset,
    "bulletin_agrees_with_bonds": _bulletin_agrees_with_bonds,
    "cumulative_never_falls": _cumulative_never_falls,
    "month_equals_cumulative_change": _month_equals_cumulative_change,
    "total_row_matches": _total_row_matches,
    "unit_slip": _unit_slip,
    "row_count_collapse": _row_count_collapse,
}


# --- helpers ---------------------------------------------------------------------------------


def _fields_named(config: dict[str, Any]) -> list[str]:
    named = [config[k] for k in ("cumulative", "month", "column") if k in config]
    return named + list(config.get("columns") or [])


def _result(
    inputs: _Inputs,
    check: str,
    column: str | None,
    compared: int,
    failures: list[RowFailure],
    *,
    rule_columns: str | None = None,
    **words: str,
) -> RuleResult:
    definition = inputs.definition
    rule_columns = rule_columns or column
    description = inputs.config.get("description") or definition.description.format(**words)
    expected = inputs.config.get("expected") or definition.expected.format(**words)
    return RuleResult(
        rule_id=inputs.config.get("rule_id") or f"citydw.{check}" + (f":{rule_columns}" if rule_columns else ""),
        expectation_type=f"citydw.{check}",
        column=column,
        severity=inputs.config.get("severity", definition.severity),
        description=description,
        expected=expected,
        success=not failures,
        element_count=compared,
        unexpected_count=len(failures),
        sample=[f.value for f in failures[:SAMPLE_SIZE] if f.value is not None],
        failures=tuple(failures),
    )


def _key_text(values: tuple[Any, ...]) -> tuple[str, ...] | None:
    if any(v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA for v in values):
        return None
    return tuple(str(v).strip() for v in values)


def _rows(
    parsed: ParsedDelivery, spec: DatasetSpec, field: str
) -> list[tuple[int, tuple[str, ...] | None, float | None]]:
    """(source_row, key, value) of every row of the delivery; value None when absent or unreadable."""
    frame = parsed.frame
    if field not in frame.columns:
        return []
    keys = [k for k in spec.key if k in frame.columns]
    key_values = frame[keys].astype("object").itertuples(index=False, name=None) if keys else [()] * len(frame)
    values = pd.to_numeric(frame[field], errors="coerce").astype("float64")
    return [
        (int(row), _key_text(key) if keys else None, None if math.isnan(value) else float(value))
        for row, key, value in zip(frame[SOURCE_ROW], key_values, values, strict=True)
    ]


def _previous_values(inputs: _Inputs, fields: list[str]) -> dict[tuple[str, ...], dict[str, float | None]]:
    """The previous month's accepted values of ``fields`` by row key, from ``raw``; empty when none."""
    spec = inputs.spec
    if not spec.key:
        return {}
    exists = inputs.conn.execute("select to_regclass(%s)", (f"raw.{spec.raw_table}",)).fetchone()
    if not exists or exists[0] is None:
        return {}
    query = sql.SQL("select {keys}, {fields} from {table} where report_month = %s").format(
        keys=sql.SQL(", ").join(sql.Identifier(k) for k in spec.key),
        fields=sql.SQL(", ").join(sql.Identifier(f) for f in fields),
        table=sql.SQL("raw.{}").format(sql.Identifier(spec.raw_table)),
    )
    found: dict[tuple[str, ...], dict[str, float | None]] = {}
    for row in inputs.conn.execute(query, (previous_month(inputs.month),)):
        key = _key_text(tuple(row[: len(spec.key)]))
        if key is not None:
            found[key] = {f: None if v is None else float(v) for f, v in zip(fields, row[len(spec.key) :], strict=True)}
    return found


def _total_tolerance(inputs: _Inputs, column: str, rows: int) -> float:
    """Rounding the clerk may have done: half the precision of the written unit, per row summed.

    Amounts in 万元 are written to 0.01; in 亿元 to 0.0001 (1 万元); in 元 to 0.01 元.
    """
    field = inputs.spec.field(column)
    try:
        factor = field.unit_factor(inputs.parsed.units.get(column))
    except ValueError:
        factor = 1.0
    precision = 0.01 * factor if factor <= 1 else 0.0001 * factor
    return float(inputs.config.get("tolerance", precision / 2 * max(rows, 1) + 1e-6))


def _num(value: float) -> str:
    """A number as a clerk writes it: no exponent, no trailing zeros."""
    text = f"{value:,.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
