"""A month's run as a person wants to watch it: a progress line per month and stage, the rest in a file.

An in-process DAG run (``citydw run``, ``make demo``) lets Airflow, dbt
(a line per node), GX and the tasks' own prints all write to the terminal:
about 900 lines a month. :func:`run_month_quietly` sends all of that to
``<home>/logs/run-YYYY-MM.log`` at the file-descriptor level (so nothing,
not even a library that kept its own handle on stdout, gets through) and
shows instead how far the month is: ingest (datasets done of all), build,
report. On a terminal that is a rich progress bar redrawn in place; when
stdout is a file or a pipe (CI, ``make demo > log``), one plain line per
stage.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from citydw.logfiles import logs_dir
from citydw.settings import Settings, get_settings

if TYPE_CHECKING:
    from citydw.airflow_local import MonthRun


@contextmanager
def output_to(path: Path) -> Iterator[TextIO]:
    """Everything written to stdout and stderr while the block runs goes to ``path`` (appended).

    Yields a text stream on the real stdout, for what the person should see.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    saved = {fd: os.dup(fd) for fd in (1, 2)}
    terminal = open(os.dup(saved[1]), "w", buffering=1, encoding="utf-8", closefd=True)  # noqa: SIM115
    with path.open("ab") as log:
        try:
            for fd in (1, 2):
                os.dup2(log.fileno(), fd)
            yield terminal
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            for fd, copy in saved.items():
                os.dup2(copy, fd)
                os.close(copy)
            terminal.close()


class MonthProgress:
    """How far one month's run is, drawn on ``terminal``: rich when it is a TTY, plain lines otherwise."""

    def __init__(self, month: date, datasets: int, terminal: TextIO):
        self.month = month
        self.datasets = datasets
        self.terminal = terminal
        self.started = time.monotonic()
        self.stage = ""
        self.done = 0
        self._rich = None
        if terminal.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._rich = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(file=terminal),
                transient=True,
            )
            self._task = self._rich.add_task(f"{month:%Y-%m}", total=datasets + 2)
            self._rich.start()

    def update(self, stage: str, done: int | None = None) -> None:
        """Stage ``stage`` (ingest/build/report); for ingest, ``done`` datasets so far."""
        new_stage = stage != self.stage
        self.stage = stage
        if done is not None:
            self.done = done
        completed = {"ingest": self.done, "build": self.datasets, "report": self.datasets + 1}[stage]
        label = f"{self.month:%Y-%m} {stage}" + (f" {self.done}/{self.datasets} datasets" if stage == "ingest" else "")
        if self._rich is not None:
            self._rich.update(self._task, description=label, completed=completed)
        elif new_stage:
            self.terminal.write(f"{self.month:%Y-%m} {stage} …\n")

    def finish(self, state: str, log_path: Path) -> None:
        if self._rich is not None:
            self._rich.stop()
        elapsed = time.monotonic() - self.started
        self.terminal.write(f"citydw_monthly {self.month:%Y-%m}: {state} in {elapsed:.0f} s (log: {log_path})\n")
        self.terminal.flush()


def _ingested_datasets(url: str, since) -> int:
    from citydw.warehouse.connect import connect

    with connect(url, autocommit=True) as conn:
        row = conn.execute(
            "select count(distinct dataset) from meta.fetch_attempts where attempted_at >= %s", (since,)
        ).fetchone()
    return int(row[0]) if row else 0


def _watch_ingest(progress: MonthProgress, url: str, since, stop: threading.Event) -> None:
    """Poll the warehouse for datasets looked for since the run began; the ingest stage's progress."""
    while not stop.wait(0.5):
        if progress.stage != "ingest":
            continue
        try:
            done = _ingested_datasets(url, since)
        except Exception:  # progress is a courtesy; the run's own errors are in its log
            continue
        progress.update("build" if done >= progress.datasets else "ingest", min(done, progress.datasets))


def run_month_quietly(month: date, settings: Settings | None = None) -> tuple[MonthRun, Path]:
    """The month's DAG runs (``airflow_local.run_month``) with their output in a log file and a progress
    display on the terminal; returns what the run did and the log's path."""
    from citydw import airflow_local
    from citydw.registry import load_registry
    from citydw.warehouse.connect import connect, prepare_warehouse, resolve_warehouse_url

    settings = settings or get_settings()
    log_path = logs_dir(settings) / f"run-{month:%Y-%m}.log"
    url = prepare_warehouse(resolve_warehouse_url(settings))
    with connect(url, autocommit=True) as conn:
        since = conn.execute("select now()").fetchone()[0]  # type: ignore[index]
    datasets = len(load_registry(settings.registry_path).datasets)
    stop = threading.Event()
    outcome = airflow_local.MonthRun(month, "failed")  # what stands if the run itself raises
    with output_to(log_path) as terminal:
        progress = MonthProgress(month, datasets, terminal)
        watcher = threading.Thread(target=_watch_ingest, args=(progress, url, since, stop), daemon=True)
        progress.update("ingest", 0)
        watcher.start()

        def on_stage(stage: str) -> None:
            progress.update(stage)

        try:
            outcome = airflow_local.run_month_outcome(month, settings, on_stage=on_stage)
        finally:
            stop.set()
            watcher.join(timeout=5)
            progress.finish(outcome.outcome, log_path)
    return outcome, log_path
