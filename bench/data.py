"""Data the benchmarks load: generated, deterministic, at any size.

* :func:`load_frame` — rows shaped like a parser's output (``ParsedDelivery.frame``)
  for the twelve-column benchmark dataset :data:`LOAD_SPEC`: integers,
  decimals, short Chinese text and dates.
* :func:`bond_allocations_csv` — a ``finance.bond_allocations`` delivery as
  the Finance Bureau writes it (GB18030, title and unit rows, 序号, ``2022/1/24``
  dates, ``2.61%`` rates), with a few rows that break a row rule so the
  quarantine path runs too.
* :func:`canonical_csv` — the rows of a frame exactly as the loader sends them
  to COPY: what ``psql \\copy`` reads in the side-by-side baselines.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from citydw import loading
from citydw.parsing.model import SOURCE_ROW
from citydw.registry import DatasetSpec

LOAD_SPEC = DatasetSpec.model_validate(
    {
        "department": "bench",
        "name": "load12",
        "title": "基准测试：十二列",
        "channel": {"kind": "file", "format": "csv", "path": "bench/load12/{month}"},
        "due": {"working_day": 5},
        "key": ["project_code"],
        "fields": [
            {"field": "project_code", "header": "项目代码", "type": "text"},
            {"field": "project_name", "header": "项目名称", "type": "text"},
            {"field": "district_code", "header": "区划代码", "type": "region_code"},
            {"field": "status", "header": "项目状态", "type": "text"},
            {"field": "term_years", "header": "期限", "type": "integer"},
            {"field": "households", "header": "户数", "type": "integer"},
            {"field": "total_investment", "header": "总投资", "type": "decimal", "unit": "万元"},
            {"field": "month_investment", "header": "本月完成投资", "type": "decimal", "unit": "万元"},
            {"field": "ytd_investment", "header": "累计完成投资", "type": "decimal", "unit": "万元"},
            {"field": "completion_rate", "header": "完成率", "type": "percent", "unit": "%"},
            {"field": "planned_start_date", "header": "计划开工时间", "type": "date"},
            {"field": "actual_start_date", "header": "实际开工时间", "type": "date"},
        ],
    }
)
"""A twelve-column dataset for the load benchmark; its raw table is ``raw.bench__load12``."""

DISTRICTS = ("321002", "321003", "321012", "321023", "321081", "321084")
STATUSES = ("前期", "在建", "竣工", "停建")
PLACES = ("广陵", "邗江", "江都", "宝应", "仪征", "高邮", "瘦西湖", "运河", "扬子津", "蜀冈")
WORKS = ("安置房项目", "污水处理厂扩建工程", "中小河流治理工程", "道路新建工程", "产业园基础设施", "片区综合开发项目")


def _names(rng: np.random.Generator, count: int) -> pa.Array:
    pool = pa.array([f"{place}{work}" for place in PLACES for work in WORKS])
    return pool.take(pa.array(rng.integers(0, len(pool), count)))


def _text(values: np.ndarray | pa.Array, width: int = 0) -> pa.Array:
    """Integers as text, zero-padded to ``width``."""
    text = pc.cast(pa.array(values), pa.string())
    return pc.utf8_lpad(text, width, "0") if width else text


def _join(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _project_codes(rng: np.random.Generator, count: int) -> pa.Array:
    """``YYYY-AAAAAA-DD-TT-RRRRRR`` codes, unique within the batch."""
    serial = np.arange(count)
    districts = pa.array(DISTRICTS).take(pa.array(rng.integers(0, len(DISTRICTS), count)))
    return _join(
        _text(rng.integers(2015, 2023, count)), "-", districts, "-", _text(rng.integers(40, 80, count)),
        "-0", _text(1 + serial // 1_000_000 % 9), "-", _text(serial % 1_000_000, 6),
    )  # fmt: skip


def _dates(rng: np.random.Generator, count: int, first: str, days: int, null_share: float) -> pd.Series:
    values = pd.to_datetime(first) + pd.to_timedelta(rng.integers(0, days, count), unit="D")
    series = pd.Series(values, dtype="datetime64[us]")
    series[rng.random(count) < null_share] = pd.NaT
    return series


def load_frame(rows: int, seed: int = 7) -> pd.DataFrame:
    """``rows`` rows of :data:`LOAD_SPEC` with the dtypes the readers produce."""
    rng = np.random.default_rng(seed)
    total = np.round(rng.uniform(500, 500_000, rows), 2)
    ytd = np.round(total * rng.uniform(0, 0.9, rows), 2)
    return pd.DataFrame(
        {
            SOURCE_ROW: np.arange(6, rows + 6, dtype=np.int64),
            "project_code": pd.array(_project_codes(rng, rows).to_numpy(zero_copy_only=False), dtype="string"),
            "project_name": pd.array(_names(rng, rows).to_numpy(zero_copy_only=False), dtype="string"),
            "district_code": pd.array(np.array(DISTRICTS, dtype=object)[rng.integers(0, 6, rows)], dtype="string"),
            "status": pd.array(np.array(STATUSES, dtype=object)[rng.integers(0, 4, rows)], dtype="string"),
            "term_years": pd.array(rng.integers(1, 31, rows), dtype="Int64"),
            "households": pd.array(rng.integers(0, 5_000, rows), dtype="Int64"),
            "total_investment": total,
            "month_investment": np.round(ytd * rng.uniform(0, 0.2, rows), 2),
            "ytd_investment": ytd,
            "completion_rate": np.round(ytd / total, 4),
            "planned_start_date": _dates(rng, rows, "2020-01-01", 1_000, 0.0),
            "actual_start_date": _dates(rng, rows, "2020-03-01", 1_000, 0.2),
        }
    )


def canonical_csv(
    frame: pd.DataFrame, spec: DatasetSpec, report_month: date, delivery_id: int, path: Path
) -> list[str]:
    """Write ``frame`` as the loader's COPY input (no header) to ``path``; returns its column names."""
    table = loading.to_arrow(frame, spec, report_month, delivery_id)
    pa_csv.write_csv(table, str(path), pa_csv.WriteOptions(include_header=False))
    return table.column_names


# --- finance.bond_allocations -------------------------------------------------------------

BOND_TYPES = ("新增专项债券", "再融资专项债券")
SECTORS = ("市政和产业园区基础设施", "交通基础设施", "农林水利", "保障性安居工程", "生态环保", "社会事业")
HEADERS = (
    "序号,债券编码,债券名称,债券类型,发行日期,期限（年）,票面利率（%）,项目代码,项目名称,区划代码,"
    "投向领域,分配金额（万元）,{month}月支出（万元）,累计支出（万元）"
)
DEFECT_EVERY = 10_000
"""One row in this many breaks a row rule (an unknown bond type or district): quarantined, not loaded."""


def bond_allocations_csv(rows: int, month: date, path: Path, seed: int = 11) -> dict[str, int]:
    """Write a ``finance.bond_allocations`` delivery of ``rows`` rows for ``month`` to ``path``.

    Returns counts: rows written and rows that break a row rule.
    """
    rng = np.random.default_rng(seed)
    bonds = max(1, rows // 500)
    bond_of_row = pa.array(np.arange(rows) // 500)
    bond_number = _text(np.arange(1, bonds + 1))

    def per_bond(values: pa.Array) -> pa.Array:
        return values.take(bond_of_row)

    allocated = np.round(rng.uniform(100, 80_000, rows), 2)
    cumulative = np.round(allocated * rng.uniform(0, 1, rows), 2)
    # What the suite's dataset rules expect: in January the month's spending is the year's so far.
    month_spent = cumulative if month.month == 1 else np.round(cumulative * rng.uniform(0, 0.3, rows), 2)
    bond_types = np.array(BOND_TYPES, dtype=object)[rng.integers(0, 2, bonds)][np.arange(rows) // 500]
    districts = np.array(DISTRICTS, dtype=object)[rng.integers(0, len(DISTRICTS), rows)]
    defects = np.arange(DEFECT_EVERY // 2, rows, DEFECT_EVERY)
    bond_types[defects[::2]] = "一般债券"
    districts[defects[1::2]] = "320100"
    year = str(month.year)
    table = pa.table(
        {
            "serial": _text(np.arange(1, rows + 1)),
            "bond_code": per_bond(_join(f"{year}-JS-ZX-", _text(np.arange(1, bonds + 1), 4))),
            "bond_name": per_bond(_join(f"{year}年江苏省政府专项债券（", bond_number, "期）")),
            "bond_type": pa.array(bond_types, pa.string()),
            "issue_date": per_bond(_join(f"{year}/{month.month}/", _text(rng.integers(1, 28, bonds)))),
            "term": per_bond(_text(rng.integers(5, 31, bonds))),
            "coupon": per_bond(_join(_text(np.round(rng.uniform(2.0, 4.0, bonds), 2)), "%")),
            "project_code": _project_codes(rng, rows),
            "project_name": _names(rng, rows),
            "district_code": pa.array(districts, pa.string()),
            "sector": pa.array(SECTORS).take(pa.array(rng.integers(0, len(SECTORS), rows))),
            "allocated": _text(allocated),
            "month_spent": _text(month_spent),
            "cumulative_spent": _text(cumulative),
        }
    )
    width = table.num_columns
    head = [
        f"扬州市{month.year}年{month.month}月专项债券资金使用情况表" + "," * (width - 1),
        f"（截至{month.year}年{month.month}月末）" + "," * (width - 1),
        "," * (width - 1) + "单位：万元",
        "," * (width - 1),
        HEADERS.format(month=month.month),
    ]
    body = pa.BufferOutputStream()
    pa_csv.write_csv(table, body, pa_csv.WriteOptions(include_header=False, quoting_style="none"))
    text = "\r\n".join(head) + "\r\n" + body.getvalue().to_pybytes().decode("utf-8").replace("\n", "\r\n")
    path.write_bytes(text.encode("gb18030"))
    return {"rows": rows, "defective_rows": len(defects)}
