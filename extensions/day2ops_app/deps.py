"""What a route needs, as FastAPI dependencies: the app's database and services (made once at start,
in main.py), who is calling (a browser session with a CSRF header on every change, or an API token),
and what they may do (RunnableItem, OwnRunOrAdmin, the approver and admin roles, a run's own token)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.templating import Jinja2Templates
from sqlalchemy import Row, Select, bindparam, select

from day2ops_app.audit.chain import IncrementalVerifier
from day2ops_app.audit.context import AuditContext
from day2ops_app.catalog.choices import ChoicesUnavailable, PrismChoices
from day2ops_app.catalog.model import Catalog, Item
from day2ops_app.catalog.scope import preview, scope_of
from day2ops_app.collection import ApiError
from day2ops_app.db.engine import Database
from day2ops_app.db.tables import ApiToken, Execution, User, WebSession, aware, utcnow
from day2ops_app.security import digest
from day2ops_app.services.approvals import ApprovalService
from day2ops_app.services.runs import RunService
from day2ops_app.settings import Settings
from day2ops_app.storable import unstorable

SESSION_COOKIE = "day2ops_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


# -- the app's parts, made once in create_app's lifespan -------------------------------------------


def _state(name: str):
    """A dependency that hands a route the app's part stored under `name`."""

    # async: FastAPI runs a plain def dependency in a worker thread, a hop per part on every request.
    async def part(request: Request):
        return getattr(request.app.state, name)

    return part


def database(request: Request) -> Database:
    return request.app.state.db


Db = Annotated[Database, Depends(_state("db"))]
AppSettings = Annotated[Settings, Depends(_state("settings"))]
AppCatalog = Annotated[Catalog, Depends(_state("catalog"))]
Choices = Annotated[PrismChoices, Depends(_state("choices"))]
Approvals = Annotated[ApprovalService, Depends(_state("approvals"))]
Runs = Annotated[RunService, Depends(_state("runs"))]
Audit = Annotated[AuditContext, Depends(_state("audit"))]
AuditVerifier = Annotated[IncrementalVerifier, Depends(_state("audit_verifier"))]
Templates = Annotated[Jinja2Templates, Depends(_state("templates"))]


# -- who is calling --------------------------------------------------------------------------------


# What a request needs of its caller: no password hash travels with it.
USER_FIELDS = ("id", "username", "roles", "groups", "disabled")


def _credential_lookup(credential, *fields: str) -> Select:
    """A credential's `fields` (as credential_<field>) and its user, by the credential's digest, in one Core
    query: every request asks it, and through the ORM it took 340 µs on SQLite, this 90 µs."""
    table, users = credential.__table__, User.__table__
    return (
        select(*(table.c[f].label(f"credential_{f}") for f in fields), *(users.c[f] for f in USER_FIELDS))
        .select_from(table.outerjoin(users, users.c.id == table.c.user_id))
        .where(table.c.token_sha256 == bindparam("digest"))
    )


TOKEN_LOOKUP = _credential_lookup(ApiToken, "id", "name", "revoked", "expires_at", "scope")
SESSION_LOOKUP = _credential_lookup(WebSession, "expires_at", "csrf_token")


async def current_user(request: Request) -> User:
    """The caller, authenticated once per request (the middleware in auth_first may have done it). Async,
    so the lookup costs no worker-thread hop (Database.lookup)."""
    if getattr(request.state, "user", None) is None:
        lookup = _lookup(request)
        found = await database(request).lookup(*lookup) if lookup else None
        request.state.user = _caller(request, lookup, found)
    return request.state.user


def page_user(request: Request) -> User:
    """current_user for a page, which renders in a worker thread."""
    if getattr(request.state, "user", None) is None:
        lookup = _lookup(request)
        request.state.user = _caller(request, lookup, database(request).first(*lookup) if lookup else None)
    return request.state.user


def _lookup(request: Request) -> tuple[Select, dict] | None:
    """The query for the credential the request carries: an API token, else the session cookie."""
    authorization = request.headers.get("Authorization", "")
    if authorization.startswith("Bearer "):
        return TOKEN_LOOKUP, {"digest": digest(authorization[7:].strip())}
    cookie = request.cookies.get(SESSION_COOKIE)
    return (SESSION_LOOKUP, {"digest": digest(cookie)}) if cookie else None


def _caller(request: Request, lookup: tuple[Select, dict] | None, found: Row | None) -> User:
    """The user `found` (by `lookup`) names, if the credential is good for this request. A detached User
    made from the row, only read from and never added to a session."""
    if lookup is not None and lookup[0] is TOKEN_LOOKUP:
        if found is None or found.credential_revoked or _expired(found.credential_expires_at):
            raise HTTPException(401, "the API token is unknown, revoked or expired")
        if found.credential_scope == "read" and request.method not in SAFE_METHODS:
            name = found.credential_name
            raise HTTPException(
                403, f"the API token {name!r} has the scope read: it may only GET; use a full token"
            )
        request.state.token_id = found.credential_id
    else:
        if found is None or _expired(found.credential_expires_at):
            raise HTTPException(401, "log in first (POST /api/auth/login) or send an API token")
        if (
            request.method not in SAFE_METHODS
            and request.headers.get(CSRF_HEADER) != found.credential_csrf_token
        ):
            raise HTTPException(403, f"CSRF check failed: send the {CSRF_HEADER} header from /api/auth/me")
    if found.id is None or found.disabled:
        raise HTTPException(401, "this user is disabled")
    return User(**{field: getattr(found, field) for field in USER_FIELDS})


def _expired(expires_at) -> bool:
    return expires_at is not None and aware(expires_at) < utcnow()


def session_csrf(request: Request) -> str | None:
    """The CSRF token of the browser session in the cookie, for pages and /api/auth/me."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    with database(request).read() as session:
        web = session.scalars(
            select(WebSession).where(WebSession.token_sha256 == digest(cookie))
        ).one_or_none()
        return web.csrf_token if web else None


def require_role(*roles: str):
    async def check(user: Annotated[User, Depends(current_user)]) -> User:
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
        with database(request).read() as session:
            execution = session.get(Execution, execution_id)
            expected = execution.run_token_sha256 if execution else None
    if not expected or digest(token) != expected:
        raise HTTPException(401, "this endpoint takes the run's own token (DAY2OPS_RUN_TOKEN)")
    return execution_id


RunToken = Annotated[str, Depends(run_token)]


# -- what the caller may do ------------------------------------------------------------------------


def may_run(user: User, item: Item) -> bool:
    return item.access.allows(user.roles, user.groups or [])


def runnable(catalog: Catalog, user: User, item_id: str) -> Item:
    """The catalog item, if this user may run it (404 for none, 403 for someone else's)."""
    item = catalog.get(item_id)
    if item is None:
        raise HTTPException(404, f"no catalog item {item_id}")
    if not may_run(user, item):
        raise HTTPException(403, f"{user.username} may not run {item_id}")
    return item


async def runnable_item(item_id: str, user: CurrentUser, catalog: AppCatalog) -> Item:
    return runnable(catalog, user, item_id)


RunnableItem = Annotated[Item, Depends(runnable_item)]


def own_run_or_admin(execution_id: str, user: CurrentUser, db: Db) -> Execution:
    """The execution, if the caller started it or is an admin."""
    with db.read() as session:
        execution = session.get(Execution, execution_id)
    denied = "only who started the run, or an admin, may cancel it"
    return owned_or_admin(execution, "operator", user, f"no execution {execution_id}", denied)


def owned_or_admin(found, owner_field: str, user: User, missing: str, denied: str):
    """`found`, if there is one and the caller owns it or is an admin: runs and schedules alike."""
    if found is None:
        raise HTTPException(404, missing)
    if getattr(found, owner_field) != user.username and "admin" not in user.roles:
        raise HTTPException(403, denied)
    return found


OwnRunOrAdmin = Annotated[Execution, Depends(own_run_or_admin)]


async def scope_preview(choices: PrismChoices, item: Item, values: dict) -> dict:
    """The VMs in the scope of an item for these (checked) values, read from Prism now; Prism's refusal
    of the scope as a 422, Prism unreachable as a 503."""
    scope = scope_of(item, values)
    if scope is None:
        return {"scope": None, "count": None, "vms": []}
    try:
        return await run_in_threadpool(preview, choices.client(), scope)
    except ApiError as error:
        if error.status and 400 <= int(error.status) < 500:  # Prism refused the scope (a bad $filter)
            raise HTTPException(422, f"Prism Central refused the scope: {error}") from None
        raise HTTPException(503, f"Prism Central did not answer: {error}") from None
    except ChoicesUnavailable as error:
        raise HTTPException(503, f"Prism Central did not answer: {error}") from None
