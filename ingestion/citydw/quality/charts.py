"""The monthly report's charts: Vega-Lite specs built with altair, rendered to SVG by vl-convert.

Rendering happens here, offline: vl-convert bundles Vega and Vega-Lite, so
nothing is fetched from a CDN, and the report's ``<img>`` tags point at
files next to it. SVG rather than PNG because the text stays text: the
reader's browser draws the Chinese labels with its own fonts, while a PNG
would need a CJK font installed on the server that renders it (register one
with ``vl_convert.register_font_directory`` and call :func:`render_png` if
a PNG is wanted, e.g. for e-mail).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd
import vl_convert

FONT = "Microsoft YaHei, PingFang SC, Noto Sans CJK SC, Source Han Sans SC, SimHei, sans-serif"

TIMELINESS_ORDER = ("按时", "逾期", "退回", "缺报", "已豁免", "未到期")
TIMELINESS_COLOURS = ("#2e7d32", "#f9a825", "#ef6c00", "#c62828", "#78909c", "#e0e0e0")
SEVERITY_LABELS = {"blocking": "退回（阻断）", "row": "隔离（行级）", "warning": "提示（警告）"}
SEVERITY_COLOURS = ("#c62828", "#ef6c00", "#f9a825")


LABEL_SIZE = 11
# vl-convert lays a chart out with the text widths it measures on the server; the reader's browser
# draws the labels in its own CJK font (Microsoft YaHei, PingFang …), often wider. Label areas,
# legend spacing and the padding around the chart leave room for that, or labels are cut
# ("房和城乡建设局") and legend entries run into each other.
_SLACK = 1.2
_LEGEND: dict[str, Any] = {
    "orient": "bottom",
    "direction": "horizontal",
    "columnPadding": 24,
    "labelLimit": 0,
    "labelFontSize": 11,
}


def _configured(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    return (
        chart.properties(padding={"left": 12, "right": 24, "top": 6, "bottom": 6})
        .configure(font=FONT)
        .configure_view(strokeWidth=0)
        .configure_axis(labelFontSize=LABEL_SIZE, titleFontSize=12)
    )


def _text_width(text: str, size: float = LABEL_SIZE) -> float:
    """Pixels ``text`` takes at ``size``: a CJK character is one em, other characters about 0.6."""
    return sum(size if ord(ch) > 0x2E80 else 0.6 * size for ch in text)


def _label_extent(labels: list[str], limit: int = 0) -> int:
    """Room for the longest axis label as the widest likely font draws it (at most ``limit`` when given)."""
    widest = max((_text_width(str(label)) for label in labels), default=0.0) * _SLACK + 10
    return int(min(widest, limit) if limit else widest)


def _integer_ticks(maximum: float) -> list[int]:
    """Whole-number ticks from 0 to at least ``maximum``, at most about six of them (never "0 1 1")."""
    top = max(1, math.ceil(maximum))
    step = max(1, math.ceil(top / 5))
    return list(range(0, top + step, step))


def timeliness_heatmap(cells: pd.DataFrame) -> alt.TopLevelMixin:
    """Departments × months, coloured by the worst outcome of the department's datasets that month.

    ``cells``: department_name, month (YYYY-MM), outcome (one of :data:`TIMELINESS_ORDER`),
    working_days_late (the most, over its datasets), detail (tooltip text).
    """
    base = alt.Chart(cells).encode(
        x=alt.X("month:O", title="报告月份", axis=alt.Axis(labelAngle=0)),
        y=alt.Y(
            "department_name:N",
            title=None,
            sort=sorted(cells["department_name"].unique().tolist()),
            axis=alt.Axis(labelLimit=0, minExtent=_label_extent(cells["department_name"].unique().tolist())),
        ),
    )
    squares = base.mark_rect(stroke="white", strokeWidth=2).encode(
        color=alt.Color(
            "outcome:N",
            title="报送情况",
            scale=alt.Scale(domain=list(TIMELINESS_ORDER), range=list(TIMELINESS_COLOURS)),
            legend=alt.Legend(**_LEGEND),
        ),
        tooltip=[alt.Tooltip("department_name:N", title="部门"), alt.Tooltip("month:O", title="月份"),
                 alt.Tooltip("detail:N", title="情况")],
    )  # fmt: skip
    days = base.mark_text(fontSize=11, color="black").encode(
        text=alt.condition("datum.working_days_late > 0", "working_days_late:Q", alt.value(""))
    )
    width = max(360, 46 * cells["month"].nunique())
    height = max(120, 26 * cells["department_name"].nunique())
    return _configured(
        alt.layer(squares, days).properties(width=width, height=height, title="报送及时性（格内数字为逾期工作日数）")
    )


def pass_rates(rates: pd.DataFrame) -> alt.TopLevelMixin:
    """Rates by month as lines. ``rates``: month (YYYY-MM), measure, rate (0–1)."""
    chart = (
        alt.Chart(rates)
        .mark_line(point=True)
        .encode(
            x=alt.X("month:O", title="报告月份", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("rate:Q", title=None, axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
            color=alt.Color("measure:N", title=None, legend=alt.Legend(**_LEGEND)),
            tooltip=[
                alt.Tooltip("month:O", title="月份"),
                alt.Tooltip("measure:N", title="指标"),
                alt.Tooltip("rate:Q", title="比率", format=".1%"),
            ],
        )
        .properties(width=max(360, 46 * rates["month"].nunique()), height=220, title="通过率")
    )
    return _configured(chart)


def top_rules(failures: pd.DataFrame) -> alt.TopLevelMixin:
    """Horizontal bars of the rules failing most. ``failures``: rule, severity, rows."""
    frame = failures.assign(severity_label=failures["severity"].map(SEVERITY_LABELS))
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X(
                "rows:Q",
                title="涉及行数",
                scale=alt.Scale(domain=[0, _integer_ticks(frame["rows"].max())[-1]]),
                axis=alt.Axis(values=_integer_ticks(frame["rows"].max()), format="d"),
            ),
            y=alt.Y(
                "rule:N",
                title=None,
                sort="-x",
                axis=alt.Axis(labelLimit=420, minExtent=_label_extent(frame["rule"].tolist(), limit=420)),
            ),
            color=alt.Color(
                "severity_label:N",
                title="处理方式",
                scale=alt.Scale(domain=list(SEVERITY_LABELS.values()), range=list(SEVERITY_COLOURS)),
                legend=alt.Legend(**_LEGEND),
            ),
            tooltip=[alt.Tooltip("rule:N", title="规则"), alt.Tooltip("rows:Q", title="行数")],
        )
        .properties(width=360, height=max(60, 24 * len(frame)), title="问题最多的校验规则")
    )
    return _configured(chart)


def quarantine_by_department(counts: pd.DataFrame) -> alt.TopLevelMixin:
    """Horizontal bars of quarantined rows. ``counts``: department_name, rows_quarantined."""
    ticks = _integer_ticks(counts["rows_quarantined"].max() if len(counts) else 0)
    chart = (
        alt.Chart(counts)
        .mark_bar(color="#ef6c00")
        .encode(
            x=alt.X(
                "rows_quarantined:Q",
                title="隔离行数",
                scale=alt.Scale(domain=[0, ticks[-1]]),
                axis=alt.Axis(values=ticks, format="d"),
            ),
            y=alt.Y(
                "department_name:N",
                title=None,
                sort="-x",
                axis=alt.Axis(labelLimit=0, minExtent=_label_extent(counts["department_name"].tolist())),
            ),
            tooltip=[
                alt.Tooltip("department_name:N", title="部门"),
                alt.Tooltip("rows_quarantined:Q", title="隔离行数"),
            ],
        )
        .properties(width=360, height=max(60, 26 * len(counts)), title="各部门隔离行数")
    )
    return _configured(chart)


def render_svg(chart: alt.TopLevelMixin, path: Path) -> Path:
    """Render ``chart`` to an SVG file at ``path`` (offline)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(vl_convert.vegalite_to_svg(chart.to_dict()), encoding="utf-8")
    return path


def render_png(chart: alt.TopLevelMixin, path: Path, scale: float = 2.0) -> Path:
    """Render ``chart`` to a PNG at ``path``; Chinese text needs a CJK font known to vl-convert."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(vl_convert.vegalite_to_png(chart.to_dict(), scale=scale))
    return path
