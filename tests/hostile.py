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
