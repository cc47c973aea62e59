"""Signing in and out: a signed session cookie, CSRF-checked forms, throttled failures, every attempt audited."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from citydw.portal import accounts
from citydw.portal.deps import SESSION_CSRF, SESSION_USER, Conn, State, client_of, verify_csrf

router = APIRouter(tags=["auth"])


def _login_page(request: Request, message: str | None = None, status: int = 200, username: str = "") -> Response:
    from citydw.portal.app import pages

    return pages.TemplateResponse(
        request, "login.html", {"title": "登录", "message": message, "username": username}, status_code=status
    )


@router.get("/login")
def login_form(request: Request) -> Response:
    return _login_page(request)


@router.post("/login")
def login(
    request: Request,
    conn: Conn,
    state: State,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    verify_csrf(request, csrf_token)
    client = client_of(request)
    attempts = state.context.settings.portal_login_attempts
    if accounts.throttled(conn, username, client, attempts):
        accounts.audit(conn, None, "login_throttled", username=username, client=client)
        message = f"登录失败次数过多，请 {accounts.THROTTLE_MINUTES} 分钟后再试，或联系数据管理员。"
        return _login_page(request, message, status=429, username=username)
    user = accounts.authenticate(conn, username, password)
    if user is None:
        accounts.audit(conn, None, "login_failed", username=username, client=client)
        return _login_page(request, "账号或密码不正确。", status=401, username=username)
    # A new session on login: a session fixed before it carries nothing over.
    request.session.clear()
    request.session[SESSION_USER] = user.user_id
    # For the page header of error pages only; every request still checks the account in the database.
    request.session["label"] = f"{user.username}（{user.department}）"
    request.session.pop(SESSION_CSRF, None)
    accounts.audit(conn, user, "login", client=client)
    return RedirectResponse("/", status_code=303)


@router.post("/logout")
def logout(request: Request, conn: Conn, csrf_token: Annotated[str, Form()] = "") -> Response:
    verify_csrf(request, csrf_token)
    user_id = request.session.get(SESSION_USER)
    user = accounts.user_by_id(conn, user_id) if isinstance(user_id, int) else None
    if user is not None:
        accounts.audit(conn, user, "logout", client=client_of(request))
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
