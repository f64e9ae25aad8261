"""prism handlers: categories (synchronous, as on a local Prism Central) and tasks."""

from ..core import envelope, odata
from ..core.errors import bad_request, not_found
from .common import Call, Listing, Reply, entity_reply, handles, list_reply, reply, select_fields, typed

NS = "prism"
CATEGORIES = "config/categories"
CATEGORY_TYPE = "prism.v4.config.Category"
TASK_TYPE = "prism.v4.config.Task"

CATEGORY_LISTING = Listing(enum_types={"type": "Prism.Config.CategoryType"})
TASK_LISTING = Listing(enum_types={"status": "Prism.Config.TaskStatus"}, default_order="createdTime desc")
EXPANDS = ("associations", "detailedAssociations")


def _expand(call: Call) -> set[str]:
    raw = call.query.get("$expand")
    if not raw:
        return set()
    wanted = {part.strip() for part in raw.split(",") if part.strip()}
    unknown = wanted - call.fields("$expand", frozenset(EXPANDS))
    if unknown:
        raise bad_request(
            NS,
            f"Invalid $expand '{', '.join(sorted(unknown))}': categories expand only "
            f"{' and '.join(EXPANDS)}.",
            "$expand",
            "query",
        )
    return wanted


def _with_associations(call: Call, expand: set[str]):
    """Associations are derived from the VMs that carry each category, so they are never stale."""
    if not expand:
        return None
    members: dict[str, list[str]] = {}
    for vm in call.state.vmm.vms:
        for ref in vm.get("categories") or ():
            members.setdefault(ref["extId"], []).append(vm["extId"])

    def shape(category: dict) -> dict:
        out = dict(category)
        vms = members.get(category["extId"], [])
        if "associations" in expand and vms:
            out["associations"] = [
                {
                    "categoryId": category["extId"],
                    "resourceType": "VM",
                    "resourceGroup": "ENTITY",
                    "count": len(vms),
                    "$objectType": "prism.v4.config.AssociationSummary",
                }
            ]
        if "detailedAssociations" in expand and vms:
            out["detailedAssociations"] = [
                {
                    "categoryId": category["extId"],
                    "resourceType": "VM",
                    "resourceGroup": "ENTITY",
                    "resourceId": vm_id,
                    "$objectType": "prism.v4.config.AssociationDetail",
                }
                for vm_id in vms
            ]
        return out

    return shape


@handles(NS, "list_categories")
def list_categories(call: Call):
    shape = _with_associations(call, _expand(call))
    return list_reply(
        call,
        call.state.categories.categories,
        CATEGORY_TYPE,
        CATEGORY_LISTING,
        CATEGORIES,
        shape=shape,
        projection_type="prism.v4.config.CategoryProjection",
    )


@handles(NS, "get_category_by_id")
def get_category_by_id(call: Call):
    ext_id = call.params["extId"]
    category = call.state.categories.get(ext_id)
    shape = _with_associations(call, _expand(call))
    return entity_reply(
        call,
        shape(category) if shape else category,
        CATEGORY_TYPE,
        CATEGORIES,
        call.state.categories.categories.etag(ext_id),
    )


@handles(NS, "create_category")
def create_category(call: Call):
    category = call.state.categories.create(call.json_body())
    data = typed(call, category, CATEGORY_TYPE, CATEGORIES)
    return reply(call, data, status=201)


@handles(NS, "update_category_by_id")
def update_category_by_id(call: Call):
    category = call.state.categories.update(call.params["extId"], call.json_body(), call.if_match)
    message = envelope.stamp(
        {
            "message": f"Category {category['key']}:{category['value']} updated.",
            "severity": "INFO",
            "code": "PRISM-10000",
            "locale": "en_US",
        },
        "prism.v4.error.AppMessage",
        call.version,
    )
    return reply(call, [message])


@handles(NS, "delete_category_by_id")
def delete_category_by_id(call: Call):
    ext_id = call.params["extId"]
    usage = (
        call.state.vmm.category_usage().get(ext_id, 0) if ext_id in call.state.categories.categories else 0
    )
    call.state.categories.delete(ext_id, call.if_match, usage)
    return Reply(204, None)


@handles(NS, "list_tasks")
def list_tasks(call: Call):
    return list_reply(call, _listed_tasks(call), TASK_TYPE, TASK_LISTING, None)


def _listed_tasks(call: Call) -> list[dict]:
    """The wire form of every task, or, when the `$filter` can only match tasks it names by extId (a
    client polling its own), of those alone: a poll of 40 among thousands of tasks wires 40."""
    tasks = call.state.tasks
    if not call.query.get("$filter"):
        return tasks.wire_all()
    try:
        predicate = odata.compile_filter(call.query["$filter"], None, TASK_LISTING.enum_types)
    except odata.ODataError:
        return tasks.wire_all()  # list_reply answers the error
    named = [t for t in getattr(predicate, "terms", ()) if t.path == "extId" and t.op in ("eq", "in")]
    if not named:
        return tasks.wire_all()
    wanted = {value for term in named for _kind, value in term.values}
    return tasks.wire_all(lambda task: task.ext_id in wanted)


def _task(call: Call, ext_id: str):
    task = call.state.tasks.get(ext_id)
    if task is None:
        raise not_found(NS, "Task", ext_id)
    return task


@handles(NS, "get_task_by_id")
def get_task_by_id(call: Call):
    task = _task(call, call.params["extId"])
    data = task.wire(call.state.clock.now())
    fields = select_fields(call, None)
    if fields:
        data = odata.project(data, fields)
    return reply(call, typed(call, data, TASK_TYPE))  # prism.v4.config.Task has no `links`


@handles(NS, "list_task_entities")
def list_task_entities(call: Call):
    task = _task(call, call.params["taskExtId"])
    return list_reply(
        call,
        [e.wire() for e in task.entities],
        "prism.v4.config.EntityReference",
        Listing(filterable=frozenset({"extId", "name", "rel"})),
        None,
    )
