"""城市管理一张图: the city's livelihood facilities and unserved communities, as one SVG, without tiles.

Points come from the registers' coordinates (WGS-84 degrees) and are placed
on a plane by an equirectangular projection around the city's mean latitude
(east-west distances shrunk by cos φ), which within a city's extent distorts
less than the registers' own precision. District outlines are drawn when
the configured city has them (``district_outlines.geojson`` beside the city
seeds: a FeatureCollection whose features carry ``district_code``);
otherwise each district is labelled at the centre of its points. Nothing is
fetched: the SVG is written into the brief's folder.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from xml.sax.saxutils import escape

from citydw.brief.figures import Figures, Row
from citydw.city import City

WIDTH, HEIGHT, MARGIN = 760, 560, 36
LEGEND_HEIGHT = 64
IN_SERVICE, PLANNED, UNSERVED = "#1f5fa8", "#ef6c00", "#c62828"
OUTLINES_FILE = "district_outlines.geojson"


class Projection:
    """Degrees → SVG pixels, same scale on both axes, fitted to the points given."""

    def __init__(self, points: Iterable[tuple[float, float]]):
        pairs = list(points)
        mean_lat = sum(lat for lat, _ in pairs) / len(pairs)
        self.shrink = math.cos(math.radians(mean_lat))
        xs = [lng * self.shrink for _, lng in pairs]
        ys = [lat for lat, _ in pairs]
        self.x0, self.y1 = min(xs), max(ys)
        span = max(max(xs) - self.x0, max(ys) - min(ys), 1e-6)
        self.scale = min(WIDTH - 2 * MARGIN, HEIGHT - LEGEND_HEIGHT - 2 * MARGIN) / span
        # Centre the drawing horizontally.
        self.dx = (WIDTH - 2 * MARGIN - (max(xs) - self.x0) * self.scale) / 2

    def __call__(self, lat: float, lng: float) -> tuple[float, float]:
        x = MARGIN + self.dx + (lng * self.shrink - self.x0) * self.scale
        y = MARGIN + (self.y1 - lat) * self.scale
        return round(x, 1), round(y, 1)


def district_outlines(city_dir: Path) -> dict[str, list[list[tuple[float, float]]]]:
    """district_code → rings of (lat, lng) from the configured outlines, or {} when there are none."""
    path = city_dir / OUTLINES_FILE
    if not path.exists():
        return {}
    document = json.loads(path.read_text(encoding="utf-8"))
    outlines: dict[str, list[list[tuple[float, float]]]] = defaultdict(list)
    for feature in document.get("features", []):
        code = str(feature.get("properties", {}).get("district_code", ""))
        geometry = feature.get("geometry") or {}
        polygons = geometry.get("coordinates", [])
        if geometry.get("type") == "Polygon":
            polygons = [polygons]
        for polygon in polygons:
            for ring in polygon[:1]:  # the outer ring; holes do not matter at this scale
                outlines[code].append([(lat, lng) for lng, lat in ring])
    return dict(outlines)


def draw(figures: Figures, city: City, outlines: dict[str, list[list[tuple[float, float]]]]) -> str | None:
    """The map as an SVG document, or None when no facility or community has coordinates."""
    facilities = figures["map_facilities"]
    communities = figures["map_communities"]
    points = [(row["lat"], row["lng"]) for row in (*facilities, *communities)]
    points += [point for rings in outlines.values() for ring in rings for point in ring]
    if not points:
        return None
    project = Projection(points)
    names = {district.code: district.name for district in city.districts}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}"'
        ' font-family="Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, sans-serif">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#fbfbf8"/>',
    ]
    for rings in outlines.values():
        for ring in rings:
            path = " ".join(f"{x},{y}" for x, y in (project(lat, lng) for lat, lng in ring))
            parts.append(f'<polygon points="{path}" fill="#eef2f6" stroke="#90a4ae" stroke-width="1"/>')
    unserved = [row for row in communities if row["types_outside_radius"]]
    served = [row for row in communities if not row["types_outside_radius"]]
    for row in served:
        x, y = project(row["lat"], row["lng"])
        parts.append(f'<circle cx="{x}" cy="{y}" r="2.5" fill="#b0bec5"/>')
    for row in unserved:
        x, y = project(row["lat"], row["lng"])
        title = escape(f"{row['community_name']}：{'、'.join(row['types_outside_radius'])}服务半径外")
        parts.append(
            f'<rect x="{x - 3}" y="{y - 3}" width="6" height="6" fill="none" stroke="{UNSERVED}" stroke-width="1.4">'
            f"<title>{title}</title></rect>"
        )
    for row in facilities:
        x, y = project(row["lat"], row["lng"])
        colour = IN_SERVICE if row["state"] == "在用" else PLANNED
        shape = (
            f'<circle cx="{x}" cy="{y}" r="4" fill="{colour}" fill-opacity="0.85">'
            if row["state"] == "在用"
            else f'<path d="M{x},{y - 5} L{x + 5},{y + 4} L{x - 5},{y + 4} Z" fill="{colour}">'
        )
        end = "</circle>" if row["state"] == "在用" else "</path>"
        parts.append(f"{shape}<title>{escape(row['facility_name'])}</title>{end}")
    for code, (lat, lng) in _district_centres(facilities, communities, outlines).items():
        x, y = project(lat, lng)
        parts.append(
            f'<text x="{x}" y="{y}" font-size="15" font-weight="bold" text-anchor="middle" fill="#37474f" '
            f'stroke="#fbfbf8" stroke-width="3" paint-order="stroke">{escape(names.get(code, code))}</text>'
        )
    parts.append(_legend(len(facilities), len(unserved), bool(outlines)))
    parts.append("</svg>")
    return "\n".join(parts)


def write(figures: Figures, city: City, city_dir: Path, folder: Path) -> str | None:
    """Write ``folder/map.svg``; return its path relative to the brief, or None when there is nothing to draw."""
    svg = draw(figures, city, district_outlines(city_dir))
    if svg is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "map.svg").write_text(svg, encoding="utf-8")
    return f"{folder.name}/map.svg"


def _district_centres(
    facilities: list[Row], communities: list[Row], outlines: dict[str, list[list[tuple[float, float]]]]
) -> dict[str, tuple[float, float]]:
    by_district: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for code, rings in outlines.items():
        by_district[code] += [point for ring in rings for point in ring]
    if not outlines:
        for row in (*facilities, *communities):
            if row["district_code"]:
                by_district[row["district_code"]].append((row["lat"], row["lng"]))
    return {
        code: (sum(lat for lat, _ in points) / len(points), sum(lng for _, lng in points) / len(points))
        for code, points in by_district.items()
    }


def _legend(facilities: int, unserved: int, has_outlines: bool) -> str:
    y = HEIGHT - LEGEND_HEIGHT + 18
    base = "区县边界来自配置" if has_outlines else "未配置区县边界：按坐标投影示意，区县名标在其设施和小区的中心"
    return (
        f'<g font-size="13" fill="#263238">'
        f'<line x1="{MARGIN}" y1="{y - 16}" x2="{WIDTH - MARGIN}" y2="{y - 16}" stroke="#cfd8dc"/>'
        f'<circle cx="{MARGIN + 6}" cy="{y}" r="5" fill="{IN_SERVICE}"/>'
        f'<text x="{MARGIN + 16}" y="{y + 4}">在用设施</text>'
        f'<path d="M{MARGIN + 126},{y - 6} L{MARGIN + 132},{y + 5} L{MARGIN + 120},{y + 5} Z" fill="{PLANNED}"/>'
        f'<text x="{MARGIN + 140}" y="{y + 4}">规划及在建设施</text>'
        f'<rect x="{MARGIN + 270}" y="{y - 4}" width="8" height="8" fill="none" stroke="{UNSERVED}" stroke-width="1.4"/>'
        f'<text x="{MARGIN + 284}" y="{y + 4}">至少一类设施服务半径外的小区（{unserved}个）</text>'
        f'<circle cx="{MARGIN + 560}" cy="{y}" r="3" fill="#b0bec5"/>'
        f'<text x="{MARGIN + 570}" y="{y + 4}">其他小区</text>'
        f'<text x="{MARGIN}" y="{y + 26}" font-size="11" fill="#607d8b">共{facilities}处设施。{base}。</text>'
        "</g>"
    )
