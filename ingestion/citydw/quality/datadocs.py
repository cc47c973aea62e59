"""GX Data Docs for a report month, rebuilt offline from the results kept in ``meta``.

The validation runner keeps each rule's outcome in ``meta.validation_results``
(not in a GX results store), so the month's Data Docs are rebuilt from there:
each stored rule becomes an ``ExpectationValidationResult`` again, with the
kwargs of the expectation taken from the dataset's suite file (matched by
rule id; suite parameters such as the city's district codes filled in), and
GX's own renderers (``ValidationResultsPageRenderer`` +
``DefaultJinjaPageView``) turn each delivery version into a page.

GX's page template loads Bootstrap, jQuery, Font Awesome and Vega from CDNs;
on a government network those requests fail or leak, so every external
``<link>``/``<script>`` is removed and a small stylesheet is inlined: the
pages read fully offline. Dataset rules of :mod:`citydw.quality.checks`
appear as ``expect_citydw_dataset_rule``.

Output: ``<reports>/YYYY-MM/datadocs/index.html`` and one page per delivery
version, ``datadocs/<dataset>/v<version>.html``.
"""

from __future__ import annotations

import html
import json
import logging
import os
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from citydw.city import City
from citydw.registry import Registry

log = logging.getLogger(__name__)

_EXTERNAL = re.compile(
    r"<link\b[^>]*\bhref=\"https?://[^\"]*\"[^>]*/?>|<script\b[^>]*\bsrc=\"https?://[^\"]*\"[^>]*>\s*</script>"
    r"|<script\b(?![^>]*\bsrc=)[^>]*>.*?</script>",
    re.S | re.I,
)
_FOOTER = re.compile(r"<footer\b.*?</footer>", re.S | re.I)  # GX's newsletter banner, fixed over the page
_CSS_URL = re.compile(r"url\(\s*['\"]?(?:https?:)?//[^)]*\)", re.I)  # GX's logo in dark mode
_ICON = re.compile(r"<i\b[^>]*\bclass=\"[^\"]*\bfa-([a-z-]+)[^\"]*\"[^>]*>\s*</i>", re.I)
ICONS = {
    # Font Awesome's glyphs GX uses, as small SVG files shipped beside the pages: no icon font to fetch.
    "check-circle": ("passed.svg", "通过",
                     '<circle cx="8" cy="8" r="7.5" fill="#2e7d32"/>'
                     '<path d="M4.5 8.3l2.3 2.3 4.7-4.9" fill="none" stroke="#fff" stroke-width="1.8"/>'),
    "times": ("failed.svg", "未通过",
              '<path d="M3.5 3.5l9 9M12.5 3.5l-9 9" stroke="#c62828" stroke-width="2.4" stroke-linecap="round"/>'),
    "exclamation-triangle": ("warning.svg", "警告",
                             '<path d="M8 1l7.5 13.5H.5z" fill="#f9a825"/><path d="M8 6v4.5M8 12v1" stroke="#222" '
                             'stroke-width="1.6"/>'),
    "question-circle": ("unknown.svg", "未知",
                        '<circle cx="8" cy="8" r="7.5" fill="#78909c"/><text x="8" y="12" font-size="11" '
                        'text-anchor="middle" fill="#fff" font-family="sans-serif">?</text>'),
}  # fmt: skip
ICON_FOLDER = "static"
_EXTERNAL_IMAGE = re.compile(r"<img\b[^>]*\bsrc=\"(?:https?:)?//[^\"]*\"[^>]*>", re.I)
_EXTERNAL_LINK = re.compile(r"<a\b[^>]*\bhref=\"(?:https?:)?//[^\"]*\"[^>]*>(.*?)</a>", re.S | re.I)
_LOCAL_STYLE = """
<style>
body{font-family:"Microsoft YaHei","PingFang SC","Noto Sans CJK SC",sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.5em 0;width:100%}td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top}
.container-fluid,.row,.col-md-12{display:block}.d-none{display:none!important}.text-danger{color:#c62828}
.text-success{color:#2e7d32}nav,.navbar,.sticky,.ge-footer,footer,.btn,.dropdown-menu,.form-control,.modal{display:none!important}
img.status-icon{width:16px;height:16px;vertical-align:-3px}
h1,h2,h3,h4,h5{font-weight:600}.alert{border:1px solid #ccc;padding:.5em;margin:.5em 0}
</style>
"""


@dataclass(frozen=True)
class VersionPage:
    dataset: str
    version: int
    status: str
    file_name: str | None
    path: Path
    rules: int
    failed: int


def build_month_docs(
    conn: psycopg.Connection, registry: Registry, city: City, month: date, out_dir: Path, expectations_dir: Path
) -> Path:
    """Render the Data Docs of every delivery version of ``month`` into ``out_dir``; returns its index page."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import citydw.quality.expectations  # noqa: F401 - the rule pack's types must be known to render them

    out_dir.mkdir(parents=True, exist_ok=True)
    _write_icons(out_dir / ICON_FOLDER)
    pages = []
    for delivery in _deliveries(conn, month):
        results = _results(conn, delivery["delivery_id"])
        if not results:
            continue  # rejected before validation: nothing to document
        suite = _suite_kwargs(registry, delivery["dataset"], expectations_dir, month, city)
        path = out_dir / delivery["dataset"] / f"v{delivery['version']}.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_render_page(delivery, results, suite), encoding="utf-8")
        pages.append(
            VersionPage(
                dataset=delivery["dataset"],
                version=delivery["version"],
                status=delivery["status"],
                file_name=delivery["file_name"],
                path=path,
                rules=len(results),
                failed=sum(not r["success"] for r in results),
            )
        )
    index = out_dir / "index.html"
    index.write_text(_index(pages, month, out_dir, registry), encoding="utf-8")
    return index


def _deliveries(conn: psycopg.Connection, month: date) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            """
            select delivery_id, dataset, version, status, status_reason, file_name, received_at, decided_at
            from meta.deliveries where report_month = %s order by dataset, version
            """,
            (month,),
        )
        return cur.fetchall()


def _results(conn: psycopg.Connection, delivery_id: int) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            """
            select suite_name, rule_id, expectation_type, column_name, severity, description, success,
                   element_count, unexpected_count, unexpected_sample, validated_at
            from meta.validation_results where delivery_id = %s order by result_id
            """,
            (delivery_id,),
        )
        return cur.fetchall()


def _suite_kwargs(
    registry: Registry, dataset: str, expectations_dir: Path, month: date, city: City
) -> dict[str, dict[str, Any]]:
    """Expectation kwargs by rule id, from the dataset's current suite file, parameters filled in."""
    from citydw.validation.runner import suite_parameters

    try:
        spec = registry.dataset(dataset)
        document = json.loads((expectations_dir / spec.suite_file).read_text(encoding="utf-8"))
    except (KeyError, OSError, ValueError):
        return {}
    parameters = suite_parameters(month, city, spec)
    found: dict[str, dict[str, Any]] = {}
    for expectation in document.get("expectations", []):
        kwargs = _fill(expectation.get("kwargs", {}), parameters)
        columns = [
            kwargs.get("column"),
            kwargs.get("column_A"),
            kwargs.get("column_B"),
            *(kwargs.get("column_list") or []),
        ]
        columns = [c for c in columns if c]
        rule_id = (expectation.get("meta") or {}).get("rule_id") or expectation["type"] + (
            ":" + ",".join(columns) if columns else ""
        )
        found.setdefault(rule_id, kwargs)
    return found


def _fill(value: Any, parameters: dict[str, Any]) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$PARAMETER"}:
            return parameters.get(value["$PARAMETER"], value)
        return {k: _fill(v, parameters) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, parameters) for v in value]
    return value


def _render_page(delivery: dict, results: list[dict], kwargs_by_rule: dict[str, dict[str, Any]]) -> str:
    """The version's page as GX renders it; a plain table of the same results when GX cannot.

    GX refuses results it finds inconsistent (``InvalidCacheValueError``) and its renderers
    have their own failures: whatever the rules recorded, the month keeps its page.
    """
    try:
        page = _gx_page(delivery, results, kwargs_by_rule)
    except Exception:
        log.exception("GX could not render %s v%s; writing a plain page", delivery["dataset"], delivery["version"])
        page = _plain_page(delivery, results)
    return _offline(page, delivery)


def _gx_page(delivery: dict, results: list[dict], kwargs_by_rule: dict[str, dict[str, Any]]) -> str:
    from great_expectations.core import ExpectationSuiteValidationResult, ExpectationValidationResult
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration
    from great_expectations.expectations.registry import get_expectation_impl
    from great_expectations.render.renderer import ValidationResultsPageRenderer
    from great_expectations.render.view import DefaultJinjaPageView

    evaluated = []
    for row in results:
        kind, kwargs = row["expectation_type"], kwargs_by_rule.get(row["rule_id"])
        try:
            get_expectation_impl(kind)
        except Exception:
            kind, kwargs = None, None
        if kind is None or kwargs is None:
            # A dataset rule, or a rule no longer in the suite: documented by its description.
            kind = "expect_citydw_dataset_rule"
            kwargs = {"check": row["expectation_type"]}
            if row["column_name"]:
                kwargs["column"] = row["column_name"]
        element_count, unexpected = row["element_count"] or 0, row["unexpected_count"] or 0
        evaluated.append(
            ExpectationValidationResult(
                success=row["success"],
                expectation_config=ExpectationConfiguration(
                    type=kind,
                    kwargs=kwargs,
                    meta={"severity": row["severity"], "rule_id": row["rule_id"]},
                    description=html.escape(
                        f"【{_SEVERITY_WORDS.get(row['severity'], row['severity'])}】{row['description']}"
                    ),
                ),
                result={
                    "element_count": element_count,
                    "unexpected_count": unexpected,
                    "unexpected_percent": 100.0 * unexpected / element_count if element_count else 0.0,
                    # GX puts these into the page unescaped, and they are the department's own cell text.
                    "partial_unexpected_list": [html.escape(str(v)) for v in row["unexpected_sample"] or []],
                },
            )
        )
    passed = sum(bool(r.success) for r in evaluated)
    suite_result = ExpectationSuiteValidationResult(
        success=passed == len(evaluated),
        suite_name=results[0]["suite_name"],
        results=evaluated,
        statistics={
            "evaluated_expectations": len(evaluated),
            "successful_expectations": passed,
            "unsuccessful_expectations": len(evaluated) - passed,
            "success_percent": 100.0 * passed / len(evaluated) if evaluated else 100.0,
        },
        meta={
            "run_id": f"{delivery['dataset']} {delivery['version']}",
            "batch_spec": {"file_name": html.escape(delivery["file_name"] or "")},
            "validation_time": results[0]["validated_at"].isoformat(),
        },
    )
    return DefaultJinjaPageView().render(ValidationResultsPageRenderer().render(suite_result))


_SEVERITY_WORDS = {"blocking": "阻断", "row": "行级", "warning": "警告"}


def _write_icons(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for file_name, _, shapes in ICONS.values():
        svg = f'<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 16 16">{shapes}</svg>\n'
        (folder / file_name).write_text(svg, encoding="utf-8")


def _icon(match: re.Match[str]) -> str:
    """A GX status icon as an image shipped in the report folder (pages sit one folder below it)."""
    found = ICONS.get(match.group(1))
    if found is None:
        return ""
    file_name, words, _ = found
    return (
        f'<img class="status-icon" src="../{ICON_FOLDER}/{file_name}" alt="{words}" title="{words}" '
        'width="16" height="16">'
    )


def _offline(page: str, delivery: dict) -> str:
    """GX's page without anything fetched from the network, with a header saying which delivery it is.

    Its icons become images shipped beside it, and GX's newsletter banner,
    fixed over the bottom of the page, goes.
    """
    page = _FOOTER.sub("", page)
    page = _CSS_URL.sub("none", page)
    page = _ICON.sub(_icon, page)
    page = _EXTERNAL.sub("", page)
    page = _EXTERNAL_IMAGE.sub("", page)
    page = _EXTERNAL_LINK.sub(lambda m: m.group(1), page)  # GX's own site and newsletter: keep the words only
    status = _STATUS_WORDS.get(delivery["status"], delivery["status"])
    banner = (
        f'<p><a href="../index.html">← 本月校验明细</a>　{html.escape(delivery["dataset"])} 第{delivery["version"]}版'
        f"（{html.escape(delivery['file_name'] or '')}，{status}）</p>"
    )
    page = re.sub(r"</head>", _LOCAL_STYLE + "</head>", page, count=1, flags=re.I)
    return re.sub(r"<body([^>]*)>", lambda m: f"<body{m.group(1)}>{banner}", page, count=1, flags=re.I)


_STATUS_WORDS = {"accepted": "已接收", "rejected": "被退回", "superseded": "已被更正版替代", "received": "处理中"}


def _plain_page(delivery: dict, results: list[dict]) -> str:
    rows = "".join(
        f"<tr><td>{'通过' if r['success'] else '未通过'}</td>"
        f"<td>{html.escape(_SEVERITY_WORDS.get(r['severity'], ''))}</td>"
        f"<td>{html.escape(r['description'] or '')}</td><td>{r['unexpected_count'] or 0}/{r['element_count'] or 0}</td>"
        f"<td>{html.escape('、'.join(map(str, r['unexpected_sample'] or [])))}</td></tr>"
        for r in results
    )
    return (
        '<!doctype html><html><head><meta charset="utf-8"><title>校验明细</title></head><body>'
        f"<h1>{html.escape(delivery['dataset'])}</h1>"
        '<p class="render-note">说明：本页无法按 Great Expectations 的格式显示，以下为同一批校验结果的简表'
        "（原因已写入运行日志）。</p><table><tr><th>结果</th><th>级别</th><th>规则</th>"
        f"<th>不符/总行数</th><th>示例</th></tr>{rows}</table></body></html>"
    )


def _index(pages: list[VersionPage], month: date, out_dir: Path, registry: Registry) -> str:
    titles = {spec_id: spec.title for spec_id, spec in registry.datasets.items()}
    rows = "".join(
        f"<tr><td>{html.escape(titles.get(p.dataset, p.dataset))}</td><td>{html.escape(p.dataset)}</td>"
        f"<td>第{p.version}版</td><td>{html.escape(p.file_name or '')}</td>"
        f"<td>{_STATUS_WORDS.get(p.status, p.status)}</td><td>{p.rules - p.failed}/{p.rules}</td>"
        f'<td><a href="{html.escape(p.path.relative_to(out_dir).as_posix())}">查看</a></td></tr>'
        for p in pages
    )
    empty = "" if pages else "<p>本月没有经过校验的报表。</p>"
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{month.year}年{month.month}月 数据校验明细（GX Data Docs）</title>{_LOCAL_STYLE}</head><body>"
        f'<p><a href="../index.html">← 返回月报</a></p><h1>{month.year}年{month.month}月 数据校验明细</h1>'
        "<p>每个报送版本的全部校验规则及结果（由 Great Expectations 渲染，离线可读）。</p>"
        "<table><tr><th>报表</th><th>数据集</th><th>版本</th><th>文件</th><th>状态</th><th>通过规则</th><th></th></tr>"
        f"{rows}</table>{empty}</body></html>"
    )
