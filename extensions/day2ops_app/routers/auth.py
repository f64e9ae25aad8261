"""Log in, log out, who am I. Tokens are in routers/tokens.py, users and lockouts in routers/users.py."""

from __future__ import annotations

import math
import secrets
from datetime import timedelta

from fastapi import APIRouter, HTTPException, Request, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from day2ops_app.db.tables import User, WebSession, utcnow
from day2ops_app.deps import SESSION_COOKIE, AppSettings, CurrentUser, Db, session_csrf
from day2ops_app.schemas import Login, Me
from day2ops_app.security import check_password, digest, new_token
from day2ops_app.services import logins

router = APIRouter(prefix="/api", tags=["auth"])

# One answer for an unknown user, a wrong password and a disabled user: none tells which names exist.
WRONG = "wrong user name or password"


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post("/auth/login", response_model=Me)
async def login(body: Login, request: Request, response: Response, db: Db, settings: AppSettings):
    """Three short steps, so no transaction is open while argon2 runs: read the user and any lockout,
    check the password, then write the failure or the new session."""
    keys = logins.limits(settings, body.username, client_address(request))

    def look_up() -> tuple[float, User | None]:
        with db.read() as session:
            wait = logins.locked_for(session, keys, utcnow())
            return wait, session.scalars(select(User).where(User.username == body.username)).one_or_none()

    wait, user = await run_in_threadpool(look_up)
    if wait:
        raise HTTPException(
            429,
            "too many wrong logins for this user or address: try again later, or ask an admin to lift the "
            "lockout",
            headers={"Retry-After": str(math.ceil(wait))},
        )
    if not await check_password(user.password_hash if user else None, body.password) or user.disabled:

        def fail() -> None:
            with db.session() as session:
                logins.record_failure(session, settings, keys, utcnow())

        await run_in_threadpool(fail)
        raise HTTPException(401, WRONG)

    token = new_token("d2s")
    csrf = secrets.token_urlsafe(32)

    def start_session() -> None:
        with db.session() as session:
            logins.forget(session, logins.user_key(body.username))
            session.add(
                WebSession(
                    user_id=user.id,
                    token_sha256=digest(token),
                    csrf_token=csrf,
                    expires_at=utcnow() + timedelta(hours=settings.session_hours),
                )
            )

    await run_in_threadpool(start_session)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=settings.cookies_secure,
        max_age=int(settings.session_hours * 3600),
    )
    return Me(username=user.username, roles=user.roles, groups=user.groups, csrf_token=csrf)


@router.post("/auth/logout", status_code=204)
def logout(request: Request, response: Response, user: CurrentUser, db: Db, settings: AppSettings):
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        with db.session() as session:
            for web in session.scalars(select(WebSession).where(WebSession.token_sha256 == digest(cookie))):
                session.delete(web)
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="strict", secure=settings.cookies_secure)


@router.get("/auth/me", response_model=Me)
def me(request: Request, user: CurrentUser):
    return Me(username=user.username, roles=user.roles, groups=user.groups, csrf_token=session_csrf(request))
