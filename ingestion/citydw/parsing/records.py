"""Reading the records of an HTTP JSON API feed (transport, education, health, civil affairs).

An API record names each field by its ``FieldSpec.key`` (``xmdm``,
``qhdm``, ...), gives the district as its 6-digit code and booleans as JSON
``true``/``false``. There is no title, header or total row, but the values go
through the same rules as a sheet's cells, so "1,234.5", "2022.03" or a
district name in a feed are read exactly as they would be in a file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

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
        # The department's own words for each field (the registry's Chinese name), not the JSON key.
        headers={name: spec.field(name).header or key for name, key in present.items()},
        extra_headers=sorted(str(key) for key in seen - set(keys.values())),
    )
    rows = grid.Grid(columns, np.arange(1, len(records) + 1, dtype=np.int64))
    return grid.deliver(rows, layout, spec, city, source_name, table_rules=False)


def read_json(data: bytes, file_name: str, spec: DatasetSpec, city: City) -> ParsedDelivery:
    """Records from a saved API response: a JSON list of records, or a page ``{"items": [...]}``."""
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DeliveryUnreadable(f"{file_name}：不是有效的JSON（{error}）。") from error
    if isinstance(document, Mapping) and isinstance(document.get("items"), list):
        document = document["items"]
    if not isinstance(document, list):
        raise DeliveryUnreadable(f"{file_name}：JSON应为记录列表，或带“items”列表的分页结果。")
    return read_records(document, spec, city, file_name)


def _text(value: object) -> str:
    """A JSON value as cell text; objects and lists stay JSON text (and fail a number or date)."""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return cell_text(value)
