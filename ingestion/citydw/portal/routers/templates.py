"""Template downloads: the month's form of a dataset, generated from the registry (citydw.forms)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from citydw.portal import service
from citydw.portal.deps import ApiUser, Conn, PageUser, State, client_of
from citydw.portal.routers import download, served

router = APIRouter(tags=["templates"])


@router.get("/templates/{dataset}/{kind}")
def template_page(request: Request, dataset: str, kind: str, conn: Conn, state: State, user: PageUser,
                  month: str | None = None) -> Response:  # fmt: skip
    return _template(request, dataset, kind, conn, state, user, month)


@router.get("/api/templates/{dataset}/{kind}")
def template_api(request: Request, dataset: str, kind: str, conn: Conn, state: State, user: ApiUser,
                 month: str | None = None) -> Response:  # fmt: skip
    return _template(request, dataset, kind, conn, state, user, month)


def _template(request, dataset, kind, conn, state, user, month) -> Response:
    context = state.context
    found = served(
        lambda: service.template(conn, context, user, dataset, service.month_from(month, context), kind),
        conn, user, dataset, client_of(request),
    )  # fmt: skip
    return download(found.data, found.file_name, found.media_type)
