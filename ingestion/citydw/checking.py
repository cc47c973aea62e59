"""Pre-checking a file before it is sent: the whole parse and validation of ingest, nothing kept.

``citydw check`` and the portal call :func:`check_file`; it runs
:func:`citydw.pipeline.examine`, the very step ``citydw ingest`` acts on, so a
file the check accepts is a file ingest accepts, with the same messages.
Nothing is archived, registered or loaded; the warehouse is only read (the
cross-month rules compare with last month's accepted rows).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date

import psycopg

from citydw.months import parse_month
from citydw.pipeline import Context, Problem, examine

EXIT_CODES = {"ok": 0, "blocking": 1, "row": 2}
"""``citydw check``'s exit code by verdict: 0 acceptable, 1 blocking problems, 2 row problems."""

VERDICT_TEXT = {
    "ok": "校验通过，可以报送",
    "row": "有数据行未通过校验：报送后这些行将被退回，其余行入库",
    "blocking": "报表存在整表问题：报送后将被拒收，请修改后再报送",
}


@dataclass
class CheckReport:
    """The verdict on one file and every problem found, as the department will read them."""

    dataset: str
    report_month: date
    file_name: str
    verdict: str  # ok | row | blocking
    rows_received: int = 0
    blocking: list[Problem] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]

    @property
    def verdict_text(self) -> str:
        return VERDICT_TEXT[self.verdict]

    @property
    def rows_with_problems(self) -> int:
        return len({p.source_row for p in self.problems if p.source_row is not None})

    def lines(self) -> list[str]:
        """What ``citydw check`` prints: the verdict, then one line per problem."""
        head = (
            f"{self.dataset} {self.report_month:%Y-%m} {self.file_name}: {self.verdict} — {self.verdict_text}"
            f"（数据 {self.rows_received} 行，问题行 {self.rows_with_problems} 行）"
        )
        body = [f"    [整表] {p.describe()}" for p in self.blocking]
        body += [f"    [数据行] {p.describe()}" for p in self.problems]
        body += [f"    [提示] {p.describe()}" for p in self.warnings]
        return [head, *body]

    def to_dict(self) -> dict:
        return {
            "dataset": self.dataset,
            "report_month": f"{self.report_month:%Y-%m}",
            "file_name": self.file_name,
            "verdict": self.verdict,
            "verdict_text": self.verdict_text,
            "rows_received": self.rows_received,
            "rows_with_problems": self.rows_with_problems,
            "blocking": [_problem_dict(p) for p in self.blocking],
            "problems": [_problem_dict(p) for p in self.problems],
            "warnings": [_problem_dict(p) for p in self.warnings],
        }


def _problem_dict(problem: Problem) -> dict:
    return {**asdict(problem), "message": problem.describe()}


def check_file(
    conn: psycopg.Connection, dataset_id: str, month: str | date, data: bytes, file_name: str, context: Context
) -> CheckReport:
    """Check ``data`` as the delivery of ``dataset_id`` for ``month`` (YYYY-MM); writes nothing."""
    spec = context.registry.dataset(dataset_id)
    report_month = spec.period_for(parse_month(month) if isinstance(month, str) else month)
    found = examine(conn, spec, report_month, data, file_name, context)
    return CheckReport(
        dataset=spec.id,
        report_month=report_month,
        file_name=file_name,
        verdict=found.verdict,
        rows_received=found.rows_received,
        blocking=found.blocking,
        problems=found.problems,
        warnings=found.warnings,
    )
