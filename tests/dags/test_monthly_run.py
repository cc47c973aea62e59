"""One report month end to end through the real DAG: files in the drop → raw → dbt → mart."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from builders import drc_project, drc_workbook

JULY = date(2022, 7, 1)
API_DATASETS = ["civil_affairs.elderly_care", "education.schools", "health.clinics", "transport.transport_projects"]


def citydw(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "citydw.cli", *args],
        env=env or os.environ.copy(), capture_output=True, text=True, timeout=900,
    )  # fmt: skip


@pytest.mark.slow
def test_citydw_run_lands_the_month_in_the_mart(db, citydw_home):
    folder = Path(citydw_home) / "drop" / "drc" / "major_projects" / "2022-07"
    folder.mkdir(parents=True)
    rows = [
        drc_project(1),
        drc_project(2, 项目状态="储备", 实际开工时间=None, 计划开工时间="2022-05-10", 问题类型="征地拆迁"),
        drc_project(3, 项目状态="储备", 实际开工时间=None, 计划开工时间="2022-09-01"),
        drc_project(4, **{"总投资（万元）": -1}),  # quarantined
    ]
    delivered = folder / "扬州市2022年1-7月重大项目推进情况调度表.xlsx"
    delivered.write_bytes(drc_workbook(rows, JULY))
    # Dropped on 3 August 2022 (the drop's mtime is its arrival), before the 5th working day.
    arrived = datetime(2022, 8, 3, 9, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()
    os.utime(delivered, (arrived, arrived))

    run = subprocess.run(
        [sys.executable, "-m", "citydw.cli", "run", "--month", "2022-07"],
        env=os.environ.copy(), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    # No department API is configured here: those four ingests fail, the run says so and exits 1,
    # and the marts are still built from what was accepted.
    assert run.returncode == 1, run.stdout[-3000:] + run.stderr[-3000:]
    outcome = re.search(r"citydw_monthly 2022-07: failed \((.*?)\)", run.stdout)
    assert outcome and sorted(outcome.group(1).split(", ")) == API_DATASETS, run.stdout[-3000:]
    for dataset in API_DATASETS:
        assert re.search(rf"FAILED\s+{re.escape(dataset)}\s.*no API base URL", run.stdout), dataset
    assert re.search(r"drc\.major_projects\s+2022-07\s+accepted\s+v1", run.stdout)
    assert "runs that did not succeed: 2022-07" in run.stderr
    # A person reads progress and verdicts; Airflow's, dbt's and GX's hundreds of lines go to the log it names.
    shown = (run.stdout + run.stderr).splitlines()
    assert len(shown) <= 30, "\n".join(shown)
    log = Path(citydw_home) / "logs" / "run-2022-07.log"
    assert f"(log: {log})" in run.stdout
    assert "Running with dbt" in log.read_text(encoding="utf-8")

    mart = db.execute(
        """
        select project_code, district_code, status, is_started, is_start_overdue, blocker_type,
               annual_completion_rate, source_department
        from marts.fct_project_progress_monthly where report_month = '2022-07-01' order by project_code
        """
    ).fetchall()
    assert [row[0][-1] for row in mart] == ["1", "2", "3"]
    assert mart[0][1:6] == ("321002", "在建", True, False, None)
    assert mart[1][2:6] == ("储备", False, True, "征地拆迁")  # planned May, not started by July
    assert mart[2][4] is False  # planned for September: not overdue yet
    assert float(mart[0][6]) == pytest.approx(1400 / 2400, abs=0.00005)  # numeric(12,4)
    assert {row[7] for row in mart} == {"drc"}

    # The month lives in its own time (17.4): counted to the run's logical date, 12 August 2022, not today.
    ledger = {
        dataset: rest
        for dataset, *rest in db.execute(
            """
            select dataset, as_of_date, due_date, is_missing, working_days_late
            from marts.fct_department_delivery_monthly where report_month = '2022-07-01'
            """
        ).fetchall()
    }
    # Due on the 5th working day of August 2022 (Fri 5 Aug); still missing on Fri 12 Aug: 5 working days late.
    assert ledger["drc.major_projects"] == [date(2022, 8, 12), date(2022, 8, 5), False, 0]
    assert ledger["housing.renovation_projects"] == [date(2022, 8, 12), date(2022, 8, 5), True, 5]
    deadlines = db.execute("select distinct deadline from meta.correction_cases where report_month = %s", (JULY,))
    assert [d for (d,) in deadlines] == [date(2022, 8, 10)]  # 3 working days after the 5 August due date
    report = (Path(citydw_home) / "reports" / "2022-07" / "index.html").read_text(encoding="utf-8")
    assert "统计截至：2022-08-12" in report


@pytest.mark.slow
def test_a_run_with_one_department_api_unreachable_exits_non_zero_and_names_it(db, citydw_home, monkeypatch):
    """The summary shows this run's outcome: education's earlier accepted version is no success of this run."""
    from citydw.demo.run import demo_apis
    from citydw.settings import get_settings

    generated = citydw(
        "demo", "generate", "--from", "2022-07", "--to", "2022-07", "--out", str(Path(citydw_home) / "drop")
    )
    assert generated.returncode == 0, generated.stderr
    monkeypatch.setenv("CITYDW_TASK_RETRY_DELAY_SECONDS", "0")
    monkeypatch.setenv("CITYDW_API_RETRIES", "0")
    with demo_apis(get_settings()):
        earlier = citydw("ingest", "--month", "2022-07", "--dataset", "education.schools")
        assert re.search(r"education\.schools\s+2022-07\s+accepted", earlier.stdout), earlier.stdout
        # Education's server is gone: nothing listens on a port just found free.
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            closed = probe.getsockname()[1]
        env = os.environ | {"CITYDW_API_EDUCATION_URL": f"http://127.0.0.1:{closed}/education"}
        run = citydw("run", "--month", "2022-07", env=env)

    assert run.returncode == 1, run.stdout[-3000:] + run.stderr[-3000:]
    assert "citydw_monthly 2022-07: failed (education.schools)" in run.stdout
    summary = run.stdout.split("citydw_monthly 2022-07: ")[-1]  # the tasks' own log lines come before it
    failed = [line for line in summary.splitlines()[1:] if "education.schools" in line]
    assert len(failed) == 1 and failed[0].split()[:2] == ["FAILED", "education.schools"], run.stdout
    assert "earlier run stays" in failed[0] and f"127.0.0.1:{closed}" in failed[0]
    assert re.search(r"accepted\s+health\.clinics\s+2022-07\s+accepted", summary), summary
    assert "runs that did not succeed: 2022-07 (education.schools)" in run.stderr
