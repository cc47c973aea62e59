"""What ``citydw cluster up|down|status`` and ``citydw backfill`` do, so the CLI stays a thin shell."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from datetime import date
from types import FrameType

from citydw.cluster.api import AirflowApi
from citydw.cluster.local import (
    MONTHLY_DAG,
    REPORT_DAG,
    ClusterConfig,
    LocalCluster,
    api_for,
    logical_date_for_month,
    running_processes,
    stop_detached,
)
from citydw.settings import Settings, get_settings

Echo = Callable[[str], None]


def up(*, detach: bool = False, echo: Echo = print, settings: Settings | None = None) -> LocalCluster:
    """Start the local cluster on the configured warehouse; unless ``detach``, run until Ctrl-C, then stop it."""
    settings = settings or get_settings()
    cluster = LocalCluster(ClusterConfig.from_settings(settings), attached=not detach)
    echo(f"starting the local cluster under {cluster.home} (logs in {cluster.home / 'logs'}) …")
    with cluster if not detach else _started(cluster):
        cluster.wait_for_dag(MONTHLY_DAG)
        cluster.wait_for_dag(REPORT_DAG)  # paused at creation like every DAG: no report would ever be written
        echo(f"Airflow UI and API: {cluster.api_url}  (every user is admin: local only)")
        echo(f"processes: {', '.join(f'{p.name} ({p.pid})' for p in cluster.processes.values())}")
        echo(
            'run months:        citydw backfill --from 2022-01 --to 2022-03  (or trigger with conf {"month": "YYYY-MM"})'
        )
        if detach:
            echo("stop it with:      citydw cluster down")
            return cluster
        echo("Ctrl-C stops every process.")
        _wait_for_signal()
        echo("stopping …")
    return cluster


class _started:
    """Start without stopping on exit (detached), but stop if starting fails."""

    def __init__(self, cluster: LocalCluster) -> None:
        self.cluster = cluster

    def __enter__(self) -> LocalCluster:
        try:
            self.cluster.start()
        except BaseException:
            self.cluster.stop()
            raise
        return self.cluster

    def __exit__(self, *exc: object) -> None:
        if exc[0] is not None:
            self.cluster.stop()


def _wait_for_signal() -> None:
    stop = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, handler)
    while not stop.wait(1):
        pass


def down(settings: Settings | None = None) -> list[str]:
    """Stop a detached local cluster; returns the processes stopped."""
    settings = settings or get_settings()
    return stop_detached(settings.home_dir / "cluster")


def status(settings: Settings | None = None) -> list[str]:
    """The local cluster's running processes, one line each."""
    settings = settings or get_settings()
    return [f"{p.name:>14}: pid {p.pid}, log {p.log_file}" for p in running_processes(settings.home_dir / "cluster")]


def backfill_months(first: date, last: date, *, wait: bool = True, echo: Echo = print) -> bool:
    """``citydw backfill``: the months Airflow will run, then (with ``wait``) how each ended."""
    from citydw.backfill import backfill, plan_backfill

    settings = get_settings()
    api = api_for(settings)
    months = plan_backfill(api, first, last, timezone=settings.timezone)
    echo(f"backfill of citydw_monthly at {api.base_url}: {', '.join(f'{m:%Y-%m}' for m in months) or 'nothing'}")
    seen: dict[date, str] = {}

    def progress(runs: list) -> None:
        for run in runs:
            if seen.get(run.month) != run.state:
                seen[run.month] = run.state
                echo(f"  {run.describe()}")

    _unpause_reports(api, echo)
    outcome = backfill(api, first, last, wait=wait, timezone=settings.timezone, on_poll=progress)
    if not wait:
        echo(f"backfill {outcome.backfill_id} created; the scheduler runs it (UI: Browse → Backfills)")
        return True
    done = [run.month for run in outcome.runs if run.state == "success"]
    return report_months(api, done, timezone=settings.timezone, echo=echo) and outcome.succeeded


def _unpause_reports(api: AirflowApi, echo: Echo) -> None:
    report = api.dag(REPORT_DAG)
    if report is not None and report.get("is_paused"):
        api.set_paused(REPORT_DAG, False)
        echo(f"unpaused {REPORT_DAG}: the backfilled months get their reports")


def report_months(api: AirflowApi, months: list[date], *, timezone: str, echo: Echo = print) -> bool:
    """Run the report DAG for each month, as of that month's schedule; whether every run succeeded.

    A backfill's runs publish the marts asset too, but a scheduler that
    creates no scheduled runs (the local cluster's default) creates no
    asset-triggered ones either, and a paused report DAG runs nothing: the
    reports are asked for here, after unpausing it.
    """
    _unpause_reports(api, echo)
    succeeded = True
    for month in months:
        as_of = logical_date_for_month(month, timezone).date().isoformat()
        run_id = api.trigger(REPORT_DAG, None, {"month": f"{month:%Y-%m}", "as_of": as_of})
        state = api.wait_for_run(REPORT_DAG, run_id, timeout=1800)
        echo(f"  {REPORT_DAG} {month:%Y-%m}: {state}")
        succeeded &= state == "success"
    return succeeded
