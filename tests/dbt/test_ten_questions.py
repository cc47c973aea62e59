"""The ten questions' SQL (dbt_project/analyses/ten_questions/) against figures computed in Python.

The sample city (conftest.py) is loaded for 2021-11 … 2022-03 and built;
each question's query is run as a BI user would (plain SQL, the month set
with ``set citydw.report_month``) and its answer compared with the same
figure computed independently from the rows that were delivered — never
with numbers copied from the query's output. Q10 reads the delivery ledger,
whose figures are the quality marts' own tests' business; here it must run
and name only deliveries with a problem.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from datetime import date
from pathlib import Path

import psycopg
import pytest

from citydw.settings import get_settings
from citydw.transform import run_dbt

pytestmark = pytest.mark.slow

ASKED = date(2022, 3, 1)
MONTHS = [date(2021, 11, 1), date(2021, 12, 1), date(2022, 1, 1), date(2022, 2, 1), date(2022, 3, 1)]
CITY_CODE = "321000"


def questions_dir() -> Path:
    return get_settings().dbt_project_path / "analyses" / "ten_questions"


def ask(conn: psycopg.Connection, number: int, month: date | None = ASKED) -> list[dict]:
    (path,) = questions_dir().glob(f"q{number:02d}_*.sql")
    if month is None:
        conn.execute("reset citydw.report_month")
    else:
        conn.execute(f"set citydw.report_month = '{month.isoformat()}'")
    cursor = conn.execute(path.read_text(encoding="utf-8"))
    names = [column.name for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def close(actual: object, expected: float | None, places: int = 9) -> bool:
    if actual is None or expected is None:
        return actual is None and expected is None
    return abs(float(actual) - expected) < 10**-places


def test_the_ten_questions_answer_what_the_deliveries_say(raw_warehouse, warehouse_url, sample):
    conn = raw_warehouse
    for month in MONTHS:
        sample.load_month(conn, month)
    for year in (2020, 2021):
        sample.load_reference_year(conn, year)
    result = run_dbt(["build"], url=warehouse_url)
    assert result.success, "\n".join(result.failures)

    delivered = {month: sample.sample_city(month) for month in MONTHS}
    now = delivered[ASKED]

    check_bond_questions(conn, now)
    check_projects_not_started(conn, now)
    check_demolition(conn, delivered)
    check_facilities(conn, now, sample)
    check_drainage(conn, now)
    check_spatial_plans(conn, now)
    check_deliveries(conn)


def check_bond_questions(conn, now) -> None:
    bulletin = now["finance.province_bond_bulletin"]
    cities = [row for row in bulletin if row["city_code"] != "320000"]
    growth = {row["city_code"]: row["issued_ytd"] / row["issued_ytd_prev_year"] - 1 for row in cities}
    issued = {row["city_code"]: row["issued_ytd"] for row in cities}
    rank_by_issued = 1 + sum(1 for value in issued.values() if value > issued[CITY_CODE])
    rank_by_growth = 1 + sum(1 for value in growth.values() if value > growth[CITY_CODE])

    (q1,) = ask(conn, 1)
    assert close(q1["issued_ytd_wan"], issued[CITY_CODE], 2)
    assert close(q1["issued_yoy_growth"], growth[CITY_CODE])
    assert round(float(q1["issued_yoy_growth"]), 4) == 0.3266
    assert (q1["province_rank_by_issued"], q1["province_rank_by_growth"], q1["province_city_count"]) == (
        rank_by_issued,
        rank_by_growth,
        13,
    )
    assert (rank_by_issued, rank_by_growth) == (6, 1)

    bonds = now["finance.bond_allocations"]
    own = sum(row["cumulative_spent"] for row in bonds) / sum(row["allocated"] for row in bonds)
    province = sum(row["spent_ytd"] for row in cities) / sum(row["issued_ytd"] for row in cities)
    (q2,) = ask(conn, 2)
    assert close(q2["spending_progress"], own)
    assert close(q2["province_avg_spending_progress"], province)
    assert close(q2["spending_progress_gap_pp"], (own - province) * 100, 6)

    by_district: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for row in bonds:
        by_district[row["district_code"]][0] += row["allocated"]
        by_district[row["district_code"]][1] += row["cumulative_spent"]
    progress = {district: spent / allocated for district, (allocated, spent) in by_district.items()}
    q3 = {row["district_code"]: row for row in ask(conn, 3)}
    assert len(q3) == 6
    for district, value in progress.items():
        assert close(q3[district]["spending_progress"], value)
        assert q3[district]["rank_in_city"] == 1 + sum(1 for other in progress.values() if other > value)
    for district in set(q3) - set(progress):
        assert q3[district]["spending_progress"] is None and q3[district]["rank_in_city"] is None
    spread = (max(progress.values()) - min(progress.values())) * 100
    assert all(close(row["spread_pp"], spread, 6) for row in q3.values())


def check_projects_not_started(conn, now) -> None:
    month_end = date(2022, 3, 31)
    projects: dict[str, dict] = {}
    # The DRC is the authority; sector feeds only for projects it does not report.
    for dataset in ("water.water_projects", "transport.transport_projects", "drc.major_projects"):
        for row in now[dataset]:
            projects[row["project_code"]] = row
    expected: dict[tuple, int] = defaultdict(int)
    for row in projects.values():
        started = row["status"] in ("新开工", "在建", "竣工") or row["actual_start_date"] is not None
        if not started and row["planned_start_date"] and row["planned_start_date"] <= month_end:
            expected[(row["category"], row["district"], row["blocker_type"] or "未报告原因")] += 1
    answer = {
        (row["category"], row["district_code"], row["cause"]): row["projects_not_started"] for row in ask(conn, 4)
    }
    assert answer == dict(expected)
    assert answer  # the sample has one: a water project waiting for land (要素保障)


def check_demolition(conn, delivered) -> None:
    now = {row["district"]: row for row in delivered[ASKED]["expropriation.demolition_progress"]}
    last_year: dict[str, float] = defaultdict(float)
    for month, datasets in delivered.items():
        if month.year == ASKED.year - 1:
            for row in datasets["expropriation.demolition_progress"]:
                last_year[row["district"]] = max(last_year[row["district"]], row["ytd_demolished"])
    answer = {row["district_code"]: row for row in ask(conn, 5)}
    for district, row in now.items():
        assert close(answer[district]["ytd_demolished"], row["ytd_demolished"])
        assert close(answer[district]["target_completion_rate"], row["ytd_demolished"] / row["annual_target"])
        assert close(answer[district]["prev_year_total_demolished"], last_year[district])
    total = answer[None]
    assert close(total["ytd_demolished"], sum(row["ytd_demolished"] for row in now.values()))
    assert close(total["prev_year_total_demolished"], sum(last_year.values()))


# How the registers count, written out here rather than read from the seed.
FACILITY_TYPES = {
    ("education.schools", "小学"): [("primary_school", 1)],
    ("education.schools", "初中"): [("middle_school", 1)],
    ("education.schools", "九年一贯制学校"): [("primary_school", 6 / 9), ("middle_school", 3 / 9)],
    ("education.schools", "幼儿园"): [("kindergarten", 1)],
    ("health.clinics", "社区卫生服务中心"): [("community_health_center", 1)],
    ("health.clinics", "乡镇卫生院"): [("community_health_center", 1)],
    ("civil_affairs.elderly_care", "街道养老综合体"): [("elderly_care_complex", 1)],
    ("urban_mgmt.parking_lots", None): [("public_parking", 1)],
}


def haversine_m(lat_1: float, lng_1: float, lat_2: float, lng_2: float) -> float:
    phi_1, phi_2 = math.radians(lat_1), math.radians(lat_2)
    a = (
        math.sin((phi_2 - phi_1) / 2) ** 2
        + math.cos(phi_1) * math.cos(phi_2) * math.sin(math.radians(lng_2 - lng_1) / 2) ** 2
    )
    return 2 * 6371008.8 * math.asin(min(1.0, math.sqrt(a)))


def check_facilities(conn, now, sample) -> None:
    with (get_settings().dbt_project_path / "seeds" / "facilities" / "facility_standards.csv").open() as file:
        standards = {row["facility_type"]: row for row in csv.DictReader(file)}
    facilities = []  # (type, district, capacity share, status, plan_year, lat, lng)
    for dataset in ("education.schools", "health.clinics", "civil_affairs.elderly_care", "urban_mgmt.parking_lots"):
        for row in now[dataset]:
            kind = None if dataset == "urban_mgmt.parking_lots" else row["type"]
            capacity = row.get("spaces", row.get("capacity"))
            for facility_type, share in FACILITY_TYPES.get((dataset, kind), []):
                facilities.append(
                    (
                        facility_type,
                        row["district"],
                        capacity * share,
                        row["status"],
                        row["plan_year"],
                        row["lat"],
                        row["lng"],
                    )
                )
    # 2022 months use the 2021 population and communities.
    reference = sample.sample_reference_data(2021)
    population = {row["district_code"]: row["residents"] for row in reference["stats.population"]}
    communities = reference["stats.residential_communities"]

    q7 = {(row["district_code"], row["facility_type"]): row for row in ask(conn, 7)}
    assert len(q7) == 6 * 6
    for (district, facility_type), row in q7.items():
        in_service = [f for f in facilities if f[0] == facility_type and f[1] == district and f[3] == "已投用"]
        capacity = round(sum(f[2] for f in in_service))
        assert row["facilities_in_service"] == len(in_service)
        assert close(row["capacity_in_service"], capacity)
        per_1000 = capacity * 1000 / population[district]
        assert abs(float(row["capacity_per_1000"]) - per_1000) <= 0.005  # the query rounds to 2 places
        assert row["meets_standard"] == (per_1000 >= float(standards[facility_type]["standard_per_1000"]))
        radius = float(standards[facility_type]["service_radius_m"])
        served_anywhere = [f for f in facilities if f[0] == facility_type and f[3] == "已投用"]
        local = [c for c in communities if c["district_code"] == district]
        if not local:
            assert row["residents_within_radius_share"] is None
            continue
        within = sum(
            c["residents"]
            for c in local
            if any(haversine_m(c["lat"], c["lng"], f[5], f[6]) <= radius for f in served_anywhere)
        )
        assert close(row["residents_within_radius_share"], within / sum(c["residents"] for c in local))

    expected_carried_over: dict[tuple, int] = defaultdict(int)
    for facility_type, district, _, status, plan_year, _, _ in facilities:
        if plan_year < ASKED.year and status == "规划":
            expected_carried_over[(district, facility_type)] += 1
    answer = {(row["district_code"], row["facility_type"]): row["carried_over_not_started"] for row in ask(conn, 6)}
    assert answer == dict(expected_carried_over)
    assert answer == {("321003", "kindergarten"): 1}


def check_drainage(conn, now) -> None:
    expected = set()
    for row in now["housing.drainage_zones"]:
        if row["status"] == "已达标":
            continue
        if row["plan_year"] < ASKED.year or (
            row["plan_year"] == ASKED.year and row["completion_pct"] / 100 < ASKED.month / 12
        ):
            expected.add(row["zone_code"])
    answer = {row["zone_code"] for row in ask(conn, 8)}
    assert answer == expected
    assert answer == {"PS-321002-01", "PS-321003-02"}


def check_spatial_plans(conn, now) -> None:
    expected: dict[tuple, int] = defaultdict(int)
    for row in now["nrp.spatial_plans"]:
        expected[(row["plan_level"], row["plan_type"], row["status"])] += 1
    answer = {(row["plan_level"], row["plan_type"], row["status"]): row["plans"] for row in ask(conn, 9)}
    assert answer == dict(expected)


def check_deliveries(conn) -> None:
    exists = conn.execute("select to_regclass('marts.fct_department_delivery_monthly') is not null").fetchone()[0]
    if not exists:  # the delivery ledger is another part of the project
        return
    for row in ask(conn, 10, month=None):
        assert row["is_missing"] or row["is_late"] or row["blocking_failures"] > 0 or row["rows_quarantined"] > 0, row
        assert isinstance(row["problem"], str)
