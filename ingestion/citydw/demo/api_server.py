"""The departments' JSON APIs, served for real from generated files.

The demo generator writes each API dataset's month as a list of records under
``<root>/<department>/<dataset>/<YYYY-MM>.json``; this server publishes them the
way DEPARTMENTS.md describes the real feeds: ``GET /<department>/<endpoint path>
?month=YYYY-MM&page=N`` → ``{"total", "page", "page_size", "items"}``, behind a
bearer token. Each department thus has its own base URL,
``http://host:port/<department>``, as the real ones do.

For tests it can misbehave on purpose (:class:`Faults`): fail the first
requests, answer slowly, answer an HTML error page, lose a page. Standard
library only (``http.server``), so the demo needs nothing more.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import formatdate
from functools import lru_cache
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from citydw.registry import Registry

log = logging.getLogger(__name__)

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")

HTML_ERROR_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>系统维护中</title></head>
<body><h1>系统维护中</h1><p>数据共享交换平台正在升级维护，请稍后再试。</p>
<hr><address>nginx</address></body></html>
"""

# (department, endpoint path) → dataset folder.
Routes = Mapping[tuple[str, str], str]


@dataclass(frozen=True)
class Faults:
    """Ways the server misbehaves, for tests; the default is none."""

    fail_first: int = 0  # answer the first N authorised requests with ``fail_status``
    fail_status: int = 500
    delay: float = 0.0  # seconds to sleep before answering …
    delay_first: int | None = None  # … the first N authorised requests (None: all of them)
    html: bool = False  # answer every authorised request with an HTML page and 200
    drop_page: int | None = None  # this page comes back with no items, as if lost


@dataclass(frozen=True)
class SeenRequest:
    path: str
    authorised: bool
    status: int


@dataclass(frozen=True)
class _Answer:
    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()


def routes_from_registry(registry: Registry) -> dict[tuple[str, str], str]:
    """Each API dataset's endpoint path (``projects`` of ``projects?month={month}``) by department."""
    routes = {}
    for spec in registry.datasets.values():
        if spec.channel.kind == "api" and spec.channel.endpoint:
            path = urlsplit(spec.channel.endpoint).path.strip("/")
            routes[(spec.department, path)] = spec.name
    return routes


class DemoApiServer(ThreadingHTTPServer):
    """An HTTP server publishing ``root`` as the departments' paged APIs."""

    daemon_threads = True  # a test's slow answer must not hold up stop()

    def __init__(
        self,
        address: tuple[str, int],
        root: Path,
        token: str,
        *,
        page_size: int = 100,
        routes: Routes | None = None,
        faults: Faults | None = None,
    ):
        if not token:
            raise ValueError("the demo API server needs a token (CITYDW_DEMO_API_TOKEN)")
        if page_size < 1:
            raise ValueError(f"page_size must be at least 1, not {page_size}")
        self.root = Path(root)
        self.token = token
        self.page_size = page_size
        self.routes = dict(routes or {})
        self.faults = faults or Faults()
        self.seen: list[SeenRequest] = []
        self._lock = threading.Lock()
        self._authorised = 0
        super().__init__(address, _Handler)

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def department_url(self, department: str) -> str:
        """The base URL a client configures for ``department`` (CITYDW_API_<DEPT>_URL)."""
        return f"{self.base_url}/{department}"

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (a test's timeout) leaves a broken pipe: not news.
        log.debug("demo API: error answering %s", client_address, exc_info=True)

    # -- answering -----------------------------------------------------------

    def answer(self, target: str, authorization: str | None) -> tuple[_Answer, float]:
        """The answer to ``GET target`` and how long to wait before sending it."""
        if not self._authorised_by(authorization):
            answer = _json(
                HTTPStatus.UNAUTHORIZED,
                {"error": "missing or invalid bearer token"},
                headers=(("WWW-Authenticate", 'Bearer realm="citydw-demo"'),),
            )
            self._record(target, authorised=False, status=answer.status)
            return answer, 0.0
        with self._lock:
            sequence = self._authorised
            self._authorised += 1
        faults = self.faults
        delay = faults.delay if faults.delay_first is None or sequence < faults.delay_first else 0.0
        if sequence < faults.fail_first:
            answer = _json(faults.fail_status, {"error": "injected failure"})
        elif faults.html:
            answer = _Answer(HTTPStatus.OK, HTML_ERROR_PAGE.encode("utf-8"), "text/html; charset=utf-8")
        else:
            answer = self._page(target)
        self._record(target, authorised=True, status=answer.status)
        return answer, delay

    def _authorised_by(self, authorization: str | None) -> bool:
        scheme, _, presented = (authorization or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode(), self.token.encode())

    def _record(self, target: str, *, authorised: bool, status: int) -> None:
        with self._lock:
            self.seen.append(SeenRequest(target, authorised, int(status)))

    def _page(self, target: str) -> _Answer:
        parts = urlsplit(target)
        department, _, path = parts.path.strip("/").partition("/")
        dataset = self.routes.get((department, path)) or path
        if not (_NAME.match(department) and _NAME.match(dataset)) or not (self.root / department / dataset).is_dir():
            return _json(HTTPStatus.NOT_FOUND, {"error": f"no feed at /{department}/{path}"})
        query = parse_qs(parts.query)
        month = (query.get("month") or [""])[0]
        if not _MONTH.match(month):
            return _json(HTTPStatus.BAD_REQUEST, {"error": "month=YYYY-MM is required"})
        try:
            page = int((query.get("page") or ["1"])[0])
            if page < 1:
                raise ValueError
        except ValueError:
            return _json(HTTPStatus.BAD_REQUEST, {"error": "page must be a whole number from 1"})
        feed = self.root / department / dataset / f"{month}.json"
        records = self._records(feed)
        if records is None:
            return _json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": "the feed's file is not a JSON list"})
        items = records[(page - 1) * self.page_size : page * self.page_size]
        if page == self.faults.drop_page:
            items = []
        # The month's data was published when its file was written: say so, as a real feed's server does.
        published = (("Last-Modified", formatdate(feed.stat().st_mtime, usegmt=True)),) if feed.is_file() else ()
        envelope = {"total": len(records), "page": page, "page_size": self.page_size, "items": items}
        return _json(HTTPStatus.OK, envelope, headers=published)

    @staticmethod
    def _records(path: Path) -> list[Any] | None:
        """The month's records; no file is a month without data (total 0)."""
        if not path.is_file():
            return []
        status = path.stat()
        return _parsed_feed(path, status.st_mtime_ns, status.st_size)


@lru_cache(maxsize=16)
def _parsed_feed(path: Path, mtime_ns: int, size: int) -> list[Any] | None:
    """A feed file's records, parsed once per version of the file (its modification time and size).

    A client pages through a month 100 records at a time; parsing the whole
    file for every page made a province-sized feed (39,100 school records,
    11 MB) cost 0.14 s a page, 56 s a month. A rewritten file is read again.
    Callers only slice the list, never change it.
    """
    records = json.loads(path.read_text(encoding="utf-8"))
    return records if isinstance(records, list) else None


class _Handler(BaseHTTPRequestHandler):
    server: DemoApiServer
    server_version = "citydw-demo-api"

    def do_GET(self) -> None:
        answer, delay = self.server.answer(self.path, self.headers.get("Authorization"))
        if delay:
            time.sleep(delay)
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        for name, value in answer.headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(answer.body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("demo API %s: " + format, self.address_string(), *args)


def _json(status: int, document: Any, headers: tuple[tuple[str, str], ...] = ()) -> _Answer:
    return _Answer(int(status), json.dumps(document, ensure_ascii=False).encode("utf-8"), headers=headers)


def serve(
    root: Path,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    token: str,
    page_size: int = 100,
    routes: Routes | None = None,
    faults: Faults | None = None,
) -> tuple[DemoApiServer, str]:
    """Start the server in a background thread; returns it (``.stop()`` it) and its base URL.

    Port 0 picks a free port. A department's base URL is ``f"{base_url}/{department}"``.
    """
    server = DemoApiServer((host, port), root, token, page_size=page_size, routes=routes, faults=faults)
    # A short poll interval makes stop() quick, which a test suite starting many servers notices.
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="citydw-demo-api", daemon=True)
    thread.start()
    return server, server.base_url


def run_forever(
    root: Path,
    host: str = "127.0.0.1",
    port: int = 8765,
    token: str | None = None,
    *,
    page_size: int = 100,
    routes: Routes | None = None,
) -> None:
    """``citydw demo serve``: serve until interrupted. The token defaults to
    CITYDW_DEMO_API_TOKEN and the routes to the registry's API datasets."""
    from citydw.registry import load_registry
    from citydw.settings import get_settings

    settings = get_settings()
    if token is None and settings.demo_api_token is not None:
        token = settings.demo_api_token.get_secret_value()
    if not token:
        raise SystemExit("set CITYDW_DEMO_API_TOKEN to the token the demo API should require")
    if routes is None:
        routes = routes_from_registry(load_registry(settings.registry_path))
    server = DemoApiServer((host, port), root, token, page_size=page_size, routes=routes)
    departments = sorted({department for department, _ in routes}) or ["<department>"]
    print(f"Serving the departments' APIs from {root} at {server.base_url}/{{{','.join(departments)}}}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
