"""The finance bureau's deliveries: the bond allocation CSV and the province's bulletin.

finance.bond_allocations (专项债券资金使用情况表) is a CSV exported from the
bureau's debt system and tidied in Excel: a title and a unit row, sometimes
a group row over the header, a 合计 row and the signature under the table;
GB18030 most months, UTF-8 with a BOM now and then. One row per bond and
project, from :mod:`citydw.demo.bonds`.

finance.province_bond_bulletin is the province's xlsx: one row per
prefecture city in 亿元 with two decimals, the header naming the months
("1-7月新增专项债券发行额（亿元）"), a 全省合计 row at the end. The city's
own row is the sum of its allocations, so it agrees with the CSV within the
rounding to 0.01 亿元.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from citydw.demo import tables
from citydw.demo.bonds import Allocation, Bonds
from citydw.demo.manifest import Defect
from citydw.demo.messy import period
from citydw.demo.orders import Order, Rendered
from citydw.demo.tables import Column, Field
from citydw.demo.world import World

ALLOCATIONS = "finance.bond_allocations"
BULLETIN = "finance.province_bond_bulletin"
MONEY = ("allocated", "month_spent", "cumulative_spent")
UTF8_BOM_MONTHS = (3, 8, 11)
"""Months the clerk's new computer saved the CSV as UTF-8 with a BOM; GB18030 otherwise."""


def allocation_fields(month: date, unit: str, monthly_header: str) -> list[Field]:
    money = f"（{unit}）"
    bond, project, use = "债券信息", "项目信息", "资金使用情况"
    return [
        Field("bond_code", "债券编码", group=bond, width=16),
        Field("bond_name", "债券名称", group=bond, width=34),
        Field("bond_type", "债券类型", group=bond),
        Field("issue_date", "发行日期", "date", group=bond),
        Field("term_years", "期限（年）", "integer", group=bond, width=8),
        Field("coupon_rate", "票面利率（%）", "percent", group=bond, width=8),
        Field("project_code", "项目代码", group=project, width=26),
        Field("project_name", "项目名称", group=project, width=36),
        Field("district_code", "区划代码", group=project, width=10),
        Field("sector", "投向领域", group=project, width=16),
        Field("allocated", f"分配金额{money}", "money", group=use),
        Field("month_spent", f"{monthly_header}{money}", "money", group=use),
        Field("cumulative_spent", f"累计支出{money}", "money", group=use),
    ]


def render_allocations(world: World, order: Order) -> Rendered:
    month = order.month
    rng = world.rng(ALLOCATIONS, "layout", month.isoformat())
    style = tables.choose_style(rng, two_row_chance=0.3)
    monthly_header = rng.choice(("本月支出", "本月支出", f"{month.month}月支出"))
    coupon_with_sign = rng.random() < 0.3
    encoding = "utf-8-sig" if month.month in UTF8_BOM_MONTHS else "gb18030"
    factor = 10_000 if order.money_unit == "元" else 1

    bond_year = world.part(Bonds).year(month.year)
    allocations = sorted(
        (a for a in bond_year.allocations if a.is_issued_by(month)),
        key=lambda a: (a.bond.issue_date, a.bond.code, a.recipient.code),
    )
    unlisted_on = [
        a.unlisted is not None and _unlisted_draw(world, a) < min(1.0, order.defect_rate) for a in allocations
    ]
    records = [_record(a, month, factor, coupon_with_sign, on) for a, on in zip(allocations, unlisted_on, strict=True)]

    defects: list[tuple[str, dict[str, Any], str, str]] = []  # kind, record, field, value
    for record, on in zip(records, unlisted_on, strict=True):
        if on:
            defects.append(("unlisted_project", record, "project_code", str(record["project_code"])))
    if "spent_over_allocated" in order.row_defects and records:
        pick = world.rng(ALLOCATIONS, "defect", month.isoformat()).randrange(len(records))
        record = records[pick]
        record["cumulative_spent"] = round(float(record["allocated"]) * 1.1, 2)
        defects.append(("spent_over_allocated", record, "cumulative_spent", f"{record['cumulative_spent']:.2f}"))

    fields = allocation_fields(month, order.money_unit, monthly_header)
    if order.drop_field:
        fields = [f for f in fields if f.field != order.drop_field]
    total = {name: round(sum(float(r[name]) for r in records), 2) for name in MONEY}
    title = f"{world.city.name}{month.year}年{period(month)}专项债券资金使用情况表"
    table = tables.build(
        fields,
        records,
        style,
        title=title,
        unit_row=f"单位：{order.money_unit}",
        city=world.city,
        cell_rng=lambda _, r: world.rng(ALLOCATIONS, "cells", month.isoformat(), r["bond_code"], r["project_code"]),
        subtitle=f"（截至{month.year}年{month.month}月末）",
        total=total,
        notes=[order.signature] + (["注：本表金额按国库集中支付系统数据填列。"] if style.remarks else []),
        csv_file=True,
    )
    content, row_numbers = tables.to_csv(table, encoding=encoding)
    return Rendered(
        file_name=f"{title}.csv",
        content=content,
        rows=len(records),
        defects=[
            Defect(
                dataset=ALLOCATIONS,
                month=f"{month:%Y-%m}",
                kind=kind,
                project_code=str(record["project_code"]),
                source_row=row_numbers[records.index(record)],
                field=field,
                value=value,
                row_key=f"{record['bond_code']}|{record['project_code']}",
            )
            for kind, record, field, value in defects
        ],
        layout={
            "encoding": encoding,
            "unit": order.money_unit,
            "header_rows": table.header_rows,
            "serial_column": style.serial,
            "total_first": style.total_first,
            "monthly_header": monthly_header,
        },
    )


def _unlisted_draw(world: World, allocation: Allocation) -> float:
    return world.rng(ALLOCATIONS, "unlisted", allocation.bond.code, allocation.recipient.code).random()


def _record(allocation: Allocation, month: date, factor: int, coupon_with_sign: bool, unlisted: bool) -> dict[str, Any]:
    bond = allocation.bond
    recipient = allocation.unlisted if unlisted and allocation.unlisted else allocation.recipient
    return {
        "bond_code": bond.code,
        "bond_name": bond.name,
        "bond_type": bond.type,
        "issue_date": bond.issue_date,
        "term_years": bond.term_years,
        "coupon_rate": f"{bond.coupon_rate:.2f}%" if coupon_with_sign else bond.coupon_rate,
        "project_code": recipient.code,
        "project_name": recipient.name,
        "district_code": recipient.district_code,
        "sector": recipient.sector,
        "allocated": allocation.allocated / 100 * factor,
        "month_spent": allocation.spent_in(month) / 100 * factor,
        "cumulative_spent": allocation.spent_through(month) / 100 * factor,
    }


# -- the province's bulletin ---------------------------------------------------------------


def bulletin_rows(world: World, month: date) -> list[dict[str, Any]]:
    """One row per prefecture city, amounts in 亿元 rounded to 0.01, progress in % to 0.01."""
    bonds = world.part(Bonds)
    this_year, last_year = bonds.year(month.year), bonds.year(month.year - 1)
    previous_month = date(month.year - 1, month.month, 1)
    rows = []
    for code, name in world.city.province_cities.items():
        if code == world.city.code:
            issued, spent = this_year.issued(month) / 100, this_year.spent(month) / 100
            issued_before = last_year.issued(previous_month) / 100
        else:
            issued, spent = this_year.other_city(code, month)
            issued_before = last_year.other_city(code, previous_month)[0]
        rows.append(
            {
                "city_name": name,
                "city_code": code,
                "issued_ytd": round(issued / 10_000, 2),
                "issued_ytd_prev_year": round(issued_before / 10_000, 2),
                "spent_ytd": round(spent / 10_000, 2),
                "spending_progress": round(100 * spent / issued, 2) if issued else 0.0,
                "_issued": issued,
                "_spent": spent,
                "_before": issued_before,
            }
        )
    return rows


def render_bulletin(world: World, order: Order) -> Rendered:
    month = order.month
    rng = world.rng(BULLETIN, "layout", month.isoformat())
    style = tables.choose_style(rng, sheet_names=("通报", "Sheet1", f"{month.month}月"), two_row_chance=0.5)
    short_names = rng.random() < 0.3
    with_rank = rng.random() < 0.5
    records = bulletin_rows(world, month)
    for record in records:
        if short_names:
            record["city_name"] = str(record["city_name"]).removesuffix("市")
    issued_header = f"{period(month)}新增专项债券发行额（亿元）"
    fields = [
        Field("city_name", "地区", width=10),
        Field("city_code", "区划代码", width=10),
        Field("issued_ytd", issued_header, "money", group="发行情况", width=16),
        Field("issued_ytd_prev_year", "上年同期发行额（亿元）", "money", group="发行情况", width=14),
        Field("spent_ytd", "累计支出（亿元）", "money", group="使用情况", width=12),
        Field("spending_progress", "支出进度（%）", "percent", group="使用情况", width=10),
    ]
    if order.drop_field:
        fields = [f for f in fields if f.field != order.drop_field]
    ranks = {r["city_code"]: i + 1 for i, r in enumerate(sorted(records, key=lambda r: -float(r["spending_progress"])))}
    extra = (
        [(Column("进度排名", None, decimals=0, width=8), lambda _, r: float(ranks[r["city_code"]]))]
        if with_rank
        else []
    )
    issued = sum(float(r["_issued"]) for r in records)
    spent = sum(float(r["_spent"]) for r in records)
    total = {
        "issued_ytd": round(issued / 10_000, 2),
        "issued_ytd_prev_year": round(sum(float(r["_before"]) for r in records) / 10_000, 2),
        "spent_ytd": round(spent / 10_000, 2),
        "spending_progress": round(100 * spent / issued, 2) if issued else 0.0,
    }
    style = tables.Style(**{**style.__dict__, "total_first": False, "total_label": "全省合计", "serial": style.serial})
    table = tables.build(
        fields,
        records,
        style,
        title=f"全省新增专项债券发行使用情况通报（{month.year}年{period(month)}）",
        unit_row="单位：亿元、%",
        city=world.city,
        cell_rng=lambda _, r: world.rng(BULLETIN, "cells", month.isoformat(), r["city_code"]),
        total=total,
        notes=[
            "注：1.发行额为新增专项债券；2.支出进度=累计支出/发行额。",
            f"{world.city.province_name}财政厅债务管理处",
        ],
        extra_columns=extra,
    )
    progress = next((i for i, c in enumerate(table.columns) if c.field == "spending_progress"), None)
    if style.percent_form == "excel" and table.total and progress is not None:
        # The total row's progress is a fraction formatted as a percentage, like the column above it.
        table.total[progress] = round(float(table.total[progress]) / 100, 4)  # type: ignore[arg-type]
    created = order.delivered_at
    content, _ = tables.to_xlsx(table, author="财政厅", company=f"{world.city.province_name}财政厅", created=created)
    return Rendered(
        file_name=f"关于{month.year}年{period(month)}全省新增专项债券发行使用情况的通报.xlsx",
        content=content,
        rows=len(records),
        layout={
            "header_rows": table.header_rows,
            "serial_column": style.serial,
            "percent_form": style.percent_form,
            "short_names": short_names,
            "rank_column": with_rank,
        },
    )
