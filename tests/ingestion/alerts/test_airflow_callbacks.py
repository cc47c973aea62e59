"""The Airflow failure callback: cheap to import, and it reaches the data team's route."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime
from types import SimpleNamespace

import psycopg
import pytest
from pytest_httpserver import HTTPServer

from citydw.alerts.airflow_callbacks import alert_data_team_on_failure
from citydw.settings import get_settings


def test_importing_the_callback_module_imports_nothing_heavy():
    probe = (
        "import sys, citydw.alerts.airflow_callbacks;"
        "heavy = ('apprise', 'psycopg', 'airflow', 'pandas', 'requests', 'great_expectations', 'pydantic');"
        "print(','.join(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def failed_task_context(log_url: str = "http://airflow.city.example.org/dags/citydw_monthly/runs/r/tasks/ingest"):
    ti = SimpleNamespace(
        dag_id="citydw_monthly",
        task_id="ingest",
        run_id="scheduled__2022-02-12T06:00:00+08:00",
        map_index=0,
        rendered_map_index="drc.major_projects",
        try_number=3,
        log_url=log_url,
    )
    return {
        "ti": ti,
        "params": {"month": None},
        "logical_date": datetime(2022, 2, 11, 22, 0, tzinfo=UTC),
        "exception": RuntimeError("数据库连接中断 while loading raw.drc__major_projects"),
    }


@pytest.fixture
def data_team_hook(httpserver: HTTPServer, monkeypatch, fake_key) -> str:
    """The data team's route, a JSON webhook on a local receiver, configured through the environment."""
    token = fake_key()
    url = httpserver.url_for("/hooks/data-team").replace("http://", "json://") + f"?-token={token}"
    monkeypatch.setenv("CITYDW_ALERT_DATA_TEAM_URLS", url)
    get_settings.cache_clear()
    yield token
    get_settings.cache_clear()


def test_a_failed_task_alerts_the_data_team_once(warehouse_url, db, httpserver: HTTPServer, data_team_hook):
    httpserver.expect_request("/hooks/data-team", query_string={"token": data_team_hook}).respond_with_data("ok")
    context = failed_task_context()

    alert_data_team_on_failure(context)
    alert_data_team_on_failure(context)  # the same failed try again: already told

    assert len(httpserver.log) == 1
    payload = httpserver.log[0][0].get_json()
    assert payload["title"] == "【citydw】任务失败 citydw_monthly.ingest[drc.major_projects] 2022-01"
    for expected in (
        "DAG：citydw_monthly",
        "任务：ingest（drc.major_projects）",
        "运行：scheduled__2022-02-12T06:00:00+08:00",
        "报送月份：2022-01",
        "第 3 次尝试",
        "异常：RuntimeError: 数据库连接中断 while loading raw.drc__major_projects",
        "日志：http://airflow.city.example.org/dags/citydw_monthly/runs/r/tasks/ingest",
    ):
        assert expected in payload["message"]
    rows = db.execute(
        "select problem_key, department, report_month, channel, recipient, status from meta.alerts"
    ).fetchall()
    assert len(rows) == 1
    problem_key, department, month, channel, recipient, status = rows[0]
    assert problem_key == "airflow-task-failed:citydw_monthly.ingest:0:scheduled__2022-02-12T06:00:00+08:00:try3"
    assert (department, month, channel, status) == (None, date(2022, 1, 1), "webhook", "sent")
    assert recipient.startswith("data-team:json:") and data_team_hook not in recipient


def test_the_month_param_wins_over_the_logical_date(warehouse_url, db, httpserver: HTTPServer, data_team_hook):
    httpserver.expect_request("/hooks/data-team").respond_with_data("ok")
    context = failed_task_context()
    context["params"] = {"month": "2021-12"}

    alert_data_team_on_failure(context)

    assert db.execute("select report_month from meta.alerts").fetchone() == (date(2021, 12, 1),)


def test_the_data_team_is_told_even_when_the_warehouse_is_down(
    httpserver: HTTPServer, data_team_hook, monkeypatch, free_port
):
    monkeypatch.setenv("CITYDW_WAREHOUSE_URL", f"postgresql://citydw@127.0.0.1:{free_port()}/citydw?connect_timeout=2")
    get_settings.cache_clear()
    httpserver.expect_request("/hooks/data-team").respond_with_data("ok")

    alert_data_team_on_failure(failed_task_context())

    assert len(httpserver.log) == 1
    assert "未记入 meta.alerts" in httpserver.log[0][0].get_json()["message"]


def test_the_callback_never_raises(monkeypatch):
    monkeypatch.setenv("CITYDW_SMTP_PORT", "not a port")  # settings cannot even load
    get_settings.cache_clear()
    try:
        alert_data_team_on_failure({"ti": None})
    finally:
        get_settings.cache_clear()


PROBE_DAG = """
import pendulum
from airflow.sdk import dag, task


def _alert_data_team(context):
    from citydw.alerts.airflow_callbacks import alert_data_team_on_failure

    alert_data_team_on_failure(context)


@dag(
    schedule=None,
    start_date=pendulum.datetime(2022, 1, 1),
    params={"month": "2022-03"},
    default_args={"retries": 0, "on_failure_callback": _alert_data_team},
)
def citydw_alert_probe():
    @task
    def fails():
        raise ValueError("探针任务故意失败")

    fails()


citydw_alert_probe()
"""


@pytest.mark.slow
def test_a_real_airflow_task_failure_reaches_the_data_team(
    warehouse_url, httpserver: HTTPServer, data_team_hook, tmp_path, monkeypatch
):
    """A DAG run by Airflow itself (dag.test), its task failing, the callback wired as the lead will wire it."""
    httpserver.expect_request("/hooks/data-team").respond_with_data("ok")
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    monkeypatch.setenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{tmp_path / 'airflow.db'}")
    dags = tmp_path / "dags"
    dags.mkdir()
    # A DAG file: Airflow serialises the DAG, callbacks included, from its source.
    (dags / "citydw_alert_probe.py").write_text(PROBE_DAG, encoding="utf-8")
    monkeypatch.setenv("AIRFLOW__CORE__DAGS_FOLDER", str(dags))
    monkeypatch.setenv("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    run = (
        "from airflow.utils.db import initdb; initdb();"
        "from airflow.dag_processing.dagbag import DagBag;"
        f"bag = DagBag(dag_folder={str(dags)!r}); assert not bag.import_errors, bag.import_errors;"
        "print('state', bag.dags['citydw_alert_probe'].test().state)"
    )
    out = subprocess.run([sys.executable, "-c", run], capture_output=True, text=True, timeout=300)
    assert "state failed" in out.stdout, out.stdout[-2000:] + out.stderr[-3000:]

    assert len(httpserver.log) == 1, out.stderr[-3000:]
    payload = httpserver.log[0][0].get_json()
    assert payload["title"] == "【citydw】任务失败 citydw_alert_probe.fails 2022-03"
    assert "异常：ValueError: 探针任务故意失败" in payload["message"]
    assert "/dags/citydw_alert_probe/runs/" in payload["message"]
    with psycopg.connect(warehouse_url) as conn:
        assert conn.execute("select status, report_month from meta.alerts").fetchall() == [("sent", date(2022, 3, 1))]
