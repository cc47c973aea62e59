"""The chase: reminders before a due date, escalations after it, and notices of what to correct.

:func:`plan_chase` decides, for one report month and one day, which alerts
each delivery deserves; :func:`send_planned` sends them through
:mod:`citydw.alerts` (Apprise, recorded in ``meta.alerts``). Each alert has
a ``problem_key`` that names the problem, not the day, so however often the
watch runs, the same reminder, escalation or notice goes to a recipient once
a month:

=================================  ==============================================  =====================
problem_key                        when                                            to
=================================  ==============================================  =====================
delivery-reminder:<dataset>        nothing received, due within 2 working days     department
delivery-overdue:<dataset>         nothing received, 1+ working day past due       department
delivery-overdue-2:<dataset>       not accepted, 3+ working days past due          department, data team
delivery-rejected:<dataset>:v<n>   version n rejected, none accepted               department
corrections:<dataset>:v<n>         open correction cases, last seen in version n   department
=================================  ==============================================  =====================

An accepted or waived delivery is never chased.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import psycopg

from citydw.city import City
from citydw.quality.cases import CaseRow, correction_deadline, row_words
from citydw.quality.ledger import DeliveryState, working_days_between
from citydw.registry import Registry

log = logging.getLogger(__name__)

REMIND_WITHIN_WORKING_DAYS = 2
ESCALATE_AFTER_WORKING_DAYS = 1
ESCALATE_DATA_TEAM_AFTER_WORKING_DAYS = 3
CASES_LISTED = 10


@dataclass(frozen=True)
class PlannedAlert:
    problem_key: str
    department: str
    dataset: str
    report_month: date
    subject: str
    body: str
    to_data_team: bool = False


def _month_words(month: date) -> str:
    return f"{month.year}年{month.month}月"


def _day_words(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def plan_chase(states: list[DeliveryState], as_of: date, city: City) -> list[PlannedAlert]:
    """The reminders and escalations the deliveries of one month deserve on ``as_of``."""
    planned = []
    signature = f"\n\n——{city.name}城建数据仓库（自动发送，请勿直接回复）"
    for state in states:
        if state.is_accepted or state.is_waived:
            continue
        what = f"《{state.dataset_title}》{_month_words(state.report_month)}数据"
        due = _day_words(state.due_date)
        if not state.is_received and as_of <= state.due_date:
            left = working_days_between(as_of, state.due_date)
            if left <= REMIND_WITHIN_WORKING_DAYS:
                when = "今天" if left == 0 else f"{left}个工作日后（{due}）"
                planned.append(
                    PlannedAlert(
                        problem_key=f"delivery-reminder:{state.dataset}",
                        department=state.department,
                        dataset=state.dataset,
                        report_month=state.report_month,
                        subject=f"【报送提醒】{what}将于{due}到期",
                        body=f"{state.department_name}：\n{what}应于{due}前报送，{when}到期，目前尚未收到。"
                        f"请按模板填报后按时报送。{signature}",
                    )
                )
            continue
        overdue = working_days_between(state.due_date, as_of)
        if state.is_rejected:
            deadline = correction_deadline(max(as_of, state.due_date))
            planned.append(
                PlannedAlert(
                    problem_key=f"delivery-rejected:{state.dataset}:v{state.latest_version}",
                    department=state.department,
                    dataset=state.dataset,
                    report_month=state.report_month,
                    subject=f"【报表退回】{what}（第{state.latest_version}版）未通过校验",
                    body=f"{state.department_name}：\n贵单位报送的{what}（文件“{state.latest_file or ''}”，"
                    f"第{state.latest_version}版）未通过校验，已退回，未入库。\n"
                    f"原因：{state.latest_reason or '见更正清单'}\n"
                    f"请更正后于{_day_words(deadline)}前重新报送整张报表。{signature}",
                )
            )
        elif not state.is_received and overdue >= ESCALATE_AFTER_WORKING_DAYS:
            planned.append(
                PlannedAlert(
                    problem_key=f"delivery-overdue:{state.dataset}",
                    department=state.department,
                    dataset=state.dataset,
                    report_month=state.report_month,
                    subject=f"【催报】{what}已逾期",
                    body=f"{state.department_name}：\n{what}应于{due}前报送，截至{_day_words(as_of)}已逾期"
                    f"{overdue}个工作日，仍未收到。请尽快报送。{signature}",
                )
            )
        if overdue >= ESCALATE_DATA_TEAM_AFTER_WORKING_DAYS:
            why = "报表被退回后尚未重新报送合格版本" if state.is_received else "仍未收到报表"
            planned.append(
                PlannedAlert(
                    problem_key=f"delivery-overdue-2:{state.dataset}",
                    department=state.department,
                    dataset=state.dataset,
                    report_month=state.report_month,
                    subject=f"【二次催报】{state.department_name}{what}逾期{overdue}个工作日",
                    body=f"{state.department_name}：\n{what}应于{due}前报送，截至{_day_words(as_of)}已逾期"
                    f"{overdue}个工作日，{why}。本月数据在该报表合格入库前均为暂定数。请立即处理。{signature}",
                    to_data_team=True,
                )
            )
    return planned


def plan_correction_notices(
    cases: list[CaseRow], registry: Registry, city: City, month: date, workbooks: dict[str, Path]
) -> list[PlannedAlert]:
    """One notice per dataset with open correction cases, keyed by the version they were last seen in."""
    by_dataset: dict[str, list[CaseRow]] = defaultdict(list)
    for case in cases:
        if case.is_open:
            by_dataset[case.dataset].append(case)
    planned = []
    for dataset, open_cases in sorted(by_dataset.items()):
        spec = registry.dataset(dataset)
        department = registry.department(spec.department)
        version = max(case.version for case in open_cases)
        deadline = min(case.deadline for case in open_cases)
        what = f"《{spec.title}》{_month_words(month)}数据"
        listed = "\n".join(
            f"  {i}. " + row_words(c.source_row, spec.channel.kind == "api")
            + (f"“{c.column}”" + ("" if spec.channel.kind == "api" else "列") if c.column else "") + f"：{c.rule}" + (f"（填报值：{c.value}）" if c.value else "")
            for i, c in enumerate(open_cases[:CASES_LISTED], start=1)
        )  # fmt: skip
        more = f"\n  …… 共{len(open_cases)}项，详见更正清单。" if len(open_cases) > CASES_LISTED else ""
        workbook = workbooks.get(spec.department)
        where = f"\n更正清单：{workbook.name}（{_month_words(month)}报告目录 corrections/ 下）" if workbook else ""
        planned.append(
            PlannedAlert(
                problem_key=f"corrections:{dataset}:v{version}",
                department=spec.department,
                dataset=dataset,
                report_month=month,
                subject=f"【更正通知】{what}有{len(open_cases)}项问题待更正",
                body=f"{department.name}：\n{what}中以下问题的数据未能入库，请于{_day_words(deadline)}前更正后重新报送整张报表"
                f"（校验通过后问题自动销号）：\n{listed}{more}{where}"
                f"\n\n——{city.name}城建数据仓库（自动发送，请勿直接回复）",
            )
        )
    return planned


Sender = Callable[..., list]


def send_planned(
    conn: psycopg.Connection, registry: Registry, planned: list[PlannedAlert], *, send: Sender | None = None
) -> int:
    """Send each planned alert to its department (and the data team where marked); returns attempts recorded.

    ``send`` defaults to :func:`citydw.alerts.send.send_alert`; a department
    without alert routes gets nothing, which the alerts module logs.
    """
    from citydw.alerts.routes import data_team_routes, department_routes
    from citydw.alerts.send import send_alert
    from citydw.settings import get_settings

    send = send or send_alert
    settings = get_settings()
    attempts = 0
    for alert in planned:
        routes = department_routes(registry.department(alert.department))
        if alert.to_data_team:
            routes += data_team_routes(settings)
        if not routes:
            log.warning(
                "%s: no alert routes for department %s; %s not sent", alert.dataset, alert.department, alert.problem_key
            )
            continue
        sent = send(
            conn,
            problem_key=alert.problem_key,
            department=alert.department,
            dataset=alert.dataset,
            report_month=alert.report_month,
            subject=alert.subject,
            body=alert.body,
            routes=routes,
        )
        attempts += len(sent)
    return attempts
