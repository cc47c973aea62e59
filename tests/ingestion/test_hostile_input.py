"""Hostile deliveries through the whole pipeline (issues 11 and 18): what lands in PostgreSQL.

Each file is generated here, small: numbers the parser cannot hold, Excel
error cells and formulas without a cached value, workbooks that would make
the Excel library allocate half a terabyte, an entity bomb in styles.xml,
broken CSV structure, JSON nested 200,000 deep. Every one must end as a
decided delivery in ``meta.deliveries`` (accepted with the row quarantined
and a Chinese reason, or rejected with a Chinese reason) — never a
traceback, never a version stuck ``received``, never a NULL loaded silently.
"""

from __future__ import annotations

import json
import os
import re
import time
from datetime import date

import pytest
from builders import drc_project, drc_workbook
from hostile import DrippingServer, deep_json, far_ods, transport_record, with_cell, with_entity_bomb, with_far_cell
from werkzeug import Response

from citydw.orchestration import ingest_dataset
from citydw.pipeline import Context, ingest
from citydw.settings import Settings
from citydw.sources.api import fetch_delivery
from citydw.warehouse.connect import connect

JULY = date(2022, 7, 1)
DRC = "drc.major_projects"
BONDS = "finance.bond_allocations"
TRANSPORT = "transport.transport_projects"

BOND_HEADER = (
    "债券编码,债券名称,债券类型,发行日期,期限（年）,票面利率（%）,项目代码,项目名称,区划代码,投向领域,"
    "分配金额（万元）,本月支出（万元）,累计支出（万元）\n"
)


def bond_line(number: int, allocated: str = "5000") -> str:
    return (
        f"2022-JS-ZX-{number:03d},2022年江苏省政府专项债券（一期）,新增专项债券,2022-03-15,10,3.12,"
        f"2022-321002-48-01-{number:06d},扬州市第{number}号道路改造工程,321002,交通基础设施,{allocated},200,1200\n"
    )


def chinese(text: str | None) -> bool:
    return bool(text and re.search(r"[\u4e00-\u9fff]", text))


def deliveries(db, dataset: str) -> list[tuple]:
    return db.execute(
        "select version, status, status_reason from meta.deliveries where dataset = %s order by version", (dataset,)
    ).fetchall()


def quarantine(db, dataset: str) -> list[tuple]:
    return db.execute(
        "select source_row, column_name, value, rule_id, rule from meta.quarantine where dataset = %s "
        "order by source_row, column_name",
        (dataset,),
    ).fetchall()


# --- numbers the parser cannot hold (11.1, 11.6, 18.3) ------------------------------------------


def test_1e308_in_a_drc_workbook_quarantines_its_row_and_the_rest_loads(db, tmp_path):
    path = tmp_path / "drc.xlsx"
    path.write_bytes(drc_workbook([drc_project(1, **{"总投资（万元）": 1e308}), drc_project(2)], JULY))

    result = ingest_dataset(DRC, "2022-07", file=str(path))

    assert result.status == "accepted"
    assert [(v, s) for v, s, _ in deliveries(db, DRC)] == [(1, "accepted")]
    assert db.execute("select project_code from raw.drc__major_projects").fetchall() == [("2022-321002-48-01-000002",)]
    [(row, column, value, rule_id, rule)] = quarantine(db, DRC)
    assert (row, column, rule_id) == (4, "total_investment", "parse.range")
    assert value == "1e+308" and "数值超出范围" in rule


@pytest.mark.parametrize("allocated", ["1e308", "1e400", "-1E999", "Infinity"])
def test_a_number_out_of_range_in_a_bond_csv_quarantines_its_row(db, tmp_path, allocated):
    path = tmp_path / "bonds.csv"
    path.write_text(BOND_HEADER + bond_line(1, allocated) + bond_line(2), encoding="utf-8")

    result = ingest_dataset(BONDS, "2022-07", file=str(path))

    assert result.status == "accepted"
    assert db.execute("select bond_code, allocated from raw.finance__bond_allocations").fetchall() == [
        ("2022-JS-ZX-002", 5000)
    ]
    problems = quarantine(db, BONDS)
    assert {row for row, *_ in problems} == {2}
    assert (2, "allocated", allocated, "parse.range") in [p[:4] for p in problems]
    assert all(chinese(rule) for *_, rule in problems)


# --- JSON: NaN, 1e400, nesting 200,000 deep (11.6, 18.3) -----------------------------------------


def test_nan_and_1e400_in_a_transport_json_quarantine_their_records(db, tmp_path):
    body = "[{}, {}, {}]".format(
        json.dumps(transport_record(1), ensure_ascii=False).replace('"ztz": 1001.5', '"ztz": NaN'),
        json.dumps(transport_record(2), ensure_ascii=False).replace('"ztz": 1002.5', '"ztz": 1e400'),
        json.dumps(transport_record(3), ensure_ascii=False),
    )
    path = tmp_path / "transport.json"
    path.write_text(body, encoding="utf-8")

    result = ingest_dataset(TRANSPORT, "2022-07", file=str(path))

    assert result.status == "accepted"
    assert db.execute("select project_code from raw.transport__transport_projects").fetchall() == [
        ("2022-321002-48-01-000003",)
    ]
    problems = quarantine(db, TRANSPORT)
    assert [p[:4] for p in problems] == [
        (1, "total_investment", "NaN", "parse.decimal"),
        (2, "total_investment", "Infinity", "parse.range"),
    ]
    assert "应为数字" in problems[0][4] and "数值超出范围" in problems[1][4]


def test_json_nested_200000_deep_is_rejected_with_a_reason(db, tmp_path):
    path = tmp_path / "transport.json"
    path.write_bytes(deep_json(200_000))

    result = ingest_dataset(TRANSPORT, "2022-07", file=str(path))

    assert result.status == "rejected"
    [(version, status, reason)] = deliveries(db, TRANSPORT)
    assert (version, status) == (1, "rejected") and "嵌套层数过深" in reason


def test_json_nested_200000_deep_from_the_api_is_rejected_with_a_reason(db, httpserver):
    body = b'{"total": 1, "page": 1, "page_size": 100, "items": [{"xmdm": ' + deep_json(200_000) + b"}]}"
    httpserver.expect_request("/transport/projects").respond_with_data(body, content_type="application/json")
    context = Context.load()
    spec = context.registry.dataset(TRANSPORT)
    candidate = fetch_delivery(spec, JULY, httpserver.url_for("/transport"), "token", retries=0)

    with connect(autocommit=True) as conn:
        result = ingest(conn, spec, JULY, context, [candidate])

    assert result.status == "rejected" and "嵌套层数过深" in result.reason
    assert [status for _, status, _ in deliveries(db, TRANSPORT)] == ["rejected"]
    assert db.execute("select count(*) from raw.transport__transport_projects").fetchone() == (0,)


# --- Excel cells calamine reads as empty (18.3) -------------------------------------------------


def test_an_excel_error_cell_quarantines_its_row_naming_the_cell(db, tmp_path):
    workbook = drc_workbook([drc_project(1), drc_project(2)], JULY)
    path = tmp_path / "drc.xlsx"
    path.write_bytes(with_cell(workbook, "G4", '<c r="G4" t="e"><f>G5/0</f><v>#DIV/0!</v></c>'))

    result = ingest_dataset(DRC, "2022-07", file=str(path))

    assert result.status == "accepted"
    assert db.execute("select project_code from raw.drc__major_projects").fetchall() == [("2022-321002-48-01-000002",)]
    [(row, column, value, rule_id, rule)] = quarantine(db, DRC)
    assert (row, column, value, rule_id) == (4, "total_investment", "#DIV/0!", "parse.cell_error")
    assert "单元格G4是公式错误#DIV/0!" in rule


def test_a_formula_without_a_cached_value_quarantines_its_row(db, tmp_path):
    workbook = drc_workbook([drc_project(1), drc_project(2)], JULY)
    path = tmp_path / "drc.xlsx"
    path.write_bytes(with_cell(workbook, "J5", '<c r="J5"><f>J4+I5</f></c>'))

    result = ingest_dataset(DRC, "2022-07", file=str(path))

    assert result.status == "accepted"
    assert db.execute("select project_code from raw.drc__major_projects").fetchall() == [("2022-321002-48-01-000001",)]
    [(row, column, value, rule_id, rule)] = quarantine(db, DRC)
    assert (row, column, value, rule_id) == (5, "ytd_investment", "=J4+I5", "parse.formula_uncached")
    assert "单元格J5的公式没有计算结果，请在Excel中打开后保存再报送" in rule


# --- limits checked before reading (18.4) -------------------------------------------------------


def test_a_31_kb_workbook_with_a_cell_at_xfd1048576_is_rejected_in_seconds(db, tmp_path):
    path = tmp_path / "drc.xlsx"
    path.write_bytes(with_far_cell(drc_workbook([drc_project(1)], JULY)))
    assert path.stat().st_size < 31 * 1024

    started = time.monotonic()
    result = ingest_dataset(DRC, "2022-07", file=str(path))

    assert time.monotonic() - started < 5
    assert result.status == "rejected"
    [(version, status, reason)] = deliveries(db, DRC)
    assert (version, status) == (1, "rejected")
    assert "XFD1048576" in reason and "CITYDW_XLSX_MAX_CELLS" in reason


def test_an_opendocument_sheet_expanding_to_5_million_cells_is_rejected_in_seconds(db, tmp_path):
    path = tmp_path / "drc.xlsx"
    path.write_bytes(far_ods(rows_between=1_048_570, columns_before=4))  # took 14 s to read, then failed

    started = time.monotonic()
    result = ingest_dataset(DRC, "2022-07", file=str(path))

    assert time.monotonic() - started < 5
    assert result.status == "rejected" and "CITYDW_XLSX_MAX_CELLS" in result.reason


def test_entity_expansion_in_styles_xml_is_rejected(db, tmp_path):
    path = tmp_path / "drc.xlsx"
    path.write_bytes(with_entity_bomb(drc_workbook([drc_project(1)], JULY)))

    result = ingest_dataset(DRC, "2022-07", file=str(path))

    assert result.status == "rejected"
    [(_, status, reason)] = deliveries(db, DRC)
    assert status == "rejected" and "xl/styles.xml" in reason and "实体声明" in reason


def test_a_style_index_that_is_not_a_number_is_rejected(db, tmp_path):
    workbook = drc_workbook([drc_project(1)], JULY)
    path = tmp_path / "drc.xlsx"
    path.write_bytes(with_cell(workbook, "G4", '<c r="G4" s="1x"><v>10001</v></c>'))

    result = ingest_dataset(DRC, "2022-07", file=str(path))

    assert result.status == "rejected"
    [(_, status, reason)] = deliveries(db, DRC)
    assert status == "rejected" and "G4" in reason and "样式编号“1x”无效" in reason


def test_a_5_gb_sparse_workbook_is_refused_by_its_size_before_reading(db, tmp_path):
    path = tmp_path / "drc.xlsx"
    path.write_bytes(drc_workbook([drc_project(1)], JULY))
    os.truncate(path, 5 * 1024**3)  # sparse: 5 GB on paper, a few KB on disk

    started = time.monotonic()
    result = ingest_dataset(DRC, "2022-07", file=str(path))

    assert time.monotonic() - started < 5
    assert result.status == "rejected" and "超过上限" in result.reason and chinese(result.reason)
    assert deliveries(db, DRC) == []  # nothing was read, so no version was registered
    assert db.execute(
        "select outcome from meta.fetch_attempts where dataset = %s and detail like %s",
        (DRC, "%CITYDW_MAX_FILE_BYTES%"),
    ).fetchall() == [("error",)]


# --- CSV structure and collapsing row counts (11.5, 18.6) ---------------------------------------


@pytest.fixture
def bonds_month(db, tmp_path):
    """July's bond report, 58 rows, accepted: the month a broken correction must not replace."""
    path = tmp_path / "bonds-v1.csv"
    path.write_text(BOND_HEADER + "".join(bond_line(n) for n in range(1, 59)), encoding="utf-8")
    assert ingest_dataset(BONDS, "2022-07", file=str(path)).rows_loaded == 58
    return db.execute("select * from raw.finance__bond_allocations order by source_row").fetchall()


def test_an_unterminated_quote_rejects_the_csv_and_the_month_keeps_its_rows(db, tmp_path, bonds_month):
    lines = [bond_line(n) for n in range(1, 59)]
    lines[1] = '"' + lines[1]  # file line 3 opens a quote that never closes
    path = tmp_path / "bonds-v2.csv"
    path.write_text(BOND_HEADER + "".join(lines), encoding="utf-8")

    result = ingest_dataset(BONDS, "2022-07", file=str(path))

    assert result.status == "rejected"
    assert [(v, s) for v, s, _ in deliveries(db, BONDS)] == [(1, "accepted"), (2, "rejected")]
    assert "第3行的引号" in deliveries(db, BONDS)[1][2]
    assert db.execute("select * from raw.finance__bond_allocations order by source_row").fetchall() == bonds_month


def test_a_row_with_more_fields_than_the_header_rejects_the_csv_naming_it(db, tmp_path, bonds_month):
    lines = [bond_line(n) for n in range(1, 59)]
    lines[9] = lines[9].replace("扬州市第10号道路改造工程", "扬州市第10号道路改造工程,二期")  # an unquoted comma
    path = tmp_path / "bonds-v2.csv"
    path.write_text(BOND_HEADER + "".join(lines), encoding="utf-8")

    result = ingest_dataset(BONDS, "2022-07", file=str(path))

    assert result.status == "rejected" and "第11行有14个字段，表头有13个" in result.reason
    assert db.execute("select * from raw.finance__bond_allocations order by source_row").fetchall() == bonds_month


def test_a_correction_that_collapses_the_month_is_held_and_can_be_confirmed(db, tmp_path, bonds_month):
    path = tmp_path / "bonds-v2.csv"
    path.write_text(BOND_HEADER + bond_line(1), encoding="utf-8")

    held = ingest_dataset(BONDS, "2022-07", file=str(path))

    assert held.status == "rejected" and "行数骤降" in held.reason and "本版1行，本月已入库的版本58行" in held.reason
    assert db.execute("select * from raw.finance__bond_allocations order by source_row").fetchall() == bonds_month

    confirmed = ingest_dataset(BONDS, "2022-07", file=str(path), confirm_shrink=True)

    assert confirmed.status == "accepted"
    assert [(v, s) for v, s, _ in deliveries(db, BONDS)] == [(1, "superseded"), (2, "accepted")]
    assert db.execute("select count(*) from raw.finance__bond_allocations").fetchone() == (1,)


def test_a_csv_with_a_10_mb_cell_is_accepted(db, tmp_path):
    path = tmp_path / "bonds.csv"
    long_name = "扬州市第1号道路改造工程" + "（说明）" * 2_500_000
    path.write_text(
        BOND_HEADER + bond_line(1).replace("扬州市第1号道路改造工程", long_name) + bond_line(2), encoding="utf-8"
    )

    result = ingest_dataset(BONDS, "2022-07", file=str(path))

    assert result.status == "accepted" and result.rows_loaded == 2
    assert db.execute("select max(length(project_name)) from raw.finance__bond_allocations").fetchone() == (
        len(long_name),
    )


# --- values shown to departments (11.3) ---------------------------------------------------------


def test_a_warning_on_two_columns_shows_their_values_as_written(db, tmp_path):
    path = tmp_path / "drc.xlsx"
    rows = [drc_project(1, **{"总投资（万元）": -0.0, "累计完成投资（万元）": 2183.47}), drc_project(2)]
    path.write_bytes(drc_workbook(rows, JULY))

    result = ingest_dataset(DRC, "2022-07", file=str(path))

    warning = next(p for p in result.problems if p.rule_id.startswith("expect_column_pair_values_a_to_be_greater"))
    assert warning.value == "0 / 2,183.47"
    assert "值“0 / 2,183.47”" in warning.describe()
    samples = db.execute("select unexpected_sample from meta.validation_results where not success").fetchall()
    assert ["0 / 2,183.47"] in [sample for (sample,) in samples]
    shown = " ".join(str(s) for (s,) in samples) + " ".join(
        str(v) for (v,) in db.execute("select value from meta.quarantine").fetchall()
    )
    assert "np." not in shown and "(" not in shown


def test_a_json_integer_of_5000_digits_quarantines_its_record(db, tmp_path):
    """Python refuses to convert an integer of 4,300 digits or more: a ValueError that failed the file."""
    body = "[{}, {}]".format(
        json.dumps(transport_record(1)).replace('"ztz": 1001.5', '"ztz": ' + "9" * 5000),
        json.dumps(transport_record(2)),
    )
    path = tmp_path / "transport.json"
    path.write_text(body, encoding="utf-8")

    result = ingest_dataset(TRANSPORT, "2022-07", file=str(path))

    assert result.status == "accepted" and result.rows_loaded == 1
    [(row, column, value, rule_id, _)] = quarantine(db, TRANSPORT)
    assert (row, column, rule_id, len(value)) == (1, "total_investment", "parse.range", 5000)


# --- department APIs that never finish, or never stop (18.4) -----------------------------------


def _api_context(monkeypatch, url: str, **settings: str) -> Context:
    monkeypatch.setenv("CITYDW_API_TRANSPORT_URL", url)
    monkeypatch.setenv("CITYDW_API_TRANSPORT_TOKEN", "token")
    for name, value in settings.items():
        monkeypatch.setenv(f"CITYDW_{name.upper()}", value)
    return Context.load(Settings())


def test_an_api_dripping_a_byte_at_a_time_is_recorded_as_a_failed_fetch_on_time(db, monkeypatch):
    server = DrippingServer(interval=0.2, whole=True)
    try:
        context = _api_context(
            monkeypatch, server.url, api_request_deadline="1.5", api_read_timeout="2", api_retries="0"
        )
        started = time.monotonic()
        with connect(autocommit=True) as conn:
            result = ingest(conn, context.registry.dataset(TRANSPORT), JULY, context)
        assert time.monotonic() - started < 5
    finally:
        server.stop()

    assert result.status == "error" and "总时限" in result.reason
    assert deliveries(db, TRANSPORT) == []
    [(outcome, detail)] = db.execute(
        "select outcome, detail from meta.fetch_attempts where dataset = %s", (TRANSPORT,)
    ).fetchall()
    assert outcome == "error" and "总时限" in detail


def test_an_api_answer_over_the_size_cap_is_refused_while_streaming(db, monkeypatch, httpserver):
    def endless():
        while True:  # an answer that never ends: only the cap stops it
            yield b" " * 65536

    httpserver.expect_request("/transport/projects").respond_with_response(
        Response(endless(), content_type="application/json")
    )
    context = _api_context(monkeypatch, httpserver.url_for("/transport"), api_max_bytes=str(2 * 1024 * 1024))

    with connect(autocommit=True) as conn:
        result = ingest(conn, context.registry.dataset(TRANSPORT), JULY, context)

    assert result.status == "error" and "超过2 MB" in result.reason and not result.retryable
    assert deliveries(db, TRANSPORT) == []
