"""The API source against real HTTP: the demo server on localhost, and
pytest-httpserver for answers the demo server never gives (canned bad pages
from tests/fixtures/api/)."""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hostile import DrippingServer
from pytest_httpserver import HTTPServer
from werkzeug import Response

from citydw.demo.api_server import DemoApiServer, Faults, routes_from_registry, serve
from citydw.registry import DatasetSpec, Department, Registry
from citydw.settings import Settings
from citydw.sources import api
from citydw.sources.api import ApiNotConfigured, SourceError, fetch_delivery, list_candidates, resolve_access

FIXTURES = Path(__file__).parents[2] / "fixtures" / "api"
MONTH = date(2022, 7, 1)
TOKEN = "test-token-not-a-secret"
# Short timeouts and nearly no backoff: a failing case costs milliseconds, not seconds.
ROUTES = {("transport", "projects"): "transport_projects"}  # what routes_from_registry gives for TRANSPORT
FAST = {"timeout": (1.0, 0.3), "retries": 2, "backoff": 0.01, "max_backoff": 0.05}

TRANSPORT = DatasetSpec.model_validate(
    {
        "department": "transport",
        "name": "transport_projects",
        "title": "交通重大项目月度调度表",
        "channel": {"kind": "api", "format": "json", "endpoint": "projects?month={month}"},
        "due": {"working_day": 5},
        "key": ["project_code"],
        "fields": [
            {"field": "project_code", "key": "xmdm"},
            {"field": "project_name", "key": "xmmc"},
            {"field": "district", "key": "qhdm", "type": "district"},
            {"field": "total_investment", "key": "ztz", "type": "decimal", "unit": "万元"},
            {"field": "is_bond_funded", "key": "zxz", "type": "boolean"},
        ],
    }
)


def transport_records(count: int) -> list[dict]:
    """Records with the transport API's keys (DEPARTMENTS.md), as the generator writes them."""
    districts = ("321002", "321003", "321012", "321023", "321081", "321084")
    return [
        {
            "xmdm": f"2022-{districts[n % 6]}-48-01-{n:06d}",
            "xmmc": f"第{n}号道路改造工程",
            "xmlb": "基础设施",
            "qhdm": districts[n % 6],
            "zrdw": "市交通运输局",
            "xmzt": "在建",
            "ztz": 1000.5 + n,
            "ndjh": 300.0,
            "bywc": 25.25,
            "ndlj": 180.75,
            "jhkg": "2022-03-01",
            "sjkg": "2022-03-15",
            "jhjg": "2024-12-31",
            "xxjd": "路基施工",
            "wtlx": None,
            "wtms": "",
            "zxz": n % 2 == 0,
        }
        for n in range(1, count + 1)
    ]


def write_feed(root: Path, records: list[dict], month: str = "2022-07") -> None:
    folder = root / "transport" / "transport_projects"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{month}.json").write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")


@pytest.fixture
def feed_root(tmp_path: Path) -> Path:
    write_feed(tmp_path, transport_records(250))
    return tmp_path


@pytest.fixture
def start_server(feed_root: Path) -> Iterator:
    """Start a demo API server over ``feed_root``: ``start_server(faults=…, page_size=…)``."""
    started: list[DemoApiServer] = []

    def start(**options) -> DemoApiServer:
        options.setdefault("page_size", 100)
        options.setdefault("routes", ROUTES)
        server, _ = serve(options.pop("root", feed_root), token=TOKEN, **options)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def fetch(server: DemoApiServer | str, *, token: str = TOKEN, **options) -> object:
    base = server if isinstance(server, str) else server.department_url("transport")
    return fetch_delivery(TRANSPORT, MONTH, base, token, **{**FAST, **options})


def pages_requested(server: DemoApiServer) -> list[str]:
    return [request.path.rsplit("page=", 1)[-1] for request in server.seen]


# -- the demo server, happy paths --------------------------------------------


def test_all_pages_become_one_canonical_delivery(start_server, feed_root: Path) -> None:
    server = start_server()

    candidate = fetch(server)

    assert candidate is not None
    assert candidate.file_name == "transport.transport_projects-2022-07.json"
    assert candidate.source_uri == f"{server.base_url}/transport/projects?month=2022-07"
    assert candidate.received_at.tzinfo == UTC
    document = json.loads(candidate.read())
    assert document == {
        "dataset": "transport.transport_projects",
        "month": "2022-07",
        "total": 250,
        "items": transport_records(250),  # in page order, keys as the department sends them
    }
    assert set(document["items"][0]) >= {"xmdm", "xmmc", "xmlb", "qhdm", "ztz", "ndlj", "zxz"}
    assert pages_requested(server) == ["1", "2", "3"]


def test_same_data_fetched_twice_has_the_same_checksum(start_server, tmp_path: Path) -> None:
    first = fetch(start_server())
    second = fetch(start_server())  # another server, another port
    # A department whose system writes keys in another order sends the same data.
    reordered = tmp_path / "reordered"
    write_feed(reordered, [dict(reversed(record.items())) for record in transport_records(250)])
    third = fetch(start_server(root=reordered, page_size=7))

    checksums = {hashlib.sha256(c.read()).hexdigest() for c in (first, second, third)}
    assert len(checksums) == 1


def test_the_delivery_arrived_when_the_server_says_it_was_published(start_server, feed_root: Path) -> None:
    published = datetime(2022, 8, 4, 2, 36, 41, tzinfo=UTC)
    feed = feed_root / "transport" / "transport_projects" / "2022-07.json"
    os.utime(feed, (published.timestamp(), published.timestamp()))

    candidate = fetch(start_server())

    assert candidate is not None and candidate.received_at == published  # Last-Modified, not the fetch time


def test_a_feed_rewritten_while_the_server_runs_is_served_as_rewritten(start_server, feed_root: Path) -> None:
    # The server keeps a feed parsed between pages (a province's feed is hundreds of pages); a department
    # that republishes the month must still be served its new records, not the ones parsed before.
    server = start_server()
    first = fetch(server)
    write_feed(feed_root, transport_records(120))

    second = fetch(server)

    assert first is not None and json.loads(first.read())["total"] == 250
    assert second is not None
    document = json.loads(second.read())
    assert document["total"] == 120 and document["items"] == transport_records(120)


def test_a_month_without_data_is_missing(start_server) -> None:
    server = start_server()

    assert fetch_delivery(TRANSPORT, date(2022, 8, 1), server.department_url("transport"), TOKEN, **FAST) is None


def test_a_server_error_is_retried(start_server) -> None:
    server = start_server(faults=Faults(fail_first=1, fail_status=500))

    candidate = fetch(server)

    assert json.loads(candidate.read())["total"] == 250
    assert [r.status for r in server.seen] == [500, 200, 200, 200]
    assert pages_requested(server) == ["1", "1", "2", "3"]


def test_a_slow_answer_is_retried(start_server) -> None:
    server = start_server(faults=Faults(delay=1.0, delay_first=1))

    candidate = fetch(server)

    assert candidate is not None
    assert pages_requested(server) == ["1", "1", "2", "3"]


# -- the demo server misbehaving ---------------------------------------------


def test_a_server_that_keeps_timing_out_fails_after_the_retries(start_server) -> None:
    server = start_server(faults=Faults(delay=1.0))
    started = time.monotonic()

    with pytest.raises(SourceError, match="timed out") as raised:
        fetch(server)

    assert time.monotonic() - started < 3
    assert len(server.seen) == 3  # one attempt and two retries
    message = str(raised.value)
    assert "transport.transport_projects" in message
    assert "after 3 attempts" in message
    assert "page=1" in message


def test_a_server_that_keeps_failing_fails_after_the_retries(start_server) -> None:
    server = start_server(faults=Faults(fail_first=99, fail_status=503))

    with pytest.raises(SourceError, match=r"after 3 attempts: HTTP 503"):
        fetch(server)

    assert len(server.seen) == 3


def test_a_wrong_token_fails_at_once_without_the_token_in_the_message(start_server) -> None:
    server = start_server()
    wrong = "wrong-token-42"

    with pytest.raises(SourceError, match="refused the token") as raised:
        fetch(server, token=wrong)

    assert len(server.seen) == 1  # not retried
    assert server.seen[0].status == 401
    message = str(raised.value)
    assert "HTTP 401" in message
    assert "transport.transport_projects" in message
    assert f"{server.base_url}/transport/projects?month=2022-07&page=1" in message
    assert "CITYDW_API_TRANSPORT_TOKEN" in message
    assert wrong not in message and TOKEN not in message


def test_an_unknown_endpoint_fails_at_once(start_server) -> None:
    server = start_server()

    with pytest.raises(SourceError, match=r"HTTP 404.*projects\?month=\{month\}"):
        fetch(f"{server.base_url}/nosuchdepartment")

    assert len(server.seen) == 1


def test_an_html_page_instead_of_json_is_reported_as_html(start_server) -> None:
    server = start_server(faults=Faults(html=True))

    with pytest.raises(SourceError, match=r"answered HTML instead of JSON: <!DOCTYPE html>.*系统维护中"):
        fetch(server)

    assert len(server.seen) == 1


def test_a_lost_page_is_named(start_server) -> None:
    server = start_server(faults=Faults(drop_page=2))

    with pytest.raises(SourceError, match=r"page 2 of 3 of .* is missing: expected 100 items \(total 250"):
        fetch(server)


# -- canned bad answers (pytest-httpserver) ----------------------------------


def envelope(page: int, items: list[dict], *, total: int = 250, page_size: int = 100) -> dict:
    return {"total": total, "page": page, "page_size": page_size, "items": items}


def expect_page(httpserver: HTTPServer, page: int):
    return httpserver.expect_request(
        "/transport/projects", query_string={"month": "2022-07", "page": str(page)}, method="GET"
    )


def test_total_larger_than_the_pages_names_the_missing_page(httpserver: HTTPServer) -> None:
    records = transport_records(200)
    expect_page(httpserver, 1).respond_with_json(envelope(1, records[:100]))
    expect_page(httpserver, 2).respond_with_json(envelope(2, records[100:]))
    expect_page(httpserver, 3).respond_with_json(envelope(3, []))

    with pytest.raises(SourceError, match=r"page 3 of 3 .* is missing: expected 50 items \(total 250"):
        fetch(httpserver.url_for("/transport"))


def test_a_short_page_is_named(httpserver: HTTPServer) -> None:
    records = transport_records(250)
    expect_page(httpserver, 1).respond_with_json(envelope(1, records[:100]))
    expect_page(httpserver, 2).respond_with_json(envelope(2, records[100:180]))

    with pytest.raises(SourceError, match=r"page 2 of 3 .* has 80 items: expected 100"):
        fetch(httpserver.url_for("/transport"))


def test_a_last_page_that_reports_its_own_count_as_page_size_is_still_fetched(httpserver: HTTPServer) -> None:
    records = transport_records(250)
    expect_page(httpserver, 1).respond_with_json(envelope(1, records[:100]))
    expect_page(httpserver, 2).respond_with_json(envelope(2, records[100:200]))
    expect_page(httpserver, 3).respond_with_json(envelope(3, records[200:], page_size=50))

    document = json.loads(fetch(httpserver.url_for("/transport")).read())

    assert document["total"] == 250 and document["items"] == records


def test_a_last_page_counting_itself_must_still_hold_the_rest_of_the_total(httpserver: HTTPServer) -> None:
    records = transport_records(250)
    expect_page(httpserver, 1).respond_with_json(envelope(1, records[:100]))
    expect_page(httpserver, 2).respond_with_json(envelope(2, records[100:200]))
    expect_page(httpserver, 3).respond_with_json(envelope(3, records[200:249], page_size=49))

    with pytest.raises(SourceError, match=r"page 3 of 3 .* has page_size 49, page 1 had 100"):
        fetch(httpserver.url_for("/transport"))


def test_a_total_that_changes_between_pages_fails(httpserver: HTTPServer) -> None:
    records = transport_records(250)
    expect_page(httpserver, 1).respond_with_json(envelope(1, records[:100]))
    expect_page(httpserver, 2).respond_with_json(envelope(2, records[100:200], total=251))

    with pytest.raises(SourceError, match=r"page 2 of 3 .* says total 251, page 1 said 250"):
        fetch(httpserver.url_for("/transport"))


def test_a_server_that_ignores_the_page_parameter_fails(httpserver: HTTPServer) -> None:
    records = transport_records(250)
    httpserver.expect_request("/transport/projects").respond_with_json(envelope(1, records[:100]))

    with pytest.raises(SourceError, match="answered page 1 when asked for page 2"):
        fetch(httpserver.url_for("/transport"))


def test_a_login_page_with_status_200_is_reported_as_html(httpserver: HTTPServer) -> None:
    page = (FIXTURES / "html_error_page.html").read_text(encoding="utf-8")
    expect_page(httpserver, 1).respond_with_data(page, content_type="text/html; charset=utf-8")

    with pytest.raises(SourceError) as raised:
        fetch(httpserver.url_for("/transport"))

    message = str(raised.value)
    assert "answered HTML instead of JSON" in message
    assert "统一身份认证平台" in message  # the page speaks for itself …
    snippet = message.split("instead of JSON: ", 1)[1]
    assert len(snippet) <= 201  # … in its first 200 characters


@pytest.mark.parametrize(
    ("fixture", "reason"),
    [
        ("truncated.json", "invalid JSON"),
        ("bare_list.json", "answered a JSON list, not"),
    ],
)
def test_json_that_is_not_the_contract_fails(httpserver: HTTPServer, fixture: str, reason: str) -> None:
    body = (FIXTURES / fixture).read_bytes()
    expect_page(httpserver, 1).respond_with_data(body, content_type="application/json")

    with pytest.raises(SourceError, match=reason):
        fetch(httpserver.url_for("/transport"))


def test_rate_limiting_waits_and_retries(httpserver: HTTPServer) -> None:
    records = transport_records(3)
    httpserver.expect_oneshot_request("/transport/projects").respond_with_json(
        {"error": "too many requests"}, status=429, headers={"Retry-After": "0"}
    )
    expect_page(httpserver, 1).respond_with_json(envelope(1, records, total=3))

    candidate = fetch(httpserver.url_for("/transport"))

    assert json.loads(candidate.read())["items"] == records
    assert [response.status_code for _, response in httpserver.log] == [429, 200]


def test_total_zero_with_items_fails(httpserver: HTTPServer) -> None:
    expect_page(httpserver, 1).respond_with_json(envelope(1, transport_records(2), total=0))

    with pytest.raises(SourceError, match="says total 0 but page 1 has 2 items"):
        fetch(httpserver.url_for("/transport"))


# -- configuration -----------------------------------------------------------


def test_a_token_in_the_base_url_is_refused(start_server) -> None:
    server = start_server()
    leaky = server.department_url("transport").replace("http://", "http://user:s3cret@")

    with pytest.raises(ApiNotConfigured, match="CITYDW_API_TRANSPORT_TOKEN") as raised:
        fetch(leaky)

    assert "s3cret" not in str(raised.value)
    assert server.seen == []


def test_access_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch, start_server) -> None:
    server = start_server()
    monkeypatch.setenv("CITYDW_API_TRANSPORT_URL", server.department_url("transport"))
    monkeypatch.setenv("CITYDW_API_TRANSPORT_TOKEN", TOKEN)
    monkeypatch.setenv("CITYDW_API_CIVIL_AFFAIRS_URL", "https://api.example.invalid/mz")
    monkeypatch.setenv("CITYDW_API_READ_TIMEOUT", "0.5")
    monkeypatch.setattr(api, "_airflow_connection", lambda conn_id: pytest.fail("Airflow asked needlessly"))
    settings = Settings()

    access = resolve_access("transport", settings)
    candidates = list_candidates(TRANSPORT, settings, MONTH)

    assert access.base_url == server.department_url("transport")
    assert TOKEN not in repr(access) and TOKEN not in repr(settings)
    assert settings.api_urls["civil_affairs"] == "https://api.example.invalid/mz"
    assert settings.api_read_timeout == 0.5
    assert [json.loads(c.read())["total"] for c in candidates] == [250]


def test_access_falls_back_to_the_airflow_connection(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))  # if this test is first to import Airflow
    monkeypatch.delenv("CITYDW_API_EDUCATION_URL", raising=False)
    monkeypatch.delenv("CITYDW_API_EDUCATION_TOKEN", raising=False)
    monkeypatch.setenv("AIRFLOW_CONN_CITYDW_API_EDUCATION", "https://:conn-token@edu.example.invalid:8443/api/v1")

    access = resolve_access("education", Settings())

    assert access.base_url == "https://edu.example.invalid:8443/api/v1"
    assert access.token == "conn-token"


def test_missing_access_says_where_to_configure_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CITYDW_API_HEALTH_URL", raising=False)
    monkeypatch.setenv("CITYDW_API_HEALTH_TOKEN", TOKEN)
    monkeypatch.setattr(api, "_airflow_connection", lambda conn_id: (None, None))

    with pytest.raises(ApiNotConfigured) as raised:
        resolve_access("health", Settings())

    message = str(raised.value)
    assert "no API base URL" in message
    assert "CITYDW_API_HEALTH_URL" in message and "citydw_api_health" in message
    assert TOKEN not in message


# -- the demo server's own contract ------------------------------------------


def test_demo_server_pages_and_checks(start_server) -> None:
    import requests

    server = start_server(page_size=100)
    url = server.department_url("transport") + "/projects"
    auth = {"Authorization": f"Bearer {TOKEN}"}

    last = requests.get(url, params={"month": "2022-07", "page": 3}, headers=auth, timeout=2)
    beyond = requests.get(url, params={"month": "2022-07", "page": 4}, headers=auth, timeout=2)
    no_month = requests.get(url, headers=auth, timeout=2)
    no_token = requests.get(url, params={"month": "2022-07"}, timeout=2)
    traversal = requests.get(
        server.base_url + "/transport/..%2F..", params={"month": "2022-07"}, headers=auth, timeout=2
    )

    assert last.json() == envelope(3, transport_records(250)[200:])
    assert beyond.json()["items"] == []
    assert no_month.status_code == 400
    assert no_token.status_code == 401 and no_token.headers["WWW-Authenticate"].startswith("Bearer")
    assert traversal.status_code == 404


def test_demo_routes_follow_the_registry() -> None:
    department = Department(code="transport", name="市交通运输局", name_en="Transport", datasets=(TRANSPORT,))

    assert routes_from_registry(Registry([department])) == {("transport", "projects"): "transport_projects"}


def test_nan_in_a_record_reaches_the_delivery_to_quarantine_its_row(httpserver: HTTPServer) -> None:
    """NaN is not JSON, but losing the whole feed for one value is worse than quarantining its record."""
    body = (FIXTURES / "nan_value.json").read_bytes()
    expect_page(httpserver, 1).respond_with_data(body, content_type="application/json")

    candidate = fetch(httpserver.url_for("/transport"))

    items = json.loads(candidate.read())["items"]
    assert math.isnan(items[0]["ztz"]) and items[1]["ztz"] == 86000.0


def test_a_page_nested_200000_deep_is_handed_on_as_it_came(httpserver: HTTPServer) -> None:
    """The reader rejects it with a reason (tests/ingestion/test_hostile_input.py), as the same file would be."""
    body = b'{"total": 1, "page": 1, "page_size": 100, "items": [{"xmdm": ' + b"[" * 200_000 + b"]" * 200_000 + b"}]}"
    expect_page(httpserver, 1).respond_with_data(body, content_type="application/json")

    candidate = fetch(httpserver.url_for("/transport"))

    assert candidate.read() == body


@pytest.mark.parametrize("whole", [False, True], ids=["body", "status-line-and-headers"])
def test_a_server_that_drips_its_answer_is_cut_off_at_the_deadline(whole: bool) -> None:
    server = DrippingServer(interval=0.2, whole=whole)  # every read succeeds well within the 2 s read timeout
    try:
        started = time.monotonic()
        with pytest.raises(SourceError, match="总时限"):
            fetch(server.url, timeout=(1, 2), retries=0, deadline=1.5)
        assert time.monotonic() - started < 4
    finally:
        server.stop()


def test_an_answer_over_the_size_cap_is_refused_while_it_streams(httpserver: HTTPServer) -> None:
    def chunks():
        for _ in range(64):  # 4 MiB, sent chunked: no Content-Length to refuse it by
            yield b" " * 65536

    expect_page(httpserver, 1).respond_with_response(Response(chunks(), content_type="application/json"))

    with pytest.raises(SourceError, match="超过1 MB") as raised:
        fetch(httpserver.url_for("/transport"), max_bytes=1024 * 1024)
    assert not raised.value.retryable


def test_an_answer_declaring_a_length_over_the_cap_is_refused_before_reading(httpserver: HTTPServer) -> None:
    expect_page(httpserver, 1).respond_with_data(b" " * (2 * 1024 * 1024), content_type="application/json")

    with pytest.raises(SourceError, match="超过1 MB"):
        fetch(httpserver.url_for("/transport"), max_bytes=1024 * 1024)


def test_a_feed_announcing_a_billion_pages_is_refused_after_the_first(httpserver: HTTPServer) -> None:
    expect_page(httpserver, 1).respond_with_json(envelope(1, transport_records(1), total=10**9, page_size=1))

    with pytest.raises(SourceError, match="超过上限10,000页") as raised:
        fetch(httpserver.url_for("/transport"))
    assert not raised.value.retryable
    assert len(httpserver.log) == 1
