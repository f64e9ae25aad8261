"""`create_app(settings)`: the API, its services, and the scheduler loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from day2ops_app.approvals import ApprovalService
from day2ops_app.auth_first import AuthFirst
from day2ops_app.catalog.choices import PrismChoices
from day2ops_app.catalog.model import Catalog
from day2ops_app.collection import importable
from day2ops_app.db.engine import Database
from day2ops_app.db.migrate import upgrade
from day2ops_app.db.tables import User
from day2ops_app.routers import approvals, audit, auth, catalog, reports, runs, schedules, ui
from day2ops_app.runs.service import RunService
from day2ops_app.schedules import Scheduler
from day2ops_app.settings import Settings

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


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        importable(settings.data_dir)
        upgrade(settings.db_url)
        db = Database(settings.db_url)
        app.state.settings = settings
        app.state.db = db
        app.state.catalog = Catalog.load(settings.catalog_dir, settings.playbook_dir)
        app.state.choices = PrismChoices(settings)
        app.state.approvals = ApprovalService(settings.default_gate_hours)
        app.state.runs = RunService(settings, db, app.state.catalog, app.state.choices, app.state.approvals)
        interrupted = app.state.runs.recover()
        if interrupted:
            log.warning(
                "runs interrupted by the last stop of %s: %s", settings.instance_id, ", ".join(interrupted)
            )
        ticker = asyncio.create_task(_tick_forever(app))
        yield
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker
        db.dispose()

    app = FastAPI(
        title="day2ops self-service",
        version="0.1.0",
        description="Day-2 operations on Nutanix AHV from a catalog: Ansible runs, approvals, evidence.",
        lifespan=lifespan,
    )
    app.add_middleware(AuthFirst)
    for module in (auth, catalog, runs, approvals, audit, schedules, reports, ui):
        app.include_router(module.router)
    app.state.templates = Jinja2Templates(directory=settings.ui_dir / "templates")
    app.mount("/ui/static", StaticFiles(directory=settings.ui_dir / "static"), name="static")

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict:
        return {"status": "ok"}

    return app
