"""Running citydw's Airflow DAGs in this process, the way ``airflow dags test`` does.

``citydw run`` and ``make demo`` use this: the real DAG files, the real
task code, Airflow's own in-process executor, and a SQLite metadata
database under ``.citydw/airflow``. A deployment runs the same DAGs on a
scheduler with Celery workers instead.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from citydw.months import next_month
from citydw.settings import Settings, get_settings

MONTHLY_DAG = "citydw_monthly"
REPORT_DAG = "citydw_report"


def airflow_environment(settings: Settings) -> dict[str, str]:
    """Airflow settings for a local run; variables already set by the operator win."""
    home = settings.home_dir / "airflow"
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(settings.project_dir / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__DEFAULT_TIMEZONE": settings.timezone,
        # Task logs go to files under AIRFLOW_HOME; the terminal shows warnings and the month's outcome.
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        # Government networks: nothing leaves the machine.
        "AIRFLOW__USAGE_DATA_COLLECTION__ENABLED": "False",
        "SCARF_ANALYTICS": "false",
        "GX_ANALYTICS_ENABLED": "false",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
    }


def configure(settings: Settings | None = None) -> None:
    """Point Airflow at the local home; must run before ``airflow`` is imported."""
    settings = settings or get_settings()
    (settings.home_dir / "airflow").mkdir(parents=True, exist_ok=True)
    for key, value in airflow_environment(settings).items():
        os.environ.setdefault(key, value)


def _migrate_metadata_db() -> None:
    from airflow.utils.db import initdb

    initdb()


def run_month(month: date, settings: Settings | None = None, on_stage: Callable[[str], None] | None = None) -> str:
    """Run the monthly DAG for ``month`` in-process; returns the run's final state.

    ``on_stage`` hears "ingest" as the monthly DAG starts and "report" as the report DAG does.
    """
    settings = settings or get_settings()
    configure(settings)
    _migrate_metadata_db()
    from airflow.dag_processing.dagbag import DagBag

    dagbag = DagBag(dag_folder=str(settings.project_dir / "dags"))
    if dagbag.import_errors:
        raise RuntimeError(f"DAG files failed to import: {dagbag.import_errors}")
    dag = dagbag.dags[MONTHLY_DAG]
    # The logical date is when a scheduled run for this month would happen;
    # the month itself travels as the run's ``month`` param.
    logical_date = datetime.combine(next_month(month).replace(day=12), time(6), tzinfo=ZoneInfo(settings.timezone))
    conf = {"month": f"{month:%Y-%m}"}
    if on_stage:
        on_stage("ingest")
    state = _state(dag.test(logical_date=logical_date, run_conf=conf))
    if state == "success":
        if on_stage:
            on_stage("report")
        # A scheduler starts the report DAG from the marts asset; an in-process run does it here.
        state = _state(dagbag.dags[REPORT_DAG].test(logical_date=logical_date, run_conf=conf))
    return state


def _state(dag_run) -> str:
    return str(getattr(dag_run.state, "value", dag_run.state))
