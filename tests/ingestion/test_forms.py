"""Templates generated from the registry: a clerk who fills one in with valid values gets no complaint.

The round trip goes through the real reader and suite (``citydw.checking``)
and, for the DRC, through ingest into PostgreSQL.
"""

from __future__ import annotations

import csv
import io
from datetime import date

import openpyxl
import pytest

from citydw import forms
from citydw.checking import check_file
from citydw.city import load_city
from citydw.orchestration import ingest_dataset
from citydw.pipeline import Context
from citydw.registry import FieldSpec, load_registry

JULY = date(2022, 7, 1)
REGISTRY = load_registry()
CITY = load_city()
FILE_DATASETS = [spec.id for spec in forms.file_datasets(REGISTRY)]


def _value(field: FieldSpec, row: int) -> object:
    """A valid value for ``field`` as a clerk writes it (district names, 是/否, dates as text)."""
    fixed = {
        "project_code": f"2022-321002-48-01-{row + 1:06d}",
        "city_code": sorted(CITY.province_cities)[row],
        "city_name": CITY.province_cities[sorted(CITY.province_cities)[row]],
        "lng": 119.42,
        "lat": 32.39,
        "plan_year": 2022,
        "term_years": 10,
        "coupon_rate": 3.25,
        "spending_progress": 50,
        "completion_pct": 100,  # 已达标 means done
    }
    if field.field in fixed:
        return fixed[field.field]
    if field.values:
        return field.values[-1]  # the most advanced status, so rules wanting dates once started are exercised
    districts = CITY.districts
    return {
        "district": districts[row % len(districts)].name,
        "region_code": districts[row % len(districts)].code,
        "boolean": "是",
        "date": "2022-03-15",
        "decimal": 100,
        "integer": 100,
        "percent": 50,
    }.get(field.type, f"{field.field}-{row + 1}")


def _rows(spec_id: str) -> list[list[object]]:
    spec = REGISTRY.dataset(spec_id)
    count = len(CITY.province_cities) if "city_code" in spec.field_names else len(CITY.districts)
    return [[_value(f, row) for f in forms.template_fields(spec)] for row in range(count)]


def fill_xlsx(data: bytes, rows: list[list[object]]) -> bytes:
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book.active
    for offset, row in enumerate(rows):
        for column, value in enumerate(row, start=1):
            sheet.cell(row=forms.HEADER_ROW + 2 + offset, column=column, value=value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def fill_csv(data: bytes, encoding: str, rows: list[list[object]]) -> bytes:
    text = io.StringIO()
    csv.writer(text, lineterminator="\r\n").writerows(rows)
    return data + text.getvalue().encode(encoding)


@pytest.mark.parametrize("spec_id", FILE_DATASETS)
def test_a_template_filled_with_valid_values_is_accepted_without_a_warning(db, spec_id, tmp_path):
    spec = REGISTRY.dataset(spec_id)
    month = spec.period_for(JULY)
    context = Context.load()
    templates = forms.templates_for(spec, CITY, month)
    filled = {"xlsx": fill_xlsx(templates["xlsx"].data, _rows(spec_id))}
    if "csv-utf8" in templates:
        filled["csv-utf8"] = fill_csv(templates["csv-utf8"].data, "utf-8", _rows(spec_id))
        filled["csv-gb18030"] = fill_csv(templates["csv-gb18030"].data, "gb18030", _rows(spec_id))
    for kind, data in filled.items():
        report = check_file(db, spec_id, month, data, templates[kind].file_name, context)
        assert report.blocking == [] and report.problems == [] and report.warnings == [], (kind, report.lines())
        assert report.verdict == "ok" and report.rows_received == len(_rows(spec_id))

        path = tmp_path / templates[kind].file_name
        path.write_bytes(data)
        result = ingest_dataset(spec_id, f"{JULY:%Y-%m}", file=str(path))
        assert (result.status, result.rows_quarantined, result.problems) == ("accepted", 0, []), (kind, result)
        table = f"raw.{spec.raw_table}"
        loaded = db.execute(f"select count(*) from {table} where delivery_id = %s", (result.delivery_id,)).fetchone()
        assert loaded[0] == len(_rows(spec_id))


def test_the_drc_template_has_the_contract_headers_lists_hints_and_a_frozen_header():
    spec = REGISTRY.dataset("drc.major_projects")
    book = openpyxl.load_workbook(io.BytesIO(forms.xlsx_template(spec, CITY, JULY).data))
    sheet = book.active
    assert sheet["A1"].value == "扬州市2022年1-7月重大项目月度调度表"
    headers = [cell.value for cell in sheet[forms.HEADER_ROW + 1]]
    assert headers[:7] == ["项目代码", "项目名称", "项目类别", "所在地区", "责任单位", "项目状态", "总投资（万元）"]
    assert sheet.freeze_panes == "A4"
    lists = {str(dv.sqref).split(":")[0].rstrip("0123456789"): dv for dv in sheet.data_validations.dataValidation}
    assert lists["C"].formula1 == '"基础设施,先进制造业,现代服务业,民生,区域开发,生态环境,水利和农业休闲"'
    assert lists["D"].formula1 == '"广陵区,邗江区,江都区,宝应县,仪征市,高邮市"'
    assert lists["F"].formula1 == '"储备,新开工,在建,竣工"'
    assert lists["Q"].formula1 == '"是,否"'
    assert "2022-321002-48-01-000001" in lists["A"].prompt


def test_a_running_ledger_template_holds_last_months_accepted_rows_and_they_round_trip(db, tmp_path):
    june = tmp_path / "june.xlsx"
    spec = REGISTRY.dataset("drc.major_projects")
    rows = _rows("drc.major_projects")[:2]
    june_title = forms.xlsx_template(spec, CITY, date(2022, 6, 1)).data
    june.write_bytes(fill_xlsx(june_title, rows))
    assert ingest_dataset("drc.major_projects", "2022-06", file=str(june)).status == "accepted"

    july = forms.xlsx_template(spec, CITY, JULY, db)
    sheet = openpyxl.load_workbook(io.BytesIO(july.data)).active
    prefilled = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=4, max_row=5)]
    assert [r[0] for r in prefilled] == ["2022-321002-48-01-000001", "2022-321002-48-01-000002"]
    assert prefilled[0][3] == "广陵区" and prefilled[0][16] == "是"
    assert prefilled[0][8] is None  # this month's investment is the clerk's to write

    path = tmp_path / "july.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(july.data))
    # This month's investment, and the year's total moved on by as much.
    book.active["I4"], book.active["J4"], book.active["I5"], book.active["J5"] = 50, 150, 60, 160
    book.active["G4"], book.active["G5"] = 10_000, 10_000
    book.save(path)
    result = ingest_dataset("drc.major_projects", "2022-07", file=str(path))
    assert (result.status, result.rows_loaded, result.rows_quarantined, result.problems) == ("accepted", 2, 0, [])
    loaded = db.execute(
        "select project_code, district, month_investment from raw.drc__major_projects "
        "where report_month = %s order by project_code",
        (JULY,),
    ).fetchall()
    assert loaded == [("2022-321002-48-01-000001", "321002", 50), ("2022-321002-48-01-000002", "321003", 60)]
