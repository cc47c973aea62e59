"""One dataset, one month: fetch, archive, parse, validate, load.

This is the unit of work of the monthly DAG (one mapped task per dataset)
and of ``citydw ingest``. Each candidate file becomes a version in
``meta.deliveries``; its rows reach ``raw`` only if no blocking rule fails,
and only in one transaction together with its quarantine, its validation
results and its status.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import date

import psycopg

from citydw import archive, deliveries, loading
from citydw.city import City, load_city
from citydw.parsing.model import SOURCE_ROW, DeliveryUnreadable, ParsedDelivery
from citydw.registry import DatasetSpec, Registry, load_registry
from citydw.settings import Settings, get_settings
from citydw.sources import Candidate, SourceError
from citydw.validation.runner import ValidationOutcome

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Problem:
    """Something wrong with a delivery, phrased for the department."""

    rule_id: str
    rule: str
    severity: str
    source_row: int | None = None
    column: str | None = None
    header: str | None = None
    value: str | None = None
    expected: str | None = None

    def describe(self) -> str:
        row = f"第{self.source_row}行" if self.source_row else ""
        column = f"“{self.header or self.column}”列" if (self.header or self.column) else ""
        located = row + column
        value = f"，值“{self.value}”" if self.value is not None else ""
        expected = f"；应为：{self.expected}" if self.expected else ""
        return f"{located}{'：' if located else ''}{self.rule}{value}{expected}"


@dataclass
class IngestResult:
    """What happened to one dataset for one month; small enough to pass between Airflow tasks."""

    dataset: str
    report_month: date
    status: str  # accepted | rejected | missing | unchanged | error
    file_name: str | None = None
    delivery_id: int | None = None
    version: int | None = None
    rows_received: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    reason: str | None = None
    retryable: bool = True  # for status "error": whether trying again may help
    problems: list[Problem] = field(default_factory=list)

    def summary(self) -> str:
        head = f"{self.dataset:<40} {self.report_month:%Y-%m}  {self.status:<9}"
        if self.status == "missing":
            return f"{head} no delivery found"
        version = f"v{self.version} " if self.version else ""
        counts = f"loaded {self.rows_loaded:>6}  quarantined {self.rows_quarantined:>4}"
        why = f"  — {self.reason}" if self.reason else ""
        return f"{head} {version}{counts}  ({self.file_name}){why}"

    def to_dict(self) -> dict:
        return {
            "dataset": self.dataset,
            "report_month": self.report_month.isoformat(),
            "status": self.status,
            "file_name": self.file_name,
            "version": self.version,
            "rows_loaded": self.rows_loaded,
            "rows_quarantined": self.rows_quarantined,
            "reason": self.reason,
        }


@dataclass
class Context:
    """What every ingest needs, loaded once per process."""

    settings: Settings
    registry: Registry
    city: City

    @classmethod
    def load(cls, settings: Settings | None = None) -> Context:
        settings = settings or get_settings()
        return cls(settings=settings, registry=load_registry(settings.registry_path), city=load_city(settings.city_dir))


def fetch_candidates(spec: DatasetSpec, month: date, context: Context) -> list[Candidate]:
    """The files offered for ``spec`` and ``month`` by its channel's source adapter."""
    if spec.channel.kind == "api":
        from citydw.sources import api

        return api.list_candidates(spec, context.settings, month)
    from citydw.sources import filedrop

    return filedrop.list_candidates(spec, context.settings.drop_root, month)


def ingest(
    conn: psycopg.Connection,
    spec: DatasetSpec,
    month: date,
    context: Context,
    candidates: list[Candidate] | None = None,
) -> IngestResult:
    """Ingest every new version of ``spec``'s delivery for ``month``; report the last one handled."""
    if candidates is None:
        try:
            candidates = fetch_candidates(spec, month, context)
        except SourceError as error:
            with conn.transaction():
                deliveries.record_fetch_attempt(conn, spec.id, month, "error", str(error))
            return IngestResult(
                dataset=spec.id, report_month=month, status="error", reason=str(error), retryable=error.retryable
            )
    with conn.transaction():
        # The raw table exists as soon as a dataset is looked for, delivered or not.
        loading.ensure_raw_table(conn, spec)
        deliveries.record_fetch_attempt(
            conn, spec.id, month, "found" if candidates else "missing", f"{len(candidates)} file(s)"
        )
    if not candidates:
        return IngestResult(dataset=spec.id, report_month=month, status="missing")
    results = [ingest_candidate(conn, spec, month, candidate, context) for candidate in candidates]
    fresh = [r for r in results if r.status != "unchanged"]
    return fresh[-1] if fresh else results[-1]


def ingest_candidate(
    conn: psycopg.Connection, spec: DatasetSpec, month: date, candidate: Candidate, context: Context
) -> IngestResult:
    data = candidate.read()
    archived = archive.store(context.settings.archive_root, data)
    delivery = deliveries.register(conn, spec.id, month, candidate, archived)
    result = IngestResult(
        dataset=spec.id,
        report_month=month,
        status="unchanged",
        file_name=candidate.file_name,
        delivery_id=delivery.delivery_id,
        version=delivery.version,
    )
    if delivery.status in deliveries.DECIDED:
        result.reason = f"same bytes as version {delivery.version} ({delivery.status})"
        return result

    try:
        parsed = _read(data, candidate.file_name, spec, context)
    except DeliveryUnreadable as unreadable:
        return _reject(conn, delivery, result, str(unreadable), problems=[], rows_received=0)

    outcome = _validate(parsed, spec, month, context)
    outcome = _with_dataset_rules(conn, spec, month, parsed, outcome, context)
    problems = _row_problems(parsed, outcome)
    quarantined_rows = {p.source_row for p in problems if p.source_row is not None}
    rows_received = len(parsed.frame)
    result.problems = problems + _warning_problems(outcome)
    if outcome.blocking_failures:
        reason = "；".join(_blocking_reason(rule, parsed) for rule in outcome.blocking_failures)
        return _reject(conn, delivery, result, reason, problems, rows_received, parsed, outcome)
    accepted_rows = parsed.frame[~parsed.frame[SOURCE_ROW].isin(quarantined_rows)]
    if rows_received and accepted_rows.empty:
        reason = f"全部 {rows_received} 行数据均未通过校验，报表未入库"
        return _reject(conn, delivery, result, reason, problems, rows_received, parsed, outcome)

    with conn.transaction():
        deliveries.lock_dataset_month(conn, spec.id, month)
        loaded = loading.replace_partition(conn, spec, month, delivery.delivery_id, accepted_rows)
        _record_findings(conn, delivery, outcome, problems, parsed)
        deliveries.accept(conn, delivery, rows_received, loaded, len(quarantined_rows))
    result.status = "accepted"
    result.rows_received = rows_received
    result.rows_loaded = loaded
    result.rows_quarantined = len(quarantined_rows)
    return result


def _read(data: bytes, file_name: str, spec: DatasetSpec, context: Context) -> ParsedDelivery:
    from citydw.parsing.reader import read_delivery

    if not data:
        raise DeliveryUnreadable(f"文件“{file_name}”为空（0 字节），请重新报送")
    return read_delivery(data, file_name, spec, context.city)


def _validate(parsed: ParsedDelivery, spec: DatasetSpec, month: date, context: Context) -> ValidationOutcome:
    from citydw.validation.runner import validate
    from citydw.validation.suites import load_suite

    suite = load_suite(spec, context.settings.expectations_path)
    return validate(parsed, suite, report_month=month, city=context.city)


# --- citydw.quality: the rule pack's dataset rules (previous month, total row) ---------------


def _with_dataset_rules(
    conn: psycopg.Connection,
    spec: DatasetSpec,
    month: date,
    parsed: ParsedDelivery,
    outcome: ValidationOutcome,
    context: Context,
) -> ValidationOutcome:
    """The suite's results plus those of the dataset rules its ``meta.citydw_checks`` declares."""
    from citydw.quality.checks import check_delivery, suite_checks
    from citydw.validation.suites import read_suite_document

    checks = suite_checks(read_suite_document(context.settings.expectations_path / spec.suite_file))
    if not checks:
        return outcome
    # Rows the suite or the reader already hold back do not count in sums compared with other datasets.
    held_back = {issue.source_row for issue in parsed.issues} | {
        failure.source_row for rule in outcome.row_failures for failure in rule.failures
    }
    extra = check_delivery(conn, spec, month, parsed, checks, held_back=frozenset(held_back))
    return ValidationOutcome(suite_name=outcome.suite_name, rules=(*outcome.rules, *extra))


# ---------------------------------------------------------------------------------------------


def _blocking_reason(rule, parsed: ParsedDelivery) -> str:
    found = f"（发现：{'、'.join(rule.sample[:3])}）" if rule.sample else ""
    return f"{rule.description}{found}"


def _row_problems(parsed: ParsedDelivery, outcome: ValidationOutcome) -> list[Problem]:
    problems = [
        Problem(
            rule_id=issue.rule_id,
            rule=issue.message,
            severity="row",
            source_row=issue.source_row,
            column=issue.field,
            header=issue.header,
            value=issue.value,
        )
        for issue in parsed.issues
    ]
    for rule in outcome.row_failures:
        for failure in rule.failures:
            problems.append(
                Problem(
                    rule_id=rule.rule_id,
                    rule=rule.description,
                    severity="row",
                    source_row=failure.source_row,
                    column=failure.column,
                    header=parsed.headers.get(failure.column or ""),
                    value=failure.value,
                    expected=rule.expected,
                )
            )
    return sorted(problems, key=lambda p: (p.source_row or 0, p.column or ""))


def _warning_problems(outcome: ValidationOutcome) -> list[Problem]:
    return [
        Problem(
            rule_id=r.rule_id,
            rule=r.description,
            severity="warning",
            column=r.column,
            value="、".join(r.sample[:3]) or None,
        )
        for r in outcome.warnings
    ]


def _records_by_row(parsed: ParsedDelivery, rows: set[int]) -> dict[int, dict]:
    if not rows:
        return {}
    subset = parsed.frame[parsed.frame[SOURCE_ROW].isin(rows)]
    records = json.loads(subset.to_json(orient="records", date_format="iso", force_ascii=False))
    return {int(record[SOURCE_ROW]): record for record in records}


def _record_findings(
    conn: psycopg.Connection,
    delivery: deliveries.Delivery,
    outcome: ValidationOutcome | None,
    problems: list[Problem],
    parsed: ParsedDelivery | None,
) -> None:
    if outcome is not None:
        loading.write_rows(
            conn,
            "meta.validation_results",
            ["delivery_id", "suite_name", "rule_id", "expectation_type", "column_name", "severity",
             "description", "success", "element_count", "unexpected_count", "unexpected_sample"],
            (
                (delivery.delivery_id, outcome.suite_name, r.rule_id, r.expectation_type, r.column, r.severity,
                 r.description, r.success, r.element_count, r.unexpected_count, r.sample)
                for r in outcome.rules
            ),
        )  # fmt: skip
    records = _records_by_row(parsed, {p.source_row for p in problems if p.source_row}) if parsed else {}
    loading.write_rows(
        conn,
        "meta.quarantine",
        ["delivery_id", "dataset", "report_month", "source_row", "column_name", "header", "value",
         "rule_id", "rule", "expected", "severity", "record"],
        (
            (delivery.delivery_id, delivery.dataset, delivery.report_month, p.source_row, p.column, p.header, p.value,
             p.rule_id, p.rule, p.expected, p.severity, records.get(p.source_row or -1))
            for p in problems
        ),
    )  # fmt: skip


def _reject(
    conn: psycopg.Connection,
    delivery: deliveries.Delivery,
    result: IngestResult,
    reason: str,
    problems: list[Problem],
    rows_received: int,
    parsed: ParsedDelivery | None = None,
    outcome: ValidationOutcome | None = None,
) -> IngestResult:
    """Record the rejection; the previously accepted version, if any, stays in ``raw``."""
    spec_id = delivery.dataset
    rows_with_problems = {p.source_row for p in problems if p.source_row}
    with conn.transaction():
        deliveries.lock_dataset_month(conn, spec_id, delivery.report_month)
        if outcome is not None or problems:
            _record_findings(conn, delivery, outcome, problems, parsed)
        deliveries.reject(conn, delivery.delivery_id, reason, rows_received, len(rows_with_problems))
    result.status = "rejected"
    result.reason = reason
    result.rows_received = rows_received
    result.rows_quarantined = len(rows_with_problems)
    log.warning("%s %s rejected: %s", spec_id, delivery.report_month, reason)
    return result
