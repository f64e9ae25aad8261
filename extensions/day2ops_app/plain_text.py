"""Refuse a path or query parameter the store could not hold (storable.py) with 422, before any route
reads it. Request bodies are checked by their schemas (schemas.Body), so every route is covered."""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi.responses import JSONResponse

from day2ops_app.auth_first import refusal
from day2ops_app.storable import INVALID, WHY


class PlainText:
    """A caller who may not ask at all is refused as such first (401), as for any other request."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and (field := _unstorable_field(scope)):
            response = await refusal(scope) or JSONResponse(
                {
                    "detail": "the request is not valid",
                    "errors": [{"field": field, "message": f"{field} {WHY}"}],
                },
                422,
            )
            return await response(scope, receive, send)
        return await self.app(scope, receive, send)


def _unstorable_field(scope) -> str | None:
    if INVALID.search(scope.get("path", "")):
        return "path"
    # Decoded as Starlette decodes it for the routes.
    for name, value in parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True):
        if INVALID.search(name) or INVALID.search(value):
            return f"query.{INVALID.sub('?', name)}"
    return None
