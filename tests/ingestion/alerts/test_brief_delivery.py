"""The leaders' brief goes out through the alert channels: e-mail with the PDF, the WeCom group with the
headlines; once per set of figures, again (as an update) only when a figure changed. Receivers are real
(an SMTP server and an HTTP server on localhost); what was sent is asserted in meta.alerts."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import psycopg
from apprise.plugins.wecombot import NotifyWeComBot
from pytest_httpserver import HTTPServer

from citydw.brief.delivery import deliver_brief
from citydw.brief.render import Brief
from citydw.registry import Audience, load_audience

JULY = date(2022, 7, 1)
HEADLINES = (
    "1-7月全市新增专项债券发行866,300万元，同比增长32.66%，总额列全省第6位，增幅列全省第1位（全省最高）；"
    "支出进度65.98%，高于全省平均15.16个百分点。",
    "全市纳入调度的重大项目212个，计划7月底前开工184个，已开工171个。",
)


def a_brief(folder: Path, fingerprint: str) -> Brief:
    folder.mkdir(parents=True, exist_ok=True)
    pdf = folder / "brief.pdf"
    pdf.write_bytes(b"%PDF-1.4\n% the brief\n%%EOF\n")
    return Brief(
        month=JULY,
        title="扬州市2022年1-7月城乡建设运行简报",
        folder=folder,
        index=folder / "index.html",
        pdf=pdf,
        certified=True,
        fingerprint=fingerprint,
        headlines=HEADLINES,
    )


def leaders() -> Audience:
    return Audience.model_validate(
        {
            "code": "leaders",
            "name": "市领导月度简报名单",
            "contacts": [
                {"name": "分管副市长办公室", "email": "fgfsz@city.example.org"},
                {"name": "市政府办公室", "email": "zhyc@city.example.org"},
            ],
            "alerts": [
                {"channel": "email", "to": ["contacts"]},
                {"channel": "wecom", "name": "城乡建设调度专班群", "secret_env": "CITYDW_ALERT_TEST_LEADERS"},
            ],
        }
    )


def sent_rows(db: psycopg.Connection) -> list[tuple]:
    return db.execute(
        "select problem_key, department, report_month, channel, recipient, subject, status "
        "from meta.alerts order by alert_id"
    ).fetchall()


def test_the_brief_goes_once_per_figures_and_again_after_a_correction(
    db, tmp_path, smtp_inbox, make_settings, httpserver: HTTPServer, monkeypatch, fake_key
):
    monkeypatch.setattr(NotifyWeComBot, "notify_url", httpserver.url_for("/cgi-bin/webhook/send") + "?key={key}")
    key = fake_key()
    httpserver.expect_request("/cgi-bin/webhook/send", query_string={"key": key}).respond_with_json(
        {"errcode": 0, "errmsg": "ok"}
    )
    settings = make_settings(alert_secrets={"CITYDW_ALERT_TEST_LEADERS": key})
    brief = a_brief(tmp_path / "brief", "a" * 64)

    first = deliver_brief(db, brief, audience=leaders(), settings=settings)

    assert [(a.channel, a.recipient, a.status) for a in first] == [
        ("email", "fgfsz@city.example.org", "sent"),
        ("email", "zhyc@city.example.org", "sent"),
        ("wecom", "城乡建设调度专班群", "sent"),
    ]
    assert {tuple(mail.envelope_to) for mail in smtp_inbox.mails} == {
        ("fgfsz@city.example.org",),
        ("zhyc@city.example.org",),
    }
    mail = smtp_inbox.mails[0]
    assert mail.header("Subject") == "《扬州市2022年1-7月城乡建设运行简报》（正式数）"
    parts = list(mail.message.walk())
    attachments = [part for part in parts if part.get_filename()]
    assert [part.get_filename() for part in attachments] == ["brief.pdf"]
    assert attachments[0].get_payload(decode=True) == brief.pdf.read_bytes()
    text = next(part for part in parts if part.get_content_type() == "text/plain" and not part.get_filename())
    assert HEADLINES[0] in text.get_payload(decode=True).decode(text.get_content_charset() or "utf-8")
    ((request, _),) = httpserver.log
    chat = request.get_json()["text"]["content"]
    assert f"1. {HEADLINES[0]}" in chat and f"2. {HEADLINES[1]}" in chat
    assert len(sent_rows(db)) == 3

    # The same figures again (a rebuild, the DAG re-run): nothing goes out.
    assert deliver_brief(db, brief, audience=leaders(), settings=settings) == []
    assert len(smtp_inbox.mails) == 2 and len(httpserver.log) == 1

    # A correction changed a figure: the brief goes again, marked as an update.
    corrected = a_brief(tmp_path / "brief-corrected", "b" * 64)
    again = deliver_brief(db, corrected, audience=leaders(), settings=settings)
    assert [a.status for a in again] == ["sent", "sent", "sent"]
    assert smtp_inbox.mails[-1].header("Subject") == "《扬州市2022年1-7月城乡建设运行简报》（正式数，数据更正后重发）"
    rows = sent_rows(db)
    assert [row[0] for row in rows] == ["brief:" + "a" * 32] * 3 + ["brief:" + "b" * 32] * 3
    assert {row[1:3] for row in rows} == {("leaders", JULY)}
    assert key not in str(rows)


def test_without_a_mail_server_the_attempt_is_recorded_as_failed_and_retried(db, tmp_path, make_settings):
    settings = make_settings(smtp_host=None)
    audience = Audience.model_validate(
        {"code": "leaders", "name": "名单", "contacts": [{"name": "甲", "email": "jia@city.example.org"}],
         "alerts": [{"channel": "email", "to": ["contacts"]}]}
    )  # fmt: skip
    brief = a_brief(tmp_path / "brief", "c" * 64)
    (failed,) = deliver_brief(db, brief, audience=audience, settings=settings)
    assert failed.status == "failed" and "CITYDW_SMTP_HOST" in failed.error
    (retried,) = deliver_brief(db, brief, audience=audience, settings=settings)
    assert retried.status == "failed"  # a failed attempt does not count as sent


def test_the_configured_leaders_list_loads():
    audience = load_audience("leaders")
    assert audience.code == "leaders"
    assert any(route.channel == "email" for route in audience.alerts)
    assert all(contact.email for contact in audience.contacts)


def test_the_chat_text_fits_a_wecom_robot(tmp_path):
    from citydw.brief.delivery import CHAT_MAX_BYTES, CHAT_MORE, chat_text

    brief = a_brief(tmp_path, "d" * 64)
    assert chat_text(brief, CHAT_MAX_BYTES) == f"1. {HEADLINES[0]}\n2. {HEADLINES[1]}"
    long = Brief(**{**brief.__dict__, "headlines": tuple(f"第{n}节：" + "数" * 200 + "。" for n in range(1, 8))})
    text = chat_text(long, CHAT_MAX_BYTES)
    assert len(text.encode()) <= CHAT_MAX_BYTES
    assert text.startswith("1. 第1节") and text.endswith(CHAT_MORE)
