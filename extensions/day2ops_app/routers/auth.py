"""Login, logout, who am I, API tokens, users (admin)."""

from __future__ import annotations

import secrets
from datetime import timedelta

from fastapi import APIRouter, HTTPException, Request, Response
from sqlalchemy import select

from day2ops_app.db.tables import ApiToken, User, WebSession, utcnow
from day2ops_app.deps import SESSION_COOKIE, CurrentUser, RequireAdmin, session_csrf
from day2ops_app.schemas import Login, Me, TokenCreate, TokenOut, UserCreate, UserOut
from day2ops_app.security import digest, new_token, verify_password
from day2ops_app.users import add_user

router = APIRouter(prefix="/api", tags=["auth"])


@router.post("/auth/login", response_model=Me)
def login(body: Login, request: Request, response: Response):
    settings = request.app.state.settings
    with request.app.state.db.session() as session:
        user = session.scalars(select(User).where(User.username == body.username)).one_or_none()
        if not verify_password(user.password_hash if user else None, body.password) or user.disabled:
            raise HTTPException(401, "wrong user name or password")
        token = new_token("d2s")
        csrf = secrets.token_urlsafe(32)
        session.add(
            WebSession(
                user_id=user.id,
                token_sha256=digest(token),
                csrf_token=csrf,
                expires_at=utcnow() + timedelta(hours=settings.session_hours),
            )
        )
        response.set_cookie(
            SESSION_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=settings.secure_cookies,
            max_age=int(settings.session_hours * 3600),
        )
        return Me(username=user.username, roles=user.roles, groups=user.groups, csrf_token=csrf)


@router.post("/auth/logout", status_code=204)
def logout(request: Request, response: Response, user: CurrentUser):
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        with request.app.state.db.session() as session:
            for web in session.scalars(select(WebSession).where(WebSession.token_sha256 == digest(cookie))):
                session.delete(web)
    response.delete_cookie(SESSION_COOKIE)


@router.get("/auth/me", response_model=Me)
def me(request: Request, user: CurrentUser):
    return Me(username=user.username, roles=user.roles, groups=user.groups, csrf_token=session_csrf(request))


@router.post("/tokens", response_model=TokenOut, status_code=201)
def create_token(body: TokenCreate, request: Request, user: CurrentUser):
    """A token for automation, shown once; only its digest is kept."""
    token = new_token("d2t")
    with request.app.state.db.session() as session:
        row = ApiToken(
            user_id=user.id,
            name=body.name,
            token_sha256=digest(token),
            expires_at=utcnow() + timedelta(days=body.days) if body.days else None,
        )
        session.add(row)
        session.flush()
        return TokenOut(id=row.id, name=row.name, token=token, expires_at=row.expires_at)


@router.get("/users", response_model=list[UserOut])
def list_users(request: Request, admin: RequireAdmin):
    with request.app.state.db.session() as session:
        return list(session.scalars(select(User).order_by(User.username)))


@router.post("/users", response_model=UserOut, status_code=201)
def create_user(body: UserCreate, request: Request, admin: RequireAdmin):
    with request.app.state.db.session() as session:
        try:
            return add_user(session, body.username, body.password, body.roles, body.groups)
        except ValueError as error:
            raise HTTPException(409, str(error)) from None
