"""``citydw brief --month``: the leaders' brief for one month, as HTML and PDF.

:func:`make_brief` collects the figures (``queries/*.sql``), writes the
sentences (``sentences.py``), the charts and the map, renders
``templates/brief.html.j2`` into ``<reports>/YYYY-MM/brief/index.html`` and
prints ``brief.pdf`` from it. ``figures.json`` beside them holds every
query's result, so any number on the page can be looked up. Everything the
page uses is inside the folder: it opens and prints offline.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from citydw.brief import charts, figures, pdf, sentences
from citydw.brief import map as city_map
from citydw.brief import wording as w
from citydw.city import City, load_city
from citydw.months import parse_month
from citydw.settings import Settings, get_settings


@dataclass(frozen=True)
class Brief:
    """What :func:`make_brief` wrote; small enough to return from an Airflow task (:meth:`to_dict`)."""

    month: date
    title: str
    folder: Path
    index: Path
    pdf: Path | None
    certified: bool
    fingerprint: str
    headlines: tuple[str, ...]

    def summary(self) -> str:
        state = "正式数" if self.certified else "初步数"
        return f"brief {self.month:%Y-%m} ({state}, figures {self.fingerprint[:12]}): {self.index}; {self.pdf}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "month": f"{self.month:%Y-%m}",
            "index": str(self.index),
            "pdf": str(self.pdf) if self.pdf else None,
            "certified": self.certified,
            "fingerprint": self.fingerprint,
        }


def title_of(city: City, month: date) -> str:
    return f"{city.name}{month.year}年{w.months_label(month.month)}城乡建设运行简报"


def brief_folder(settings: Settings, month: date) -> Path:
    return settings.reports_dir / f"{month:%Y-%m}" / "brief"


def make_brief(
    month: date | str,
    *,
    conn: psycopg.Connection | None = None,
    settings: Settings | None = None,
    with_pdf: bool = True,
) -> Brief:
    """Write the month's brief (index.html, charts/, figures.json, brief.pdf) and return what was written."""
    settings = settings or get_settings()
    month = parse_month(month) if isinstance(month, str) else month
    city = load_city(settings.city_dir)
    if conn is None:
        from citydw.warehouse.connect import connect

        with connect() as own:
            collected = figures.collect(own, month)
    else:
        collected = figures.collect(conn, month)

    folder = brief_folder(settings, month)
    # A fresh folder each time: a chart with no data this time must not linger from the last run.
    staging = folder.with_name("brief.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    chart_paths = charts.write(collected, staging / "charts")
    map_paths = city_map.write(collected, city, settings.city_dir, staging / "charts")
    written = sentences.sections(collected)
    status_word, status_note = sentences.status_line(collected)
    title = title_of(city, month)
    html = render_html(
        title=title,
        city=city,
        month=month,
        figures=collected,
        sections=written,
        status=(status_word, status_note),
        chart_paths=chart_paths,
        map_paths=map_paths,
    )
    (staging / "index.html").write_text(html, encoding="utf-8")
    (staging / "figures.json").write_text(collected.to_json(), encoding="utf-8")
    if with_pdf:
        pdf.print_pdf(staging / "index.html", staging / "brief.pdf", settings.chromium)
    shutil.rmtree(folder, ignore_errors=True)
    staging.replace(folder)
    return Brief(
        month=month,
        title=title,
        folder=folder,
        index=folder / "index.html",
        pdf=folder / "brief.pdf" if with_pdf else None,
        certified=status_word == "正式数",
        fingerprint=collected.fingerprint,
        headlines=tuple(section.headline for section in written),
    )


def render_html(
    *,
    title: str,
    city: City,
    month: date,
    figures: figures.Figures,
    sections: list[sentences.Section],
    status: tuple[str, str],
    chart_paths: dict[str, str],
    map_paths: dict[str, str],
) -> str:
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("citydw.brief", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        number=w.number,
        percent=w.percent,
        points=w.points,
        signed=w.signed,
        day=lambda value: "—" if value is None else f"{value.year}年{value.month}月{value.day}日",
    )
    radius_columns, radius_table = _radius_table(figures["facility_districts"])
    issued = datetime.now(ZoneInfo(city.timezone)).date()
    return environment.get_template("brief.html.j2").render(
        title=title,
        city=city,
        year=month.year,
        span_label=w.months_label(month.month),
        issued_on=f"{issued.year}年{issued.month}月{issued.day}日",
        status_word=status[0],
        status_note=status[1],
        certified=status[0] == "正式数",
        sections=sections,
        sections_by_key={section.key: section for section in sections},
        figures=figures.results,
        charts=defaultdict(lambda: None, chart_paths),
        maps=defaultdict(lambda: None, map_paths),
        radius_columns=radius_columns,
        radius_table=radius_table,
        fingerprint=figures.fingerprint,
    )


def _radius_table(rows: list[dict[str, Any]]) -> tuple[list[tuple[str, int]], list[tuple[str, dict[str, Any]]]]:
    """facility_districts pivoted: columns (type name, radius m), rows (district, {type name: share})."""
    columns = list(dict.fromkeys((row["facility_type_name"], row["service_radius_m"]) for row in rows))
    table: dict[str, dict[str, Any]] = {}
    for row in rows:
        table.setdefault(row["district_name"], {})[row["facility_type_name"]] = row["residents_within_radius_share"]
    return columns, list(table.items())
