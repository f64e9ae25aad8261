"""FastAPI's 422 for a request that does not fit its schema, rendered so that it can always be sent.

The default handler echoes the rejected input as UTF-8: a lone surrogate in it (JSON's \\ud800 escape)
cannot be encoded, and the 422 became a 500. Escaped as ASCII, the same answer is valid JSON for any input.
A value that does not match a field's pattern is said so in words: the regex means nothing to most readers.
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


def _in_words(entry: dict) -> dict:
    if entry.get("type") != "string_pattern_mismatch":
        return entry
    field = next((str(part) for part in reversed(entry.get("loc") or ()) if isinstance(part, str)), "value")
    # ctx holds only the pattern.
    words = {k: v for k, v in entry.items() if k != "ctx"}
    return {**words, "msg": f"{field} is not in the form it takes; see the API's schema"}


async def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    return AsciiJSONResponse(
        {"detail": jsonable_encoder([_in_words(e) for e in error.errors()])}, status_code=422
    )
