"""The catalog: the items a user may run, each with its form, and live choices from Prism."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from day2ops_app.catalog.choices import ChoicesUnavailable
from day2ops_app.catalog.forms import FormErrors, validate_inputs
from day2ops_app.catalog.model import Item
from day2ops_app.catalog.scope import preview, scope_of
from day2ops_app.db.tables import User
from day2ops_app.deps import CurrentUser
from day2ops_app.schemas import PreviewRequest

router = APIRouter(prefix="/api/catalog", tags=["catalog"])


def may_run(user: User, item: Item) -> bool:
    return bool(set(item.access.roles) & set(user.roles) or set(item.access.groups) & set(user.groups or []))


def runnable_item(request: Request, user: User, item_id: str) -> Item:
    item = request.app.state.catalog.get(item_id)
    if item is None:
        raise HTTPException(404, f"no catalog item {item_id}")
    if not may_run(user, item):
        raise HTTPException(403, f"{user.username} may not run {item_id}")
    return item


@router.get("")
def list_items(request: Request, user: CurrentUser) -> list[dict]:
    return [
        item.model_dump(include={"id", "title", "group", "description", "destructive", "approval"})
        for item in request.app.state.catalog.items.values()
        if may_run(user, item)
    ]


@router.get("/{item_id}")
def get_item(item_id: str, request: Request, user: CurrentUser) -> dict:
    return runnable_item(request, user, item_id).model_dump(exclude={"extra_vars"})


@router.get("/{item_id}/choices/{input_name}")
def choices(
    item_id: str,
    input_name: str,
    request: Request,
    user: CurrentUser,
    parent: Annotated[
        str | None,
        Query(description="the chosen value of the input these choices depend on (choices_from.depends_on)"),
    ] = None,
) -> list[dict]:
    """The input's choices: static, or read from Prism now (recovery points need the chosen VM)."""
    item = runnable_item(request, user, item_id)
    spec = next((i for i in item.inputs if i.name == input_name), None)
    if spec is None:
        raise HTTPException(404, f"{item_id} has no input {input_name}")
    if spec.choices_from is None:
        return [{"value": c, "label": c} for c in spec.choices]
    cf = spec.choices_from
    try:
        return request.app.state.choices.choices(cf.source, cf.key, parent, cf.filter)
    except ChoicesUnavailable as error:
        raise HTTPException(503, f"Prism Central did not answer: {error}") from None


@router.post("/{item_id}/preview")
async def preview_scope(item_id: str, body: PreviewRequest, request: Request, user: CurrentUser) -> dict:
    """The VMs a run with these inputs would touch, read from Prism now: how many, and which."""
    item = runnable_item(request, user, item_id)
    choices = request.app.state.choices
    try:
        values = await run_in_threadpool(validate_inputs, item, body.inputs, choices)
    except FormErrors as error:
        return JSONResponse({"detail": f"the inputs of {item.id} are not valid", "errors": error.errors}, 422)
    return await scope_preview(request, item, values)


async def scope_preview(request: Request, item: Item, values: dict) -> dict:
    """The preview of an item's scope for these (checked) values; Prism's refusal of it as a 422."""
    from ansible_collections.day2ops.ahv.plugins.module_utils._http import ApiError

    scope = scope_of(item, values)
    if scope is None:
        return {"scope": None, "count": None, "vms": []}
    try:
        return await run_in_threadpool(preview, request.app.state.choices.client(), scope)
    except ApiError as error:
        if error.status and 400 <= int(error.status) < 500:  # Prism refused the scope (a bad $filter)
            raise HTTPException(422, f"Prism Central refused the scope: {error}") from None
        raise HTTPException(503, f"Prism Central did not answer: {error}") from None
    except ChoicesUnavailable as error:
        raise HTTPException(503, f"Prism Central did not answer: {error}") from None
