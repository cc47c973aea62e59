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

A file whose structure is broken is rejected naming the line, never read
with its rows shifted: a quote that is never closed (it would swallow every
line after it into one cell) and a row of the table with more or fewer
fields than the header (its values would land in the wrong columns). Blank
rows and the notes under the table may be shorter; a cell of any size up to
the file's size limit is read.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

import charset_normalizer
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from citydw.city import City
from citydw.parsing import grid
from citydw.parsing.model import DeliveryUnreadable, ParsedDelivery
from citydw.parsing.values import compact
from citydw.registry import DatasetSpec

log = logging.getLogger(__name__)

ENCODINGS_TRIED = "UTF-8（含带BOM的UTF-8）、GB18030（含GBK、GB2312）、带BOM的UTF-16（Excel的“Unicode文本”）"
DELIMITERS = (",", "\t", ";", "|")
SAMPLE_BYTES = 64 * 1024
"""Bytes from the start of the file shown to charset-normalizer and the mojibake check."""

HEAD_CHECK_BYTES = 1024 * 1024
"""Bytes strictly decoded to choose the encoding before the body is read; pyarrow checks the rest as it reads."""

_VALIDATE_CHUNK = 16 * 1024 * 1024
_BLOCK_SIZE = 4 * 1024 * 1024
"""Bytes pyarrow reads at a time (a record batch): a cell longer than this is read again in one block."""


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
    return lay_out_csv(data, file_name, spec, city, report_month=report_month).build()


def lay_out_csv(
    data: bytes,
    file_name: str,
    spec: DatasetSpec,
    city: City,
    *,
    report_month: date | None = None,
    block_rows: int | None = None,
) -> grid.LaidOut:
    """:func:`read_csv` up to the conversion of the rows, which :meth:`grid.LaidOut.build` does block by block.

    The body is read as it is built (:func:`body_batches`): the encoding is
    chosen on the file's first :data:`HEAD_CHECK_BYTES` and every later byte
    is checked as pyarrow reads it, so ``citydw ingest`` COPYs the first
    block while the rest of the file is still being read. A file this path
    rejects is read again whole, the way it was before the body streamed
    (:func:`lay_out_whole`), so the clerk's message is the whole file's: an
    encoding error anywhere in the file comes before a missing header.
    """
    if len(data) <= SAMPLE_BYTES and not data.strip(b" \t\r\n,;" + codecs.BOM_UTF8):
        raise DeliveryUnreadable(f"{file_name}：文件为空，没有任何内容。请重新导出后报送。")
    data = from_unicode_text(data, file_name)
    try:
        encoding = detect_encoding(data, file_name, upto=HEAD_CHECK_BYTES)
        return _lay_out(data, encoding, file_name, spec, city, report_month=report_month, block_rows=block_rows)
    except DeliveryUnreadable:
        return lay_out_whole(data, file_name, spec, city, report_month=report_month, block_rows=block_rows)


def lay_out_whole(
    data: bytes,
    file_name: str,
    spec: DatasetSpec,
    city: City,
    *,
    report_month: date | None = None,
    block_rows: int | None = None,
) -> grid.LaidOut:
    """The file laid out with its whole body read first: encoding, quotes and field counts checked over every byte.

    What every file went through before the body streamed; now the way a
    rejected file's message is found (and so the same as before).
    """
    encoding = detect_encoding(data, file_name)
    return _lay_out(data, encoding, file_name, spec, city, report_month=report_month, block_rows=block_rows, whole=True)


def _lay_out(
    data: bytes,
    encoding: Encoding,
    file_name: str,
    spec: DatasetSpec,
    city: City,
    *,
    report_month: date | None,
    block_rows: int | None,
    whole: bool = False,
) -> grid.LaidOut:
    if b"\n" not in data and b"\r" in data:  # old Mac line endings
        data = data.replace(b"\r", b"\n")
    best: tuple[int, str, grid.Layout, list[int], list[list[str]]] | None = None
    heads: list[list[list[str]]] = []
    for delimiter in _candidate_delimiters(data, encoding):
        records, offsets = head_records(data, encoding, delimiter)
        heads.append(records)
        layout = grid.find_layout(records, spec, file_name, report_month=report_month)
        if layout is not None and (best is None or len(layout.columns) > best[0]):
            best = (len(layout.columns), delimiter, layout, offsets, records)
    if best is None:
        if encoding.doubtful:
            raise _undecodable(file_name, f"按{encoding.codec.upper()}解码后是乱码")
        seen = max((grid.headers_seen(records, spec) for records in heads), key=len, default=[])
        raise grid.no_header(file_name, spec, f"（见到的表头：{'、'.join(seen[:20]) or '无'}）")
    _, delimiter, layout, offsets, records = best
    start = offsets[layout.data_start]
    check_quotes(data, start, layout.data_start + 1, encoding, delimiter, file_name)
    fields = max(layout.width, len(records[layout.header_row]))
    ragged = RaggedRows(layout, spec, fields, file_name)
    if whole:
        body = read_body(
            data, start, layout.data_start + 1, layout.width, encoding, delimiter, file_name, fields=fields
        )
        check_ragged_rows(body, layout, spec, fields, file_name)
        return grid.lay_out(body, layout, spec, city, file_name, block_rows=block_rows)
    batches = body_batches(
        data, start, layout.data_start + 1, layout.width, encoding, delimiter, file_name, fields,
        read_whole=lambda: lay_out_whole(data, file_name, spec, city, report_month=report_month),
    )  # fmt: skip
    first = next(batches)  # the first block is read now: a file pyarrow cannot open is rejected here
    return grid.lay_out(first, layout, spec, city, file_name, block_rows=block_rows, rest=batches, ragged=ragged)


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


def detect_encoding(data: bytes, file_name: str, *, upto: int | None = None) -> Encoding:
    """The encoding the file is strictly valid in: UTF-8 (with or without BOM), else GB18030.

    Raises :class:`DeliveryUnreadable` naming the encodings tried when the
    file is valid in neither. (UTF-16/32 with a byte-order mark, Excel's
    "Unicode text", is turned into UTF-8 before: :func:`from_unicode_text`.)
    With ``upto``, only the first ``upto`` bytes are checked (a character cut
    at the end is no error): the reader checks the rest (:func:`body_batches`).
    """
    head = data if upto is None else data[:upto]
    complete = upto is None or len(data) <= upto
    skip = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    if _decodes(head, "utf-8", skip, final=complete):
        return Encoding("utf-8", skip, doubtful=looks_garbled(_sample(data, "utf-8", skip)))
    if skip:
        raise _undecodable(file_name, "文件开头有UTF-8的BOM，但内容不是有效的UTF-8")
    if _decodes(head, "gb18030", 0, final=complete):
        sample = _sample(data, "gb18030", 0)
        agrees = charset_normalizer.from_bytes(_sample_bytes(data, 0), cp_isolation=["gb18030"]).best() is not None
        return Encoding("gb18030", 0, doubtful=looks_garbled(sample) or not agrees)
    raise _undecodable(file_name, "文件在这些编码下都不是有效文本")


def _undecodable(file_name: str, reason: str) -> DeliveryUnreadable:
    return DeliveryUnreadable(
        f"{file_name}：无法确定CSV文件的字符编码（{reason}；已尝试：{ENCODINGS_TRIED}）。"
        "请在Excel中“另存为”→“CSV UTF-8（逗号分隔）”后重新报送。"
    )


def _decodes(data: bytes, codec: str, skip: int, *, final: bool = True) -> bool:
    """Whether all of ``data`` decodes strictly in ``codec``, checked in chunks to bound memory.

    ``final=False``: ``data`` is the start of the file, and may end inside a character.
    """
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    view = memoryview(data)
    try:
        for start in range(skip, len(data), _VALIDATE_CHUNK):
            decoder.decode(view[start : start + _VALIDATE_CHUNK], final=False)
        decoder.decode(b"", final=final)
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


# --- structure: quotes that never close, rows that do not line up -------------------------------


def check_quotes(data: bytes, start: int, first_row: int, encoding: Encoding, delimiter: str, file_name: str) -> None:
    """Reject a body whose quotes do not pair up, naming the line where the open quote starts.

    Quotes of a well-formed CSV come in pairs (an escaped quote is two), so
    an odd count — one C-speed pass — is the only case that needs the csv
    module's strict reading to find the line. (A quote byte never occurs
    inside a UTF-8 or GB18030 character.)
    """
    if data.count(b'"', start) % 2 == 0:
        return
    line = first_row
    text = io.StringIO(data[start:].decode(encoding.codec, errors="replace"), newline="")
    reader = csv.reader(text, delimiter=delimiter, strict=True)
    try:
        for _ in reader:
            line = first_row + reader.line_num
    except csv.Error:
        raise DeliveryUnreadable(
            f'{file_name}：第{line}行的引号（"）没有配对，这一行之后的内容会被当作同一个单元格，无法读取。'
            "请检查这一行，删除多余的引号（或补上配对的引号），或在Excel中重新另存为CSV后报送。"
        ) from None


def check_ragged_rows(body: grid.Grid, layout: grid.Layout, spec: DatasetSpec, fields: int, file_name: str) -> None:
    """Reject a table row with more or fewer fields than the header: its values would shift columns.

    Rows the reader set aside (:func:`read_body`) are fine when blank, when a
    note ("填报单位：…"), when their extra fields are all empty (a trailing
    delimiter), or when under the notes, where the table has ended; only a
    row of the table itself is an error.
    """
    ragged = RaggedRows(layout, spec, fields, file_name)
    if not ragged.suspicious(body):
        return
    broken = ragged.broken(body, grid.row_masks(body, layout, spec))
    if broken:
        raise ragged.error(broken)


@dataclass(frozen=True)
class RaggedRows:
    """:func:`check_ragged_rows` for a body read block by block (:meth:`grid.LaidOut.build` asks it per block).

    A block's structure masks are the whole file's (see ``LaidOut._parts``),
    so a block's broken rows are the whole file's in that block; the block
    that has one is extended to the end of the file, so the message lists
    every broken row, as the whole file's check does.
    """

    layout: grid.Layout
    spec: DatasetSpec
    fields: int
    file_name: str

    def suspicious(self, body: grid.Grid) -> list[int]:
        """Rows set aside that would break the table if they are in it."""
        return [
            row
            for row, count, cells in body.odd_rows
            if count != self.fields and not _outside_table(cells) and not _only_blank_beyond(cells, self.fields)
        ]

    def broken(self, body: grid.Grid, masks: tuple[np.ndarray, np.ndarray, list[str]]) -> list[tuple[int, int]]:
        """(row, field count) of the suspicious rows that are in the table, by ``body``'s masks."""
        suspicious = set(self.suspicious(body))
        if not suspicious:
            return []
        keep, totals, _notes = masks
        in_table = set(body.source_rows[keep | totals].tolist())
        return [(row, count) for row, count, _ in body.odd_rows if row in in_table and row in suspicious]

    def error(self, broken: list[tuple[int, int]]) -> DeliveryUnreadable:
        shown = "、".join(f"第{row}行有{count}个" for row, count in broken[:5])
        more = f"等{len(broken)}行" if len(broken) > 5 else ""
        return DeliveryUnreadable(
            f"{self.file_name}：{shown}{more}字段，表头有{self.fields}个，列会错位，无法判断各个值属于哪一列。"
            "请检查这些行是否多了或少了逗号（文字里的逗号须用引号括起来），或在Excel中重新另存为CSV后报送。"
        )


def _only_blank_beyond(cells: list[str], fields: int) -> bool:
    """A longer row whose extra fields are empty (a trailing delimiter): nothing shifts."""
    return len(cells) > fields and not any(cell.strip() for cell in cells[fields:])


def _outside_table(cells: list[str]) -> bool:
    """A set-aside row that is blank or a note under the table."""
    written = [cell for cell in cells if cell.strip()]
    if not written:
        return True
    first = compact(pa.array([written[0].strip()], pa.string())).to_pylist()[0] or ""
    return re.match(grid.NOTES_PATTERN, first) is not None


# --- the body: the rows under the header -----------------------------------------------------


def read_body(
    data: bytes,
    start: int,
    first_row: int,
    width: int,
    encoding: Encoding,
    delimiter: str,
    file_name: str,
    *,
    fields: int | None = None,
) -> grid.Grid:
    """The records from byte ``start`` on as ``width`` string columns, numbered from ``first_row``.

    pyarrow parses the bytes in place (no decoded copy of the file for
    UTF-8; GB18030 is transcoded block by block). The file's records have
    ``fields`` fields (the header's count, at least ``width``); a record with
    more or fewer — typically a note under the table — is passed to a
    handler, re-read with the csv module, padded, put back in its place, and
    listed in ``Grid.odd_rows`` for :func:`check_ragged_rows`.
    """
    fields = max(fields or width, width)
    names = [f"c{index}" for index in range(fields)]
    if start >= len(data):
        return grid.Grid(_no_rows(width), np.zeros(0, dtype=np.int64))
    odd: list[tuple[int, str]] = []

    def keep_odd_row(row: pacsv.InvalidRow) -> str:
        odd.append((row.number, row.text))
        return "skip"

    try:
        table = _parse(data, start, names, encoding, delimiter, keep_odd_row, _BLOCK_SIZE)
    except pa.ArrowInvalid as error:
        if "straddl" not in str(error):
            raise _malformed(file_name, error) from error
        # A cell larger than a block (a 10 MB description): read again in one block.
        odd.clear()
        table = _parse(data, start, names, encoding, delimiter, keep_odd_row, min(len(data) - start + 1, 2**31 - 1))
    columns: list[pa.Array | pa.ChunkedArray] = [table.column(name) for name in names[:width]]
    del table
    body = _with_odd_rows(columns, odd, 0, first_row, width, delimiter)  # the whole body: one batch
    if odd:
        raise RuntimeError(f"{file_name}: records {[number for number, _ in odd]} set aside out of order")
    return body


def body_batches(
    data: bytes,
    start: int,
    first_row: int,
    width: int,
    encoding: Encoding,
    delimiter: str,
    file_name: str,
    fields: int,
    *,
    read_whole: Callable[[], object] | None = None,
) -> Iterator[grid.Grid]:
    """:func:`read_body` a record batch at a time (:data:`_BLOCK_SIZE` bytes), as grids in file order.

    pyarrow checks every byte as it reads (UTF-8 when it converts a cell to
    a string, GB18030 when it transcodes; a character is never cut between
    batches), so a bad byte stops the read where it is: the whole file's
    check then names the error as it always did (:func:`detect_encoding`).
    A record with another field count is handed over by pyarrow, sometimes a
    batch early (it parses ahead): it is kept until the batch that reaches
    its row number, and put back in its place.
    """
    names = [f"c{index}" for index in range(fields)]
    if start >= len(data):
        yield grid.Grid(_no_rows(width), np.zeros(0, dtype=np.int64))
        return
    odd: list[tuple[int, str]] = []

    def keep_odd_row(row: pacsv.InvalidRow) -> str:
        odd.append((row.number, row.text))
        return "skip"

    placed = 0  # rows of the body handed on so far
    try:
        reader = _open(data, start, names, encoding, delimiter, keep_odd_row)
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            columns = [batch.column(index) for index in range(width)]
            part = _with_odd_rows(columns, odd, placed, first_row, width, delimiter)
            placed += len(part.source_rows)
            del batch, columns
            yield part
    except pa.ArrowInvalid as error:
        if "straddl" not in str(error):
            raise _unreadable_body(data, encoding, file_name, error, read_whole) from error
        # A cell larger than a batch (a 10 MB description): the rest read again in one block.
        whole = read_body(data, start, first_row, width, encoding, delimiter, file_name, fields=fields)
        rest = grid.Grid(
            [column.slice(placed) for column in whole.columns],
            whole.source_rows[placed:],
            odd_rows=[entry for entry in whole.odd_rows if entry[0] >= first_row + placed],
        )
        del whole
        yield rest
        return
    except UnicodeDecodeError as error:
        raise _unreadable_body(data, encoding, file_name, error, read_whole) from error
    if odd:  # records after the last regular one (notes under the table)
        yield _with_odd_rows(_no_rows(width), odd, placed, first_row, width, delimiter)
        if odd:  # every set-aside record is at most one row past those placed before it
            raise RuntimeError(f"{file_name}: records {[number for number, _ in odd]} set aside out of order")


def _with_odd_rows(
    columns: list[pa.Array | pa.ChunkedArray],
    odd: list[tuple[int, str]],
    placed: int,
    first_row: int,
    width: int,
    delimiter: str,
) -> grid.Grid:
    """A batch's rows with the set-aside records that fall among them (taken from ``odd``) put back in place.

    ``placed``: the body's rows in the batches before. A record set aside is
    at most one row past the rows and records before it, so one batch that
    is the whole body takes every record.
    """
    end = placed + len(columns[0])  # the last body row number (1-based) the batch reaches
    mine = []
    while odd and odd[0][0] <= end + 1:  # among the batch's rows, or right after them
        number, text = odd.pop(0)
        mine.append((number - placed, text))
        end += 1
    numbers = np.arange(1, len(columns[0]) + len(mine) + 1, dtype=np.int64)
    odd_rows = []
    if mine:
        parsed = [_odd_cells(text, delimiter) for _, text in mine]
        odd_rows = [
            (int(number) + placed + first_row - 1, len(cells), cells)
            for (number, _), cells in zip(mine, parsed, strict=True)
        ]
        columns, numbers = _put_back(columns, mine, parsed, width)
    return grid.Grid(columns, numbers + (placed + first_row - 1), odd_rows=odd_rows)


def _unreadable_body(
    data: bytes, encoding: Encoding, file_name: str, error: Exception, read_whole: Callable[[], object] | None
) -> DeliveryUnreadable:
    """What a body pyarrow stopped reading is: the whole file's encoding error, else a CSV format error.

    A file whose start reads as UTF-8 but whose whole is GB18030 was read
    whole as GB18030 before the body streamed (and its head, UTF-8 read as
    GB18030, was then mojibake): ``read_whole`` lays it out that way again
    to raise the message it gave.
    """
    whole = detect_encoding(data, file_name)  # raises the encoding error a clerk has always seen
    if whole.codec != encoding.codec:
        if read_whole is not None:
            read_whole()
        raise RuntimeError(f"{file_name}: its start reads as {encoding.codec}, the whole file as {whole.codec}")
    return _malformed(file_name, error)


def _malformed(file_name: str, error: Exception) -> DeliveryUnreadable:
    """The clerk's message for a CSV pyarrow cannot read (unpaired quotes and the like); pyarrow's own in the log."""
    log.warning("%s: pyarrow could not read the CSV: %s", file_name, error)
    return DeliveryUnreadable(
        f"{file_name}：CSV格式错误，无法读取。请检查引号是否成对、每行的逗号个数是否与表头一致，"
        "或在Excel中重新另存为CSV后报送。"
    )


def _no_rows(width: int) -> list[pa.Array]:
    return [pa.array([], pa.string()) for _ in range(width)]


def _open(
    data: bytes, start: int, names: list[str], encoding: Encoding, delimiter: str, handler
) -> pacsv.CSVStreamingReader:
    """The body from ``start`` as pyarrow's streaming reader (a record batch per :data:`_BLOCK_SIZE` bytes)."""
    return pacsv.open_csv(**_arrow_csv(data, start, names, encoding, delimiter, handler, _BLOCK_SIZE))


def _parse(
    data: bytes, start: int, names: list[str], encoding: Encoding, delimiter: str, handler, block_size: int
) -> pa.Table:
    """The body from ``start`` read whole by pyarrow."""
    return pacsv.read_csv(**_arrow_csv(data, start, names, encoding, delimiter, handler, block_size))


def _arrow_csv(
    data: bytes, start: int, names: list[str], encoding: Encoding, delimiter: str, handler, block_size: int
) -> dict:
    """The source and options both pyarrow readers take: every cell a string, kept as written."""
    return {
        "input_file": pa.BufferReader(pa.py_buffer(memoryview(data)[start:])),
        "read_options": pacsv.ReadOptions(
            column_names=names, encoding=encoding.arrow, block_size=block_size, use_threads=False
        ),
        "parse_options": pacsv.ParseOptions(
            delimiter=delimiter,
            newlines_in_values=data.find(b'"', start) >= 0,
            ignore_empty_lines=False,
            invalid_row_handler=handler,
        ),
        "convert_options": pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    }


def _odd_cells(text: str, delimiter: str) -> list[str]:
    return next(csv.reader(io.StringIO(text), delimiter=delimiter), [])


def _put_back(
    columns: list[pa.Array | pa.ChunkedArray], odd: list[tuple[int, str]], parsed: list[list[str]], width: int
) -> tuple[list[pa.Array | pa.ChunkedArray], np.ndarray]:
    """Merge the rows pyarrow set aside back into the columns, in file order."""
    odd_numbers = np.array([number for number, _ in odd], dtype=np.int64)
    total = len(columns[0]) + len(odd)
    regular = np.setdiff1d(np.arange(1, total + 1, dtype=np.int64), odd_numbers, assume_unique=True)
    cells = [(row + [""] * width)[:width] for row in parsed]
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
