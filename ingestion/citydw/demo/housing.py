"""Housing's two xlsx reports: renovation projects and drainage compliance zones.

housing.renovation_projects (城镇老旧小区和城中村改造进度表): the year's list
and the projects carried over from earlier years, one row each, from
:class:`citydw.demo.programmes.Renovations`; a 合计 row of households, floor
area and investment. housing.drainage_zones (排水达标区建设进度表): every
zone on the programme with its share of the work done; some months the
clerk writes the area in 公顷 instead of 平方公里 (and says so in the header).
"""

from __future__ import annotations

from typing import Any

from citydw.demo import tables
from citydw.demo.manifest import Defect
from citydw.demo.messy import period
from citydw.demo.orders import Order, Rendered
from citydw.demo.programmes import DrainageZones, Renovations
from citydw.demo.tables import Field
from citydw.demo.world import World

RENOVATION = "housing.renovation_projects"
DRAINAGE = "housing.drainage_zones"


def _xlsx(table: tables.Table, order: Order) -> tuple[bytes, list[int]]:
    author = order.contact.name if order.contact else ""
    return tables.to_xlsx(table, author=author, company=order.department_name, created=order.delivered_at)


# -- renovation -------------------------------------------------------------------------------


def renovation_fields(unit: str) -> list[Field]:
    return [
        Field("project_id", "项目编号", group="项目基本情况", width=18),
        Field("community_name", "小区名称", group="项目基本情况", width=22),
        Field("renovation_type", "改造类型", group="项目基本情况"),
        Field("district", "所在地区", "district", group="项目基本情况"),
        Field("street", "街道", group="项目基本情况"),
        Field("households", "户数", "integer", group="改造规模"),
        Field("floor_area", "建筑面积（万平方米）", "money", group="改造规模"),
        Field("plan_year", "计划年度", "integer", group="改造规模"),
        Field("status", "状态", group="推进情况"),
        Field("start_date", "开工时间", "date", group="推进情况"),
        Field("completion_date", "完工时间", "date", group="推进情况"),
        Field("investment", f"总投资（{unit}）", "money", group="推进情况"),
    ]


def render_renovation(world: World, order: Order) -> Rendered:
    month = order.month
    style = tables.choose_style(world.rng(RENOVATION, "layout", month.isoformat()), sheet_names=("Sheet1", "改造进度"))
    factor = 10_000 if order.money_unit == "元" or order.unit_slip else 1
    records: list[dict[str, Any]] = []
    for renovation in world.part(Renovations).listed(month):
        status = renovation.status(month)
        records.append(
            {
                "project_id": renovation.project_id,
                "community_name": renovation.community_name,
                "renovation_type": renovation.type,
                "district": renovation.district_code,
                "street": renovation.street,
                "households": renovation.households,
                "floor_area": renovation.floor_area,
                "plan_year": renovation.plan_year,
                "status": status,
                "start_date": renovation.start_date if status != "未开工" else None,
                "completion_date": renovation.completion_date if status == "完工" else None,
                "investment": round(renovation.investment * factor, 2),
                "_copy": 0,
            }
        )
    defects = []
    if "duplicate_key" in order.row_defects and records:
        index = world.rng(RENOVATION, "defect", month.isoformat()).randrange(len(records))
        copy = {**records[index], "_copy": 1}
        records.insert(index + 1, copy)
        defects.append(copy)
    fields = [f for f in renovation_fields(order.money_unit) if f.field != order.drop_field]
    once = [r for r in records if not r["_copy"]]
    total = {
        "households": sum(int(r["households"]) for r in once),
        "floor_area": round(sum(float(r["floor_area"]) for r in once), 2),
        "investment": round(sum(float(r["investment"]) for r in once), 2),
    }
    title = f"{world.city.name}{month.year}年城镇老旧小区和城中村改造进度表"
    table = tables.build(
        fields,
        records,
        style,
        title=title,
        subtitle=f"（{month.year}年{period(month)}）",
        unit_row=f"金额单位：{order.money_unit}",
        city=world.city,
        cell_rng=lambda _, r: world.rng(RENOVATION, "cells", month.isoformat(), r["project_id"], r["_copy"]),
        total=total,
        notes=[order.signature] + (["注：计划年度为列入省、市改造计划的年度。"] if style.remarks else []),
    )
    content, row_numbers = _xlsx(table, order)
    return Rendered(
        file_name=f"{month.year}年{month.month}月老旧小区改造进度表.xlsx",
        content=content,
        rows=len(records),
        defects=[
            Defect(
                RENOVATION,
                f"{month:%Y-%m}",
                "duplicate_key",
                source_row=row_numbers[records.index(r)],
                field="project_id",
                value=str(r["project_id"]),
                row_key=str(r["project_id"]),
            )
            for r in defects
        ],
        layout={
            "unit": order.money_unit,
            "unit_slip": order.unit_slip,
            "header_rows": table.header_rows,
            "serial_column": style.serial,
            "total_first": style.total_first,
        },
    )


# -- drainage zones --------------------------------------------------------------------------------


def drainage_fields(area_unit: str) -> list[Field]:
    return [
        Field("zone_code", "片区编号", width=16),
        Field("zone_name", "片区名称", width=30),
        Field("district", "所在地区", "district"),
        Field("area_km2", f"面积（{area_unit}）", "money"),
        Field("plan_year", "计划完成年度", "integer"),
        Field("status", "状态"),
        Field("completion_pct", "完成比例（%）", "percent", decimals=1),
    ]


def render_drainage(world: World, order: Order) -> Rendered:
    month = order.month
    rng = world.rng(DRAINAGE, "layout", month.isoformat())
    style = tables.choose_style(rng, two_row_chance=0.0)
    hectares = rng.random() < 0.2
    records: list[dict[str, Any]] = []
    for zone in world.part(DrainageZones).listed(month):
        records.append(
            {
                "zone_code": zone.zone_code,
                "zone_name": zone.zone_name,
                "district": zone.district_code,
                "area_km2": round(zone.area_km2 * (100 if hectares else 1), 2),
                "plan_year": zone.plan_year,
                "status": zone.status(month),
                "completion_pct": zone.completion_pct(month),
            }
        )
    defects = []
    if "completion_over_100" in order.row_defects and records:
        record = world.rng(DRAINAGE, "defect", month.isoformat()).choice(records)
        record["completion_pct"] = 105.0
        defects.append(record)
    fields = [f for f in drainage_fields("公顷" if hectares else "平方公里") if f.field != order.drop_field]
    title = f"{world.city.name}排水达标区建设进度表"
    table = tables.build(
        fields,
        records,
        style,
        title=title,
        subtitle=f"（截至{month.year}年{month.month}月底）",
        unit_row=None,
        city=world.city,
        cell_rng=lambda _, r: world.rng(DRAINAGE, "cells", month.isoformat(), r["zone_code"]),
        total={"area_km2": round(sum(float(r["area_km2"]) for r in records), 2)},
        notes=[order.signature],
    )
    content, row_numbers = _xlsx(table, order)
    return Rendered(
        file_name=f"排水达标区建设进度表（{month.year}.{month.month:02d}）.xlsx",
        content=content,
        rows=len(records),
        defects=[
            Defect(
                DRAINAGE,
                f"{month:%Y-%m}",
                "completion_over_100",
                source_row=row_numbers[records.index(r)],
                field="completion_pct",
                value="105",
                row_key=str(r["zone_code"]),
            )
            for r in defects
        ],
        layout={
            "area_unit": "公顷" if hectares else "平方公里",
            "percent_form": style.percent_form,
            "serial_column": style.serial,
        },
    )
