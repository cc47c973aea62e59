"""WeCom and DingTalk group robots that read the robot's answer, not just the HTTP status.

Both robots answer HTTP 200 with a JSON ``errcode``: 0 when the message was
posted, otherwise why not (93000 invalid key, 310000 signature, keyword or
IP not allowed, 45009 / 130101 rate limited). Apprise 2.3's ``wecombot`` and
``dingtalk`` plugins look only at the HTTP status, so a revoked key would be
recorded as *sent* in ``meta.alerts`` and, alerts being once per problem and
month, never retried. These subclasses keep Apprise's URL parsing, title
handling and throttling and replace only the request and its check.

DingTalk's signature (``dingtalk://SECRET@TOKEN/``) is also put in the query
string encoded once, as DingTalk requires; Apprise 2.3 passes the already
encoded signature through ``requests`` ``params``, which encodes it again.

``tests/ingestion/alerts/test_robots.py`` holds canaries that fail once
Apprise checks ``errcode`` itself, when these classes can go.
"""

from __future__ import annotations

import json
from typing import Any

import requests
from apprise import AppriseAsset
from apprise.plugins.dingtalk import NotifyDingTalk
from apprise.plugins.wecombot import NotifyWeComBot

_HEADERS = {"Content-Type": "application/json; charset=utf-8"}


class CheckedWeComBot(NotifyWeComBot):
    """``wecombot://KEY`` that fails unless WeCom answers ``errcode: 0``."""

    def send(self, body: str, title: str = "", notify_type: Any = None, **kwargs: Any) -> bool:
        # title_maxlen is 0: Apprise has already put the title on the body's first line.
        return _post(self, "WeCom Bot", self.api_url, {"msgtype": "text", "text": {"content": body}})


class CheckedDingTalk(NotifyDingTalk):
    """``dingtalk://TOKEN/`` or ``dingtalk://SECRET@TOKEN/`` that fails unless DingTalk answers ``errcode: 0``."""

    def send(  # type: ignore[override]  # body_format is taken and ignored: always plain text
        self, body: str, title: str = "", notify_type: Any = None, **kwargs: Any
    ) -> bool:
        payload = {
            "msgtype": "text",
            "at": {"atMobiles": self.targets, "isAtAll": False},
            "text": {"content": f"{title}\n{body}" if title else body},
        }
        url = self.notify_url.format(token=self.token)
        if self.secret:
            timestamp, signature = self.get_signature()  # signature comes URL-encoded once
            url += f"&timestamp={timestamp}&sign={signature}"
        return _post(self, "DingTalk", url, payload)


_CHECKED: dict[str, type[CheckedWeComBot] | type[CheckedDingTalk]] = {
    "wecombot": CheckedWeComBot,
    "dingtalk": CheckedDingTalk,
}


def checked_robot(url: str, asset: AppriseAsset) -> NotifyWeComBot | NotifyDingTalk | None:
    """The checked plugin for a ``wecombot://`` or ``dingtalk://`` URL; None for any other URL.

    Raises ValueError when the URL is one of these but malformed (without
    repeating the URL, which holds the key).
    """
    schema = url.split("://", 1)[0].lower()
    plugin_class = _CHECKED.get(schema)
    if plugin_class is None:
        return None
    arguments = plugin_class.parse_url(url)
    if not arguments:
        raise ValueError(f"not a valid {schema}:// URL")
    arguments["asset"] = asset
    try:
        return plugin_class(**arguments)
    except Exception as error:  # AppriseImproperlyConfigured and its message quote the key
        raise ValueError(f"not a valid {schema}:// URL ({type(error).__name__})") from None


def _post(plugin: NotifyWeComBot | NotifyDingTalk, service: str, url: str, payload: dict[str, Any]) -> bool:
    plugin.throttle()
    try:
        response = requests.post(
            url,
            data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
            headers={**_HEADERS, "User-Agent": plugin.app_id},
            verify=plugin.verify_certificate,
            timeout=plugin.request_timeout,
            allow_redirects=plugin.redirects,
        )
    except requests.RequestException as error:
        # The exception's text holds the URL, and the URL holds the key.
        plugin.logger.warning(f"{service}: could not connect ({type(error).__name__}).")
        return False
    if response.status_code != requests.codes.ok:
        plugin.logger.warning(f"{service}: HTTP {response.status_code}.")
        return False
    try:
        answer = response.json()
    except ValueError:
        plugin.logger.warning(f"{service}: HTTP 200 but the answer is not JSON: {response.text[:200]!r}.")
        return False
    errcode = answer.get("errcode") if isinstance(answer, dict) else None
    if errcode != 0:
        errmsg = answer.get("errmsg") if isinstance(answer, dict) else answer
        plugin.logger.warning(f"{service} refused the message: errcode={errcode}, errmsg={errmsg!r}.")
        return False
    plugin.logger.info(f"Sent {service} notification.")
    return True
