"""One report month end to end through the real DAG: files in the drop → raw → dbt → mart."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from builders import drc_project, drc_workbook

JULY = date(2022, 7, 1)


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
    (folder / "扬州市2022年1-7月重大项目推进情况调度表.xlsx").write_bytes(drc_workbook(rows, JULY))

    run = subprocess.run(
        [sys.executable, "-m", "citydw.cli", "run", "--month", "2022-07"],
        env=os.environ.copy(), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "citydw_monthly 2022-07: success" in run.stdout

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
