"""Local users: the one way they are added and disabled, from the API and from `day2ops user`."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from day2ops_app.db.tables import User, WebSession
from day2ops_app.security import hash_password

ROLES = ("operator", "approver", "admin")


def add_user(session: Session, username: str, password: str, roles: list[str], groups: list[str]) -> User:
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"roles: {', '.join(sorted(unknown))} unknown; use {', '.join(ROLES)}")
    if session.scalars(select(User).where(User.username == username)).one_or_none():
        raise ValueError(f"user {username} exists already")
    user = User(
        username=username, password_hash=hash_password(password), roles=list(roles), groups=list(groups)
    )
    session.add(user)
    session.flush()
    return user


def set_disabled(session: Session, username: str, disabled: bool) -> User:
    """A disabled user is refused everywhere at the next request: their browser sessions are deleted
    here, their tokens are refused while the user is disabled (and work again if re-enabled)."""
    user = session.scalars(select(User).where(User.username == username)).one_or_none()
    if user is None:
        raise LookupError(f"no user {username}")
    user.disabled = disabled
    if disabled:
        session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    return user
