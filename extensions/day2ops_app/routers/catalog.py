"""The catalog: the items a user may run, each with its form, and live choices from Prism."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from day2ops_app.catalog.choices import ChoicesUnavailable
from day2ops_app.catalog.forms import FormErrors, validate_inputs
from day2ops_app.deps import AppCatalog, Choices, CurrentUser, RunnableItem, scope_preview
from day2ops_app.schemas import PreviewRequest

router = APIRouter(prefix="/api/catalog", tags=["catalog"])


@router.get("", response_model=list[dict])
async def list_items(user: CurrentUser, catalog: AppCatalog):
    """The items the caller may run, in the catalog's order."""
    return Response(catalog.listing(user.roles, user.groups or []), media_type="application/json")


@router.get("/{item_id}")
def get_item(item: RunnableItem) -> dict:
    return item.model_dump(exclude={"extra_vars"})


@router.get("/{item_id}/choices/{input_name}", response_model=list[dict])
async def choices(
    item: RunnableItem,
    input_name: str,
    choices: Choices,
    parent: Annotated[
        str | None,
        Query(description="the chosen value of the input these choices depend on (choices_from.depends_on)"),
    ] = None,
):
    """The input's choices: static, or read now from Prism (recovery points need the chosen VM) or from the
    site's wave file. A cached list is served as it is, on the event loop; a read waits in a worker thread."""
    spec = next((i for i in item.inputs if i.name == input_name), None)
    if spec is None:
        raise HTTPException(404, f"{item.id} has no input {input_name}")
    if spec.choices_from is None:
        return [{"value": c, "label": c} for c in spec.choices]
    cf = spec.choices_from
    values = choices.cached(cf.source, cf.key, cf.filter)
    if values is None:
        try:
            values = await run_in_threadpool(choices.choices, cf.source, cf.key, parent, cf.filter)
        except ChoicesUnavailable as error:
            # A wave file's error names the file itself.
            raise HTTPException(
                503, str(error) if cf.source == "waves" else f"Prism Central did not answer: {error}"
            ) from None
    return Response(values.json, media_type="application/json")


@router.post("/{item_id}/preview")
async def preview_scope(item: RunnableItem, body: PreviewRequest, choices: Choices) -> dict:
    """The VMs a run with these inputs would touch, read from Prism now: how many, and which."""
    try:
        values = await run_in_threadpool(validate_inputs, item, body.inputs, choices)
    except FormErrors as error:
        return JSONResponse({"detail": f"the inputs of {item.id} are not valid", "errors": error.errors}, 422)
    return await scope_preview(choices, item, values)
