"""What the portal does with an uploaded file before the reader sees it.

* Size: the request body is counted as it streams in (:class:`UploadLimit`,
  an ASGI middleware) and refused with 413 past the cap, so an endless
  upload never fills memory or disk; the file itself is read in chunks up
  to the cap.
* Name: the client's file name is a label for messages only. It is cut to
  its last path component and stripped of control characters; nothing the
  client sends ever becomes a path (the archive names files by checksum).
* Workbooks: a zip whose parts unpack to far more than the upload (a zip
  bomb), or whose XML declares a DTD (``<!DOCTYPE``/``<!ENTITY``: entity
  expansion, external entities) is refused before any XML is parsed. The
  reader's own checks (:func:`citydw.parsing.xlsx.check_zip`) run after these.
"""

from __future__ import annotations

import contextlib
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass

from starlette.datastructures import UploadFile
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from citydw.archive import sha256_of
from citydw.parsing.xlsx import ZIP_MAGIC

CHUNK = 1024 * 1024
MULTIPART_ALLOWANCE = 64 * 1024
"""Room in a request body for the form's other fields and multipart boundaries, beyond the file itself."""

MAX_UNPACK_RATIO = 100
"""Largest ratio of a workbook's declared unpacked size to its upload size (real reports: 5–30×)."""

MAX_PARTS = 2000
PROLOG_BYTES = 64 * 1024
"""A DTD must come before the root element; an XML part whose root element does not start within this
many bytes is refused too, so a DTD cannot hide behind padding."""

_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
_ROOT = re.compile(rb"<[A-Za-z_]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class UploadRefused(ValueError):
    """The upload is refused as a whole; the message (Chinese) says why and what to do."""

    def __init__(self, message: str, status_code: int = 400):
        super().__init__(message)
        self.status_code = status_code


@dataclass(frozen=True)
class Upload:
    file_name: str  # a label, never a path
    data: bytes

    @property
    def sha256(self) -> str:
        return sha256_of(self.data)


def safe_file_name(client_name: str | None, fallback: str) -> str:
    """The client's file name as a label: last path component, no control characters, at most 120 characters."""
    name = re.split(r"[\\/]", client_name or "")[-1]
    name = _CONTROL.sub("", unicodedata.normalize("NFC", name)).strip().lstrip(".")
    return name[-120:] or fallback


def read_upload(file: UploadFile | None, max_bytes: int, fallback_name: str) -> Upload:
    """The uploaded file's bytes, read in chunks and refused past ``max_bytes``."""
    if file is None or not isinstance(file, UploadFile):
        raise UploadRefused("请选择要上传的报表文件。")
    parts, size = [], 0
    while chunk := file.file.read(CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise UploadRefused(too_large_message(max_bytes), status_code=413)
        parts.append(chunk)
    data = b"".join(parts)
    if not data:
        raise UploadRefused("上传的文件为空（0字节），请重新选择文件。")
    upload = Upload(safe_file_name(file.filename, fallback_name), data)
    screen(upload)
    return upload


def too_large_message(max_bytes: int) -> str:
    return f"文件超过上传上限 {max_bytes / 1024 / 1024:g} MB。月报一般只有几百KB，请检查是否上传了错误的文件。"


def screen(upload: Upload) -> None:
    """Refuse a workbook that is a zip bomb or declares a DTD, before any reader parses it."""
    if not upload.data.startswith(ZIP_MAGIC):
        return
    try:
        archive = zipfile.ZipFile(io.BytesIO(upload.data))
    except zipfile.BadZipFile:
        return  # not a readable zip at all: the reader says so, with its own message
    with archive:
        parts = archive.infolist()
        declared = sum(part.file_size for part in parts)
        if len(parts) > MAX_PARTS or declared > MAX_UNPACK_RATIO * len(upload.data) + 10 * CHUNK:
            raise UploadRefused(
                f"{upload.file_name}：文件解压后的大小异常（{declared / 1024 / 1024:.0f} MB），疑似压缩炸弹，已拒收。"
                "请在Excel中打开模板填写后另存为.xlsx再上传。"
            )
        for part in parts:
            if part.filename.lower().endswith((".xml", ".rels", ".vml")) and _declares_dtd(archive, part):
                raise UploadRefused(
                    f"{upload.file_name}：文件中的“{part.filename}”含有XML文档类型声明（DOCTYPE/ENTITY），"
                    "Excel不会生成这样的文件，出于安全原因已拒收。请用Excel另存为.xlsx后再上传。"
                )


def _declares_dtd(archive: zipfile.ZipFile, part: zipfile.ZipInfo) -> bool:
    try:
        with archive.open(part) as stream:
            head = stream.read(PROLOG_BYTES)
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, EOFError, OSError, ValueError):
        return False  # damaged: the reader rejects it with its own message
    for text in (head, _utf16_as_ascii(head)):
        root = _ROOT.search(text)
        prolog = text[: root.start()] if root else text
        if _DTD.search(prolog):
            return True
        if root is None and len(head) == PROLOG_BYTES and text is head:
            return True  # no root element within the prolog allowance: padding before a DTD
    return False


def _utf16_as_ascii(data: bytes) -> bytes:
    """A UTF-16 part's ASCII characters, so ``<!DOCTYPE`` is found whatever the encoding."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or (len(data) > 1 and (data[0] == 0 or data[1] == 0)):
        return data.replace(b"\x00", b"")
    return b""


class UploadLimit:
    """ASGI middleware: a POST body larger than ``max_bytes`` (plus room for the form) gets 413, streamed.

    A declared Content-Length over the limit is refused before anything is
    read; a body without one (chunked) is counted as it arrives and cut off
    when it passes the limit.
    """

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.limit = max_bytes + MULTIPART_ALLOWANCE
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, send)
            return
        received = 0
        too_large = started = False

        async def counted() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    # Stop reading; whatever the application answers to a body cut short is replaced by 413.
                    too_large = True
                    raise _TooLarge
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            if too_large:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        with contextlib.suppress(_TooLarge):  # raised through an app that does not catch it
            await self.app(scope, counted, tracked)
        if too_large and not started:
            await self._refuse(scope, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        message = too_large_message(self.max_bytes)
        if str(scope.get("path", "")).startswith("/api/"):
            import json

            body = json.dumps({"detail": message}, ensure_ascii=False).encode("utf-8")
            media_type = b"application/json"
        else:
            body = f"<!doctype html><meta charset=utf-8><title>文件过大</title><p>{message}</p>".encode()
            media_type = b"text/html; charset=utf-8"
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", media_type), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")],
            }
        )  # fmt: skip
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass
