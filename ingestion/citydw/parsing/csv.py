"""Reading a CSV delivery: its encoding, its header, and a million rows in a few seconds.

Departments save CSV from Excel in GB18030/GBK as often as in UTF-8, with or
without a byte-order mark, so the encoding is detected by *strict* decoding:
UTF-8 first (a GBK file is almost never valid UTF-8), then GB18030. Because
GB18030 accepts nearly any byte sequence, a file that only decodes as GB18030
gets a second opinion from charset-normalizer; if that opinion is negative and
the template's header cannot be found in the decoded text either, the file is
rejected with the encodings tried — never read as mojibake.

The first rows (title, unit row, header) are read with the csv module and
laid out by :mod:`citydw.parsing.grid`; the rows under the header are parsed
by pyarrow straight from the file's bytes into string columns, and converted
column by column, so memory stays a small multiple of the file's size.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import charset_normalizer
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from citydw.city import City
from citydw.parsing import grid
from citydw.parsing.model import DeliveryUnreadable, ParsedDelivery
from citydw.registry import DatasetSpec

ENCODINGS_TRIED = "UTF-8（含带BOM的UTF-8）、GB18030（含GBK、GB2312）、带BOM的UTF-16（Excel的“Unicode文本”）"
DELIMITERS = (",", "\t", ";", "|")
SAMPLE_BYTES = 64 * 1024
"""Bytes from the start of the file shown to charset-normalizer and the mojibake check."""

_VALIDATE_CHUNK = 16 * 1024 * 1024
_BLOCK_SIZE = 4 * 1024 * 1024


@dataclass(frozen=True)
class Encoding:
    """How a CSV file is encoded, and whether that conclusion needs the header's confirmation."""

    codec: str  # Python codec name
    skip: int  # bytes of byte-order mark before the text
    doubtful: bool  # decodes, but the text does not look like Chinese written in this encoding

    @property
    def arrow(self) -> str:
        return "utf8" if self.codec == "utf-8" else self.codec


def read_csv(
    data: bytes, file_name: str, spec: DatasetSpec, city: City, *, report_month: date | None = None
) -> ParsedDelivery:
    """Read a department's CSV file into canonical rows (see :class:`ParsedDelivery`)."""
    if len(data) <= SAMPLE_BYTES and not data.strip(b" \t\r\n,;" + codecs.BOM_UTF8):
        raise DeliveryUnreadable(f"{file_name}：文件为空，没有任何内容。请重新导出后报送。")
    data = from_unicode_text(data, file_name)
    encoding = detect_encoding(data, file_name)
    if b"\n" not in data and b"\r" in data:  # old Mac line endings
        data = data.replace(b"\r", b"\n")
    best: tuple[int, str, grid.Layout, list[int]] | None = None
    heads: list[list[list[str]]] = []
    for delimiter in _candidate_delimiters(data, encoding):
        records, offsets = head_records(data, encoding, delimiter)
        heads.append(records)
        layout = grid.find_layout(records, spec, file_name, report_month=report_month)
        if layout is not None and (best is None or len(layout.columns) > best[0]):
            best = (len(layout.columns), delimiter, layout, offsets)
    if best is None:
        if encoding.doubtful:
            raise _undecodable(file_name, f"按{encoding.codec.upper()}解码后是乱码")
        seen = max((grid.headers_seen(records, spec) for records in heads), key=len, default=[])
        raise grid.no_header(file_name, spec, f"（见到的表头：{'、'.join(seen[:20]) or '无'}）")
    _, delimiter, layout, offsets = best
    body = read_body(
        data, offsets[layout.data_start], layout.data_start + 1, layout.width, encoding, delimiter, file_name
    )
    return grid.deliver(body, layout, spec, city, file_name)


# --- encoding ---------------------------------------------------------------------


_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def from_unicode_text(data: bytes, file_name: str) -> bytes:
    """UTF-8 bytes of a file Excel saved as "Unicode文本" (UTF-16 with a byte-order mark, tab-separated).

    Excel writes that format when a clerk picks "另存为 → Unicode 文本"; it
    is as good a delivery as a CSV. Other files are returned as they are.
    """
    for bom, codec in _WIDE_BOMS:  # UTF-32 LE starts with UTF-16 LE's mark, so it is tried first
        if data.startswith(bom):
            try:
                return data.decode(codec).encode("utf-8")
            except UnicodeDecodeError:
                raise _undecodable(
                    file_name, f"文件开头是{codec.upper()}的BOM，但内容不是有效的{codec.upper()}"
                ) from None
    return data


def detect_encoding(data: bytes, file_name: str) -> Encoding:
    """The encoding the file is strictly valid in: UTF-8 (with or without BOM), else GB18030.

    Raises :class:`DeliveryUnreadable` naming the encodings tried when the
    file is valid in neither. (UTF-16/32 with a byte-order mark, Excel's
    "Unicode text", is turned into UTF-8 before: :func:`from_unicode_text`.)
    """
    skip = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    if _decodes(data, "utf-8", skip):
        return Encoding("utf-8", skip, doubtful=looks_garbled(_sample(data, "utf-8", skip)))
    if skip:
        raise _undecodable(file_name, "文件开头有UTF-8的BOM，但内容不是有效的UTF-8")
    if _decodes(data, "gb18030", 0):
        sample = _sample(data, "gb18030", 0)
        agrees = charset_normalizer.from_bytes(_sample_bytes(data, 0), cp_isolation=["gb18030"]).best() is not None
        return Encoding("gb18030", 0, doubtful=looks_garbled(sample) or not agrees)
    raise _undecodable(file_name, "文件在这些编码下都不是有效文本")


def _undecodable(file_name: str, reason: str) -> DeliveryUnreadable:
    return DeliveryUnreadable(
        f"{file_name}：无法确定CSV文件的字符编码（{reason}；已尝试：{ENCODINGS_TRIED}）。"
        "请在Excel中“另存为”→“CSV UTF-8（逗号分隔）”后重新报送。"
    )


def _decodes(data: bytes, codec: str, skip: int) -> bool:
    """Whether all of ``data`` decodes strictly in ``codec``, checked in chunks to bound memory."""
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    view = memoryview(data)
    try:
        for start in range(skip, len(data), _VALIDATE_CHUNK):
            decoder.decode(view[start : start + _VALIDATE_CHUNK], final=False)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _sample_bytes(data: bytes, skip: int) -> bytes:
    """The first lines of the file, cut at a line end so no character is split."""
    sample = data[skip : skip + SAMPLE_BYTES]
    if len(data) > skip + SAMPLE_BYTES and b"\n" in sample:
        sample = sample[: sample.rindex(b"\n") + 1]
    return sample


def _sample(data: bytes, codec: str, skip: int) -> str:
    return _sample_bytes(data, skip).decode(codec, errors="replace")


def looks_garbled(text: str) -> bool:
    """Whether decoded text looks like mojibake rather than Chinese.

    Chinese reports hold CJK characters, ASCII and a little punctuation.
    Control characters (a UTF-16 file read byte by byte), replacement
    characters, private-use characters, and Latin-1 letters such as
    "ÏîÄ¿´úÂë" (GBK bytes once read as Latin-1) mean the bytes were decoded
    with the wrong table.
    """
    strange = 0
    foreign = 0
    for char in text:
        code = ord(char)
        if code < 0x20 and char not in "\t\r\n":
            return True
        if code < 0x80:
            continue
        foreign += 1
        if (
            char == "\ufffd"
            or 0x80 <= code < 0xA0
            or (0xC0 <= code <= 0xFF and char not in "×÷")
            or 0xE000 <= code <= 0xF8FF
        ):
            strange += 1
    return strange >= 3 and strange >= 0.1 * foreign


# --- the head: title, unit row and header -------------------------------------------------


def _candidate_delimiters(data: bytes, encoding: Encoding) -> list[str]:
    head = data[encoding.skip : encoding.skip + SAMPLE_BYTES]
    return [d for d in DELIMITERS if d == "," or d.encode() in head]


def head_records(data: bytes, encoding: Encoding, delimiter: str) -> tuple[list[list[str]], list[int]]:
    """The first :data:`grid.HEAD_ROWS` records and the byte offset where each one starts.

    ``offsets`` has one more entry than ``records``: the offset after the
    last one. Records are split by the csv module itself (a quoted cell may
    hold a line break), fed one line at a time so the offsets are exact; a
    line break byte never occurs inside a UTF-8 or GB18030 character.
    """
    position = encoding.skip

    def lines() -> Iterator[str]:
        nonlocal position
        while position < len(data):
            end = data.find(b"\n", position)
            end = len(data) if end < 0 else end + 1
            line = data[position:end].decode(encoding.codec)
            position = end
            yield line

    reader = csv.reader(lines(), delimiter=delimiter)
    records: list[list[str]] = []
    offsets = [position]
    try:
        for record in reader:
            records.append(record)
            offsets.append(position)
            if len(records) >= grid.HEAD_ROWS:
                break
    except csv.Error:
        pass  # a malformed record ends the head; the records before it stand
    return records, offsets


# --- the body: the rows under the header -----------------------------------------------------


def read_body(
    data: bytes,
    start: int,
    first_row: int,
    width: int,
    encoding: Encoding,
    delimiter: str,
    file_name: str,
) -> grid.Grid:
    """The records from byte ``start`` on as ``width`` string columns, numbered from ``first_row``.

    pyarrow parses the bytes in place (no decoded copy of the file for
    UTF-8; GB18030 is transcoded block by block). A record with more or fewer
    cells than the header — typically a note under the table — is passed to
    a handler, re-read with the csv module, padded, and put back in its place.
    """
    names = [f"c{index}" for index in range(width)]
    if start >= len(data):
        return grid.Grid([pa.array([], pa.string()) for _ in names], np.zeros(0, dtype=np.int64))
    odd: list[tuple[int, str]] = []

    def keep_odd_row(row: pacsv.InvalidRow) -> str:
        odd.append((row.number, row.text))
        return "skip"

    try:
        table = pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(memoryview(data)[start:])),
            read_options=pacsv.ReadOptions(
                column_names=names, encoding=encoding.arrow, block_size=_BLOCK_SIZE, use_threads=False
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                newlines_in_values=data.find(b'"', start) >= 0,
                ignore_empty_lines=False,
                invalid_row_handler=keep_odd_row,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as error:
        raise DeliveryUnreadable(
            f"{file_name}：CSV格式错误，无法读取（{error}）。请检查引号是否成对，或在Excel中重新另存为CSV。"
        ) from error
    columns: list[pa.Array | pa.ChunkedArray] = [table.column(name) for name in names]
    del table
    numbers = np.arange(1, len(columns[0]) + len(odd) + 1, dtype=np.int64)
    if odd:
        columns, numbers = _put_back(columns, odd, delimiter, width)
    return grid.Grid(columns, numbers + (first_row - 1))


def _put_back(
    columns: list[pa.Array | pa.ChunkedArray], odd: list[tuple[int, str]], delimiter: str, width: int
) -> tuple[list[pa.Array | pa.ChunkedArray], np.ndarray]:
    """Merge the rows pyarrow set aside back into the columns, in file order."""
    odd_numbers = np.array([number for number, _ in odd], dtype=np.int64)
    total = len(columns[0]) + len(odd)
    regular = np.setdiff1d(np.arange(1, total + 1, dtype=np.int64), odd_numbers, assume_unique=True)
    cells = [(next(csv.reader(io.StringIO(text), delimiter=delimiter), []) + [""] * width)[:width] for _, text in odd]
    numbers = np.concatenate([regular, odd_numbers])
    order = np.argsort(numbers, kind="stable")
    in_order = bool(np.all(order == np.arange(total)))
    merged = []
    for index, column in enumerate(columns):
        extra = pa.array([row[index] for row in cells], pa.string())
        joined = pa.chunked_array([*_chunks(column), extra], pa.string())
        merged.append(joined if in_order else joined.take(pa.array(order)))
    return merged, numbers[order]


def _chunks(column: pa.Array | pa.ChunkedArray) -> list[pa.Array]:
    return list(column.chunks) if isinstance(column, pa.ChunkedArray) else [column]
