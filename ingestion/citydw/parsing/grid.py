"""From a grid of cell text to canonical rows: where the table is, and what is data.

Both file readers end here. A reader turns its file into rows of cell text
(an Excel sheet via calamine, a CSV via the csv module and pyarrow); this
module finds the layout in the first rows — title, unit row, header row (one
row, or a group row over a leaf row), which column is which field — and then
turns the rows under the header into the canonical frame: blank rows, total
rows and the notes under the table are dropped, every field column is
converted by :mod:`citydw.parsing.values`.

Header matching, as a clerk's header differs from the template's:
NFKC (full-width → half-width), no spaces or line breaks, no ``*`` marking
a required column, and a trailing unit in parentheses ("（亿元）", "(%)")
taken off and remembered. The rest must equal ``FieldSpec.header`` or match
``FieldSpec.pattern`` (headers that carry the month, "1-7月累计完成投资").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from itertools import zip_longest

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from citydw.city import City
from citydw.parsing import values
from citydw.parsing.model import SOURCE_ROW, DeliveryUnreadable, ParsedDelivery, ParseIssue
from citydw.registry import UNIT_FAMILIES, DatasetSpec, FieldSpec

HEAD_ROWS = 50
"""Rows searched for the header: titles and notes above a table are never longer."""

MIN_MATCHED = 2
"""A header row names at least this many template columns (or all, for a smaller template)."""

KNOWN_UNITS = frozenset({unit for family in UNIT_FAMILIES.values() for unit in family} | {"%"})
SERIAL_HEADERS = frozenset({"序号", "序", "No.", "NO.", "no."})

# Rows under the table whose first cell starts like this end the table.
NOTES_PATTERN = (
    r"^(?:填报单位|填表单位|填报人|填表人|制表人|制表|审核人|审核|负责人|单位负责人|分管领导|联系人|"
    r"联系电话|填报日期|填表日期|报送日期|制表日期|注|备注|说明)(?:\([^)]*\))?\d*[:.、]"
)
# A cell that is only a number (a 序号 or an amount), skipped when looking for a total row's label.
_NUMBER_LIKE = r"^\s*[+\-－]?[0-9０-９][0-9０-９,，]*(?:[.．][0-9０-９]*)?[%％]?\s*$"

_UNIT_IN_TITLE = re.compile(r"单位\s*:\s*([^\s,;、)\]】]+)")
_DATE_LABEL = re.compile(r"(日期|时间)\s*:")
_CHINESE_MONTH = r"十[一二]?|[一二三四五六七八九]"
_MONTH_IN_TITLE = re.compile(
    rf"(\d{{4}})\s*年(?:度)?\s*(?:(?:\d{{1,2}}|{_CHINESE_MONTH})\s*月?\s*[-~至到—–]\s*)?(\d{{1,2}}|{_CHINESE_MONTH})\s*月"
)
_TRAILING_UNIT = re.compile(r"[(\[【]([^()\[\]【】]*)[)\]】]$")


# --- headers -------------------------------------------------------------------


@dataclass(frozen=True)
class Header:
    """One header cell: as written, and as compared with the template."""

    written: str
    name: str  # normalised, trailing unit removed
    full: str  # normalised, unit kept
    unit: str | None  # the unit in the trailing parentheses, if it is one


def normalise(text: str) -> str:
    """NFKC, without blanks, line breaks or the ``*`` of a required column."""
    folded = unicodedata.normalize("NFKC", text)
    folded = re.sub(r"[\s\u200b\ufeff]+", "", folded)
    return folded.strip("*★")


def read_header(text: str) -> Header:
    """Split a header cell into its name and its unit ("总投资（亿元）" → 总投资, 亿元)."""
    full = normalise(text)
    name, unit = full, None
    found = _TRAILING_UNIT.search(full)
    if found:
        inner = re.sub(r"^(?:金额)?单位:?", "", found.group(1))
        if inner in KNOWN_UNITS:
            name, unit = full[: found.start()], inner
    return Header(written=text.strip(), name=name, full=full, unit=unit)


@lru_cache(maxsize=64)
def _template_headers(
    spec: DatasetSpec,
) -> tuple[tuple[FieldSpec, str | None, str | None, re.Pattern[str] | None], ...]:
    """Per field: the template header normalised both ways, and the compiled pattern."""
    entries = []
    for field_spec in spec.fields:
        if not (field_spec.header or field_spec.pattern):
            continue
        header = read_header(field_spec.header) if field_spec.header else None
        pattern = re.compile(field_spec.pattern) if field_spec.pattern else None
        entries.append((field_spec, header.name if header else None, header.full if header else None, pattern))
    return tuple(entries)


def match_field(header: Header, spec: DatasetSpec) -> FieldSpec | None:
    """The template field a header cell names, if any (first match in registry order)."""
    if not header.full:
        return None
    for field_spec, name, full, pattern in _template_headers(spec):
        if name is not None and header.name in (name, full):
            return field_spec
        if full is not None and header.full == full:
            return field_spec
        if pattern is not None and (pattern.search(header.name) or pattern.search(header.full)):
            return field_spec
    return None


def expected_headers(spec: DatasetSpec) -> str:
    """The template's headers, for a message to the department."""
    return "、".join(f.header or f.pattern or f.field for f in spec.fields if f.header or f.pattern)


def column_letter(index: int) -> str:
    """Excel's name for a 0-based column index (0 → A, 27 → AB)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


# --- layout --------------------------------------------------------------------


@dataclass
class Layout:
    """Where the table is in a sheet and which column holds which field."""

    header_row: int  # 0-based index of the (leaf) header row
    data_start: int  # 0-based index of the first row under the header
    width: int  # columns up to the last header cell
    columns: dict[str, int]  # field -> 0-based column
    headers: dict[str, str]  # field -> header as written
    units: dict[str, str] = field(default_factory=dict)  # field -> unit as written
    factors: dict[str, float] = field(default_factory=dict)  # field -> factor to the canonical unit
    serial_column: int | None = None  # the 序号 column
    extra_headers: list[str] = field(default_factory=list)
    declared_month: date | None = None


def _score(cells: Sequence[str], spec: DatasetSpec) -> int:
    return len({f.field for cell in cells if cell.strip() and (f := match_field(read_header(cell), spec))})


def _header_candidates(rows: Sequence[Sequence[str]]) -> list[tuple[int, int, list[str]]]:
    """(top row, leaf row, header cells) for each row alone and each row with the one below.

    A two-row header has a group cell ("投资完成情况", merged across its leaves)
    in the upper row; the other headers are merged down both rows, so the
    reader sees their text in the upper row and nothing below. The leaf row
    is the header, with the upper row's text where the leaf is empty.
    """
    candidates = []
    for index, row in enumerate(rows):
        candidates.append((index, index, list(row)))
        if index + 1 < len(rows):
            below = rows[index + 1]
            merged = [leaf if leaf.strip() else upper for upper, leaf in zip_longest(row, below, fillvalue="")]
            candidates.append((index, index + 1, merged))
    return candidates


def find_layout(rows: Sequence[Sequence[str]], spec: DatasetSpec, file_name: str) -> Layout | None:
    """The layout of a table whose first rows are ``rows``, or None if no row is a header.

    The header is the row (or pair of rows) that names the most template
    columns; on a tie a single row wins over a pair, and the upper over the
    lower. Raises :class:`DeliveryUnreadable` for a header the warehouse
    cannot use unambiguously: a field named by two columns, or a unit that
    does not convert to the field's unit.
    """
    head = [list(row) for row in rows[:HEAD_ROWS]]
    best: tuple[int, bool, int] | None = None
    chosen: tuple[int, int, list[str]] | None = None
    for top, leaf, cells in _header_candidates(head):
        rank = (_score(cells, spec), top == leaf, -top)
        if best is None or rank > best:
            best, chosen = rank, (top, leaf, cells)
    needed = min(MIN_MATCHED, len(_template_headers(spec)))
    if best is None or chosen is None or best[0] < needed:
        return None
    top, leaf, cells = chosen
    titles = [cell for row in head[:top] for cell in row if cell.strip()]
    layout = _columns(cells, spec, file_name, leaf)
    layout.declared_month = month_in_titles(titles)
    below = head[leaf + 1] if leaf + 1 < len(head) else []
    column_units = units_in_row(below)
    if column_units or is_column_number_row(below):
        layout.data_start += 1
    _apply_units(layout, cells, column_units, unit_in_titles(titles), spec, file_name)
    return layout


def _columns(cells: list[str], spec: DatasetSpec, file_name: str, leaf: int) -> Layout:
    """Assign each header cell to its field, the 序号 column, or the extra headers."""
    width = max((j + 1 for j, cell in enumerate(cells) if cell.strip()), default=0)
    layout = Layout(header_row=leaf, data_start=leaf + 1, width=width, columns={}, headers={})
    for index, cell in enumerate(cells[:width]):
        header = read_header(cell)
        if not header.full:
            continue
        matched = match_field(header, spec)
        if matched is None:
            if header.name in SERIAL_HEADERS and layout.serial_column is None:
                layout.serial_column = index
            else:
                layout.extra_headers.append(header.written)
            continue
        if matched.field in layout.columns:
            first = layout.columns[matched.field]
            raise DeliveryUnreadable(
                f"{file_name}：第{column_letter(first)}列“{layout.headers[matched.field]}”和"
                f"第{column_letter(index)}列“{header.written}”都是模板的“{matched.header or matched.field}”列，"
                "无法判断以哪一列为准。请删除多余的一列后重新报送。"
            )
        layout.columns[matched.field] = index
        layout.headers[matched.field] = header.written
    return layout


def _apply_units(
    layout: Layout,
    cells: list[str],
    column_units: dict[int, str],
    sheet_unit: str | None,
    spec: DatasetSpec,
    file_name: str,
) -> None:
    """Record the unit each measured field is written in and the factor to its canonical unit.

    A unit in the header wins, then one in a unit row under the header; else
    the sheet's unit row above the table ("单位：亿元") applies to every field
    it can measure (a 亿元 row to money, not to 亩).
    """
    for name, index in layout.columns.items():
        field_spec = spec.field(name)
        if field_spec.unit is None:
            continue
        written = read_header(cells[index]).unit or column_units.get(index)
        if written is None and sheet_unit in UNIT_FAMILIES.get(field_spec.unit, {}):
            written = sheet_unit
        if written is None:
            continue
        try:
            layout.factors[name] = field_spec.unit_factor(written)
        except ValueError:
            raise DeliveryUnreadable(
                f"{file_name}：列“{layout.headers[name]}”的单位“{written}”无法换算为模板要求的"
                f"“{field_spec.unit}”。请按模板单位填报。"
            ) from None
        layout.units[name] = written


def units_in_row(cells: Sequence[str]) -> dict[int, str]:
    """Per column, the units of a row under the header that holds only units ("万元", "（亿元）", "%").

    Some templates write the units in their own row below the headers; such a
    row is not data. Empty unless every non-empty cell is a unit (or the label
    "单位"/"计量单位").
    """
    units: dict[int, str] = {}
    for index, cell in enumerate(cells):
        text = re.sub(r"^[(\[【](.*)[)\]】]$", r"\1", normalise(cell))
        text = re.sub(r"^(?:计量)?单位:?", "", text)
        if text in KNOWN_UNITS:
            units[index] = text
        elif text:
            return {}
    return units


def is_column_number_row(cells: Sequence[str]) -> bool:
    """Whether a row under the header numbers the columns (栏次: "甲 乙 1 2 3 …") instead of holding data."""
    tokens = [normalise(cell) for cell in cells if cell.strip()]
    numbers = [int(token) for token in tokens if token.isdigit()]
    labels = [token for token in tokens if not token.isdigit()]
    return (
        len(numbers) >= 3
        and numbers == list(range(1, len(numbers) + 1))
        and all(label in "甲乙丙丁戊己" and len(label) == 1 for label in labels)
    )


def unit_in_titles(titles: Sequence[str]) -> str | None:
    """The unit of a unit row above the table ("单位：万元"), if there is one."""
    for text in titles:
        for found in _UNIT_IN_TITLE.finditer(unicodedata.normalize("NFKC", text)):
            if found.group(1) in KNOWN_UNITS:
                return found.group(1)
    return None


def month_in_titles(titles: Sequence[str]) -> date | None:
    """The report month a title names: "2022年1-7月…", "2022年7月…", "2022年1至7月…" → 2022-07-01.

    Cells labelled as a date ("填报日期：2022年8月5日") say when the form was
    filled in, not which month it reports, and are skipped.
    """
    for text in titles:
        folded = unicodedata.normalize("NFKC", text)
        if _DATE_LABEL.search(folded):
            continue
        found = _MONTH_IN_TITLE.search(folded)
        if found:
            month = _month_number(found.group(2))
            if 1 <= month <= 12:
                return date(int(found.group(1)), month, 1)
    return None


def _month_number(text: str) -> int:
    if text.isdigit():
        return int(text)
    digits = "一二三四五六七八九"
    if text.startswith("十"):
        return 10 + (digits.index(text[1]) + 1 if len(text) > 1 else 0)
    return digits.index(text) + 1


def no_header(file_name: str, spec: DatasetSpec, searched: str = "") -> DeliveryUnreadable:
    """The error for a file in which no row names the template's columns."""
    return DeliveryUnreadable(
        f"{file_name}：未找到表头{searched}。表头行应包含《{spec.title}》模板的列名：{expected_headers(spec)}。"
        "请使用模板填报，不要改动列名。"
    )


# --- the rows under the header ------------------------------------------------------


@dataclass
class Grid:
    """The rows under a header as columns of cell text, with each row's number in the file.

    ``columns[j]`` holds column j of every row (null or "" for an empty
    cell); ``source_rows[i]`` is row i's 1-based row number as the
    department's own program shows it.
    """

    columns: list[pa.Array | pa.ChunkedArray]
    source_rows: np.ndarray
    # CSV records whose field count differs from the header's: (row number, field count, cells),
    # checked by citydw.parsing.csv.check_ragged_rows.
    odd_rows: list[tuple[int, int, list[str]]] = field(default_factory=list)


def grid_from_rows(rows: Sequence[Sequence[str]], first_row_number: int, width: int) -> Grid:
    """A grid from rows of cell text (an Excel sheet, a small CSV)."""
    columns = [pa.array([row[j] if j < len(row) else "" for row in rows], pa.string()) for j in range(width)]
    return Grid(columns, np.arange(first_row_number, first_row_number + len(rows), dtype=np.int64))


def row_masks(grid: Grid, layout: Layout, spec: DatasetSpec) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the data rows and of the total rows of the table (both above the notes).

    The first non-empty cell of a row starting with "填报单位：", "注：", ...
    ends the table. A row is a total if its first text cell (numbers skipped),
    its 序号 cell or its first key cell reads "合计", "总计", ... (spaces
    ignored: clerks write "合  计").
    """
    first_cell: pa.Array | None = None
    first_text: pa.Array | None = None
    only_first_column = False
    for index, column in enumerate(grid.columns[: layout.width]):
        cell = values.trim(column)
        number = values.matches(cell, _NUMBER_LIKE)
        text = pc.if_else(pa.array(number), pa.scalar(None, pa.string()), cell) if number.any() else cell
        first_cell = cell if first_cell is None else pc.coalesce(first_cell, cell)
        first_text = text if first_text is None else pc.coalesce(first_text, text)
        if first_cell.null_count == 0 and first_text.null_count == 0:
            only_first_column = index == 0 and first_text is first_cell
            break
    if first_cell is None or first_text is None:
        nothing = np.zeros(len(grid.source_rows), dtype=bool)
        return nothing, nothing.copy()
    keep = values.present(first_cell)
    label = values.compact(first_text)
    notes = keep & values.matches(label if first_cell is first_text else values.compact(first_cell), NOTES_PATTERN)
    if notes.any():
        keep[int(np.argmax(notes)) :] = False
    totals = values.matches(label, spec.total_row_pattern, ignore_case=True)
    key_column = layout.columns.get(spec.key[0]) if spec.key else None
    for label_column in {layout.serial_column, key_column}:
        if label_column is None or (only_first_column and label_column == 0):
            continue  # no such column, or its labels are the first text cells, already checked
        cells = values.compact(values.trim(grid.columns[label_column]))
        totals |= values.matches(cells, spec.total_row_pattern, ignore_case=True)
    return keep & ~totals, keep & totals


_TOTAL_TYPES = frozenset({"decimal", "integer", "percent"})


def total_rows_frame(
    grid: Grid, layout: Layout, spec: DatasetSpec, city: City, totals: np.ndarray
) -> pd.DataFrame | None:
    """The file's own total row(s) (合计/总计, the ``totals`` mask of :func:`row_masks`),
    numeric fields in canonical units, or None without one.

    Kept so the rule pack can check that the total equals the sum of the rows
    (``citydw.quality.checks``); total rows are never loaded.
    """
    if not totals.any():
        return None
    numeric = {f for f in spec.fields if f.type in _TOTAL_TYPES}
    selected = pa.array(totals)
    small = Grid([column.filter(selected) for column in grid.columns], grid.source_rows[totals])
    only_numeric = replace(layout, columns={k: v for k, v in layout.columns.items() if spec.field(k) in numeric})
    frame, _ = build_frame(small, only_numeric, spec, city, np.ones(len(small.source_rows), dtype=bool))
    return frame


def _select(
    column: pa.Array | pa.ChunkedArray, keep: np.ndarray, run: tuple[int, int] | None
) -> pa.Array | pa.ChunkedArray:
    """The kept rows of a column; a slice (no copy) when they are one run, as in most files."""
    if run is not None:
        return column.slice(run[0], run[1] - run[0])
    return column.filter(pa.array(keep))


def _one_run(keep: np.ndarray) -> tuple[int, int] | None:
    """(start, stop) if the kept rows are contiguous, else None."""
    kept = np.flatnonzero(keep)
    if len(kept) == 0:
        return (0, 0)
    start, stop = int(kept[0]), int(kept[-1]) + 1
    return (start, stop) if stop - start == len(kept) else None


def build_frame(
    grid: Grid, layout: Layout, spec: DatasetSpec, city: City, keep: np.ndarray
) -> tuple[pd.DataFrame, list[ParseIssue]]:
    """The canonical frame and the parse issues of the rows of ``grid`` that ``keep`` marks.

    The grid's columns are released as they are converted, so a large CSV is
    never held twice.
    """
    run = _one_run(keep)
    source_rows = grid.source_rows[keep]
    data: dict[str, pd.Series] = {}
    issues: list[ParseIssue] = []
    for field_spec in spec.fields:
        index = layout.columns.get(field_spec.field)
        if index is None:
            continue
        column = _select(grid.columns[index], keep, run)
        grid.columns[index] = pa.nulls(0, pa.string())  # release the text as soon as it is converted
        result = values.convert(
            column,
            field_spec,
            city,
            factor=layout.factors.get(field_spec.field, 1.0),
            unit=layout.units.get(field_spec.field),
        )
        if result.bad.any():
            issues.extend(_issues(column, result, source_rows, field_spec, layout.headers[field_spec.field]))
        data[field_spec.field] = to_series(result.values, field_spec)
        del column, result
    frame = pd.DataFrame(data, index=pd.RangeIndex(len(source_rows)))
    frame[SOURCE_ROW] = source_rows
    order = {name: position for position, name in enumerate(spec.field_names)}
    issues.sort(key=lambda issue: (issue.source_row, order[issue.field]))
    return frame, issues


def _issues(
    column: pa.Array | pa.ChunkedArray,
    result: values.Converted,
    source_rows: np.ndarray,
    field_spec: FieldSpec,
    header: str,
) -> list[ParseIssue]:
    positions = np.flatnonzero(result.bad)
    written = values.trim(column).take(pa.array(positions)).to_pylist()
    issues = []
    for position, text in zip(positions, written, strict=True):
        rule_id, message = result.reason(int(position))
        issues.append(
            ParseIssue(
                source_row=int(source_rows[position]),
                field=field_spec.field,
                header=header,
                value=text,
                rule_id=rule_id,
                message=message,
            )
        )
    return issues


_STRING = pd.StringDtype("pyarrow")
_PANDAS_TYPES = {pa.string(): _STRING, pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}


def to_series(array: pa.Array, field_spec: FieldSpec) -> pd.Series:
    """A converted column in the dtype ParsedDelivery promises for the field's type."""
    series = array.to_pandas(types_mapper=_PANDAS_TYPES.get)
    if field_spec.type == "date":
        return series.astype("datetime64[ns]")
    if field_spec.type in ("decimal", "percent"):
        return series.astype("float64")
    return series


def deliver(
    grid: Grid,
    layout: Layout,
    spec: DatasetSpec,
    city: City,
    file_name: str,
    *,
    sheet: str | None = None,
    table_rules: bool = True,
) -> ParsedDelivery:
    """The ParsedDelivery of a grid laid out by ``layout``: the one exit of every reader."""
    # Blank, total and note rows are a sheet's; an API feed has none. The masks are computed once.
    if table_rules:
        keep, total_mask = row_masks(grid, layout, spec)
        totals = total_rows_frame(grid, layout, spec, city, total_mask)
    else:
        keep, totals = np.ones(len(grid.source_rows), dtype=bool), None
    frame, issues = build_frame(grid, layout, spec, city, keep)
    return ParsedDelivery(
        total_rows=totals,
        frame=frame,
        file_name=file_name,
        headers=dict(layout.headers),
        units=dict(layout.units),
        declared_month=layout.declared_month,
        issues=issues,
        extra_headers=list(layout.extra_headers),
        sheet=sheet,
    )
