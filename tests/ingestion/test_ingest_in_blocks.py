"""A delivery converted and COPYed in blocks lands exactly as it does in one block.

``citydw ingest`` converts a file's rows ``CITYDW_INGEST_BLOCK_ROWS`` at a
time and hands each block to the load's COPY as it is ready
(``grid.LaidOut.build``, ``pipeline._BackgroundLoad``). Each delivery here is
ingested twice, into two fresh warehouses: in blocks of three rows and in one
block. Raw rows, quarantine, validation results and the versions' verdicts
must be the same, row for row.
"""

from __future__ import annotations

from datetime import date

import psycopg
import pytest
from builders import drc_project, drc_workbook

from citydw import loading
from citydw.loading import to_arrow
from citydw.orchestration import ingest_dataset
from citydw.settings import get_settings

JULY = date(2022, 7, 1)
DATASET = "drc.major_projects"
TINY, ONE_BLOCK = 3, 1_000_000


def landed(url: str) -> dict[str, list[tuple]]:
    """What the warehouse holds of the deliveries, without ids, timestamps or paths that differ between runs."""
    with psycopg.connect(url) as conn:
        return {
            "raw": conn.execute(
                """
                select d.version, r.source_row, r.project_code, r.project_name, r.district, r.total_investment,
                       r.ytd_investment, r.actual_start_date
                from raw.drc__major_projects r join meta.deliveries d using (delivery_id)
                order by r.source_row
                """
            ).fetchall(),
            "quarantine": conn.execute(
                """
                select d.version, q.source_row, q.column_name, q.header, q.value, q.rule_id, q.rule, q.expected,
                       q.severity, q.record::text
                from meta.quarantine q join meta.deliveries d using (delivery_id)
                order by d.version, q.source_row, q.column_name, q.rule_id
                """
            ).fetchall(),
            "validation": conn.execute(
                """
                select d.version, v.rule_id, v.expectation_type, v.column_name, v.severity, v.description, v.success,
                       v.element_count, v.unexpected_count, v.unexpected_sample::text
                from meta.validation_results v join meta.deliveries d using (delivery_id)
                order by d.version, v.rule_id, v.column_name nulls first, v.description
                """
            ).fetchall(),
            "versions": conn.execute(
                """
                select version, status, rejection_kind, status_reason, rows_received, rows_loaded, rows_quarantined
                from meta.deliveries order by version
                """
            ).fetchall(),
        }


def ingest_in_blocks(new_database, monkeypatch, tmp_path, block_rows: int, files: list[bytes]) -> dict:
    """Each file ingested in turn as July's delivery, ``block_rows`` rows at a time, into a fresh warehouse.

    Also returns how many blocks the last file's COPY was handed (``copied_blocks``).
    """
    copied: list[int] = []

    def counting_to_arrow(frame, *args, **kwargs):
        copied.append(len(frame))
        return to_arrow(frame, *args, **kwargs)

    with new_database() as url, monkeypatch.context() as patch:
        patch.setenv("CITYDW_WAREHOUSE_URL", url)
        patch.setenv("CITYDW_INGEST_BLOCK_ROWS", str(block_rows))
        patch.setattr(loading, "to_arrow", counting_to_arrow)
        get_settings.cache_clear()
        try:
            for version, data in enumerate(files, start=1):
                path = tmp_path / f"{block_rows}" / f"v{version}.xlsx"
                path.parent.mkdir(exist_ok=True)
                path.write_bytes(data)
                copied.clear()
                ingest_dataset(DATASET, "2022-07", file=str(path))
            return landed(url) | {"copied_blocks": len(copied)}
        finally:
            get_settings.cache_clear()


def same_landing(tiny: dict, whole: dict) -> bool:
    """The same rows, quarantine, results and verdicts; the tiny run's COPY given 14 blocks of 40 rows, not one."""
    assert (tiny.pop("copied_blocks"), whole.pop("copied_blocks")) == (14, 1)
    return tiny == whole


def first_version() -> bytes:
    return drc_workbook([drc_project(n) for n in range(1, 11)], JULY)


def test_tiny_blocks_land_the_rows_quarantine_and_results_of_one_block(new_database, monkeypatch, tmp_path):
    rows = [drc_project(n) for n in range(1, 41)]
    rows[1] = drc_project(2, **{"总投资（万元）": -5})  # block 1: a row rule fails
    rows[16] = drc_project(17, 所在地区="南京市玄武区")  # a middle block
    rows[22] = drc_project(23, **{"实际开工时间": "2022-13-45"})  # unreadable date: a parse issue
    rows[39] = drc_project(1)  # the last block repeats block 1's project code: both rows are held back
    correction = drc_workbook(rows, JULY)

    tiny = ingest_in_blocks(new_database, monkeypatch, tmp_path, TINY, [first_version(), correction])
    whole = ingest_in_blocks(new_database, monkeypatch, tmp_path, ONE_BLOCK, [first_version(), correction])

    assert same_landing(tiny, whole)
    assert [v[:2] for v in tiny["versions"]] == [(1, "superseded"), (2, "accepted")]
    held_back = sorted({row for version, row, *_ in tiny["quarantine"] if version == 2})
    assert held_back == [4, 5, 20, 26, 43], held_back  # source rows: the header is row 3
    assert len(tiny["raw"]) == 40 - 5 and {v for v, *_ in tiny["raw"]} == {2}


def test_a_blocking_failure_in_the_last_block_leaves_the_standing_version(new_database, monkeypatch, tmp_path):
    rows = [drc_project(n) for n in range(1, 41)]
    total = {
        "总投资（万元）": sum(row["总投资（万元）"] for row in rows),
        "年度计划投资（万元）": 2400 * 40,
        "本月完成投资（万元）": 200 * 40,
        "1-7月累计完成投资（万元）": 1400 * 40,
    }
    rows[39] = drc_project(40, **{"总投资（万元）": 90_000})  # the last row no longer adds up to the 合计
    correction = drc_workbook(rows, JULY, total=total)

    tiny = ingest_in_blocks(new_database, monkeypatch, tmp_path, TINY, [first_version(), correction])
    whole = ingest_in_blocks(new_database, monkeypatch, tmp_path, ONE_BLOCK, [first_version(), correction])

    assert same_landing(tiny, whole)
    assert [v[:2] for v in tiny["versions"]] == [(1, "accepted"), (2, "rejected")]
    assert "合计" in tiny["versions"][1][3]
    assert [(version, row) for version, row, *_ in tiny["raw"]] == [(1, n) for n in range(4, 14)]
    failed = [v for v in tiny["validation"] if v[0] == 2 and not v[6]]
    assert [(v[1].split(":")[0], v[4]) for v in failed] == [("citydw.total_row_matches", "blocking")]


def test_a_laid_out_delivery_is_built_once(tmp_path):
    from citydw.city import load_city
    from citydw.parsing.reader import lay_out_delivery
    from citydw.registry import load_registry

    spec = load_registry().dataset(DATASET)
    laid_out = lay_out_delivery(first_version(), "v1.xlsx", spec, load_city(), report_month=JULY)
    assert len(laid_out.build().frame) == 10
    with pytest.raises(RuntimeError, match="built already"):
        laid_out.build()  # its text is gone: a second build would be an empty delivery


@pytest.mark.parametrize("block_rows", [TINY, ONE_BLOCK])
def test_the_block_size_is_a_setting(monkeypatch, block_rows):
    from citydw.parsing.limits import ReadLimits

    monkeypatch.setenv("CITYDW_INGEST_BLOCK_ROWS", str(block_rows))
    get_settings.cache_clear()
    assert ReadLimits.from_settings(get_settings()).block_rows == block_rows
