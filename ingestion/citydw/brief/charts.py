"""The brief's charts: Vega-Lite specs from altair, rendered to SVG by vl-convert, offline.

Each function takes the rows of one brief query and returns a chart, or
None when there is nothing to draw; :func:`write` renders the ones there are
into the brief's folder. SVG keeps the text as text, so Chromium draws the
Chinese labels with the installed Noto CJK fonts and embeds them in the PDF.
"""

from __future__ import annotations

from pathlib import Path

import altair as alt
import pandas as pd
import vl_convert

from citydw.brief.figures import Figures

FONT = "Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, PingFang SC, sans-serif"
BLUE, RED, GREY, GREEN = "#1f5fa8", "#c62828", "#9e9e9e", "#2e7d32"
WIDTH = 560


def _configured(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    return (
        chart.configure(font=FONT)
        .configure_view(strokeWidth=0)
        .configure_axis(labelFontSize=12, titleFontSize=12, grid=False)
        .configure_title(fontSize=14, anchor="start")
    )


def bond_districts(figures: Figures) -> alt.TopLevelMixin | None:
    """Spending progress by district (%), the city's progress as a line."""
    rows = [row for row in figures["bonds_districts"] if row["spending_progress"] is not None]
    if not rows:
        return None
    frame = pd.DataFrame(
        {
            "district": [row["district_name"] for row in rows],
            "progress": [float(row["spending_progress"]) * 100 for row in rows],
        }
    )
    city = float(rows[0]["city_spending_progress"]) * 100
    bars = (
        alt.Chart(frame)
        .mark_bar(color=BLUE)
        .encode(
            x=alt.X("progress:Q", title="支出进度（%）", scale=alt.Scale(domain=[0, 100])),
            y=alt.Y("district:N", title=None, sort=None),
        )
    )
    labels = bars.mark_text(align="left", dx=4, fontSize=12).encode(text=alt.Text("progress:Q", format=".2f"))
    rule = alt.Chart(pd.DataFrame({"city": [city]})).mark_rule(color=RED, strokeDash=[4, 3]).encode(x="city:Q")
    title = f"各地区专项债券支出进度（红线为全市 {city:.2f}%）"
    return _configured(alt.layer(bars, labels, rule).properties(width=WIDTH, height=28 * len(rows), title=title))


def demolition(figures: Figures) -> alt.TopLevelMixin | None:
    """Jan–M demolition by district against the annual target (万平方米)."""
    rows = [row for row in figures["demolition"] if row["district_code"] is not None]
    if not rows:
        return None
    frame = pd.DataFrame(
        {
            "district": [row["district_name"] for row in rows] * 2,
            "what": ["累计完成"] * len(rows) + ["全年目标"] * len(rows),
            "value": [float(row["ytd_demolished"] or 0) for row in rows]
            + [float(row["annual_target"] or 0) for row in rows],
        }
    )
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("value:Q", title="万平方米"),
            y=alt.Y("district:N", title=None, sort=None),
            yOffset=alt.YOffset("what:N", sort=["全年目标", "累计完成"]),
            color=alt.Color(
                "what:N",
                title=None,
                scale=alt.Scale(domain=["累计完成", "全年目标"], range=[BLUE, "#b0bec5"]),
                legend=alt.Legend(orient="top"),
            ),
        )
    )
    return _configured(chart.properties(width=WIDTH, height=34 * len(rows), title="各地区拆迁完成量与全年目标"))


def facility_standards(figures: Figures) -> alt.TopLevelMixin | None:
    """Capacity per 1000 residents as a share of the standard, per facility type (100% = meets it)."""
    rows = [row for row in figures["facility_types"] if row["capacity_per_1000"] is not None]
    if not rows:
        return None
    frame = pd.DataFrame(
        {
            "type": [row["facility_type_name"] for row in rows],
            "share": [float(row["capacity_per_1000"] / row["standard_per_1000"]) * 100 for row in rows],
        }
    )
    frame["meets"] = frame["share"] >= 100
    bars = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("share:Q", title="千人指标达到标准的比例（%）"),
            y=alt.Y("type:N", title=None, sort=None),
            color=alt.Color("meets:N", scale=alt.Scale(domain=[True, False], range=[GREEN, RED]), legend=None),
        )
    )
    labels = bars.mark_text(align="left", dx=4, fontSize=12, color="black").encode(
        text=alt.Text("share:Q", format=".1f")
    )
    rule = alt.Chart(pd.DataFrame({"x": [100]})).mark_rule(color=GREY, strokeDash=[4, 3]).encode(x="x:Q")
    title = "全市各类民生设施千人指标与标准之比（虚线为100%）"
    return _configured(alt.layer(bars, labels, rule).properties(width=WIDTH, height=28 * len(rows), title=title))


CHARTS = {
    "bond_districts": bond_districts,
    "demolition": demolition,
    "facility_standards": facility_standards,
}


def write(figures: Figures, folder: Path) -> dict[str, str]:
    """Render every chart that has data to ``folder/<name>.svg``; return name → path relative to the brief."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, build in CHARTS.items():
        chart = build(figures)
        if chart is None:
            continue
        path = folder / f"{name}.svg"
        path.write_text(vl_convert.vegalite_to_svg(chart.to_dict()), encoding="utf-8")
        written[name] = f"{folder.name}/{path.name}"
    return written
