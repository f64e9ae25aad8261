"""ServiceNow Table API (GET /api/now/table/{table}): the subset day2ops reads, shaped as ServiceNow answers.

Query parameters: sysparm_fields (comma list), sysparm_limit (default 10000), sysparm_offset, and
sysparm_query with `field=value` terms joined by `^`. Answers {"result": [...]} with X-Total-Count
and a Link header to the next page; basic auth, 401 otherwise, as ServiceNow does.
"""

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.datastructures import URL, QueryParams
from fastapi.responses import JSONResponse

from ..backends.servicenow import TABLE
from ..state import SimState
from .rest import Route, RouteTable, is_user


class ServiceNowError(Exception):
    """A refused call: the status and ServiceNow's `error.message` and `error.detail`."""

    def __init__(self, status: int, message: str, detail: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.detail = detail

    def answer(self) -> JSONResponse:
        return JSONResponse(
            {"error": {"message": self.message, "detail": self.detail}, "status": "failure"},
            status_code=self.status,
        )


@dataclass
class ServiceNowCall:
    state: SimState
    params: dict[str, str]
    query: QueryParams
    url: URL


async def answer(state: SimState, route: Route, request: Request) -> JSONResponse:
    """The handler's (body, headers) for the simulator's user; ServiceNow's error object otherwise."""
    try:
        if not is_user(state.credentials, request.headers.get("authorization", "")):
            raise ServiceNowError(401, "User Not Authenticated", "Required to provide Auth information")
        body, headers = route.handler(
            ServiceNowCall(state, request.path_params, request.query_params, request.url)
        )
    except ServiceNowError as err:
        return err.answer()
    return JSONResponse(body, status_code=route.status, headers=headers)


ROUTES = RouteTable("/api/now", answer)
route = ROUTES.route


def router(state: SimState) -> APIRouter:
    return ROUTES.router(state)


def _page_bounds(query: QueryParams) -> tuple[int, int]:
    try:
        return int(query.get("sysparm_limit", 10000)), int(query.get("sysparm_offset", 0))
    except ValueError:
        raise ServiceNowError(400, "Invalid sysparm_limit or sysparm_offset", "Give whole numbers") from None


@route("GET", "/table/{table}")
def table(call: ServiceNowCall):
    if call.params["table"] != TABLE:
        raise ServiceNowError(
            400, "Invalid table " + call.params["table"], "The simulator serves only " + TABLE
        )
    query = call.query
    records = call.state.servicenow.records()
    for term in filter(None, (query.get("sysparm_query") or "").split("^")):
        field, _, value = term.partition("=")
        records = [r for r in records if str(r.get(field, "")) == value]
    limit, offset = _page_bounds(query)
    total = len(records)
    page = records[offset : offset + limit]
    fields = [f for f in (query.get("sysparm_fields") or "").split(",") if f]
    if fields:
        page = [{f: r.get(f, "") for f in fields} for r in page]
    headers = {"X-Total-Count": str(total)}
    if offset + limit < total:
        nxt = call.url.include_query_params(sysparm_offset=offset + limit, sysparm_limit=limit)
        headers["Link"] = f'<{nxt}>;rel="next"'
    return {"result": page}, headers
