"""The sector bureaux's project feeds: transport's JSON API and water's CSV.

Both report the world's projects of their sector: the ones on the DRC's
list, with the same codes and names (the DRC row is the authority), and a
few smaller ones of their own that the DRC does not list. They do not agree
with the DRC to the last digit, as real feeds do not: the transport system
keeps whole 万元 for totals and plans and one decimal for the month's
figures, and each month some water rows lag a month behind (the bureau
copies last month's figures when a project unit is slow to report).

transport.transport_projects: records with the pinyin keys of
DEPARTMENTS.md (``xmdm`` …), the district as its 6-digit code, ``zxz``
true/false. water.water_projects: a CSV with the DRC's headers, UTF-8 and
GB18030 in alternate months.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from typing import Any

from citydw.demo import tables
from citydw.demo.manifest import Defect
from citydw.demo.messy import period
from citydw.demo.orders import Order, Rendered
from citydw.demo.tables import Field
from citydw.demo.world import Project, ProjectMonth, World, add_months

TRANSPORT = "transport.transport_projects"
WATER = "water.water_projects"
SECTORS = {TRANSPORT: "transport", WATER: "water"}
MINOR_SHARE = 0.25
"""Share of the minor world's projects of the sector a bureau reports beside the listed ones."""
LAGGING_SHARE = 0.15
"""Share of the water bureau's rows a month that copy last month's figures (a project unit slow to report)."""
FOREIGN_DISTRICT = "320102"  # 南京市玄武区
MONEY = ("total_investment", "annual_plan_investment", "month_investment", "ytd_investment")

# DEPARTMENTS.md: transport's keys in pinyin initials.
TRANSPORT_KEYS: dict[str, str] = {
    "project_code": "xmdm",
    "project_name": "xmmc",
    "category": "xmlb",
    "district": "qhdm",
    "responsible_unit": "zrdw",
    "status": "xmzt",
    "total_investment": "ztz",
    "annual_plan_investment": "ndjh",
    "month_investment": "bywc",
    "ytd_investment": "ndlj",
    "planned_start_date": "jhkg",
    "actual_start_date": "sjkg",
    "planned_completion_date": "jhjg",
    "progress_note": "xxjd",
    "blocker_type": "wtlx",
    "blocker_note": "wtms",
    "is_bond_funded": "zxz",
}


def sector_projects(world: World, dataset: str, month: date) -> list[Project]:
    """The projects a sector bureau reports for ``month``: its listed ones, then a few of its own."""
    sector = SECTORS[dataset]
    listed = [p for p in world.projects_listed(month.year) if p.sector == sector]
    minor = [
        p
        for p in world.minor_projects(month.year, sector)
        if world.rng("sector", "minor", p.code).random() < MINOR_SHARE
    ]
    return listed + minor


def _state(world: World, dataset: str, project: Project, month: date) -> ProjectMonth:
    """The state a bureau reports: a lagging water row's is last month's (never across a new year)."""
    lagging = dataset == WATER and world.rng("sector", "lag", project.code, month.isoformat()).random() < LAGGING_SHARE
    if lagging and month.month > 1:
        return replace(project.state(add_months(month, -1)), month=month)
    return project.state(month)


def _record(state: ProjectMonth) -> dict[str, Any]:
    project = state.project
    return {
        "project_code": project.code,
        "project_name": project.name,
        "category": project.category,
        "district": project.district_code,
        "responsible_unit": project.responsible_unit,
        "status": state.status,
        "total_investment": project.total_investment,
        "annual_plan_investment": state.annual_plan_investment,
        "month_investment": state.month_investment,
        "ytd_investment": state.ytd_investment,
        "planned_start_date": project.planned_start_date,
        "actual_start_date": state.actual_start_date,
        "planned_completion_date": project.planned_completion_date,
        "progress_note": state.progress_note,
        "blocker_type": state.blocker_type,
        "blocker_note": state.blocker_note,
        "is_bond_funded": project.is_bond_funded,
    }


# -- transport: the JSON API ---------------------------------------------------------------


def render_transport(world: World, order: Order) -> Rendered:
    month = order.month
    records: list[dict[str, Any]] = []
    for project in sector_projects(world, TRANSPORT, month):
        record = _record(_state(world, TRANSPORT, project, month))
        item: dict[str, Any] = {}
        for name, key in TRANSPORT_KEYS.items():
            value = record[name]
            if name in ("total_investment", "annual_plan_investment"):
                value = round(value)
            elif name in MONEY:
                value = round(value, 1)
            elif isinstance(value, date):
                value = value.isoformat()
            item[key] = value
        records.append(item)
    defects = []
    if "foreign_district_code" in order.row_defects and records:
        index = world.rng(TRANSPORT, "defect", month.isoformat()).randrange(len(records))
        records[index]["qhdm"] = FOREIGN_DISTRICT
        defects.append(
            Defect(
                TRANSPORT,
                f"{month:%Y-%m}",
                "foreign_district_code",
                project_code=records[index]["xmdm"],
                source_row=index + 1,
                field="district",
                value=FOREIGN_DISTRICT,
                row_key=records[index]["xmdm"],
            )
        )
    return Rendered(
        file_name=f"{month:%Y-%m}.json",
        content=json_records(records),
        rows=len(records),
        defects=defects,
        layout={"keys": "pinyin"},
    )


def json_records(records: list[dict[str, Any]]) -> bytes:
    """A JSON list, one record a line: small, and a diff of two months reads record by record."""
    lines = ",\n".join(json.dumps(record, ensure_ascii=False) for record in records)
    return f"[\n{lines}\n]\n".encode()


# -- water: the CSV --------------------------------------------------------------------------------


def water_fields(month: date, unit: str) -> list[Field]:
    money = f"（{unit}）"
    basic, invest, progress, problems = "项目基本情况", "投资完成情况", "推进情况", "存在问题"
    ytd = "年度累计完成投资" if month.month == 1 else f"{period(month)}累计完成投资"
    return [
        Field("project_code", "项目代码", group=basic, width=26),
        Field("project_name", "项目名称", group=basic, width=36),
        Field("category", "项目类别", group=basic),
        Field("district", "所在地区", "district", group=basic),
        Field("responsible_unit", "责任单位", group=basic, width=28),
        Field("status", "项目状态", group=basic),
        Field("total_investment", f"总投资{money}", "money", group=invest),
        Field("annual_plan_investment", f"年度计划投资{money}", "money", group=invest),
        Field("month_investment", f"本月完成投资{money}", "money", group=invest),
        Field("ytd_investment", f"{ytd}{money}", "money", group=invest),
        Field("planned_start_date", "计划开工时间", "date", group=progress),
        Field("actual_start_date", "实际开工时间", "date", group=progress),
        Field("planned_completion_date", "计划竣工时间", "date", group=progress),
        Field("progress_note", "形象进度", group=progress, width=30),
        Field("blocker_type", "问题类型", group=problems),
        Field("blocker_note", "存在问题", group=problems, width=30),
        Field("is_bond_funded", "是否专项债项目", "boolean"),
    ]


def render_water(world: World, order: Order) -> Rendered:
    month = order.month
    style = tables.choose_style(world.rng(WATER, "layout", month.isoformat()), two_row_chance=0.4)
    encoding = "utf-8" if month.month % 2 else "gb18030"
    factor = 10_000 if order.money_unit == "元" or order.unit_slip else 1
    records = [_record(_state(world, WATER, p, month)) for p in sector_projects(world, WATER, month)]
    for record in records:
        for name in MONEY:
            record[name] = round(float(record[name]) * factor, 2)
    defects = []
    if "malformed_project_code" in order.row_defects and records:
        index = world.rng(WATER, "defect", month.isoformat()).randrange(len(records))
        record = records[index]
        record["_code"] = record["project_code"]
        record["project_code"] = str(record["project_code"])[:-1]  # the last digit lost in a paste
        defects.append((record, "project_code", record["project_code"]))
    fields = water_fields(month, order.money_unit)
    if order.drop_field:
        fields = [f for f in fields if f.field != order.drop_field]
    total = {name: round(sum(float(r[name]) for r in records), 2) for name in MONEY}
    title = f"{world.city.name}{month.year}年{period(month)}水利重点工程建设进展情况表"
    table = tables.build(
        fields,
        records,
        style,
        title=title,
        unit_row=f"单位：{order.money_unit}",
        city=world.city,
        cell_rng=lambda _, r: world.rng(WATER, "cells", month.isoformat(), r.get("_code", r["project_code"])),
        subtitle=f"（截至{month.year}年{month.month}月底）",
        total=total,
        notes=[order.signature] + (["注：项目代码以投资项目在线审批监管平台赋码为准。"] if style.remarks else []),
        csv_file=True,
    )
    content, row_numbers = tables.to_csv(table, encoding=encoding)
    return Rendered(
        file_name=f"{title}.csv",
        content=content,
        rows=len(records),
        defects=[
            Defect(
                WATER,
                f"{month:%Y-%m}",
                "malformed_project_code",
                project_code=str(r["_code"]),
                source_row=row_numbers[records.index(r)],
                field=field,
                value=value,
                row_key=value,
            )
            for r, field, value in defects
        ],
        layout={
            "encoding": encoding,
            "unit": order.money_unit,
            "header_rows": table.header_rows,
            "serial_column": style.serial,
            "total_first": style.total_first,
            "unit_slip": order.unit_slip,
        },
    )
