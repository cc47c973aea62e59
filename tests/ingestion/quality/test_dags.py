"""The report and watch DAGs: they import cheaply, and are wired to the marts asset and the delivery window."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parents[3] / "dags"
FILES = ["citydw_report.py", "citydw_delivery_watch.py"]


@pytest.fixture(scope="module")
def dags(tmp_path_factory):
    import os

    os.environ.setdefault("AIRFLOW_HOME", str(tmp_path_factory.mktemp("airflow")))
    from airflow.dag_processing.dagbag import DagBag

    found = {}
    for name in FILES:
        bag = DagBag(dag_folder=str(DAGS / name))
        assert bag.import_errors == {}, bag.import_errors
        found.update(bag.dags)
    return found


def test_the_report_dag_runs_after_every_build_of_the_marts(dags):
    dag = dags["citydw_report"]
    assert [asset.uri for asset in dag.timetable.asset_condition.objects] == ["citydw://warehouse/marts"]
    tasks = {task.task_id: task for task in dag.tasks}
    assert set(tasks) == {"report_month", "report", "brief"}
    assert tasks["report"].upstream_task_ids == {"report_month"}
    # The leaders' brief is made (and sent) after the data-quality report.
    assert tasks["brief"].upstream_task_ids == {"report_month", "report"}
    assert "month" in dag.params


def test_the_watch_dag_runs_every_morning_of_the_delivery_window(dags):
    dag = dags["citydw_delivery_watch"]
    assert dag.timetable.expression == "0 9 1-20 * *"
    assert str(dag.timetable.timezone) in ("Asia/Shanghai", "Timezone('Asia/Shanghai')")
    assert {task.task_id for task in dag.tasks} == {"watch"}
    assert set(dag.params) == {"month", "as_of"}


@pytest.mark.parametrize("name", FILES)
def test_dag_files_import_nothing_heavy(name):
    probe = (
        "import sys, runpy; runpy.run_path(sys.argv[1]);"
        "print(','.join(m for m in ('pandas', 'great_expectations', 'dbt', 'citydw', 'psycopg') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe, str(DAGS / name)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
