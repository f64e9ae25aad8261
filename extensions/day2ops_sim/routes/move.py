"""Nutanix Move REST v2 (/move/v2) on its own listener: parse, call the backend, answer.

Bodies are matched without regard to key case (folded to lower case before the backend sees them),
the token goes in `Authorization` with or without `Bearer`, and errors are `{"ErrorCode", "Message"}`.
"""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ..backends.move import API_VERSION, VERSION, MoveError, bad
from ..state import SimState


def fold(value):
    """Keys in lower case, all the way down: Move matches `Spec`, `spec` and `SPEC` alike."""
    if isinstance(value, dict):
        return {str(k).lower(): fold(v) for k, v in value.items()}
    if isinstance(value, list):
        return [fold(v) for v in value]
    return value


def error(err: MoveError) -> JSONResponse:
    return JSONResponse(err.body(), status_code=err.status)


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


def _spec(body: dict) -> dict:
    spec = body.get("spec")
    return spec if isinstance(spec, dict) else {}


def router(state: SimState) -> APIRouter:
    move = state.move
    api = APIRouter(prefix="/move/v2")

    async def call(request: Request, act, status: int = 200, auth: bool = True):
        """`act(body)` for an authenticated caller; its result as JSON (None: an empty object)."""
        state.tasks.tick()
        try:
            if auth:
                move.check_token(request.headers.get("authorization"))
            result = act(await _body(request))
        except MoveError as err:
            return error(err)
        return JSONResponse({} if result is None else result, status_code=status)

    @api.post("/users/login")
    async def login(request: Request):
        def act(body):
            spec = _spec(body)
            token, expiry = move.login(str(spec.get("username") or ""), str(spec.get("password") or ""))
            return {"Status": {"Token": token, "ExpiryDate": state.clock.iso(expiry)}}

        return await call(request, act, auth=False)

    @api.post("/token/revoke")
    async def revoke(request: Request):
        return await call(request, lambda body: move.revoke(str(_spec(body).get("token") or "")))

    @api.get("/appinfo")
    async def appinfo(request: Request):
        return await call(request, lambda body: {"Status": {"Version": VERSION, "APIVersion": API_VERSION}})

    @api.post("/providers/list")
    async def providers(request: Request):
        def act(body):
            role = body.get("role")
            entities = move.list_providers(role if isinstance(role, int) else None)
            return {"Entities": entities, "MetaData": {"Count": len(entities)}}

        return await call(request, act)

    @api.post("/providers")
    async def add_provider(request: Request):
        return await call(request, lambda body: move.add_provider(_spec(body)), status=201)

    @api.get("/providers/{uuid}")
    async def provider(uuid: str, request: Request):
        return await call(request, lambda body: move.provider(uuid))

    @api.delete("/providers/{uuid}")
    async def delete_provider(uuid: str, request: Request):
        return await call(request, lambda body: move.delete_provider(uuid))

    @api.post("/providers/{uuid}/workloads/list")
    async def provider_workloads(uuid: str, request: Request):
        return await call(request, lambda body: move.source_workloads(uuid, body))

    def list_plans(request: Request, body: dict) -> dict:
        query = {k.lower(): v.lower() for k, v in request.query_params.items()}
        details = (
            query.get("includeentitydetails") == "true"
            or query.get("includevmdetails") == "true"
            or bool(_spec(body).get("includevmdetails"))
        )
        entities = [move.plan_wire(p, details) for p in move.plans.values()]
        return {"Entities": entities, "MetaData": {"Count": len(entities)}}

    @api.post("/plans/list")
    async def plans(request: Request):
        return await call(request, lambda body: list_plans(request, body))

    @api.get("/plans")
    async def plans_get(request: Request):
        return await call(request, lambda body: list_plans(request, body))

    @api.post("/plans")
    async def create_plan(request: Request):
        def act(body):
            plan = move.create_plan(_spec(body))
            return {"MetaData": {"UUID": plan.uuid}, "Spec": plan.spec}

        return await call(request, act, status=201)

    @api.get("/plans/{uuid}")
    async def plan(uuid: str, request: Request):
        return await call(request, lambda body: move.plan_wire(move.plan(uuid), True))

    @api.delete("/plans/{uuid}")
    async def delete_plan(uuid: str, request: Request):
        return await call(request, lambda body: move.delete_plan(uuid))

    @api.post("/plans/{uuid}/prepare")
    async def prepare(uuid: str, request: Request):
        return await call(request, lambda body: move.prepare(uuid, _spec(body)))

    @api.post("/plans/{uuid}/readiness")
    async def readiness(uuid: str, request: Request):
        return await call(request, lambda body: move.readiness(uuid))

    @api.post("/plans/{uuid}/start")
    async def start(uuid: str, request: Request):
        # Spec.Time (S2) or Spec.Frequency (S5), the snapshot interval, is accepted and has no effect here.
        return await call(request, lambda body: move.start(uuid), status=202)

    @api.post("/plans/{uuid}/suspend")
    async def suspend(uuid: str, request: Request):
        return await call(request, lambda body: move.suspend(uuid))

    @api.post("/plans/{uuid}/resume")
    async def resume(uuid: str, request: Request):
        return await call(request, lambda body: move.resume(uuid))

    @api.post("/plans/{uuid}/cancel")
    @api.post("/plans/{uuid}/abort")
    async def cancel(uuid: str, request: Request):
        return await call(request, lambda body: move.cancel(uuid))

    @api.post("/plans/{uuid}/workloads/list")
    async def plan_workloads(uuid: str, request: Request):
        return await call(request, lambda body: move.workloads_wire(move.plan(uuid)))

    @api.post("/plans/{uuid}/workloads/{vm_uuid}/action")
    async def workload_action(uuid: str, vm_uuid: str, request: Request):
        return await call(
            request, lambda body: move.action(uuid, vm_uuid, _spec(body).get("action")), status=202
        )

    @api.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    def unserved(rest: str):
        # Paths a real Move lacks (plan-level cutover, /vms) and ones the simulator does not serve.
        return error(MoveError(501, f"/move/v2/{rest} is not served by the day2ops Move simulator", 20501))

    return api
