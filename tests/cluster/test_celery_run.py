"""citydw on a real distributed Airflow: Redis, PostgreSQL metadata, scheduler, two Celery workers.

One scenario on one local cluster, to keep the suite short (a cluster takes
about a minute to start, a month's run about one and a half):

1. report month 2022-01 is triggered through the REST API, and while a
   worker executes one of its tasks that worker is SIGKILLed, with the task;
   the scheduler notices the task's lost heartbeat, the other worker retries
   it, and the run succeeds;
2. ``citydw backfill`` of 2022-02..2022-03 goes through Airflow's
   scheduler-managed backfill: both months run, in order, one at a time;
3. the mart of the three months is, row for row, the mart of an in-process
   run (``citydw run``) of the same deliveries on another fresh database,
   run meanwhile.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from datetime import date, datetime
from pathlib import Path

import psycopg
import pytest
from builders import drc_project, drc_workbook
from psycopg import sql

from citydw.backfill import backfill, plan_backfill
from citydw.cluster import MONTHLY_DAG, ClusterConfig, LocalCluster
from citydw.demo.run import API_FOLDER, demo_apis
from citydw.registry import load_registry
from citydw.settings import get_settings
from citydw.warehouse import url_with_database

JAN, FEB, MAR = date(2022, 1, 1), date(2022, 2, 1), date(2022, 3, 1)

# The marts carry no run-specific lineage (serial ids, load times): the
# incremental marts' bookkeeping is in intermediate.<mart>__built_months.


def month_rows(month: date) -> list[dict[str, object]]:
    """A DRC report for ``month``: investment grows each month, project 3 starts in February."""
    n = month.month
    started = n >= 2
    return [
        drc_project(1, **{"本月完成投资（万元）": 100 * n, "累计完成投资（万元）": 150 * n}),
        drc_project(2, 项目状态="储备", 实际开工时间=None, 计划开工时间="2021-12-10", 问题类型="征地拆迁"),
        drc_project(
            3,
            项目状态="在建" if started else "储备",
            实际开工时间="2022-02-08" if started else None,
            计划开工时间="2022-02-01",
            **{"累计完成投资（万元）": 300 if started else 0, "本月完成投资（万元）": 300 if n == 2 else 0},
        ),
        drc_project(4, 所在地区="邗江区", **{"年度计划投资（万元）": 5000, "累计完成投资（万元）": 900 * n}),
        drc_project(5, **{"总投资（万元）": -1}),  # quarantined every month
    ]


def drop_deliveries(*homes: Path) -> None:
    """The same DRC workbooks for the three months in each home's drop, and empty API feeds."""
    workbooks = {month: drc_workbook(month_rows(month), month) for month in (JAN, FEB, MAR)}
    registry = load_registry(get_settings().registry_path)
    for home in homes:
        for month, workbook in workbooks.items():
            folder = home / "drop" / "drc" / "major_projects" / f"{month:%Y-%m}"
            folder.mkdir(parents=True)
            (folder / f"扬州市2022年1-{month.month}月重大项目推进情况调度表.xlsx").write_bytes(workbook)
        for spec in registry.datasets.values():
            if spec.channel.kind == "api":
                (home / "drop" / API_FOLDER / spec.department / spec.name).mkdir(parents=True, exist_ok=True)


def mart_rows(url: str) -> list[tuple]:
    """Every row of the project mart, every column."""
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select mart::text from marts.fct_project_progress_monthly as mart order by report_month, project_code"
        ).fetchall()


def kill_a_worker_mid_task(cluster: LocalCluster, run_id: str, timeout: float = 300) -> tuple[str, set[tuple]]:
    """Wait until a worker executes ``ingest`` tasks in all its slots, SIGKILL it; returns it and its tasks.

    All slots busy: then the worker holds no message it has not started (Celery
    prefetches one per slot), which would sit "queued" until the scheduler's
    task_queued_timeout instead of being failed by the heartbeat check.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        running: dict[str, set[tuple]] = {}
        for ti in cluster.api.task_instances(MONTHLY_DAG, run_id):
            worker = cluster.worker_of(ti["pid"]) if ti["state"] == "running" and ti["task_id"] == "ingest" else None
            if worker:
                running.setdefault(worker, set()).add((ti["task_id"], ti["map_index"]))
        busy = [w for w, tasks in running.items() if len(tasks) >= cluster.config.worker_concurrency]
        if busy:
            cluster.kill_worker(busy[0])
            return busy[0], running[busy[0]]
        time.sleep(0.3)
    pytest.fail(f"no worker ran ingest tasks of {run_id} in all its slots within {timeout} s")


@pytest.fixture
def metadata_url(warehouse_server_url):
    """A database for Airflow's metadata on the test server, dropped afterwards."""
    name = f"airflow_test_{uuid.uuid4().hex[:8]}"
    yield url_with_database(warehouse_server_url, name)
    with psycopg.connect(warehouse_server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


@pytest.fixture
def reference_url(warehouse_server_url, warehouse_template):
    """A second fresh warehouse database, for the in-process run."""
    name = f"citydw_test_ref_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(warehouse_server_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("create database {} template {}").format(sql.Identifier(name), sql.Identifier(warehouse_template))
        )
    yield url_with_database(warehouse_server_url, name)
    with psycopg.connect(warehouse_server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


@pytest.mark.slow
def test_months_on_celery_survive_a_killed_worker_and_backfill_in_order(
    warehouse_url, reference_url, metadata_url, citydw_home, tmp_path
):
    started = time.monotonic()
    home = Path(citydw_home)
    reference_home = tmp_path / "reference"
    drop_deliveries(home, reference_home)
    settings = get_settings()

    with demo_apis(settings):  # the API departments answer: nothing delivered
        reference_log = tmp_path / "reference.log"
        with open(reference_log, "wb") as output:
            reference = subprocess.Popen(
                [sys.executable, "-m", "citydw.cli", "run", "--month", "2022-01", "--to", "2022-03"],
                env={**os.environ, "CITYDW_WAREHOUSE_URL": reference_url, "CITYDW_HOME": str(reference_home)},
                stdout=output, stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            config = ClusterConfig(
                home=tmp_path / "cluster",
                warehouse_url=warehouse_url,
                metadata_url=metadata_url,
                project_dir=settings.project_dir,
                citydw_home=home,
                triggerer=False,
                api_port=0,
                # Fail a task whose worker died after 20 s without a heartbeat (default 300 s);
                # retry it after 3 s (default 30 s) where the DAG reads this variable.
                heartbeat_timeout=20,
                queued_timeout=90,
                env={"CITYDW_TASK_RETRY_DELAY_SECONDS": "3"},
            )
            with LocalCluster(config) as cluster:
                cluster.wait_for_dag()
                print(f"cluster healthy after {time.monotonic() - started:.0f} s")

                # 1. A worker dies in the middle of January's run.
                run_id = cluster.trigger_month(JAN)
                victim, killed = kill_a_worker_mid_task(cluster, run_id)
                assert cluster.wait_for_run(run_id, timeout=900) == "success"
                final = {(ti["task_id"], ti["map_index"]): ti for ti in cluster.api.task_instances(MONTHLY_DAG, run_id)}
                for key in killed:
                    assert final[key]["state"] == "success", (key, final[key])
                    assert final[key]["try_number"] >= 2, f"{key} was not retried after {victim} died"
                assert victim not in cluster.workers()
                print(f"January done after {time.monotonic() - started:.0f} s; killed {victim} running {killed}")

                # 2. A backfill of February and March: the scheduler runs them in order, one at a time.
                assert plan_backfill(cluster.api, JAN, MAR) == [JAN, FEB, MAR]  # January would be re-run too
                outcome = backfill(cluster.api, FEB, MAR, timeout=900)
                assert outcome.succeeded, outcome.runs
                assert [run.month for run in outcome.runs] == [FEB, MAR]
                feb, mar = outcome.runs
                assert feb.end_date and mar.start_date
                assert datetime.fromisoformat(feb.end_date) <= datetime.fromisoformat(mar.start_date)
                print(f"backfill done after {time.monotonic() - started:.0f} s")
        except BaseException:
            reference.kill()
            reference.wait()
            raise
        reference.wait(timeout=900)
    assert reference.returncode == 0, reference_log.read_text(errors="replace")[-3000:]

    # 3. The marts are those of the in-process run, row for row.
    on_celery, in_process = mart_rows(warehouse_url), mart_rows(reference_url)
    assert {row[0] for row in on_celery} == {JAN, FEB, MAR}
    assert on_celery == in_process
    print(f"test took {time.monotonic() - started:.0f} s")
