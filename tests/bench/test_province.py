"""A province's volume (``bench.province``): copies of a row differ in their keys only, the same in Python and SQL.

The history's copies are made in SQL and the measured month's deliveries in
Python; a month's cross-month rules and the marts' joins only find last
month's row if both give copy k of a key the same value.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import psycopg
from psycopg import sql

# The repository's bench/ is not importable as ``bench`` here: tests/ is on the path and has its own bench/.
_SPEC = importlib.util.spec_from_file_location(
    "bench_province", Path(__file__).resolve().parents[2] / "bench" / "province.py"
)
assert _SPEC and _SPEC.loader
province = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(province)
FILING_CODE, province_key, province_key_sql = province.FILING_CODE, province.province_key, province.province_key_sql

KEYS = [
    "2022-321002-48-01-000123",  # a filing code: the type code moves
    "2019-321023-47-99-457107",  # … past 99, round to 00
    "12321000MB1234567X",  # a unified social credit code: its first two digits move
    "TC3210020001",  # anything else: a suffix
    "2022-JS-ZX-0001",
]


def test_copies_keep_the_format_and_are_distinct() -> None:
    for key in KEYS:
        copies = [province_key(key, copy) for copy in range(100)]
        assert copies[0] == key
        assert len(set(copies)) == 100, key
        if FILING_CODE.match(key):
            assert all(FILING_CODE.match(c) and c[:15] == key[:15] and c[17:] == key[17:] for c in copies)
    assert province_key("2019-321023-47-99-457107", 2) == "2019-321023-47-01-457107"
    assert province_key("12321000MB1234567X", 7) == "19321000MB1234567X"
    assert province_key("TC3210020001", 7) == "TC3210020001-P07"


def test_sql_gives_every_copy_the_python_key(db: psycopg.Connection) -> None:
    expression = province_key_sql(sql.Identifier("keys", "key"), sql.Identifier("copies", "k"))
    rows = db.execute(
        sql.SQL(
            "select keys.key, copies.k, {} from unnest(%s::text[]) keys(key), generate_series(0, 99) copies(k)"
        ).format(expression),
        (KEYS,),
    ).fetchall()
    assert len(rows) == len(KEYS) * 100
    assert [(key, copy, province_key(key, copy)) for key, copy, _ in rows] == rows
