"""Real receivers for alert tests: an SMTP server (aiosmtpd) on localhost that keeps
what it receives, and settings that point citydw at it. HTTP receivers are
pytest-httpserver's ``httpserver``. Every key and password here is generated
per test and fake."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.header import decode_header, make_header
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from citydw.registry import Department
from citydw.settings import Settings

SENDER = "citydw-alerts@city.example.org"


@dataclass
class Mail:
    """One message as the SMTP server received it."""

    envelope_to: list[str]
    message: Message

    def header(self, name: str) -> str:
        """The header decoded from its RFC 2047 encoded words."""
        return str(make_header(decode_header(self.message[name])))

    @property
    def text(self) -> str:
        assert not self.message.is_multipart(), self.message.get_content_type()
        payload = self.message.get_payload(decode=True)
        assert isinstance(payload, bytes)
        return payload.decode(self.message.get_content_charset() or "ascii")


@dataclass
class SmtpInbox:
    host: str
    port: int
    mails: list[Mail] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)

    # aiosmtpd handler hook
    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd calls it by this name
        self.mails.append(Mail(list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        self.logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=True)


@pytest.fixture
def smtp_inbox(free_port: Callable[[], int]) -> Iterator[SmtpInbox]:
    """A real SMTP server on 127.0.0.1: plain SMTP, AUTH offered but not required."""
    inbox = SmtpInbox("127.0.0.1", free_port())
    controller = Controller(
        inbox,
        hostname=inbox.host,
        port=inbox.port,
        authenticator=inbox.authenticate,
        auth_require_tls=False,
        auth_required=False,
    )
    controller.start()
    yield inbox
    controller.stop()


@pytest.fixture
def make_settings(smtp_inbox: SmtpInbox) -> Callable[..., Settings]:
    """Settings that send e-mail to ``smtp_inbox``; keyword arguments override or add fields."""

    def make(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "smtp_host": smtp_inbox.host,
            "smtp_port": smtp_inbox.port,
            "smtp_security": "none",
            "smtp_from": SENDER,
            "alert_secrets": {},
            "alert_data_team_urls": None,
            "alert_data_team_emails": (),
        }
        values.update(overrides)
        return Settings(**values)  # type: ignore[arg-type]

    return make


@pytest.fixture
def fake_key() -> Callable[[], str]:
    """Call it for a fresh, obviously fake robot key (letters and digits, as robot keys are)."""
    return lambda: f"fake{secrets.token_hex(10)}"


@pytest.fixture
def make_department() -> Callable[..., Department]:
    """A test department from ``contacts`` and ``alerts`` as the registry YAML writes them."""

    def make(**contacts_and_alerts: object) -> Department:
        return Department.model_validate(
            {
                "code": "drc",
                "name": "市发展和改革委员会",
                "name_en": "Development and Reform Commission",
                "datasets": [],
                **contacts_and_alerts,
            }
        )

    return make
