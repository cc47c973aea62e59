"""Builders for hostile delivery files: small, generated, each one fault the readers must survive.

An .xlsx is a zip of XML parts; the hostile workbooks are a clean report from
:mod:`builders` with one part rewritten, so everything but the fault is real.
"""

from __future__ import annotations

import io
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
