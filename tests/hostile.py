"""Builders for hostile delivery files: small, generated, each one fault the readers must survive.

An .xlsx is a zip of XML parts; the hostile workbooks are a clean report from
:mod:`builders` with one part rewritten, so everything but the fault is real.
"""

from __future__ import annotations

import io
import re
import socket
import threading
import zipfile
from collections.abc import Callable


def patch_part(workbook: bytes, part: str, change: Callable[[bytes], bytes]) -> bytes:
    """``workbook`` with the zip member ``part`` replaced by ``change(its bytes)``."""
    source = zipfile.ZipFile(io.BytesIO(workbook))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            target.writestr(info.filename, change(data) if info.filename == part else data)
    return out.getvalue()


def transport_record(number: int, **overrides: object) -> dict[str, object]:
    """One valid record of the transport API (keys of registry/transport.yaml)."""
    record: dict[str, object] = {
        "xmdm": f"2022-321002-48-01-{number:06d}",
        "xmmc": f"第{number}号道路改造工程",
        "xmlb": "基础设施",
        "qhdm": "321002",
        "zrdw": "市交通运输局",
        "xmzt": "在建",
        "ztz": 1000.5 + number,
        "ndjh": 300.0,
        "bywc": 25.25,
        "ndlj": 180.75,
        "jhkg": "2022-03-01",
        "sjkg": "2022-03-15",
        "jhjg": "2024-12-31",
        "xxjd": "路基施工",
        "wtlx": None,
        "wtms": "",
        "zxz": False,
    }
    record.update(overrides)
    return record


def deep_json(levels: int) -> bytes:
    """``[[[…]]]`` nested ``levels`` deep: what made the JSON parser raise RecursionError."""
    return b"[" * levels + b"]" * levels


SHEET = "xl/worksheets/sheet1.xml"


def with_cell(workbook: bytes, ref: str, cell_xml: str) -> bytes:
    """``workbook`` with the cell ``ref`` of its first sheet replaced by ``cell_xml``."""
    pattern = re.compile(rf'<c r="{ref}"[^>]*?(?:/>|>.*?</c>)'.encode())

    def change(sheet: bytes) -> bytes:
        changed, count = pattern.subn(cell_xml.encode(), sheet, count=1)
        assert count == 1, f"no cell {ref} in the sheet"
        return changed

    return patch_part(workbook, SHEET, change)


def with_far_cell(workbook: bytes, ref: str = "XFD1048576") -> bytes:
    """``workbook`` with one more filled cell, far away (one cell at XFD1048576: a 31 KB file)."""
    row = re.match(r"[A-Z]+(\d+)", ref).group(1)  # type: ignore[union-attr]
    cell = f'<row r="{row}"><c r="{ref}" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'
    return patch_part(workbook, SHEET, lambda sheet: sheet.replace(b"</sheetData>", cell.encode()))


def with_entity_bomb(workbook: bytes) -> bytes:
    """``workbook`` whose styles.xml declares the "billion laughs" entities and uses the last one."""
    entities = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10)]
    doctype = f"<!DOCTYPE styleSheet [{''.join(entities)}]>".encode()

    def change(styles: bytes) -> bytes:
        declaration, rest = styles.split(b"?>", 1)
        rest = rest.replace(b'<name val="Calibri"/>', b'<name val="&lol9;"/>', 1)
        return declaration + b"?>" + doctype + rest

    return patch_part(workbook, "xl/styles.xml", change)


def far_ods(rows_between: int, columns_before: int) -> bytes:
    """An OpenDocument sheet: "x" in A1, then ``rows_between`` empty rows, then "y" after ``columns_before``
    empty cells — a few hundred bytes that the Excel library expands into a dense grid."""
    content = f"""<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" \
xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" \
xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">
<office:body><office:spreadsheet><table:table table:name="Sheet1">
<table:table-row><table:table-cell office:value-type="string"><text:p>x</text:p></table:table-cell></table:table-row>
<table:table-row table:number-rows-repeated="{rows_between}"><table:table-cell/></table:table-row>
<table:table-row><table:table-cell table:number-columns-repeated="{columns_before}"/>\
<table:table-cell office:value-type="string"><text:p>y</text:p></table:table-cell></table:table-row>
</table:table></office:spreadsheet></office:body></office:document-content>"""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", content)
        archive.writestr(
            "META-INF/manifest.xml",
            '<?xml version="1.0"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
            '<manifest:file-entry manifest:full-path="/" '
            'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
            '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>',
        )
    return buffer.getvalue()


class DrippingServer:
    """A server on 127.0.0.1 that sends its headers, then one byte of body every ``interval`` seconds
    (``whole``: its status line and headers too)."""

    def __init__(self, interval: float, length: int = 1000, *, whole: bool = False):
        self.interval, self.length, self.whole = interval, length, whole
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}/transport"

    def _serve(self) -> None:
        self.listener.settimeout(0.2)
        while not self.stopped.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            with connection:
                connection.recv(65536)
                head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {self.length}\r\n\r\n"
                if not self.whole:
                    connection.sendall(head.encode())
                answer = (head.encode() if self.whole else b"") + b" " * self.length
                for byte in answer:
                    if self.stopped.wait(self.interval):
                        return
                    try:
                        connection.sendall(bytes([byte]))
                    except OSError:
                        break

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)
        self.listener.close()
