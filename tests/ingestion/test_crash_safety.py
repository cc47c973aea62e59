"""A load killed with SIGKILL half-way leaves the previous accepted version intact."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date

import psycopg
from builders import drc_project, drc_workbook

from citydw.orchestration import ingest_dataset

JULY = date(2022, 7, 1)


def wait_for_lock_wait(db, timeout: float = 60.0) -> None:
    """Until some backend is waiting on a lock (the loader, stuck inside its transaction)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        waiting = db.execute(
            "select count(*) from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()"
        ).fetchone()[0]
        if waiting:
            return
        time.sleep(0.1)
    raise AssertionError("the loader never reached its load transaction")


def test_sigkill_mid_load_leaves_the_previous_version_in_place(db, warehouse_url, tmp_path):
    first = tmp_path / "v1.xlsx"
    first.write_bytes(drc_workbook([drc_project(1), drc_project(2)], JULY))
    assert ingest_dataset("drc.major_projects", "2022-07", file=str(first)).status == "accepted"
    before = db.execute("select * from raw.drc__major_projects order by source_row").fetchall()

    correction = tmp_path / "v2.xlsx"
    correction.write_bytes(drc_workbook([drc_project(n) for n in range(3, 40)], JULY))
    # Hold a lock the loader needs after it has deleted the month and copied the new rows,
    # so it is caught inside its transaction, then kill it there.
    with psycopg.connect(warehouse_url) as blocker:
        blocker.execute("lock table meta.validation_results in access exclusive mode")
        loader = subprocess.Popen(
            [sys.executable, "-m", "citydw.cli", "ingest", "--month", "2022-07",
             "--dataset", "drc.major_projects", "--file", str(correction)],
            env=os.environ.copy(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            wait_for_lock_wait(db)
            loader.send_signal(signal.SIGKILL)
            loader.wait(timeout=30)
        finally:
            if loader.poll() is None:
                loader.kill()
        blocker.rollback()

    assert loader.returncode == -signal.SIGKILL
    assert db.execute("select * from raw.drc__major_projects order by source_row").fetchall() == before
    assert db.execute("select version, status from meta.deliveries order by version").fetchall() == [
        (1, "accepted"),
        (2, "received"),
    ]

    # The interrupted version is picked up again on the next run and completes.
    retried = ingest_dataset("drc.major_projects", "2022-07", file=str(correction))
    assert (retried.status, retried.version, retried.rows_loaded) == ("accepted", 2, 37)
