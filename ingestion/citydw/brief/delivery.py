"""Sending the brief to the leaders' list: e-mail with the PDF, chat with the headline sentences.

The list is ``registry/recipients/leaders.yaml`` (contacts and alert routes,
as a department's). Sending goes through :func:`citydw.alerts.send.send_alert`,
so every attempt is a row of ``meta.alerts`` and nothing is sent twice to the
same recipient for the same key. The key is ``brief:<figures fingerprint>``:
a rebuilt brief whose figures did not change (the same data again, a
correction of something the brief does not show) sends nothing; a
correction that changes any figure makes a new key, and the brief goes
out again, marked as an update.
"""

from __future__ import annotations

import psycopg

from citydw.alerts.routes import department_routes
from citydw.alerts.send import SentAlert, send_alert
from citydw.brief.render import Brief
from citydw.registry import Audience, load_audience
from citydw.settings import Settings, get_settings

LEADERS = "leaders"
PROBLEM_PREFIX = "brief:"


def problem_key(brief: Brief) -> str:
    return f"{PROBLEM_PREFIX}{brief.fingerprint[:32]}"


def subject(brief: Brief, *, update: bool) -> str:
    state = "正式数" if brief.certified else "初步数"
    return f"《{brief.title}》（{state}{'，数据更正后重发' if update else ''}）"


# WeCom group robots take at most 2048 bytes of text (UTF-8): Chinese is 3 bytes a character.
CHAT_MAX_BYTES = 2000
CHAT_MORE = "……（简报全文已发送邮件）"


def chat_text(brief: Brief, budget: int | None = None) -> str:
    """The headline of every section, numbered, as many as fit in ``budget`` bytes (all when None)."""
    lines: list[str] = []
    for index, headline in enumerate(brief.headlines, start=1):
        line = f"{index}. {headline}"
        if budget is not None and len("\n".join([*lines, line, CHAT_MORE]).encode()) > budget:
            return "\n".join([*lines, CHAT_MORE])
        lines.append(line)
    return "\n".join(lines)


def mail_text(brief: Brief, audience: Audience) -> str:
    state = "正式数" if brief.certified else "初步数（未确认，以正式数为准）"
    return (
        f"{audience.name}：\n\n《{brief.title}》已生成（{state}），全文见附件 PDF。本月要点：\n\n"
        f"{chat_text(brief)}\n\n— citydw 城乡建设数据中心"
    )


def deliver_brief(
    conn: psycopg.Connection,
    brief: Brief,
    *,
    audience: Audience | None = None,
    settings: Settings | None = None,
) -> list[SentAlert]:
    """Send ``brief`` to every route of the list that has not had these figures; return the attempts."""
    settings = settings or get_settings()
    audience = audience or load_audience(LEADERS, settings.registry_path)
    if brief.pdf is None:
        raise ValueError("the brief goes out with its PDF: make it with with_pdf=True")
    key = problem_key(brief)
    update = _sent_before(conn, brief, audience)
    routes = department_routes(audience)
    title = subject(brief, update=update)
    mail = [route for route in routes if route.channel == "email"]
    chat = [route for route in routes if route.channel != "email"]
    attempts = []
    for body, channel_routes, attachments in (
        (mail_text(brief, audience), mail, [brief.pdf]),
        (f"{title}\n{chat_text(brief, CHAT_MAX_BYTES - len(title.encode()) - 1)}", chat, []),
    ):
        attempts += send_alert(
            conn,
            problem_key=key,
            department=audience.code,
            dataset=None,
            report_month=brief.month,
            subject=title,
            body=body,
            routes=channel_routes,
            settings=settings,
            attachments=attachments,
        )
    return attempts


def _sent_before(conn: psycopg.Connection, brief: Brief, audience: Audience) -> bool:
    """Whether a brief with other figures already went out for this month (this one is then an update)."""
    row = conn.execute(
        """
        select exists (
            select 1 from meta.alerts
            where department = %s and report_month = %s and status = 'sent'
              and problem_key like 'brief:%%' and problem_key <> %s
        )
        """,
        (audience.code, brief.month, problem_key(brief)),
    ).fetchone()
    return bool(row and row[0])
