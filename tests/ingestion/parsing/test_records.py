"""Reading API feed records (citydw.parsing.records): same value rules, keys instead of headers."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from citydw.city import City
from citydw.parsing.model import SOURCE_ROW, DeliveryUnreadable
from citydw.parsing.reader import read_delivery, read_records
from citydw.registry import Channel, DatasetSpec


def test_records_become_canonical_rows(gauge: DatasetSpec, city: City) -> None:
    records = [
        {"id": "PQ-01", "qhdm": "321012", "qh": "321012", "hs": 120, "wcbl": 85.2, "zdmj": 3, "jzmj": 1.5,
         "tysj": "2023-06-30", "inclusive": True, "extra": "x"},
        {"id": "PQ-02", "qhdm": "321084", "qh": "高邮", "hs": "12.0", "wcbl": "85.2%", "zdmj": None, "jzmj": "1,234.5",
         "tysj": "2023.06", "inclusive": False},
        {"id": "PQ-03", "qhdm": "999999", "qh": "999999", "hs": 1.5, "wcbl": {"v": 1}, "tysj": "", "inclusive": None},
    ]  # fmt: skip
    parsed = read_records(records, gauge, city, "api:test/gauge?month=2023-06")
    frame = parsed.frame
    assert frame["district"].tolist() == ["321012", "321084", "999999"]
    assert frame["households"].tolist() == [120, 12, pd.NA]
    assert frame["completion_pct"].tolist()[:2] == [85.2, 85.2]
    assert frame["floor_area"].tolist()[:2] == [1.5, 1234.5]
    assert frame["open_date"].tolist()[:2] == [pd.Timestamp("2023-06-30"), pd.Timestamp("2023-06-01")]
    assert frame["inclusive"].tolist() == [True, False, pd.NA]
    assert frame[SOURCE_ROW].tolist() == [1, 2, 3]
    assert parsed.headers["district"] == "所在地区"  # the department's own term, not the JSON key
    assert parsed.extra_headers == ["extra"]
    assert parsed.file_name == "api:test/gauge?month=2023-06"
    assert [(i.source_row, i.field, i.header, i.value, i.rule_id) for i in parsed.issues] == [
        (3, "households", "户数", "1.5", "parse.integer"),
        (3, "completion_pct", "完成比例", '{"v": 1}', "parse.percent"),
    ]


def test_a_key_no_record_has_leaves_the_field_absent(gauge: DatasetSpec, city: City) -> None:
    parsed = read_records([{"id": "PQ-01", "qhdm": "321012"}], gauge, city, "feed")
    assert [c for c in parsed.frame.columns if c != SOURCE_ROW] == ["zone_code", "district_code"]


def test_an_empty_feed_has_every_field_and_no_rows(gauge: DatasetSpec, city: City) -> None:
    parsed = read_records([], gauge, city, "feed")
    assert len(parsed.frame) == 0
    assert list(parsed.frame.columns) == [*gauge.field_names, SOURCE_ROW]


def test_a_record_that_is_not_an_object(gauge: DatasetSpec, city: City) -> None:
    with pytest.raises(DeliveryUnreadable, match="feed：第2条记录不是JSON对象"):
        read_records([{"id": "a"}, ["b"]], gauge, city, "feed")  # type: ignore[list-item]


def test_a_saved_api_page_through_read_delivery(gauge: DatasetSpec, city: City) -> None:
    spec = gauge.model_copy(update={"channel": Channel(kind="api", format="json", endpoint="gauge?month={month}")})
    page = {"total": 1, "page": 1, "page_size": 50, "items": [{"id": "PQ-01", "qh": "江都"}]}
    parsed = read_delivery(json.dumps(page, ensure_ascii=False).encode(), "page1.json", spec, city)
    assert parsed.frame["district"].tolist() == ["321012"]
    with pytest.raises(DeliveryUnreadable, match=r"page1\.json：不是有效的JSON"):
        read_delivery(b"{", "page1.json", spec, city)


@pytest.mark.parametrize(
    ("value", "day"),
    [
        (1647273600000, "2022-03-15"),  # midnight in Beijing, 16:00 UTC the day before
        ("1647273600000", "2022-03-15"),
        ("/Date(1647273600000)/", "2022-03-15"),
        ("/Date(1647273600000+0800)/", "2022-03-15"),
        (1647273600000 + 23 * 3_600_000, "2022-03-15"),
        ("20220315", "2022-03-15"),  # not milliseconds: read as written
    ],
)
def test_dates_as_epoch_milliseconds_are_the_citys_day(gauge: DatasetSpec, city: City, value: object, day: str) -> None:
    parsed = read_records([{"id": "PQ-01", "tysj": value}], gauge, city, "api:test")
    assert parsed.frame["open_date"].tolist() == [pd.Timestamp(day)] and parsed.issues == []
