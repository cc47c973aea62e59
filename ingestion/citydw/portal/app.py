"""Building the portal's ASGI application, and serving it."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import HTTPException
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.middleware.sessions import SessionMiddleware

from citydw.pipeline import Context
from citydw.portal.deps import LoginRequired, PortalState, csrf_token
from citydw.portal.uploads import UploadLimit
from citydw.settings import Settings, get_settings

HERE = Path(__file__).resolve().parent
pages = Jinja2Templates(directory=HERE / "html")
pages.env.globals["csrf_token"] = csrf_token

SESSION_HOURS = 8


def secret_key(settings: Settings) -> str:
    """The cookie-signing key: CITYDW_PORTAL_SECRET_KEY, else one made once and kept under the home folder."""
    if settings.portal_secret_key is not None:
        return settings.portal_secret_key.get_secret_value()
    path = settings.home_dir / "portal-secret-key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


@asynccontextmanager
async def _warm_up(app: FastAPI) -> AsyncIterator[None]:
    """GX takes seconds to import and set up: do it before the first clerk waits for a pre-check."""
    from starlette.concurrency import run_in_threadpool

    from citydw.validation.runner import warm_up

    await run_in_threadpool(warm_up)
    yield


def create_app(settings: Settings | None = None, warehouse_url: str | None = None) -> FastAPI:
    """The portal over the warehouse at ``warehouse_url`` (default: the configured one, migrated first)."""
    from citydw.portal.routers import auth, checks, submissions, templates
    from citydw.warehouse.connect import prepare_warehouse, resolve_warehouse_url

    settings = settings or get_settings()
    url = warehouse_url or prepare_warehouse(resolve_warehouse_url(settings))
    max_bytes = int(settings.portal_max_upload_mb * 1024 * 1024)
    app = FastAPI(
        title="citydw 报表报送平台",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=_warm_up,
    )
    app.state.portal = PortalState(
        context=Context.load(settings), warehouse_url=url, secret_key=secret_key(settings), max_upload_bytes=max_bytes
    )
    app.add_middleware(
        SessionMiddleware,
        secret_key=app.state.portal.secret_key,
        session_cookie="citydw_portal",
        max_age=SESSION_HOURS * 3600,
        same_site="strict",
        https_only=settings.portal_https,
    )
    app.add_middleware(UploadLimit, max_bytes=max_bytes)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for router in (auth.router, templates.router, checks.router, submissions.router):
        app.include_router(router)

    @app.exception_handler(LoginRequired)
    async def _to_login(request: Request, _: LoginRequired) -> Response:
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(HTTPException)
    async def _error(request: Request, error: HTTPException) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": error.detail}, status_code=error.status_code, headers=error.headers)
        return error_page(request, error.status_code, str(error.detail), headers=error.headers)

    @app.middleware("http")
    async def _security_headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", "default-src 'self'; form-action 'self'")
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    return app


ERROR_TITLES = {400: "请求有误", 401: "请先登录", 403: "无权访问", 404: "未找到", 413: "文件过大", 429: "请稍后再试"}


def error_page(request: Request, status: int, message: str, headers: Mapping[str, str] | None = None) -> HTMLResponse:
    return pages.TemplateResponse(
        request,
        "error.html",
        {"title": ERROR_TITLES.get(status, "出错了"), "message": message, "status": status},
        status_code=status,
        headers=headers,
    )


def serve(settings: Settings | None = None) -> None:
    """Run the portal on CITYDW_PORTAL_HOST:CITYDW_PORTAL_PORT (127.0.0.1:8090) until interrupted."""
    import uvicorn

    settings = settings or get_settings()
    uvicorn.run(
        create_app(settings),
        host=settings.portal_host,
        port=settings.portal_port,
        log_level="info",
        proxy_headers=False,
        server_header=False,
    )
