"""Authenticate before FastAPI reads a request body.

FastAPI parses the JSON body before it resolves dependencies, so a caller with no credentials and a
malformed body would learn about the body (422) instead of being refused (401). This ASGI middleware
runs the same checks as the dependencies first, for every request that carries a body.
"""

from __future__ import annotations

import re

from fastapi import HTTPException, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from day2ops_app.deps import current_user, run_token

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
OPEN_PATHS = frozenset({"/api/auth/login"})
# Opened by a running playbook with the run's own token, not a user's.
RUN_GATES = re.compile(r"^/api/runs/(?P<execution_id>[^/]+)/gates(/|$)")


class AuthFirst:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            return await self.app(scope, receive, send)
        refused = await refusal(scope)
        if refused is not None:
            return await refused(scope, receive, send)
        return await self.app(scope, receive, send)


async def refusal(scope) -> JSONResponse | None:
    """The 401 or 403 for a caller of the API who may not ask at all; None for one who may."""
    path = scope.get("path", "")
    if not path.startswith("/api/") or path in OPEN_PATHS:
        return None
    request = Request(scope)
    gate = RUN_GATES.match(path)
    try:
        if gate:
            await run_in_threadpool(
                run_token, gate["execution_id"], request, request.headers.get("Authorization")
            )
        else:
            await current_user(request)
    except HTTPException as refused:
        return JSONResponse({"detail": refused.detail}, status_code=refused.status_code)
    return None
