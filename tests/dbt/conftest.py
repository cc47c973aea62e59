"""A small sample city written straight into the raw tables, for the dbt tests.

The dbt tests are about the models, not the readers: rows go into
``raw.<dept>__<dataset>`` the way the loader leaves them (one accepted
``meta.deliveries`` version per dataset and month, the month's rows replaced
in one transaction, ``loaded_at`` the transaction's time). ``sample_city``
says what each department reports for a month; its keyword switches are the
corrections the tests apply to past months.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date
from types import SimpleNamespace
from typing import Any

import psycopg
import pytest
from psycopg import sql

from citydw.settings import get_settings
from citydw.transform import ensure_raw_tables

Rows = list[dict[str, Any]]

DISTRICTS = ("321002", "321003", "321012", "321023", "321081", "321084")


def month_index(month: date) -> int:
    """Months since 2021-01 (2021-01 → 0), to make values move with time."""
    return (month.year - 2021) * 12 + month.month - 1


def _projects(month: date, corrected: bool) -> dict[str, Rows]:
    def project(number: int, district: str, **values: Any) -> dict[str, Any]:
        row = {
            "project_code": f"2021-{district}-48-01-{number:06d}",
            "project_name": f"扬州市第{number}号工程",
            "category": "基础设施",
            "district": district,
            "responsible_unit": "扬州市城建国有资产控股（集团）有限责任公司",
            "status": "在建",
            "total_investment": 50000 + number,
            "annual_plan_investment": 12000,
            "month_investment": 800,
            "ytd_investment": 800 * month.month,
            "planned_start_date": date(2021, 3, 1),
            "actual_start_date": date(2021, 5, 10),
            "planned_completion_date": date(2023, 12, 1),
            "progress_note": "主体施工",
            "blocker_type": None,
            "blocker_note": None,
            "is_bond_funded": False,
        }
        row.update(values)
        return row

    started = month >= date(2022, 3, 1)
    drc = [
        project(1, "321002", is_bond_funded=True),
        project(
            2,
            "321003",
            status="新开工" if started else "储备",
            planned_start_date=date(2022, 1, 15),
            actual_start_date=date(2022, 3, 10) if started else None,
            month_investment=600 if started else 0,
            ytd_investment=600 if started else 0,
            blocker_type=None if started or month < date(2021, 12, 1) else "征地拆迁",
            blocker_note=None if started or month < date(2021, 12, 1) else "征收范围内尚有12户未签约",
        ),
        project(
            3,
            "321012",
            status="储备",
            planned_start_date=date(2022, 6, 1),
            actual_start_date=None,
            month_investment=0,
            ytd_investment=0,
            blocker_type="行政审批" if corrected and month == date(2022, 2, 1) else None,
        ),
    ]
    transport = [
        project(1, "321002", project_name="扬州市第1号工程（交通局口径）", total_investment=1),
        project(4, "321023", category="基础设施", responsible_unit="扬州市交通产业集团"),
    ]
    water = [
        project(
            5,
            "321081",
            category="水利和农业休闲",
            status="储备",
            planned_start_date=date(2021, 10, 1),
            actual_start_date=None,
            month_investment=0,
            ytd_investment=0,
            blocker_type="要素保障",
            blocker_note="用地指标未落实",
        )
    ]
    return {"drc.major_projects": drc, "transport.transport_projects": transport, "water.water_projects": water}


# Money each bond × project spends per month (万元), before any correction.
BOND_SPENDING = {
    ("21JS001", "2021-321002-48-01-000001"): {"2021-11": 500, "2021-12": 400, "2022-01": 300, "2022-02": 200},
    ("21JS001", "2021-321003-48-01-000002"): {"2021-11": 200},
    ("22JS007", "2021-321012-48-01-000003"): {"2022-03": 500, "2022-04": 100},
}


def _bonds(month: date, corrected: bool) -> Rows:
    spending = {key: dict(by_month) for key, by_month in BOND_SPENDING.items()}
    if corrected:
        # The January report of the second allocation forgot 150 万元 spent.
        spending[("21JS001", "2021-321003-48-01-000002")]["2022-01"] = 150
    bonds = {
        "21JS001": ("2021年江苏省政府专项债券（一期）", "新增专项债券", date(2021, 6, 15), 10, 3.2),
        "22JS007": ("2022年江苏省政府再融资专项债券（七期）", "再融资专项债券", date(2022, 1, 20), 7, 2.85),
    }
    allocated = {"2021-321002-48-01-000001": 5000, "2021-321003-48-01-000002": 3000, "2021-321012-48-01-000003": 2000}
    already_spent = {"2021-321002-48-01-000001": 1000, "2021-321003-48-01-000002": 0, "2021-321012-48-01-000003": 0}
    rows = []
    for (bond_code, project_code), by_month in spending.items():
        name, bond_type, issued, term, coupon = bonds[bond_code]
        if issued > month.replace(day=28):
            continue
        key = month.strftime("%Y-%m")
        cumulative = already_spent[project_code] + sum(v for m, v in by_month.items() if m <= key)
        rows.append(
            {
                "bond_code": bond_code,
                "bond_name": name,
                "bond_type": bond_type,
                "issue_date": issued,
                "term_years": term,
                "coupon_rate": coupon,
                "project_code": project_code,
                "project_name": f"项目{project_code[-1]}",
                "district_code": project_code[5:11],
                "sector": "市政和产业园区基础设施",
                "allocated": allocated[project_code],
                "month_spent": by_month.get(key, 0),
                "cumulative_spent": cumulative,
            }
        )
    return rows


# The province's 13 cities: (code, name, Jan–Jul issuance 亿元, same period last year 亿元).
# 扬州 ranks 6th by issuance and 1st by growth (198.99 / 150.00 − 1 = +32.66 %).
PROVINCE_CITIES = [
    ("320100", "南京市", 400.00, 380.00),
    ("320200", "无锡市", 260.00, 230.00),
    ("320300", "徐州市", 220.00, 200.00),
    ("320400", "常州市", 190.00, 170.00),
    ("320500", "苏州市", 380.00, 350.00),
    ("320600", "南通市", 240.00, 210.00),
    ("320700", "连云港市", 120.00, 100.00),
    ("320800", "淮安市", 140.00, 120.00),
    ("320900", "盐城市", 180.00, 150.00),
    ("321000", "扬州市", 198.99, 150.00),
    ("321100", "镇江市", 100.00, 90.00),
    ("321200", "泰州市", 150.00, 130.00),
    ("321300", "宿迁市", 110.00, 85.00),
]


def _bulletin(month: date) -> Rows:
    share = month.month / 7  # the July figures above, scaled to the months elapsed
    rows = []
    for index, (code, name, issued, previous) in enumerate(PROVINCE_CITIES):
        issued_wan = round(issued * share * 10000, 2)
        spent_wan = round(issued_wan * (0.40 + 0.03 * index), 2)
        rows.append(
            {
                "city_name": name,
                "city_code": code,
                "issued_ytd": issued_wan,
                "issued_ytd_prev_year": round(previous * share * 10000, 2),
                "spent_ytd": spent_wan,
                "spending_progress": round(spent_wan / issued_wan * 100, 2),
            }
        )
    return rows


def _spatial_plans(month: date) -> Rows:
    approved = month >= date(2022, 4, 1)
    return [
        {
            "plan_code": "GH-3210-ZT-01",
            "plan_name": "扬州市国土空间总体规划（2021—2035年）",
            "plan_level": "市级",
            "plan_type": "总体规划",
            "district": None,
            "status": "已批复",
            "planned_approval_date": date(2021, 9, 30),
            "approval_date": date(2021, 10, 12),
        },
        {
            "plan_code": "GH-321012-XX-03",
            "plan_name": "江都区仙女镇控制性详细规划",
            "plan_level": "县级",
            "plan_type": "详细规划",
            "district": "321012",
            "status": "已批复" if approved else "编制中",
            "planned_approval_date": date(2022, 2, 28),
            "approval_date": date(2022, 4, 8) if approved else None,
        },
        {
            "plan_code": "GH-321084-ZX-07",
            "plan_name": "高邮市临泽镇综合交通专项规划",
            "plan_level": "乡级",
            "plan_type": "相关专项规划",
            "district": "321084",
            "status": "未启动",
            "planned_approval_date": date(2023, 6, 30),
            "approval_date": None,
        },
    ]


def _renovation(month: date) -> Rows:
    return [
        {
            "project_id": "GZ-2022-001",
            "community_name": "文昌花园",
            "renovation_type": "老旧小区",
            "district": "321002",
            "street": "文昌路街道",
            "households": 820,
            "floor_area": 6.4,
            "plan_year": 2022,
            "status": "在建" if month >= date(2022, 3, 1) else "未开工",
            "start_date": date(2022, 3, 5) if month >= date(2022, 3, 1) else None,
            "completion_date": None,
            "investment": 3200,
        }
    ]


def _drainage(month: date) -> Rows:
    elapsed = max(0, month_index(month) - 11)  # months of 2022 reported
    return [
        {
            "zone_code": "PS-321002-01",
            "zone_name": "东关片区",
            "district": "321002",
            "area_km2": 2.4,
            "plan_year": 2021,
            "status": "在建",
            "completion_pct": 80,
        },
        {
            "zone_code": "PS-321003-02",
            "zone_name": "西湖片区",
            "district": "321003",
            "area_km2": 3.1,
            "plan_year": 2022,
            "status": "在建",
            "completion_pct": 5 + 5 * elapsed,
        },
        {
            "zone_code": "PS-321012-01",
            "zone_name": "仙女镇片区",
            "district": "321012",
            "area_km2": 1.8,
            "plan_year": 2022,
            "status": "已达标",
            "completion_pct": 100,
        },
    ]


def _demolition(month: date, corrected: bool) -> Rows:
    rows = []
    for number, district in enumerate(DISTRICTS, start=1):
        monthly = 0.5 * number
        ytd = round(monthly * month.month, 2)
        if corrected and month == date(2021, 12, 1) and district == "321002":
            ytd = 9.9  # the December total was revised upwards
        rows.append(
            {
                "district": district,
                "annual_target": 6.0 * number if month.year == 2022 else 5.0 * number,
                "month_demolished": monthly,
                "ytd_demolished": ytd,
                "month_households": 10 * number,
                "month_land": 12.5 * number,
                "ytd_land": 12.5 * number * month.month,
            }
        )
    return rows


def _facility(facility_id: str, name: str, kind: str, district: str, lat: float, lng: float, **values: Any) -> dict:
    row = {
        "facility_id": facility_id,
        "name": name,
        "type": kind,
        "district": district,
        "street": "街道",
        "lng": lng,
        "lat": lat,
        "capacity": 0,
        "status": "已投用",
        "plan_year": 2019,
        "start_date": date(2019, 3, 1),
        "open_date": date(2020, 9, 1),
    }
    row.update(values)
    return row


def _facilities(month: date, corrected: bool) -> dict[str, Rows]:
    schools = [
        # The primary school lies ~250 m north of community XQ-001.
        _facility("12321000MB1A00001X", "扬州市文昌小学", "小学", "321002", 32.3962, 119.4300, capacity=1800),
        _facility("12321000MB1A00002X", "扬州市邗江实验初中", "初中", "321003", 32.4150, 119.3850, capacity=1200),
        _facility(
            "12321000MB1A00003X",
            "江都区仙城九年一贯制学校",
            "九年一贯制学校",
            "321012",
            32.4320,
            119.5720,
            capacity=2700,
        ),
        _facility(
            "12321000MB1A00004X",
            "广陵区东关幼儿园",
            "幼儿园",
            "321002",
            32.3945,
            119.4320,
            capacity=270,
            inclusive=True,
        ),
        _facility(
            "2021-321003-83-01-000011",
            "邗江区西湖幼儿园（规划）",
            "幼儿园",
            "321003",
            32.4110,
            119.3810,
            capacity=360,
            status="规划",
            plan_year=2021,
            start_date=None,
            open_date=None,
            inclusive=True,
        ),
        _facility(
            "2022-321084-83-01-000012",
            "高邮市城南小学（新建）",
            "小学",
            "321084",
            32.7790,
            119.4480,
            capacity=1350,
            status="在建" if month >= date(2022, 2, 1) else "规划",
            plan_year=2022,
            start_date=date(2022, 2, 10) if month >= date(2022, 2, 1) else None,
            open_date=None,
        ),
    ]
    for school in schools:
        school.setdefault("inclusive", None)
    clinics = [
        _facility(
            "12321000MB1B00001X",
            "广陵区汶河社区卫生服务中心",
            "社区卫生服务中心",
            "321002",
            32.3980,
            119.4350,
            capacity=60,
        ),
        _facility("12321000MB1B00002X", "高邮市临泽镇卫生院", "乡镇卫生院", "321084", 32.7810, 119.4520, capacity=40),
        _facility(
            "12321000MB1B00003X", "邗江区蒋王社区卫生服务站", "社区卫生服务站", "321003", 32.4105, 119.3790, capacity=0
        ),
    ]
    opened = month >= date(2022, 1, 1)
    elderly = [
        _facility(
            "2021-321003-84-01-000021",
            "邗江区蒋王街道养老综合体",
            "街道养老综合体",
            "321003",
            32.4120,
            119.3820,
            capacity=100,
            status="已投用" if opened else "在建",
            plan_year=2021,
            start_date=date(2021, 4, 1),
            open_date=date(2022, 1, 15) if opened else None,
        ),
        _facility(
            "12321000MB1C00002X", "广陵区汶河日间照料中心", "日间照料中心", "321002", 32.3990, 119.4390, capacity=20
        ),
        _facility("12321000MB1C00003X", "江都区社会福利院", "养老院", "321012", 32.4350, 119.5600, capacity=300),
    ]
    parking = [
        {
            **_facility(
                "TCC-321002-001",
                "文昌阁地下停车场",
                "",
                "321002",
                32.3950,
                119.4305,
                capacity=250 if corrected and month == date(2022, 1, 1) else 200,
            )
        },
        {
            **_facility(
                "TCC-321012-002",
                "江都人民医院停车场（规划）",
                "",
                "321012",
                32.4310,
                119.5710,
                capacity=150,
                status="规划",
                plan_year=2022,
                start_date=None,
                open_date=None,
            )
        },
    ]
    parking_rows = [
        {
            "lot_id": lot["facility_id"],
            "name": lot["name"],
            "district": lot["district"],
            "street": lot["street"],
            "lng": lot["lng"],
            "lat": lot["lat"],
            "spaces": lot["capacity"],
            "status": lot["status"],
            "plan_year": lot["plan_year"],
            "start_date": lot["start_date"],
            "open_date": lot["open_date"],
        }
        for lot in parking
    ]
    return {
        "education.schools": schools,
        "health.clinics": clinics,
        "civil_affairs.elderly_care": elderly,
        "urban_mgmt.parking_lots": parking_rows,
    }


# Communities: (id, district, lat, lng, residents).
COMMUNITIES = [
    ("XQ-001", "321002", 32.3940, 119.4300, 3000),
    ("XQ-002", "321002", 32.4030, 119.4450, 2000),
    ("XQ-003", "321003", 32.4100, 119.3800, 4000),
    ("XQ-004", "321003", 32.4300, 119.3600, 1500),
    ("XQ-005", "321012", 32.4300, 119.5700, 2500),
    ("XQ-006", "321084", 32.7800, 119.4500, 1000),
]


def _population(year: int, corrected: bool) -> Rows:
    rows = []
    for number, district in enumerate(DISTRICTS, start=1):
        residents = 100000 * number + (1000 if year == 2021 else 0)
        if corrected and year == 2021 and district == "321002":
            residents += 5000
        rows.append(
            {
                "district_code": district,
                "street": "城区街道",
                "residents": residents,
                "residents_60_plus": residents // 4,
                "residents_3_5": residents // 30,
                "residents_6_11": residents // 15,
                "residents_12_14": residents // 30,
            }
        )
    return rows


def _communities() -> Rows:
    return [
        {
            "community_id": community_id,
            "name": f"{community_id}小区",
            "district_code": district,
            "street": "城区街道",
            "lng": lng,
            "lat": lat,
            "residents": residents,
        }
        for community_id, district, lat, lng, residents in COMMUNITIES
    ]


def sample_city(month: date, *, corrected: bool = False) -> dict[str, Rows]:
    """Every monthly dataset's rows for ``month``; ``corrected`` applies the corrections."""
    return {
        **_projects(month, corrected),
        "finance.bond_allocations": _bonds(month, corrected),
        "finance.province_bond_bulletin": _bulletin(month),
        "nrp.spatial_plans": _spatial_plans(month),
        "housing.renovation_projects": _renovation(month),
        "housing.drainage_zones": _drainage(month),
        "expropriation.demolition_progress": _demolition(month, corrected),
        **_facilities(month, corrected),
    }


def sample_reference_data(year: int, *, corrected: bool = False) -> dict[str, Rows]:
    """The yearly stats datasets for ``year`` (communities only for 2021)."""
    data = {"stats.population": _population(year, corrected)}
    if year == 2021:
        data["stats.residential_communities"] = _communities()
    return data


def load_delivery(conn: psycopg.Connection, dataset: str, month: date, rows: Rows) -> int:
    """Replace the month's rows of the dataset, as the loader does: a new accepted version, one transaction."""
    table = sql.Identifier("raw", dataset.replace(".", "__"))
    with conn.transaction():
        version = conn.execute(
            "select coalesce(max(version), 0) + 1 from meta.deliveries where dataset = %s and report_month = %s",
            (dataset, month),
        ).fetchone()[0]
        digest = hashlib.sha256(f"{dataset}|{month}|{version}|{rows!r}".encode()).hexdigest()
        conn.execute(
            "update meta.deliveries set status = 'superseded' "
            "where dataset = %s and report_month = %s and status = 'accepted'",
            (dataset, month),
        )
        delivery_id = conn.execute(
            """
            insert into meta.deliveries (dataset, report_month, version, sha256, size_bytes, source_uri,
                                         archive_uri, received_at, status, rows_received, rows_loaded,
                                         rows_quarantined, decided_at)
            values (%s, %s, %s, %s, 1, 'test://sample-city', 'test://archive', now(), 'accepted', %s, %s, 0, now())
            returning delivery_id
            """,
            (dataset, month, version, digest, len(rows), len(rows)),
        ).fetchone()[0]
        conn.execute(sql.SQL("delete from {} where report_month = %s").format(table), (month,))
        for source_row, row in enumerate(rows, start=4):
            columns = ["report_month", "delivery_id", "source_row", *row]
            conn.execute(
                sql.SQL("insert into {} ({}) values ({})").format(
                    table,
                    sql.SQL(", ").join(map(sql.Identifier, columns)),
                    sql.SQL(", ").join(sql.Placeholder() * len(columns)),
                ),
                (month, delivery_id, source_row, *row.values()),
            )
    return delivery_id


def load_month(conn: psycopg.Connection, month: date, *, corrected: bool = False, only: set[str] | None = None) -> None:
    """Load every monthly dataset of the sample city for ``month`` (or only the named ones)."""
    for dataset, rows in sample_city(month, corrected=corrected).items():
        if only is None or dataset in only:
            load_delivery(conn, dataset, month, rows)


def load_reference_year(conn: psycopg.Connection, year: int, *, corrected: bool = False) -> None:
    for dataset, rows in sample_reference_data(year, corrected=corrected).items():
        load_delivery(conn, dataset, date(year, 1, 1), rows)


@pytest.fixture
def raw_warehouse(warehouse_url: str) -> Iterator[psycopg.Connection]:
    """This test's database with every registered raw table created, and an autocommit connection to it."""
    ensure_raw_tables(warehouse_url, get_settings())
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        yield conn


@pytest.fixture
def sample() -> SimpleNamespace:
    """The sample city's loaders (a conftest is not importable): ``sample.load_month(conn, month)`` …"""
    return SimpleNamespace(
        load_month=load_month,
        load_reference_year=load_reference_year,
        load_delivery=load_delivery,
        sample_city=sample_city,
        sample_reference_data=sample_reference_data,
    )
