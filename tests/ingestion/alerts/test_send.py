"""send_alert against real receivers: e-mail through an SMTP server on localhost, webhooks and
group robots through a local HTTP server; what was sent is asserted in PostgreSQL."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from datetime import date

import psycopg
import pytest
from apprise.plugins.dingtalk import NotifyDingTalk
from apprise.plugins.slack import NotifySlack
from apprise.plugins.wecombot import NotifyWeComBot
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from citydw.alerts.routes import Route
from citydw.alerts.send import alert_data_team, alert_department, send_alert

JANUARY = date(2022, 1, 1)
SUBJECT = "【数据质量】市发展和改革委员会 2022年1月 重大项目月度调度表：3 行未通过校验"
BODY = "第 12 行 项目代码「2022-3210-48」格式不符合国家标准。\n请于 2022年2月11日 前更正后重新报送。"
CONTACTS = [
    {"name": "王建国", "email": "wang@drc.city.example.org"},
    {"name": "李芳", "email": "li@drc.city.example.org"},
    {"name": "赵强", "phone": "0514-0000000"},
]


def alerts(db: psycopg.Connection) -> list[dict]:
    cursor = db.cursor(row_factory=psycopg.rows.dict_row)
    return cursor.execute("select * from meta.alerts order by alert_id").fetchall()


def quarantine_alert(db, department, settings, month=JANUARY, problem_key="quarantine:drc.major_projects"):
    return alert_department(
        db,
        department,
        problem_key=problem_key,
        dataset="drc.major_projects",
        report_month=month,
        subject=SUBJECT,
        body=BODY,
        settings=settings,
    )


def test_email_reaches_each_contact_with_chinese_subject_and_is_recorded(
    db, smtp_inbox, make_settings, make_department
):
    department = make_department(contacts=CONTACTS, alerts=[{"channel": "email", "to": ["contacts"]}])

    settings = make_settings()
    sent = quarantine_alert(db, department, settings)

    assert [(a.channel, a.recipient, a.status) for a in sent] == [
        ("email", "wang@drc.city.example.org", "sent"),
        ("email", "li@drc.city.example.org", "sent"),
    ]
    assert [mail.envelope_to for mail in smtp_inbox.mails] == [
        ["wang@drc.city.example.org"],
        ["li@drc.city.example.org"],
    ]
    mail = smtp_inbox.mails[0]
    assert mail.header("To") == "wang@drc.city.example.org"
    assert settings.smtp_from in mail.header("From")
    raw_subject = mail.message["Subject"]
    assert raw_subject.isascii() and "=?utf-8?" in raw_subject.lower()  # RFC 2047, not raw UTF-8
    assert mail.header("Subject") == SUBJECT
    assert mail.message.get_content_type() == "text/plain"
    assert mail.text.strip().splitlines() == BODY.splitlines()  # SMTP lines end in CRLF

    rows = alerts(db)
    assert [(r["recipient"], r["status"], r["error"]) for r in rows] == [
        ("wang@drc.city.example.org", "sent", None),
        ("li@drc.city.example.org", "sent", None),
    ]
    assert {(r["problem_key"], r["department"], r["dataset"], r["report_month"], r["channel"]) for r in rows} == {
        ("quarantine:drc.major_projects", "drc", "drc.major_projects", JANUARY, "email")
    }
    assert all(r["subject"] == SUBJECT and r["body"] == BODY and r["sent_at"] is not None for r in rows)
    assert [r["alert_id"] for r in rows] == [a.alert_id for a in sent]


def test_the_same_problem_in_the_same_month_is_alerted_once(db, smtp_inbox, make_settings, make_department):
    department = make_department(contacts=CONTACTS[:1], alerts=[{"channel": "email", "to": ["王建国"]}])
    settings = make_settings()

    first = quarantine_alert(db, department, settings)
    again = quarantine_alert(db, department, settings)

    assert [a.status for a in first] == ["sent"]
    assert again == []
    assert len(smtp_inbox.mails) == 1
    assert len(alerts(db)) == 1

    # Another month, or another problem, is another alert.
    assert len(quarantine_alert(db, department, settings, month=date(2022, 2, 1))) == 1
    assert len(quarantine_alert(db, department, settings, problem_key="late:drc.major_projects")) == 1
    assert len(smtp_inbox.mails) == 3


def test_smtp_login_uses_the_configured_user_and_password(db, smtp_inbox, make_settings, make_department, fake_key):
    password = f"p@ss:/{fake_key()}#%?&"  # characters a URL must escape
    settings = make_settings(smtp_user="citydw-alerts", smtp_password=password)
    department = make_department(contacts=CONTACTS[:1], alerts=[{"channel": "email", "to": ["contacts"]}])

    sent = quarantine_alert(db, department, settings)

    assert [a.status for a in sent] == ["sent"]
    assert smtp_inbox.logins == [("citydw-alerts", password)]
    assert password not in json.dumps(alerts(db), default=str)


def test_generic_webhook_gets_apprise_json_with_its_token(
    db, httpserver: HTTPServer, make_settings, make_department, fake_key
):
    token = fake_key()
    httpserver.expect_oneshot_request("/hooks/citydw", method="POST", query_string={"token": token}).respond_with_json(
        {"ok": True}
    )
    settings = make_settings(
        alert_secrets={"CITYDW_ALERT_TEST_HOOK": httpserver.url_for(f"/hooks/citydw?token={token}")}
    )
    department = make_department(
        alerts=[{"channel": "webhook", "name": "城建数据平台", "secret_env": "CITYDW_ALERT_TEST_HOOK"}]
    )

    sent = quarantine_alert(db, department, settings)

    httpserver.check_assertions()
    assert [(a.channel, a.recipient, a.status) for a in sent] == [("webhook", "城建数据平台", "sent")]
    request, _ = httpserver.log[0]
    assert request.headers["Content-Type"].startswith("application/json")
    payload = request.get_json()
    assert (payload["title"], payload["message"]) == (SUBJECT, BODY)
    assert token not in json.dumps(alerts(db), default=str)


def test_group_robots_post_what_wecom_dingtalk_and_slack_expect(
    db, httpserver: HTTPServer, monkeypatch, make_settings, make_department, fake_key
):
    """Apprise's own WeCom, DingTalk and Slack plugins, their vendors' fixed hosts pointed at a local receiver."""
    monkeypatch.setattr(NotifyWeComBot, "notify_url", httpserver.url_for("/cgi-bin/webhook/send") + "?key={key}")
    monkeypatch.setattr(NotifyDingTalk, "notify_url", httpserver.url_for("/robot/send") + "?access_token={token}")
    monkeypatch.setattr(NotifySlack, "webhook_url", httpserver.url_for("/services"))
    wecom_key, ding_token, ding_secret = fake_key(), fake_key(), "SEC" + fake_key()
    slack_path = f"T{fake_key()[:8].upper()}/B{fake_key()[:8].upper()}/{fake_key()}"

    def dingtalk(request: Request) -> Response:
        """Verifies the signature the way DingTalk documents it: HmacSHA256(timestamp + "\\n" + secret)."""
        expected = base64.b64encode(
            hmac.new(
                ding_secret.encode(), f"{request.args['timestamp']}\n{ding_secret}".encode(), hashlib.sha256
            ).digest()
        ).decode()
        ok = request.args["access_token"] == ding_token and request.args["sign"] == expected
        return Response(json.dumps({"errcode": 0 if ok else 310000, "errmsg": "ok" if ok else "sign not match"}))

    httpserver.expect_oneshot_request("/cgi-bin/webhook/send", query_string={"key": wecom_key}).respond_with_json(
        {"errcode": 0, "errmsg": "ok"}
    )
    httpserver.expect_oneshot_request("/robot/send").respond_with_handler(dingtalk)
    httpserver.expect_oneshot_request(f"/services/{slack_path}").respond_with_data("ok")
    settings = make_settings(
        alert_secrets={
            "CITYDW_ALERT_TEST_WECOM": wecom_key,
            "CITYDW_ALERT_TEST_DINGTALK": f"dingtalk://{ding_secret}@{ding_token}/",
            "CITYDW_ALERT_TEST_SLACK": slack_path,
        }
    )
    department = make_department(
        alerts=[
            {"channel": "wecom", "name": "发改委调度群", "secret_env": "CITYDW_ALERT_TEST_WECOM"},
            {"channel": "dingtalk", "name": "发改委钉钉群", "secret_env": "CITYDW_ALERT_TEST_DINGTALK"},
            {"channel": "slack", "name": "#citydw-alerts", "secret_env": "CITYDW_ALERT_TEST_SLACK"},
        ]
    )

    sent = quarantine_alert(db, department, settings)

    httpserver.check_assertions()
    assert [(a.channel, a.recipient, a.status, a.error) for a in sent] == [
        ("wecom", "发改委调度群", "sent", None),
        ("dingtalk", "发改委钉钉群", "sent", None),
        ("slack", "#citydw-alerts", "sent", None),
    ]
    wecom, ding, slack = (request.get_json() for request, _ in httpserver.log)
    assert wecom["msgtype"] == "text" and wecom["text"]["content"].splitlines() == [SUBJECT, *BODY.splitlines()]
    assert ding["msgtype"] == "text" and ding["text"]["content"].splitlines() == [SUBJECT, *BODY.splitlines()]
    assert (slack["attachments"][0]["title"], slack["attachments"][0]["text"]) == (SUBJECT, BODY)
    stored = json.dumps(alerts(db), default=str)
    assert not any(secret in stored for secret in (wecom_key, ding_token, ding_secret, slack_path))


def test_a_robot_that_refuses_is_recorded_as_failed_and_retried_later(
    db, httpserver: HTTPServer, monkeypatch, make_settings, make_department, fake_key
):
    """WeCom answers HTTP 200 with an errcode when it refuses; that is a failure, not a sent alert."""
    monkeypatch.setattr(NotifyWeComBot, "notify_url", httpserver.url_for("/cgi-bin/webhook/send") + "?key={key}")
    key = fake_key()
    settings = make_settings(alert_secrets={"CITYDW_ALERT_TEST_WECOM": key})
    department = make_department(
        alerts=[{"channel": "wecom", "name": "调度群", "secret_env": "CITYDW_ALERT_TEST_WECOM"}]
    )
    httpserver.expect_oneshot_request("/cgi-bin/webhook/send").respond_with_json(
        {"errcode": 93000, "errmsg": "invalid webhook url"}
    )

    refused = quarantine_alert(db, department, settings)

    assert [(a.status, a.sent_at) for a in refused] == [("failed", None)]
    assert "errcode=93000" in refused[0].error and key not in refused[0].error

    httpserver.expect_oneshot_request("/cgi-bin/webhook/send").respond_with_json({"errcode": 0, "errmsg": "ok"})
    retried = quarantine_alert(db, department, settings)
    assert [a.status for a in retried] == ["sent"]
    assert quarantine_alert(db, department, settings) == []
    assert [r["status"] for r in alerts(db)] == ["failed", "sent"]


def test_a_failing_channel_is_recorded_and_does_not_stop_the_others(
    db, smtp_inbox, httpserver: HTTPServer, make_settings, make_department, free_port, fake_key
):
    token = fake_key()
    closed = f"http://127.0.0.1:{free_port()}/hooks/citydw?token={token}"  # nobody listens there
    department = make_department(
        contacts=CONTACTS[:1],
        alerts=[
            {"channel": "webhook", "name": "城建数据平台", "secret_env": "CITYDW_ALERT_TEST_HOOK"},
            {"channel": "wecom", "name": "未配置的群", "secret_env": "CITYDW_ALERT_TEST_UNSET"},
            {"channel": "email", "to": ["contacts"]},
        ],
    )

    first = quarantine_alert(db, department, make_settings(alert_secrets={"CITYDW_ALERT_TEST_HOOK": closed}))

    assert [(a.channel, a.status) for a in first] == [("webhook", "failed"), ("wecom", "failed"), ("email", "sent")]
    assert "connection error" in first[0].error.lower()
    assert "CITYDW_ALERT_TEST_UNSET is not set" in first[1].error
    assert len(smtp_inbox.mails) == 1
    assert token not in json.dumps(alerts(db), default=str)

    # Later, the endpoint is back: running the same step again sends only what failed.
    httpserver.expect_oneshot_request("/hooks/citydw").respond_with_data("ok")
    hook = httpserver.url_for(f"/hooks/citydw?token={token}")
    retry = quarantine_alert(db, department, make_settings(alert_secrets={"CITYDW_ALERT_TEST_HOOK": hook}))

    httpserver.check_assertions()
    assert [(a.channel, a.status) for a in retry] == [("webhook", "sent"), ("wecom", "failed")]
    assert len(smtp_inbox.mails) == 1
    assert [(r["channel"], r["status"]) for r in alerts(db)] == [
        ("webhook", "failed"),
        ("wecom", "failed"),
        ("email", "sent"),
        ("webhook", "sent"),
        ("wecom", "failed"),
    ]


def test_two_workers_alerting_the_same_problem_send_it_once(warehouse_url, httpserver: HTTPServer, make_settings):
    def slow_receiver(request: Request) -> Response:
        time.sleep(0.5)  # the first worker is still sending when the second one asks
        return Response("ok")

    httpserver.expect_request("/hooks/citydw").respond_with_handler(slow_receiver)
    settings = make_settings(alert_secrets={"CITYDW_ALERT_TEST_HOOK": httpserver.url_for("/hooks/citydw")})
    route = Route(channel="webhook", recipient="城建数据平台", secret_env="CITYDW_ALERT_TEST_HOOK")
    results: list[list] = []
    start = threading.Barrier(2)

    def worker() -> None:
        with psycopg.connect(warehouse_url, autocommit=True) as conn:
            start.wait()
            results.append(
                send_alert(
                    conn,
                    problem_key="missing:drc.major_projects",
                    department="drc",
                    dataset="drc.major_projects",
                    report_month="2022-01",
                    subject=SUBJECT,
                    body=BODY,
                    routes=[route],
                    settings=settings,
                )
            )

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(httpserver.log) == 1
    assert sorted(len(result) for result in results) == [0, 1]
    with psycopg.connect(warehouse_url) as conn:
        assert conn.execute("select status, report_month from meta.alerts").fetchall() == [("sent", JANUARY)]


def test_the_table_refuses_a_second_sent_row_for_the_same_alert(db):
    insert = """
        insert into meta.alerts (problem_key, report_month, channel, recipient, subject, body, status, sent_at)
        values ('late:drc.major_projects', %s, 'email', 'wang@drc.city.example.org', 's', 'b', 'sent', now())
    """
    db.execute(insert, (None,))
    with pytest.raises(psycopg.errors.UniqueViolation):
        db.execute(insert, (None,))  # no month is one value, not distinct NULLs
    db.execute(insert, (JANUARY,))
    with pytest.raises(psycopg.errors.UniqueViolation):
        db.execute(insert, (JANUARY,))
    with pytest.raises(psycopg.errors.CheckViolation):
        db.execute(insert.replace("'sent', now()", "'failed', null"), (JANUARY,))  # a failure says why


def test_send_alert_refuses_a_connection_inside_a_transaction(warehouse_url, make_settings):
    with psycopg.connect(warehouse_url) as conn:
        conn.execute("select 1")  # opens a transaction
        with pytest.raises(ValueError, match="autocommit"):
            send_alert(
                conn,
                problem_key="p",
                department=None,
                dataset=None,
                report_month=None,
                subject="s",
                body="b",
                routes=[],
                settings=make_settings(),
            )


def test_the_data_team_routes_come_from_settings_and_store_no_token(
    db, smtp_inbox, httpserver: HTTPServer, make_settings, fake_key
):
    tokens = [fake_key(), fake_key()]
    for token in tokens:
        httpserver.expect_oneshot_request("/hooks/team", query_string={"token": token}).respond_with_data("ok")
    urls = ", ".join(httpserver.url_for("/hooks/team").replace("http://", "json://") + f"?-token={t}" for t in tokens)
    settings = make_settings(alert_data_team_urls=urls, alert_data_team_emails="data-team@city.example.org")

    sent = alert_data_team(
        db,
        problem_key="run-summary:citydw_monthly",
        report_month=JANUARY,
        subject="【citydw】2022-01 运行摘要",
        body="全部完成",
        settings=settings,
    )

    httpserver.check_assertions()
    assert [a.status for a in sent] == ["sent", "sent", "sent"]
    assert sent[0].recipient == "data-team@city.example.org"
    assert [a.channel for a in sent[1:]] == ["webhook", "webhook"]
    assert all(a.recipient.startswith("data-team:json:") for a in sent[1:])
    assert sent[1].recipient != sent[2].recipient
    assert smtp_inbox.mails[0].header("Subject") == "【citydw】2022-01 运行摘要"
    stored = json.dumps(alerts(db), default=str)
    assert not any(token in stored for token in tokens)
