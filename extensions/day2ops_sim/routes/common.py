"""What every handler uses: the parsed call, the reply, the registry, and the envelope helpers."""

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from .. import conformance
from ..conformance import OperationSpec
from ..core import envelope, odata
from ..core.errors import bad_request
from ..core.store import Collection
from ..state import SimState


@dataclass
class Call:
    state: SimState
    namespace: str
    version: str
    operation: str
    response_type: str
    method: str
    path: str
    base_url: str
    url: str
    params: dict[str, str]
    query: dict[str, str]
    headers: dict[str, str]
    body: Any = None
    spec: OperationSpec | None = None

    def fields(self, option: str, fallback: frozenset[str] | None) -> frozenset[str] | None:
        """The fields a query option accepts at this call's version: its SDK release's list, else
        `fallback`."""
        listed = self.spec.fields(option) if self.spec else None
        return fallback if listed is None else listed

    @property
    def if_match(self) -> str | None:
        return self.headers.get("if-match")

    def entity_href(self, collection_path: str, ext_id: str) -> str:
        return f"{self.base_url}/api/{self.namespace}/{self.version}/{collection_path}/{ext_id}"

    def json_body(self, required: bool = True) -> dict:
        if self.body is None:
            if required:
                raise bad_request(self.namespace, "A JSON request body is required.", "", "body")
            return {}
        if not isinstance(self.body, dict):
            raise bad_request(self.namespace, "The request body must be a JSON object.", "", "body")
        return self.body


@dataclass
class Reply:
    status: int
    body: dict | None
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Call], Reply]
HANDLERS: dict[tuple[str, str], Handler] = {}


def handles(namespace: str, operation: str) -> Callable[[Handler], Handler]:
    """Register a handler for the SDK operation of that name; the versions serving it come from
    sdk_versions/ (an operation absent from a segment's SDK release answers the gateway's 404)."""

    def register(fn: Handler) -> Handler:
        HANDLERS[(namespace, operation)] = fn
        return fn

    return register


def reply(call: Call, data, *, status: int = 200, headers: dict[str, str] | None = None, **meta) -> Reply:
    return Reply(
        status,
        envelope.body(call.response_type, call.version, data, envelope.metadata(call.url, **meta)),
        headers or {},
    )


def typed(call: Call, obj: dict, object_type: str, collection_path: str | None = None) -> dict:
    """The object as Prism returns it: `$objectType`, `$reserved`, and a self link for entities."""
    out = dict(obj)
    if collection_path and "extId" in out:
        out["links"] = [envelope.link(call.entity_href(collection_path, out["extId"]), "self")]
    return envelope.stamp(out, object_type, call.version)


def entity_reply(call: Call, obj: dict, object_type: str, collection_path: str, etag: str | None) -> Reply:
    data = typed(call, obj, object_type, collection_path)
    headers = {}
    if etag:
        # The SDK copies the header into `$reserved.ETag`; Prism's bodies carry it there too.
        data["$reserved"] = {**data["$reserved"], "ETag": etag}
        headers["ETag"] = etag
    return reply(call, data, headers=headers)


def task_reply(call: Call, task) -> Reply:
    ref = envelope.stamp({"extId": task.ext_id}, "prism.v4.config.TaskReference", call.version)
    # Every namespace's versions are served by prism too, so the task link keeps the caller's version.
    href = f"{call.base_url}/api/prism/{call.version}/config/tasks/{quote(task.ext_id, safe='')}"
    return reply(call, ref, status=202, extra_links=[envelope.link(href, "task")])


@dataclass
class Listing:
    """An OData-shaped list request over one resource.

    The fields each option accepts come from the SDK release of the call's version (Call.fields); the
    sets here serve only operations whose releases list none.
    """

    filterable: frozenset[str] | None = None
    sortable: frozenset[str] | None = None
    selectable: frozenset[str] | None = None
    enum_types: dict[str, str] = field(default_factory=dict)
    default_order: str | None = None


def select_fields(call: Call, selectable: frozenset[str] | None) -> list[str] | None:
    if not call.query.get("$select"):
        return None
    try:
        return odata.parse_select(call.query["$select"], call.fields("$select", selectable))
    except odata.ODataError as err:
        raise bad_request(call.namespace, err.message, err.option, "query") from err


def list_reply(
    call: Call,
    items: Iterable[dict],
    item_type: str,
    listing: Listing,
    collection_path: str | None,
    shape: Callable[[dict], dict] | None = None,
    projection_type: str | None = None,
) -> Reply:
    try:
        page, limit = odata.parse_paging(call.query.get("$page"), call.query.get("$limit"))
        predicate = (
            odata.compile_filter(
                call.query["$filter"], call.fields("$filter", listing.filterable), listing.enum_types
            )
            if call.query.get("$filter")
            else None
        )
        order_text = call.query.get("$orderby") or listing.default_order
        order = (
            odata.compile_orderby(
                order_text, call.fields("$orderby", listing.sortable) if call.query.get("$orderby") else None
            )
            if order_text
            else None
        )
    except odata.ODataError as err:
        raise bad_request(call.namespace, err.message, err.option, "query") from err
    fields = select_fields(call, listing.selectable)
    if isinstance(items, Collection):
        key = (call.query.get("$filter") or None, order_text or "")
        total, window = items.select(predicate, order, key, page * limit, (page + 1) * limit)
    else:
        matched = [i for i in items if predicate(i)] if predicate else list(items)
        if order:
            matched = order(matched)
        total = len(matched)
        window = matched[page * limit : (page + 1) * limit]
    object_type = projection_type if fields and projection_type else item_type

    def wire(item: dict) -> dict:
        out = shape(item) if shape else item
        if fields:
            out = odata.project(out, fields)
        return typed(call, out, object_type, collection_path)

    data = _rendered(call, items, window, wire, (object_type, tuple(fields or ()), collection_path, shape))
    query = {k: v for k, v in call.query.items() if k not in ("$page", "$limit")}
    links = envelope.paging_links(call.base_url + call.path, query, page, limit, total)
    body = envelope.body(
        call.response_type,
        call.version,
        data or None,
        envelope.metadata(call.url, paginated=True, total=total, extra_links=links),
    )
    return Reply(200, body)


def _rendered(call: Call, items, window: list[dict], wire: Callable[[dict], dict], view: tuple) -> list:
    """The page's items in wire form; from a Collection, as JSON already in the segment's shape, each
    rendered once until the entity changes, so a page costs what it shows, not what it shapes."""
    segment = conformance.spec(call.namespace, call.version) if call.spec else None
    kind = segment.item_kind(call.spec.response_type) if segment else None
    if not isinstance(items, Collection) or kind is None:
        return [wire(item) for item in window]

    def render(item: dict) -> envelope.Fragment:
        return envelope.Fragment(json.dumps(segment.shape(wire(item), kind), separators=(",", ":")))

    full_view = (call.namespace, call.version, call.base_url, *view)
    return [items.rendered(item, full_view, render) for item in window]
