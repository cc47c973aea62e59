"""The rows are loaded while they are validated: what lands is still exactly what validation allows.

``citydw ingest`` replaces the month's rows in its load transaction while the
suite and the dataset rules run on a second connection (see
``pipeline._validate_while_loading``). These tests hold it to the contract
of loading after validating: quarantined rows never reach ``raw``, a blocking
verdict leaves the version that stood exactly as it was, and a row the server
would refuse but validation quarantines does not sink the delivery.
"""

from __future__ import annotations

from datetime import date

from builders import drc_project, drc_workbook

from citydw.orchestration import ingest_dataset

JULY = date(2022, 7, 1)
DATASET = "drc.major_projects"


def raw_state(db) -> list[tuple]:
    return db.execute(
        """
        select source_row, project_code, total_investment, delivery_id
        from raw.drc__major_projects where report_month = %s order by source_row
        """,
        (JULY,),
    ).fetchall()


def statuses(db) -> list[tuple]:
    return db.execute(
        """
        select version, status, rows_received, rows_loaded, rows_quarantined from meta.deliveries
        where dataset = %s and report_month = %s order by version
        """,
        (DATASET, JULY),
    ).fetchall()


def test_quarantined_rows_are_taken_out_of_the_loaded_month(db, tmp_path):
    rows = [drc_project(n) for n in range(1, 9)]
    rows[2] = drc_project(3, **{"总投资（万元）": -5})  # a row rule fails: quarantined
    rows[6] = drc_project(7, 所在地区="南京市玄武区")  # another row rule
    path = tmp_path / "july.xlsx"
    path.write_bytes(drc_workbook(rows, JULY))

    result = ingest_dataset(DATASET, "2022-07", file=str(path))

    assert (result.status, result.rows_loaded, result.rows_quarantined) == ("accepted", 6, 2), result.reason
    loaded = raw_state(db)
    assert [code[-6:] for _, code, _, _ in loaded] == [f"{n:06d}" for n in (1, 2, 4, 5, 6, 8)]
    assert statuses(db) == [(1, "accepted", 8, 6, 2)]
    assert db.execute("select count(distinct source_row) from meta.quarantine").fetchone() == (2,)


def test_a_blocking_verdict_after_the_copy_leaves_the_standing_version_untouched(db, tmp_path):
    first = tmp_path / "v1.xlsx"
    first.write_bytes(drc_workbook([drc_project(n) for n in range(1, 4)], JULY))
    assert ingest_dataset(DATASET, "2022-07", file=str(first)).status == "accepted"
    before = raw_state(db)
    # Fifty rows, all readable, so the whole file is copied; the title names June: blocking.
    second = tmp_path / "v2.xlsx"
    second.write_bytes(drc_workbook([drc_project(n) for n in range(1, 51)], date(2022, 6, 1)))

    result = ingest_dataset(DATASET, "2022-07", file=str(second))

    assert result.status == "rejected" and "2022-06" in result.reason
    assert raw_state(db) == before
    assert [s[:2] for s in statuses(db)] == [(1, "accepted"), (2, "rejected")]
    failed = db.execute(
        """
        select count(*) from meta.validation_results join meta.deliveries using (delivery_id)
        where version = 2 and not success and validation_results.severity = 'blocking'
        """
    ).fetchone()
    assert failed[0] >= 1


BOND_HEADER = "债券编码,债券名称,债券类型,发行日期,期限（年）,票面利率（%）,项目代码,项目名称,区划代码,投向领域,分配金额（万元）,7月支出（万元）,累计支出（万元）\n"


def bonds_csv(names: list[str]) -> bytes:
    rows = [
        f"2022-JS-ZX-001,2022年江苏省政府专项债券,新增专项债券,2022-03-15,10,3.12,2022-321002-48-01-{n:06d},"
        f"{name},321002,交通,5000,0,1200\n"
        for n, name in enumerate(names, start=1)
    ]
    return (BOND_HEADER + "".join(rows)).encode("gb18030")


def test_a_row_the_server_refuses_rolls_the_load_back_and_the_standing_version_stays(db, tmp_path):
    first = tmp_path / "bonds.csv"
    first.write_bytes(bonds_csv([f"项目{n}" for n in range(1, 7)]))
    assert ingest_dataset("finance.bond_allocations", "2022-07", file=str(first)).status == "accepted"
    before = db.execute("select * from raw.finance__bond_allocations order by source_row").fetchall()
    # A NUL character in a project name: no rule objects, but PostgreSQL refuses NUL in text, so
    # the load in the background fails after the examination has passed the file.
    second = tmp_path / "更正.csv"
    second.write_bytes(bonds_csv([f"项目{n}" if n != 4 else "项目\x004" for n in range(1, 9)]))

    result = ingest_dataset("finance.bond_allocations", "2022-07", file=str(second))

    assert result.status == "rejected" and "内部错误：入库" in result.reason, result.reason
    assert db.execute("select * from raw.finance__bond_allocations order by source_row").fetchall() == before
    kinds = db.execute(
        "select version, status, rejection_kind from meta.deliveries where dataset = 'finance.bond_allocations'"
        " order by version"
    ).fetchall()
    assert kinds == [(1, "accepted", None), (2, "rejected", "internal_error")]
