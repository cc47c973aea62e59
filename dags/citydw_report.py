"""citydw_report — the month's data-quality report, each time the marts are rebuilt.

Scheduled on the ``citydw://warehouse/marts`` asset that ``citydw_monthly``'s
build task produces, so the report follows every month's build (and every
re-run after a correction). It brings the delivery ledger up to date,
rebuilds the quality marts, writes ``.citydw/reports/YYYY-MM/`` (index.html
with its charts, GX Data Docs, correction workbooks per department) and
sends the correction notices. Then it makes the leaders' monthly brief
(``.citydw/reports/YYYY-MM/brief/``: index.html and brief.pdf) and sends it to
the leaders' list (registry/recipients/leaders.yaml) once per set of figures:
a rebuild that changes no number in the brief sends nothing.
``citydw report --month YYYY-MM`` and ``citydw brief --month YYYY-MM --send``
run the same code by hand; trigger this DAG with ``{"month": "YYYY-MM"}`` for
any month.

The month comes from the ``month`` param, else from the triggering asset
event's ``extra["month"]`` (set by the build task), else it is the month
before the run. Lateness and correction deadlines are counted to the
``as_of`` param, else the build's logical day (``extra["as_of"]``), else this
run's logical date: never the wall clock of a replay.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, Param, dag, task

MARTS = Asset("citydw://warehouse/marts")


def _alert_data_team(context):
    from citydw.alerts.airflow_callbacks import alert_data_team_on_failure

    alert_data_team_on_failure(context)


@dag(
    dag_id="citydw_report",
    schedule=[MARTS],
    start_date=pendulum.datetime(2022, 2, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    params={
        "month": Param(
            None,
            type=["null", "string"],
            pattern=r"^\d{4}-\d{2}$",
            description="Report month YYYY-MM; empty means the month the triggering build was for.",
        ),
        "as_of": Param(
            None,
            type=["null", "string"],
            format="date",
            description="Day lateness and correction deadlines are counted to; empty means the build's day.",
        ),
    },
    default_args={
        "retries": 1,
        "retry_delay": pendulum.duration(minutes=1),
        "on_failure_callback": _alert_data_team,
    },
    tags=["citydw", "quality"],
    doc_md=__doc__,
)
def citydw_report() -> None:
    @task
    def report_month(params=None, triggering_asset_events=None, dag_run=None) -> str:
        from citydw.quality.runs import month_for_report

        return month_for_report(
            (params or {}).get("month"), triggering_asset_events, getattr(dag_run, "run_after", None)
        )

    @task
    def report(month: str, params=None, triggering_asset_events=None, logical_date=None) -> dict:
        from citydw.city import load_city
        from citydw.quality.report import run
        from citydw.quality.runs import as_of_for_report

        as_of = as_of_for_report(
            (params or {}).get("as_of"), triggering_asset_events, logical_date, load_city().timezone
        )
        result = run(month, as_of=as_of)
        print(result.summary())
        return result.to_dict()

    @task
    def brief(month: str) -> dict:
        from citydw.brief.run import run

        result = run(month)
        print(result.summary())
        return result.to_dict()

    month = report_month()
    report(month) >> brief(month)


citydw_report()
