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
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import pandas as pd
import psycopg
from psycopg import sql

from citydw.display import for_people, number
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
        "blocking",
        "行数骤降，请确认",
        "行数不少于上月（或本月已入库版本）的{min_percent}%；请核对文件是否完整。"
        "如确属实际情况，请告知数据组，由数据组确认后入库（citydw ingest --confirm-shrink）",
    ),
    "belongs_to_dataset": CheckDefinition(
        "blocking",
        "这份文件不像是《{title}》，疑似报错了文件",
        "报送《{title}》本身；请核对文件后重新报送",
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
    held_back: frozenset[int] = frozenset()
    shrink_confirmed: bool = False

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
    *,
    held_back: frozenset[int] = frozenset(),
    shrink_confirmed: bool = False,
) -> list[RuleResult]:
    """Run the dataset rules ``checks`` (a suite's ``meta.citydw_checks``) on one parsed delivery.

    Reads the previous month's accepted rows and delivery from the warehouse;
    writes nothing. A rule that has nothing to compare (January for a
    within-year rule, no previous month loaded, no total row) is recorded as
    passed on zero rows, so the report shows it ran. ``held_back`` are the source rows the
    reader or the suite quarantine: rules that sum the delivery to compare it with another
    dataset sum only the rows that will load. ``shrink_confirmed``
    (``citydw ingest --confirm-shrink``) records a collapsed row count as a
    confirmed warning instead of holding the delivery back.
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
        inputs = _Inputs(conn, spec, month, parsed, config, CHECKS[name], held_back, shrink_confirmed)
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
        rows = _with_previous(inputs, [cumulative])
        current, before = rows[cumulative], rows[_PREVIOUS + cumulative]
        both = current.notna() & before.notna()
        compared = int(both.sum())
        failing = rows[both & (current < before - tolerance)]
        failures = [
            RowFailure(int(row), cumulative, f"{_num(now)}（上月为{_num(then)}）")
            for row, now, then in zip(
                failing[SOURCE_ROW], failing[cumulative], failing[_PREVIOUS + cumulative], strict=True
            )
        ]
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
    if january:  # the change since January 1st is the cumulative figure itself
        rows = _values(inputs.parsed, inputs.spec, [month_field, cumulative])
        rows[_PREVIOUS + cumulative] = 0.0
    else:
        rows = _with_previous(inputs, [cumulative], also=[month_field])
    current, before, month_value = rows[cumulative], rows[_PREVIOUS + cumulative], rows[month_field]
    change = current - before
    present = current.notna() & before.notna() & month_value.notna()
    failing = rows[present & ((month_value - change).abs() > absolute + relative * change.abs())]
    failures = [
        RowFailure(
            int(row),
            month_field,
            f"本月{_num(value)}，累计{_num(now)}，上月累计{_num(then)}（差额应为{_num(now - then)}）",
        )
        for row, value, now, then in zip(
            failing[SOURCE_ROW], failing[month_field], failing[cumulative], failing[_PREVIOUS + cumulative], strict=True
        )
    ]
    return [
        _result(
            inputs,
            "month_equals_cumulative_change",
            month_field,
            int(present.sum()),
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
    rows = _with_previous(inputs, columns)
    results = []
    for column in columns:
        current, before = rows[column], rows[_PREVIOUS + column]
        positive = (current > 0) & (before > 0)  # NaN compares False: absent values are not compared
        ratio = current / before
        slipped = ratio.between(low, high) | (1 / ratio).between(low, high)
        failing = rows.assign(ratio=ratio)[positive & slipped]
        failures = [
            RowFailure(int(row), column, f"{_num(now)}（上月为{_num(then)}，约{_num(round(times, 4))}倍）")
            for row, now, then, times in zip(
                failing[SOURCE_ROW], failing[column], failing[_PREVIOUS + column], failing["ratio"], strict=True
            )
        ]
        results.append(
            _result(inputs, "unit_slip", column, int(positive.sum()), failures, column_header=inputs.header(column))
        )
    return results


def _row_count_collapse(inputs: _Inputs) -> list[RuleResult]:
    """A delivery with far fewer rows than the version it would replace, or than last month's.

    A broken file (a quote that swallowed the rest, a sheet cut short) reads
    as a handful of rows and would replace a whole month; a department that
    really has fewer projects says so, and a person confirms. The reference
    is the month's accepted version when this is a correction, else the
    previous month's accepted delivery. Blocking by default: the delivery is
    rejected (held) until ``citydw ingest --confirm-shrink`` accepts it.
    """
    min_ratio = float(inputs.config.get("min_ratio", 0.5))
    min_previous = int(inputs.config.get("min_previous", 10))
    rows_now = len(inputs.parsed.frame)
    reference = _accepted_rows(inputs, inputs.month)
    described = "本版{now}行，本月已入库的版本{before}行"
    if reference is None:
        reference = _accepted_rows(inputs, previous_month(inputs.month))
        described = "本月{now}行，上月{before}行"
    compared, sample = 0, []
    if reference is not None and reference >= min_previous:
        compared = 1
        if rows_now < min_ratio * reference:
            sample = [described.format(now=rows_now, before=reference)]
    result = _result(inputs, "row_count_collapse", None, compared, [], min_percent=_num(min_ratio * 100))
    if sample:
        result = replace(result, success=False, unexpected_count=1, sample=sample)
        if inputs.shrink_confirmed:
            result = replace(result, severity="warning", description=f"{result.description}（数据组已确认）")
    return [result]


def _accepted_rows(inputs: _Inputs, month: date) -> int | None:
    """Rows received in the accepted delivery of ``month``, if there is one."""
    row = inputs.conn.execute(
        "select rows_received from meta.deliveries where dataset = %s and report_month = %s and status = 'accepted'",
        (inputs.spec.id, month),
    ).fetchone()
    return row[0] if row and row[0] is not None else None


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
    frame = inputs.parsed.frame
    if known and column in frame.columns:
        values = frame[column].astype("string").str.strip()
        unknown = values.notna() & ~values.isin(known)
        failures = [
            RowFailure(source_row=int(row), column=column, value=for_people(value))
            for row, value in zip(frame.loc[unknown, SOURCE_ROW], values[unknown], strict=True)
        ]
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
        bulletin: dict[str, float | None] | None = {
            "issued_ytd": _float(row.get("issued_ytd")),
            "spent_ytd": _float(row.get("spent_ytd")),
        }
        source_row = int(row[SOURCE_ROW])
        bonds = _bond_sums_in_raw(inputs)
    else:
        bonds = _bond_sums(frame, inputs.month, inputs.held_back)
        bulletin = _bulletin_city_row_in_raw(inputs, city_code)
        source_row = None
    # One element per figure compared (issued, spent): two figures can disagree, and a rule must
    # never record more unexpected values than elements (GX refuses such a result and Data Docs fail).
    failures, compared = [], 0
    if bonds is not None and bulletin is not None:
        for column, own in (("issued_ytd", bonds[0]), ("spent_ytd", bonds[1])):
            reported = bulletin.get(column)
            compared += reported is not None
            if reported is not None and abs(reported - own) > tolerance:
                failures.append(
                    RowFailure(
                        source_row=source_row or 0,
                        column=column,
                        value=f"通报 {_num(reported)} 万元，本市报表 {_num(own)} 万元",
                    )
                )
    result = _result(inputs, "bulletin_agrees_with_bonds", None, compared, failures, tolerance=_num(tolerance))
    if source_row is None and failures:
        # Seen from the bonds file, the mismatch is no row of the department's own: report it, name no row.
        result = replace(result, failures=())
    return [result]


def _float(value: Any) -> float | None:
    number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
    return None if pd.isna(number) else float(number)


def _bond_sums(frame: pd.DataFrame, month: date, held_back: frozenset[int] = frozenset()) -> tuple[float, float] | None:
    """Σ allocated and Σ cumulative_spent of the new bonds issued this year, leaving out ``held_back`` rows.

    The rows are chosen by one mask over the four columns, never by copying
    the frame: a province's million-row delivery would be held twice.
    """
    needed = {"bond_type", "issue_date", "allocated", "cumulative_spent"}
    if frame.empty or not needed <= set(frame.columns):
        return None
    kept = ~frame[SOURCE_ROW].isin(held_back) if held_back else pd.Series(True, index=frame.index)
    if not kept.any():
        return None
    issued = pd.to_datetime(frame["issue_date"], errors="coerce")
    month_end = pd.Timestamp(month) + pd.offsets.MonthEnd(0)
    new = (
        kept
        & (frame["bond_type"].astype("string") == _NEW_BONDS)
        & (issued.dt.year == month.year)
        & (issued <= month_end)
    )
    new = new.fillna(False).astype(bool)
    allocated = pd.to_numeric(frame["allocated"])[new].sum()
    return float(allocated), float(pd.to_numeric(frame["cumulative_spent"])[new].sum())


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


def _latest_values(inputs: _Inputs, table: str, column: str, *, before: bool = False) -> set[str]:
    """Values of ``column`` in ``raw.<table>`` at its latest loaded month up to this one (``before``: earlier)."""
    if not _table_exists(inputs.conn, table):
        return set()
    query = sql.SQL(
        """
        select distinct {column}::text from {table}
        where report_month = (select max(report_month) from {table} where report_month {up_to} %s)
        """
    ).format(
        column=sql.Identifier(column),
        table=sql.SQL("raw.{}").format(sql.Identifier(table)),
        up_to=sql.SQL("<" if before else "<="),
    )
    return {row[0] for row in inputs.conn.execute(query, (inputs.month,)) if row[0] is not None}


def _belongs_to_dataset(inputs: _Inputs) -> list[RuleResult]:
    """Whether the file is this dataset's report at all (a DRC workbook sent as water's, same headers).

    Evidence, each named in the reason:

    - the text above the table and the notes under it name another
      department of the registry, and not this one ("填报单位：市发展和改革委员会");
    - none of it holds one of the config's ``title_words`` (e.g. 水利);
    - most distinct values of ``column`` (e.g. 责任单位) never appeared in the
      dataset's previous accepted month;
    - the file has ``max_ratio`` (default 5) times the previous month's rows or more.

    Another department named is enough; otherwise two are needed, so a new
    title or a new year's projects alone never refuse a good report.
    """
    from citydw.registry import load_registry

    lines = [line for line in inputs.parsed.context_lines if line.strip()]
    text = "".join(re.sub(r"\s+", "", unicodedata.normalize("NFKC", line)) for line in lines)
    departments = load_registry().departments.values()
    own = next((d for d in departments if d.code == inputs.spec.department), None)
    strong, weak = [], []
    if text and own is not None and not _names_department(text, own.name):
        others = [d.name for d in departments if d.code != own.code and _names_department(text, d.name)]
        if others:
            strong.append(f"文件中写的是“{others[0]}”，不是“{own.name}”")
    words = list(inputs.config.get("title_words") or [])
    if text and words and not any(word in text for word in words):
        weak.append(f"标题“{lines[0][:40]}”未提到“{'/'.join(words)}”")
    weak += _new_values_evidence(inputs)
    weak += _row_count_jump_evidence(inputs)
    evidence = strong + weak
    result = _result(inputs, "belongs_to_dataset", None, 1, [], title=inputs.spec.title)
    if strong or len(weak) >= 2:
        result = replace(result, success=False, unexpected_count=1, sample=["；".join(evidence)])  # all of it, in one
    return [result]


def _names_department(text: str, name: str) -> bool:
    return name in text or name.removeprefix("市") in text


def _new_values_evidence(inputs: _Inputs) -> list[str]:
    """Most of the file's ``column`` values never seen in the dataset's previous month, if so."""
    column = inputs.config.get("column")
    frame = inputs.parsed.frame
    if not column or column not in frame.columns:
        return []
    known = _latest_values(inputs, inputs.spec.raw_table, column, before=True)
    written = {str(v).strip() for v in frame[column].dropna()} - {""}
    if not known or not written:
        return []
    new = sorted(written - known)
    if len(new) < 0.8 * len(written):
        return []
    examples = "、".join(f"“{value}”" for value in new[:2])
    return [f"{inputs.header(column)}{len(written)}个中有{len(new)}个从未出现在本数据集（如{examples}）"]


def _row_count_jump_evidence(inputs: _Inputs) -> list[str]:
    """The row count at ``max_ratio`` times the previous accepted month's or more, if so."""
    max_ratio = float(inputs.config.get("max_ratio", 5))
    row = inputs.conn.execute(
        "select rows_received from meta.deliveries where dataset = %s and report_month = %s and status = 'accepted'",
        (inputs.spec.id, previous_month(inputs.month)),
    ).fetchone()
    rows_now = len(inputs.parsed.frame)
    if not row or not row[0] or rows_now < max_ratio * row[0]:
        return []
    return [f"本月{rows_now}行，是上月{row[0]}行的{_num(rows_now / row[0])}倍"]


_RUNNERS: dict[str, Callable[[_Inputs], list[RuleResult]]] = {
    "belongs_to_dataset": _belongs_to_dataset,
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
        # Each failure is one of the elements compared: the count can never be below the failures.
        element_count=max(compared, len(failures)),
        unexpected_count=len(failures),
        sample=[f.value for f in failures[:SAMPLE_SIZE] if f.value is not None],
        failures=tuple(failures),
    )


_PREVIOUS = "previous:"
"""Prefix of the previous month's value of a field in the frames the cross-month rules compare."""


def _key_columns(frame: pd.DataFrame, key: Sequence[str]) -> pd.DataFrame | None:
    """The row key as stripped text, one column per key field; None unless the frame has the whole key.

    A row with any part of its key missing keeps <NA> there and so matches no row of another month.
    """
    if not key or not set(key) <= set(frame.columns):
        return None
    return pd.DataFrame({k: frame[k].astype("string").str.strip() for k in key}, index=frame.index)


def _values(parsed: ParsedDelivery, spec: DatasetSpec, fields: list[str]) -> pd.DataFrame:
    """``source_row``, the row key and ``fields`` as float64 of every row (NaN when absent or unreadable)."""
    frame = parsed.frame
    values = pd.DataFrame({SOURCE_ROW: frame[SOURCE_ROW].astype("int64")}, index=frame.index)
    keys = _key_columns(frame, spec.key)
    if keys is not None:
        values = values.join(keys)
    for field in fields:
        values[field] = (
            pd.to_numeric(frame[field], errors="coerce").astype("float64") if field in frame.columns else math.nan
        )
    return values.reset_index(drop=True)


def _with_previous(inputs: _Inputs, fields: list[str], also: list[str] | None = None) -> pd.DataFrame:
    """The delivery's ``fields`` (and ``also``) with the previous month's accepted ``fields`` beside them.

    One row per row of the delivery, in its order; ``previous:<field>`` is
    the value loaded last month for the same key, NaN when there is none.
    The previous month is read once, and matched by a merge on the key.
    """
    current = _values(inputs.parsed, inputs.spec, fields + (also or []))
    previous = _previous_values(inputs, fields)
    if previous.empty or not set(inputs.spec.key) <= set(current.columns):
        for field in fields:
            current[_PREVIOUS + field] = math.nan
        return current
    return current.merge(previous, how="left", on=list(inputs.spec.key), sort=False, validate="many_to_one")


def _previous_values(inputs: _Inputs, fields: list[str]) -> pd.DataFrame:
    """The previous month's accepted values of ``fields`` by row key, from ``raw``; empty when none.

    Columns: the key fields (stripped text) and ``previous:<field>`` (float64).
    Rows without a whole key are dropped; of a key loaded twice, the last row counts.
    """
    spec = inputs.spec
    columns = [*spec.key, *(_PREVIOUS + f for f in fields)]
    exists = inputs.conn.execute("select to_regclass(%s)", (f"raw.{spec.raw_table}",)).fetchone()
    if not spec.key or not exists or exists[0] is None:
        return pd.DataFrame(columns=columns)
    query = sql.SQL("select {keys}, {fields} from {table} where report_month = %s order by source_row").format(
        keys=sql.SQL(", ").join(sql.Identifier(k) for k in spec.key),
        fields=sql.SQL(", ").join(sql.Identifier(f) for f in fields),
        table=sql.SQL("raw.{}").format(sql.Identifier(spec.raw_table)),
    )
    rows = inputs.conn.execute(query, (previous_month(inputs.month),)).fetchall()
    if not rows:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(rows, columns=columns)
    keys = _key_columns(frame, list(spec.key))
    assert keys is not None
    frame[list(spec.key)] = keys
    for field in fields:
        frame[_PREVIOUS + field] = pd.to_numeric(frame[_PREVIOUS + field], errors="coerce").astype("float64")
    frame = frame.dropna(subset=list(spec.key))
    return frame.drop_duplicates(subset=list(spec.key), keep="last").reset_index(drop=True)


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
    """A number as a clerk writes it (citydw.display): no exponent, no trailing zeros, never "-0"."""
    return number(value)
