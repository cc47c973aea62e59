"""Re-processing past report months through Airflow's own, scheduler-managed backfill.

When to use it: a department corrected a month already published (new bytes
for a past month are a new version, see DESIGN.md), or a fix to a parser, a
suite or a model must reach the months already built. ``citydw backfill
--from 2022-03 --to 2022-05`` asks the Airflow API server to create a
backfill of ``citydw_monthly``; the *scheduler* then runs one DAG run per
month, oldest first and one at a time (``max_active_runs`` 1), on whatever
executor it has (the Celery workers). This process only asks and watches:
a backfill needs a running Airflow — the local cluster (``citydw cluster up``)
or a deployment (``CITYDW_AIRFLOW_API_URL``) — and goes on if it exits.

Months map to the monthly schedule's logical dates: the DAG runs on the 12th
at 06:00 (Asia/Shanghai) for the month before, so report month 2022-07 is
the run at 2022-08-12 06:00+08:00, and a backfill run, which has no
``month`` param, reports on the month before its logical date. Months that
already have a run are re-run (``reprocess_behavior`` "completed"): the run
is cleared and its conf emptied, so the month again comes from the date. A
month whose run is in flight when the backfill is created is skipped by
Airflow; it is reported as such.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from citydw.cluster.api import TERMINAL_RUN_STATES, AirflowApi
from citydw.cluster.local import MONTHLY_DAG, logical_date_for_month
from citydw.months import month_range, previous_month


class BackfillError(RuntimeError):
    """The backfill could not be created or did not finish; the message says what to do."""


@dataclass(frozen=True)
class MonthRun:
    month: date
    run_id: str | None  # None: Airflow created no run (one was in flight)
    state: str
    start_date: str | None = None
    end_date: str | None = None

    def describe(self) -> str:
        return f"{self.month:%Y-%m}: {self.state}" + (f" ({self.run_id})" if self.run_id else "")


@dataclass(frozen=True)
class BackfillOutcome:
    backfill_id: int
    runs: list[MonthRun]

    @property
    def succeeded(self) -> bool:
        return bool(self.runs) and all(run.state == "success" for run in self.runs)


def backfill_body(
    first: date, last: date, dag_id: str = MONTHLY_DAG, timezone: str = "Asia/Shanghai"
) -> dict[str, Any]:
    """The ``POST /api/v2/backfills`` body for report months ``first``..``last``."""
    if last < first:
        raise BackfillError(f"--to {last:%Y-%m} is before --from {first:%Y-%m}.")
    return {
        "dag_id": dag_id,
        "from_date": logical_date_for_month(first, timezone).isoformat(),
        "to_date": logical_date_for_month(last, timezone).isoformat(),
        "run_backwards": False,
        # Empty, not None: re-run months drop a trigger's {"month": …} and take the month from the date.
        "dag_run_conf": {},
        "reprocess_behavior": "completed",
        "max_active_runs": 1,
    }


def _check_dag(api: AirflowApi, dag_id: str) -> None:
    dag = api.dag(dag_id)
    if dag is None:
        raise BackfillError(f"Airflow at {api.base_url} has no DAG {dag_id}: is its DAG processor running?")
    if dag.get("is_paused"):
        raise BackfillError(
            f"{dag_id} is paused at {api.base_url}, and the scheduler runs no backfill of a paused DAG. "
            f"Unpause it (Airflow UI, or `airflow dags unpause {dag_id}`) and try again."
        )


def plan_backfill(
    api: AirflowApi, first: date, last: date, dag_id: str = MONTHLY_DAG, timezone: str = "Asia/Shanghai"
) -> list[date]:
    """The report months a backfill would run (Airflow's dry run): all of them but those in flight."""
    _check_dag(api, dag_id)
    zone = ZoneInfo(timezone)
    planned = api.dry_run_backfill(backfill_body(first, last, dag_id, timezone))
    return [previous_month(datetime.fromisoformat(info["logical_date"]).astimezone(zone)) for info in planned]


def create_backfill(
    api: AirflowApi, first: date, last: date, dag_id: str = MONTHLY_DAG, timezone: str = "Asia/Shanghai"
) -> int:
    """Ask Airflow for a backfill of report months ``first``..``last``; returns the backfill's id."""
    _check_dag(api, dag_id)
    return int(api.create_backfill(backfill_body(first, last, dag_id, timezone))["id"])


def month_runs(
    api: AirflowApi, first: date, last: date, dag_id: str = MONTHLY_DAG, timezone: str = "Asia/Shanghai"
) -> list[MonthRun]:
    """The backfill runs for each month of the range, oldest first; a month with none is 'skipped'."""
    runs = api.dag_runs(
        dag_id,
        logical_date_gte=logical_date_for_month(first, timezone).isoformat(),
        logical_date_lte=logical_date_for_month(last, timezone).isoformat(),
        run_type="backfill",
    )
    zone = ZoneInfo(timezone)
    by_month = {previous_month(datetime.fromisoformat(run["logical_date"]).astimezone(zone)): run for run in runs}
    found = []
    for month in month_range(first, last):
        run = by_month.get(month)
        if run is None:
            found.append(MonthRun(month, None, "skipped"))
        else:
            found.append(MonthRun(month, run["dag_run_id"], run["state"], run.get("start_date"), run.get("end_date")))
    return found


def wait_for_backfill(
    api: AirflowApi,
    backfill_id: int,
    first: date,
    last: date,
    dag_id: str = MONTHLY_DAG,
    timezone: str = "Asia/Shanghai",
    timeout: float = 6 * 3600,
    poll: float = 5.0,
    on_poll: Callable[[list[MonthRun]], None] | None = None,
) -> BackfillOutcome:
    """Wait until the scheduler has finished the backfill; returns each month's run."""
    deadline = time.monotonic() + timeout
    while True:
        info: dict[str, Any] = api.backfill(backfill_id)
        runs = month_runs(api, first, last, dag_id, timezone)
        if on_poll is not None:
            on_poll(runs)
        finished = all(run.state in TERMINAL_RUN_STATES or run.run_id is None for run in runs)
        if info.get("completed_at") and finished:
            return BackfillOutcome(backfill_id, runs)
        if time.monotonic() > deadline:
            raise BackfillError(
                f"Backfill {backfill_id} not finished after {timeout:.0f} s: "
                + ", ".join(run.describe() for run in runs)
                + ". It goes on in Airflow; watch it in the UI (Browse → Backfills)."
            )
        time.sleep(poll)


def backfill(
    api: AirflowApi,
    first: date,
    last: date,
    *,
    wait: bool = True,
    dag_id: str = MONTHLY_DAG,
    timezone: str = "Asia/Shanghai",
    timeout: float = 6 * 3600,
    on_poll: Callable[[list[MonthRun]], None] | None = None,
) -> BackfillOutcome:
    """Backfill report months ``first``..``last`` in order; with ``wait``, until the scheduler is done."""
    backfill_id = create_backfill(api, first, last, dag_id, timezone)
    if not wait:
        return BackfillOutcome(backfill_id, [MonthRun(m, None, "queued") for m in month_range(first, last)])
    return wait_for_backfill(api, backfill_id, first, last, dag_id, timezone, timeout, on_poll=on_poll)
