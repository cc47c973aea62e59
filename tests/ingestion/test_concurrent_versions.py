"""Several `citydw ingest` of the same dataset-month at once: the newest version wins, and every
command's line tells the truth about what the warehouse holds.

The commands are real processes. The test orders them through the same
PostgreSQL advisory lock the ingests take per (dataset, month): it holds the
lock while the processes queue behind it in a chosen order (so it decides
which file becomes which version), and it can hold it again until every
process is parked at its decision, so the older versions are ready to load
before the newest one may.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from datetime import date
from itertools import permutations

import psycopg
import pytest
from builders import drc_project, drc_workbook

DATASET = "drc.major_projects"
JULY = date(2022, 7, 1)
MONTH_KEY = f"citydw:{DATASET}:2022-07"
# `drc.major_projects   2022-07  accepted  v3 loaded     5  quarantined    0  (f2.xlsx) — …`
VERDICT = re.compile(r"^\S+\s+\d{4}-\d{2}\s+(?P<status>\w+)\s+v(?P<version>\d+)\s+loaded\s+(?P<loaded>\d+)")

pytestmark = pytest.mark.xdist_group("concurrent-ingests")


def workbooks(tmp_path, sizes: list[int], months: list[date] | None = None) -> list[str]:
    """One DRC report per size, with that many projects (distinct row counts tell the versions apart)."""
    paths = []
    for index, size in enumerate(sizes):
        month = (months or [JULY] * len(sizes))[index]
        path = tmp_path / f"file{index}-{size}rows.xlsx"
        path.write_bytes(drc_workbook([drc_project(n) for n in range(1, size + 1)], month))
        paths.append(str(path))
    return paths


def start_ingest(path: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "citydw.cli", "ingest", "--month", "2022-07", "--dataset", DATASET, "--file", path],
        env=os.environ.copy(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def advisory_waiters(db) -> int:
    """Backends of this database waiting for an advisory lock (the month's, or a version's)."""
    return db.execute(
        """
        select count(*) from pg_locks
        where locktype = 'advisory' and not granted
          and database = (select oid from pg_database where datname = current_database())
        """
    ).fetchone()[0]


def wait_until(condition, what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting until {what}")


def hold_month_lock(url: str) -> psycopg.Connection:
    conn = psycopg.connect(url, autocommit=True)
    conn.execute("select pg_advisory_lock(hashtextextended(%s, 0))", (MONTH_KEY,))
    return conn


class QueuedLock:
    """A connection that asks for the month lock in a thread: it gets it after the queue ahead of it."""

    def __init__(self, url: str):
        self.conn = psycopg.connect(url, autocommit=True)
        self.thread = threading.Thread(
            target=self.conn.execute, args=("select pg_advisory_lock(hashtextextended(%s, 0))", (MONTH_KEY,))
        )
        self.thread.start()

    def wait_granted(self) -> None:
        self.thread.join(timeout=120)
        assert not self.thread.is_alive(), "the test never got the month lock back"

    def release(self) -> None:
        self.conn.close()


def finish(processes: list[subprocess.Popen]) -> list[str]:
    outputs = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        outputs.append(out)
    return outputs


def run_together(db, url: str, files: list[str], *, park_at_decision: bool) -> list[str]:
    """Start one ingest per file, in this order; they register versions 1..N in this order.

    With ``park_at_decision`` the test holds the month lock again as soon as
    they have all registered, until each is waiting at its decision (the
    newest for the month lock, the older ones for the newest to finish).
    """
    holder = hold_month_lock(url)
    processes = []
    try:
        for count, path in enumerate(files, start=1):
            processes.append(start_ingest(path))
            wait_until(
                lambda n=count: advisory_waiters(db) == n or any(p.poll() is not None for p in processes),
                f"ingest {count} queues for the month lock",
            )
            assert all(p.poll() is None for p in processes), [p.communicate() for p in processes]
        second = QueuedLock(url) if park_at_decision else None
        if second is not None:
            wait_until(lambda: advisory_waiters(db) == len(files) + 1, "the test queues behind them")
        holder.execute("select pg_advisory_unlock(hashtextextended(%s, 0))", (MONTH_KEY,))
        if second is not None:
            second.wait_granted()
            assert versions(db) == [(n, "received") for n in range(1, len(files) + 1)]
            wait_until(lambda: advisory_waiters(db) == len(files), "every ingest waits at its decision")
            second.release()
        return finish(processes)
    finally:
        holder.close()
        for process in processes:
            if process.poll() is None:
                process.kill()


def versions(db) -> list[tuple[int, str]]:
    return db.execute(
        "select version, status from meta.deliveries where dataset = %s and report_month = %s order by version",
        (DATASET, JULY),
    ).fetchall()


def verdict(output: str) -> tuple[str, int, int]:
    lines = [m for m in map(VERDICT.match, output.splitlines()) if m]
    assert len(lines) == 1, output
    return lines[0]["status"], int(lines[0]["version"]), int(lines[0]["loaded"])


def assert_newest_stands_and_outputs_agree(db, outputs: list[str], rows_by_version: dict[int, int]) -> None:
    """Exactly the highest acceptable version is accepted with its rows; each command said what is so.

    A command may have said "accepted" for a version that is superseded now
    only if it decided before the newer version even arrived.
    """
    final = dict(versions(db))
    newest = max(v for v, rows in rows_by_version.items() if rows is not None)
    assert [v for v, status in final.items() if status == "accepted"] == [newest]
    loaded = db.execute(
        """
        select count(*), min(deliveries.version), max(deliveries.version)
        from raw.drc__major_projects join meta.deliveries using (delivery_id)
        where raw.drc__major_projects.report_month = %s
        """,
        (JULY,),
    ).fetchone()
    assert loaded == (rows_by_version[newest], newest, newest)
    for output in outputs:
        status, version, rows = verdict(output)
        if status == final[version]:
            if status == "accepted":
                assert rows == rows_by_version[version]
            if status == "superseded":
                assert f"superseded by v{newest} while loading" in output
            continue
        assert (status, final[version]) == ("accepted", "superseded"), output
        decided, overtaken_by = db.execute(
            """
            select older.decided_at, min(newer.registered_at)
            from meta.deliveries older join meta.deliveries newer
              on newer.dataset = older.dataset and newer.report_month = older.report_month
             and newer.version > older.version
            where older.dataset = %s and older.report_month = %s and older.version = %s
            group by older.decided_at
            """,
            (DATASET, JULY, version),
        ).fetchone()
        assert decided < overtaken_by, f"v{version} said accepted although a newer version was already in"


@pytest.mark.parametrize("order", list(permutations([0, 1])), ids=lambda o: "-".join(map(str, o)))
def test_two_ingests_parked_at_their_decision_leave_the_newest(db, warehouse_url, tmp_path, order):
    files = workbooks(tmp_path, [3, 5])
    outputs = run_together(db, warehouse_url, [files[i] for i in order], park_at_decision=True)

    rows_by_version = {version: [3, 5][i] for version, i in enumerate(order, start=1)}
    assert versions(db) == [(1, "superseded"), (2, "accepted")]
    assert verdict(outputs[0])[0] == "superseded"
    assert_newest_stands_and_outputs_agree(db, outputs, rows_by_version)


@pytest.mark.parametrize("park", [True, False], ids=["parked", "free"])
def test_three_ingests_leave_exactly_the_highest_version(db, warehouse_url, tmp_path, park):
    files = workbooks(tmp_path, [4, 2, 6])
    outputs = run_together(db, warehouse_url, files, park_at_decision=park)

    assert versions(db) == [(1, "superseded"), (2, "superseded"), (3, "accepted")]
    assert_newest_stands_and_outputs_agree(db, outputs, {1: 4, 2: 2, 3: 6})


def test_a_newest_version_that_is_rejected_leaves_the_older_one_standing(db, warehouse_url, tmp_path):
    # The newer file reports June under July: rejected, so July is the older file's.
    files = workbooks(tmp_path, [3, 5], months=[JULY, date(2022, 6, 1)])
    outputs = run_together(db, warehouse_url, files, park_at_decision=True)

    assert versions(db) == [(1, "accepted"), (2, "rejected")]
    assert [verdict(o)[:2] for o in outputs] == [("accepted", 1), ("rejected", 2)]
    assert_newest_stands_and_outputs_agree(db, outputs, {1: 3, 2: None})


def test_ingests_started_together_without_any_ordering(db, warehouse_url, tmp_path):
    """Real parallel processes, three rounds of two corrections each on top of the last round."""
    for round_number in range(3):
        folder = tmp_path / f"round{round_number}"
        folder.mkdir()
        files = workbooks(folder, [7 + round_number, 2 + round_number])
        outputs = finish([start_ingest(path) for path in files])

        rows_by_version = {
            version: int(re.search(r"-(\d+)rows", name)[1])
            for version, name in db.execute(
                "select version, file_name from meta.deliveries where dataset = %s and report_month = %s",
                (DATASET, JULY),
            ).fetchall()
        }
        assert_newest_stands_and_outputs_agree(db, outputs, rows_by_version)
        assert max(rows_by_version) == 2 * (round_number + 1)
