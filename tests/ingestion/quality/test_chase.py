"""The chase: a reminder before the due date, escalations after it, nothing once the delivery passes."""

from __future__ import annotations

import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

from builders import drc_project, drc_workbook

from citydw.city import load_city
from citydw.quality.chase import plan_chase
from citydw.quality.ledger import DeliveryState
from citydw.quality.watch import watch

JULY = date(2022, 7, 1)  # due Friday 5 August 2022
SHANGHAI = ZoneInfo("Asia/Shanghai")


def sent(db) -> list[tuple[str, str]]:
    return db.execute("select problem_key, subject from meta.alerts where status = 'sent' order by alert_id").fetchall()


def test_the_watch_reminds_then_escalates_once_each_and_stops_when_the_delivery_passes(db, drop, httpserver):
    early = watch("2022-08-01", "2022-07")  # four working days before the due date: too early
    assert (early.expected, early.received, early.alerts) == (1, 0, 0)

    watch("2022-08-04", "2022-07")
    watch("2022-08-04", "2022-07")  # the same day again sends nothing new
    assert [key for key, _ in sent(db)] == ["delivery-reminder:drc.major_projects"]
    assert "2022年8月5日到期" in sent(db)[0][1]

    watch("2022-08-08", "2022-07")  # Monday: one working day late
    watch("2022-08-10", "2022-07")  # three working days late: the second escalation
    keys = [key for key, _ in sent(db)]
    assert keys == [
        "delivery-reminder:drc.major_projects",
        "delivery-overdue:drc.major_projects",
        "delivery-overdue-2:drc.major_projects",
    ]
    assert "逾期3个工作日" in sent(db)[-1][1]
    recorded = db.execute("select department, dataset, report_month, channel, recipient from meta.alerts").fetchall()
    assert set(recorded) == {("drc", "drc.major_projects", JULY, "webhook", "发改委测试回调")}
    messages = [json.loads(request.get_data()) for request, _ in httpserver.log]
    assert len(messages) == 3 and messages[0]["title"] == sent(db)[0][1]
    assert "市发展和改革委员会" in messages[0]["message"]

    drop(JULY, "july.xlsx", drc_workbook([drc_project(1)], JULY), datetime(2022, 8, 10, 15, tzinfo=SHANGHAI))
    after = watch("2022-08-11", "2022-07")

    assert (after.received, after.accepted, after.ingested, after.alerts) == (1, 1, 1, 0)
    assert len(sent(db)) == 3


def _state(**changes) -> DeliveryState:
    values = {
        "dataset": "drc.major_projects", "department": "drc", "department_name": "市发展和改革委员会",
        "dataset_title": "重大项目月度调度表", "report_month": JULY, "due_date": date(2022, 8, 5), "versions": 0,
        "first_received_date": None, "accepted_version": None, "latest_version": None, "latest_status": None,
        "latest_reason": None, "latest_file": None, "is_waived": False,
    }  # fmt: skip
    return DeliveryState(**{**values, **changes})


def test_plan_chase_for_rejected_accepted_and_waived_deliveries():
    city = load_city()
    rejected = _state(versions=1, latest_version=1, latest_status="rejected", latest_reason="缺少“项目代码”列",
                      latest_file="july.xlsx")  # fmt: skip
    planned = plan_chase([rejected], date(2022, 8, 5), city)
    assert [p.problem_key for p in planned] == ["delivery-rejected:drc.major_projects:v1"]
    assert "缺少“项目代码”列" in planned[0].body and "2022年8月10日前" in planned[0].body

    late_rejected = plan_chase([rejected], date(2022, 8, 10), city)
    assert [p.problem_key for p in late_rejected][-1] == "delivery-overdue-2:drc.major_projects"
    assert late_rejected[-1].to_data_team

    assert plan_chase([_state(versions=1, accepted_version=1, latest_status="accepted")], date(2022, 8, 20), city) == []
    assert plan_chase([_state(is_waived=True)], date(2022, 8, 20), city) == []
