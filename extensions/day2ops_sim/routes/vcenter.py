"""vCenter Automation REST (/api, vSphere 7/8) on its own listener: parse, call the backend, answer.

Answers are bare JSON (no `value` wrapper, unlike the deprecated /rest family), errors are
`{"error_type", "messages"}`, and every call but the login needs `vmware-api-session-id`.
"""

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import APIRouter, Request, Response
from fastapi.datastructures import Headers, QueryParams
from fastapi.responses import JSONResponse

from ..backends.vcenter import (
    CLUSTERS,
    DATACENTER,
    FOLDER_TYPES,
    FOLDERS,
    NETWORKS,
    VCenterBackend,
    VCenterError,
)
from ..core.faults import Fault
from ..state import SimState
from .rest import Route, RouteTable, basic_credentials

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
ERROR_TYPES = {401: "UNAUTHENTICATED", 403: "UNAUTHORIZED", 404: "NOT_FOUND", 503: "SERVICE_UNAVAILABLE"}


def error(err: VCenterError) -> JSONResponse:
    return JSONResponse(err.body(), status_code=err.status)


def fault_answer(fault: Fault) -> JSONResponse:
    """An injected fault as vCenter answers a refusal, its error_type read off the status."""
    err = VCenterError(fault.status, ERROR_TYPES.get(fault.status, "ERROR"), fault.message)
    return JSONResponse(err.body(), status_code=fault.status, headers=fault.headers)


@dataclass
class VCenterCall:
    """A vCenter request as its handler sees it: path parameters, query, headers and the body."""

    state: SimState
    params: dict[str, str]
    query: QueryParams
    headers: Headers
    body: dict

    @property
    def vc(self) -> VCenterBackend:
        return self.state.vcenter

    def act(self, actions: dict[str, Callable[["VCenterCall"], object]]):
        """The handler of the `?action=` the call names; vCenter refuses one it lacks with 400."""
        action = self.query.get("action", "")
        if action not in actions:
            raise VCenterError(400, "INVALID_ARGUMENT", f"Unknown action '{action}' for this resource.")
        return actions[action](self)


async def _body(request: Request) -> dict:
    """The JSON object sent, else an empty one: the tagging actions read optional fields."""
    try:
        parsed = await request.json() if await request.body() else {}
    except ValueError:
        parsed = None
    return parsed if isinstance(parsed, dict) else {}


async def answer(state: SimState, route: Route, request: Request) -> Response:
    """The handler's result for a caller with a live session as JSON, or 204 when None."""
    state.tasks.tick()
    call = VCenterCall(
        state, request.path_params, request.query_params, request.headers, await _body(request)
    )
    try:
        if route.authenticated:
            state.vcenter.session(request.headers.get(SESSION_HEADER))
        result = route.handler(call)
    except VCenterError as err:
        return error(err)
    if result is None:
        return Response(status_code=204)
    return JSONResponse(result, status_code=route.status)


def unserved(rest: str) -> JSONResponse:
    # A vCenter operation the simulator does not serve says so, rather than guessing.
    return error(VCenterError(501, "ERROR", f"/api/{rest} is not served by the day2ops vCenter simulator."))


ROUTES = RouteTable("/api", answer, unserved)
route = ROUTES.route


def router(state: SimState) -> APIRouter:
    return ROUTES.router(state)


def _named(items: list[dict], key: str, query: QueryParams, plural: str) -> list[dict]:
    """The inventory lists filter by names and by their own ids, like the VM list."""
    names = query.getlist("names")
    ids = query.getlist(plural)
    return [i for i in items if (not names or i["name"] in names) and (not ids or i[key] in ids)]


@route("POST", "/session", status=201, authenticated=False)
def login(call: VCenterCall):
    basic = basic_credentials(call.headers.get("authorization", ""))
    if basic is None:
        raise VCenterError(401, "UNAUTHENTICATED", "Authentication required: send HTTP basic credentials.")
    # A bare JSON string, as vCenter answers it.
    return call.vc.login(*basic)


@route("GET", "/session")
def introspect(call: VCenterCall):
    s = call.vc.session(call.headers.get(SESSION_HEADER))
    clock = call.state.clock
    return {
        "user": s["user"],
        "created_time": clock.iso(s["created"]),
        "last_accessed_time": clock.iso(s["last"]),
    }


@route("DELETE", "/session")
def logout(call: VCenterCall):
    return call.vc.logout(call.headers.get(SESSION_HEADER, ""))


@route("GET", "/vcenter/vm")
def list_vms(call: VCenterCall):
    unknown = [k for k in call.query if k not in LIST_PARAMS]
    if unknown:
        raise VCenterError(
            400,
            "INVALID_ARGUMENT",
            f"Unknown filter parameter '{unknown[0]}' (the /api family takes no 'filter.' prefix).",
        )
    return call.vc.list_vms({k: call.query.getlist(k) for k in LIST_PARAMS})


@route("GET", "/vcenter/vm/{vm}")
def get_vm(call: VCenterCall):
    return call.vc.vm(call.params["vm"]).info()


@route("GET", "/vcenter/vm/{vm}/power")
def get_power(call: VCenterCall):
    found = call.vc.vm(call.params["vm"])
    out = {"state": found.power_state}
    if found.power_state == "POWERED_OFF":
        out["clean_power_off"] = found.clean_power_off
    return out


@route("POST", "/vcenter/vm/{vm}/power")
def power(call: VCenterCall):
    return call.vc.power(call.params["vm"], call.query.get("action", ""))


@route("GET", "/vcenter/vm/{vm}/guest/identity")
def guest_identity(call: VCenterCall):
    return call.vc.guest_identity(call.params["vm"])


@route("GET", "/vcenter/cluster")
def clusters(call: VCenterCall):
    return _named(CLUSTERS, "cluster", call.query, "clusters")


@route("GET", "/vcenter/folder")
def folders(call: VCenterCall):
    """Folders by names, ids and one `type`; vCenter refuses a type outside its enum with 400 (V1) [C]."""
    kind = call.query.get("type")
    if kind is not None and kind not in FOLDER_TYPES:
        raise VCenterError(
            400, "INVALID_ARGUMENT", f"type: '{kind}' is not one of {', '.join(FOLDER_TYPES)}."
        )
    return [f for f in _named(FOLDERS, "folder", call.query, "folders") if kind is None or f["type"] == kind]


@route("GET", "/vcenter/datacenter")
def datacenters(call: VCenterCall):
    return _named([DATACENTER], "datacenter", call.query, "datacenters")


@route("GET", "/vcenter/network")
def networks(call: VCenterCall):
    return _named(NETWORKS, "network", call.query, "networks")


@route("GET", "/cis/tagging/category")
def categories(call: VCenterCall):
    return list(call.vc.categories)


@route("GET", "/cis/tagging/category/{category_id}")
def category(call: VCenterCall):
    return call.vc.category(call.params["category_id"])


@route("GET", "/cis/tagging/tag")
def tags(call: VCenterCall):
    return list(call.vc.tags)


@route("GET", "/cis/tagging/tag/{tag_id}")
def tag(call: VCenterCall):
    return call.vc.tag(call.params["tag_id"])


def _tags_for_category(call: VCenterCall):
    return call.vc.tags_for_category(call.body.get("category_id", ""))


def _objects_on_tags(call: VCenterCall):
    return [{"tag_id": t, "object_ids": call.vc.attached_objects(t)} for t in call.body.get("tag_ids") or []]


def _tags_on_object(call: VCenterCall):
    return call.vc.attached_tags(call.body.get("object_id"))


def _tags_on_objects(call: VCenterCall):
    return [{"object_id": o, "tag_ids": call.vc.attached_tags(o)} for o in call.body.get("object_ids") or []]


def _objects_on_tag(call: VCenterCall):
    return call.vc.attached_objects(call.params["tag_id"])


def _attach(call: VCenterCall, attached: bool):
    return call.vc.attach(call.params["tag_id"], call.body.get("object_id"), attached)


@route("POST", "/cis/tagging/tag")
def tag_actions(call: VCenterCall):
    return call.act({"list-tags-for-category": _tags_for_category})


@route("POST", "/cis/tagging/tag-association")
def associations(call: VCenterCall):
    return call.act(
        {
            "list-attached-objects-on-tags": _objects_on_tags,
            "list-attached-tags": _tags_on_object,
            "list-attached-tags-on-objects": _tags_on_objects,
        }
    )


@route("POST", "/cis/tagging/tag-association/{tag_id}")
def association(call: VCenterCall):
    return call.act(
        {
            "list-attached-objects": _objects_on_tag,
            "attach": lambda c: _attach(c, True),
            "detach": lambda c: _attach(c, False),
        }
    )
