"""Pre-checks: upload a file, get ingest's verdict and every problem in seconds, nothing kept."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from citydw.portal import service
from citydw.portal.deps import ApiUser, Conn, PageUser, State, client_of, unsign, verify_csrf
from citydw.portal.routers import download, served
from citydw.portal.uploads import read_upload
from citydw.quality.workbooks import neutralise

router = APIRouter(tags=["checks"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def upload_form(request: Request, state, user, dataset: str | None, month, **extra) -> Response:
    """The upload page (also the result page: the same form sits under the verdict)."""
    from citydw.portal.app import pages

    department = state.context.registry.department(user.department)
    choices = [spec for spec in department.datasets if spec.channel.kind == "file"]
    return pages.TemplateResponse(
        request,
        "check.html",
        {"title": "上传预检与报送", "user": user, "department": department, "choices": choices,
         "dataset": dataset or (choices[0].id if choices else None), "month": month, **extra},
    )  # fmt: skip


@router.get("/check")
def check_page(request: Request, state: State, user: PageUser, dataset: str | None = None,
               month: str | None = None) -> Response:  # fmt: skip
    context = state.context
    chosen = served(lambda: service.month_from(month, context), None, user)
    return upload_form(request, state, user, dataset, f"{chosen:%Y-%m}")


@router.post("/check")
def check_form(
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
    report = _check(request, conn, state, user, dataset, month, file)
    signed = state.signer("check-report").dumps(report.to_dict())
    return upload_form(request, state, user, dataset, month, report=report, signed_report=signed)


@router.post("/api/check")
def check_api(
    request: Request,
    conn: Conn,
    state: State,
    user: ApiUser,
    dataset: Annotated[str, Form()],
    month: Annotated[str, Form()],
    file: Annotated[UploadFile | None, File()] = None,
) -> JSONResponse:
    report = _check(request, conn, state, user, dataset, month, file)
    return JSONResponse({**report.to_dict(), "exit_code": report.exit_code})


def _check(request, conn, state, user, dataset, month, file):
    context = state.context

    def run():
        spec = service.authorise(context, user, dataset)
        upload = read_upload(file, state.max_upload_bytes, f"{spec.id}.{spec.channel.format}")
        return service.check(conn, context, user, dataset, service.month_from(month, context), upload,
                             client_of(request))  # fmt: skip

    return served(run, conn, user, dataset, client_of(request))


@router.post("/check/workbook")
def check_workbook(
    request: Request,
    conn: Conn,
    state: State,
    user: PageUser,
    report: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """The pre-check's problems as a correction workbook (the monthly workbook's format)."""
    verify_csrf(request, csrf_token)
    found = unsign(state, "check-report", report)
    data = served(lambda: service.correction_workbook(state.context, user, found), conn, user, found.get("dataset"))
    name = neutralise(f"预检问题清单_{found['dataset']}_{found['report_month']}.xlsx")
    return download(data, name, XLSX)
