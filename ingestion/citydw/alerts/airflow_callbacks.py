"""Airflow callbacks that alert the data team.

Attach :func:`alert_data_team_on_failure` as ``on_failure_callback`` (in a
DAG's ``default_args``). This module imports only the standard library at
its top, so importing it costs nothing; psycopg, Apprise and the rest load
when a task has actually failed.

A DAG file must not import ``citydw`` at parse time (see
``tests/dags/test_dag_files.py``), so wire it through a two-line wrapper::

    def _alert_data_team(context):
        from citydw.alerts.airflow_callbacks import alert_data_team_on_failure

        alert_data_team_on_failure(context)

    @dag(..., default_args={..., "on_failure_callback": _alert_data_team})
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date
from typing import Any

log = logging.getLogger(__name__)


def alert_data_team_on_failure(context: Mapping[str, Any]) -> None:
    """Tell the data team that a task failed: DAG, task, run, month, exception and log URL.

    Never raises: a failing callback would only bury the task's own error.
    Each failed try is alerted once (its try number is part of the problem
    key), so clearing a task that fails again alerts again. If the warehouse
    itself is unreachable — perhaps the very reason the task failed — the
    alert is still sent, just not recorded in ``meta.alerts``.
    """
    try:
        _alert(context)
    except Exception:
        log.exception("could not alert the data team of a task failure")


def _alert(context: Mapping[str, Any]) -> None:
    from citydw.alerts.routes import data_team_routes
    from citydw.alerts.send import alert_data_team, deliver
    from citydw.settings import get_settings
    from citydw.warehouse.connect import connect

    ti = context.get("ti") or context.get("task_instance")
    dag_id = getattr(ti, "dag_id", None) or _dag_id(context)
    task_id = getattr(ti, "task_id", "?")
    run_id = getattr(ti, "run_id", None) or context.get("run_id", "?")
    map_index = getattr(ti, "map_index", -1)
    try_number = getattr(ti, "try_number", None)
    mapped_as = getattr(ti, "rendered_map_index", None) or (str(map_index) if map_index not in (None, -1) else None)
    month = _report_month(context)
    task = f"{dag_id}.{task_id}" + (f"[{mapped_as}]" if mapped_as else "")

    subject = f"【citydw】任务失败 {task}" + (f" {month:%Y-%m}" if month else "")
    lines = [
        f"DAG：{dag_id}",
        f"任务：{task_id}" + (f"（{mapped_as}）" if mapped_as else ""),
        f"运行：{run_id}",
        f"报送月份：{month:%Y-%m}" if month else "报送月份：未知",
        f"第 {try_number} 次尝试" if try_number else None,
        f"异常：{_describe(context.get('exception'))}",
        f"日志：{_log_url(ti)}",
    ]
    body = "\n".join(line for line in lines if line)
    problem_key = f"airflow-task-failed:{dag_id}.{task_id}:{map_index}:{run_id}:try{try_number}"

    settings = get_settings()
    try:
        conn = connect(autocommit=True)
    except Exception as error:
        log.warning("warehouse unreachable (%s); alerting the data team without recording it in meta.alerts", error)
        body += f"\n（未记入 meta.alerts：仓库无法连接：{type(error).__name__}）"
        for route in data_team_routes(settings):
            if problem := deliver(route, subject, body, settings):
                log.warning("alert to %s %s failed: %s", route.channel, route.recipient, problem)
        return
    with conn:
        alert_data_team(
            conn, problem_key=problem_key, report_month=month, subject=subject, body=body, settings=settings
        )


def _report_month(context: Mapping[str, Any]) -> date | None:
    """The run's report month, as citydw.orchestration.report_month_for_run gives it:
    the ``month`` param, else the month before the logical date."""
    from citydw.months import parse_month, previous_month

    params = context.get("params") or {}
    try:
        if params.get("month"):
            return parse_month(str(params["month"]))
    except ValueError:
        return None
    logical_date = context.get("logical_date")
    return previous_month(logical_date) if logical_date else None


def _dag_id(context: Mapping[str, Any]) -> str:
    dag = context.get("dag")
    return str(getattr(dag, "dag_id", "?"))


def _describe(exception: object) -> str:
    if exception is None:
        return "（无）"
    text = f"{type(exception).__name__}: {exception}" if isinstance(exception, BaseException) else str(exception)
    return text if len(text) <= 1500 else text[:1500] + "…"


def _log_url(ti: object) -> str:
    try:
        return str(ti.log_url)  # type: ignore[attr-defined]
    except Exception:  # no Airflow config, or not a real task instance
        return "（不可用）"
