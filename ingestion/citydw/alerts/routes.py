"""Where an alert goes: a department's alert routes and the data team's, made concrete.

A :class:`Route` is one recipient on one channel, which is also the unit
``meta.alerts`` records and de-duplicates. Its ``recipient`` is safe to store
and show (an e-mail address or a route's name); the Apprise URL with the
secret in it is built only at the moment of sending, by :func:`apprise_url`,
so a key rotated in the environment or in Airflow is picked up by the next
alert and no secret is held longer than one send.

Where secrets come from, in order:

- SMTP: ``CITYDW_SMTP_*`` settings (the password from ``CITYDW_SMTP_PASSWORD``);
- a registry route's ``secret_env`` (a ``CITYDW_ALERT_…`` variable), else its
  ``airflow_conn_id`` (the connection's password, else ``extra.url``), asked
  of Airflow only then, so commands outside Airflow never import it;
- the data team: ``CITYDW_ALERT_DATA_TEAM_URLS`` (Apprise URLs) and
  ``CITYDW_ALERT_DATA_TEAM_EMAILS`` (addresses, through the SMTP server).

A value may be a bare key (WeCom bot key, DingTalk access token, Slack
``T…/B…/X…`` webhook path) or a whole Apprise URL (``wecombot://…``,
``dingtalk://SECRET@TOKEN/`` for signed robots, ``jsons://host/path``); a
webhook route also takes a plain ``https://`` URL and posts Apprise's JSON
(``{"version", "title", "message", "type"}``) to it.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from pydantic import SecretStr

from citydw.registry import Audience, Department
from citydw.settings import Settings

log = logging.getLogger(__name__)

# Apprise schema of each chat channel when a route's secret is a bare key.
_KEY_SCHEMAS = {"wecom": "wecombot", "dingtalk": "dingtalk", "slack": "slack"}
# Channel recorded for a data-team URL, by its Apprise schema; other schemas are recorded as themselves.
_SCHEMA_CHANNELS = {
    "mailto": "email",
    "mailtos": "email",
    "wecombot": "wecom",
    "dingtalk": "dingtalk",
    "slack": "slack",
    "json": "webhook",
    "jsons": "webhook",
}
_SMTP_MODES = {"starttls": "starttls", "ssl": "ssl", "none": "insecure"}
DATA_TEAM_URLS_VARIABLE = "CITYDW_ALERT_DATA_TEAM_URLS"


class AlertConfigError(ValueError):
    """A route cannot be sent on as configured; the message says which setting to fix."""


@dataclass(frozen=True)
class Route:
    """One recipient on one channel.

    Exactly one of ``address`` (e-mail through the SMTP server), a secret
    reference (``secret_env`` / ``airflow_conn_id``) or ``url`` (an Apprise URL
    taken from settings) says how to reach it.
    """

    channel: str
    recipient: str
    address: str | None = None
    secret_env: str | None = None
    airflow_conn_id: str | None = None
    url: SecretStr | None = field(default=None, repr=False)

    @property
    def source(self) -> str:
        """Where this route's secret comes from, in words an operator can act on (never the secret)."""
        if self.address:
            return "CITYDW_SMTP_* settings"
        if self.url is not None:
            return DATA_TEAM_URLS_VARIABLE
        connection = f"Airflow connection {self.airflow_conn_id}" if self.airflow_conn_id else None
        return " or ".join(name for name in (self.secret_env, connection) if name)


def department_routes(department: Department | Audience) -> list[Route]:
    """The department's (or a recipient list's) alert routes from its registry file, one per recipient.

    ``to: [contacts]`` means every contact with an e-mail address; a name must
    be one of the department's contacts and have an address.
    """
    routes: list[Route] = []
    for config in department.alerts:
        if config.channel == "email":
            for address in _addresses(department, config.to):
                routes.append(Route(channel="email", recipient=address, address=address))
        else:
            routes.append(
                Route(
                    channel=config.channel,
                    recipient=config.name or config.secret_env or str(config.airflow_conn_id),
                    secret_env=config.secret_env,
                    airflow_conn_id=config.airflow_conn_id,
                )
            )
    return _unique(routes)


def data_team_routes(settings: Settings) -> list[Route]:
    """The data team's routes: each URL of ``CITYDW_ALERT_DATA_TEAM_URLS`` and each
    address of ``CITYDW_ALERT_DATA_TEAM_EMAILS``.

    A URL's recipient is ``data-team:<schema>:<hash>``, the hash of the whole
    URL, so two Slack webhooks stay two recipients and no part of a token is
    stored.
    """
    from apprise.utils.parse import parse_urls

    routes = [Route(channel="email", recipient=address, address=address) for address in settings.alert_data_team_emails]
    if settings.alert_data_team_urls is not None:
        for url in parse_urls(settings.alert_data_team_urls.get_secret_value()):
            schema = url.split("://", 1)[0].lower() if "://" in url else ""
            if not schema:
                raise AlertConfigError(
                    f"{DATA_TEAM_URLS_VARIABLE} holds a value that is not an Apprise URL (schema://…); "
                    "separate URLs with commas or spaces"
                )
            digest = hashlib.sha256(url.encode()).hexdigest()[:10]
            channel = _SCHEMA_CHANNELS.get(schema, schema)
            routes.append(Route(channel=channel, recipient=f"data-team:{schema}:{digest}", url=SecretStr(url)))
    return _unique(routes)


def apprise_url(route: Route, settings: Settings) -> str:
    """The Apprise URL for ``route``, secret included: build it just before sending, never store it."""
    if route.address:
        return smtp_url(settings, route.address)
    if route.url is not None:
        return route.url.get_secret_value()
    value = _route_secret(route, settings)
    if "://" in value:
        if route.channel == "webhook" and value.split("://", 1)[0].lower() in ("http", "https"):
            return json_webhook_url(value)
        return value
    if route.channel == "webhook":
        raise AlertConfigError(
            f"webhook route {route.recipient}: {route.source} must hold a URL (https://…, jsons://…), not a bare key"
        )
    return f"{_KEY_SCHEMAS[route.channel]}://{value.strip('/')}/"


def json_webhook_url(url: str) -> str:
    """Apprise's JSON webhook URL for a plain ``http(s)://`` endpoint: ``json://`` is http,
    ``jsons://`` https, and the endpoint's query parameters (often its token) become
    Apprise's ``-name=value`` parameters, which it sends back on the query string."""
    parts = urlsplit(url)
    schema = "jsons" if parts.scheme.lower() == "https" else "json"
    query = urlencode([(f"-{name}", value) for name, value in parse_qsl(parts.query, keep_blank_values=True)])
    return f"{schema}://{parts.netloc}{parts.path or '/'}" + (f"?{query}" if query else "")


def smtp_url(settings: Settings, to: str) -> str:
    """``mailto://`` / ``mailtos://`` URL sending plain-text mail to ``to`` through the configured server."""
    if not settings.smtp_host or not settings.smtp_from:
        raise AlertConfigError(
            "e-mail alerts need CITYDW_SMTP_HOST and CITYDW_SMTP_FROM (and as needed CITYDW_SMTP_PORT, "
            "CITYDW_SMTP_SECURITY=starttls|ssl|none, CITYDW_SMTP_USER, CITYDW_SMTP_PASSWORD)"
        )
    schema = "mailto" if settings.smtp_security == "none" else "mailtos"
    login = ""
    if settings.smtp_user:
        login = quote(settings.smtp_user, safe="")
        if settings.smtp_password is not None:
            login += ":" + quote(settings.smtp_password.get_secret_value(), safe="")
        login += "@"
    port = f":{settings.smtp_port}" if settings.smtp_port else ""
    query = urlencode(
        {
            "smtp": settings.smtp_host,
            "from": settings.smtp_from,
            "to": to,
            "mode": _SMTP_MODES[settings.smtp_security],
            "format": "text",
        },
        quote_via=quote,
        safe="@",
    )
    return f"{schema}://{login}{quote(settings.smtp_host, safe='')}{port}/?{query}"


def secrets_of(route: Route, settings: Settings) -> list[str]:
    """Every secret value that may appear in the route's URL: what error messages must not show."""
    found = [settings.smtp_password.get_secret_value()] if route.address and settings.smtp_password else []
    if route.url is not None:
        found.append(route.url.get_secret_value())
    if route.secret_env and route.secret_env in settings.alert_secrets:
        found.append(settings.alert_secrets[route.secret_env].get_secret_value())
    return [secret for secret in found if secret]


def _route_secret(route: Route, settings: Settings) -> str:
    if route.secret_env:
        secret = settings.alert_secrets.get(route.secret_env)
        if secret is not None:
            return secret.get_secret_value()
    problem = None
    if route.airflow_conn_id:
        connection, problem = _airflow_connection(route.airflow_conn_id)
        if connection is not None:
            extra = connection.extra_dejson or {}
            value = connection.password or extra.get("url") or extra.get("key")
            if value:
                return str(value).strip()
            problem = "it has neither a password nor extra.url"
    unset = [f"{route.secret_env} is not set" if route.secret_env else None]
    if route.airflow_conn_id:
        unset.append(f"Airflow connection {route.airflow_conn_id} gave nothing" + (f" ({problem})" if problem else ""))
    raise AlertConfigError(
        f"{route.channel} route {route.recipient}: no key or URL: {'; '.join(u for u in unset if u)}. "
        "Put the bot key or Apprise URL in the variable or the connection's password."
    )


def _airflow_connection(conn_id: str) -> tuple[Any, str | None]:
    """The Airflow connection, or None and why not; Airflow is imported only here."""
    try:
        from airflow.sdk import BaseHook
    except ImportError:
        return None, "Airflow is not installed"
    try:
        return BaseHook.get_connection(conn_id), None
    except Exception as error:  # not defined, no secrets backend, not inside a task …
        log.debug("Airflow connection %s not available", conn_id, exc_info=True)
        if type(error).__name__ == "AirflowNotFoundException":
            return None, "not defined"
        return None, f"{type(error).__name__}: {error}"


def _addresses(department: Department | Audience, wanted: tuple[str, ...]) -> list[str]:
    by_name = {contact.name: contact for contact in department.contacts}
    addresses: list[str] = []
    for entry in wanted:
        if entry == "contacts":
            addresses += [contact.email for contact in department.contacts if contact.email]
        elif "@" in entry:
            addresses.append(entry)
        elif entry in by_name and by_name[entry].email:
            addresses.append(str(by_name[entry].email))
        else:
            known = ", ".join(f"{c.name} ({c.email or 'no e-mail'})" for c in department.contacts) or "none"
            raise AlertConfigError(
                f"registry {department.code}: alert route to {entry!r} is not a contact with an e-mail "
                f"address nor an address; contacts: {known}"
            )
    return addresses


def _unique(routes: list[Route]) -> list[Route]:
    seen: set[tuple[str, str]] = set()
    unique = []
    for route in routes:
        if (route.channel, route.recipient) not in seen:
            seen.add((route.channel, route.recipient))
            unique.append(route)
    return unique
