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

WIDTH, HEIGHT, MARGIN = 760, 980, 30
LEGEND_HEIGHT = 116
PANEL_COLUMNS, PANEL_WIDTH, PANEL_HEIGHT, PANEL_TITLE = 2, 370, 330, 26
IN_SERVICE, PLANNED = "#1f5fa8", "#ef6c00"
FONT = "Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, sans-serif"
OUTLINES_FILE = "district_outlines.geojson"
# Communities by how many of the six facility types leave them outside the service radius.
UNSERVED_SHADES = (
    (0, 0, "#b0bec5", "均在服务半径内"),
    (1, 2, "#f4a582", "1-2类"),
    (3, 4, "#d6604d", "3-4类"),
    (5, 6, "#8b0000", "5-6类"),
)
Rings = dict[str, list[list[tuple[float, float]]]]


class Projection:
    """Degrees → SVG pixels inside a box, same scale on both axes, fitted to the points given."""

    def __init__(self, points: Iterable[tuple[float, float]], box: tuple[float, float, float, float]):
        pairs = list(points)
        left, top, width, height = box
        mean_lat = sum(lat for lat, _ in pairs) / len(pairs)
        self.shrink = math.cos(math.radians(mean_lat))
        xs = [lng * self.shrink for _, lng in pairs]
        ys = [lat for lat, _ in pairs]
        self.x0, self.y1 = min(xs), max(ys)
        span_x, span_y = max(xs) - self.x0, max(ys) - min(ys)
        self.scale = min(width / max(span_x, 1e-6), height / max(span_y, 1e-6))
        # Centre the drawing in the box.
        self.left = left + (width - span_x * self.scale) / 2
        self.top = top + (height - span_y * self.scale) / 2

    def __call__(self, lat: float, lng: float) -> tuple[float, float]:
        return (
            round(self.left + (lng * self.shrink - self.x0) * self.scale, 1),
            round(self.top + (self.y1 - lat) * self.scale, 1),
        )

    def metres_to_pixels(self, metres: float) -> float:
        return metres / 111195.08 * self.scale


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


def draw(figures: Figures, city: City, outlines: Rings) -> str | None:
    """The whole city as an SVG document, or None when no facility or community has coordinates."""
    facilities, communities = figures["map_facilities"], figures["map_communities"]
    points = _points(facilities, communities, outlines)
    if not points:
        return None
    project = Projection(points, (MARGIN, MARGIN, WIDTH - 2 * MARGIN, HEIGHT - LEGEND_HEIGHT - 2 * MARGIN))
    names = {district.code: district.name for district in city.districts}
    parts = [_open(WIDTH, HEIGHT), f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#fbfbf8"/>']
    parts += _layers(project, facilities, communities, outlines)
    for code, (lat, lng) in _district_centres(facilities, communities, outlines).items():
        x, y = project(lat, lng)
        parts.append(_label(x, y, names.get(code, code), 15))
    parts.append(_scale_bar(project, MARGIN, HEIGHT - LEGEND_HEIGHT - 8))
    parts.append(_legend(facilities, communities, bool(outlines), HEIGHT - LEGEND_HEIGHT + 22))
    parts.append("</svg>")
    return "\n".join(parts)


def draw_districts(figures: Figures, city: City, outlines: Rings) -> str | None:
    """One panel per district, each zoomed to its own facilities and communities, as one SVG."""
    facilities, communities = figures["map_facilities"], figures["map_communities"]
    panels = []
    for district in city.districts:
        own_facilities = [row for row in facilities if row["district_code"] == district.code]
        own_communities = [row for row in communities if row["district_code"] == district.code]
        own_outlines = {code: rings for code, rings in outlines.items() if code == district.code}
        if _points(own_facilities, own_communities, own_outlines):
            panels.append((district.name, own_facilities, own_communities, own_outlines))
    if not panels:
        return None
    rows = math.ceil(len(panels) / PANEL_COLUMNS)
    height = rows * PANEL_HEIGHT + LEGEND_HEIGHT
    parts = [_open(WIDTH, height), f'<rect width="{WIDTH}" height="{height}" fill="white"/>']
    for index, (name, own_facilities, own_communities, own_outlines) in enumerate(panels):
        left = 8 + (index % PANEL_COLUMNS) * (PANEL_WIDTH + 6)
        top = (index // PANEL_COLUMNS) * PANEL_HEIGHT
        box = (left + 8, top + PANEL_TITLE + 6, PANEL_WIDTH - 16, PANEL_HEIGHT - PANEL_TITLE - 34)
        project = Projection(_points(own_facilities, own_communities, own_outlines), box)
        parts.append(
            f'<rect x="{left}" y="{top + 2}" width="{PANEL_WIDTH}" height="{PANEL_HEIGHT - 6}" fill="#fbfbf8" '
            'stroke="#cfd8dc"/>'
        )
        parts.append(
            f'<text x="{left + 8}" y="{top + 20}" font-size="14" font-weight="bold" fill="#263238">{escape(name)}'
            f'<tspan font-weight="normal" font-size="11" fill="#607d8b">　设施{len(own_facilities)}处 · '
            f"小区{len(own_communities)}个</tspan></text>"
        )
        parts += _layers(project, own_facilities, own_communities, own_outlines)
        parts.append(_scale_bar(project, left + 8, top + PANEL_HEIGHT - 16))
    parts.append(_legend(facilities, communities, bool(outlines), rows * PANEL_HEIGHT + 22))
    parts.append("</svg>")
    return "\n".join(parts)


def write(figures: Figures, city: City, city_dir: Path, folder: Path) -> dict[str, str]:
    """Write ``map.svg`` (the city) and ``map_districts.svg`` (a panel per district) into ``folder``;
    return name → path relative to the brief, for those there was something to draw."""
    outlines = district_outlines(city_dir)
    written = {}
    for name, svg in (
        ("map", draw(figures, city, outlines)),
        ("map_districts", draw_districts(figures, city, outlines)),
    ):
        if svg is not None:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{name}.svg").write_text(svg, encoding="utf-8")
            written[name] = f"{folder.name}/{name}.svg"
    return written


def _open(width: int, height: int) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" font-family="{FONT}">'
    )


def _points(facilities: list[Row], communities: list[Row], outlines: Rings) -> list[tuple[float, float]]:
    points = [(row["lat"], row["lng"]) for row in (*facilities, *communities)]
    return points + [point for rings in outlines.values() for ring in rings for point in ring]


def _layers(project: Projection, facilities: list[Row], communities: list[Row], outlines: Rings) -> list[str]:
    """Outlines, then communities (the least served on top), then facilities (planned on top)."""
    parts = []
    for rings in outlines.values():
        for ring in rings:
            path = " ".join(f"{x},{y}" for x, y in (project(lat, lng) for lat, lng in ring))
            parts.append(f'<polygon points="{path}" fill="#eef2f6" stroke="#90a4ae" stroke-width="1"/>')
    for row in sorted(communities, key=lambda row: len(row["types_outside_radius"])):
        x, y = project(row["lat"], row["lng"])
        outside = row["types_outside_radius"]
        title = escape(f"{row['community_name']}：{'、'.join(outside)}服务半径外" if outside else row["community_name"])
        parts.append(f'<circle cx="{x}" cy="{y}" r="2.4" fill="{_shade(len(outside))}"><title>{title}</title></circle>')
    for row in sorted(facilities, key=lambda row: row["state"] != "在用"):
        x, y = project(row["lat"], row["lng"])
        title = f"<title>{escape(row['facility_name'])}</title>"
        if row["state"] == "在用":
            parts.append(
                f'<circle cx="{x}" cy="{y}" r="3" fill="{IN_SERVICE}" stroke="white" stroke-width="0.6">{title}</circle>'
            )
        else:
            parts.append(
                f'<path d="M{x},{y - 5} L{x + 5},{y + 4} L{x - 5},{y + 4} Z" fill="{PLANNED}" stroke="white" '
                f'stroke-width="0.6">{title}</path>'
            )
    return parts


def _label(x: float, y: float, text: str, size: int) -> str:
    return (
        f'<text x="{x}" y="{y}" font-size="{size}" font-weight="bold" text-anchor="middle" fill="#37474f" '
        f'stroke="#fbfbf8" stroke-width="3" paint-order="stroke">{escape(text)}</text>'
    )


def _scale_bar(project: Projection, x: float, y: float) -> str:
    """A bar of a round length (100 m … 50 km) about a fifth of the drawing wide."""
    target = project.metres_to_pixels(1)
    metres = next(
        (m for m in (50_000, 20_000, 10_000, 5_000, 2_000, 1_000, 500, 200, 100) if m * target <= 150),
        100,
    )
    length = round(metres * target, 1)
    label = f"{metres // 1000}公里" if metres >= 1000 else f"{metres}米"
    return (
        f'<g stroke="#37474f" stroke-width="1.5"><line x1="{x}" y1="{y}" x2="{x + length}" y2="{y}"/>'
        f'<line x1="{x}" y1="{y - 4}" x2="{x}" y2="{y}"/><line x1="{x + length}" y1="{y - 4}" x2="{x + length}" '
        f'y2="{y}"/></g><text x="{x + length + 6}" y="{y + 4}" font-size="11" fill="#37474f">{label}</text>'
    )


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


def _shade(outside: int) -> str:
    return next(colour for low, high, colour, _ in UNSERVED_SHADES if low <= outside <= high)


def _legend(facilities: list[Row], communities: list[Row], has_outlines: bool, y: float) -> str:
    in_service = sum(row["state"] == "在用" for row in facilities)
    base = "区县边界来自配置" if has_outlines else "未配置区县边界：按坐标投影示意，区县名标在其设施和小区的中心"
    planned = f"规划及在建设施（{len(facilities) - in_service}处）"
    items = [
        f'<line x1="{MARGIN}" y1="{y - 18}" x2="{WIDTH - MARGIN}" y2="{y - 18}" stroke="#cfd8dc"/>',
        f'<circle cx="{MARGIN + 6}" cy="{y}" r="4" fill="{IN_SERVICE}"/>',
        f'<text x="{MARGIN + 16}" y="{y + 5}">在用设施（{in_service}处）</text>',
        f'<path d="M{MARGIN + 186},{y - 6} L{MARGIN + 192},{y + 5} L{MARGIN + 180},{y + 5} Z" fill="{PLANNED}"/>',
        f'<text x="{MARGIN + 200}" y="{y + 5}">{planned}</text>',
        f'<text x="{MARGIN}" y="{y + 28}">居民小区，按服务半径未覆盖的设施类数：</text>',
    ]
    x = MARGIN + 6
    for low, high, colour, label in UNSERVED_SHADES:
        count = sum(low <= len(row["types_outside_radius"]) <= high for row in communities)
        text = f"{label}（{count}个）"
        items.append(f'<circle cx="{x}" cy="{y + 47}" r="4" fill="{colour}"/>')
        items.append(f'<text x="{x + 10}" y="{y + 52}">{text}</text>')
        x += 9 + 13 * sum(2 if ord(char) > 0x2E80 else 1 for char in text) // 2 + 16
    items.append(f'<text x="{MARGIN}" y="{y + 76}" font-size="11" fill="#607d8b">{base}。</text>')
    return '<g font-size="13" fill="#263238">' + "".join(items) + "</g>"
