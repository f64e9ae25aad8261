"""Passwords (argon2id), random tokens and their digests."""

from __future__ import annotations

import hashlib
import os
import secrets
from functools import cache

from anyio import CapacityLimiter, to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 12


@cache
def _dummy() -> str:
    """Verified against when the user does not exist, so a login takes as long either way. Made at the first
    such login, not at import: every `day2ops` command and test process imports this module, and a hash
    costs as much as a check."""
    return _hasher.hash("day2ops-no-such-user")


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"password: at least {MIN_PASSWORD_LENGTH} characters, please")
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _dummy(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


# A check costs ~250 ms of CPU. A flood of logins waits for one of these few slots without holding a
# worker thread, so the threads and half the cores stay free for everyone else's requests.
_checks = CapacityLimiter(max(1, (os.cpu_count() or 2) // 2))


async def check_password(password_hash: str | None, password: str) -> bool:
    return await to_thread.run_sync(verify_password, password_hash, password, limiter=_checks)


def new_token(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
