"""API tokens: the one way they are issued, from the API and from `day2ops token create`."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from sqlalchemy.orm import Session

from day2ops_app.db.tables import ApiToken, User, utcnow
from day2ops_app.security import digest, new_token
from day2ops_app.settings import Settings


def issue(
    session: Session,
    settings: Settings,
    user: User,
    name: str,
    days: int | None,
    scope: Literal["full", "read"] = "full",
) -> tuple[ApiToken, str]:
    """A new token row and its secret, which is shown once: only its digest is kept. Every token
    expires: after `days`, DAY2OPS_TOKEN_DAYS by default, never more than DAY2OPS_TOKEN_MAX_DAYS."""
    days = settings.token_days if days is None else days
    if not 1 <= days <= settings.token_max_days:
        raise ValueError(f"from 1 to {settings.token_max_days} days (DAY2OPS_TOKEN_MAX_DAYS)")
    secret = new_token("d2t")
    row = ApiToken(
        user_id=user.id,
        name=name,
        token_sha256=digest(secret),
        expires_at=utcnow() + timedelta(days=days),
        scope=scope,
    )
    session.add(row)
    session.flush()
    return row, secret
