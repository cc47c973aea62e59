"""The statistics bureau's yearly reference data, as CSV: population by street, residential communities.

Both describe the end of a year and arrive by 31 March of the next, in
``stats/<dataset>/<year>/``; both come from :class:`citydw.demo.people.Population`,
so the communities' residents add up to their street's and district's.
The population table has a 小计 row under each district and a 全市合计 at
the end; counts over a thousand are sometimes written with separators
("12,345"), as Excel shows them.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from citydw.demo import tables
from citydw.demo.orders import Order, Rendered
from citydw.demo.people import Population
from citydw.demo.tables import Field
from citydw.demo.world import World

POPULATION = "stats.population"
COMMUNITIES = "stats.residential_communities"
BANDS = ("residents", "residents_60_plus", "residents_3_5", "residents_6_11", "residents_12_14")

POPULATION_FIELDS = [
    Field("district_code", "区划代码"),
    Field("street", "街道"),
    Field("residents", "常住人口", "integer"),
    Field("residents_60_plus", "60岁及以上人口", "integer"),
    Field("residents_3_5", "3-5岁人口", "integer"),
    Field("residents_6_11", "6-11岁人口", "integer"),
    Field("residents_12_14", "12-14岁人口", "integer"),
]
COMMUNITY_FIELDS = [
    Field("community_id", "小区编号"),
    Field("name", "小区名称"),
    Field("district_code", "区划代码"),
    Field("street", "街道"),
    Field("lng", "经度", "money", decimals=6),
    Field("lat", "纬度", "money", decimals=6),
    Field("residents", "常住人口", "integer"),
]


def _style(world: World, dataset: str, year: int) -> tables.Style:
    style = tables.choose_style(world.rng(dataset, "layout", year), two_row_chance=0.0)
    # Statistics tables put their total last, and type counts, sometimes with separators.
    return tables.Style(
        **{
            **style.__dict__,
            "total_first": False,
            "total_label": "全市合计",
            "text_number_share": 0.3 if style.text_number_share else 0.0,
        }
    )


def render_population(world: World, order: Order) -> Rendered:
    year = order.month.year
    style = _style(world, POPULATION, year)
    streets = world.part(Population).streets(year)
    records: list[dict[str, Any]] = []
    for code in world.city.district_codes:
        rows = [asdict(s) for s in streets if s.district_code == code]
        records.extend(rows)
        # A 小计 row under each district: the reader drops it as a total.
        records.append({"district_code": code, "street": "小计", **{b: sum(int(r[b]) for r in rows) for b in BANDS}})
    total = {b: sum(getattr(s, b) for s in streets) for b in BANDS}
    fields = [f for f in POPULATION_FIELDS if f.field != order.drop_field]
    table = tables.build(
        fields,
        records,
        style,
        title=f"{world.city.name}{year}年末分街道（镇）常住人口及年龄构成",
        unit_row="单位：人",
        city=world.city,
        cell_rng=lambda _, r: world.rng(POPULATION, "cells", year, r["district_code"], r["street"]),
        total=total,
        notes=[order.signature, "注：常住人口为年末数，根据人口变动情况抽样调查推算。"],
        csv_file=True,
    )
    content, _ = tables.to_csv(table, encoding="gb18030")
    return Rendered(
        file_name=f"{year}年分街道常住人口.csv",
        content=content,
        rows=len(streets),
        layout={"encoding": "gb18030", "serial_column": style.serial, "subtotals": True},
    )


def render_communities(world: World, order: Order) -> Rendered:
    year = order.month.year
    style = _style(world, COMMUNITIES, year)
    records = [
        {
            "community_id": community.community_id,
            "name": community.name,
            "district_code": community.district_code,
            "street": community.street,
            "lng": community.lng,
            "lat": community.lat,
            "residents": residents,
        }
        for community, residents in world.part(Population).community_residents(year)
    ]
    fields = [f for f in COMMUNITY_FIELDS if f.field != order.drop_field]
    table = tables.build(
        fields,
        records,
        style,
        title=f"{world.city.name}{year}年住宅小区常住人口统计表",
        unit_row=None,
        city=world.city,
        cell_rng=lambda _, r: world.rng(COMMUNITIES, "cells", year, r["community_id"]),
        total={"residents": sum(int(r["residents"]) for r in records)},  # type: ignore[call-overload]
        notes=[order.signature],
        csv_file=True,
    )
    content, _ = tables.to_csv(table, encoding="utf-8")
    return Rendered(
        file_name=f"{year}年住宅小区人口.csv",
        content=content,
        rows=len(records),
        layout={"encoding": "utf-8", "serial_column": style.serial},
    )
