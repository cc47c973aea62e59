"""Sending an earlier version's bytes again: a no-op for the accepted one, a plain answer and the way
back (``citydw ingest --reinstate vN``) for a superseded one."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date

from builders import drc_project, drc_workbook

from citydw.orchestration import ingest_dataset, reinstate_version

DATASET = "drc.major_projects"
JULY = date(2022, 7, 1)


def state(db) -> list[tuple]:
    return db.execute(
        "select version, status, reinstated_at is not null from meta.deliveries"
        " where dataset = %s and report_month = %s order by version",
        (DATASET, JULY),
    ).fetchall()


def raw_delivery_versions(db) -> list[tuple[int, int]]:
    return db.execute(
        """
        select deliveries.version, count(*) from raw.drc__major_projects join meta.deliveries using (delivery_id)
        where raw.drc__major_projects.report_month = %s group by 1
        """,
        (JULY,),
    ).fetchall()


def test_the_accepted_versions_bytes_again_are_a_no_op(db, tmp_path):
    report = tmp_path / "v1.xlsx"
    report.write_bytes(drc_workbook([drc_project(1), drc_project(2)], JULY))
    ingest_dataset(DATASET, "2022-07", file=str(report))

    again = ingest_dataset(DATASET, "2022-07", file=str(report))

    assert (again.status, again.version) == ("unchanged", 1)
    assert again.reason == "unchanged: v1 stands (same bytes)"
    assert state(db) == [(1, "accepted", False)]


def test_a_superseded_versions_bytes_say_so_and_reinstating_brings_it_back(db, tmp_path):
    first, correction = tmp_path / "v1.xlsx", tmp_path / "v2.xlsx"
    first.write_bytes(drc_workbook([drc_project(n) for n in range(1, 4)], JULY))
    correction.write_bytes(drc_workbook([drc_project(n) for n in range(1, 6)], JULY))
    ingest_dataset(DATASET, "2022-07", file=str(first))
    ingest_dataset(DATASET, "2022-07", file=str(correction))

    resent = ingest_dataset(DATASET, "2022-07", file=str(first))

    assert (resent.status, resent.version) == ("unchanged", 1)
    assert "same bytes as v1, which was superseded; v2 stands now" in resent.reason
    assert "citydw ingest --month 2022-07 --dataset drc.major_projects --reinstate v1" in resent.reason
    assert state(db) == [(1, "superseded", False), (2, "accepted", False)]

    # The way back, through the command the message offers.
    command = resent.reason.split("To go back to v1: ")[1].split()
    assert command[:2] == ["citydw", "ingest"]
    run = subprocess.run(
        [sys.executable, "-m", "citydw.cli", *command[1:]], env=os.environ.copy(), capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    assert "accepted" in run.stdout and "v1 reinstated, v2 superseded" in run.stdout

    assert state(db) == [(1, "accepted", True), (2, "superseded", False)]
    assert raw_delivery_versions(db) == [(1, 3)]
    reasons = db.execute("select version, status_reason from meta.deliveries order by version").fetchall()
    assert reasons == [(1, "reinstated over v2"), (2, "v1 reinstated")]

    # v2's bytes again now say v1 stands and how to go back to v2.
    back = ingest_dataset(DATASET, "2022-07", file=str(correction))
    assert "same bytes as v2, which was superseded; v1 stands now" in back.reason
    assert "--reinstate v2" in back.reason


def test_reinstating_the_accepted_version_or_one_that_does_not_exist(db, tmp_path):
    report = tmp_path / "v1.xlsx"
    report.write_bytes(drc_workbook([drc_project(1)], JULY))
    ingest_dataset(DATASET, "2022-07", file=str(report))

    assert reinstate_version(DATASET, "2022-07", "v1").reason == "unchanged: v1 stands already"
    run = subprocess.run(
        [sys.executable, "-m", "citydw.cli", "ingest", "--month", "2022-07", "--dataset", DATASET, "--reinstate", "v7"],
        env=os.environ.copy(), capture_output=True, text=True,
    )  # fmt: skip
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == ["citydw: error: drc.major_projects 2022-07 has no version 7"]
