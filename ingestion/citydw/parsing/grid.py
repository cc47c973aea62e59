"""From a grid of cell text to canonical rows: where the table is, and what is data.

Both file readers end here. A reader turns its file into rows of cell text
(an Excel sheet via calamine, a CSV via the csv module and pyarrow); this
module finds the layout in the first rows — title, fill date, unit row,
header row (one row, or a group row over a leaf row), which column is which
field — and then turns the rows under the header into the canonical frame:
the table's structure (blank rows, totals, subtotals, section rows, notes)
is told apart from data, every field column is converted by
:mod:`citydw.parsing.values`.

Header matching, as a clerk's header differs from the template's, is done
here once for every dataset: NFKC (full-width → half-width), no spaces or
line breaks, no ``*`` marking a required column; a trailing unit in
parentheses ("（亿元）", "（万m²）", "(%)") taken off and remembered, in any
spelling :data:`citydw.registry.UNIT_SPELLINGS` knows; trailing allowed
values or a counting word ("（是/否）", "（户）") ignored; a year or month
prefix read the template's way ("2022年度…" → 年度…, "8月…" → 本月…,
"1-8月累计…" → 年度累计…). The rest must equal ``FieldSpec.header`` or
match ``FieldSpec.pattern`` (a real synonym: 拆迁任务 for 拆迁目标).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from itertools import zip_longest
from typing import Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from citydw.city import City
from citydw.parsing import values
from citydw.parsing.model import SOURCE_ROW, DeliveryUnreadable, ParsedDelivery, ParseIssue
from citydw.registry import UNIT_FAMILIES, UNIT_SPELLINGS, DatasetSpec, FieldSpec, canonical_unit

HEAD_ROWS = 50
"""Rows searched for the header: titles and notes above a table are never longer."""

MAX_NOTE_LINES = 20
"""Note lines under a table kept with the delivery (what the file says about itself)."""

MIN_MATCHED = 2
"""A header row names at least this many template columns (or all, for a smaller template)."""

KNOWN_UNITS = frozenset({unit for family in UNIT_FAMILIES.values() for unit in family} | {"%"})
SERIAL_HEADERS = frozenset({"序号", "序", "No.", "NO.", "no."})

# Rows under the table whose first cell starts like this end the table.
NOTES_PATTERN = (
    r"^(?:填报单位|填表单位|填报人|填表人|制表人|制表|审核人|审核|负责人|单位负责人|分管领导|联系人|"
    r"联系电话|填报日期|填表日期|报送日期|制表日期|注|备注|附注|注释|说明|填报说明|填表说明|"
    r"数据来源|资料来源|来源)(?:\([^)]*\))?\d*[:.、]"
)
# Row labels that are the table's structure, not data (compared after NFKC,
# without blanks, and without a trailing count: "合计（12个）" is 合计).
_COUNT_SUFFIX = r"[(\[【]?(?:共|计)?\d+(?:个|项|条|处|家|所|户|宗)?[)\]】]?$"
GRAND_TOTAL_PATTERN = r"^(?:全市|全省|全区|全县|本表|总)?(?:合计|总计|汇总)$|^(?i:totals?|grand ?total)$"
SUBTOTAL_PATTERN = r"^.{1,24}?(?:小计|合计|汇总)$"  # 广陵区小计, 基础设施类合计, 其中:小计
SECTION_PATTERN = (
    r"^(?:[一二三四五六七八九十]+(?:[、.,:]|$)|\([一二三四五六七八九十]+\)|第[一二三四五六七八九十]+(?:部分|类|章))"
)
# A cell that is only a number (a 序号 or an amount), skipped when looking for a total row's label.
_NUMBER_LIKE = r"^\s*[+\-－]?[0-9０-９][0-9０-９,，]*(?:[.．][0-9０-９]*)?[%％]?\s*$"

_UNIT_IN_TITLE = re.compile(r"单位\s*:\s*([^\s,;、)\]】]+)")
_DATE_LABEL = re.compile(r"(?:填报|填表|报送|制表|打印|导出|统计)?(?:日期|时间)(?::|$|(?=\d))")
_A_DAY = re.compile(r"\d{1,2}[日号]")
_AS_OF = re.compile(r"(?:截至|截止|截止到|至)$")
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
    bare: str = ""  # normalised, without any trailing parentheses
    hint: str | None = None  # trailing parentheses that are not a known unit: "是/否", "户", "美元"


def normalise(text: str) -> str:
    """NFKC, without blanks, line breaks or the ``*`` of a required column."""
    folded = unicodedata.normalize("NFKC", text)
    folded = re.sub(r"[\s\u200b\ufeff]+", "", folded)
    return folded.strip("*★")


def is_unit(text: str) -> bool:
    """Whether ``text`` is a unit the registry converts, in any spelling ("万㎡", "平米", "亿元")."""
    return canonical_unit(text) in KNOWN_UNITS


def read_header(text: str) -> Header:
    """Split a header cell into its name and its unit ("总投资（亿元）" → 总投资, 亿元).

    Trailing parentheses that hold no known unit are kept apart as a hint:
    the allowed values ("是否专项债项目（是/否）"), a counting word ("户数（户）")
    or a unit the registry does not know ("总投资（美元）", which must be
    refused as such, not reported as a missing column).
    """
    full = normalise(text)
    name, unit, bare, hint = full, None, full, None
    found = _TRAILING_UNIT.search(full)
    if found:
        inner = re.sub(r"^(?:金额)?(?:计量)?单位:?", "", found.group(1))
        bare = full[: found.start()]
        if is_unit(inner):
            name, unit = bare, inner
        else:
            hint = inner
    return Header(written=text.strip(), name=name, full=full, unit=unit, bare=bare, hint=hint)


# Header words that name a period, and the word the template uses instead: one
# place for every dataset, so no registry line needs its own regex for them.
_MONTH_WORD = rf"(?:\d{{1,2}}|{_CHINESE_MONTH})"
_PERIOD_FORMS = (
    (re.compile(r"^\d{4}(?=年)"), ""),  # 2022年度拆迁目标 → 年度拆迁目标, 2022年末常住人口 → 年末常住人口
    (re.compile(r"^\d{4}年(?!度)"), ""),  # 2022年年度计划投资 → 年度计划投资, 2022年8月完成投资 → 8月完成投资
    (re.compile(r"^\d{4}年(?![年度末底])"), "年度"),  # 2022年计划投资 → 年度计划投资
    (re.compile(rf"^(?:1|一)[-－—–~～至到]{_MONTH_WORD}月份?(?:累计)?"), "年度累计"),  # 1-8月累计完成投资
    (re.compile(r"^(?:本年|今年|当年|本年度)累计"), "年度累计"),
    (re.compile(rf"^(?:{_MONTH_WORD}月份?|当月)(?!累计)"), "本月"),  # 8月完成投资, 当月完成投资
)
_HEADER_MONTH = re.compile(rf"^(?:\d{{4}}年)?(?:(?:1|一)[-－—–~～至到])?({_MONTH_WORD})月")

# A hint that lists the allowed values ("是/否", "要素保障/征地拆迁/…") or counts things ("户", "个").
_VALUE_LIST = re.compile(r"[/、|]|或")
_COUNTING_WORDS = frozenset({*"户个处套栋幢座条项家所张辆床名间台", "人次", "乡镇", "街道"})
# What a unit the registry does not know looks like: a word ending as units end in
# Chinese ("美元", "万欧元", "立方米", "吨") or a short Latin symbol ("USD", "m3").
_UNIT_LIKE = re.compile(r"^(?:[^\d:，,。；;]{0,4}[元米亩顷里吨方斤克升‰]|[A-Za-z][A-Za-z0-9²³]{0,4})$")


def period_forms(text: str) -> list[str]:
    """``text`` and the same header with its year or month written the template's way."""
    forms = [text]
    for pattern, replacement in _PERIOD_FORMS:
        for form in list(forms):
            changed = pattern.sub(replacement, form, count=1)
            if changed != form and changed not in forms:
                forms.append(changed)
    return forms


def header_month(header: Header) -> int | None:
    """The month a header names ("1-8月累计完成投资" → 8, "7月份完成投资" → 7), if any."""
    found = _HEADER_MONTH.search(header.full)
    return _month_number(found.group(1)) if found else None


def _hint_kind(hint: str | None) -> str | None:
    """What trailing parentheses that are not a known unit say: "values", "count", "unit" or None."""
    if not hint:
        return None
    if _VALUE_LIST.search(hint):
        return "values"
    if hint in _COUNTING_WORDS:
        return "count"
    if _UNIT_LIKE.match(hint):
        return "unit"
    return None


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
    """The template field a header cell names, if any (first match in registry order).

    The header is compared as written, then with its year or month in the
    template's words (:func:`period_forms`), then without trailing
    parentheses that list allowed values or count things; parentheses that
    look like a unit the registry does not know match a field with a unit,
    so the reader can refuse the unit by name.
    """
    if not header.full:
        return None
    written = [header.name, header.full]
    kind = _hint_kind(header.hint)
    bare = period_forms(header.bare) if kind else []
    forms = [form for text in written for form in period_forms(text)]
    for field_spec, name, full, pattern in _template_headers(spec):
        candidates = forms + (bare if kind != "unit" or field_spec.unit else [])
        for form in candidates:
            if name is not None and form in (name, full):
                return field_spec
            if full is not None and form == full:
                return field_spec
            if pattern is not None and pattern.search(form):
                return field_spec
    return None


def unknown_unit(header: Header, field_spec: FieldSpec) -> str | None:
    """The unit in a header that names ``field_spec`` with a unit the registry does not know ("美元")."""
    if field_spec.unit and header.unit is None and _hint_kind(header.hint) == "unit":
        return header.hint
    return None


def known_spellings(unit: str) -> str:
    """The units a field in ``unit`` may be written in, for a message ("万元、亿元、元、千元")."""
    family = UNIT_FAMILIES.get(unit, {unit: 1.0})
    spellings = [written for written, canonical in UNIT_SPELLINGS.items() if canonical in family]
    return "、".join([*family, *spellings])


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
    titles: list[str] = field(default_factory=list)  # the non-empty cells above the header


def _score(cells: Sequence[str], spec: DatasetSpec) -> int:
    return len({f.field for cell in cells if cell.strip() and (f := match_field(read_header(cell), spec))})


@dataclass(frozen=True)
class _Candidate:
    """A row, or a pair of rows, that may be the header."""

    top: int  # 0-based upper row
    leaf: int  # 0-based lower row (== top for a one-row header)
    cells: list[str]  # per column, the leaf's text, or the upper row's where the leaf is empty
    groups: list[str]  # per column, the group cell above a leaf ("投资完成情况（亿元）"), else ""


def _header_candidates(rows: Sequence[Sequence[str]]) -> list[_Candidate]:
    """Each row alone and each row with the one below.

    A two-row header has a group cell ("投资完成情况", merged across its leaves)
    in the upper row; the other headers are merged down both rows, so the
    reader sees their text in the upper row and nothing below. The leaf row
    is the header, with the upper row's text where the leaf is empty. A
    merged group's text is only in its first cell, so it is carried right
    over the leaves under it: its unit ("（亿元）") applies to all of them.
    """
    candidates = []
    for index, row in enumerate(rows):
        candidates.append(_Candidate(index, index, list(row), [""] * len(row)))
        if index + 1 < len(rows):
            below = rows[index + 1]
            pairs = list(zip_longest(row, below, fillvalue=""))
            merged = [leaf if leaf.strip() else upper for upper, leaf in pairs]
            groups, group = [], ""
            for upper, leaf in pairs:
                if upper.strip() and leaf.strip():
                    group = upper
                elif upper.strip() or not leaf.strip():
                    group = ""
                groups.append(group if leaf.strip() else "")
            candidates.append(_Candidate(index, index + 1, merged, groups))
    return candidates


def _best_candidate(head: Sequence[Sequence[str]], spec: DatasetSpec) -> tuple[int, _Candidate | None]:
    """The candidate naming the most template columns (a single row, then the upper, wins a tie)."""
    best: tuple[int, bool, int] | None = None
    chosen = None
    for candidate in _header_candidates(head):
        rank = (_score(candidate.cells, spec), candidate.top == candidate.leaf, -candidate.top)
        if best is None or rank > best:
            best, chosen = rank, candidate
    return (best[0] if best else 0), chosen


def header_score(rows: Sequence[Sequence[str]], spec: DatasetSpec) -> int:
    """How many template columns the best header row of ``rows`` names (to choose a sheet)."""
    return _best_candidate([list(row) for row in rows[:HEAD_ROWS]], spec)[0]


def headers_seen(rows: Sequence[Sequence[str]], spec: DatasetSpec) -> list[str]:
    """The cells of the row that looks most like the header, for a rejection ("见到的表头：…").

    The candidate naming the most template columns; if none names any, the
    first row with three or more filled cells (a table whose headers are all
    misspelt).
    """
    head = [list(row) for row in rows[:HEAD_ROWS]]
    score, chosen = _best_candidate(head, spec)
    if score and chosen is not None:
        cells = chosen.cells
    else:
        cells = next((row for row in head if sum(1 for cell in row if str(cell).strip()) >= 3), [])
    return [normalise(cell) for cell in cells if normalise(cell)]


def find_layout(
    rows: Sequence[Sequence[str]], spec: DatasetSpec, file_name: str, *, report_month: date | None = None
) -> Layout | None:
    """The layout of a table whose first rows are ``rows``, or None if no row is a header.

    The header is the row (or pair of rows) that names the most template
    columns; on a tie a single row wins over a pair, and the upper over the
    lower. Raises :class:`DeliveryUnreadable` for a header the warehouse
    cannot use unambiguously: a field named by two columns that do not name
    two months, or a unit that is unknown or does not convert to the field's
    unit. ``file_name`` is how messages name the file (and sheet).
    """
    head = [list(row) for row in rows[:HEAD_ROWS]]
    score, chosen = _best_candidate(head, spec)
    needed = min(MIN_MATCHED, len(_template_headers(spec)))
    if chosen is None or score < needed:
        return None
    titles = [cell for row in head[: chosen.top] for cell in row if cell.strip()]
    declared = month_in_titles(titles)
    layout = _columns(chosen.cells, chosen.groups, spec, file_name, chosen.leaf, declared or report_month)
    layout.declared_month = declared
    layout.titles = [cell.strip() for cell in titles]
    below = head[chosen.leaf + 1] if chosen.leaf + 1 < len(head) else []
    column_units = units_in_row(below)
    if column_units or is_column_number_row(below):
        layout.data_start += 1
    group_units = {index: unit for index, group in enumerate(chosen.groups) if (unit := read_header(group).unit)}
    _apply_units(layout, chosen.cells, column_units, group_units, unit_in_titles(titles), spec, file_name)
    return layout


def _columns(
    cells: list[str], groups: list[str], spec: DatasetSpec, file_name: str, leaf: int, month: date | None
) -> Layout:
    """Assign each header cell to its field, the 序号 column, or the extra headers.

    A leaf under a group cell may be short ("累计" under "投资完成情况"): it
    names the one template header it is part of, if only one.

    Two columns naming one field are accepted only when they name different
    months ("1-7月累计" beside "1-8月累计"): the one naming the report month
    (the title's, else the later one) is the field, the other an extra header.
    """
    width = max((j + 1 for j, cell in enumerate(cells) if cell.strip()), default=0)
    layout = Layout(header_row=leaf, data_start=leaf + 1, width=width, columns={}, headers={})
    for index, cell in enumerate(cells[:width]):
        header = read_header(cell)
        if not header.full:
            continue
        matched = match_field(header, spec)
        if matched is None and index < len(groups) and groups[index]:
            matched = _part_of_one_field(header, spec)
        if matched is None:
            if header.name in SERIAL_HEADERS and layout.serial_column is None:
                layout.serial_column = index
            else:
                layout.extra_headers.append(header.written)
            continue
        unknown = unknown_unit(header, matched)
        if unknown is not None:
            raise DeliveryUnreadable(
                f"{file_name}：第{column_letter(index)}列“{header.written}”的单位“{unknown}”无法识别，"
                f"模板的“{matched.header or matched.field}”列以“{matched.unit}”填报"
                f"（可用单位：{known_spellings(matched.unit or '')}）。请按模板单位填报。"
            )
        if matched.field in layout.columns:
            first = layout.columns[matched.field]
            keep = _which_month(layout.headers[matched.field], header.written, month)
            if keep is None:
                raise DeliveryUnreadable(
                    f"{file_name}：第{column_letter(first)}列“{layout.headers[matched.field]}”和"
                    f"第{column_letter(index)}列“{header.written}”都是模板的“{matched.header or matched.field}”列，"
                    f"无法判断以哪一列为准{_expected_month(month, layout.headers[matched.field], header.written)}。模板只有一列“{matched.header or matched.field}”，"
                    "请删除多余的一列后重新报送。"
                )
            if keep == "first":
                layout.extra_headers.append(header.written)
                continue
            layout.extra_headers.append(layout.headers[matched.field])
        layout.columns[matched.field] = index
        layout.headers[matched.field] = header.written
    return layout


def _part_of_one_field(header: Header, spec: DatasetSpec) -> FieldSpec | None:
    """The one template field whose header contains this short leaf header ("1-8月累计" → 年度累计完成投资)."""
    forms = [form for form in period_forms(header.name) if len(form) >= 2]
    found = {
        field_spec.field: field_spec
        for field_spec, name, _, _ in _template_headers(spec)
        if name is not None and any(form in name for form in forms)
    }
    return next(iter(found.values())) if len(found) == 1 else None


def _expected_month(month: date | None, first: str, second: str) -> str:
    """For the message on two columns of one field that name months: which month the template expects."""
    if month is None or None in (header_month(read_header(first)), header_month(read_header(second))):
        return ""
    return f"（报表标题是{month.year}年{month.month}月，两列都不是这个月的数）"


def _which_month(first: str, second: str, month: date | None) -> str | None:
    """Of two headers naming one field, "first" or "second" if they name different months, else None."""
    months = header_month(read_header(first)), header_month(read_header(second))
    if None in months or months[0] == months[1]:
        return None
    if month is not None and month.month in months:
        return "first" if months[0] == month.month else "second"
    if month is not None:
        return None  # neither names the report month: the clerk must say which
    return "first" if months[0] > months[1] else "second"  # type: ignore[operator]


def _apply_units(
    layout: Layout,
    cells: list[str],
    column_units: dict[int, str],
    group_units: dict[int, str],
    sheet_unit: str | None,
    spec: DatasetSpec,
    file_name: str,
) -> None:
    """Record the unit each measured field is written in and the factor to its canonical unit.

    A unit in the header wins, then one in a unit row under the header, then
    one in the group cell above the header ("投资完成情况（亿元）"); else the
    sheet's unit row above the table ("单位：亿元") applies to every field it
    can measure (a 亿元 row to money, not to 亩).
    """
    for name, index in layout.columns.items():
        field_spec = spec.field(name)
        if field_spec.unit is None:
            continue
        written = read_header(cells[index]).unit or column_units.get(index) or group_units.get(index)
        family = UNIT_FAMILIES.get(field_spec.unit, {})
        if written is None and sheet_unit is not None and canonical_unit(sheet_unit) in family:
            written = sheet_unit
        if written is None:
            continue
        try:
            layout.factors[name] = field_spec.unit_factor(written)
        except ValueError:
            raise DeliveryUnreadable(
                f"{file_name}：列“{layout.headers[name]}”的单位“{written}”无法换算为模板要求的"
                f"“{field_spec.unit}”（可用单位：{known_spellings(field_spec.unit)}）。请按模板单位填报。"
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
        if is_unit(text):
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
            if is_unit(found.group(1)):
                return found.group(1)
    return None


def month_in_titles(titles: Sequence[str]) -> date | None:
    """The report month a title names: "2022年1-7月…", "2022年7月…", "2022年1至7月…" → 2022-07-01.

    The title is read, not every date near it: a cell labelled as a date
    ("填报日期：2022年9月5日", "填报时间 2022年9月5日") and a date that names a
    day ("2022年9月5日", unless it is "截至2022年8月31日") say when the form was
    filled in, not which month it reports, and are skipped.
    """
    for text in titles:
        folded = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
        if _DATE_LABEL.search(folded):
            continue
        for found in _MONTH_IN_TITLE.finditer(folded):
            names_a_day = _A_DAY.match(folded, found.end())
            if names_a_day and not _AS_OF.search(folded[: found.start()]):
                continue
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


def row_masks(grid: Grid, layout: Layout, spec: DatasetSpec) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Masks of the data rows and of the grand total rows of the table, and the text of its notes.

    Structure is never data:

    - a row whose first non-empty cell starts like a note ("填报单位：",
      "注：", "数据来源:", "填报说明：1.…") is dropped; the table ends at the
      first note under which no row looks like data (a row filling half the
      template's columns), so a "说明：…" line in the middle of the table
      does not lose the projects below it;
    - a total row: its first text cell (numbers skipped), its 序号 cell or
      its first key cell reads "合计", "总计", "汇总", "Total" (an Excel
      table's totals row), also with a count ("合计（12个）") — kept apart for
      the "total equals the sum of the rows" rule;
    - a subtotal ("广陵区小计", "基础设施类合计") and a section row
      ("一、基础设施类（12个）", "（二）…") without a key: dropped.
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
        return nothing, nothing.copy(), []
    keep = values.present(first_cell)
    label = values.compact(first_text)
    notes = keep & values.matches(label if first_cell is first_text else values.compact(first_cell), NOTES_PATTERN)
    note_lines: list[str] = []
    if notes.any():
        keep &= ~notes
        keep &= ~_under_the_table(grid, layout, notes)
        note_lines = [str(text) for text in first_cell.filter(pa.array(notes)).to_pylist()[:MAX_NOTE_LINES]]
    key_column = layout.columns.get(spec.key[0]) if spec.key else None
    labels = [label]
    for label_column in {layout.serial_column, key_column}:
        if label_column is None or (only_first_column and label_column == 0):
            continue  # no such column, or its labels are the first text cells, already checked
        labels.append(values.compact(values.trim(grid.columns[label_column])))
    totals = np.zeros(len(keep), dtype=bool)
    subtotals = np.zeros(len(keep), dtype=bool)
    for text in labels:
        totals |= values.matches(text, spec.total_row_pattern, ignore_case=True)
        found_totals, found_subtotals = _structure_labels(text)
        totals |= found_totals
        subtotals |= found_subtotals
    subtotals &= ~totals
    sections = values.matches(labels[0], SECTION_PATTERN)
    if sections.any() and key_column is not None:
        key = values.compact(values.trim(grid.columns[key_column]))
        sections &= ~values.present(key) | values.matches(key, SECTION_PATTERN)
    repeated = _repeated_header(grid, layout)
    return keep & ~totals & ~subtotals & ~sections & ~repeated, keep & totals, note_lines


def _repeated_header(grid: Grid, layout: Layout) -> np.ndarray:
    """Rows that repeat the header (pages pasted one under another): two columns reading their own header.

    The header is pasted as it was written, so the trimmed text is compared
    as it is: one cheap pass over the first column, the second only where it matched.
    """
    repeats = np.zeros(len(grid.source_rows), dtype=bool)
    fields = list(layout.columns.items())[:2]
    if len(fields) < 2:
        return repeats
    (first_name, first), (second_name, second) = fields
    same = pc.fill_null(pc.equal(values.trim(grid.columns[first]), layout.headers[first_name]), False)
    candidates = np.flatnonzero(np.asarray(same.to_numpy(zero_copy_only=False), dtype=bool))
    if len(candidates) == 0:
        return repeats
    below = values.trim(pc.take(grid.columns[second], pa.array(candidates)))
    also = pc.fill_null(pc.equal(below, layout.headers[second_name]), False)
    repeats[candidates] = np.asarray(also.to_numpy(zero_copy_only=False), dtype=bool)
    return repeats


_MAYBE_STRUCTURE = r"计|汇总|(?i:total)"
"""Every total or subtotal label holds one of these: a cheap first pass before the exact patterns."""


def _structure_labels(text: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the grand-total and subtotal labels, a trailing count ("（12个）") ignored.

    The exact patterns run only on the few labels the first pass finds, so a
    million project names cost one regex pass.
    """
    candidates = values.matches(text, _MAYBE_STRUCTURE)
    totals = np.zeros(len(candidates), dtype=bool)
    subtotals = np.zeros(len(candidates), dtype=bool)
    if not candidates.any():
        return totals, subtotals
    positions = np.flatnonzero(candidates)
    few = pc.replace_substring_regex(pc.take(text, pa.array(positions)), pattern=_COUNT_SUFFIX, replacement="")
    totals[positions] = values.matches(few, GRAND_TOTAL_PATTERN)
    subtotals[positions] = values.matches(few, SUBTOTAL_PATTERN)
    return totals, subtotals


def _under_the_table(grid: Grid, layout: Layout, notes: np.ndarray) -> np.ndarray:
    """The rows from the first note under which no row looks like data (fills half the template's columns)."""
    first = int(np.argmax(notes))
    filled = np.zeros(len(notes) - first, dtype=np.int64)
    for index in set(layout.columns.values()):
        filled += values.present(values.trim(grid.columns[index].slice(first))).astype(np.int64)
    data_like = filled >= max(2, (len(layout.columns) + 1) // 2)
    after = np.zeros(len(notes), dtype=bool)
    for position in np.flatnonzero(notes):
        if not data_like[position - first :].any():
            after[position:] = True
            break
    return after


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
    """The canonical frame and the parse issues of the rows of ``grid`` that ``keep`` marks, in one block."""
    frame, issues = next(frame_blocks(grid, layout, spec, city, keep, block_rows=None))
    order = {name: position for position, name in enumerate(spec.field_names)}
    issues.sort(key=lambda issue: (issue.source_row, order[issue.field]))
    return frame, issues


def frame_blocks(
    grid: Grid, layout: Layout, spec: DatasetSpec, city: City, keep: np.ndarray, *, block_rows: int | None
) -> Iterator[tuple[pd.DataFrame, list[ParseIssue]]]:
    """The canonical frame of the rows ``keep`` marks, ``block_rows`` kept rows at a time (None: all at once).

    Every conversion is cell by cell, so the blocks concatenated are the
    frame and the issues converted in one block (the issues in block order).
    There is always at least one block, an empty frame for a file without rows.
    The grid's columns are released as the last block converts them, so a
    large CSV is never held twice.
    """
    kept = np.flatnonzero(keep)
    run = _one_run(keep)
    size = max(1, len(kept) if block_rows is None else block_rows)
    starts = range(0, len(kept), size) if len(kept) else range(1)
    for start in starts:
        stop = min(start + size, len(kept))
        last = stop >= len(kept)
        if run is not None:
            rows: slice | pa.Array = slice(run[0] + start, run[0] + stop)
        else:
            rows = pa.array(kept[start:stop])
        yield _convert_block(grid, layout, spec, city, rows, grid.source_rows[kept[start:stop]], release=last)


def _convert_block(
    grid: Grid,
    layout: Layout,
    spec: DatasetSpec,
    city: City,
    rows: slice | pa.Array,
    source_rows: np.ndarray,
    *,
    release: bool,
) -> tuple[pd.DataFrame, list[ParseIssue]]:
    """One block's frame and issues: ``rows`` is a slice of the grid (no copy) or the positions to take."""
    data: dict[str, pd.Series] = {}
    issues: list[ParseIssue] = []
    for field_spec in spec.fields:
        index = layout.columns.get(field_spec.field)
        if index is None:
            continue
        whole = grid.columns[index]
        column = whole.slice(rows.start, rows.stop - rows.start) if isinstance(rows, slice) else whole.take(rows)
        if release:
            grid.columns[index] = pa.nulls(0, pa.string())  # release the text as soon as it is converted
        del whole
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


BlockHandler = Callable[[pd.DataFrame], None]
"""Called with each block of canonical rows as soon as it is converted (the load's COPY takes it from there)."""


@dataclass
class LaidOut:
    """A delivery whose table is found (header, columns, units); its rows not yet read as data.

    :meth:`build` goes down the rows ``block_rows`` at a time: it decides
    which are data, totals and notes (:func:`row_masks`), converts the data
    rows and hands each block to ``on_block`` as soon as it is ready, so
    ``citydw ingest`` COPYs block k while block k+1 is read. The text of a
    block is released once it is converted. ``citydw check``, the portal and
    the ingest all build through it, one block or many, so they read a file
    the same way.
    """

    grid: Grid
    layout: Layout
    spec: DatasetSpec
    city: City
    file_name: str
    sheet: str | None = None
    table_rules: bool = True  # False: an API feed, every record is data
    block_rows: int | None = None  # None: one block
    # Run on the whole delivery once built (a workbook adds the issues its cells' XML showed).
    finish: Callable[[ParsedDelivery], None] | None = None
    # The rows below ``grid`` not read yet (a CSV's body is read as it is built), in file order.
    rest: Iterator[Grid] | None = None
    # Records whose field count differs from the header's, checked block by block (a CSV read as it is built).
    ragged: RaggedCheck | None = None
    built: bool = False

    def build(self, on_block: BlockHandler | None = None) -> ParsedDelivery:
        """The canonical rows; once only, as the grid's text is let go on the way."""
        if self.built:
            raise RuntimeError(f"{self.file_name}: its rows were built already, and their text let go")
        self.built = True
        frames: list[pd.DataFrame] = []
        issues: list[ParseIssue] = []
        totals: list[pd.DataFrame] = []
        notes: list[str] = []
        for part, (keep, total_mask, part_notes) in self._parts():
            if (total_rows := total_rows_frame(part, self.layout, self.spec, self.city, total_mask)) is not None:
                totals.append(total_rows)
            notes += part_notes
            for frame, found in frame_blocks(part, self.layout, self.spec, self.city, keep, block_rows=self.block_rows):
                if on_block is not None:
                    on_block(frame)
                frames.append(frame)
                issues.extend(found)
        order = {name: position for position, name in enumerate(self.spec.field_names)}
        issues.sort(key=lambda issue: (issue.source_row, order[issue.field]))
        layout = self.layout
        parsed = ParsedDelivery(
            total_rows=_concat(totals),
            frame=_concat_releasing(frames),  # there is always a block
            file_name=self.file_name,
            headers=dict(layout.headers),
            units=dict(layout.units),
            declared_month=layout.declared_month,
            issues=issues,
            extra_headers=list(layout.extra_headers),
            sheet=self.sheet,
            context_lines=[*layout.titles, *notes[:MAX_NOTE_LINES]],
        )
        if self.finish is not None:
            self.finish(parsed)
        return parsed

    def _parts(self) -> Iterator[tuple[Grid, tuple[np.ndarray, np.ndarray, list[str]]]]:
        """The grid in blocks of rows with their structure masks; each block's text let go after it.

        Every structure rule is decided row by row except where the table
        ends under a note (:func:`_under_the_table` looks at every row below
        the note). So the block holding the first note is extended to the end
        of the file, and the masks of every block are those of the whole file.
        A block with a broken record (:attr:`ragged`) is extended the same way,
        so the error names every broken record of the file. Rows still to be
        read (:attr:`rest`) are read as the blocks need them.
        """
        size = self.block_rows or None
        while True:
            part = self._take(size)
            masks = self._masks(part)
            broken = self.ragged.broken(part, masks) if self.ragged is not None else []
            if self._more() and (masks[2] or broken):  # the rest of the file decides
                part = _joined(part, self._take(None))
                masks = self._masks(part)
                broken = self.ragged.broken(part, masks) if self.ragged is not None else []
            if broken:
                assert self.ragged is not None
                raise self.ragged.error(broken)
            yield part, masks
            if not self._more():
                return

    def _take(self, size: int | None) -> Grid:
        """The next ``size`` rows (None: all), read from :attr:`rest` as needed; the grid keeps what is after them."""
        pieces, rows = [self.grid], len(self.grid.source_rows)
        while (size is None or rows < size) and (batch := self._next_batch()) is not None:
            pieces.append(batch)
            rows += len(batch.source_rows)
        grid = self.grid = _joined(*pieces)
        rows = len(grid.source_rows)
        stop = rows if size is None else min(size, rows)
        part = _rows_of(grid, 0, stop)
        last = int(part.source_rows[-1]) if stop else None
        part.odd_rows = [entry for entry in grid.odd_rows if last is not None and entry[0] <= last]
        # The converted text is let go: a ChunkedArray's slice drops the chunks before it.
        self.grid = Grid(
            [column.slice(stop) for column in grid.columns],
            grid.source_rows[stop:],
            odd_rows=grid.odd_rows[len(part.odd_rows) :],
        )
        return part

    def _more(self) -> bool:
        """Whether rows are left after the blocks taken so far (reads the next batch to know)."""
        while len(self.grid.source_rows) == 0 and (batch := self._next_batch()) is not None:
            self.grid = _joined(self.grid, batch)
        return len(self.grid.source_rows) > 0

    def _next_batch(self) -> Grid | None:
        """The next batch of :attr:`rest`, None once it is read to the end."""
        batch = next(self.rest, None) if self.rest is not None else None
        if batch is None:
            self.rest = None
        return batch

    def _masks(self, part: Grid) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """Which rows of ``part`` are data and which are total rows, and its notes (:func:`row_masks`)."""
        if not self.table_rules:  # blank, total and note rows are a sheet's; an API feed has none
            rows = len(part.source_rows)
            return np.ones(rows, dtype=bool), np.zeros(rows, dtype=bool), []
        return row_masks(part, self.layout, self.spec)


class RaggedCheck(Protocol):
    """Which records of a block are in the table with the wrong field count, and the error naming them."""

    def broken(self, part: Grid, masks: tuple[np.ndarray, np.ndarray, list[str]]) -> list[tuple[int, int]]: ...

    def error(self, broken: list[tuple[int, int]]) -> Exception: ...


def _joined(*grids: Grid) -> Grid:
    """Grids of consecutive rows as one (no copy of the text)."""
    grids = tuple(grid for grid in grids if len(grid.source_rows)) or grids[:1]
    if len(grids) == 1:
        return grids[0]
    columns = [
        pa.chunked_array([chunk for column in same for chunk in _chunks_of(column)], pa.string())
        for same in zip(*(grid.columns for grid in grids), strict=True)
    ]
    return Grid(
        columns,
        np.concatenate([grid.source_rows for grid in grids]),
        [entry for grid in grids for entry in grid.odd_rows],
    )


def _chunks_of(column: pa.Array | pa.ChunkedArray) -> list[pa.Array]:
    return list(column.chunks) if isinstance(column, pa.ChunkedArray) else [column]


def _rows_of(grid: Grid, start: int, stop: int) -> Grid:
    """Rows ``start`` to ``stop`` of ``grid``, as a grid of their own (no copy)."""
    return Grid([column.slice(start, stop - start) for column in grid.columns], grid.source_rows[start:stop])


def _concat_releasing(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The blocks as one frame, emptying ``frames``: a column at a time, each column's blocks let go once joined.

    ``pd.concat`` of the blocks would hold every block and the whole frame at
    once (twice a large delivery's rows, the ingest's peak); this holds the
    blocks' columns not joined yet and the frame's joined so far. (A block
    still queued for the COPY keeps its own columns until it is loaded.)
    """
    if len(frames) == 1:
        return frames.pop()
    names = list(frames[0].columns)
    pieces = {name: [block[name] for block in frames] for name in names}
    frames.clear()
    joined = {}
    for name in names:
        joined[name] = pd.concat(pieces.pop(name), ignore_index=True)
    return pd.DataFrame(joined, copy=False)


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame | None:
    if not frames:
        return None
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def lay_out(
    grid: Grid,
    layout: Layout,
    spec: DatasetSpec,
    city: City,
    file_name: str,
    *,
    sheet: str | None = None,
    table_rules: bool = True,
    block_rows: int | None = None,
    rest: Iterator[Grid] | None = None,
    ragged: RaggedCheck | None = None,
) -> LaidOut:
    """A grid laid out by ``layout``, to be read as data block by block (:meth:`LaidOut.build`).

    ``rest``: the rows after ``grid``, read as the blocks need them; ``ragged``: checks each block's records.
    """
    return LaidOut(
        grid, layout, spec, city, file_name, sheet=sheet, table_rules=table_rules, block_rows=block_rows,
        rest=rest, ragged=ragged,
    )  # fmt: skip


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
    return lay_out(grid, layout, spec, city, file_name, sheet=sheet, table_rules=table_rules).build()
