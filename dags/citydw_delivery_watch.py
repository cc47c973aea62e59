"""citydw_delivery_watch — every morning of the delivery window, pick up deliveries and chase the rest.

Runs at 09:00 (Asia/Shanghai) on days 1–20 of each month for the month
before: ingests what has arrived (the same file twice is a no-op), updates
the delivery ledger and correction cases, rewrites the month's correction
workbooks, and sends what the day calls for — a reminder in the two working
days before a due date, escalations after it (to the data team too after 3
working days), rejection and correction notices. Each alert goes to each
recipient once a month (meta.alerts), so a re-run sends nothing twice.

The day is the run's logical date in the city's time zone, never "now";
trigger with ``{"month": "YYYY-MM", "as_of": "YYYY-MM-DD"}`` to replay a day.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import CronTriggerTimetable, Param, dag, task

TIMEZONE = "Asia/Shanghai"


def _alert_data_team(context):
    from citydw.alerts.airflow_callbacks import alert_data_team_on_failure

    alert_data_team_on_failure(context)


@dag(
    dag_id="citydw_delivery_watch",
    schedule=CronTriggerTimetable("0 9 1-20 * *", timezone=TIMEZONE),
    start_date=pendulum.datetime(2022, 2, 1, tz=TIMEZONE),
    catchup=False,
    max_active_runs=1,
    params={
        "month": Param(
            None,
            type=["null", "string"],
            pattern=r"^\d{4}-\d{2}$",
            description="Report month YYYY-MM; empty means the month before the run's date.",
        ),
        "as_of": Param(
            None,
            type=["null", "string"],
            pattern=r"^\d{4}-\d{2}-\d{2}$",
            description="The day to chase as, YYYY-MM-DD; empty means the run's date.",
        ),
    },
    default_args={
        "retries": 2,
        "retry_delay": pendulum.duration(minutes=5),
        "on_failure_callback": _alert_data_team,
    },
    tags=["citydw", "quality"],
    doc_md=__doc__,
)
def citydw_delivery_watch() -> None:
    @task
    def watch(params=None, logical_date=None, dag_run=None) -> dict:
        from citydw.quality.runs import day_for_watch
        from citydw.quality.watch import watch as run_watch

        params = params or {}
        as_of = day_for_watch(params.get("as_of"), logical_date or getattr(dag_run, "run_after", None), TIMEZONE)
        result = run_watch(as_of, params.get("month"))
        print(result.summary())
        return result.to_dict()

    watch()


citydw_delivery_watch()
