"""Builders for hostile delivery files: small, generated, each one fault the readers must survive.

An .xlsx is a zip of XML parts; the hostile workbooks are a clean report from
:mod:`builders` with one part rewritten, so everything but the fault is real.
"""

from __future__ import annotations

import io
import re
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
