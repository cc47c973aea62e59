"""Running citydw's Airflow DAGs in this process, the way ``airflow dags test`` does.

``citydw run`` and ``make demo`` use this: the real DAG files, the real
task code, Airflow's own in-process executor, and a SQLite metadata
database under ``.citydw/airflow``. A deployment runs the same DAGs on a
scheduler with Celery workers instead.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
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


@dataclass
class MonthRun:
    """What one month's in-process run did: the DAG runs' state and each dataset's outcome in *this* run.

    The monthly DAG's run succeeds when its last task (the dbt build, which
    runs whatever the ingests did) succeeds, so its state alone would call a
    run with a failed ingest a success; ``failed`` names every task that failed.
    """

    month: date
    state: str
    datasets: dict[str, str] = field(default_factory=dict)  # dataset -> accepted | rejected | … | failed
    reasons: dict[str, str] = field(default_factory=dict)  # dataset -> why, for those not accepted
    failed: list[str] = field(default_factory=list)  # tasks, an ingest as its dataset id

    @property
    def succeeded(self) -> bool:
        return self.state == "success" and not self.failed

    @property
    def outcome(self) -> str:
        """``success``, or ``failed`` naming what failed: the line ``citydw run`` prints."""
        if self.succeeded:
            return "success"
        return f"failed ({', '.join(self.failed) or self.state})"


def run_month(month: date, settings: Settings | None = None, on_stage: Callable[[str], None] | None = None) -> str:
    """Run the monthly DAG (and then the report DAG) for ``month`` in-process; returns the outcome line."""
    return run_month_outcome(month, settings, on_stage).outcome


def run_month_outcome(
    month: date, settings: Settings | None = None, on_stage: Callable[[str], None] | None = None
) -> MonthRun:
    """Run the monthly DAG for ``month`` in-process, then the report DAG; what each dataset did.

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
    monthly = dag.test(logical_date=logical_date, run_conf=conf)
    outcome = _outcome(month, monthly)
    if outcome.state == "success":
        if on_stage:
            on_stage("report")
        # A scheduler starts the report DAG from the marts asset; an in-process run does it here, also
        # after a failed ingest: the report says what is missing.
        report = dagbag.dags[REPORT_DAG].test(logical_date=logical_date, run_conf=conf)
        outcome.state = _state(report)
        outcome.failed += [f"{REPORT_DAG}.{task}" for task, _ in _failed_tasks(report)]
    return outcome


def _state(dag_run) -> str:
    return str(getattr(dag_run.state, "value", dag_run.state))


def _outcome(month: date, dag_run) -> MonthRun:
    """The monthly run's state, its failed tasks, and per dataset what its ingest task returned."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    run = MonthRun(month=month, state=_state(dag_run))
    failed = _failed_tasks(dag_run)
    with create_session() as session:
        returned = session.scalars(
            XComModel.get_many(run_id=dag_run.run_id, dag_ids=dag_run.dag_id, task_ids="ingest", key="return_value")
        ).all()
        for xcom in returned:
            value = XComModel.deserialize_value(xcom)
            if isinstance(value, dict) and value.get("dataset"):
                run.datasets[value["dataset"]] = value.get("status", "")
                if value.get("reason"):
                    run.reasons[value["dataset"]] = value["reason"]
    for task, label in failed:
        run.failed.append(label)
        if task == "ingest":
            run.datasets[label] = "failed"
    return run


def _failed_tasks(dag_run) -> list[tuple[str, str]]:
    """(task id, label) of each failed task instance; a mapped ingest is labelled with its dataset."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState
    from sqlalchemy import select

    with create_session() as session:
        instances = session.scalars(
            select(TaskInstance).where(
                TaskInstance.dag_id == dag_run.dag_id,
                TaskInstance.run_id == dag_run.run_id,
                TaskInstance.state.in_([TaskInstanceState.FAILED, TaskInstanceState.UPSTREAM_FAILED]),
            )
        ).all()
        return sorted(
            (ti.task_id, ti.rendered_map_index or ti.task_id if ti.map_index >= 0 else ti.task_id) for ti in instances
        )
