"""Alert routes: the registry's format, who a route reaches, and the Apprise URL each becomes.

Every URL built here is also accepted by Apprise itself; the channels are
sent on against real receivers in test_send.py.
"""

from __future__ import annotations

import json

import apprise
import pytest
from pydantic import ValidationError

from citydw.alerts.routes import (
    AlertConfigError,
    Route,
    apprise_url,
    data_team_routes,
    department_routes,
    json_webhook_url,
    smtp_url,
)
from citydw.registry import AlertRoute, load_registry
from citydw.settings import Settings


@pytest.mark.parametrize(
    ("route", "message"),
    [
        ({"channel": "email"}, "needs `to`"),
        ({"channel": "email", "to": ["contacts"], "secret_env": "CITYDW_ALERT_X"}, "takes no secret"),
        ({"channel": "wecom"}, "needs secret_env"),
        ({"channel": "wecom", "to": ["contacts"], "secret_env": "CITYDW_ALERT_X"}, "has no `to`"),
        ({"channel": "wecom", "secret_env": "DRC_WECOM_KEY"}, "CITYDW_ALERT_"),
        ({"channel": "sms", "to": ["contacts"]}, "email"),
    ],
)
def test_a_route_that_does_not_say_where_it_goes_is_refused(route, message):
    with pytest.raises(ValidationError, match=message):
        AlertRoute.model_validate(route)


def test_email_routes_expand_to_one_route_per_address(make_department):
    department = make_department(
        contacts=[
            {"name": "王建国", "email": "wang@drc.city.example.org"},
            {"name": "赵强", "phone": "0514-0000000"},
        ],
        alerts=[
            {"channel": "email", "to": ["contacts", "王建国", "office@drc.city.example.org"]},
            {"channel": "dingtalk", "airflow_conn_id": "citydw_alert_drc_dingtalk"},
        ],
    )

    routes = department_routes(department)

    assert [(r.channel, r.recipient) for r in routes] == [
        ("email", "wang@drc.city.example.org"),  # named twice, one route
        ("email", "office@drc.city.example.org"),
        ("dingtalk", "citydw_alert_drc_dingtalk"),  # no name: the reference is the recipient
    ]


def test_an_email_route_to_someone_without_an_address_says_who_is_known(make_department):
    department = make_department(
        contacts=[{"name": "赵强", "phone": "0514-0000000"}], alerts=[{"channel": "email", "to": ["赵强"]}]
    )
    with pytest.raises(AlertConfigError, match=r"'赵强'.*赵强 \(no e-mail\)"):
        department_routes(department)


def test_the_registry_routes_of_drc_resolve():
    routes = department_routes(load_registry().department("drc"))

    assert [route.channel for route in routes] == ["email", "wecom"]
    assert routes[1].secret_env == "CITYDW_ALERT_DRC_WECOM"
    assert routes[1].airflow_conn_id == "citydw_alert_drc_wecom"


def _accepted_by_apprise(url: str) -> apprise.plugins.NotifyBase:
    plugin = apprise.Apprise.instantiate(url)
    assert plugin, "Apprise refused the URL"
    return plugin


@pytest.mark.parametrize(
    ("channel", "secret", "expected", "service"),
    [
        ("wecom", "{key}", "wecombot://{key}/", "WeCom Bot"),
        ("dingtalk", "{key}", "dingtalk://{key}/", "DingTalk"),
        ("dingtalk", "dingtalk://SEC{key}@{key}/", "dingtalk://SEC{key}@{key}/", "DingTalk"),
        ("slack", "T{key}/B{key}/{key}", "slack://T{key}/B{key}/{key}/", "Slack"),
        (
            "webhook",
            "https://hooks.city.example.org/alert?token={key}",
            "jsons://hooks.city.example.org/alert?-token={key}",
            "JSON",
        ),
        ("webhook", "jsons://hooks.city.example.org/alert", "jsons://hooks.city.example.org/alert", "JSON"),
    ],
)
def test_a_key_or_url_becomes_the_apprise_url_of_its_channel(channel, secret, expected, service, fake_key):
    key = fake_key()
    settings = Settings(alert_secrets={"CITYDW_ALERT_TEST": secret.format(key=key)})
    route = Route(channel=channel, recipient="群", secret_env="CITYDW_ALERT_TEST")

    url = apprise_url(route, settings)

    assert url == expected.format(key=key)
    assert _accepted_by_apprise(url).service_name == service


def test_a_webhook_needs_a_url_not_a_bare_key(fake_key):
    settings = Settings(alert_secrets={"CITYDW_ALERT_TEST": fake_key()})
    with pytest.raises(AlertConfigError, match="must hold a URL"):
        apprise_url(Route(channel="webhook", recipient="平台", secret_env="CITYDW_ALERT_TEST"), settings)


def test_the_airflow_connection_is_asked_when_the_variable_is_unset(monkeypatch, fake_key):
    key = fake_key()
    monkeypatch.setenv("AIRFLOW_CONN_CITYDW_ALERT_TEST_WECOM", json.dumps({"conn_type": "generic", "password": key}))
    route = Route(
        channel="wecom", recipient="群", secret_env="CITYDW_ALERT_TEST_WECOM", airflow_conn_id="citydw_alert_test_wecom"
    )

    assert apprise_url(route, Settings(alert_secrets={})) == f"wecombot://{key}/"
    # The variable, when set, wins.
    other = fake_key()
    assert apprise_url(route, Settings(alert_secrets={"CITYDW_ALERT_TEST_WECOM": other})) == f"wecombot://{other}/"


def test_no_variable_and_no_connection_says_what_to_set():
    route = Route(channel="wecom", recipient="群", secret_env="CITYDW_ALERT_NOPE", airflow_conn_id="citydw_alert_nope")
    with pytest.raises(AlertConfigError) as caught:
        apprise_url(route, Settings(alert_secrets={}))
    assert "CITYDW_ALERT_NOPE is not set" in str(caught.value)
    assert "Airflow connection citydw_alert_nope" in str(caught.value)


def test_the_smtp_url_carries_the_settings_with_the_password_escaped(fake_key):
    password = f"p@ss:/{fake_key()}#%?&"
    settings = Settings(
        smtp_host="smtp.city.example.org",
        smtp_port=2525,
        smtp_security="starttls",
        smtp_user="citydw-alerts@city.example.org",
        smtp_password=password,
        smtp_from="城建数据 <citydw-alerts@city.example.org>",
    )

    url = smtp_url(settings, "wang@drc.city.example.org")

    assert url.startswith("mailtos://")
    email = _accepted_by_apprise(url)
    assert (email.smtp_host, email.port, email.secure_mode) == ("smtp.city.example.org", 2525, "starttls")
    assert (email.user, email.password) == ("citydw-alerts@city.example.org", password)
    assert [address for _, address in email.targets] == ["wang@drc.city.example.org"]
    assert email.from_addr == ("城建数据", "citydw-alerts@city.example.org")


@pytest.mark.parametrize(("security", "schema", "mode"), [("ssl", "mailtos", "ssl"), ("none", "mailto", "insecure")])
def test_the_smtp_security_setting_picks_the_mode(security, schema, mode):
    settings = Settings(smtp_host="smtp.city.example.org", smtp_from="citydw@city.example.org", smtp_security=security)
    url = smtp_url(settings, "wang@drc.city.example.org")
    assert url.startswith(f"{schema}://")
    assert _accepted_by_apprise(url).secure_mode == mode


def test_email_without_an_smtp_server_says_which_settings_to_set():
    with pytest.raises(AlertConfigError, match="CITYDW_SMTP_HOST"):
        smtp_url(Settings(smtp_host=None, smtp_from=None), "wang@drc.city.example.org")


def test_data_team_settings_from_the_environment(monkeypatch, fake_key):
    token = fake_key()
    monkeypatch.setenv("CITYDW_ALERT_DATA_TEAM_EMAILS", "ops@city.example.org, dba@city.example.org")
    monkeypatch.setenv(
        "CITYDW_ALERT_DATA_TEAM_URLS", f"jsons://hooks.city.example.org/a?-token={token},slack://T1/B2/{token}/"
    )
    monkeypatch.setenv("CITYDW_ALERT_DRC_WECOM", token)

    settings = Settings()
    routes = data_team_routes(settings)

    assert [(r.channel, r.recipient.split(":")[:2]) for r in routes] == [
        ("email", ["ops@city.example.org"]),
        ("email", ["dba@city.example.org"]),
        ("webhook", ["data-team", "jsons"]),
        ("slack", ["data-team", "slack"]),
    ]
    assert all(token not in route.recipient and token not in repr(route) for route in routes)
    # Registry routes' secrets are every other CITYDW_ALERT_ variable.
    assert set(settings.alert_secrets) >= {"CITYDW_ALERT_DRC_WECOM"}
    assert "CITYDW_ALERT_DATA_TEAM_URLS" not in settings.alert_secrets


def test_a_plain_https_webhook_keeps_its_query_as_get_parameters():
    url = json_webhook_url("https://user:pw@hooks.city.example.org:8443/api/notify?token=a%2Fb&x=")
    assert url == "jsons://user:pw@hooks.city.example.org:8443/api/notify?-token=a%2Fb&-x="
    assert _accepted_by_apprise(url).params == {"token": "a/b", "x": ""}
