"""Natural resources and planning's 国土空间规划编制进度表 (nrp.spatial_plans), as an xlsx.

One row per plan of :class:`citydw.demo.programmes.SpatialPlans`, city
plans first, then each district's by level and type. A city-level plan
leaves 所在地区 empty. Planned approval dates are month-level ("2022年6月");
the actual approval date is there once the plan is 已批复.
"""

from __future__ import annotations

from typing import Any

from citydw.demo import tables
from citydw.demo.manifest import Defect
from citydw.demo.orders import Order, Rendered
from citydw.demo.programmes import PLAN_LEVELS, PLAN_TYPES, SpatialPlans
from citydw.demo.tables import Field
from citydw.demo.world import World

DATASET = "nrp.spatial_plans"

FIELDS = [
    Field("plan_code", "规划编号", group="规划基本情况", width=18),
    Field("plan_name", "规划名称", group="规划基本情况", width=44, wrap=True),
    Field("plan_level", "规划层级", group="规划基本情况"),
    Field("plan_type", "规划类型", group="规划基本情况"),
    Field("district", "所在地区", "district", group="规划基本情况"),
    Field("status", "编制状态", group="编制进度"),
    Field("planned_approval_date", "计划批复时间", "date", group="编制进度"),
    Field("approval_date", "实际批复时间", "date", group="编制进度"),
]


def render_spatial_plans(world: World, order: Order) -> Rendered:
    month = order.month
    style = tables.choose_style(world.rng(DATASET, "layout", month.isoformat()), sheet_names=("Sheet1", "规划编制"))
    codes = world.city.district_codes
    plans = sorted(
        world.part(SpatialPlans).plans,
        key=lambda p: (
            p.district_code is not None,
            codes.index(p.district_code) if p.district_code else -1,
            PLAN_LEVELS.index(p.level),
            PLAN_TYPES.index(p.type),
            p.code,
        ),
    )
    records: list[dict[str, Any]] = []
    for plan in plans:
        status = plan.status(month)
        records.append(
            {
                "plan_code": plan.code,
                "plan_name": plan.name,
                "plan_level": plan.level,
                "plan_type": plan.type,
                "district": plan.district_code,
                "status": status,
                "planned_approval_date": plan.planned_approval_date,
                "approval_date": plan.approval_date if status == "已批复" else None,
            }
        )
    defects = []
    if "approved_without_date" in order.row_defects:
        approved = [r for r in records if r["status"] == "已批复"]
        if approved:
            record = world.rng(DATASET, "defect", month.isoformat()).choice(approved)
            record["approval_date"] = None
            defects.append(record)
    fields = [f for f in FIELDS if f.field != order.drop_field]
    title = f"{world.city.name}国土空间规划编制进度表"
    filled = order.delivered_at.date()
    table = tables.build(
        fields,
        records,
        style,
        title=title,
        subtitle=f"（{month.year}年{month.month}月）",
        unit_row=None,
        filled_row=f"填报日期：{filled.year}年{filled.month}月{filled.day}日",
        city=world.city,
        cell_rng=lambda _, r: world.rng(DATASET, "cells", month.isoformat(), r["plan_code"]),
        notes=[order.signature]
        + (
            ["注：规划层级按市级、县级、乡级填报；规划类型按总体规划、详细规划、相关专项规划填报。"]
            if style.remarks
            else []
        ),
    )
    table.subtitle = f"（{month.year}年{month.month}月）"  # no total row here: the subtitle always names the month
    content, row_numbers = tables.to_xlsx(
        table,
        author=order.contact.name if order.contact else "",
        company=order.department_name,
        created=order.delivered_at,
    )
    return Rendered(
        file_name=f"{month.year}年{month.month}月国土空间规划编制进度表.xlsx",
        content=content,
        rows=len(records),
        defects=[
            Defect(
                DATASET,
                f"{month:%Y-%m}",
                "approved_without_date",
                source_row=row_numbers[records.index(r)],
                field="approval_date",
                value="",
                row_key=str(r["plan_code"]),
            )
            for r in defects
        ],
        layout={
            "header_rows": table.header_rows,
            "serial_column": style.serial,
            "district_style": style.district_style,
            "month_date_style": style.month_date_style,
        },
    )
