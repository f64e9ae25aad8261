"""Who is calling: a browser session (cookie + CSRF header on every change) or an API token."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request
from sqlalchemy import select

from day2ops_app.db.tables import ApiToken, Execution, User, WebSession, aware, utcnow
from day2ops_app.security import digest
from day2ops_app.storable import unstorable

SESSION_COOKIE = "day2ops_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def current_user(request: Request) -> User:
    """The caller, authenticated once per request (the middleware in auth_first may have done it)."""
    cached = getattr(request.state, "user", None)
    if cached is not None:
        return cached
    request.state.user = _authenticate(request)
    return request.state.user


def _authenticate(request: Request) -> User:
    db = request.app.state.db
    authorization = request.headers.get("Authorization", "")
    # A read: every request passes here, and none of them may wait behind a writer.
    with db.read() as session:
        if authorization.startswith("Bearer "):
            token = session.scalars(
                select(ApiToken).where(ApiToken.token_sha256 == digest(authorization[7:].strip()))
            ).one_or_none()
            if token is None or token.revoked or (token.expires_at and aware(token.expires_at) < utcnow()):
                raise HTTPException(401, "the API token is unknown, revoked or expired")
            if token.scope == "read" and request.method not in SAFE_METHODS:
                raise HTTPException(
                    403, f"the API token {token.name!r} has the scope read: it may only GET; use a full token"
                )
            request.state.token_id = token.id
            user = session.get(User, token.user_id)
        else:
            cookie = request.cookies.get(SESSION_COOKIE)
            web = (
                session.scalars(
                    select(WebSession).where(WebSession.token_sha256 == digest(cookie))
                ).one_or_none()
                if cookie
                else None
            )
            if web is None or aware(web.expires_at) < utcnow():
                raise HTTPException(401, "log in first (POST /api/auth/login) or send an API token")
            if request.method not in SAFE_METHODS and request.headers.get(CSRF_HEADER) != web.csrf_token:
                raise HTTPException(
                    403, f"CSRF check failed: send the {CSRF_HEADER} header from /api/auth/me"
                )
            user = session.get(User, web.user_id)
        if user is None or user.disabled:
            raise HTTPException(401, "this user is disabled")
        return user


def session_csrf(request: Request) -> str | None:
    """The CSRF token of the browser session in the cookie, for pages and /api/auth/me."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    with request.app.state.db.read() as session:
        web = session.scalars(
            select(WebSession).where(WebSession.token_sha256 == digest(cookie))
        ).one_or_none()
        return web.csrf_token if web else None


def require_role(*roles: str):
    def check(user: Annotated[User, Depends(current_user)]) -> User:
        if not set(roles) & set(user.roles):
            raise HTTPException(403, f"{user.username} needs the role {' or '.join(roles)}")
        return user

    return check


CurrentUser = Annotated[User, Depends(current_user)]
RequireApprover = Annotated[User, Depends(require_role("approver", "admin"))]
RequireAdmin = Annotated[User, Depends(require_role("admin"))]


def run_token(
    execution_id: str, request: Request, authorization: Annotated[str | None, Header()] = None
) -> str:
    """The run's own token (DAY2OPS_RUN_TOKEN), checked before anything else is read."""
    token = (authorization or "").removeprefix("Bearer ").strip()
    expected = None
    # An id the store cannot hold names no execution (and PostgreSQL would refuse to look it up).
    if token and not unstorable(execution_id):
        with request.app.state.db.read() as session:
            execution = session.get(Execution, execution_id)
            expected = execution.run_token_sha256 if execution else None
    if not expected or digest(token) != expected:
        raise HTTPException(401, "this endpoint takes the run's own token (DAY2OPS_RUN_TOKEN)")
    return execution_id


RunToken = Annotated[str, Depends(run_token)]
