"""Reading the records of an HTTP JSON API feed (transport, education, health, civil affairs).

An API record names each field by its ``FieldSpec.key`` (``xmdm``,
``qhdm``, ...), gives the district as its 6-digit code and booleans as JSON
``true``/``false``. There is no title, header or total row, but the values go
through the same rules as a sheet's cells, so "1,234.5", "2022.03" or a
district name in a feed are read exactly as they would be in a file.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa

from citydw.city import City
from citydw.parsing import grid
from citydw.parsing.model import DeliveryUnreadable, ParsedDelivery
from citydw.parsing.values import cell_text
from citydw.registry import DatasetSpec


def read_records(
    records: Sequence[Mapping[str, object]], spec: DatasetSpec, city: City, source_name: str
) -> ParsedDelivery:
    """Canonical rows from API records; ``source_row`` is the record's 1-based position in the feed.

    A field whose key no record carries is absent from the frame (as a
    missing column would be), so validation rejects the feed; keys the
    template does not know are listed in ``extra_headers``. An empty feed
    has every keyed field, with no rows.
    """
    for position, record in enumerate(records, start=1):
        if not isinstance(record, Mapping):
            raise DeliveryUnreadable(f"{source_name}：第{position}条记录不是JSON对象，而是{type(record).__name__}。")
        if nesting_exceeds(record, MAX_DEPTH - 1):
            raise too_deep(source_name)
    keys = {f.field: f.key for f in spec.fields if f.key}
    seen = set().union(*(record.keys() for record in records)) if records else set(keys.values())
    present = {name: key for name, key in keys.items() if key in seen}
    zone = ZoneInfo(city.timezone)
    columns: list[pa.Array | pa.ChunkedArray] = [
        pa.array(
            [
                _date_text(value, zone) if spec.field(name).type == "date" else _text(value)
                for value in (record.get(key) for record in records)
            ],
            pa.string(),
        )
        for name, key in present.items()
    ]
    layout = grid.Layout(
        header_row=0,
        data_start=0,
        width=len(present),
        columns={name: index for index, name in enumerate(present)},
        # The department's own words for each field (the registry's Chinese name), not the JSON key.
        headers={name: spec.field(name).header or key for name, key in present.items()},
        extra_headers=sorted(str(key) for key in seen - set(keys.values())),
    )
    rows = grid.Grid(columns, np.arange(1, len(records) + 1, dtype=np.int64))
    return grid.deliver(rows, layout, spec, city, source_name, table_rules=False)


def read_json(data: bytes, file_name: str, spec: DatasetSpec, city: City) -> ParsedDelivery:
    """Records from a saved API response: a JSON list of records, or a page ``{"items": [...]}``.

    A page that announces a ``total`` it does not hold (page 1 of 3, saved
    from the browser) is one page, not the register, and is refused.
    """
    try:
        document = json.loads(data, parse_int=whole_number)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DeliveryUnreadable(f"{file_name}：不是有效的JSON（{error}）。") from error
    except RecursionError:
        raise too_deep(file_name) from None
    if isinstance(document, Mapping) and isinstance(document.get("items"), list):
        _check_whole_feed(document, file_name)
        document = document["items"]
    if not isinstance(document, list):
        raise DeliveryUnreadable(f"{file_name}：JSON应为记录列表，或带“items”列表的分页结果。")
    return read_records(document, spec, city, file_name)


# JSON numbers in a date field this large are milliseconds since 1970 (Java's Date, most
# government platforms): 1e11 ms is 1973, 1e13 ms is 2286. Seconds or serials are smaller.
_FIRST_EPOCH_MS, _LAST_EPOCH_MS = 10**11, 10**13
_EPOCH_MS_TEXT = re.compile(r"(?:/Date\()?(\d{13})(?:[+-]\d{4})?(?:\)/)?")


def _check_whole_feed(document: Mapping[str, object], file_name: str) -> None:
    """Refuse a saved page whose ``total`` says the feed has more records than it holds."""
    total, items = document.get("total"), document["items"]
    if isinstance(total, bool) or not isinstance(total, int) or total == len(items):  # type: ignore[arg-type]
        return
    page = document.get("page")
    which = f"第{page}页，" if isinstance(page, int) and not isinstance(page, bool) else ""
    raise DeliveryUnreadable(
        f"{file_name}：这是分页接口返回的一页（{which}本页{len(items)}条），"  # type: ignore[arg-type]
        f"接口共有{total}条记录，不是完整的数据。请保存全部页面合并后的结果，或由系统直接从接口抓取。"
    )


def _date_text(value: object, zone: ZoneInfo) -> str:
    """A date field's value as cell text; epoch milliseconds become the day they fall on in the city.

    A platform that stores 2022-03-15 as midnight in Beijing sends
    1647273600000 (2022-03-14 16:00 UTC): read in UTC it would be a day early.
    """
    if isinstance(value, str) and (found := _EPOCH_MS_TEXT.fullmatch(value.strip())):
        value = int(found.group(1))  # "1647273600000", or .NET's "/Date(1647273600000)/"
    if isinstance(value, int) and not isinstance(value, bool) and _FIRST_EPOCH_MS <= abs(value) < _LAST_EPOCH_MS:
        return dt.datetime.fromtimestamp(value / 1000, tz=zone).date().isoformat()
    return _text(value)


def whole_number(text: str) -> int | str:
    """A JSON integer; one too long for Python to convert (4,300 digits and more) stays its digits,
    so its number column flags it as out of range instead of the whole file failing."""
    return int(text) if len(text) < 4000 else text


MAX_DEPTH = 32
"""Deepest nesting of a record's values: a record is flat, a value may be a small object or list."""


def too_deep(source_name: str) -> DeliveryUnreadable:
    """The rejection of a JSON document nested deeper than any record of a template can be."""
    return DeliveryUnreadable(
        f"{source_name}：JSON嵌套层数过深（超过{MAX_DEPTH}层），不是模板规定的记录列表，已拒收。"
        "每条记录应是一个对象，字段值为文字、数字或日期。请检查导出程序后重新报送。"
    )


def nesting_exceeds(value: object, limit: int = MAX_DEPTH) -> bool:
    """Whether ``value`` nests lists and objects deeper than ``limit``; iterative, so any depth is safe."""
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Iterable[object] = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth >= limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _text(value: object) -> str:
    """A JSON value as cell text; objects and lists stay JSON text (and fail a number or date)."""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return cell_text(value)
