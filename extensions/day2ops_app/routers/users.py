"""Users and login lockouts (admin)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from sqlalchemy import select

from day2ops_app.db.tables import User, utcnow
from day2ops_app.deps import Db, RequireAdmin
from day2ops_app.schemas import LockoutOut, UserCreate, UserOut, UserUpdate
from day2ops_app.services import logins
from day2ops_app.services.users import add_user, set_disabled

router = APIRouter(prefix="/api", tags=["users"])


@router.get("/users", response_model=list[UserOut])
def list_users(db: Db, admin: RequireAdmin):
    with db.read() as session:
        return list(session.scalars(select(User).order_by(User.username)))


@router.post("/users", response_model=UserOut, status_code=201)
def create_user(body: UserCreate, db: Db, admin: RequireAdmin):
    with db.session() as session:
        try:
            return add_user(session, body.username, body.password, body.roles, body.groups)
        except ValueError as error:
            raise HTTPException(409, str(error)) from None


@router.patch("/users/{username}", response_model=UserOut)
def update_user(username: str, body: UserUpdate, db: Db, admin: RequireAdmin):
    """Disable a user (their sessions and tokens stop at once) or enable them again."""
    if body.disabled and username == admin.username:
        raise HTTPException(409, "an admin cannot disable themselves: ask another admin")
    with db.session() as session:
        try:
            return set_disabled(session, username, body.disabled)
        except LookupError as error:
            raise HTTPException(404, str(error)) from None


@router.get("/lockouts", response_model=list[LockoutOut])
def lockouts(db: Db, admin: RequireAdmin):
    with db.read() as session:
        return [
            LockoutOut(**{kind: value}, locked_until=until)
            for key, until in logins.active(session, utcnow())
            for kind, value in [key.split(":", 1)]
        ]


@router.delete("/users/{username}/lockout", status_code=204)
def unlock_user(username: str, db: Db, admin: RequireAdmin):
    with db.session() as session:
        logins.forget(session, logins.user_key(username))


@router.delete("/addresses/{address}/lockout", status_code=204)
def unlock_address(address: str, db: Db, admin: RequireAdmin):
    with db.session() as session:
        logins.forget(session, logins.address_key(address))
