"""Wrong logins, counted per user name and per client address, and the lockouts they lead to.

Kept in the database, so every app instance sharing it counts the same failures and honours the same
lockouts. Unknown user names are counted like known ones: a lockout must not tell which names exist.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from day2ops_app.db.tables import LoginFailure, LoginLockout, aware
from day2ops_app.settings import Settings


def user_key(username: str) -> str:
    return f"user:{username}"


def address_key(address: str) -> str:
    return f"address:{address}"


def limits(settings: Settings, username: str, address: str) -> dict[str, int]:
    """The keys one login is counted under, with how many failures lock each. User first: every writer
    takes row locks in the same order."""
    return {
        user_key(username): settings.login_max_failures,
        address_key(address): settings.login_max_failures_per_address,
    }


def locked_for(session: Session, keys, now: datetime) -> float:
    """Seconds until the last lockout of these keys ends; 0 when none holds."""
    until = session.scalar(
        select(func.max(LoginLockout.locked_until)).where(
            LoginLockout.key.in_(list(keys)), LoginLockout.locked_until > now
        )
    )
    return (aware(until) - now).total_seconds() if until else 0.0


def record_failure(session: Session, settings: Settings, keys: dict[str, int], now: datetime) -> None:
    # Old failures and ended lockouts go first, in one sweep, so the tables stay as small as the window.
    session.execute(
        delete(LoginFailure).where(LoginFailure.at < now - timedelta(seconds=settings.login_window_seconds))
    )
    session.execute(delete(LoginLockout).where(LoginLockout.locked_until <= now))
    for key in keys:
        session.add(LoginFailure(key=key, at=now))
    session.flush()
    for key, limit in keys.items():
        failures = session.scalar(select(func.count()).where(LoginFailure.key == key))
        if failures >= limit:
            session.add(
                LoginLockout(key=key, locked_until=now + timedelta(seconds=settings.login_lockout_seconds))
            )
            # Spent on this lockout: once it ends, the count starts again from nothing.
            session.execute(delete(LoginFailure).where(LoginFailure.key == key))


def forget(session: Session, key: str) -> int:
    """A right password, or an admin lifting a lockout: the key's failures and lockouts go. Returns how
    many lockouts were lifted."""
    session.execute(delete(LoginFailure).where(LoginFailure.key == key))
    return session.execute(delete(LoginLockout).where(LoginLockout.key == key)).rowcount


def active(session: Session, now: datetime) -> list[tuple[str, datetime]]:
    """The lockouts in force, latest end per key."""
    return [
        (key, aware(until))
        for key, until in session.execute(
            select(LoginLockout.key, func.max(LoginLockout.locked_until))
            .where(LoginLockout.locked_until > now)
            .group_by(LoginLockout.key)
            .order_by(LoginLockout.key)
        )
    ]
