"""One APIRouter per area of the portal; each page and its JSON twin call one service function."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar
from urllib.parse import quote

from fastapi import HTTPException
from fastapi.responses import Response

from citydw.portal import accounts, service
from citydw.portal.accounts import User
from citydw.portal.uploads import UploadRefused

T = TypeVar("T")


def served(call: Callable[[], T], conn, user: User | None = None, dataset: str | None = None, client=None) -> T:
    """Run a service call, turning its refusals into HTTP errors (403 audited as ``forbidden``)."""
    try:
        return call()
    except service.Forbidden as error:
        accounts.audit(conn, user, "forbidden", dataset=dataset, client=client, detail=str(error))
        raise HTTPException(status_code=403, detail=str(error)) from None
    except service.NotFound as error:
        raise HTTPException(status_code=404, detail=str(error)) from None
    except service.BadInput as error:
        raise HTTPException(status_code=422, detail=str(error)) from None
    except UploadRefused as error:
        raise HTTPException(status_code=error.status_code, detail=str(error)) from None


def download(data: bytes, file_name: str, media_type: str) -> Response:
    """A file download whose Chinese name survives every browser (RFC 6266 ``filename*``)."""
    fallback = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in file_name)
    disposition = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name)}"
    return Response(data, media_type=media_type, headers={"Content-Disposition": disposition})
