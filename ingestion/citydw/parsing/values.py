"""Turning cell text into canonical values, one whole column at a time.

Every reader hands this module columns of cell *text* (a pyarrow string
array, null or "" for an empty cell), so an Excel sheet, a CSV file and an
API feed are cleaned by the same rules. The work is vectorised with pyarrow
compute because a CSV delivery can have a million rows; a column is cleaned,
converted and checked in a handful of passes, never in a Python loop per cell.

What a clerk writes, and what it becomes:

- numbers: full-width digits and punctuation ("１２３４．５"), thousands
  separators ("1,234.5"), stray spaces (also U+3000 and U+00A0), a minus
  sign of any width; "—", "-", "/", "无" mean "no value". Negative numbers are
  kept: whether they are allowed is the validation suite's business.
- percent: "85.2%" and "85.2" both mean 85.2 (percentage points).
- dates: "2022-03-15", "2022/3/15", "2022.03", "2022年3月", "2022年3月15日",
  "20220315", an Excel serial number (44635), or a date cell; a month-only
  date means the 1st of the month.
- text is kept verbatim after trimming: nothing in a cell is ever evaluated,
  so "=1+1" stays the text "=1+1".

A value that cannot be read becomes null and is flagged in the ``bad`` mask of
the result, so the caller can quarantine its row with a message that says
what was expected. A number too large for the warehouse to hold exactly
("1e308", "1e400", "Infinity") is flagged the same way, with its own reason
(:data:`OUT_OF_RANGE`), never rounded into an overflow or loaded as NULL.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from citydw.city import City
from citydw.registry import FieldSpec

# Trimmed from both ends of every cell: ASCII and ideographic spaces,
# no-break spaces, zero-width spaces and stray byte-order marks pasted in
# from other documents.
TRIM_CHARACTERS = " \t\r\n\v\f\u3000\xa0\u2002\u2003\u2009\u200b\ufeff"

# Cells that mean "no value" in a number or date column (after NFKC).
EMPTY_MARKERS = r"^(?:[-—–―/\\]+|无)$"

_NUMBER = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$"
_PLAIN_NUMBER = r"^-?[0-9]{1,15}(?:\.[0-9]{1,9})?$"
"""A number as most cells hold it, which every cleaning rule leaves unchanged (a subset of ``_NUMBER``)."""
_THOUSANDS = r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?$"
_INFINITY = r"^[+-]?(?:inf|infinity|∞)$"
_EXCEL_SERIAL = r"^\d{5}(?:\.\d+)?$"
# Serial numbers read as dates: 1970-01-01 to 2100-12-31. A five-digit number
# outside (a mistyped "20223") is not silently taken for a date in 1955.
_FIRST_SERIAL, _LAST_SERIAL = 25_569, 73_415
_TIME = r"(?:T?\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_DATE_PATTERNS = (
    rf"^(?P<y>\d{{4}})[-/.](?P<m>\d{{1,2}})(?:[-/.](?P<d>\d{{1,2}}))?{_TIME}$",
    r"^(?P<y>\d{4})年(?P<m>\d{1,2})月份?(?:(?P<d>\d{1,2})[日号])?$",
    r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})?$",
)
_EXCEL_EPOCH_SERIAL = 25569  # serial number of 1970-01-01 in Excel's 1900 date system
_FIRST_YEAR, _LAST_YEAR = 1900, 2100
_SECONDS_PER_DAY = 86_400
DECIMALS = 6

LARGEST_NUMBER = 1e15
"""Largest magnitude of a number, in its canonical unit, that a cell may hold.

A float64 keeps 15–16 significant digits, so a larger amount (10¹⁵ 万元 is a
thousand times the world's GDP) could not keep its six decimals, and near
10³⁰² rounding to six places overflows. Such a cell is a typing or export
error, and its row is quarantined."""

OUT_OF_RANGE_RULE = "parse.range"
OUT_OF_RANGE = "数值超出范围（绝对值应小于1000万亿），请核对是否多输了数字或误填了科学计数法"


@dataclass(frozen=True)
class Converted:
    """A converted column: ``values`` (null where empty or unreadable) and ``bad``,
    True where the cell held something that is not a valid value of the type.

    ``out_of_range`` marks the bad cells that are numbers too large to hold:
    their reason is :data:`OUT_OF_RANGE`, not the column's ``expected``.
    """

    values: pa.Array
    bad: np.ndarray
    rule_id: str = ""
    expected: str = ""
    out_of_range: np.ndarray | None = None

    def reason(self, position: int) -> tuple[str, str]:
        """(rule id, message for the department) of the bad cell at ``position``."""
        if self.out_of_range is not None and self.out_of_range[position]:
            return OUT_OF_RANGE_RULE, OUT_OF_RANGE
        return self.rule_id, self.expected


# --- cell text ---------------------------------------------------------------


def cell_text(value: object, *, as_percent: bool = False) -> str:
    """The text of one typed cell (from calamine or a JSON record), as a clerk would read it.

    Integral floats lose their ".0" (Excel stores every number as a float);
    other floats keep the 15 significant digits Excel shows, which also hides
    binary noise such as 0.30000000000000004. A cell formatted as a
    percentage (``as_percent``) holds 0.852 for "85.2%", so it is written
    back as the clerk saw it. Dates become ISO text; no value becomes "".
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # Not a number and infinity (JSON's NaN, 1e400) are kept as text, so a
        # number column flags them instead of loading NULL without a word.
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        if as_percent:
            return f"{value * 100:.13g}%"
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return f"{value:.15g}"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


# --- column helpers ----------------------------------------------------------


def trim(column: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Cells without surrounding blanks; an empty or blank cell becomes null."""
    trimmed = pc.utf8_trim(column, characters=TRIM_CHARACTERS)
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)


def compact(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """NFKC (full-width → half-width) without any blanks: how numbers and keywords are compared.

    Most cells of a large file are plain ASCII without blanks ("2022-03-15",
    "1234.5", a project code), which this leaves as they are; only the other
    cells pay for the Unicode normalisation.
    """
    column = _combine(column)
    plain = _mask(pc.string_is_ascii(column)) & ~matches(column, r"\s")
    if plain.all():
        return column
    others = column if not plain.any() else column.filter(pa.array(~plain))
    folded = pc.utf8_normalize(others, form="NFKC")
    folded = pc.replace_substring_regex(folded, pattern=r"[\s\x{200b}\x{feff}]+", replacement="")
    if not plain.any():
        return folded
    return pc.replace_with_mask(column, pa.array(~plain), folded)


def matches(column: pa.Array | pa.ChunkedArray, pattern: str, *, ignore_case: bool = False) -> np.ndarray:
    """Boolean mask of cells matching ``pattern`` (null cells never match).

    Patterns from the registry are Python regexes; pyarrow speaks RE2. Where
    RE2 refuses a pattern (look-arounds, back-references) the distinct values
    are matched with Python's ``re`` instead, which is still one call per
    distinct value, not per row.
    """
    try:
        mask = pc.match_substring_regex(column, pattern=pattern, ignore_case=ignore_case)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        regex = re.compile(pattern, re.IGNORECASE if ignore_case else 0)
        distinct = pc.unique(column).drop_null()
        hits = pa.array([v for v in distinct.to_pylist() if regex.search(v)], pa.string())
        mask = pc.is_in(column, value_set=hits)
    return _mask(mask)


def _mask(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A numpy bool array, nulls as False."""
    return np.asarray(pc.fill_null(array, False).to_numpy(zero_copy_only=False), dtype=bool)


def _null_where(column: pa.Array | pa.ChunkedArray, mask: np.ndarray) -> pa.Array | pa.ChunkedArray:
    return pc.if_else(pa.array(mask), pa.scalar(None, column.type), column)


def _keep_where(column: pa.Array | pa.ChunkedArray, mask: np.ndarray) -> pa.Array | pa.ChunkedArray:
    return pc.if_else(pa.array(mask), column, pa.scalar(None, column.type))


def present(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Mask of the non-null cells."""
    return _mask(pc.is_valid(column))


def _combine(chunked: pa.Array | pa.ChunkedArray) -> pa.Array:
    return chunked.combine_chunks() if isinstance(chunked, pa.ChunkedArray) else chunked


def per_distinct(column: pa.Array | pa.ChunkedArray, convert: Callable[[pa.Array], Converted]) -> Converted:
    """``convert`` applied to each distinct trimmed value once, spread back over the rows."""
    encoded = pc.dictionary_encode(_combine(trim(column)))
    result = convert(encoded.dictionary)
    valid = present(encoded.indices)
    positions = np.asarray(encoded.indices.fill_null(0).to_numpy(zero_copy_only=False), dtype=np.int64)
    bad = result.bad[positions] & valid if len(result.bad) else np.zeros(len(positions), dtype=bool)
    return Converted(result.values.take(encoded.indices), bad, result.rule_id, result.expected)


# --- numbers -----------------------------------------------------------------


def _number_text(column: pa.Array | pa.ChunkedArray, *, percent: bool) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """Cleaned number text (null where empty), the mask of cells that are not numbers, and the
    mask of cells that say infinity ("inf", "Infinity", "∞": a number, but out of range).

    Most cells of a large file are plain numbers ("1234.5"), which every
    step of the cleaning leaves as they are: one pass finds them, and only
    the other cells (blanks, full-width digits, "1,234", "—", "85%") go
    through the clerk-format rules. Each step works cell by cell, so the
    result is the same as cleaning every cell.
    """
    column = _combine(column)
    plain = matches(column, _PLAIN_NUMBER)
    if plain.all():
        return column, np.zeros(len(column), dtype=bool), np.zeros(len(column), dtype=bool)
    if not plain.any():
        return _clerk_number_text(column, percent=percent)
    others = pa.array(~plain)
    text, bad_others, infinite_others = _clerk_number_text(column.filter(others), percent=percent)
    bad = np.zeros(len(column), dtype=bool)
    infinite = np.zeros(len(column), dtype=bool)
    bad[~plain] = bad_others
    infinite[~plain] = infinite_others
    return pc.replace_with_mask(column, others, _combine(text)), bad, infinite


def _clerk_number_text(column: pa.Array, *, percent: bool) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """:func:`_number_text` for cells as clerks write them: blanks, full-width digits, separators, markers."""
    text = compact(trim(column))
    text = pc.replace_substring(text, pattern="\u2212", replacement="-")  # the typographic minus
    text = _null_where(text, matches(text, EMPTY_MARKERS))
    if percent:
        text = pc.replace_substring_regex(text, pattern=r"%$", replacement="")
    grouped = matches(text, _THOUSANDS)
    if grouped.any():
        text = pc.if_else(pa.array(grouped), pc.replace_substring(text, pattern=",", replacement=""), text)
    ok = matches(text, _NUMBER)
    infinite = matches(text, _INFINITY, ignore_case=True)
    bad = present(text) & ~ok
    return _keep_where(text, ok), bad, infinite


def to_decimal(column: pa.Array | pa.ChunkedArray, factor: float = 1.0, *, percent: bool = False) -> Converted:
    """Numbers in the canonical unit: value × ``factor``, rounded to 6 decimals.

    A number whose canonical value reaches :data:`LARGEST_NUMBER` (or that
    does not fit a float at all, "1e400") is bad and marked ``out_of_range``;
    the check comes before rounding, which would overflow near 10³⁰².
    """
    text, bad, out_of_range = _number_text(column, percent=percent)
    values = pc.cast(text, pa.float64())
    if factor != 1.0:
        values = pc.multiply(values, pa.scalar(factor, pa.float64()))
    too_large = present(values) & ~_mask(pc.less(pc.abs(values), LARGEST_NUMBER))  # inf and NaN too
    if too_large.any():
        out_of_range = out_of_range | too_large
        bad |= too_large
        values = _null_where(values, too_large)
    values = pc.round(values, ndigits=DECIMALS)
    rule = "parse.percent" if percent else "parse.decimal"
    return Converted(_combine(values), bad, rule, out_of_range=out_of_range)


def to_integer(column: pa.Array | pa.ChunkedArray, factor: float = 1.0) -> Converted:
    """Whole numbers: "12" and "12.0" are 12; "12.5" is not an integer."""
    number = to_decimal(column, factor)
    values = number.values
    fraction = present(values) & ~_mask(pc.equal(values, pc.floor(values)))
    bad = number.bad | fraction
    values = _null_where(values, fraction)
    return Converted(_combine(pc.cast(values, pa.int64())), bad, "parse.integer", out_of_range=number.out_of_range)


# --- dates -------------------------------------------------------------------


def to_date(column: pa.Array | pa.ChunkedArray) -> Converted:
    """Dates at midnight (a month-only date is the 1st of that month).

    Each written form is tried in turn; a form that matches but names no
    real day ("2022-02-30") is bad. A date column repeats a few thousand
    days, so each distinct text is parsed once.
    """
    return per_distinct(column, _to_date)


def _to_date(column: pa.Array) -> Converted:
    text = compact(column)
    text = _combine(_null_where(text, matches(text, EMPTY_MARKERS)))
    found = pa.nulls(len(text), pa.timestamp("s"))
    for pattern in _DATE_PATTERNS:
        found = pc.coalesce(found, _dates_from_parts(text, pattern))
    found = pc.coalesce(found, _dates_from_serials(text))
    year = pc.year(found)
    plausible = _mask(pc.and_(pc.greater_equal(year, _FIRST_YEAR), pc.less_equal(year, _LAST_YEAR)))
    values = _keep_where(found, plausible)
    bad = present(text) & ~plausible
    return Converted(_combine(values), bad, "parse.date")


def _dates_from_parts(text: pa.Array, pattern: str) -> pa.Array:
    """Dates for cells matching a year/month/(day) pattern; null elsewhere or if no such day."""
    parts = pc.extract_regex(text, pattern=pattern)
    matched = _mask(pc.is_valid(parts))
    year, month, day = (_keep_where(parts.field(name), matched) for name in ("y", "m", "d"))
    day = pc.if_else(pc.equal(day, ""), pa.scalar("1"), day)  # a month-only date: the 1st
    iso = pc.binary_join_element_wise(
        year, pc.utf8_lpad(month, width=2, padding="0"), pc.utf8_lpad(day, width=2, padding="0"), "-"
    )
    stamps = pc.strptime(iso, format="%Y-%m-%d", unit="s", error_is_null=True)
    # strptime rolls 2022-02-30 over to 2022-03-02; a date that does not
    # read back as written is not a date.
    same = pc.and_(
        pc.equal(pc.month(stamps), pc.cast(month, pa.int64())),
        pc.equal(pc.day(stamps), pc.cast(day, pa.int64())),
    )
    return _keep_where(stamps, _mask(same))


def _dates_from_serials(text: pa.Array) -> pa.Array:
    """Dates for cells holding an Excel serial day number (1900 date system)."""
    serial = pc.floor(pc.cast(_keep_where(text, matches(text, _EXCEL_SERIAL)), pa.float64()))
    serial = _keep_where(
        serial, _mask(pc.and_(pc.greater_equal(serial, _FIRST_SERIAL), pc.less_equal(serial, _LAST_SERIAL)))
    )
    days = pc.subtract(serial, _EXCEL_EPOCH_SERIAL)
    seconds = pc.multiply(pc.cast(days, pa.int64()), _SECONDS_PER_DAY)
    return pc.cast(seconds, pa.timestamp("s"))


# --- booleans, text, places --------------------------------------------------


def to_boolean(
    column: pa.Array | pa.ChunkedArray, true_values: Iterable[str], false_values: Iterable[str]
) -> Converted:
    """True/False from the template's words for yes and no (是/否, √/×, ...)."""
    return per_distinct(column, lambda distinct: _to_boolean(distinct, true_values, false_values))


def _to_boolean(column: pa.Array, true_values: Iterable[str], false_values: Iterable[str]) -> Converted:
    text = compact(column)
    text = _null_where(text, matches(text, EMPTY_MARKERS))
    yes = pa.array(sorted({_fold(v) for v in true_values}), pa.string())
    no = pa.array(sorted({_fold(v) for v in false_values}), pa.string())
    is_yes, is_no = _mask(pc.is_in(text, value_set=yes)), _mask(pc.is_in(text, value_set=no))
    known = is_yes | is_no
    values = _keep_where(pa.array(is_yes), known)
    return Converted(values, present(text) & ~known, "parse.boolean")


def to_text(column: pa.Array | pa.ChunkedArray) -> Converted:
    """Text exactly as written, without surrounding blanks. Never interpreted."""
    text = _combine(trim(column))
    return Converted(text, np.zeros(len(text), dtype=bool))


def to_code(column: pa.Array | pa.ChunkedArray) -> Converted:
    """A code (e.g. a 6-digit region code): half-width, no blanks; checked by validation."""
    text = _combine(compact(trim(column)))
    text = _null_where(text, matches(text, r"^$"))
    return Converted(text, np.zeros(len(text), dtype=bool))


def to_district(column: pa.Array | pa.ChunkedArray, city: City) -> Converted:
    """The district's 6-digit code; a name the city does not know stays as written.

    An unknown district is not a parse error: validation rejects the row with
    the name the clerk wrote, which is what the clerk needs to see.
    """
    text = _combine(trim(column))
    return Converted(map_distinct(text, lambda name: city.district_code(name) or name), np.zeros(len(text), bool))


def map_distinct(column: pa.Array, function: Callable[[str], str]) -> pa.Array:
    """Apply ``function`` once per distinct value of a string column."""
    distinct = pc.unique(column).drop_null()
    mapped = pa.array([function(v) for v in distinct.to_pylist()], pa.string())
    return pc.take(mapped, pc.index_in(column, value_set=distinct))


def _fold(value: str) -> str:
    """A template word compared the way :func:`compact` cleans cells."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", value))


# --- one field ---------------------------------------------------------------


def convert(
    column: pa.Array | pa.ChunkedArray, spec: FieldSpec, city: City, *, factor: float = 1.0, unit: str | None = None
) -> Converted:
    """Convert a column of cell text to ``spec``'s type and canonical unit.

    ``factor`` converts the unit the file was written in (``unit``) to the
    canonical one; the unit appears in the message for a bad value, so the
    clerk knows which number was expected.
    """
    if spec.type == "text":
        return to_text(column)
    if spec.type == "district":
        return to_district(column, city)
    if spec.type == "region_code":
        return to_code(column)
    if spec.type == "decimal":
        result = to_decimal(column, factor)
        shown = unit or spec.unit
        return _explained(result, f"应为数字（{shown}）" if shown else "应为数字")
    if spec.type == "percent":
        return _explained(to_decimal(column, factor, percent=True), "应为百分数，如85.2或85.2%")
    if spec.type == "integer":
        return _explained(to_integer(column, factor), "应为整数")
    if spec.type == "date":
        return _explained(to_date(column), "应为日期，如2022-03-15、2022/3/15、2022.03或2022年3月15日")
    if spec.type == "boolean":
        result = to_boolean(column, spec.true_values, spec.false_values)
        return _explained(result, f"应为“{spec.true_values[0]}”或“{spec.false_values[0]}”")
    raise ValueError(f"no converter for field type {spec.type!r}")


def _explained(result: Converted, expected: str) -> Converted:
    return replace(result, expected=expected)
