"""`create_app(settings)`: the API, its services, and the scheduler loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from day2ops_app.audit.chain import IncrementalVerifier
from day2ops_app.audit.context import AuditContext
from day2ops_app.audit.seal import legacy_entries
from day2ops_app.auth_first import AuthFirst
from day2ops_app.body_limit import BodyLimit
from day2ops_app.catalog.choices import PrismChoices
from day2ops_app.catalog.model import Catalog
from day2ops_app.db.engine import Database
from day2ops_app.db.migrate import upgrade
from day2ops_app.db.tables import User
from day2ops_app.headers import SecurityHeaders
from day2ops_app.plain_text import PlainText
from day2ops_app.private import private_dir
from day2ops_app.routers import (
    approvals,
    audit,
    auth,
    catalog,
    reports,
    runs,
    schedules,
    tokens,
    ui,
    users,
)
from day2ops_app.services.approvals import ApprovalService
from day2ops_app.services.runs import RunService
from day2ops_app.services.schedules import Scheduler
from day2ops_app.settings import Settings
from day2ops_app.validation_errors import validation_error

log = logging.getLogger("day2ops.app")


def _scheduler(app: FastAPI) -> Scheduler:
    state = app.state

    def fire(schedule, owner: User | None) -> str:
        if owner is None or owner.disabled:
            raise PermissionError(f"its owner {schedule.owner} is gone or disabled")
        item = state.catalog.get(schedule.item_id)
        if item is None:
            raise LookupError(f"catalog item {schedule.item_id} is gone")
        return state.runs.submit(owner, item, schedule.inputs, schedule_id=schedule.id).id

    return Scheduler(
        state.db, state.settings.instance_id, timedelta(seconds=state.settings.misfire_grace_seconds), fire
    )


async def _tick_forever(app: FastAPI) -> None:
    scheduler = _scheduler(app)
    while True:
        try:
            await run_in_threadpool(scheduler.tick)

            def expire():
                with app.state.db.session() as session:
                    app.state.approvals.expire_all(session)

            await run_in_threadpool(expire)
        except Exception:
            log.exception("scheduler tick failed; trying again")
        await asyncio.sleep(app.state.settings.scheduler_seconds)


def _open_store(settings: Settings) -> tuple[Database, AuditContext]:
    """The migrated audit store with its keys; a chain begun before it was keyed is said once."""
    private_dir(settings.data_dir)
    private_dir(settings.data_dir / "runs")
    upgrade(settings.db_url)
    audit_context = AuditContext.from_settings(settings)
    audit_context.keys.keyring()  # the key file is made at the first start, not at the first write
    db = Database(settings.db_url, audit=audit_context)
    with db.read() as session:
        legacy = legacy_entries(session)
    if legacy:
        # Not a refusal to start: the legacy record stays readable; it just decides nothing until sealed.
        log.warning(
            "the audit chain holds %d entries written before it was keyed: `audit verify` reports them, "
            "and their gates and queued runs are not acted on, until an admin runs `day2ops audit seal`",
            legacy,
        )
    return db, audit_context


def _start_services(app: FastAPI, settings: Settings) -> Database:
    """The app's parts on app.state, where the dependencies in deps.py hand them to the routes."""
    db, audit_context = _open_store(settings)
    state = app.state
    state.audit = audit_context
    state.audit_verifier = IncrementalVerifier()
    state.settings = settings
    state.db = db
    state.catalog = Catalog.load(settings.catalog_dir, settings.playbook_dir)
    state.choices = PrismChoices(settings)
    state.approvals = ApprovalService(settings.default_gate_hours)
    state.runs = RunService(settings, db, state.catalog, state.choices, state.approvals)
    interrupted = state.runs.recover()
    if interrupted:
        log.warning(
            "runs interrupted by the last stop of %s: %s", settings.instance_id, ", ".join(interrupted)
        )
    return db


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        db = _start_services(app, settings)
        ticker = asyncio.create_task(_tick_forever(app))
        yield
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker
        db.dispose()
        await db.dispose_async()

    app = FastAPI(
        title="day2ops self-service",
        version="0.1.0",
        description="Day-2 operations on Nutanix AHV from a catalog: Ansible runs, approvals, evidence.",
        lifespan=lifespan,
    )
    app.add_middleware(AuthFirst)
    app.add_middleware(PlainText)
    # Outside those two (the last added runs first): a body declared too large is refused before anyone is
    # looked up; one that grows too large while it streams is cut off wherever it is read.
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_exception_handler(RequestValidationError, validation_error)
    # Added last, so it wraps the others: their refusals (413, 401, 422) carry the headers too.
    app.add_middleware(SecurityHeaders)
    for module in (auth, tokens, users, catalog, runs, approvals, audit, schedules, reports, ui):
        app.include_router(module.router)
    app.state.templates = Jinja2Templates(directory=settings.ui_dir / "templates")
    app.mount("/ui/static", StaticFiles(directory=settings.ui_dir / "static"), name="static")

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict:
        return {"status": "ok"}

    return app
