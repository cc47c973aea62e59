"""城市管理一张图 from coordinates alone: points on a projected plane, district outlines when configured."""

from __future__ import annotations

import json
import re
from datetime import date

from citydw.brief import map as city_map
from citydw.brief.figures import Figures, query_names
from citydw.city import load_city

CITY = load_city()


def figures() -> Figures:
    facilities = [
        {"facility_name": "文昌小学", "district_code": "321002", "facility_type": "primary_school",
         "lat": 32.3962, "lng": 119.4300, "state": "在用"},
        {"facility_name": "西湖幼儿园（规划）", "district_code": "321003", "facility_type": "kindergarten",
         "lat": 32.4110, "lng": 119.3810, "state": "规划及在建"},
    ]  # fmt: skip
    communities = [
        {"community_name": "甲小区", "district_code": "321002", "lat": 32.3940, "lng": 119.4300, "residents": 3000,
         "types_outside_radius": []},
        {"community_name": "乙小区", "district_code": "321003", "lat": 32.4300, "lng": 119.3600, "residents": 1500,
         "types_outside_radius": ["幼儿园", "小学", "初中", "社区卫生服务中心", "街道养老综合体", "公共停车场"]},
    ]  # fmt: skip
    results = {name: [] for name in query_names()}
    results.update(map_facilities=facilities, map_communities=communities)
    return Figures(date(2022, 7, 1), results)


def test_points_are_placed_on_one_scale_without_outlines():
    svg = city_map.draw(figures(), CITY, {})
    assert svg is not None and "http://" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "<polygon" not in svg and "未配置区县边界" in svg
    assert "乙小区：幼儿园、小学、初中、社区卫生服务中心、街道养老综合体、公共停车场服务半径外" in svg
    assert "广陵区" in svg and "邗江区" in svg  # labels at the districts' points
    # North is up and east is right: the primary school (east) lies right of the planned kindergarten (west).
    school = re.search(r'<circle cx="([\d.]+)" cy="([\d.]+)" r="3"', svg)
    kindergarten = re.search(r'<path d="M([\d.]+),([\d.]+)', svg)
    assert float(school[1]) > float(kindergarten[1])


def test_configured_outlines_are_drawn(tmp_path):
    ring = [[119.35, 32.38], [119.45, 32.38], [119.45, 32.44], [119.35, 32.44], [119.35, 32.38]]
    (tmp_path / city_map.OUTLINES_FILE).write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "properties": {"district_code": "321002"},
                     "geometry": {"type": "Polygon", "coordinates": [ring]}},
                ],
            }
        ),
        encoding="utf-8",
    )  # fmt: skip
    outlines = city_map.district_outlines(tmp_path)
    assert list(outlines) == ["321002"] and len(outlines["321002"][0]) == 5
    svg = city_map.draw(figures(), CITY, outlines)
    assert svg.count("<polygon") == 1 and "区县边界来自配置" in svg


def test_nothing_to_draw_without_coordinates(tmp_path):
    empty = Figures(date(2022, 7, 1), {name: [] for name in query_names()})
    assert city_map.draw(empty, CITY, {}) is None
    assert city_map.write(empty, CITY, tmp_path, tmp_path / "charts") == {}


def test_one_panel_per_district_with_points():
    svg = city_map.draw_districts(figures(), CITY, {})
    assert svg.count('fill="#fbfbf8" stroke="#cfd8dc"') == 2  # 广陵区 and 邗江区 only
    assert "公里" in svg or "米" in svg  # each panel has its scale bar
