"""FastAPI dependencies: the portal's state, a database connection, the signed-in user, CSRF."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

import psycopg
from fastapi import Depends, HTTPException, Request
from itsdangerous import BadSignature, URLSafeSerializer

from citydw.pipeline import Context
from citydw.portal import accounts
from citydw.portal.accounts import User

SESSION_USER = "uid"
SESSION_CSRF = "csrf"


@dataclass
class PortalState:
    """Loaded once when the app starts: settings, registry, city, where the warehouse is, the signing key."""

    context: Context
    warehouse_url: str
    secret_key: str
    max_upload_bytes: int

    def signer(self, purpose: str) -> URLSafeSerializer:
        return URLSafeSerializer(self.secret_key, salt=f"citydw-portal-{purpose}")


class LoginRequired(Exception):
    """Raised for a page that needs a signed-in user; answered with a redirect to the login page."""


def get_state(request: Request) -> PortalState:
    return request.app.state.portal


State = Annotated[PortalState, Depends(get_state)]


def get_conn(state: State) -> Iterator[psycopg.Connection]:
    with psycopg.connect(state.warehouse_url, autocommit=True, application_name="citydw-portal") as conn:
        yield conn


Conn = Annotated[psycopg.Connection, Depends(get_conn)]


def client_of(request: Request) -> str | None:
    return request.client.host if request.client else None


def session_user(request: Request, conn: Conn) -> User:
    """The user of the signed session cookie; pages without one send the visitor to the login page."""
    user_id = request.session.get(SESSION_USER)
    user = accounts.user_by_id(conn, int(user_id)) if isinstance(user_id, int) else None
    if user is None:
        request.session.pop(SESSION_USER, None)
        request.session.pop("label", None)
        raise LoginRequired
    return user


def token_user(request: Request, conn: Conn) -> User:
    """The account whose API token the ``Authorization: Bearer`` header carries; 401 without a valid one."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    user = accounts.user_by_token(conn, token.strip()) if scheme.lower() == "bearer" and token else None
    if user is None:
        raise HTTPException(
            status_code=401,
            detail="需要有效的API令牌：请求头 Authorization: Bearer <令牌>（citydw portal token 账号 可重新签发）",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


PageUser = Annotated[User, Depends(session_user)]
ApiUser = Annotated[User, Depends(token_user)]


def csrf_token(request: Request) -> str:
    """This session's CSRF token, created on first use; every form carries it in a hidden field."""
    token = request.session.get(SESSION_CSRF)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[SESSION_CSRF] = token
    return token


def verify_csrf(request: Request, submitted: str | None) -> None:
    expected = request.session.get(SESSION_CSRF)
    if not isinstance(expected, str) or not submitted or not accounts.same_secret(expected, submitted):
        raise HTTPException(status_code=403, detail="表单已过期或来源不明（CSRF校验未通过），请刷新页面后重试。")


def unsign(state: PortalState, purpose: str, value: str) -> dict:
    try:
        loaded = state.signer(purpose).loads(value)
    except BadSignature:
        raise HTTPException(status_code=400, detail="数据签名无效，请重新预检。") from None
    if not isinstance(loaded, dict):
        raise HTTPException(status_code=400, detail="数据无效，请重新预检。")
    return loaded
