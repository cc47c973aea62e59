"""The ten questions (dbt_project/analyses/ten_questions/) on a generated year, against Python.

The demo city's 2022 is generated with a real year's defects (late, missing
and rejected deliveries, a month in 元, a unit slip, rows that break rules),
ingested month by month through the pipeline (readers, GX, quarantine, COPY)
and built by dbt. Each question's file then runs as a BI user runs it: as
``citydw_bi``, unchanged (one plain statement, no session setting), every
month returned; the month is picked from its ``report_month`` column as a BI
tool's filter picks it. For every month of the year, its answer is compared
with the same figure computed here, in
Python, from what the departments delivered: the accepted rows in ``raw.*``,
read with the definitions of dbt_project/README.md and never from a mart or
a staging view. Q10 is compared with the generator's own list of the defects
it put in (``manifest.json``).
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from citydw.city import load_city
from citydw.demo.generate import LAST_YEAR_MONTHLY, generate
from citydw.demo.run import demo_apis
from citydw.months import month_range
from citydw.orchestration import ingest_month
from citydw.quality import ledger
from citydw.registry import load_registry
from citydw.settings import get_settings
from citydw.transform import run_dbt
from citydw.warehouse.roles import BI_ROLE, ensure_bi_password

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("ten_questions")]

YEAR = 2022
MONTHS = month_range(date(YEAR, 1, 1), date(YEAR, 12, 1))
SEED = 2022
CITY_CODE = "321000"
PROVINCE_CODE = "320000"
DISTRICTS = load_city().district_codes

Rows = list[dict[str, Any]]


@pytest.fixture(scope="module")
def year(
    new_database, warehouse_server_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SimpleNamespace]:
    """2022 generated, ingested month by month and built; ``year.conn`` reads raw, ``year.bi`` is citydw_bi."""
    home = tmp_path_factory.mktemp("ten-questions-home")
    with new_database() as url:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("CITYDW_HOME", str(home))
            patch.setenv("CITYDW_WAREHOUSE_URL", url)
            for variable in ("CITYDW_DROP_URL", "CITYDW_ARCHIVE_URL"):
                patch.delenv(variable, raising=False)
            get_settings.cache_clear()
            settings = get_settings()
            generate(str(settings.drop_root), MONTHS[0], MONTHS[-1], seed=SEED)
            with demo_apis(settings):
                # Last December's demolition report, which the generator writes for the year-on-year
                # comparison: a city starting in January loads it once (make demo does not).
                ingest_month(f"{YEAR - 1}-12", list(LAST_YEAR_MONTHLY))
                for month in MONTHS:
                    ingest_month(f"{month:%Y-%m}")
            # What the report DAG does before its build: the delivery ledger's schedule.
            with psycopg.connect(url, autocommit=True) as conn:
                ledger.refresh_schedule(conn, load_registry(), up_to=MONTHS[-1])
            result = run_dbt(["build"], url=url)
            assert result.success, "\n".join(result.failures)
            manifest = json.loads((Path(settings.drop_root) / "manifest.json").read_text(encoding="utf-8"))
        get_settings.cache_clear()
        # The BI role's password is server-wide: derived from the server, as tests/security's.
        password = hashlib.sha256(f"citydw-bi-test|{warehouse_server_url}".encode()).hexdigest()[:32]
        ensure_bi_password(url, password)
        bi_url = make_conninfo(url, user=BI_ROLE, password=password)
        with psycopg.connect(url, autocommit=True) as conn, psycopg.connect(bi_url, autocommit=True) as bi:
            yield SimpleNamespace(conn=conn, bi=bi, manifest=manifest, delivered=Deliveries(conn), answers={})


class Deliveries:
    """What each department delivered for a period: the accepted rows of ``raw.<dept>__<dataset>``."""

    def __init__(self, conn: psycopg.Connection):
        self.conn = conn
        self.registry = load_registry()
        self._cache: dict[tuple[str, date], Rows] = {}

    def __call__(self, dataset: str, period: date) -> Rows:
        if (dataset, period) not in self._cache:
            table = sql.Identifier("raw", self.registry.dataset(dataset).raw_table)
            cursor = self.conn.execute(
                sql.SQL("select * from {} where report_month = %s order by source_row").format(table), (period,)
            )
            names = [column.name for column in cursor.description]
            self._cache[dataset, period] = [
                {
                    name: float(value) if isinstance(value, Decimal) else value
                    for name, value in zip(names, row, strict=True)
                }
                for row in cursor.fetchall()
            ]
        return self._cache[dataset, period]


def question_file(number: int) -> Path:
    (path,) = (get_settings().dbt_project_path / "analyses" / "ten_questions").glob(f"q{number:02d}_*.sql")
    return path


def ask(year: SimpleNamespace, number: int, month: date, *, since: date | None = None) -> Rows:
    """Question ``number``'s answer for ``month`` (or the months ``since`` … ``month``), as a BI tool gets it:
    the file run unchanged as citydw_bi, every month returned, the rows of the month picked by report_month."""
    if number not in year.answers:
        cursor = year.bi.execute(question_file(number).read_text(encoding="utf-8"))
        names = [column.name for column in cursor.description]
        year.answers[number] = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    first = since or month
    return [row for row in year.answers[number] if first <= row["report_month"] <= month]


def close(actual: object, expected: float | None, places: int = 4, tolerance: float | None = None) -> bool:
    """Equal within one unit of the ``places``-th decimal (or ``tolerance``): the marts keep rates to 4
    places (numeric(12,4)), 万元 and percentage points to 2, so a figure differs from the exact one by
    its rounding, and by the rounding of what it was computed from."""
    if actual is None or expected is None:
        return actual is None and expected is None
    return abs(float(actual) - expected) <= (10**-places if tolerance is None else tolerance) + 1e-12


def month_end(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def rank_of(value: float, values: list[float]) -> int:
    """1 = largest; ties share a rank."""
    return 1 + sum(1 for other in values if other > value)


# --- What a BI tool accepts ---------------------------------------------------------------------------

# What Superset's SQL Lab refuses on PostgreSQL (its DISALLOWED_SQL_FUNCTIONS and the like), session
# settings, psql meta-commands, and Metabase's template tags ({{ … }}, [[ … ]]), which it reads even in
# a comment.
NOT_FOR_BI_TOOLS = re.compile(
    r"\b(current_setting|set_config|version|query_to_xml\w*|table_to_xml\w*|database_to_xml\w*|inet_\w+)\s*\("
    r"|\b(current_user|session_user|current_role)\b"
    r"|^\s*(set|reset)\b|^\s*\\|\{\{|\}\}|\{%|\[\[|\]\]",
    re.IGNORECASE | re.MULTILINE,
)


def test_every_question_is_one_plain_statement_a_bi_tool_accepts() -> None:
    files = sorted((get_settings().dbt_project_path / "analyses" / "ten_questions").glob("q*.sql"))
    assert len(files) == 10
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert not NOT_FOR_BI_TOOLS.search(text), (path.name, NOT_FOR_BI_TOOLS.search(text).group(0))
        code = "\n".join(line.split("--")[0] for line in text.splitlines())
        assert ";" not in code.strip().rstrip(";"), f"{path.name} is more than one statement"


def test_every_question_returns_every_month_with_its_report_month(year) -> None:
    for number in range(1, 11):
        cursor = year.bi.execute(question_file(number).read_text(encoding="utf-8"))
        assert cursor.description[0].name == "report_month", number
        months = {row[0] for row in cursor.fetchall()}
        # Months are the tool's filter to pick: the months answered are returned, none is chosen for it.
        assert len(months) >= 2, (number, sorted(months))


# --- Q1–Q3: special bonds -------------------------------------------------------------------------


def test_q1_q2_bond_issuance_and_spending_against_the_province(year) -> None:
    answered = 0
    for month in MONTHS:
        bulletin = year.delivered("finance.province_bond_bulletin", month)
        allocations = year.delivered("finance.bond_allocations", month)
        q1, q2 = ask(year, 1, month), ask(year, 2, month)
        if not bulletin:
            assert q1 == [] and q2 == [], month
            continue
        cities = [row for row in bulletin if row["city_code"] != PROVINCE_CODE]
        issued = {row["city_code"]: row["issued_ytd"] for row in cities}
        growth = {row["city_code"]: row["issued_ytd"] / row["issued_ytd_prev_year"] - 1 for row in cities}

        (one,) = q1
        assert close(one["issued_ytd_wan"], issued[CITY_CODE], 2), month
        assert close(one["issued_yoy_growth"], growth[CITY_CODE]), month
        assert one["province_rank_by_issued"] == rank_of(issued[CITY_CODE], list(issued.values())), month
        assert one["province_rank_by_growth"] == rank_of(growth[CITY_CODE], list(growth.values())), month
        assert one["province_city_count"] == len(cities) == 13

        province = sum(row["spent_ytd"] for row in cities) / sum(row["issued_ytd"] for row in cities)
        own = (
            sum(row["cumulative_spent"] for row in allocations) / sum(row["allocated"] for row in allocations)
            if allocations
            else None
        )
        (two,) = q2
        assert close(two["spending_progress"], own), month
        assert close(two["province_avg_spending_progress"], province), month
        assert close(two["spending_progress_gap_pp"], None if own is None else (own - province) * 100, 2), month
        answered += 1
    assert answered >= 11  # the bulletin may be the year's missing delivery, once


def test_q3_bond_spending_by_district_ranked_with_the_spread(year) -> None:
    answered = 0
    for month in MONTHS:
        allocations = year.delivered("finance.bond_allocations", month)
        q3 = {row["district_code"]: row for row in ask(year, 3, month)}
        if not allocations:
            assert q3 == {}, month
            continue
        totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        for row in allocations:
            totals[row["district_code"]][0] += row["allocated"]
            totals[row["district_code"]][1] += row["cumulative_spent"]
        progress = {district: spent / allocated for district, (allocated, spent) in totals.items()}
        assert set(q3) == set(DISTRICTS), month
        for district, row in q3.items():
            if district in progress:
                assert close(row["spending_progress"], progress[district]), (month, district)
                assert row["rank_in_city"] == rank_of(progress[district], list(progress.values())), (month, district)
            else:
                assert row["spending_progress"] is None and row["rank_in_city"] is None, (month, district)
            # From the districts' rounded progress: two roundings of 0.00005, in points, and its own.
            spread = (max(progress.values()) - min(progress.values())) * 100
            assert close(row["spread_pp"], spread, tolerance=0.015), month
        answered += 1
    assert answered >= 11


# --- Q4: projects -------------------------------------------------------------------------------


PROJECT_FEEDS = ("drc.major_projects", "transport.transport_projects", "water.water_projects")
"""In order of authority: a project's row comes from the first feed that reports it."""

STARTED_STATUSES = {"新开工", "在建", "竣工"}


def test_q4_planned_projects_not_started_by_category_district_and_cause(year) -> None:
    causes: Counter[str] = Counter()
    for month in MONTHS:
        projects: dict[str, dict] = {}
        for dataset in PROJECT_FEEDS:
            for row in year.delivered(dataset, month):
                projects.setdefault(row["project_code"], row)
        expected: Counter[tuple] = Counter()
        for row in projects.values():
            started = row["status"] in STARTED_STATUSES or row["actual_start_date"] is not None
            planned = row["planned_start_date"]
            if not started and planned is not None and planned <= month_end(month):
                expected[row["category"], row["district"], row["blocker_type"] or "未报告原因"] += 1
        answer = {
            (row["category"], row["district_code"], row["cause"]): row["projects_not_started"]
            for row in ask(year, 4, month)
        }
        assert answer == dict(expected), month
        causes.update(cause for _, _, cause in answer)
    # The year has stuck projects, for reported causes and unreported ones.
    assert len(causes) >= 3, causes


# --- Q5: demolition -----------------------------------------------------------------------------


def test_q5_demolition_against_the_annual_target_and_last_years_total(year) -> None:
    last_year: dict[str, float] = defaultdict(float)
    for month in month_range(date(YEAR - 1, 1, 1), date(YEAR - 1, 12, 1)):
        for row in year.delivered("expropriation.demolition_progress", month):
            last_year[row["district"]] = max(last_year[row["district"]], row["ytd_demolished"])
    assert last_year, "the year before's December is loaded for the comparison"
    answered = 0
    for month in MONTHS:
        reported = {row["district"]: row for row in year.delivered("expropriation.demolition_progress", month)}
        answer = {row["district_code"]: row for row in ask(year, 5, month)}
        if not reported:
            assert answer == {}, month
            continue
        assert set(answer) == set(reported) | {None}, month
        for district, row in reported.items():
            assert close(answer[district]["ytd_demolished"], row["ytd_demolished"]), (month, district)
            assert close(answer[district]["annual_target"], row["annual_target"]), (month, district)
            rate = row["ytd_demolished"] / row["annual_target"] if row["annual_target"] else None
            assert close(answer[district]["target_completion_rate"], rate), (month, district)
            assert close(answer[district]["prev_year_total_demolished"], last_year.get(district)), (month, district)
        total = answer[None]
        assert close(total["ytd_demolished"], sum(row["ytd_demolished"] for row in reported.values())), month
        assert close(total["prev_year_total_demolished"], sum(last_year[d] for d in reported)), month
        answered += 1
    assert answered >= 11


# --- Q6, Q7: livelihood facilities ------------------------------------------------------------------


# How the registers count, written out here rather than read from the mapping seed.
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
REGISTERS = ("education.schools", "health.clinics", "civil_affairs.elderly_care", "urban_mgmt.parking_lots")


def haversine_m(lat_1: float, lng_1: float, lat_2: float, lng_2: float) -> float:
    phi_1, phi_2 = math.radians(lat_1), math.radians(lat_2)
    a = (
        math.sin((phi_2 - phi_1) / 2) ** 2
        + math.cos(phi_1) * math.cos(phi_2) * math.sin(math.radians(lng_2 - lng_1) / 2) ** 2
    )
    return 2 * 6371008.8 * math.asin(min(1.0, math.sqrt(a)))


def facilities_of(year, month: date) -> tuple[list[SimpleNamespace], set[str]]:
    """Every counted facility of the month's registers (one per type it counts as), and the types reported."""
    facilities, reported = [], set()
    for dataset in REGISTERS:
        rows = year.delivered(dataset, month)
        if rows:
            reported |= {t for (d, _), types in FACILITY_TYPES.items() if d == dataset for t, _ in types}
        for row in rows:
            kind = None if dataset == "urban_mgmt.parking_lots" else row["type"]
            for facility_type, share in FACILITY_TYPES.get((dataset, kind), []):
                facilities.append(
                    SimpleNamespace(
                        type=facility_type,
                        district=row["district"],
                        capacity=row.get("spaces", row.get("capacity")) * share,
                        status=row["status"],
                        plan_year=row["plan_year"],
                        lat=row["lat"],
                        lng=row["lng"],
                    )
                )
    return facilities, reported


def standards() -> dict[str, dict[str, str]]:
    with (get_settings().dbt_project_path / "seeds" / "facilities" / "facility_standards.csv").open() as file:
        return {row["facility_type"]: row for row in csv.DictReader(file)}


def test_q7_facility_coverage_against_the_standard_and_the_service_radius(year) -> None:
    # 2022's months use the statistics bureau's figures on 2021.
    reference = date(YEAR - 1, 1, 1)
    population: dict[str, float] = defaultdict(float)
    for row in year.delivered("stats.population", reference):
        population[row["district_code"]] += row["residents"]
    communities = year.delivered("stats.residential_communities", reference)
    assert population and communities
    standard = standards()
    some_served, some_unserved = False, False
    for month in (MONTHS[0], MONTHS[6], MONTHS[-1]):
        facilities, reported = facilities_of(year, month)
        answer = {(row["district_code"], row["facility_type"]): row for row in ask(year, 7, month)}
        assert set(answer) == {(d, t) for d in DISTRICTS for t in reported}, month
        for (district, facility_type), row in answer.items():
            in_service = [f for f in facilities if f.type == facility_type and f.status == "已投用"]
            local = [f for f in in_service if f.district == district]
            capacity = sum(f.capacity for f in local)
            assert row["facilities_in_service"] == len(local), (month, district, facility_type)
            assert abs(float(row["capacity_in_service"]) - capacity) <= 0.5, (month, district, facility_type)
            per_1000 = float(row["capacity_in_service"]) * 1000 / population[district]
            assert abs(float(row["capacity_per_1000"]) - per_1000) <= 0.005 + 1e-9  # the query rounds to 2 places
            assert row["meets_standard"] == (per_1000 >= float(standard[facility_type]["standard_per_1000"]))
            radius = float(standard[facility_type]["service_radius_m"])
            residents = [c for c in communities if c["district_code"] == district]
            within = sum(
                c["residents"]
                for c in residents
                if any(haversine_m(c["lat"], c["lng"], f.lat, f.lng) <= radius for f in in_service)
            )
            share = within / sum(c["residents"] for c in residents)
            assert close(row["residents_within_radius_share"], share), (month, district, facility_type)
            some_served |= share > 0
            some_unserved |= share < 1
    assert some_served and some_unserved


def test_q6_facilities_planned_for_an_earlier_year_and_still_not_started(year) -> None:
    seen = 0
    for month in MONTHS:
        facilities, _ = facilities_of(year, month)
        expected = Counter(
            (f.district, f.type) for f in facilities if f.status == "规划" and f.plan_year and f.plan_year < YEAR
        )
        answer = {
            (row["district_code"], row["facility_type"]): row["carried_over_not_started"] for row in ask(year, 6, month)
        }
        assert answer == dict(expected), month
        seen += len(answer)
    assert seen  # the generated city has 回头看 cases


# --- Q8, Q9: drainage and spatial plans ---------------------------------------------------------------


def test_q8_drainage_zones_behind_plan(year) -> None:
    seen = 0
    for month in MONTHS:
        expected = {
            row["zone_code"]
            for row in year.delivered("housing.drainage_zones", month)
            if row["status"] != "已达标"
            and (
                row["plan_year"] < YEAR or (row["plan_year"] == YEAR and row["completion_pct"] / 100 < month.month / 12)
            )
        }
        answer = {row["zone_code"] for row in ask(year, 8, month)}
        assert answer == expected, month
        seen += len(answer)
    assert seen


def test_q9_spatial_plans_by_level_type_and_status(year) -> None:
    for month in MONTHS:
        expected = Counter(
            (row["plan_level"], row["plan_type"], row["status"]) for row in year.delivered("nrp.spatial_plans", month)
        )
        answer = {(row["plan_level"], row["plan_type"], row["status"]): row["plans"] for row in ask(year, 9, month)}
        assert answer == dict(expected), month
        assert len({status for _, _, status in answer}) >= 2 or not answer


# --- Q10: deliveries ------------------------------------------------------------------------------


ROW_DEFECT_KINDS_WARNED_ONLY = {"unlisted_project"}
"""Row defects that are cross-checks: reported as warnings, the row is loaded."""


def test_q10_departments_that_delivered_late_wrong_or_not_at_all(year) -> None:
    """The year's late, missing, rejected and part-wrong deliveries are those the generator put in."""
    defects = [d for d in year.manifest["defects"] if d["month"].startswith(f"{YEAR}-")]
    # A delivery with several problems is named by the worst, in this order.
    problems = {"never_delivered": "未报送", "missing_column": "报送有误（被退回）", "late_delivery": "逾期报送"}
    worst_first = [*problems.values(), "部分数据有误"]
    expected: dict[tuple[str, str], set[str]] = defaultdict(set)
    for defect in defects:
        slot = (defect["dataset"], defect["month"])
        if defect["kind"] in problems:
            expected[slot].add(problems[defect["kind"]])
        elif defect["source_row"] is not None and defect["kind"] not in ROW_DEFECT_KINDS_WARNED_ONLY:
            expected[slot].add("部分数据有误")
    answer = {
        (row["dataset"], f"{row['report_month']:%Y-%m}"): row for row in ask(year, 10, MONTHS[-1], since=MONTHS[0])
    }
    assert set(answer) == set(expected)
    for slot, row in answer.items():
        assert row["problem"] == min(expected[slot], key=worst_first.index), (slot, row["problem"], expected[slot])
        assert row["is_missing"] == ("未报送" in expected[slot]), slot
        assert row["is_late"] == ("逾期报送" in expected[slot]), slot
        assert ((row["rows_quarantined"] or 0) > 0) == ("部分数据有误" in expected[slot]), slot
    assert {"never_delivered", "missing_column", "late_delivery"} <= {d["kind"] for d in defects}
