"""The delivery ledger: due dates on the official calendar, and what landed in the ledger marts."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from builders import drc_project, drc_workbook

from citydw.orchestration import ingest_dataset
from citydw.quality import ledger, report
from citydw.registry import load_registry
from citydw.settings import get_settings

DATASET = "drc.major_projects"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def registry():
    return load_registry(get_settings().registry_path)


def test_due_dates_count_working_days_with_holidays_and_make_up_days(db):
    scheduled = ledger.refresh_schedule(db, registry(), up_to=date(2022, 12, 1), since=date(2022, 1, 1))

    due = dict(
        db.execute(
            "select report_month, due_date from meta.delivery_schedule where dataset = %s", (DATASET,)
        ).fetchall()
    )
    assert scheduled == 12 and len(due) == 12
    assert due[date(2022, 1, 1)] == date(2022, 2, 11)  # Spring Festival 1–6 Feb; 29–30 Jan worked
    assert due[date(2022, 9, 1)] == date(2022, 10, 12)  # National Day 1–7 Oct; Sat 8 and Sun 9 Oct worked
    assert due[date(2022, 3, 1)] == date(2022, 4, 8)  # Qingming: Sat 2 Apr worked, 3–5 Apr off
    names = db.execute(
        "select distinct department_name, dataset_title from meta.delivery_schedule where dataset = %s", (DATASET,)
    ).fetchall()
    assert names == [("市发展和改革委员会", "重大项目月度调度表")]
    calendar = dict(
        db.execute(
            "select day, is_working_day from meta.working_days where day in ('2022-01-29', '2022-02-01', '2022-10-08')"
        ).fetchall()
    )
    assert calendar == {date(2022, 1, 29): True, date(2022, 2, 1): False, date(2022, 10, 8): True}
    # Refreshing again changes nothing.
    assert ledger.refresh_schedule(db, registry(), up_to=date(2022, 12, 1)) == 12
    assert db.execute("select count(*) from meta.delivery_schedule").fetchone() == (12,)


def test_a_waiver_needs_a_reason_and_who_and_can_be_revoked(db):
    with pytest.raises(ledger.WaiverError):
        ledger.waive(db, DATASET, date(2022, 6, 1), reason=" ", waived_by="张科长")
    ledger.waive(db, DATASET, date(2022, 6, 1), reason="6月暂停调度", waived_by="张科长")
    with pytest.raises(ledger.WaiverError, match="already waived"):
        ledger.waive(db, DATASET, date(2022, 6, 1), reason="again", waived_by="李四")
    assert ledger.revoke_waiver(db, DATASET, date(2022, 6, 1), revoked_by="张科长")
    assert not ledger.revoke_waiver(db, DATASET, date(2022, 6, 1), revoked_by="张科长")
    ledger.waive(db, DATASET, date(2022, 6, 1), reason="确认暂停", waived_by="王处长")
    assert db.execute("select count(*), count(revoked_at) from meta.waivers").fetchone() == (2, 1)


@pytest.mark.slow
def test_the_ledger_mart_shows_late_missing_rejected_corrected_waived_and_quarantined(db, drop):
    rows = [drc_project(1), drc_project(2)]
    # January: on time (due 11 Feb), one row quarantined (a district not of the city).
    drop(date(2022, 1, 1), "jan.xlsx", drc_workbook([*rows, drc_project(3, 所在地区="南京市玄武区")], date(2022, 1, 1)),
         local("2022-02-10 16:00"))  # fmt: skip
    # February: due Mon 7 Mar, arrived Wed 9 Mar: two working days late.
    drop(date(2022, 2, 1), "feb.xlsx", drc_workbook(rows, date(2022, 2, 1)), local("2022-03-09 10:00"))
    # March: nothing. April: a wrong month first, then a correction. May: rejected only.
    drop(date(2022, 4, 1), "v1.xlsx", drc_workbook(rows, date(2022, 3, 1)), local("2022-05-06 09:00"))
    drop(date(2022, 5, 1), "may.xlsx", b"", local("2022-06-02 09:00"))
    for month in ("2022-01", "2022-02", "2022-03", "2022-04", "2022-05", "2022-06"):
        ingest_dataset(DATASET, month)
    drop(date(2022, 4, 1), "v2.xlsx", drc_workbook(rows, date(2022, 4, 1)), local("2022-05-10 09:00"))
    ingest_dataset(DATASET, "2022-04")
    ledger.waive(db, DATASET, date(2022, 6, 1), reason="6月调度会暂停，不报送", waived_by="张科长")

    result = report.run("2022-06", notify=False)

    mart = {
        row[0]: row[1:]
        for row in db.execute(
            """
            select to_char(report_month, 'YYYY-MM'), due_date, received_at, is_missing, is_late, working_days_late,
                   versions_received, status, rows_received, rows_loaded, rows_quarantined, blocking_failures,
                   department, dataset
            from marts.fct_department_delivery_monthly order by report_month
            """
        ).fetchall()
    }
    assert sorted(mart) == ["2022-01", "2022-02", "2022-03", "2022-04", "2022-05", "2022-06"]
    assert mart["2022-01"] == (date(2022, 2, 11), local("2022-02-10 16:00"), False, False, 0, 1, "accepted", 3, 2, 1, 0,
                               "drc", DATASET)  # fmt: skip
    assert mart["2022-02"][:7] == (date(2022, 3, 7), local("2022-03-09 10:00"), False, True, 2, 1, "accepted")
    assert mart["2022-03"][2:10] == (True, False, mart["2022-03"][4], 0, "missing", None, None, None)
    assert mart["2022-03"][4] > 100  # overdue ever since 8 Apr 2022, in working days
    assert mart["2022-04"][5:11] == (2, "corrected", 2, 2, 0, 1)
    assert mart["2022-05"][5:11] == (1, "rejected", None, None, None, 1)
    assert mart["2022-06"][2:4] == (True, False) and mart["2022-06"][6] == "waived"

    months = dict(
        db.execute("select to_char(report_month, 'YYYY-MM'), is_certified from marts.dim_report_month").fetchall()
    )
    assert months == {"2022-01": True, "2022-02": True, "2022-03": False, "2022-04": True, "2022-05": False,
                      "2022-06": True}  # fmt: skip
    assert result.is_certified
    # What BI sees: the read-only role may read the ledger.
    assert db.execute(
        "select has_table_privilege('citydw_bi', 'marts.fct_department_delivery_monthly', 'select')"
    ).fetchone() == (True,)
