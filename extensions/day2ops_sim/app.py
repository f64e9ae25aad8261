"""The ASGI applications: Prism Central (/api/ to the dispatcher, /_sim/ to the control plane when
asked), and vCenter and Move, each for its own listener, all three over one SimState."""

import asyncio

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from . import control
from .backends.move import MoveError
from .backends.vcenter import VCenterError
from .dispatcher import Dispatcher
from .routes import move, servicenow, vcenter
from .state import SimState


def create_app(state: SimState | None = None, control_plane: bool = True) -> FastAPI:
    state = state or SimState()
    # Prism publishes no OpenAPI at these paths; serving FastAPI's would be a thing Prism lacks.
    app = FastAPI(title="day2ops Prism Central simulator", openapi_url=None, docs_url=None, redoc_url=None)
    app.state.sim = state
    dispatcher = Dispatcher(state)
    # ServiceNow's Table API lives under /api/now/, which the Prism catch-all below would swallow.
    app.include_router(servicenow.router(state))

    @app.api_route(
        "/api/{rest:path}",
        methods=["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"],
        include_in_schema=False,
    )
    async def api(request: Request):
        return await dispatcher(request)

    if control_plane:
        app.include_router(control.router(state))
    return app


def _with_faults(app: FastAPI, state: SimState, render) -> None:
    """The /_sim/ latency and fault rules, matched on method and path, answered in the API's own shape."""

    @app.middleware("http")
    async def faults(request: Request, call_next):
        method, path = request.method, request.url.path
        delay = state.faults.latency(method, path, None)
        if delay:
            await asyncio.sleep(delay)
        fault = state.faults.take_fault(method, path, None)
        if fault is None or fault.after_handler:
            response = await call_next(request)
            if fault is None:
                return response
        body, status = render(fault)
        headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
        return JSONResponse(body, status_code=status, headers=headers)


def create_vcenter_app(state: SimState) -> FastAPI:
    """vCenter Automation REST (/api) on its own listener, sharing `state` with Prism and Move."""
    app = FastAPI(title="day2ops vCenter simulator", openapi_url=None, docs_url=None, redoc_url=None)
    app.state.sim = state
    app.include_router(vcenter.router(state))
    error_type = {401: "UNAUTHENTICATED", 403: "UNAUTHORIZED", 404: "NOT_FOUND", 503: "SERVICE_UNAVAILABLE"}
    _with_faults(
        app,
        state,
        lambda f: (VCenterError(f.status, error_type.get(f.status, "ERROR"), f.message).body(), f.status),
    )
    return app


def create_move_app(state: SimState) -> FastAPI:
    """Nutanix Move REST v2 (/move/v2) on its own listener, sharing `state` with Prism and vCenter."""
    app = FastAPI(title="day2ops Move simulator", openapi_url=None, docs_url=None, redoc_url=None)
    app.state.sim = state
    app.include_router(move.router(state))
    _with_faults(app, state, lambda f: (MoveError(f.status, f.message, f.status).body(), f.status))
    return app
