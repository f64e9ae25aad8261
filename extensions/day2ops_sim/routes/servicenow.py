"""ServiceNow Table API (GET /api/now/table/{table}): the subset day2ops reads, shaped as ServiceNow answers.

Query parameters: sysparm_fields (comma list), sysparm_limit (default 10000), sysparm_offset, and
sysparm_query with `field=value` terms joined by `^`. Answers {"result": [...]} with X-Total-Count
and a Link header to the next page; basic auth, 401 otherwise, as ServiceNow does.
"""

import base64
import binascii
import secrets

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ..backends.servicenow import TABLE
from ..state import SimState


def _authorized(state: SimState, request: Request) -> bool:
    auth = request.headers.get("authorization", "")
    if not auth.lower().startswith("basic "):
        return False
    try:
        user, _, password = base64.b64decode(auth[6:].strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    creds = state.credentials
    return secrets.compare_digest(user, creds.username) and secrets.compare_digest(password, creds.password)


def _error(status: int, message: str, detail: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"message": message, "detail": detail}, "status": "failure"}, status_code=status
    )


def router(state: SimState) -> APIRouter:
    api = APIRouter(prefix="/api/now")

    @api.get("/table/{table}")
    def table(table: str, request: Request):
        if not _authorized(state, request):
            return _error(401, "User Not Authenticated", "Required to provide Auth information")
        if table != TABLE:
            return _error(400, "Invalid table " + table, "The simulator serves only " + TABLE)
        query = request.query_params
        records = state.servicenow.records()
        for term in filter(None, (query.get("sysparm_query") or "").split("^")):
            field, _, value = term.partition("=")
            records = [r for r in records if str(r.get(field, "")) == value]
        try:
            limit = int(query.get("sysparm_limit", 10000))
            offset = int(query.get("sysparm_offset", 0))
        except ValueError:
            return _error(400, "Invalid sysparm_limit or sysparm_offset", "Give whole numbers")
        total = len(records)
        page = records[offset : offset + limit]
        fields = [f for f in (query.get("sysparm_fields") or "").split(",") if f]
        if fields:
            page = [{f: r.get(f, "") for f in fields} for r in page]
        headers = {"X-Total-Count": str(total)}
        if offset + limit < total:
            nxt = request.url.include_query_params(sysparm_offset=offset + limit, sysparm_limit=limit)
            headers["Link"] = f'<{nxt}>;rel="next"'
        return JSONResponse({"result": page}, headers=headers)

    return api
