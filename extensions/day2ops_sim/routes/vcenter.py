"""vCenter Automation REST (/api, vSphere 7/8) on its own listener: parse, call the backend, answer.

Answers are bare JSON (no `value` wrapper, unlike the deprecated /rest family), errors are
`{"error_type", "messages"}`, and every call but the login needs `vmware-api-session-id`.
"""

import base64
import binascii

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from ..backends.vcenter import CLUSTERS, DATACENTER, FOLDER_TYPES, FOLDERS, NETWORKS, VCenterError
from ..state import SimState

LIST_PARAMS = (
    "vms",
    "names",
    "folders",
    "datacenters",
    "hosts",
    "clusters",
    "resource_pools",
    "power_states",
)
SESSION_HEADER = "vmware-api-session-id"


def error(err: VCenterError) -> JSONResponse:
    return JSONResponse(err.body(), status_code=err.status)


def _basic(request: Request) -> tuple[str, str]:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("basic "):
        try:
            user, _, password = base64.b64decode(auth[6:].strip()).decode().partition(":")
            return user, password
        except (binascii.Error, UnicodeDecodeError):
            pass
    raise VCenterError(401, "UNAUTHENTICATED", "Authentication required: send HTTP basic credentials.")


def _named(items: list[dict], key: str, request: Request, plural: str) -> list[dict]:
    """The inventory lists filter by names and by their own ids, like the VM list."""
    names = request.query_params.getlist("names")
    ids = request.query_params.getlist(plural)
    return [i for i in items if (not names or i["name"] in names) and (not ids or i[key] in ids)]


def _folders(request: Request) -> list[dict]:
    """Folders by names, ids and one `type`; vCenter refuses a type outside its enum with 400 (V1) [C]."""
    kind = request.query_params.get("type")
    if kind is not None and kind not in FOLDER_TYPES:
        raise VCenterError(
            400, "INVALID_ARGUMENT", f"type: '{kind}' is not one of {', '.join(FOLDER_TYPES)}."
        )
    return [f for f in _named(FOLDERS, "folder", request, "folders") if kind is None or f["type"] == kind]


def router(state: SimState) -> APIRouter:
    vc = state.vcenter
    api = APIRouter(prefix="/api")

    def call(request: Request, act, status: int = 200):
        """`act()` for a caller with a live session; its result as JSON, or 204 when None."""
        state.tasks.tick()
        try:
            vc.session(request.headers.get(SESSION_HEADER))
            result = act()
        except VCenterError as err:
            return error(err)
        if result is None:
            return Response(status_code=204)
        return JSONResponse(result, status_code=status)

    @api.post("/session")
    def login(request: Request):
        try:
            token = vc.login(*_basic(request))
        except VCenterError as err:
            return error(err)
        # A bare JSON string, as vCenter answers it.
        return JSONResponse(token, status_code=201)

    @api.get("/session")
    def introspect(request: Request):
        def act():
            s = vc.session(request.headers.get(SESSION_HEADER))
            return {
                "user": s["user"],
                "created_time": state.clock.iso(s["created"]),
                "last_accessed_time": state.clock.iso(s["last"]),
            }

        return call(request, act)

    @api.delete("/session")
    def logout(request: Request):
        return call(request, lambda: vc.logout(request.headers.get(SESSION_HEADER, "")))

    @api.get("/vcenter/vm")
    def list_vms(request: Request):
        unknown = [k for k in request.query_params if k not in LIST_PARAMS]
        filters = {k: request.query_params.getlist(k) for k in LIST_PARAMS}

        def act():
            if unknown:
                raise VCenterError(
                    400,
                    "INVALID_ARGUMENT",
                    f"Unknown filter parameter '{unknown[0]}' (the /api family takes no 'filter.' prefix).",
                )
            return vc.list_vms(filters)

        return call(request, act)

    @api.get("/vcenter/vm/{vm}")
    def get_vm(vm: str, request: Request):
        return call(request, lambda: vc.vm(vm).info())

    @api.get("/vcenter/vm/{vm}/power")
    def get_power(vm: str, request: Request):
        def act():
            found = vc.vm(vm)
            out = {"state": found.power_state}
            if found.power_state == "POWERED_OFF":
                out["clean_power_off"] = found.clean_power_off
            return out

        return call(request, act)

    @api.post("/vcenter/vm/{vm}/power")
    def power(vm: str, request: Request):
        return call(request, lambda: vc.power(vm, request.query_params.get("action", "")))

    @api.get("/vcenter/vm/{vm}/guest/identity")
    def guest_identity(vm: str, request: Request):
        return call(request, lambda: vc.guest_identity(vm))

    @api.get("/vcenter/cluster")
    def clusters(request: Request):
        return call(request, lambda: _named(CLUSTERS, "cluster", request, "clusters"))

    @api.get("/vcenter/folder")
    def folders(request: Request):
        return call(request, lambda: _folders(request))

    @api.get("/vcenter/datacenter")
    def datacenters(request: Request):
        return call(request, lambda: _named([DATACENTER], "datacenter", request, "datacenters"))

    @api.get("/vcenter/network")
    def networks(request: Request):
        return call(request, lambda: _named(NETWORKS, "network", request, "networks"))

    @api.get("/cis/tagging/category")
    def categories(request: Request):
        return call(request, lambda: list(vc.categories))

    @api.get("/cis/tagging/category/{category_id}")
    def category(category_id: str, request: Request):
        return call(request, lambda: vc.category(category_id))

    @api.get("/cis/tagging/tag")
    def tags(request: Request):
        return call(request, lambda: list(vc.tags))

    @api.get("/cis/tagging/tag/{tag_id}")
    def tag(tag_id: str, request: Request):
        return call(request, lambda: vc.tag(tag_id))

    async def body(request: Request) -> dict:
        try:
            parsed = await request.json() if await request.body() else {}
        except ValueError:
            parsed = None
        return parsed if isinstance(parsed, dict) else {}

    def unknown_action(action: str):
        raise VCenterError(400, "INVALID_ARGUMENT", f"Unknown action '{action}' for this resource.")

    @api.post("/cis/tagging/tag")
    async def tag_actions(request: Request):
        action = request.query_params.get("action", "")
        spec = await body(request)
        if action == "list-tags-for-category":
            return call(request, lambda: vc.tags_for_category(spec.get("category_id", "")))
        return call(request, lambda: unknown_action(action))

    @api.post("/cis/tagging/tag-association")
    async def associations(request: Request):
        action = request.query_params.get("action", "")
        spec = await body(request)
        if action == "list-attached-objects-on-tags":
            return call(
                request,
                lambda: [
                    {"tag_id": t, "object_ids": vc.attached_objects(t)} for t in spec.get("tag_ids") or []
                ],
            )
        if action == "list-attached-tags":
            return call(request, lambda: vc.attached_tags(spec.get("object_id")))
        if action == "list-attached-tags-on-objects":
            return call(
                request,
                lambda: [
                    {"object_id": o, "tag_ids": vc.attached_tags(o)} for o in spec.get("object_ids") or []
                ],
            )
        return call(request, lambda: unknown_action(action))

    @api.post("/cis/tagging/tag-association/{tag_id}")
    async def association(tag_id: str, request: Request):
        action = request.query_params.get("action", "")
        spec = await body(request)
        if action == "list-attached-objects":
            return call(request, lambda: vc.attached_objects(tag_id))
        if action in ("attach", "detach"):
            return call(request, lambda: vc.attach(tag_id, spec.get("object_id"), action == "attach"))
        return call(request, lambda: unknown_action(action))

    @api.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    def unserved(rest: str):
        # A vCenter operation the simulator does not serve says so, rather than guessing.
        return error(
            VCenterError(501, "ERROR", f"/api/{rest} is not served by the day2ops vCenter simulator.")
        )

    return api
