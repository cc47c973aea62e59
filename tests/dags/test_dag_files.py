"""Every DAG file imports cleanly and cheaply, and the monthly DAG has the promised shape."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parents[2] / "dags"


@pytest.fixture(scope="module")
def dagbag(tmp_path_factory):
    import os

    home = tmp_path_factory.mktemp("airflow")
    os.environ.setdefault("AIRFLOW_HOME", str(home))
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def test_every_dag_file_imports(dagbag):
    assert dagbag.import_errors == {}
    assert "citydw_monthly" in dagbag.dag_ids


def test_monthly_dag_ingests_each_dataset_then_builds(dagbag):
    dag = dagbag.dags["citydw_monthly"]
    tasks = {task.task_id: task for task in dag.tasks}
    assert set(tasks) == {"report_month", "datasets", "ingest", "build"}
    assert tasks["build"].upstream_task_ids >= {"ingest"}
    assert str(dag.timetable.timezone) in ("Asia/Shanghai", "Timezone('Asia/Shanghai')")
    assert [outlet.uri for outlet in tasks["build"].outlets] == ["citydw://warehouse/marts"]


@pytest.mark.parametrize("dag_file", sorted(DAGS.glob("*.py")), ids=lambda p: p.name)
def test_dag_file_imports_nothing_heavy(dag_file):
    """Parsing a DAG file must not import pandas, GX, dbt or the package (nor touch a database)."""
    probe = (
        "import sys, runpy; runpy.run_path(sys.argv[1]);"
        "heavy = [m for m in ('pandas', 'great_expectations', 'dbt', 'citydw', 'psycopg') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", probe, str(dag_file)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
