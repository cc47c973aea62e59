"""The facility registers: education, health and civil affairs' JSON APIs, and the parking ledger CSV.

The three API departments publish their whole register every month (the
keys of DEPARTMENTS.md: ``id``, ``name``, ``type``, ``qhdm``, ``jd``, ``lng``,
``lat``, ``capacity``, ``status``, ``plan_year``, ``start_date``,
``open_date``, and ``inclusive`` for kindergartens only). Urban management
keeps its public parking lots in an Excel ledger saved as CSV (公共停车场建设台账).
All four come from :mod:`citydw.demo.facilities`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from citydw.demo import tables
from citydw.demo.facilities import CLINICS, ELDERLY_CARE, PARKING, SCHOOLS, Facilities, Facility
from citydw.demo.manifest import Defect
from citydw.demo.orders import Order, Rendered
from citydw.demo.sectors import json_records
from citydw.demo.tables import Field
from citydw.demo.world import World

__all__ = ["CLINICS", "ELDERLY_CARE", "PARKING", "SCHOOLS", "render_parking", "render_register"]

CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
ROW_DEFECT_KINDS = {
    SCHOOLS: ("bad_credit_code",),
    CLINICS: ("swapped_coordinates",),
    ELDERLY_CARE: ("negative_capacity",),
    PARKING: ("unknown_status",),
}
PARKING_UNKNOWN_STATUS = "已建成"


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def register_record(facility: Facility, month: date) -> dict[str, Any]:
    state = facility.as_of(month)
    record: dict[str, Any] = {
        "id": state.facility_id,
        "name": facility.name,
        "type": facility.type,
        "qhdm": facility.district_code,
        "jd": facility.street,
        "lng": facility.lng,
        "lat": facility.lat,
        "capacity": facility.capacity,
        "status": state.status,
        "plan_year": facility.plan_year,
        "start_date": _iso(state.start_date),
        "open_date": _iso(state.open_date),
    }
    if facility.inclusive is not None:
        record["inclusive"] = facility.inclusive
    return record


def render_register(world: World, order: Order) -> Rendered:
    """The month's register of education, health or civil affairs, as its API serves it."""
    month, dataset = order.month, order.dataset
    facilities = world.part(Facilities).register(dataset, month)
    records = [register_record(f, month) for f in facilities]
    defects = []
    for kind in order.row_defects:
        rng = world.rng(dataset, "defect", kind, month.isoformat())
        if kind == "bad_credit_code":
            registered = [i for i, r in enumerate(records) if len(r["id"]) == 18]
            index = rng.choice(registered)
            code = records[index]["id"]
            wrong = rng.choice([c for c in CREDIT_ALPHABET if c != code[-1]])
            records[index]["id"] = code[:-1] + wrong
            field, value = "facility_id", records[index]["id"]
        elif kind == "swapped_coordinates":
            index = rng.randrange(len(records))
            records[index]["lng"], records[index]["lat"] = records[index]["lat"], records[index]["lng"]
            field, value = "lng", str(records[index]["lng"])
        elif kind == "negative_capacity":
            index = rng.randrange(len(records))
            records[index]["capacity"] = -records[index]["capacity"]
            field, value = "capacity", str(records[index]["capacity"])
        else:
            continue
        defects.append(
            Defect(
                dataset,
                f"{month:%Y-%m}",
                kind,
                source_row=index + 1,
                field=field,
                value=value,
                row_key=records[index]["id"],
            )
        )
    return Rendered(file_name=f"{month:%Y-%m}.json", content=json_records(records), rows=len(records), defects=defects)


# -- the parking ledger ---------------------------------------------------------------------------


PARKING_FIELDS = [
    Field("lot_id", "编号", width=16),
    Field("name", "名称", width=30),
    Field("district", "所在地区", "district"),
    Field("street", "街道"),
    Field("lng", "经度", "money", decimals=6),
    Field("lat", "纬度", "money", decimals=6),
    Field("spaces", "泊位数", "integer"),
    Field("status", "状态"),
    Field("plan_year", "计划年度", "integer"),
    Field("start_date", "开工时间", "date"),
    Field("open_date", "投用时间", "date"),
]


def lot_ids(world: World, month: date) -> dict[Facility, str]:
    """Each lot's ledger number, TC + district + serial, given in the order lots joined the ledger."""
    numbers: dict[str, int] = {}
    ids = {}
    for facility in world.part(Facilities).register(PARKING, month):
        numbers[facility.district_code] = numbers.get(facility.district_code, 0) + 1
        ids[facility] = f"TC{facility.district_code}{numbers[facility.district_code]:04d}"
    return ids


def render_parking(world: World, order: Order) -> Rendered:
    month = order.month
    style = tables.choose_style(world.rng(PARKING, "layout", month.isoformat()), two_row_chance=0.0)
    encoding = "gb18030" if month.month % 3 else "utf-8-sig"
    ids = lot_ids(world, month)
    records: list[dict[str, Any]] = []
    for facility, lot_id in ids.items():
        state = facility.as_of(month)
        records.append(
            {
                "lot_id": lot_id,
                "name": facility.name,
                "district": facility.district_code,
                "street": facility.street,
                "lng": facility.lng,
                "lat": facility.lat,
                "spaces": facility.capacity,
                "status": state.status,
                "plan_year": facility.plan_year,
                "start_date": state.start_date,
                "open_date": state.open_date,
            }
        )
    defects = []
    if "unknown_status" in order.row_defects and records:
        index = world.rng(PARKING, "defect", month.isoformat()).choice(
            [i for i, r in enumerate(records) if r["status"] == "已投用"]
        )
        records[index]["status"] = PARKING_UNKNOWN_STATUS
        defects.append((records[index], "status", PARKING_UNKNOWN_STATUS))
    fields = [f for f in PARKING_FIELDS if f.field != order.drop_field]
    title = f"{world.city.name}公共停车场建设台账（{month.year}年{month.month}月）"
    table = tables.build(
        fields,
        records,
        style,
        title=title,
        unit_row=None,
        city=world.city,
        cell_rng=lambda _, r: world.rng(PARKING, "cells", month.isoformat(), r["lot_id"]),
        total={"spaces": sum(int(r["spaces"]) for r in records)},
        notes=[order.signature],
        csv_file=True,
    )
    content, row_numbers = tables.to_csv(table, encoding=encoding)
    return Rendered(
        file_name=f"{title}.csv",
        content=content,
        rows=len(records),
        defects=[
            Defect(
                PARKING,
                f"{month:%Y-%m}",
                "unknown_status",
                source_row=row_numbers[records.index(r)],
                field=field,
                value=value,
                row_key=str(r["lot_id"]),
            )
            for r, field, value in defects
        ],
        layout={"encoding": encoding, "serial_column": style.serial, "total_first": style.total_first},
    )
