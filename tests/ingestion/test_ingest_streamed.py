"""A CSV delivery read as it is built lands exactly as one read whole.

``citydw ingest`` reads a CSV's body a record batch at a time
(``csv.body_batches``, ``csv._BLOCK_SIZE`` bytes), so block 1 is COPYed while
the rest is still being read, and checks the encoding as it reads. Here the
batches are made tiny (a few rows, so characters are cut at batch edges) and
the same delivery is ingested that way and in one read into two fresh
warehouses: raw rows, quarantine, validation results and verdicts must be the
same. A bad byte far down the file must reject it with the message the whole
file's check gives, nothing loaded and the standing version kept.
"""

from __future__ import annotations

import codecs

import psycopg
import pytest

from citydw import loading
from citydw.city import load_city
from citydw.loading import to_arrow
from citydw.orchestration import ingest_dataset
from citydw.parsing import csv as csv_reader
from citydw.parsing.model import DeliveryUnreadable
from citydw.registry import load_registry
from citydw.settings import get_settings

BONDS = "finance.bond_allocations"
HEADER = (
    "债券编码,债券名称,债券类型,发行日期,期限（年）,票面利率（%）,项目代码,项目名称,区划代码,投向领域,"
    "分配金额（万元）,本月支出（万元）,累计支出（万元）"
)
TINY_READ = 300  # bytes: two or three rows a batch
WHOLE_READ = 64 * 1024 * 1024


def bond_row(number: int, **changes: str) -> str:
    cells = {
        "code": f"2022-JS-ZX-{number:03d}",
        "name": f"2022年江苏省政府专项债券（{number}期）",
        "type": "新增专项债券",
        "issued": "2022-03-15",
        "term": "10",
        "rate": "3.12",
        "project": f"2022-321002-48-01-{number:06d}",
        "project_name": f"扬州市第{number}号道路改造工程",
        "district": "321002",
        "sector": "交通基础设施",
        "allocated": "5000",
        "month": "200",
        "cumulative": "1200",
    }
    cells.update(changes)
    return ",".join(cells.values())


def bond_csv(rows: list[str], encoding: str) -> bytes:
    lines = ["2022年7月专项债券资金分配表", HEADER, *rows]
    return ("\n".join(lines) + "\n").encode(encoding)


def landed(url: str) -> dict[str, list[tuple]]:
    with psycopg.connect(url) as conn:
        return {
            "raw": conn.execute(
                """
                select d.version, r.source_row, r.bond_code, r.bond_name, r.project_code, r.project_name,
                       r.allocated, r.month_spent, r.cumulative_spent, r.issue_date
                from raw.finance__bond_allocations r join meta.deliveries d using (delivery_id)
                order by r.source_row
                """
            ).fetchall(),
            "quarantine": conn.execute(
                """
                select d.version, q.source_row, q.column_name, q.value, q.rule_id, q.rule, q.severity, q.record::text
                from meta.quarantine q join meta.deliveries d using (delivery_id)
                order by d.version, q.source_row, q.column_name, q.rule_id
                """
            ).fetchall(),
            "validation": conn.execute(
                """
                select d.version, v.rule_id, v.column_name, v.severity, v.success, v.element_count,
                       v.unexpected_count, v.unexpected_sample::text
                from meta.validation_results v join meta.deliveries d using (delivery_id)
                order by d.version, v.rule_id, v.column_name nulls first, v.description
                """
            ).fetchall(),
            "versions": conn.execute(
                "select version, status, status_reason, rows_received, rows_loaded, rows_quarantined"
                " from meta.deliveries order by version"
            ).fetchall(),
        }


def ingest_read_in(new_database, monkeypatch, tmp_path, read_bytes: int, files: list[bytes]) -> dict:
    """Each file ingested in turn as July's bonds, its body read ``read_bytes`` at a time, into a fresh warehouse."""
    copied: list[int] = []

    def counting_to_arrow(frame, *args, **kwargs):
        copied.append(len(frame))
        return to_arrow(frame, *args, **kwargs)

    with new_database() as url, monkeypatch.context() as patch:
        patch.setenv("CITYDW_WAREHOUSE_URL", url)
        patch.setenv("CITYDW_INGEST_BLOCK_ROWS", "4")
        patch.setattr(csv_reader, "_BLOCK_SIZE", read_bytes)
        patch.setattr(csv_reader, "HEAD_CHECK_BYTES", 512)  # the bytes after it are checked as they are read
        patch.setattr(loading, "to_arrow", counting_to_arrow)
        get_settings.cache_clear()
        try:
            results = []
            for version, data in enumerate(files, start=1):
                path = tmp_path / f"{read_bytes}" / f"v{version}.csv"
                path.parent.mkdir(exist_ok=True)
                path.write_bytes(data)
                copied.clear()
                results.append(ingest_dataset(BONDS, "2022-07", file=str(path)))
            return landed(url) | {"copied_blocks": len(copied), "results": [(r.status, r.reason) for r in results]}
        finally:
            get_settings.cache_clear()


def cut_characters(data: bytes, encoding: str, every: int) -> int:
    """How many of the positions ``every`` bytes apart fall inside a character (so a batch edge cuts it)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    cut = 0
    for start in range(0, len(data), every):
        decoder.decode(data[start : start + every])
        cut += decoder.getstate()[0] != b""
    return cut


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_a_csv_read_in_tiny_batches_lands_as_one_read_whole(new_database, monkeypatch, tmp_path, encoding):
    rows = [bond_row(n) for n in range(1, 41)]
    rows[2] = bond_row(3, allocated="-5")  # a row rule fails in an early batch
    rows[17] = bond_row(18, issued="2022-13-45")  # an unreadable date: a parse issue
    rows[25] = "说明：本行是表中的说明"  # a note in the middle of the table, a short record
    rows[30] = bond_row(31, term="十年")
    rows += ["", "填报单位：扬州市财政局,,", "填报人：王建国"]  # notes under the table, short records
    data = bond_csv(rows, encoding)
    assert cut_characters(data, encoding, TINY_READ) > 0

    tiny = ingest_read_in(new_database, monkeypatch, tmp_path, TINY_READ, [data])
    whole = ingest_read_in(new_database, monkeypatch, tmp_path, WHOLE_READ, [data])

    assert tiny.pop("copied_blocks") >= 9 and whole.pop("copied_blocks") >= 9  # 4-row blocks either way
    assert tiny == whole
    assert tiny["results"][0][0] == "accepted", tiny["results"]
    assert len(tiny["raw"]) == 39 - 3
    assert {row for _, row, *_ in tiny["quarantine"]} == {5, 20, 33}  # the title and header are rows 1-2


@pytest.mark.parametrize(("encoding", "bad"), [("utf-8", b"\xff"), ("gb18030", b"\x81\x20")])
def test_a_bad_byte_far_down_rejects_the_file_as_the_whole_file_check_does(
    new_database, monkeypatch, tmp_path, encoding, bad
):
    standing = bond_csv([bond_row(n) for n in range(1, 5)], encoding)
    rows = [bond_row(n).encode(encoding) for n in range(1, 301)]
    # Row 283 of the file, ~30 KB down: past the first batches (pyarrow transcodes GB18030 ~8 KB ahead of them).
    rows[280] = rows[280].replace(b"5000", b"50" + bad + b"00")
    head = bond_csv([], encoding)
    broken = head + b"\n".join(rows) + b"\n"
    spec = load_registry().dataset(BONDS)
    with pytest.raises(DeliveryUnreadable) as whole_file:
        csv_reader.lay_out_whole(broken, "v2.csv", spec, load_city())

    tiny = ingest_read_in(new_database, monkeypatch, tmp_path, TINY_READ, [standing, broken])

    assert tiny["results"] == [("accepted", tiny["results"][0][1]), ("rejected", str(whole_file.value))]
    assert "无法确定CSV文件的字符编码" in str(whole_file.value)
    assert [v[:2] for v in tiny["versions"]] == [(1, "accepted"), (2, "rejected")]
    assert [(version, row) for version, row, *_ in tiny["raw"]] == [(1, n) for n in range(3, 7)]
    assert tiny["copied_blocks"] >= 2  # blocks were COPYed before the bad byte was met, and rolled back


def test_a_record_with_too_many_fields_far_down_is_named_as_the_whole_file_check_names_it(
    new_database, monkeypatch, tmp_path
):
    rows = [bond_row(n) for n in range(1, 61)]
    rows[40] = bond_row(41) + ",多出的值"
    rows[55] = bond_row(56, name="少了一列").rsplit(",", 1)[0]
    data = bond_csv(rows, "utf-8")
    spec = load_registry().dataset(BONDS)
    with pytest.raises(DeliveryUnreadable) as whole_file:
        csv_reader.lay_out_whole(data, "v1.csv", spec, load_city())

    tiny = ingest_read_in(new_database, monkeypatch, tmp_path, TINY_READ, [data])

    assert "第43行有14个、第58行有12个字段" in str(whole_file.value)
    assert tiny["results"] == [("rejected", str(whole_file.value))]
    assert tiny["raw"] == []


def test_a_file_whose_start_is_utf8_but_whole_is_gb18030_gets_the_whole_files_message(monkeypatch):
    # Every Chinese run is an even number of characters, so the UTF-8 bytes are also valid GB18030;
    # far down, "\xb0\xa1" (GB18030's 啊) breaks UTF-8. Read whole, the file is GB18030, and its head mojibake.
    header = "债券编码,债券名称,债券类型,发行日期,期限,票面利率,项目代码,项目名称,区划代码,投向领域,分配金额,本月支出,累计支出"
    rows = [
        f"B{n:04d},扬州项目,新增专项债券,2022-03-15,10,3.12,2022-321002-48-01-{n:06d},扬州项目,321002,社会事业,5000,200,1200"
        for n in range(1, 301)
    ]
    data = ("\n".join([header, *rows]) + "\n").encode("utf-8")
    at = data.index(b"5000", len(data) - 2000)
    data = data[:at] + b"50\xb0\xa100" + data[at + 4 :]
    assert data.decode("gb18030") and csv_reader.detect_encoding(data[:1024], "f.csv", upto=512).codec == "utf-8"
    spec = load_registry().dataset(BONDS)
    with pytest.raises(DeliveryUnreadable) as whole_file:
        csv_reader.lay_out_whole(data, "f.csv", spec, load_city())
    monkeypatch.setattr(csv_reader, "_BLOCK_SIZE", TINY_READ)
    monkeypatch.setattr(csv_reader, "HEAD_CHECK_BYTES", 512)

    laid_out = csv_reader.lay_out_csv(data, "f.csv", spec, load_city(), block_rows=4)  # the start reads as UTF-8
    with pytest.raises(DeliveryUnreadable) as streamed:
        laid_out.build()

    assert str(streamed.value) == str(whole_file.value)
