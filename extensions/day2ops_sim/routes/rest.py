"""The routes of vCenter, Move and ServiceNow in the style of Prism's handlers: module-level functions
registered with their method and path, each API's `answer` turning a request into the handler's call
and its result (or refusal) into that API's JSON."""

import base64
import binascii
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import APIRouter, Request, Response

from ..state import Credentials, SimState


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Callable
    status: int = 200
    # False for the calls that log in: every other one needs the session or token they give.
    authenticated: bool = True


Answer = Callable[[SimState, Route, Request], Awaitable[Response]]


class RouteTable:
    """One API's routes under `prefix`; paths it does not serve answer `unserved(rest)`."""

    def __init__(self, prefix: str, answer: Answer, unserved: Callable[[str], Response] | None = None):
        self.prefix = prefix
        self.answer = answer
        self.unserved = unserved
        self.routes: list[Route] = []

    def route(self, method: str, path: str, *, status: int = 200, authenticated: bool = True):
        """Register a handler for `method path`, answered with `status` when it succeeds."""

        def register(fn: Callable) -> Callable:
            self.routes.append(Route(method, path, fn, status, authenticated))
            return fn

        return register

    def router(self, state: SimState) -> APIRouter:
        """The routes as FastAPI's, each answering over `state`."""
        api = APIRouter(prefix=self.prefix)
        for route in self.routes:
            api.add_api_route(route.path, self._endpoint(state, route), methods=[route.method])
        if self.unserved is not None:
            api.add_api_route(
                "/{rest:path}",
                self._unserved,
                methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                include_in_schema=False,
            )
        return api

    def _endpoint(self, state: SimState, route: Route):
        async def endpoint(request: Request) -> Response:
            return await self.answer(state, route, request)

        endpoint.__name__ = route.handler.__name__
        return endpoint

    def _unserved(self, rest: str) -> Response:
        return self.unserved(rest)


def basic_credentials(authorization: str) -> tuple[str, str] | None:
    """User and password of an HTTP basic `Authorization` header; None for anything else."""
    if not authorization.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(authorization[6:].strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password


def is_user(credentials: Credentials, authorization: str) -> bool:
    """The header carries the simulator's own user and password."""
    basic = basic_credentials(authorization)
    if basic is None:
        return False
    user, password = basic
    return secrets.compare_digest(user, credentials.username) and secrets.compare_digest(
        password, credentials.password
    )
