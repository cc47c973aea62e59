"""Why citydw.alerts.robots exists, against a local WeCom/DingTalk-style receiver.

The canaries assert Apprise 2.3's own behaviour; when one fails, Apprise has
fixed it and the matching override in robots.py can go.
"""

from __future__ import annotations

import apprise
from apprise.plugins.dingtalk import NotifyDingTalk
from apprise.plugins.wecombot import NotifyWeComBot
from pytest_httpserver import HTTPServer

from citydw.alerts.robots import CheckedDingTalk, CheckedWeComBot, checked_robot

ASSET = apprise.AppriseAsset(storage_mode="memory")


def _notify(plugin_or_url) -> bool:
    notifier = apprise.Apprise(asset=ASSET)
    assert notifier.add(plugin_or_url)
    return bool(notifier.notify(body="正文", title="标题"))


def test_canary_apprise_takes_a_wecom_refusal_for_success(httpserver: HTTPServer, monkeypatch, fake_key):
    monkeypatch.setattr(NotifyWeComBot, "notify_url", httpserver.url_for("/cgi-bin/webhook/send") + "?key={key}")
    httpserver.expect_request("/cgi-bin/webhook/send").respond_with_json(
        {"errcode": 93000, "errmsg": "invalid webhook url"}
    )
    key = fake_key()

    assert _notify(f"wecombot://{key}/") is True  # Apprise: "sent"
    assert _notify(checked_robot(f"wecombot://{key}/", ASSET)) is False  # citydw: refused


def test_canary_apprise_encodes_the_dingtalk_signature_twice(httpserver: HTTPServer, monkeypatch, fake_key):
    monkeypatch.setattr(NotifyDingTalk, "notify_url", httpserver.url_for("/robot/send") + "?access_token={token}")
    httpserver.expect_request("/robot/send").respond_with_json({"errcode": 0, "errmsg": "ok"})
    url = f"dingtalk://SEC{fake_key()}@{fake_key()}/"

    _notify(url)
    _notify(checked_robot(url, ASSET))

    (stock, _), (checked, _) = httpserver.log
    # Decoded once, as a server does, the signature must be plain base64 (no %xx left).
    assert "%" in stock.args["sign"]
    assert "%" not in checked.args["sign"]


def test_checked_robots_are_picked_by_schema_only(fake_key):
    assert isinstance(checked_robot(f"wecombot://{fake_key()}/", ASSET), CheckedWeComBot)
    assert isinstance(checked_robot(f"dingtalk://{fake_key()}/", ASSET), CheckedDingTalk)
    assert checked_robot("json://127.0.0.1/hook", ASSET) is None
    assert checked_robot("slack://T1/B2/C3/", ASSET) is None


def test_a_malformed_robot_url_is_an_error_without_the_key():
    try:
        checked_robot("wecombot://not a key!/", ASSET)
    except ValueError as error:
        assert "not a key" not in str(error)
        assert "wecombot://" in str(error)
    else:
        raise AssertionError("a malformed key must be refused")


def test_a_robot_answering_something_else_than_json_has_failed(httpserver: HTTPServer, monkeypatch, fake_key):
    monkeypatch.setattr(NotifyWeComBot, "notify_url", httpserver.url_for("/cgi-bin/webhook/send") + "?key={key}")
    httpserver.expect_request("/cgi-bin/webhook/send").respond_with_data("<html>portal login</html>")

    assert _notify(checked_robot(f"wecombot://{fake_key()}/", ASSET)) is False
