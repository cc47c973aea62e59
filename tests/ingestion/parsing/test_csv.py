"""Reading CSV deliveries (citydw.parsing.csv): encodings, layout, and large files."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date

import pandas as pd
import pytest

from citydw.city import City
from citydw.parsing.csv import detect_encoding, looks_garbled
from citydw.parsing.model import SOURCE_ROW, DeliveryUnreadable, ParsedDelivery
from citydw.parsing.reader import read_delivery
from citydw.registry import DatasetSpec

Files = Callable[[str], bytes]
HEADERS = [
    "项目代码", "项目名称", "项目类别", "所在地区", "责任单位", "项目状态",
    "总投资（万元）", "年度计划投资（万元）", "本月完成投资（万元）", "年度累计完成投资（万元）",
    "计划开工时间", "实际开工时间", "计划竣工时间", "形象进度", "问题类型", "存在问题", "是否专项债项目",
]  # fmt: skip


def row(number: int, **changes: str) -> list[str]:
    cells = dict(
        zip(
            HEADERS,
            [f"2022-321012-48-01-{number:06d}", f"项目{number}", "基础设施", "江都", "市交通运输局", "在建",
             f"{number}.5", "100", "10", "50", "2022-03-15", "2022/4/1", "2024.12", "施工中", "", "", "是"],
            strict=True,
        )
    )  # fmt: skip
    cells.update(changes)
    return list(cells.values())


def as_csv(rows: list[list[str]], encoding: str = "utf-8", delimiter: str = ",") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def column(parsed: ParsedDelivery, field: str) -> list[object]:
    return [None if pd.isna(value) else value for value in parsed.frame[field].tolist()]


def test_gb18030_report_with_title_unit_row_total_and_notes(
    fixture_file: Files, drc_csv: DatasetSpec, city: City
) -> None:
    parsed = read_delivery(fixture_file("gb18030.csv"), "gb18030.csv", drc_csv, city)
    assert column(parsed, "project_code") == ["2022-321012-48-01-000001", "2022-321002-48-01-000002"]
    assert column(parsed, "district") == ["321012", "321002"]
    assert column(parsed, "total_investment") == [120000.0, 45000.5]  # 12 and 4.50005 亿元
    assert column(parsed, "annual_plan_investment") == [30000.0, 12000.0]
    assert column(parsed, "month_investment") == [2500.0, 800.0]
    assert column(parsed, "ytd_investment") == [18000.0, 2400.0]  # "18,000" in a 万元 column
    assert column(parsed, "planned_start_date") == [pd.Timestamp("2022-01-15"), pd.Timestamp("2022-05-01")]
    assert column(parsed, SOURCE_ROW) == [4, 5]
    assert parsed.declared_month == date(2022, 7, 1)
    assert parsed.units["total_investment"] == "亿元"
    assert parsed.sheet is None
    assert parsed.issues == []


def test_utf8_bom_with_quoted_line_breaks_and_a_blank_line(
    fixture_file: Files, drc_csv: DatasetSpec, city: City
) -> None:
    parsed = read_delivery(fixture_file("utf8_bom.csv"), "utf8_bom.csv", drc_csv, city)
    assert parsed.headers["project_code"] == "项目代码"  # the BOM is not part of the first header
    assert column(parsed, SOURCE_ROW) == [2, 3, 5]  # record 2 spans two lines; record 4 is blank
    assert column(parsed, "progress_note")[0] == "路基完成60%，\n桥梁桩基完成80%"
    assert column(parsed, "blocker_note")[0] == '部分地块尚未交付，"红线"待调整'
    assert column(parsed, "total_investment") == [120000.0, 1234.5, 8000.0]
    assert column(parsed, "annual_plan_investment") == [30000.0, None, 0.0]
    assert parsed.issues == []


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("big5.csv", "按GB18030解码后是乱码"),
        ("mojibake_utf8.csv", "按UTF-8解码后是乱码"),
    ],
)
def test_wrong_encodings_are_refused_not_guessed(
    fixture_file: Files, drc_csv: DatasetSpec, city: City, name: str, reason: str
) -> None:
    with pytest.raises(
        DeliveryUnreadable, match=rf"{name}：无法确定CSV文件的字符编码（.*{reason}.*已尝试：UTF-8.*GB18030"
    ):
        read_delivery(fixture_file(name), name, drc_csv, city)


def test_bytes_valid_in_no_encoding(drc_csv: DatasetSpec, city: City) -> None:
    data = as_csv([HEADERS]) + b"\x80\xff\x80\xff\n"
    with pytest.raises(DeliveryUnreadable, match=r"bad\.csv.*在这些编码下都不是有效文本.*已尝试"):
        read_delivery(data, "bad.csv", drc_csv, city)


def test_empty_and_headerless_csv(fixture_file: Files, drc_csv: DatasetSpec, city: City) -> None:
    with pytest.raises(DeliveryUnreadable, match=r"empty\.csv：文件为空"):
        read_delivery(fixture_file("empty.csv"), "empty.csv", drc_csv, city)
    with pytest.raises(DeliveryUnreadable, match=r"x\.csv：文件为空"):
        read_delivery(b"\xef\xbb\xbf\r\n,,,\r\n", "x.csv", drc_csv, city)
    with pytest.raises(DeliveryUnreadable, match=r"other\.csv：未找到表头.*项目代码"):
        read_delivery(as_csv([["债券编码", "分配金额"], ["a", "1"]]), "other.csv", drc_csv, city)


def test_encoding_detection() -> None:
    text = "项目代码,所在地区\n2022-321012-48-01-000001,江都区\n"
    assert detect_encoding(text.encode("utf-8"), "a.csv").codec == "utf-8"
    assert detect_encoding(b"\xef\xbb\xbf" + text.encode("utf-8"), "a.csv").skip == 3
    gbk = detect_encoding(text.encode("gbk"), "a.csv")
    assert (gbk.codec, gbk.doubtful) == ("gb18030", False)
    assert detect_encoding("項目代碼,所在地區\n".encode("big5") * 5, "a.csv").doubtful
    assert looks_garbled("ÏîÄ¿´úÂë,ËùÔÚµØÇø")
    assert not looks_garbled("项目代码,所在地区,总投资（万元）,×2")


def test_formula_like_text_is_kept_verbatim(drc_csv: DatasetSpec, city: City) -> None:
    data = as_csv([HEADERS, row(1, 形象进度="=1+1", 存在问题='=HYPERLINK("http://x")', 项目名称="'; drop table x;--")])
    parsed = read_delivery(data, "f.csv", drc_csv, city)
    assert column(parsed, "progress_note") == ["=1+1"]
    assert column(parsed, "blocker_note") == ['=HYPERLINK("http://x")']
    assert column(parsed, "project_name") == ["'; drop table x;--"]


def test_tab_separated_text(drc_csv: DatasetSpec, city: City) -> None:
    parsed = read_delivery(as_csv([HEADERS, row(1)], delimiter="\t"), "t.txt", drc_csv, city)
    assert column(parsed, "total_investment") == [1.5]


def test_short_rows_under_the_table_keep_their_place(drc_csv: DatasetSpec, city: City) -> None:
    rows = [["2022年7月重大项目调度表"], HEADERS]
    rows += [row(n) for n in range(1, 30_001)]
    rows[1000] = []  # a blank line (file row 1001)
    rows += [["合计", *[""] * 16], ["填报人：王建国"], ["junk after the notes"]]
    parsed = read_delivery(as_csv(rows, "gb18030"), "big.csv", drc_csv, city)
    frame = parsed.frame
    assert len(frame) == 29_999
    assert frame[SOURCE_ROW].tolist() == [n for n in range(3, 30_003) if n != 1001]
    assert frame["project_code"].iloc[0] == "2022-321012-48-01-000001"
    assert frame["total_investment"].iloc[-1] == 30000.5
    assert parsed.declared_month == date(2022, 7, 1)


def test_table_rows_with_too_few_or_too_many_cells_reject_the_file_naming_them(
    drc_csv: DatasetSpec, city: City
) -> None:
    """Issue 11.5: a row whose fields do not line up with the header would put values in the wrong columns."""
    rows = [["2022年7月重大项目调度表"], HEADERS]
    rows += [row(n) for n in range(1, 30_001)]
    rows[1000] = row(999)[:8]  # a short row (file row 1001)
    rows[2000] = [*row(1999), "多出来的一格"]  # a long row (file row 2001)
    rows += [["合计", *[""] * 16], ["填报人：王建国"]]
    with pytest.raises(DeliveryUnreadable) as raised:
        read_delivery(as_csv(rows, "gb18030"), "big.csv", drc_csv, city)
    assert "big.csv：第1001行有8个、第2001行有18个字段，表头有17个" in str(raised.value)


def test_a_trailing_delimiter_on_data_rows_only_shifts_nothing(drc_csv: DatasetSpec, city: City) -> None:
    data = as_csv([HEADERS, [*row(1), ""], [*row(2), "", ""]], "utf-8")
    parsed = read_delivery(data, "water.csv", drc_csv, city)
    assert parsed.frame["project_code"].tolist() == ["2022-321012-48-01-000001", "2022-321012-48-01-000002"]


def test_a_quote_that_never_closes_rejects_the_file_naming_its_line(drc_csv: DatasetSpec, city: City) -> None:
    text = as_csv([HEADERS, *[row(n) for n in range(1, 58)]], "utf-8").decode("utf-8")
    lines = text.splitlines(keepends=True)
    lines[2] = '"' + lines[2]  # an opening quote at the start of file line 3, never closed
    with pytest.raises(DeliveryUnreadable, match=r"第3行的引号.*没有配对"):
        read_delivery("".join(lines).encode("utf-8"), "bonds.csv", drc_csv, city)


def test_a_10_mb_cell_is_read(drc_csv: DatasetSpec, city: City) -> None:
    """Issue 18.6: a cell larger than pyarrow's block was an English "straddling object" error."""
    long_name = "很长的项目说明" * 1_500_000  # 10.5 million characters
    parsed = read_delivery(
        as_csv([HEADERS, row(1), [*row(2)[:1], long_name, *row(2)[2:]], row(3)], "utf-8"), "big.csv", drc_csv, city
    )
    assert parsed.frame["project_name"].str.len().tolist()[1] == len(long_name)
    assert parsed.frame[SOURCE_ROW].tolist() == [2, 3, 4]


def test_an_excel_file_on_a_csv_channel_is_read_as_excel(fixture_file: Files, drc_csv: DatasetSpec, city: City) -> None:
    parsed = read_delivery(fixture_file("clean.xlsx"), "water.csv", drc_csv, city)
    assert parsed.sheet == "Sheet1"
    assert len(parsed.frame) == 3
