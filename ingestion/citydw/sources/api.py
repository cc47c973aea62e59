"""Paged HTTP JSON APIs: one delivery is every page of a month's feed.

Four departments publish their monthly data at ``{base}/<endpoint>?month=YYYY-MM&page=N``,
each page ``{"total": n, "page": N, "page_size": k, "items": [...]}``, behind a
bearer token (DEPARTMENTS.md). The adapter reads all pages, checks they add up,
and hands the pipeline one :class:`Candidate` whose bytes are the canonical JSON
of the whole delivery, so fetching unchanged data again gives the same sha256
and the archive sees no new version.

Pages are retried with exponential backoff on what a later attempt may cure
(connection errors, timeouts, 429, 5xx); a refused token, a wrong URL or an
answer that is not the contract fails at once with a :class:`SourceError`, which
the pipeline records as a failed fetch. The token only ever travels in the
``Authorization`` header: no URL, message or archived byte contains it.

A hostile or broken server cannot hold the pipeline: each request has a total
deadline (a server that drips a byte every few seconds never trips a read
timeout) and a size cap, both checked while the answer streams in. A page
nested too deep to parse is handed to the pipeline as it came, so the reader
rejects it with its reason, like the same JSON delivered as a file.
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter
from urllib3.exceptions import ProtocolError, ReadTimeoutError

from citydw.parsing.records import MAX_DEPTH, nesting_exceeds, whole_number
from citydw.registry import DatasetSpec
from citydw.settings import Settings
from citydw.sources import Candidate, SourceError
from citydw.sources.filedrop import month_token

log = logging.getLogger(__name__)

# Statuses a later attempt may cure: rate limiting and the server's own trouble.
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
SNIPPET_CHARS = 200
MAX_PAGES = 10_000
"""Most pages one delivery may announce: a month is thousands of records, never millions of pages."""
_CHUNK = 64 * 1024
_MIB = 1024 * 1024


class ApiNotConfigured(SourceError):
    """No base URL or no token for a department's API: an operator must act, retrying won't help."""

    retryable = False


class AnswerTooLarge(SourceError):
    """The server's answer is over the size cap: the same request would send it again."""

    retryable = False


class _Unparseable(Exception):
    """A page that is JSON nested too deep to be a page: the pipeline gets its bytes, the reader rejects them."""

    def __init__(self, body: bytes):
        super().__init__("JSON nested too deep")
        self.body = body


class _Transient(Exception):
    """A failure worth another attempt; ``retry_after`` is the server's hint in seconds."""

    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.retry_after = retry_after


@dataclass(frozen=True)
class ApiAccess:
    """Where a department's API lives and the token it wants."""

    base_url: str
    token: str = field(repr=False)


# -- configuration -----------------------------------------------------------


def connection_id(department: str) -> str:
    return f"citydw_api_{department}"


def resolve_access(department: str, settings: Settings) -> ApiAccess:
    """The department's base URL and token: ``CITYDW_API_<DEPT>_URL`` / ``_TOKEN`` first,
    else the Airflow connection ``citydw_api_<dept>`` (host or ``extra.base_url``, password).

    Airflow is asked only when the environment lacks a value, so a run configured
    through the environment never imports it, and a DAG task can keep the token
    in Airflow's secrets backend instead.
    """
    url = settings.api_urls.get(department)
    secret = settings.api_tokens.get(department)
    token = secret.get_secret_value() if secret else None
    lookup_problem = None
    if not (url and token):
        connection, lookup_problem = _airflow_connection(connection_id(department))
        if connection is not None:
            url = url or _connection_base_url(connection)
            token = token or connection.password or connection.extra_dejson.get("token")
    missing = [what for what, value in (("base URL", url), ("token", token)) if not value]
    if missing or url is None or token is None:
        variables = f"CITYDW_API_{department.upper()}_URL / CITYDW_API_{department.upper()}_TOKEN"
        why = f" (Airflow connection lookup: {lookup_problem})" if lookup_problem else ""
        raise ApiNotConfigured(
            f"{department}: no API {' and no '.join(missing)} configured; set {variables} "
            f"or the Airflow connection {connection_id(department)}{why}"
        )
    return ApiAccess(base_url=url, token=token)


def _airflow_connection(conn_id: str) -> tuple[Any | None, str | None]:
    """The Airflow connection, or None and why not; never raises, never runs at import."""
    try:
        from airflow.sdk import BaseHook
    except ImportError:
        return None, None
    try:
        return BaseHook.get_connection(conn_id), None
    except Exception as error:  # not defined, no secrets backend reachable, not inside Airflow …
        log.debug("Airflow connection %s not available", conn_id, exc_info=True)
        not_found = type(error).__name__ == "AirflowNotFoundException"
        return None, None if not_found else f"{type(error).__name__}: {error}"


def _connection_base_url(connection: Any) -> str | None:
    """Base URL from a connection: ``extra.base_url``, a host that is a URL, or
    scheme (conn type http/https, else https) + host + port + schema as the path,
    which is how Airflow reads ``AIRFLOW_CONN_…=https://:TOKEN@host:443/transport``."""
    explicit = connection.extra_dejson.get("base_url")
    if explicit:
        return str(explicit)
    host = connection.host
    if not host:
        return None
    if "://" in host:
        return str(host)
    scheme = connection.conn_type if connection.conn_type in ("http", "https") else "https"
    port = f":{connection.port}" if connection.port else ""
    path = f"/{connection.schema.strip('/')}" if connection.schema else ""
    return f"{scheme}://{host}{port}{path}"


# -- fetching ----------------------------------------------------------------


def list_candidates(spec: DatasetSpec, settings: Settings, month: date) -> list[Candidate]:
    """The API delivery for ``spec`` and ``month`` as a list, like :func:`filedrop.list_candidates`."""
    access = resolve_access(spec.department, settings)
    candidate = fetch_delivery(
        spec,
        month,
        access.base_url,
        access.token,
        timeout=(settings.api_connect_timeout, settings.api_read_timeout),
        retries=settings.api_retries,
        deadline=settings.api_request_deadline,
        max_bytes=settings.api_max_bytes,
    )
    return [candidate] if candidate else []


def delivery_url(spec: DatasetSpec, base_url: str, month: date) -> str:
    """``{base_url}/{endpoint}`` with the month filled in; the URL messages and the ledger show."""
    assert spec.channel.endpoint is not None
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ApiNotConfigured(f"{spec.id}: API base URL {_redacted(base_url)!r} is not an http(s) URL")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ApiNotConfigured(
            f"{spec.id}: API base URL {_redacted(base_url)!r} must be scheme://host[:port][/path] only; "
            f"the token goes in CITYDW_API_{spec.department.upper()}_TOKEN, not in the URL"
        )
    endpoint = spec.channel.endpoint.format(month=month_token(spec, month), year=f"{month:%Y}")
    return f"{base_url.strip().rstrip('/')}/{endpoint.lstrip('/')}"


def fetch_delivery(
    spec: DatasetSpec,
    month: date,
    base_url: str,
    token: str,
    *,
    timeout: tuple[float, float] = (5, 30),
    retries: int = 4,
    backoff: float = 1.0,
    max_backoff: float = 60.0,
    deadline: float = 120.0,
    max_bytes: int = 100 * _MIB,
) -> Candidate | None:
    """Every page of ``spec``'s feed for ``month`` as one canonical JSON file, or None when
    the API has no data for the month (total 0): the delivery is missing.

    ``timeout`` is (connect, read) seconds per request; each page gets ``retries``
    more attempts, waiting about ``backoff``·2ⁿ seconds (at most ``max_backoff``, or
    longer if the server's Retry-After asks, up to that cap). One attempt may take
    ``deadline`` seconds in all and its answer ``max_bytes`` bytes.
    """
    if not token:
        raise ApiNotConfigured(f"{spec.id}: empty API token for {spec.department}")
    url = delivery_url(spec, base_url, month)
    fetch_page = _page_fetcher(
        spec,
        token,
        timeout=timeout,
        retries=retries,
        backoff=backoff,
        max_backoff=max_backoff,
        limits=(deadline, max_bytes),
    )
    try:
        return _fetch_pages(spec, month, url, fetch_page)
    except _Unparseable as page:
        log.warning(
            "%s: %s answered JSON nested deeper than %d levels; handed on to be rejected", spec.id, url, MAX_DEPTH
        )
        body = page.body
        return Candidate(
            file_name=f"{spec.id}-{month_token(spec, month)}.json",
            source_uri=url,
            received_at=datetime.now(tz=UTC),
            read=lambda: body,
        )


def _fetch_pages(spec: DatasetSpec, month: date, url: str, fetch_page: PageFetcher) -> Candidate | None:
    with requests.Session() as session:
        first = fetch_page(session, url, 1)
        total, page_size = first["total"], first["page_size"]
        if total == 0:
            if first["items"]:
                raise SourceError(f"{spec.id}: {url} says total 0 but page 1 has {len(first['items'])} items")
            log.info("%s %s: the API has no data for the month", spec.id, month_token(spec, month))
            return None
        pages = math.ceil(total / page_size)
        if pages > MAX_PAGES:
            raise AnswerTooLarge(
                f"{spec.id}: {_redacted(url)} 声称有{total:,}条记录、{pages:,}页，超过上限{MAX_PAGES:,}页，未继续读取。"
                "一个月的数据只应有几千条；请联系接口提供方核对total和page_size。"
            )
        items = _checked_items(spec, url, first, 1, pages, total, page_size)
        published = [first[LAST_MODIFIED]]
        for number in range(2, pages + 1):
            page = fetch_page(session, url, number)
            items.extend(_checked_items(spec, url, page, number, pages, total, page_size))
            published.append(page[LAST_MODIFIED])
    if len(items) != total:  # the per-page checks make this unreachable; it is the contract, so check it
        raise SourceError(f"{spec.id}: {url} announced {total} items, its {pages} pages gave {len(items)}")
    data = canonical_json(spec, month, total, items)
    log.info("%s %s: %d items in %d pages from %s", spec.id, month_token(spec, month), total, pages, url)
    # When the department published the data, if its server says so (Last-Modified), is when it
    # was delivered — as a file's modification time is for a drop; otherwise, now.
    known = [moment for moment in published if moment is not None]
    return Candidate(
        file_name=f"{spec.id}-{month_token(spec, month)}.json",
        source_uri=url,
        received_at=max(known) if known else datetime.now(tz=UTC),
        read=lambda: data,
    )


def canonical_json(spec: DatasetSpec, month: date, total: int, items: list[dict]) -> bytes:
    """The delivery as deterministic bytes: sorted keys, UTF-8, items in page order.

    The source URL is deliberately not part of it: it is recorded with the
    delivery, and a moved server (or the demo's random port) must not turn
    unchanged data into a new version.
    """
    document = {"dataset": spec.id, "month": month_token(spec, month), "total": total, "items": items}
    return (json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def _checked_items(
    spec: DatasetSpec, url: str, page: dict, number: int, pages: int, total: int, page_size: int
) -> list[dict]:
    """The page's items once the page agrees with the first one and holds what it should."""
    where = f"{spec.id}: page {number} of {pages} of {url}"
    if page["total"] != total:
        raise SourceError(
            f"{where} says total {page['total']}, page 1 said {total}; the data changed while it was read, fetch again"
        )
    expected = min(page_size, total - (number - 1) * page_size)
    # Some servers report the last page's own item count as its page_size; the items
    # are still checked against the total, so that quirk loses nothing.
    last_page_counts_itself = number == pages and page["page_size"] == expected == len(page["items"])
    if page["page_size"] != page_size and not last_page_counts_itself:
        raise SourceError(f"{where} has page_size {page['page_size']}, page 1 had {page_size}")
    got = len(page["items"])
    if got != expected:
        missing = "is missing" if got == 0 else f"has {got} items"
        raise SourceError(f"{where} {missing}: expected {expected} items (total {total}, page_size {page_size})")
    return list(page["items"])


PageFetcher = Callable[[requests.Session, str, int], dict]


def _page_fetcher(
    spec: DatasetSpec,
    token: str,
    *,
    timeout: tuple[float, float],
    retries: int,
    backoff: float,
    max_backoff: float,
    limits: tuple[float, int],
) -> PageFetcher:
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json", "User-Agent": "citydw"}
    exponential = wait_exponential_jitter(initial=backoff, max=max_backoff, jitter=backoff)

    def wait(state: RetryCallState) -> float:
        seconds = exponential(state)
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _Transient) and error.retry_after is not None:
            seconds = max(seconds, min(error.retry_after, max_backoff))
        return seconds

    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        sleep = state.next_action.sleep if state.next_action else 0
        log.warning("%s: attempt %d failed (%s); retrying in %.1f s", spec.id, state.attempt_number, error, sleep)

    def fetch(session: requests.Session, url: str, number: int) -> dict:
        page_url = _with_page(url, number)
        retrying = Retrying(
            stop=stop_after_attempt(retries + 1),
            wait=wait,
            retry=retry_if_exception_type(_Transient),
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            response = retrying(_get, session, page_url, headers, timeout, limits)
        except _Transient as error:
            raise SourceError(f"{spec.id}: gave up on {page_url} after {retries + 1} attempts: {error}") from None
        return _page(spec, page_url, number, response)

    return fetch


def _get(
    session: requests.Session,
    url: str,
    headers: dict[str, str],
    timeout: tuple[float, float],
    limits: tuple[float, int] = (120.0, 100 * _MIB),
) -> requests.Response:
    """One GET; transient failures raise :class:`_Transient`, the rest come back as the response.

    The answer is streamed: ``limits`` is (total seconds, bytes) for the whole
    answer; past either the request is abandoned.
    """
    deadline, max_bytes = limits
    started = time.monotonic()

    def request() -> requests.Response:
        per_read = (timeout[0], min(timeout[1], deadline))
        response = session.get(url, headers=headers, timeout=per_read, allow_redirects=True, stream=True)
        with response:
            _receive(response, url, started + deadline, max_bytes)
        return response

    try:
        response = _in_time(request, deadline)
    except _OverDeadline:
        raise _Transient(f"接口在{deadline:g}秒内未传完应答（总时限），已中断") from None
    except requests.Timeout as error:
        kind = "connecting" if isinstance(error, requests.ConnectTimeout) else "waiting for the answer"
        seconds = timeout[0] if isinstance(error, requests.ConnectTimeout) else timeout[1]
        raise _Transient(f"timed out after {seconds:g} s {kind}") from error
    except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as error:
        raise _Transient(f"connection failed: {_short(str(error))}") from error
    except requests.RequestException as error:
        raise SourceError(f"request to {url} failed: {error}") from error
    if response.status_code in RETRY_STATUSES:
        raise _Transient(
            f"HTTP {response.status_code} {response.reason}: {_snippet(_text(response))}",
            retry_after=_retry_after(response.headers.get("Retry-After")),
        )
    return response


class _OverDeadline(Exception):
    pass


def _in_time(request: Callable[[], requests.Response], seconds: float) -> requests.Response:
    """``request()``, or :class:`_OverDeadline` after ``seconds``.

    Per-read timeouts cannot stop a server that sends its status line and
    headers a byte at a time, so the request runs in a daemon thread that is
    abandoned at the deadline (it ends when the server gives up; it never
    keeps the process alive). Inside, the body is also cut at the deadline.
    """
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["response"] = request()
        except BaseException as error:  # handed to the caller's thread, which decides
            outcome["error"] = error

    worker = threading.Thread(target=run, name="citydw-api-request", daemon=True)
    worker.start()
    worker.join(seconds + 1)  # _receive stops on its own at the deadline; the second is its slack
    if worker.is_alive():
        raise _OverDeadline
    if "error" in outcome:
        raise outcome["error"]
    return outcome["response"]


def _receive(response: requests.Response, url: str, deadline: float, max_bytes: int) -> None:
    """Read the body into ``response.content``, within ``deadline`` (monotonic) and ``max_bytes``.

    Each read waits at most until the deadline (the socket's timeout is cut
    to the time left), so a server that sends a byte every few seconds is
    stopped on time; a Content-Length over the cap is refused before reading.
    """
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(url, max_bytes)
    raw = response.raw
    chunks, received = [], 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise _OverDeadline
        sock = getattr(getattr(raw, "connection", None), "sock", None)
        if sock is not None:
            sock.settimeout(min(left, sock.gettimeout() or left))
        try:
            chunk = raw.read1(_CHUNK, decode_content=True)
        except (TimeoutError, ReadTimeoutError) as error:
            if time.monotonic() >= deadline - 0.01:
                raise _OverDeadline from error
            raise requests.exceptions.ReadTimeout(str(error)) from error
        except ProtocolError as error:  # the server hung up mid-answer
            raise requests.exceptions.ChunkedEncodingError(str(error)) from error
        if not chunk:
            break
        received += len(chunk)
        if received > max_bytes:
            raise _too_large(url, max_bytes)
        chunks.append(chunk)
    response._content = b"".join(chunks)  # what response.content would have read, now bounded
    response._content_consumed = True


def _too_large(url: str, max_bytes: int) -> AnswerTooLarge:
    return AnswerTooLarge(
        f"{_redacted(url)} 的应答超过{max_bytes / _MIB:g} MB（CITYDW_API_MAX_BYTES），已停止接收。"
        "一页数据只应有几百条记录；请联系接口提供方检查分页。"
    )


def _page(spec: DatasetSpec, url: str, number: int, response: requests.Response) -> dict:
    """The page's envelope, checked against the contract; errors say what the server answered."""
    status = response.status_code
    if status in (401, 403):
        raise SourceError(
            f"{spec.id}: {url} refused the token (HTTP {status} {response.reason}); not retried. "
            f"Check CITYDW_API_{spec.department.upper()}_TOKEN or the Airflow connection "
            f"{connection_id(spec.department)} with the department"
        )
    if status == 404:
        raise SourceError(
            f"{spec.id}: {url} answered HTTP 404 Not Found; check the department's base URL "
            f"and the endpoint {spec.channel.endpoint!r} in the registry"
        )
    text = _text(response)
    if not 200 <= status < 300:
        raise SourceError(f"{spec.id}: {url} answered HTTP {status} {response.reason}: {_snippet(text)}")
    content_type = response.headers.get("Content-Type", "")
    if "html" in content_type.lower() or text.lstrip().startswith("<"):
        raise SourceError(f"{spec.id}: {url} answered HTML instead of JSON: {_snippet(text)}")
    try:
        # NaN and Infinity are not JSON, but a department's server may send them: they pass,
        # and the reader quarantines the record that holds one (a row problem, not a lost feed).
        document = json.loads(text, parse_int=whole_number)
    except ValueError as error:
        raise SourceError(f"{spec.id}: {url} answered invalid JSON ({error}): {_snippet(text)}") from None
    except RecursionError:
        raise _Unparseable(response.content) from None
    if nesting_exceeds(document, MAX_DEPTH + 2):  # the page envelope and its items list add two levels
        raise _Unparseable(response.content)
    envelope = _envelope(spec, url, number, document)
    envelope[LAST_MODIFIED] = _http_date(response.headers.get("Last-Modified"))
    return envelope


LAST_MODIFIED = "_last_modified"
"""Key under which a page carries its HTTP Last-Modified time (not part of the delivery's bytes)."""


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _envelope(spec: DatasetSpec, url: str, number: int, document: Any) -> dict:
    where = f"{spec.id}: {url}"
    if not isinstance(document, dict):
        raise SourceError(f"{where} answered a JSON {type(document).__name__}, not {{total, page, page_size, items}}")
    missing = [key for key in ("total", "page", "page_size", "items") if key not in document]
    if missing:
        raise SourceError(f"{where} answered JSON without {', '.join(missing)}; keys: {sorted(document)}")
    for key in ("total", "page", "page_size"):
        value = document[key]
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise SourceError(f"{where}: {key} is {value!r}, not a whole number")
    if document["page"] != number:
        raise SourceError(f"{where} answered page {document['page']} when asked for page {number}")
    if document["total"] > 0 and document["page_size"] == 0:
        raise SourceError(f"{where}: page_size is 0 with total {document['total']}")
    items = document["items"]
    if not isinstance(items, list):
        raise SourceError(f"{where}: items is a JSON {type(items).__name__}, not a list")
    for position, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise SourceError(f"{where}: item {position} of page {number} is {_snippet(repr(item))}, not an object")
    return document


def _with_page(url: str, number: int) -> str:
    parts = urlsplit(url)
    query = [(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True) if key != "page"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("page", str(number))])))


def _text(response: requests.Response) -> str:
    """The body as text: the charset the server declares, else UTF-8 (what JSON is), BOM or not.

    requests would guess ISO-8859-1 for any text/* without a charset, which
    turns Chinese into mojibake, so only an explicit charset is trusted.
    """
    declared = re.search(r"charset=[\"']?([\w.:-]+)", response.headers.get("Content-Type", ""), re.IGNORECASE)
    encoding = declared.group(1) if declared else "utf-8-sig"
    try:
        return response.content.decode(encoding, errors="replace")
    except LookupError:  # a charset Python does not know
        return response.content.decode("utf-8-sig", errors="replace")


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header: a number or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(tz=UTC)).total_seconds())


def _snippet(text: str) -> str:
    """The first 200 characters of an answer, on one line."""
    return _short(" ".join(text.split())) or "(empty body)"


def _short(text: str) -> str:
    return text if len(text) <= SNIPPET_CHARS else text[:SNIPPET_CHARS] + "…"


def _redacted(url: str) -> str:
    """``url`` without user, password and query: what may appear in a message."""
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
