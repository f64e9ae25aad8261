"""FastAPI's 422 for a request that does not fit its schema, rendered so that it can always be sent.

The default handler echoes the rejected input as UTF-8: a lone surrogate in it (JSON's \\ud800 escape)
cannot be encoded, and the 422 became a 500. Escaped as ASCII, the same answer is valid JSON for any input.
"""

from __future__ import annotations

import json

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse


class AsciiJSONResponse(JSONResponse):
    def render(self, content) -> bytes:
        return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode()


async def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    return AsciiJSONResponse({"detail": jsonable_encoder(error.errors())}, status_code=422)
