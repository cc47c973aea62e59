"""citydw_monthly — one report month, every department: ingest, then build the marts.

Runs on the 12th of each month (Asia/Shanghai) for the month before, after
the 5th-working-day due date with a margin for late files. Trigger it with
``{"month": "YYYY-MM"}`` to (re)process any month, or run
``citydw run --month YYYY-MM``, which runs this same DAG in-process.

Shape: one mapped ``ingest`` task per dataset (a department's problem never
blocks another's), then a single ``dbt build`` task that runs whatever the
ingest tasks' outcome: the marts are built from what was accepted. dbt runs as one task,
not one task per model (Cosmos): every dbt start costs seconds of fixed
overhead, and the warehouse's models build in well under a minute together,
so per-model tasks would multiply the cost without buying parallelism that
dbt's own threads do not already give. The build publishes the ``marts``
asset that the report DAG is scheduled on.
"""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import Asset, CronTriggerTimetable, Param, dag, task

MARTS = Asset("citydw://warehouse/marts")


def _alert_data_team(context):
    """A failed task alerts the data team (imported at failure time, not when the file is parsed)."""
    from citydw.alerts.airflow_callbacks import alert_data_team_on_failure

    alert_data_team_on_failure(context)


@dag(
    dag_id="citydw_monthly",
    schedule=CronTriggerTimetable("0 6 12 * *", timezone="Asia/Shanghai"),
    start_date=pendulum.datetime(2022, 2, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    params={
        "month": Param(
            None,
            type=["null", "string"],
            pattern=r"^\d{4}-\d{2}$",
            description="Report month YYYY-MM; empty means the month before the run's date.",
        )
    },
    default_args={
        "retries": 2,
        # Shortened by tests that kill a worker on purpose; 30 s otherwise.
        "retry_delay": pendulum.duration(seconds=int(os.environ.get("CITYDW_TASK_RETRY_DELAY_SECONDS", "30"))),
        "on_failure_callback": _alert_data_team,
    },
    tags=["citydw", "monthly"],
    doc_md=__doc__,
)
def citydw_monthly() -> None:
    @task
    def report_month(params: dict | None = None, logical_date: pendulum.DateTime | None = None) -> str:
        from citydw.orchestration import report_month_for_run

        return report_month_for_run((params or {}).get("month"), logical_date)

    @task
    def datasets(month: str) -> list[str]:
        from citydw.orchestration import datasets_for_month

        return datasets_for_month(month)

    @task(map_index_template="{{ task.op_kwargs['dataset_id'] }}")
    def ingest(dataset_id: str, month: str) -> dict:
        from citydw.orchestration import ingest_dataset

        result = ingest_dataset(dataset_id, month)
        print(result.summary())
        for problem in result.problems[:20]:
            print("   ", problem.describe())
        if result.status == "error":
            if not result.retryable:
                from airflow.sdk.exceptions import AirflowFailException

                raise AirflowFailException(result.reason)
            raise RuntimeError(result.reason)
        return result.to_dict()

    # The marts are built from whatever was accepted, even when a department's
    # ingest failed: its failure is on its own task (and alerted), not on everyone's.
    @task(outlets=[MARTS], trigger_rule="all_done")
    def build(month: str, results: list[dict], outlet_events=None, logical_date=None) -> dict:
        from datetime import date

        from citydw.city import load_city
        from citydw.quality.runs import as_of_for_run
        from citydw.transform import build as dbt_build

        # Lateness is counted to the run's own day, not the wall clock's (a replayed month reads as it did).
        as_of = as_of_for_run(None, logical_date, load_city().timezone)
        outcome = dbt_build(as_of=date.fromisoformat(as_of) if as_of else None)
        print(outcome.summary())
        if not outcome.success:
            raise RuntimeError("dbt build failed:\n" + "\n".join(outcome.failures))
        # The report DAG, scheduled on this asset, reads which month was built.
        outlet_events[MARTS].extra = {"month": month, "as_of": as_of}
        return {"month": month, "counts": outcome.counts}

    month = report_month()
    results = ingest.partial(month=month).expand(dataset_id=datasets(month))
    build(month, results)


citydw_monthly()
