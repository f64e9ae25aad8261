"""The ASGI application: /api/ goes to the dispatcher, /_sim/ to the control plane when asked."""

from fastapi import FastAPI, Request

from . import control
from .dispatcher import Dispatcher
from .routes import servicenow
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
