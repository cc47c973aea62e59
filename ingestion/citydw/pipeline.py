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
import queue
import threading
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

import psycopg

from citydw import archive, deliveries, loading
from citydw.city import City, load_city
from citydw.parsing.limits import ReadLimits, too_large
from citydw.parsing.model import SOURCE_ROW, DeliveryUnreadable, ParsedDelivery

if TYPE_CHECKING:
    import pandas as pd

    from citydw.parsing.reader import Buildable
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
    status: str  # accepted | rejected | superseded | missing | unchanged | error
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


# What each stage is called in a message to a department.
_STAGE_NAMES = {"fetch": "读取", "parse": "解析", "validate": "校验", "load": "入库"}


def ingest(
    conn: psycopg.Connection,
    spec: DatasetSpec,
    month: date,
    context: Context,
    candidates: list[Candidate] | None = None,
    *,
    confirm_shrink: bool = False,
) -> IngestResult:
    """Ingest every new version of ``spec``'s delivery for ``month``; report the last one handled.

    ``confirm_shrink``: a person has confirmed that a collapsed row count is real, so such a
    version is accepted — including one already rejected for it alone (``citydw ingest --confirm-shrink``).
    """
    if candidates is None:
        try:
            candidates = fetch_candidates(spec, month, context)
        except SourceError as error:
            with conn.transaction():
                deliveries.record_fetch_attempt(conn, spec.id, month, "error", str(error))
            return IngestResult(
                dataset=spec.id, report_month=month, status="error", reason=str(error), retryable=error.retryable
            )
        except Exception as error:
            return _fetch_failed(conn, spec, month, None, error, context)
    with conn.transaction():
        # The raw table exists as soon as a dataset is looked for, delivered or not.
        loading.ensure_raw_table(conn, spec)
        deliveries.record_fetch_attempt(
            conn, spec.id, month, "found" if candidates else "missing", f"{len(candidates)} file(s)"
        )
    if not candidates:
        return IngestResult(dataset=spec.id, report_month=month, status="missing")
    results = [
        ingest_candidate(conn, spec, month, candidate, context, confirm_shrink=confirm_shrink)
        for candidate in candidates
    ]
    fresh = [r for r in results if r.status != "unchanged"]
    return fresh[-1] if fresh else results[-1]


def ingest_candidate(
    conn: psycopg.Connection,
    spec: DatasetSpec,
    month: date,
    candidate: Candidate,
    context: Context,
    *,
    confirm_shrink: bool = False,
) -> IngestResult:
    """One file: archived, registered as a version, and decided: accepted, rejected or superseded.

    Once a version is in ``meta.deliveries`` it always ends decided: an
    unexpected failure rejects it as an internal error (logged, alerted to
    the data team), and one killed half-way is resolved by the next ingest.
    """
    limits = ReadLimits.from_settings(context.settings)
    if candidate.size is not None and candidate.size > limits.max_file_bytes:
        # Refused before reading (a 5 GB file would fill memory and the archive): no version is
        # registered, the attempt is recorded with the reason, and the department is asked again.
        reason = str(too_large(candidate.file_name, candidate.size, limits))
        with conn.transaction():
            deliveries.record_fetch_attempt(conn, spec.id, month, "error", reason)
        log.warning("%s %s refused: %s", spec.id, month, reason)
        return IngestResult(
            dataset=spec.id, report_month=month, status="rejected", file_name=candidate.file_name, reason=reason
        )
    try:
        data = candidate.read()
    except Exception as error:
        return _fetch_failed(conn, spec, month, candidate.file_name, error, context)
    try:
        archived = archive.store(context.settings.archive_root, data)
    except archive.ArchiveError as error:
        log.info("%s %s: %s", spec.id, f"{month:%Y-%m}", error)  # the result's line says it
        with conn.transaction():
            deliveries.record_fetch_attempt(conn, spec.id, month, "error", str(error))
        return IngestResult(
            dataset=spec.id, report_month=month, status="error", file_name=candidate.file_name, reason=str(error)
        )
    delivery = deliveries.register(conn, spec.id, month, candidate, archived)
    while not delivery.claimed and delivery.status == "received":
        # Another ingest is processing these very bytes right now: its decision is ours to report
        # (or, should it die first, the version is ours to process).
        deliveries.wait_until_released(conn, delivery.delivery_id)
        delivery = deliveries.register(conn, spec.id, month, candidate, archived)
    result = IngestResult(
        dataset=spec.id,
        report_month=month,
        status="unchanged",
        file_name=candidate.file_name,
        delivery_id=delivery.delivery_id,
        version=delivery.version,
    )
    if not delivery.claimed and not _reopened_for_shrink(conn, delivery, confirm_shrink):
        return _unchanged(conn, spec, delivery, result)
    try:
        # The bytes are handed over, not kept here: a large file's are freed once it is parsed.
        handed_over, data = [data], b""
        return _decide(conn, spec, month, delivery, handed_over, result, context, confirm_shrink=confirm_shrink)
    finally:
        _release_quietly(conn, delivery)


def reinstate(conn: psycopg.Connection, spec: DatasetSpec, month: date, version: int, context: Context) -> IngestResult:
    """Make an older version of the month the accepted one again, from its archived bytes.

    The operator's explicit way back (``citydw ingest --reinstate vN``) after
    a correction that should not have been sent: the version is parsed and
    validated again, loaded, accepted and marked reinstated; the version
    that stood is superseded. It is rejected again if its rows no longer pass.
    """
    delivery = deliveries.get(conn, spec.id, month, version=version)
    if delivery is None:
        raise LookupError(f"{spec.id} {month:%Y-%m} has no version {version}")
    result = IngestResult(
        dataset=spec.id,
        report_month=month,
        status="unchanged",
        file_name=delivery.file_name,
        delivery_id=delivery.delivery_id,
        version=delivery.version,
    )
    if delivery.status == "accepted":
        result.reason = f"unchanged: v{version} stands already"
        return result
    if not deliveries.try_claim(conn, delivery.delivery_id):
        raise RuntimeError(f"{spec.id} {month:%Y-%m} v{version} is being processed by another ingest; try again")
    try:
        assert delivery.archive_uri is not None
        return _decide(
            conn, spec, month, delivery, [archive.load(delivery.archive_uri)], result, context, reinstating=True
        )
    finally:
        _release_quietly(conn, delivery)


def _decide(
    conn: psycopg.Connection,
    spec: DatasetSpec,
    month: date,
    delivery: deliveries.Delivery,
    handed_over: list[bytes],
    result: IngestResult,
    context: Context,
    *,
    reinstating: bool = False,
    confirm_shrink: bool = False,
) -> IngestResult:
    file_name = delivery.file_name or result.file_name or "?"
    from citydw.validation.runner import warm_up_in_background

    stage = "parse"
    try:
        # GX's import and context take seconds: they are made while the file is parsed.
        warm_up_in_background()
        try:
            # Popped: the file's bytes live only as long as the parse (a 1M-row CSV's are ~170 MiB).
            laid_out = _lay_out(
                handed_over.pop(), file_name, spec, context, month if spec.frequency == "monthly" else None
            )
        except DeliveryUnreadable as unreadable:
            return _reject(conn, delivery, result, str(unreadable), problems=[], rows_received=0)

        stage = "validate"
        try:
            return _validate_while_loading(
                conn, spec, month, delivery, laid_out, result, context, reinstating=reinstating,
                confirm_shrink=confirm_shrink,
            )  # fmt: skip
        except _StageFailed as failed:
            stage = failed.stage
            raise failed.error from None
    except Exception as error:
        return _reject_internal(conn, delivery, result, stage, error, context)


class _StageFailed(Exception):
    """An unexpected error, and the stage (``validate`` or ``load``) it happened in."""

    def __init__(self, stage: str, error: Exception) -> None:
        super().__init__(stage, error)
        self.stage = stage
        self.error = error


class _Blocked(Exception):
    """Raised inside the load transaction to roll it back: the examination rejects the version."""

    def __init__(self, found: Examination) -> None:
        super().__init__(found.blocking_reason)
        self.found = found


def _validate_while_loading(
    conn: psycopg.Connection,
    spec: DatasetSpec,
    month: date,
    delivery: deliveries.Delivery,
    laid_out: Buildable,
    result: IngestResult,
    context: Context,
    *,
    reinstating: bool,
    confirm_shrink: bool,
) -> IngestResult:
    """Load the rows as they are converted and examine them; keep the load only if the examination allows it.

    An older version never overwrites a newer one: it waits while a newer
    version is still being processed, and if a newer one is accepted by
    then, it is superseded without touching ``raw``. So the newest version
    wins whatever order concurrent ingests finish in, and what this returns
    is what the warehouse holds.

    The load transaction is opened (the month locked) once the file is laid
    out, and the month's rows are replaced in a thread: each block of rows
    goes into its COPY as soon as it is converted, so the server parses block
    k while block k+1 is converted. Then the suite and the dataset rules run
    here on a second connection while the COPY finishes. The rows the examination quarantines are
    then deleted again by ``source_row``, and the findings, the load and the
    version's status commit together. A blocking verdict rolls the whole
    transaction back, so the version that stood still stands and nothing of
    this one was ever visible. The examination is the same as ``citydw
    check``'s and the portal's, so their verdicts agree.
    """
    while True:
        if not reinstating:
            _wait_for_newer_versions(conn, delivery)
        try:
            with conn.transaction():
                deliveries.lock_dataset_month(conn, spec.id, month)
                if not reinstating and deliveries.newer_in_flight(conn, delivery):
                    continue  # a newer version arrived just now: wait for it too
                newer = None if reinstating else deliveries.newer_accepted(conn, delivery)
                load = None if newer is not None else _BackgroundLoad(conn, spec, month, delivery.delivery_id)
                parsed = _build(laid_out, load)
                found = _examine_beside(conn, load, spec, month, parsed, context, confirm_shrink)
                result.problems = found.problems + found.warnings
                if found.blocking_reason:
                    raise _Blocked(found)
                try:
                    return _keep(conn, spec, month, delivery, result, found, load, newer, reinstating)
                except Exception as error:
                    raise _StageFailed("load", error) from error
        except DeliveryUnreadable as unreadable:  # found while the body was read (a CSV streams): nothing loaded
            return _reject(conn, delivery, result, str(unreadable), problems=[], rows_received=0)
        except _Blocked as blocked:
            found = blocked.found
            assert found.outcome is not None and found.blocking_reason  # a readable file is always validated
            return _reject(
                conn,
                delivery,
                result,
                found.blocking_reason,
                found.problems,
                found.rows_received,
                found.parsed,
                found.outcome,
            )


def _examine_beside(
    conn: psycopg.Connection,
    load: _BackgroundLoad | None,
    spec: DatasetSpec,
    month: date,
    parsed: ParsedDelivery,
    context: Context,
    confirm_shrink: bool,
) -> Examination:
    """The examination, on a second connection while ``load`` uses ``conn``; waits for the load to end.

    The second connection sees the warehouse as committed, without this
    transaction's replaced month: what the examination saw before loads overlapped.
    """
    try:
        with _second_connection(conn) as other:
            found = _examine_parsed(other, spec, month, parsed, context, confirm_shrink=confirm_shrink)
    except Exception as error:
        if load is not None:
            load.wait()  # never leave the connection to a thread still writing on it
        raise _StageFailed("validate", error) from error
    if load is not None:
        load.wait()
    return found


def _second_connection(conn: psycopg.Connection) -> psycopg.Connection:
    """A new autocommit connection to ``conn``'s database, as the same user."""
    from psycopg.conninfo import make_conninfo

    password = conn.info.password  # not in ``dsn``
    conninfo = make_conninfo(conn.info.dsn, password=password) if password else conn.info.dsn
    return psycopg.connect(conninfo, autocommit=True)


def _build(laid_out: Buildable, load: _BackgroundLoad | None) -> ParsedDelivery:
    """The rows converted block by block, each handed to ``load`` as it is ready.

    A conversion that fails unexpectedly abandons the load (its COPY is
    aborted, the transaction rolled back) and is a failure of the parse; a
    file found unreadable as its body is read abandons it too, and is rejected as unreadable.
    """
    if load is None:
        return _parse_stage(laid_out.build)
    try:
        parsed = _parse_stage(lambda: laid_out.build(on_block=load.put))
    except BaseException:
        load.abandon()
        raise
    load.close()
    return parsed


def _parse_stage(build) -> ParsedDelivery:
    try:
        return build()
    except DeliveryUnreadable:
        raise  # the file's fault, found as its body was read: rejected as unreadable, not as an internal error
    except Exception as error:
        raise _StageFailed("parse", error) from error


class _Abandoned(Exception):
    """Raised in the load thread to abort its COPY: the rows it was given will not all come."""


_ALL_HANDED_OVER = None


class _BackgroundLoad:
    """``loading.replace_partition`` of the blocks of rows :meth:`put` hands over, on ``conn``, in a thread of its own.

    Until :meth:`wait` returns, the thread owns ``conn``; :meth:`close` says
    every block is handed over (:meth:`abandon`: none will follow, abort).
    An error in the thread is raised by :meth:`wait`, as a failure of the
    load (the transaction is then aborted, and rolled back by the caller's block).
    """

    def __init__(self, conn: psycopg.Connection, spec: DatasetSpec, month: date, delivery_id: int) -> None:
        self.rows = 0
        self._error: Exception | None = None
        self._blocks: queue.SimpleQueue[pd.DataFrame | _Abandoned | None] = queue.SimpleQueue()
        self._thread = threading.Thread(
            target=self._run, args=(conn, spec, month, delivery_id), name="citydw-load", daemon=True
        )
        self._thread.start()

    def put(self, block: pd.DataFrame) -> None:
        if self._error is None:  # a load that failed takes no more rows
            self._blocks.put(block)

    def close(self) -> None:
        self._blocks.put(_ALL_HANDED_OVER)

    def abandon(self) -> None:
        self._blocks.put(_Abandoned())
        self._thread.join()
        self._error = None  # the load did not fail: the parse did, and says so

    def _handed_over(self):
        while (block := self._blocks.get()) is not _ALL_HANDED_OVER:
            if isinstance(block, _Abandoned):
                raise block
            yield block

    def _run(self, conn: psycopg.Connection, spec: DatasetSpec, month: date, delivery_id: int) -> None:
        try:
            self.rows = loading.replace_partition(conn, spec, month, delivery_id, self._handed_over())
        except Exception as error:
            self._error = error

    def wait(self) -> int:
        self._thread.join()
        if self._error is not None:
            raise _StageFailed("load", self._error)
        return self.rows


def _keep(
    conn: psycopg.Connection,
    spec: DatasetSpec,
    month: date,
    delivery: deliveries.Delivery,
    result: IngestResult,
    found: Examination,
    load: _BackgroundLoad | None,
    newer: int | None,
    reinstating: bool,
) -> IngestResult:
    """In the load transaction: the findings, the quarantined rows taken out again, the version accepted."""
    quarantined = found.quarantined_rows
    result.rows_received = found.rows_received
    result.rows_quarantined = len(quarantined)
    _record_findings(conn, delivery, found.outcome, found.problems, found.parsed)
    if newer is not None or load is None:
        result.status = "superseded"
        result.reason = f"superseded by v{newer} while loading"
        deliveries.supersede(conn, delivery, result.reason, result.rows_received)
        return result
    result.rows_loaded = load.rows - loading.delete_rows(conn, spec, month, quarantined)
    replaced = deliveries.accept(
        conn, delivery, result.rows_received, result.rows_loaded, result.rows_quarantined, reinstated=reinstating
    )
    result.status = "accepted"
    if reinstating:
        result.reason = f"v{delivery.version} reinstated" + (f", v{replaced} superseded" if replaced else "")
    return result


def _wait_for_newer_versions(conn: psycopg.Connection, delivery: deliveries.Delivery) -> None:
    while in_flight := deliveries.newer_in_flight(conn, delivery):
        for delivery_id in in_flight:
            deliveries.wait_until_released(conn, delivery_id)


def _unchanged(
    conn: psycopg.Connection, spec: DatasetSpec, delivery: deliveries.Delivery, result: IngestResult
) -> IngestResult:
    """Bytes already decided: say which version they are and which version stands now."""
    version = f"v{delivery.version}"
    standing = deliveries.accepted_version(conn, spec.id, delivery.report_month)
    stands = f"v{standing.version} stands" if standing else "no version stands"
    if delivery.status == "accepted":
        result.reason = f"unchanged: {version} stands (same bytes)"
    elif delivery.status == "superseded":
        run_month = delivery.report_month if spec.frequency != "yearly" else date(delivery.report_month.year + 1, 1, 1)
        result.reason = (
            f"same bytes as {version}, which was superseded; {stands} now. To go back to {version}: "
            f"citydw ingest --month {run_month:%Y-%m} --dataset {spec.id} --reinstate {version}"
        )
    else:
        result.reason = f"same bytes as {version}, {delivery.status}: {delivery.status_reason}; {stands}"
    return result


def _fetch_failed(
    conn: psycopg.Connection,
    spec: DatasetSpec,
    month: date,
    file_name: str | None,
    error: Exception,
    context: Context,
) -> IngestResult:
    """Fetching failed unexpectedly: nothing registered; recorded, logged with the traceback, alerted."""
    what = f"“{file_name}”" if file_name else "本月报送"
    reason = f"内部错误：读取{what}时出现意外异常（{type(error).__name__}），未能获取数据；数据组已收到通知"
    log_path = _report_internal_error(conn, spec.id, month, None, "fetch", reason, error, context)
    with conn.transaction():
        deliveries.record_fetch_attempt(conn, spec.id, month, "error", f"{reason}: {error}")
    return IngestResult(
        dataset=spec.id,
        report_month=month,
        status="error",
        file_name=file_name,
        reason=f"{reason}（{log_path}）",
    )


def _reject_internal(
    conn: psycopg.Connection,
    delivery: deliveries.Delivery,
    result: IngestResult,
    stage: str,
    error: Exception,
    context: Context,
) -> IngestResult:
    """citydw failed on this version: rejected as an internal error, logged with the traceback, alerted.

    The department is told it is not their file's fault; the same bytes
    again (or the next run's fetch) are processed again once it is fixed.
    If even recording the rejection fails (the warehouse went away), the
    version stays ``received`` and the next ingest of the month resolves it.
    """
    file_name = delivery.file_name or result.file_name or "?"
    reason = (
        f"内部错误：{_STAGE_NAMES[stage]}文件“{file_name}”时出现意外异常（{type(error).__name__}），"
        "不是报送单位的问题，数据未入库；数据组已收到通知，修复后会重新处理"
    )
    try:
        with conn.transaction():
            deliveries.reject(conn, delivery.delivery_id, reason, result.rows_received or None, kind="internal_error")
    except Exception:
        log.error("could not record the internal error of %s v%s either", delivery.dataset, delivery.version)
        raise error from None
    log_path = _report_internal_error(
        conn, delivery.dataset, delivery.report_month, delivery.version, stage, reason, error, context
    )
    result.status = "rejected"
    result.rows_loaded = 0
    result.reason = f"{reason}（{type(error).__name__}: {_one_line(error)}; traceback in {log_path}）"
    return result


def _report_internal_error(
    conn: psycopg.Connection,
    dataset: str,
    month: date,
    version: int | None,
    stage: str,
    reason: str,
    error: Exception,
    context: Context,
):
    """The traceback to ``<home>/logs/errors.log`` and an alert to the data team; returns the log's path."""
    from citydw.logfiles import record_traceback

    which = f"{dataset} {month:%Y-%m}" + (f" v{version}" if version else "")
    try:
        log_path: object = record_traceback(f"{which}: {stage} failed", error, context.settings)
    except OSError as unwritable:  # the traceback then goes to this process's own log
        log.error("%s: no errors.log (%s)", which, unwritable, exc_info=error)
        log_path = "this process's log"
    log.error(
        "%s: %s failed with %s: %s (traceback in %s)", which, stage, type(error).__name__, _one_line(error), log_path
    )
    try:
        from citydw.alerts.send import alert_data_team

        alert_data_team(
            conn,
            problem_key=f"ingest-internal-error:{dataset}:{stage}:v{version or 0}",
            report_month=month,
            dataset=dataset,
            subject=f"【citydw】入库内部错误 {which}",
            body="\n".join(
                [
                    f"数据集：{dataset}",
                    f"报送月份：{month:%Y-%m}" + (f"，版本 v{version}" if version else ""),
                    f"环节：{_STAGE_NAMES[stage]}（{stage}）",
                    f"异常：{type(error).__name__}: {str(error)[:1500]}",
                    f"告知报送单位：{reason}",
                    f"完整堆栈：{log_path}",
                ]
            ),
            settings=context.settings,
        )
    except Exception:
        log.exception("could not alert the data team of the internal error of %s", which)
    return log_path


def _one_line(error: BaseException, limit: int = 300) -> str:
    text = " ".join(str(error).split())
    return text if len(text) <= limit else text[:limit] + "…"


def _release_quietly(conn: psycopg.Connection, delivery: deliveries.Delivery) -> None:
    # A broken connection has released the lock already.
    try:
        deliveries.release(conn, delivery.delivery_id)
    except psycopg.Error:
        log.warning("could not release the lock of %s v%s", delivery.dataset, delivery.version)


@dataclass
class Examination:
    """What parsing and validating one file found, before anything is archived or recorded.

    ``citydw ingest`` acts on it (load, quarantine or reject) and ``citydw
    check`` and the portal only report it, so the verdicts cannot differ.
    """

    parsed: ParsedDelivery | None  # None: the file could not be read at all
    outcome: ValidationOutcome | None
    problems: list[Problem]  # row problems: parse issues and failed row rules
    warnings: list[Problem]
    blocking_reason: str | None  # why the delivery would be rejected, in Chinese; None if it would not
    blocking: list[Problem] = field(default_factory=list)

    @property
    def rows_received(self) -> int:
        return 0 if self.parsed is None else len(self.parsed.frame)

    @property
    def quarantined_rows(self) -> set[int]:
        return {p.source_row for p in self.problems if p.source_row is not None}

    @property
    def verdict(self) -> str:
        """``blocking`` (would be rejected), ``row`` (rows would be quarantined) or ``ok``."""
        if self.blocking_reason:
            return "blocking"
        return "row" if self.problems else "ok"


def examine(
    conn: psycopg.Connection, spec: DatasetSpec, month: date, data: bytes, file_name: str, context: Context
) -> Examination:
    """Parse and validate ``data`` as ``spec``'s delivery for ``month``; reads the warehouse, writes nothing."""
    try:
        parsed = _read(data, file_name, spec, context, month if spec.frequency == "monthly" else None)
    except DeliveryUnreadable as unreadable:
        return _unreadable(str(unreadable))
    return _examine_parsed(conn, spec, month, parsed, context)


def _unreadable(message: str) -> Examination:
    return Examination(None, None, [], [], message, [Problem("unreadable", message, "blocking")])


def _examine_parsed(
    conn: psycopg.Connection,
    spec: DatasetSpec,
    month: date,
    parsed: ParsedDelivery,
    context: Context,
    *,
    confirm_shrink: bool = False,
) -> Examination:
    """Validate a file that could be read: the suite, then the dataset rules that compare it with the warehouse."""
    outcome = _validate(parsed, spec, month, context)
    outcome = _with_dataset_rules(conn, spec, month, parsed, outcome, context, shrink_confirmed=confirm_shrink)
    problems = _row_problems(parsed, outcome)
    blocking = [
        Problem(
            rule_id=rule.rule_id,
            rule=_blocking_reason(rule, parsed) + _where_and_seen_if_missing(rule, parsed),
            severity="blocking",
            column=rule.column,
            header=parsed.headers.get(rule.column or "") or _template_header(spec, rule.column),
            expected=rule.expected,
        )
        for rule in outcome.blocking_failures
    ]
    reason: str | None = "；".join(p.rule for p in blocking) or None
    rows_received = len(parsed.frame)
    quarantined = {p.source_row for p in problems if p.source_row is not None}
    if not reason and rows_received and parsed.frame[SOURCE_ROW].isin(quarantined).all():
        reason = f"全部 {rows_received} 行数据均未通过校验，报表未入库"
        blocking = [Problem("all_rows_failed", reason, "blocking")]
    return Examination(parsed, outcome, problems, _warning_problems(outcome), reason, blocking)


def _where_and_seen_if_missing(rule, parsed: ParsedDelivery) -> str:
    """For a missing column: the file, the sheet and the headers seen, so a misspelt header is told from a missing one."""
    return parsed.where_and_seen() if rule.expectation_type == "expect_column_to_exist" else ""


def _template_header(spec: DatasetSpec, column: str | None) -> str | None:
    """The template's header of a field the file lacks, so a message names it as the department does."""
    try:
        return spec.field(column).header if column else None
    except KeyError:
        return None


def _read(
    data: bytes, file_name: str, spec: DatasetSpec, context: Context, report_month: date | None = None
) -> ParsedDelivery:
    return _lay_out(data, file_name, spec, context, report_month).build()


def _lay_out(
    data: bytes, file_name: str, spec: DatasetSpec, context: Context, report_month: date | None = None
) -> Buildable:
    """The file read and laid out; its rows are converted by ``.build()``, block by block."""
    from citydw.parsing.reader import lay_out_delivery

    if not data:
        raise DeliveryUnreadable(f"文件“{file_name}”为空（0 字节），请重新报送")
    return lay_out_delivery(
        data, file_name, spec, context.city, ReadLimits.from_settings(context.settings), report_month=report_month
    )


def _validate(parsed: ParsedDelivery, spec: DatasetSpec, month: date, context: Context) -> ValidationOutcome:
    from citydw.validation.runner import validate
    from citydw.validation.suites import load_suite

    suite = load_suite(spec, context.settings.expectations_path)
    return validate(parsed, suite, report_month=month, city=context.city, spec=spec)


# --- citydw.quality: the rule pack's dataset rules (previous month, total row) ---------------


def _with_dataset_rules(
    conn: psycopg.Connection,
    spec: DatasetSpec,
    month: date,
    parsed: ParsedDelivery,
    outcome: ValidationOutcome,
    context: Context,
    *,
    shrink_confirmed: bool = False,
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
    extra = check_delivery(
        conn, spec, month, parsed, checks, held_back=frozenset(held_back), shrink_confirmed=shrink_confirmed
    )
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


def _reopened_for_shrink(conn: psycopg.Connection, delivery: deliveries.Delivery, confirm_shrink: bool) -> bool:
    """Whether a person's --confirm-shrink lets this decided version be decided again (and it is claimed for that)."""
    return confirm_shrink and _held_for_shrink(conn, delivery) and deliveries.try_claim(conn, delivery.delivery_id)


def _held_for_shrink(conn: psycopg.Connection, delivery: deliveries.Delivery) -> bool:
    """Whether this version was rejected for its collapsed row count and nothing else."""
    if delivery.status != "rejected":
        return False
    failed = conn.execute(
        """
        select array_agg(distinct rule_id) from meta.validation_results
        where delivery_id = %s and severity = 'blocking' and not success
        """,
        (delivery.delivery_id,),
    ).fetchone()
    return bool(failed and failed[0] == ["citydw.row_count_collapse"])


def _record_findings(
    conn: psycopg.Connection,
    delivery: deliveries.Delivery,
    outcome: ValidationOutcome | None,
    problems: list[Problem],
    parsed: ParsedDelivery | None,
) -> None:
    # A version decided again (a collapse confirmed with --confirm-shrink) keeps one set of findings.
    conn.execute("delete from meta.validation_results where delivery_id = %s", (delivery.delivery_id,))
    conn.execute("delete from meta.quarantine where delivery_id = %s", (delivery.delivery_id,))
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
    log.info("%s %s rejected: %s", spec_id, delivery.report_month, reason)
    return result
