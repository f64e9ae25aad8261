"""Refuse request bodies larger than DAY2OPS_MAX_BODY_BYTES with 413, without holding them.

A declared Content-Length over the limit is refused before a byte is read; a chunked body is counted
as it streams in and refused the moment it grows past the limit, so nothing larger is ever buffered.
"""

from __future__ import annotations

from fastapi import HTTPException
from fastapi.responses import JSONResponse


class BodyTooLarge(HTTPException):
    """Raised while the app reads the body; FastAPI passes an HTTPException through as it is."""

    def __init__(self, limit: int):
        super().__init__(
            413,
            f"the request body is larger than {limit} bytes; send less, or raise DAY2OPS_MAX_BODY_BYTES",
        )


class BodyLimit:
    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            return await self._refuse(scope, receive, send)
        received = 0
        started = False

        async def counted_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def watched_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLarge:
            # Read outside FastAPI's body parsing (a middleware, a raw request.body()): answer here.
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope, receive, send):
        error = BodyTooLarge(self.max_bytes)
        # The client may still be sending: closing the connection afterwards spares reading the rest.
        response = JSONResponse({"detail": error.detail}, 413, headers={"Connection": "close"})
        await response(scope, receive, send)


def _content_length(scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None
