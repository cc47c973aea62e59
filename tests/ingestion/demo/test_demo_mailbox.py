"""The demo's e-mail alerts reach a real local SMTP server and are kept as files."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from citydw.demo.run import demo_mailbox
from citydw.settings import get_settings


def test_mail_sent_during_the_demo_lands_in_the_demo_mail_folder(citydw_home, monkeypatch):
    monkeypatch.delenv("CITYDW_SMTP_HOST", raising=False)
    get_settings.cache_clear()
    with demo_mailbox(get_settings()) as folder:
        settings = get_settings()
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = (
            settings.smtp_from,
            "wangjianguo@drc.demo-city.gov.cn",
            "请更正报表",
        )
        message.set_content("第8行“所在地区”列：所在地区须为本市所辖区县")
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port) as smtp:
            smtp.send_message(message)

    [saved] = list(folder.glob("*.eml"))
    assert "wangjianguo@drc.demo-city.gov.cn" in saved.read_text(errors="replace")
    assert get_settings().smtp_host is None  # the demo's server is gone with the block
