"""API tokens: create (shown once), list (never the secret), revoke."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select

from day2ops_app.db.tables import ApiToken, User
from day2ops_app.deps import AppSettings, CurrentUser, Db
from day2ops_app.schemas import MAX_ID, TokenCreate, TokenInfo, TokenOut
from day2ops_app.services import tokens

router = APIRouter(prefix="/api/tokens", tags=["auth"])


def _is_admin(user: User) -> bool:
    return "admin" in user.roles


@router.post("", response_model=TokenOut, status_code=201)
def create(body: TokenCreate, request: Request, user: CurrentUser, db: Db, settings: AppSettings):
    # A leaked token must not be able to mint itself successors that outlive its revocation.
    if getattr(request.state, "token_id", None) is not None and not _is_admin(user):
        raise HTTPException(403, "an API token cannot create tokens: log in (browser session) to create one")
    with db.session() as session:
        try:
            row, secret = tokens.issue(session, settings, user, body.name, body.days, body.scope)
        except ValueError as error:
            return JSONResponse(
                {"detail": "the token is not valid", "errors": [{"field": "days", "message": str(error)}]},
                422,
            )
        return TokenOut(id=row.id, name=row.name, scope=row.scope, token=secret, expires_at=row.expires_at)


@router.get("", response_model=list[TokenInfo])
def list_tokens(user: CurrentUser, db: Db, username: str | None = None):
    """The caller's tokens; an admin may ask for anyone's with ?username=."""
    if username is not None and username != user.username and not _is_admin(user):
        raise HTTPException(403, "only an admin may list another user's tokens")
    with db.read() as session:
        owner = session.scalars(
            select(User).where(User.username == (username or user.username))
        ).one_or_none()
        if owner is None:
            raise HTTPException(404, f"no user {username}")
        return list(
            session.scalars(select(ApiToken).where(ApiToken.user_id == owner.id).order_by(ApiToken.id))
        )


@router.delete("/{token_id}", status_code=204)
def revoke(token_id: Annotated[int, Path(ge=1, le=MAX_ID)], user: CurrentUser, db: Db):
    """Revoke one of the caller's tokens, or (an admin) anyone's. Another user's token is not found."""
    with db.session() as session:
        token = session.get(ApiToken, token_id)
        if token is None or (token.user_id != user.id and not _is_admin(user)):
            raise HTTPException(404, f"no token {token_id} of yours")
        token.revoked = True
