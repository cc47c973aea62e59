"""Every version that reaches meta.deliveries ends accepted, rejected or superseded, whatever fails.

Failures are injected by making one stage of the pipeline raise (the stage
function is replaced by one that raises; PostgreSQL, the archive and the
alert receiver are real). A version citydw fails on is rejected as an
internal error that names the file and the exception, its traceback is in
``<home>/logs/errors.log``, the data team is alerted (``meta.alerts``), and
the same bytes again are processed once the fault is gone. A version whose
ingest was killed is resolved by the next ingest of the month.
"""

from __future__ import annotations

import threading
import time
from datetime import date
from pathlib import Path

import psycopg
import pytest
from builders import drc_project, drc_workbook
from pytest_httpserver import HTTPServer

from citydw import archive, deliveries, loading, pipeline
from citydw.orchestration import ingest_dataset
from citydw.parsing import grid
from citydw.quality import ledger
from citydw.registry import load_registry
from citydw.settings import get_settings
from citydw.sources.filedrop import candidate_from_file

DATASET = "drc.major_projects"
JULY = date(2022, 7, 1)


class InjectedFault(RuntimeError):
    """What the injected stage raises: a class no real code raises."""


def raise_injected(*args, **kwargs):
    raise InjectedFault("injected for the test")


# stage name in the message → (module, function) made to raise
STAGES = {
    "解析": (pipeline, "_lay_out"),
    # The rows are converted once the load transaction is open, its COPY waiting for them.
    "解析 (rows converted while loading)": (grid.LaidOut, "build"),
    "校验": (pipeline, "_validate"),
    "校验 (dataset rules)": (pipeline, "_with_dataset_rules"),
    "入库": (loading, "replace_partition"),
}


@pytest.fixture
def data_team(httpserver: HTTPServer, monkeypatch) -> HTTPServer:
    """The data team's alert route: a JSON webhook on a local receiver."""
    url = httpserver.url_for("/hooks/data-team").replace("http://", "json://")
    monkeypatch.setenv("CITYDW_ALERT_DATA_TEAM_URLS", url)
    get_settings.cache_clear()
    httpserver.expect_request("/hooks/data-team").respond_with_data("ok")
    yield httpserver
    get_settings.cache_clear()


def workbook(tmp_path: Path, name: str, projects: range) -> str:
    path = tmp_path / name
    path.write_bytes(drc_workbook([drc_project(n) for n in projects], JULY))
    return str(path)


def versions(db) -> list[tuple]:
    return db.execute(
        "select version, status, rejection_kind from meta.deliveries"
        " where dataset = %s and report_month = %s order by version",
        (DATASET, JULY),
    ).fetchall()


def ledger_versions(db) -> int:
    """``versions`` of drc.major_projects for July in the delivery ledger the chase reads."""
    ledger.refresh_schedule(db, load_registry(), up_to=JULY, since=JULY)
    [state] = [s for s in ledger.delivery_states(db, JULY, "Asia/Shanghai") if s.dataset == DATASET]
    return state.versions


def raw_count(db) -> int:
    return db.execute("select count(*) from raw.drc__major_projects where report_month = %s", (JULY,)).fetchone()[0]


@pytest.mark.parametrize("stage", list(STAGES))
def test_a_stage_that_raises_rejects_the_version_as_an_internal_error(
    db, tmp_path, monkeypatch, data_team, citydw_home, stage
):
    assert ingest_dataset(DATASET, "2022-07", file=workbook(tmp_path, "v1.xlsx", range(1, 4))).status == "accepted"
    correction = workbook(tmp_path, "更正.xlsx", range(1, 9))
    module, function = STAGES[stage]
    monkeypatch.setattr(module, function, raise_injected)

    result = ingest_dataset(DATASET, "2022-07", file=correction)

    assert (result.status, result.version) == ("rejected", 2)
    assert versions(db) == [(1, "accepted", None), (2, "rejected", "internal_error")]
    reason = db.execute("select status_reason from meta.deliveries where version = 2").fetchone()[0]
    assert "内部错误" in reason and "“更正.xlsx”" in reason and "InjectedFault" in reason
    assert stage.split()[0] in reason
    assert raw_count(db) == 3  # the accepted version's rows stay
    log = (Path(citydw_home) / "logs" / "errors.log").read_text(encoding="utf-8")
    assert (
        "Traceback" in log and "InjectedFault: injected for the test" in log and "drc.major_projects 2022-07 v2" in log
    )
    alerts = db.execute("select problem_key, status, dataset, body from meta.alerts").fetchall()
    assert [(key.split(":")[0], status, dataset) for key, status, dataset, _ in alerts] == [
        ("ingest-internal-error", "sent", DATASET)
    ]
    assert "更正.xlsx" in alerts[0][3] and "errors.log" in alerts[0][3]
    assert len(data_team.log) == 1

    # Once the fault is gone, the same bytes are processed again: not the department's fault.
    monkeypatch.undo()
    again = ingest_dataset(DATASET, "2022-07", file=correction)
    assert (again.status, again.version, again.rows_loaded) == ("accepted", 2, 8)
    assert versions(db) == [(1, "superseded", None), (2, "accepted", None)]


def test_a_fetch_that_raises_registers_nothing_and_alerts(db, monkeypatch, data_team, citydw_home):
    monkeypatch.setattr(pipeline, "fetch_candidates", raise_injected)

    result = ingest_dataset(DATASET, "2022-07")

    assert result.status == "error" and "InjectedFault" in result.reason
    assert versions(db) == []
    assert db.execute("select outcome from meta.fetch_attempts").fetchall() == [("error",)]
    assert db.execute("select status from meta.alerts").fetchall() == [("sent",)]
    assert "InjectedFault" in (Path(citydw_home) / "logs" / "errors.log").read_text(encoding="utf-8")


def test_a_version_left_received_by_a_killed_ingest_is_resolved_by_the_next_one(db, warehouse_url, tmp_path):
    """A kill leaves the version ``received`` with its lock gone; the next ingest of the month decides it."""
    first = workbook(tmp_path, "v1.xlsx", range(1, 4))
    assert ingest_dataset(DATASET, "2022-07", file=first).status == "accepted"
    killed = candidate_from_file(workbook(tmp_path, "killed.xlsx", range(1, 6)))
    data = killed.read()
    with psycopg.connect(warehouse_url, autocommit=True) as doomed:
        stored = archive.store(get_settings().archive_root, data)
        assert deliveries.register(doomed, DATASET, JULY, killed, stored).claimed
    # The connection is gone as with a SIGKILL: its version lock with it.
    assert versions(db) == [(1, "accepted", None), (2, "received", None)]
    assert ledger_versions(db) == 1  # the chase counts decided versions only

    result = ingest_dataset(DATASET, "2022-07", file=workbook(tmp_path, "v3.xlsx", range(1, 8)))

    assert (result.status, result.version, result.rows_loaded) == ("accepted", 3, 7)
    assert versions(db) == [(1, "superseded", None), (2, "rejected", "interrupted"), (3, "accepted", None)]
    assert "interrupted" in db.execute("select status_reason from meta.deliveries where version = 2").fetchone()[0]
    assert ledger_versions(db) == 2


def test_a_version_being_processed_is_not_taken_for_a_killed_one(db, warehouse_url, tmp_path):
    ingesting = candidate_from_file(workbook(tmp_path, "v1.xlsx", range(1, 4)))
    with psycopg.connect(warehouse_url, autocommit=True) as alive:
        stored = archive.store(get_settings().archive_root, ingesting.read())
        assert deliveries.register(alive, DATASET, JULY, ingesting, stored).claimed
        with psycopg.connect(warehouse_url, autocommit=True) as other:
            # Another file of the month arrives meanwhile; v1's ingest still holds its version lock.
            other_file = candidate_from_file(workbook(tmp_path, "v2.xlsx", range(1, 6)))
            stored = archive.store(get_settings().archive_root, other_file.read())
            assert deliveries.register(other, DATASET, JULY, other_file, stored).version == 2
            assert versions(db)[0] == (1, "received", None)


def test_the_same_bytes_sent_while_they_are_being_processed_wait_for_that_decision(db, warehouse_url, tmp_path):
    """A second ingest of the same file waits for the first; if the first dies, the second processes it."""
    path = workbook(tmp_path, "v1.xlsx", range(1, 5))
    first = candidate_from_file(path)
    outcome = {}
    doomed = psycopg.connect(warehouse_url, autocommit=True)
    stored = archive.store(get_settings().archive_root, first.read())
    assert deliveries.register(doomed, DATASET, JULY, first, stored).claimed
    second = threading.Thread(target=lambda: outcome.update(result=ingest_dataset(DATASET, "2022-07", file=path)))
    second.start()
    deadline = time.monotonic() + 60
    while (
        time.monotonic() < deadline
        and not db.execute("select count(*) from pg_locks where locktype = 'advisory' and not granted").fetchone()[0]
    ):
        time.sleep(0.05)
    assert versions(db) == [(1, "received", None)]  # the second one waits, it does not decide

    doomed.close()  # the first ingest dies
    second.join(timeout=120)

    assert (outcome["result"].status, outcome["result"].version, outcome["result"].rows_loaded) == ("accepted", 1, 4)
    assert versions(db) == [(1, "accepted", None)]
