"""The department's overview and submissions: a submitted file is a delivery like a file drop, ingested at once."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from citydw.portal import service
from citydw.portal.deps import ApiUser, Conn, PageUser, State, client_of, verify_csrf
from citydw.portal.routers import served
from citydw.portal.routers.checks import upload_form
from citydw.portal.uploads import read_upload

router = APIRouter(tags=["submissions"])


@router.get("/")
def home(request: Request, conn: Conn, state: State, user: PageUser, month: str | None = None) -> Response:
    from citydw.portal.app import pages

    context = state.context
    found = served(lambda: service.overview(conn, context, user, service.month_from(month, context)), conn, user)
    return pages.TemplateResponse(request, "home.html", {"title": "本单位报表", "user": user, "overview": found})


@router.get("/api/overview")
def home_api(conn: Conn, state: State, user: ApiUser, month: str | None = None) -> JSONResponse:
    context = state.context
    found = served(lambda: service.overview(conn, context, user, service.month_from(month, context)), conn, user)
    return JSONResponse(
        {
            "department": found.department,
            "report_month": f"{found.month:%Y-%m}",
            "datasets": [
                {"dataset": row.spec.id, "title": row.spec.title, "report_month": f"{row.month:%Y-%m}",
                 "due_date": row.due.isoformat() if row.due else None, "status": row.status,
                 "status_text": row.status_text, "version": row.version, "submitted_by": row.submitted_by,
                 "is_late": row.is_late}
                for row in found.datasets
            ],
            "open_cases": len(found.open_cases),
        }
    )  # fmt: skip


@router.post("/submit")
def submit_form(
    request: Request,
    conn: Conn,
    state: State,
    user: PageUser,
    dataset: Annotated[str, Form()],
    month: Annotated[str, Form()],
    file: Annotated[UploadFile | None, File()] = None,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    verify_csrf(request, csrf_token)
    submission = _submit(request, conn, state, user, dataset, month, file)
    signed = state.signer("check-report").dumps(submission.report.to_dict())
    return upload_form(request, state, user, dataset, month, report=submission.report, signed_report=signed,
                       submission=submission)  # fmt: skip


@router.post("/api/submit")
def submit_api(
    request: Request,
    conn: Conn,
    state: State,
    user: ApiUser,
    dataset: Annotated[str, Form()],
    month: Annotated[str, Form()],
    file: Annotated[UploadFile | None, File()] = None,
) -> JSONResponse:
    submission = _submit(request, conn, state, user, dataset, month, file)
    return JSONResponse(submission.to_dict())


def _submit(request, conn, state, user, dataset, month, file) -> service.Submission:
    context = state.context

    def run():
        spec = service.authorise(context, user, dataset)
        upload = read_upload(file, state.max_upload_bytes, f"{spec.id}.{spec.channel.format}")
        return service.submit(conn, context, user, dataset, service.month_from(month, context), upload,
                              client_of(request))  # fmt: skip

    return served(run, conn, user, dataset, client_of(request))
