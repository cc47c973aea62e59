"""The expropriation office's 征地拆迁进度表 (expropriation.demolition_progress), as an xlsx.

One row per district and a 合计 row: the year's demolition target, this
month's and the year's demolished floor area (万平方米), households and land
(亩), from :class:`citydw.demo.programmes.Demolition`. The year-to-date
figures never fall within a year. Some months the land is written in 公顷,
with the header saying so.
"""

from __future__ import annotations

from typing import Any

from citydw.demo import tables
from citydw.demo.manifest import Defect
from citydw.demo.messy import period
from citydw.demo.orders import Order, Rendered
from citydw.demo.programmes import Demolition
from citydw.demo.tables import Field
from citydw.demo.world import World, add_months

DATASET = "expropriation.demolition_progress"
HECTARE_IN_MU = 15


def fields(land_unit: str) -> list[Field]:
    demolition, land = "房屋拆迁", "土地征收"
    return [
        Field("district", "所在地区", "district"),
        Field("annual_target", "年度拆迁目标（万平方米）", "money", group=demolition, width=14),
        Field("month_demolished", "本月拆迁面积（万平方米）", "money", group=demolition, width=14),
        Field("ytd_demolished", "年度累计拆迁面积（万平方米）", "money", group=demolition, width=14),
        Field("month_households", "本月征收户数", "integer", group=demolition),
        Field("month_land", f"本月征地面积（{land_unit}）", "money", group=land),
        Field("ytd_land", f"年度累计征地面积（{land_unit}）", "money", group=land),
    ]


def render_demolition(world: World, order: Order) -> Rendered:
    month = order.month
    rng = world.rng(DATASET, "layout", month.isoformat())
    style = tables.choose_style(rng, sheet_names=("Sheet1", "征地拆迁"))
    hectares = rng.random() < 0.2
    land_factor = 1 / HECTARE_IN_MU if hectares else 1.0
    demolition = world.part(Demolition)
    records: list[dict[str, Any]] = []
    for code in world.city.district_codes:
        year = demolition.year(code, month.year)
        records.append(
            {
                "district": code,
                "annual_target": year.annual_target,
                "month_demolished": year.demolished[month.month - 1] / 100,
                "ytd_demolished": year.ytd(year.demolished, month) / 100,
                "month_households": year.households[month.month - 1],
                "month_land": round(year.land[month.month - 1] / 100 * land_factor, 2),
                "ytd_land": round(year.ytd(year.land, month) / 100 * land_factor, 2),
            }
        )
    defects = []
    if "ytd_below_last_month" in order.row_defects and month.month > 1:
        index = world.rng(DATASET, "defect", month.isoformat()).randrange(len(records))
        record = records[index]
        year = demolition.year(str(record["district"]), month.year)
        before = year.ytd(year.demolished, add_months(month, -1)) / 100
        record["ytd_demolished"] = round(before * 0.9, 2)
        defects.append((record, f"{record['ytd_demolished']:.2f}"))
    total = {
        name: round(sum(float(r[name]) for r in records), 2)
        for name in (
            "annual_target",
            "month_demolished",
            "ytd_demolished",
            "month_households",
            "month_land",
            "ytd_land",
        )
    }
    table = tables.build(
        [f for f in fields("公顷" if hectares else "亩") if f.field != order.drop_field],
        records,
        style,
        title=f"{world.city.name}{month.year}年{period(month)}征地拆迁工作进度表",
        unit_row=None,
        city=world.city,
        cell_rng=lambda _, r: world.rng(DATASET, "cells", month.isoformat(), r["district"]),
        total=total,
        notes=[order.signature],
    )
    author = order.contact.name if order.contact else ""
    content, row_numbers = tables.to_xlsx(
        table, author=author, company=order.department_name, created=order.delivered_at
    )
    return Rendered(
        file_name=f"{month.year}年{month.month}月征地拆迁进度表.xlsx",
        content=content,
        rows=len(records),
        defects=[
            Defect(
                DATASET,
                f"{month:%Y-%m}",
                "ytd_below_last_month",
                source_row=row_numbers[records.index(r)],
                field="ytd_demolished",
                value=value,
                row_key=str(r["district"]),
            )
            for r, value in defects
        ],
        layout={
            "land_unit": "公顷" if hectares else "亩",
            "header_rows": table.header_rows,
            "district_style": style.district_style,
            "serial_column": style.serial,
        },
    )
