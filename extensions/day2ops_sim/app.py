"""The ASGI applications: Prism Central (/api/ to the dispatcher, /_sim/ to the control plane when
asked), and vCenter and Move, each for its own listener, all three over one SimState."""

from collections.abc import Callable

from fastapi import FastAPI, Request, Response

from . import control
from .core.faults import Fault, inject
from .dispatcher import Dispatcher
from .routes import move, servicenow, vcenter
from .state import SimState


def _app(title: str, state: SimState) -> FastAPI:
    # Prism publishes no OpenAPI at these paths; serving FastAPI's would be a thing Prism lacks.
    app = FastAPI(title=title, openapi_url=None, docs_url=None, redoc_url=None)
    app.state.sim = state
    return app


def create_app(state: SimState | None = None, control_plane: bool = True) -> FastAPI:
    state = state or SimState()
    app = _app("day2ops Prism Central simulator", state)
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
        app.include_router(control.router)
    return app


def _with_faults(app: FastAPI, state: SimState, refuse: Callable[[Fault], Response]) -> None:
    """The /_sim/ latency and fault rules, matched on method and path, answered in the API's own shape."""

    @app.middleware("http")
    async def faults(request: Request, call_next):
        async def run():
            return await call_next(request), True

        return await inject(state.faults, request.method, request.url.path, None, run, refuse)


def create_vcenter_app(state: SimState) -> FastAPI:
    """vCenter Automation REST (/api) on its own listener, sharing `state` with Prism and Move."""
    app = _app("day2ops vCenter simulator", state)
    app.include_router(vcenter.router(state))
    _with_faults(app, state, vcenter.fault_answer)
    return app


def create_move_app(state: SimState) -> FastAPI:
    """Nutanix Move REST v2 (/move/v2) on its own listener, sharing `state` with Prism and vCenter."""
    app = _app("day2ops Move simulator", state)
    app.include_router(move.router(state))
    _with_faults(app, state, move.fault_answer)
    return app
