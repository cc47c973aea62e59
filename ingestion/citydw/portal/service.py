"""What the portal does, once: each page and its JSON twin call the same function here.

Every function takes the signed-in :class:`~citydw.portal.accounts.User` and
starts by :func:`authorise`-ing the dataset against the user's department,
so no route can forget it. A submission is a delivery exactly like a file
drop — archived by checksum, a version in ``meta.deliveries`` (with
``submitted_by``) — and is ingested at once, in the request: the clerk sees
the verdict, and the month's next run finds the same bytes already decided
(a no-op). The marts pick it up at the next ``citydw build``/monthly run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import psycopg
from psycopg.rows import dict_row

from citydw import forms
from citydw.calendar import CalendarNotPublished, due_date
from citydw.checking import CheckReport, check_file
from citydw.months import parse_month, previous_month
from citydw.pipeline import Context, IngestResult, ingest
from citydw.portal.accounts import User, audit
from citydw.portal.uploads import Upload
from citydw.registry import DatasetSpec
from citydw.sources import Candidate

STATUS_TEXT = {
    "accepted": "已入库",
    "rejected": "已拒收",
    "superseded": "已被更正版本替代",
    "received": "已接收",
    None: "未报送",
}


class Forbidden(PermissionError):
    """The dataset belongs to another department."""


class NotFound(LookupError):
    """No such dataset or template."""


class BadInput(ValueError):
    """A value the client sent cannot be used (a month not of the form YYYY-MM)."""


@dataclass(frozen=True)
class DatasetRow:
    spec: DatasetSpec
    month: date
    due: date | None
    status: str | None
    version: int | None
    received_at: datetime | None
    submitted_by: str | None
    is_late: bool

    @property
    def status_text(self) -> str:
        return STATUS_TEXT.get(self.status, self.status or "未报送")

    @property
    def template_kinds(self) -> list[str]:
        if self.spec.channel.kind != "file":
            return []
        return ["xlsx", "csv-utf8", "csv-gb18030"] if self.spec.channel.format == "csv" else ["xlsx"]


@dataclass
class Overview:
    department: str
    department_name: str
    month: date
    datasets: list[DatasetRow]
    open_cases: list[dict] = field(default_factory=list)
    submissions: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class Submission:
    report: CheckReport
    result: IngestResult
    submitted_by: str

    def to_dict(self) -> dict:
        return {
            "dataset": self.result.dataset,
            "report_month": f"{self.result.report_month:%Y-%m}",
            "status": self.result.status,
            "status_text": STATUS_TEXT.get(self.result.status, self.result.status),
            "delivery_id": self.result.delivery_id,
            "version": self.result.version,
            "submitted_by": self.submitted_by,
            "rows_loaded": self.result.rows_loaded,
            "rows_quarantined": self.result.rows_quarantined,
            "reason": self.result.reason,
            "check": self.report.to_dict(),
        }


def current_report_month(context: Context, today: date | None = None) -> date:
    """The month departments are reporting on now: the one before today, in the city's time zone."""
    return previous_month(today or datetime.now(ZoneInfo(context.city.timezone)).date())


def month_from(text: str | None, context: Context) -> date:
    if not text:
        return current_report_month(context)
    try:
        return parse_month(text)
    except ValueError:
        raise BadInput(f"报送月份“{text}”格式不对，应为 YYYY-MM，如 2022-07") from None


def authorise(context: Context, user: User, dataset_id: str) -> DatasetSpec:
    """The dataset, if ``user``'s department delivers it; :class:`Forbidden` if another does."""
    spec = context.registry.datasets.get(dataset_id)
    if spec is None:
        raise NotFound(f"没有报表“{dataset_id}”")
    if spec.department != user.department:
        raise Forbidden(f"报表“{spec.title}”（{spec.id}）不属于本单位，无权查看或报送")
    return spec


def _due(spec: DatasetSpec, month: date) -> date | None:
    try:
        return due_date(spec.due, month)
    except CalendarNotPublished:
        return None


def overview(conn: psycopg.Connection, context: Context, user: User, month: date) -> Overview:
    """The department's datasets for ``month`` with due date and status, its open cases and submissions."""
    department = context.registry.department(user.department)
    specs = list(department.datasets)
    ids = [spec.id for spec in specs]
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            """
            select distinct on (dataset, report_month) dataset, report_month, status, version, received_at,
                   submitted_by,
                   -- Late or not is decided by the first version to arrive, not by a later correction.
                   min(received_at) over (partition by dataset, report_month) as first_received_at
            from meta.deliveries
            where dataset = any(%s)
            order by dataset, report_month, (status = 'accepted') desc, version desc
            """,
            (ids,),
        )
        latest = {(row["dataset"], row["report_month"]): row for row in cur.fetchall()}
        cur.execute(
            """
            select dataset, report_month, file_name, version, source_row, coalesce(header, column_name) as column,
                   value, rule, expected, deadline
            from meta.correction_cases
            where dataset = any(%s) and closed_at is null
            order by report_month desc, dataset, source_row nulls first
            limit 200
            """,
            (ids,),
        )
        open_cases = cur.fetchall()
        cur.execute(
            """
            select dataset, report_month, version, file_name, received_at, status, status_reason, rows_loaded,
                   rows_quarantined, submitted_by
            from meta.deliveries
            where dataset = any(%s)
            order by received_at desc, delivery_id desc
            limit 30
            """,
            (ids,),
        )
        submissions = cur.fetchall()
    now = datetime.now(UTC).astimezone(ZoneInfo(context.city.timezone)).date()
    rows = []
    for spec in specs:
        period = spec.period_for(month) if spec.frequency == "yearly" else month
        found = latest.get((spec.id, period), {})
        due = _due(spec, period)
        received = found.get("first_received_at")
        is_late = due is not None and (
            (received is not None and received.astimezone(ZoneInfo(context.city.timezone)).date() > due)
            or (received is None and now > due)
        )
        rows.append(
            DatasetRow(
                spec=spec,
                month=period,
                due=due,
                status=found.get("status"),
                version=found.get("version"),
                received_at=found.get("received_at"),
                submitted_by=found.get("submitted_by"),
                is_late=is_late,
            )
        )
    titles = {spec.id: spec.title for spec in specs}
    for row in [*open_cases, *submissions]:
        row["title"] = titles.get(row["dataset"], row["dataset"])
    return Overview(user.department, department.name, month, rows, open_cases, submissions)


def template(
    conn: psycopg.Connection, context: Context, user: User, dataset_id: str, month: date, kind: str
) -> forms.TemplateFile:
    spec = authorise(context, user, dataset_id)
    if spec.channel.kind != "file":
        raise NotFound(f"“{spec.title}”通过数据接口报送，没有填报模板")
    files = forms.templates_for(spec, context.city, spec.period_for(month), conn)
    if kind not in files:
        raise NotFound(f"“{spec.title}”没有“{kind}”格式的模板")
    return files[kind]


def check(
    conn: psycopg.Connection, context: Context, user: User, dataset_id: str, month: date, upload: Upload,
    client: str | None = None,
) -> CheckReport:  # fmt: skip
    """Pre-check an upload: ingest's parse and validation, nothing archived or loaded; audited."""
    spec = authorise(context, user, dataset_id)
    report = check_file(conn, spec.id, month, upload.data, upload.file_name, context)
    audit(conn, user, "check", dataset=spec.id, report_month=report.report_month, client=client,
          detail=f"{upload.file_name} sha256={upload.sha256[:16]} verdict={report.verdict}")  # fmt: skip
    return report


def submit(
    conn: psycopg.Connection, context: Context, user: User, dataset_id: str, month: date, upload: Upload,
    client: str | None = None,
) -> Submission:  # fmt: skip
    """Send an upload as the delivery of ``dataset_id`` for ``month``: archived, versioned, ingested now."""
    spec = authorise(context, user, dataset_id)
    period = spec.period_for(month)
    report = check_file(conn, spec.id, period, upload.data, upload.file_name, context)
    candidate = Candidate(
        file_name=upload.file_name,
        source_uri=f"portal://{user.username}/{upload.sha256}",
        received_at=datetime.now(UTC),
        read=lambda: upload.data,
        submitted_by=user.username,
    )
    result = ingest(conn, spec, period, context, candidates=[candidate])
    _sync_cases(conn, spec, period, context)
    audit(conn, user, "submit", dataset=spec.id, report_month=period, delivery_id=result.delivery_id, client=client,
          detail=f"{upload.file_name} v{result.version} {result.status}")  # fmt: skip
    return Submission(report=report, result=result, submitted_by=user.username)


def correction_workbook(context: Context, user: User, report: dict) -> bytes:
    """A pre-check's problems as a correction workbook, the format of the monthly one (quality.workbooks)."""
    import tempfile
    from pathlib import Path

    from citydw.quality.cases import CaseRow
    from citydw.quality.workbooks import write_department_workbook

    spec = authorise(context, user, report["dataset"])
    month = parse_month(report["report_month"])
    deadline = _due(spec, month) or month
    cases = [
        CaseRow(
            dataset=spec.id, report_month=month, kind="delivery" if problem["severity"] == "blocking" else "row",
            file_name=report["file_name"], version=0, source_row=problem["source_row"], row_key=None,
            column=problem["header"] or problem["column"], value=problem["value"], rule=problem["rule"],
            expected=problem["expected"], deadline=deadline, is_open=True, closed_at=None, closed_by_version=None,
        )
        for problem in [*report["blocking"], *report["problems"]]
    ]  # fmt: skip
    department = context.registry.department(user.department)
    with tempfile.TemporaryDirectory(prefix="citydw-portal-") as folder:
        path = Path(folder) / "corrections.xlsx"
        write_department_workbook(path, department, context.registry, context.city, month, cases)
        return path.read_bytes()


def _sync_cases(conn: psycopg.Connection, spec: DatasetSpec, month: date, context: Context) -> None:
    """Open and close the dataset-month's correction cases now, so the clerk sees the effect at once."""
    from citydw.quality.cases import sync_cases

    with conn.transaction():
        sync_cases(conn, spec, month, _due(spec, month), context.city.timezone)
