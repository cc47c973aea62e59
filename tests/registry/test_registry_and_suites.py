"""The registry and the suites as one contract (DEPARTMENTS.md in machine-readable form).

Every dataset of DEPARTMENTS.md is registered, has a suite that loads, and its
suite names only fields the registry declares. Each suite then runs through
the real runner on a small valid delivery built from the registry's types —
every rule must pass, which also proves no rule is broken (a rule GX cannot
evaluate reports a failure) — and catches a value planted to break one rule,
naming the planted row and nothing else.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import great_expectations as gx
import pandas as pd
import pytest

from citydw.city import City, load_city
from citydw.parsing.model import SOURCE_ROW, ParsedDelivery
from citydw.registry import FieldSpec, Registry
from citydw.validation.runner import TITLE_MONTH, ValidationOutcome, suite_parameters, validate
from citydw.validation.suites import SEVERITIES, load_suite, read_suite_document

REPO = Path(__file__).parents[2]
REGISTRY = Registry.load(REPO / "registry")
EXPECTATIONS = REPO / "expectations"
CITY = load_city(REPO / "dbt_project" / "seeds" / "city")
MONTH = date(2022, 7, 1)

DEPARTMENTS = {
    "drc", "finance", "nrp", "housing", "transport", "water", "education", "health", "civil_affairs",
    "urban_mgmt", "expropriation", "stats",
}  # fmt: skip
DATASETS = [
    "drc.major_projects",
    "finance.bond_allocations",
    "finance.province_bond_bulletin",
    "nrp.spatial_plans",
    "housing.renovation_projects",
    "housing.drainage_zones",
    "transport.transport_projects",
    "water.water_projects",
    "education.schools",
    "health.clinics",
    "civil_affairs.elderly_care",
    "urban_mgmt.parking_lots",
    "expropriation.demolition_progress",
    "stats.population",
    "stats.residential_communities",
]
API_DATASETS = ["transport.transport_projects", "education.schools", "health.clinics", "civil_affairs.elderly_care"]
YEARLY_DATASETS = ["stats.population", "stats.residential_communities"]
CHINESE = re.compile(r"[\u4e00-\u9fff]")
# Names a $PARAMETER expression may use besides the runner's parameters (GX's expression functions).
EXPRESSION_FUNCTIONS = {"datetime", "timedelta", "now"}


@cache
def suite_document(dataset_id: str) -> dict[str, Any]:
    return read_suite_document(EXPECTATIONS / REGISTRY.dataset(dataset_id).suite_file)


@cache
def suite(dataset_id: str) -> gx.ExpectationSuite:
    return load_suite(REGISTRY.dataset(dataset_id), EXPECTATIONS)


def expectations(dataset_id: str) -> list[dict[str, Any]]:
    return suite_document(dataset_id)["expectations"]


def named_columns(expectation: dict[str, Any]) -> set[str]:
    """Columns an expectation reads: its column arguments and those its row_condition tests."""
    kwargs = expectation["kwargs"]
    names = {kwargs.get("column"), kwargs.get("column_A"), kwargs.get("column_B"), *kwargs.get("column_list", [])}
    condition = kwargs.get("row_condition") or ""
    names |= set(re.findall(r"([a-z_][a-z0-9_]*)\s*(?:\.isin|\.isna|\.notna|==|!=)", condition))
    return {n for n in names if n}


# --- the registry ------------------------------------------------------------------------


def test_the_registry_has_every_department_and_dataset() -> None:
    assert set(REGISTRY.departments) == DEPARTMENTS
    assert sorted(REGISTRY.datasets) == sorted(DATASETS)


@pytest.mark.parametrize("code", sorted(DEPARTMENTS))
def test_each_department_has_a_contact_who_gets_its_alerts(code: str) -> None:
    department = REGISTRY.department(code)
    assert CHINESE.search(department.name) and department.name_en
    assert department.contacts, f"{code}: no contact to send its corrections to"
    domain = f"@{code.replace('_', '-')}.demo-city.gov.cn"  # "_" is not allowed in a host name
    for contact in department.contacts:
        assert contact.email and contact.email.endswith(domain), contact.email
        assert contact.phone and re.fullmatch(r"0514-\d{8}", contact.phone), contact.phone
    # Corrections reach the clerks who can make them.
    assert any(route.channel == "email" and "contacts" in route.to for route in department.alerts)


@pytest.mark.parametrize("dataset_id", DATASETS)
def test_channel_and_due_day_follow_the_conventions(dataset_id: str) -> None:
    spec = REGISTRY.dataset(dataset_id)
    channel = spec.channel
    if dataset_id in API_DATASETS:
        assert (channel.kind, channel.format) == ("api", "json")
        assert channel.endpoint in ("projects?month={month}", "facilities?month={month}")
    else:
        period = "{year}" if spec.frequency == "yearly" else "{month}"
        assert channel.kind == "file"
        assert channel.path == f"{spec.department}/{spec.name}/{period}"
        assert channel.glob == {"csv": "*.csv", "xlsx": "*.xls*"}[channel.format]
    if dataset_id in YEARLY_DATASETS:
        assert (spec.frequency, spec.due.month_day, spec.due.working_day) == ("yearly", (3, 31), None)
    else:
        expected_day = 10 if dataset_id == "finance.province_bond_bulletin" else 5
        assert (spec.frequency, spec.due.working_day) == ("monthly", expected_day)


@pytest.mark.parametrize("dataset_id", API_DATASETS)
def test_api_datasets_have_a_json_key_for_every_field(dataset_id: str) -> None:
    spec = REGISTRY.dataset(dataset_id)
    assert [f.field for f in spec.fields if not f.key] == []


def test_water_uses_the_drc_template_and_transport_its_fields() -> None:
    drc = REGISTRY.dataset("drc.major_projects")
    water = REGISTRY.dataset("water.water_projects")
    transport = REGISTRY.dataset("transport.transport_projects")
    assert water.fields == drc.fields
    assert [(f.field, f.type, f.unit) for f in transport.fields] == [(f.field, f.type, f.unit) for f in drc.fields]


@pytest.mark.parametrize(
    ("dataset_id", "written", "field", "unit"),
    [
        ("finance.province_bond_bulletin", "1-7月新增专项债券发行额（亿元）", "issued_ytd", "亿元"),
        ("finance.province_bond_bulletin", "1－12月 新增专项债券发行额(亿元)", "issued_ytd", "亿元"),
        ("finance.province_bond_bulletin", "1月新增专项债券发行额（亿元）", "issued_ytd", "亿元"),
        ("finance.province_bond_bulletin", "上年同期发行额（亿元）", "issued_ytd_prev_year", "亿元"),
        ("finance.province_bond_bulletin", "累计支出（亿元）", "spent_ytd", "亿元"),
        ("finance.province_bond_bulletin", "支出进度（%）", "spending_progress", "%"),
        ("finance.bond_allocations", "期限（年）", "term_years", None),
        ("finance.bond_allocations", "期限", "term_years", None),
        ("finance.bond_allocations", "票面利率（%）", "coupon_rate", "%"),
        ("finance.bond_allocations", "7月支出（万元）", "month_spent", "万元"),
        ("finance.bond_allocations", "累计支出（万元）", "cumulative_spent", "万元"),
        ("expropriation.demolition_progress", "1-7月累计拆迁面积（万平方米）", "ytd_demolished", "万平方米"),
        ("expropriation.demolition_progress", "本月征收户数（户）", "month_households", None),
        ("expropriation.demolition_progress", "年度累计征地面积（公顷）", "ytd_land", "公顷"),
        ("housing.drainage_zones", "面积（平方公里）", "area_km2", "平方公里"),
        ("housing.drainage_zones", "完成比例（%）", "completion_pct", "%"),
        ("housing.renovation_projects", "户数（户）", "households", None),
        ("urban_mgmt.parking_lots", "泊位数（个）", "spaces", None),
        ("stats.population", "常住人口（人）", "residents", "人"),
        ("stats.population", "3～5岁人口", "residents_3_5", None),
    ],
)
def test_headers_as_clerks_write_them_find_their_field(
    dataset_id: str, written: str, field: str, unit: str | None
) -> None:
    from citydw.parsing.grid import match_field, read_header

    header = read_header(written)
    matched = match_field(header, REGISTRY.dataset(dataset_id))
    assert matched is not None and matched.field == field
    assert header.unit == unit


# --- the suites ------------------------------------------------------------------------


@pytest.mark.parametrize("dataset_id", DATASETS)
def test_every_dataset_has_a_suite_that_loads(dataset_id: str) -> None:
    loaded = suite(dataset_id)
    assert loaded.name == dataset_id
    assert len(loaded.expectations) == len(expectations(dataset_id))


@pytest.mark.parametrize("dataset_id", DATASETS)
def test_every_rule_has_a_severity_and_speaks_to_the_department(dataset_id: str) -> None:
    rule_ids = []
    for expectation in expectations(dataset_id):
        meta = expectation["meta"]
        assert meta["severity"] in SEVERITIES
        assert CHINESE.search(expectation["description"]), expectation
        assert CHINESE.search(meta["expected"]) or meta["expected"].isascii(), expectation
        # The runner's default id: the type and the columns it names (rules repeated with another
        # row_condition need a meta.rule_id of their own to tell them apart in reports).
        kwargs = expectation["kwargs"]
        columns = [kwargs.get(k) for k in ("column", "column_A", "column_B")] + kwargs.get("column_list", [])
        default = expectation["type"] + (":" + ",".join(c for c in columns if c) if any(columns) else "")
        rule_ids.append(meta.get("rule_id") or default)
    duplicates = sorted({r for r in rule_ids if rule_ids.count(r) > 1})
    assert duplicates == [], "give these rules a meta.rule_id of their own"


@pytest.mark.parametrize("dataset_id", DATASETS)
def test_rules_name_only_registry_fields_and_known_parameters(dataset_id: str) -> None:
    fields = set(REGISTRY.dataset(dataset_id).field_names) | {TITLE_MONTH}
    parameters = set(suite_parameters(MONTH, CITY, REGISTRY.dataset(dataset_id))) | EXPRESSION_FUNCTIONS
    for expectation in expectations(dataset_id):
        assert named_columns(expectation) <= fields, expectation
        for value in expectation["kwargs"].values():
            if isinstance(value, dict) and "$PARAMETER" in value:
                assert set(re.findall(r"[A-Za-z_]\w*", value["$PARAMETER"])) <= parameters, value


@pytest.mark.parametrize("dataset_id", DATASETS)
def test_every_field_has_an_existence_rule_and_every_key_field_is_required(dataset_id: str) -> None:
    spec = REGISTRY.dataset(dataset_id)
    rules = expectations(dataset_id)
    existence = {r["kwargs"]["column"]: r["meta"]["severity"] for r in rules if r["type"] == "expect_column_to_exist"}
    not_null = {
        r["kwargs"]["column"]
        for r in rules
        if r["type"] == "expect_column_values_to_not_be_null"
        and "row_condition" not in r["kwargs"]
        and r["meta"]["severity"] == "row"
    }
    assert set(existence) == set(spec.field_names)
    for key in spec.key:
        assert existence[key] == "blocking", f"{dataset_id}: a delivery without {key} cannot be loaded"
        assert key in not_null, f"{dataset_id}: a row without {key} cannot be identified"
    table_rules = {r["type"]: r["meta"]["severity"] for r in rules if "column" not in r["kwargs"]}
    assert table_rules.get("expect_table_row_count_to_be_between") == "blocking"


@pytest.mark.parametrize("dataset_id", [d for d in DATASETS if REGISTRY.dataset(d).channel.format == "xlsx"])
def test_every_workbook_has_its_title_month_checked(dataset_id: str) -> None:
    rules = [r for r in expectations(dataset_id) if r["kwargs"].get("column") == TITLE_MONTH]
    assert [(r["meta"]["severity"], r["kwargs"]["value_set"]) for r in rules] == [
        ("blocking", {"$PARAMETER": "report_month"})
    ]


# --- the suites at work ----------------------------------------------------------------


def _enums(dataset_id: str) -> dict[str, list[str]]:
    """Each enumerated field's allowed words, from the registry (the suites refer to them as values_<field>)."""
    return {f.field: list(f.values) for f in REGISTRY.dataset(dataset_id).fields if f.values}


def _valid_value(field: FieldSpec, row: int, enums: dict[str, list[str]], city: City) -> Any:
    """A value every rule accepts. Enumerations take their last word (竣工, 已投用, 已批复 …),
    the most advanced status, so the rules that require dates once work has started are exercised."""
    name = field.field
    fixed = {
        "project_code": f"2022-321002-48-01-{row + 1:06d}",
        "facility_id": f"12321000MB{row + 1:07d}X",
        "city_code": sorted(city.province_cities)[row],
        "lng": 119.42,
        "lat": 32.39,
        "plan_year": 2022,
        "term_years": 10,
        "coupon_rate": 3.25,
        "residents": 10_000,
    }
    if name in enums:
        return enums[name][-1]
    if name in fixed:
        return fixed[name]
    if field.type in ("district", "region_code"):
        return city.district_codes[row % len(city.district_codes)]
    # Equal amounts satisfy every "a ≥ b" pair rule (allocated ≥ cumulative_spent ≥ month_spent …).
    return {
        "text": f"{name}-{row + 1}",
        "integer": 100,
        "decimal": 100.0,
        "percent": 100.0,
        "date": pd.Timestamp("2022-03-15"),
        "boolean": True,
    }[field.type]


_DTYPES = {
    "text": pd.StringDtype("pyarrow"),
    "district": pd.StringDtype("pyarrow"),
    "region_code": pd.StringDtype("pyarrow"),
    "integer": pd.Int64Dtype(),
    "decimal": "float64",
    "percent": "float64",
    "date": "datetime64[ns]",
    "boolean": pd.BooleanDtype(),
}


def valid_delivery(dataset_id: str, **changes: Any) -> ParsedDelivery:
    """A parsed delivery every rule of the suite accepts, in the dtypes the readers promise.

    One row per district (per province city for the bulletin), so rules that
    want every district present pass. ``changes`` overrides ParsedDelivery fields.
    """
    spec = REGISTRY.dataset(dataset_id)
    enums = _enums(dataset_id)
    rows = len(CITY.province_cities) if "city_code" in spec.field_names else len(CITY.district_codes)
    frame = pd.DataFrame(
        {
            f.field: pd.Series([_valid_value(f, r, enums, CITY) for r in range(rows)], dtype=_DTYPES[f.type])
            for f in spec.fields
        }
    )
    frame.insert(0, SOURCE_ROW, pd.Series(range(4, 4 + rows), dtype="int64"))  # under a title, a unit row, a header
    titled = spec.channel.kind == "file" and spec.frequency == "monthly"
    fields: dict[str, Any] = {"file_name": f"{spec.name}.test", "declared_month": MONTH if titled else None}
    return ParsedDelivery(frame=frame, **(fields | changes))


def run(dataset_id: str, delivery: ParsedDelivery) -> ValidationOutcome:
    return validate(delivery, suite(dataset_id), report_month=MONTH, city=CITY, spec=REGISTRY.dataset(dataset_id))


@pytest.mark.parametrize("dataset_id", DATASETS)
def test_a_valid_delivery_passes_every_rule(dataset_id: str) -> None:
    outcome = run(dataset_id, valid_delivery(dataset_id))
    failed = [(r.rule_id, r.severity, r.sample) for r in outcome.rules if not r.success]
    assert failed == []
    assert len(outcome.rules) == len(expectations(dataset_id))


PLANTED = [
    # (dataset, field, bad value, what it breaks)
    ("drc.major_projects", "status", "已开工", "not one of the statuses"),
    ("finance.bond_allocations", "cumulative_spent", 150.0, "spent more than allocated"),
    ("finance.bond_allocations", "issue_date", pd.Timestamp("2023-01-10"), "issued after the report period"),
    ("finance.bond_allocations", "allocated", 0.0, "nothing allocated"),
    ("finance.province_bond_bulletin", "spending_progress", 120.0, "progress above 100%"),
    ("finance.province_bond_bulletin", "city_code", "330100", "a city of another province"),
    ("nrp.spatial_plans", "approval_date", None, "approved without an approval date"),
    ("housing.renovation_projects", "households", -1, "negative households"),
    ("housing.renovation_projects", "completion_date", pd.Timestamp("2021-12-31"), "completed before it started"),
    ("housing.drainage_zones", "status", "已完成", "not one of the statuses"),
    ("transport.transport_projects", "project_code", "2022-3210-01", "not a project code"),
    ("water.water_projects", "district", "上海市", "not a district of the city"),
    ("education.schools", "facility_id", "91321000MA1IOUXY00", "I, O and U are not in the USCC alphabet"),
    ("health.clinics", "lat", 40.0, "outside the province"),
    ("civil_affairs.elderly_care", "open_date", None, "in service without an opening date"),
    ("urban_mgmt.parking_lots", "spaces", -5, "negative spaces"),
    ("expropriation.demolition_progress", "ytd_land", -3.0, "negative land area"),
    ("stats.population", "residents_60_plus", 20_000, "more elderly than residents"),
    ("stats.residential_communities", "lng", 200.0, "not a longitude"),
]


@pytest.mark.parametrize(("dataset_id", "field", "bad", "why"), PLANTED, ids=[f"{p[0]}-{p[1]}" for p in PLANTED])
def test_a_planted_bad_value_quarantines_its_row_only(dataset_id: str, field: str, bad: Any, why: str) -> None:
    delivery = valid_delivery(dataset_id)
    planted = 1
    delivery.frame.loc[planted, field] = bad
    outcome = run(dataset_id, delivery)
    assert outcome.blocking_failures == []
    failed = outcome.row_failures
    assert failed, f"nothing caught {field}={bad!r} ({why})"
    assert all(field in (r.column or "").split(",") for r in failed), [r.rule_id for r in failed]
    source_row = int(delivery.frame.loc[planted, SOURCE_ROW])
    assert {f.source_row for r in failed for f in r.failures} == {source_row}


@pytest.mark.parametrize("dataset_id", DATASETS)
def test_a_delivery_without_its_key_column_is_rejected(dataset_id: str) -> None:
    key = REGISTRY.dataset(dataset_id).key[0]
    delivery = valid_delivery(dataset_id)
    outcome = run(dataset_id, replace(delivery, frame=delivery.frame.drop(columns=[key])))
    assert "expect_column_to_exist:" + key in {r.rule_id for r in outcome.blocking_failures}


@pytest.mark.parametrize("dataset_id", DATASETS)
def test_an_empty_delivery_is_rejected(dataset_id: str) -> None:
    delivery = valid_delivery(dataset_id)
    outcome = run(dataset_id, replace(delivery, frame=delivery.frame.iloc[0:0]))
    assert "expect_table_row_count_to_be_between" in {r.rule_id for r in outcome.blocking_failures}


@pytest.mark.parametrize(
    "dataset_id", [d for d in DATASETS if any(r["kwargs"].get("column") == TITLE_MONTH for r in expectations(d))]
)
def test_a_title_naming_another_month_is_rejected(dataset_id: str) -> None:
    outcome = run(dataset_id, valid_delivery(dataset_id, declared_month=date(2022, 6, 1)))
    assert [r.column for r in outcome.blocking_failures] == [TITLE_MONTH]


def test_suites_are_plain_json_with_the_documented_top_level() -> None:
    for dataset_id in DATASETS:
        document = json.loads((EXPECTATIONS / f"{dataset_id}.json").read_text(encoding="utf-8"))
        assert set(document) == {"name", "expectations", "meta"}
        assert document["meta"]["dataset"] == dataset_id
        assert document["meta"]["template"] == REGISTRY.dataset(dataset_id).title


def test_a_provincial_bulletin_as_the_province_writes_it_reads_and_passes(tmp_path: Path) -> None:
    """Title with the month, a unit row, 亿元 headers that carry the month, a 全省合计 row, a note."""
    import xlsxwriter

    from citydw.parsing.reader import read_delivery

    path = tmp_path / "bulletin.xlsx"
    header = ["地区", "区划代码", "1-7月新增专项债券发行额（亿元）", "上年同期发行额（亿元）", "累计支出（亿元）"]
    rows: list[list[Any]] = [
        ["2022年1-7月全省新增专项债券发行使用情况通报"],
        ["单位：亿元"],
        [*header, "支出进度（%）"],
    ]
    rows += [[name, code, 100.5, 90, 80.25, "79.9%"] for code, name in sorted(CITY.province_cities.items())]
    rows += [["全省合计", "", 1306.5, 1170, 1043.25, 79.9], ["填报单位：省财政厅"]]
    with xlsxwriter.Workbook(path) as workbook:
        sheet = workbook.add_worksheet()
        for number, row in enumerate(rows):
            sheet.write_row(number, 0, row)
    spec = REGISTRY.dataset("finance.province_bond_bulletin")
    parsed = read_delivery(path.read_bytes(), path.name, spec, CITY)
    assert parsed.issues == [] and parsed.declared_month == MONTH
    assert len(parsed.frame) == len(CITY.province_cities)
    city_row = parsed.frame.set_index("city_code").loc[CITY.code]
    assert (city_row["issued_ytd"], city_row["spent_ytd"], city_row["spending_progress"]) == (1_005_000, 802_500, 79.9)
    outcome = run(spec.id, parsed)
    assert [r.rule_id for r in outcome.rules if not r.success] == []


@pytest.mark.parametrize("dataset_id", DATASETS)
def test_enumerations_live_in_the_registry_and_the_suite_refers_to_them(dataset_id: str) -> None:
    """One source of truth: the templates' drop-down lists and the suites' in-set rules read the registry."""
    enumerated = {f.field for f in REGISTRY.dataset(dataset_id).fields if f.values}
    for rule in expectations(dataset_id):
        if rule["type"] != "expect_column_values_to_be_in_set":
            continue
        column, value_set = rule["kwargs"]["column"], rule["kwargs"]["value_set"]
        assert not isinstance(value_set, list), f"{column}: allowed values belong in registry/ as values: […]"
        if column in enumerated:
            assert value_set == {"$PARAMETER": f"values_{column}"}
