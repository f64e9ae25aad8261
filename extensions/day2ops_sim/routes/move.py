"""Nutanix Move REST v2 (/move/v2) on its own listener: parse, call the backend, answer.

Bodies are matched without regard to key case (folded to lower case before the backend sees them),
the token goes in `Authorization` with or without `Bearer`, and errors are `{"ErrorCode", "Message"}`.
"""

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.datastructures import QueryParams
from fastapi.responses import JSONResponse

from ..backends.move import API_VERSION, VERSION, MoveBackend, MoveError, bad
from ..core.faults import Fault
from ..state import SimState
from .rest import Route, RouteTable


def fold(value):
    """Keys in lower case, all the way down: Move matches `Spec`, `spec` and `SPEC` alike."""
    if isinstance(value, dict):
        return {str(k).lower(): fold(v) for k, v in value.items()}
    if isinstance(value, list):
        return [fold(v) for v in value]
    return value


def error(err: MoveError) -> JSONResponse:
    return JSONResponse(err.body(), status_code=err.status)


def fault_answer(fault: Fault) -> JSONResponse:
    """An injected fault as Move answers a refusal."""
    return JSONResponse(
        MoveError(fault.status, fault.message, fault.status).body(),
        status_code=fault.status,
        headers=fault.headers,
    )


@dataclass
class MoveCall:
    """A Move request as its handler sees it: path parameters, query and the folded body."""

    state: SimState
    params: dict[str, str]
    query: QueryParams
    body: dict

    @property
    def move(self) -> MoveBackend:
        return self.state.move

    @property
    def spec(self) -> dict:
        spec = self.body.get("spec")
        return spec if isinstance(spec, dict) else {}


async def _body(request: Request) -> dict:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        parsed = await request.json()
    except ValueError:
        raise bad("The request body is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise bad("The request body must be a JSON object")
    return fold(parsed)


async def answer(state: SimState, route: Route, request: Request) -> JSONResponse:
    """The handler's result for an authenticated caller as JSON (None: an empty object)."""
    state.tasks.tick()
    try:
        if route.authenticated:
            state.move.check_token(request.headers.get("authorization"))
        call = MoveCall(state, request.path_params, request.query_params, await _body(request))
        result = route.handler(call)
    except MoveError as err:
        return error(err)
    return JSONResponse({} if result is None else result, status_code=route.status)


def unserved(rest: str) -> JSONResponse:
    # Paths a real Move lacks (plan-level cutover, /vms) and ones the simulator does not serve.
    return error(MoveError(501, f"/move/v2/{rest} is not served by the day2ops Move simulator", 20501))


ROUTES = RouteTable("/move/v2", answer, unserved)
route = ROUTES.route


def router(state: SimState) -> APIRouter:
    return ROUTES.router(state)


@route("POST", "/users/login", authenticated=False)
def login(call: MoveCall):
    spec = call.spec
    token, expiry = call.move.login(str(spec.get("username") or ""), str(spec.get("password") or ""))
    return {"Status": {"Token": token, "ExpiryDate": call.state.clock.iso(expiry)}}


@route("POST", "/token/revoke")
def revoke(call: MoveCall):
    return call.move.revoke(str(call.spec.get("token") or ""))


@route("GET", "/appinfo")
def appinfo(call: MoveCall):
    return {"Status": {"Version": VERSION, "APIVersion": API_VERSION}}


@route("POST", "/providers/list")
def providers(call: MoveCall):
    role = call.body.get("role")
    entities = call.move.list_providers(role if isinstance(role, int) else None)
    return {"Entities": entities, "MetaData": {"Count": len(entities)}}


@route("POST", "/providers", status=201)
def add_provider(call: MoveCall):
    return call.move.add_provider(call.spec)


@route("GET", "/providers/{uuid}")
def provider(call: MoveCall):
    return call.move.provider(call.params["uuid"])


@route("DELETE", "/providers/{uuid}")
def delete_provider(call: MoveCall):
    return call.move.delete_provider(call.params["uuid"])


@route("POST", "/providers/{uuid}/workloads/list")
def provider_workloads(call: MoveCall):
    return call.move.source_workloads(call.params["uuid"], call.body)


@route("GET", "/plans")
@route("POST", "/plans/list")
def plans(call: MoveCall):
    query = {k.lower(): v.lower() for k, v in call.query.items()}
    details = (
        query.get("includeentitydetails") == "true"
        or query.get("includevmdetails") == "true"
        or bool(call.spec.get("includevmdetails"))
    )
    entities = [call.move.plan_wire(p, details) for p in call.move.plans.values()]
    return {"Entities": entities, "MetaData": {"Count": len(entities)}}


@route("POST", "/plans", status=201)
def create_plan(call: MoveCall):
    plan = call.move.create_plan(call.spec)
    return {"MetaData": {"UUID": plan.uuid}, "Spec": plan.spec}


@route("GET", "/plans/{uuid}")
def plan(call: MoveCall):
    return call.move.plan_wire(call.move.plan(call.params["uuid"]), True)


@route("DELETE", "/plans/{uuid}")
def delete_plan(call: MoveCall):
    return call.move.delete_plan(call.params["uuid"])


@route("POST", "/plans/{uuid}/prepare")
def prepare(call: MoveCall):
    return call.move.prepare(call.params["uuid"], call.spec)


@route("POST", "/plans/{uuid}/readiness")
def readiness(call: MoveCall):
    return call.move.readiness(call.params["uuid"])


# Spec.Time (S2) or Spec.Frequency (S5), the snapshot interval, is accepted and has no effect here.
@route("POST", "/plans/{uuid}/start", status=202)
def start(call: MoveCall):
    return call.move.start(call.params["uuid"])


@route("POST", "/plans/{uuid}/suspend")
def suspend(call: MoveCall):
    return call.move.suspend(call.params["uuid"])


@route("POST", "/plans/{uuid}/resume")
def resume(call: MoveCall):
    return call.move.resume(call.params["uuid"])


@route("POST", "/plans/{uuid}/cancel")
@route("POST", "/plans/{uuid}/abort")
def cancel(call: MoveCall):
    return call.move.cancel(call.params["uuid"])


@route("POST", "/plans/{uuid}/workloads/list")
def plan_workloads(call: MoveCall):
    return call.move.workloads_wire(call.move.plan(call.params["uuid"]))


@route("POST", "/plans/{uuid}/workloads/{vm_uuid}/action", status=202)
def workload_action(call: MoveCall):
    return call.move.action(call.params["uuid"], call.params["vm_uuid"], call.spec.get("action"))
