"""Reading the records of an HTTP JSON API feed (transport, education, health, civil affairs).

An API record names each field by its ``FieldSpec.key`` (``xmdm``,
``qhdm``, ...), gives the district as its 6-digit code and booleans as JSON
``true``/``false``. There is no title, header or total row, but the values go
through the same rules as a sheet's cells, so "1,234.5", "2022.03" or a
district name in a feed are read exactly as they would be in a file.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence

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
    columns: list[pa.Array | pa.ChunkedArray] = [
        pa.array([_text(record.get(key)) for record in records], pa.string()) for key in present.values()
    ]
    layout = grid.Layout(
        header_row=0,
        data_start=0,
        width=len(present),
        columns={name: index for index, name in enumerate(present)},
        headers=dict(present),
        extra_headers=sorted(str(key) for key in seen - set(keys.values())),
    )
    rows = grid.Grid(columns, np.arange(1, len(records) + 1, dtype=np.int64))
    return grid.deliver(rows, layout, spec, city, source_name, table_rules=False)


def read_json(data: bytes, file_name: str, spec: DatasetSpec, city: City) -> ParsedDelivery:
    """Records from a saved API response: a JSON list of records, or a page ``{"items": [...]}``."""
    try:
        document = json.loads(data, parse_int=whole_number)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DeliveryUnreadable(f"{file_name}：不是有效的JSON（{error}）。") from error
    except RecursionError:
        raise too_deep(file_name) from None
    if isinstance(document, Mapping) and isinstance(document.get("items"), list):
        document = document["items"]
    if not isinstance(document, list):
        raise DeliveryUnreadable(f"{file_name}：JSON应为记录列表，或带“items”列表的分页结果。")
    return read_records(document, spec, city, file_name)


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
