"""The VMs a run will touch, from the catalog item and the form's values: the generated inventory of a
run, and the preview a form shows before it is submitted."""

from __future__ import annotations

import re
from dataclasses import dataclass

from jinja2.sandbox import ImmutableSandboxedEnvironment

from day2ops_app.catalog.model import Item
from day2ops_app.collection import list_vms

_jinja = ImmutableSandboxedEnvironment()
_WHOLE = re.compile(r"^\{\{\s*([a-z][a-z0-9_]*)\s*\}\}$")
PREVIEW_VMS = 50  # named in the preview; the count is always whole


def render(value, inputs: dict):
    """Catalog templates over the form's values; "{{ name }}" alone keeps the value's type (a list stays)."""
    if isinstance(value, str):
        whole = _WHOLE.match(value)
        if whole:
            return inputs.get(whole.group(1))
        return _jinja.from_string(value).render(**inputs) if "{" in value else value
    if isinstance(value, dict):
        rendered = {k: render(v, inputs) for k, v in value.items()}
        return {k: v for k, v in rendered.items() if v is not None}
    if isinstance(value, list):
        return [render(v, inputs) for v in value]
    return value


@dataclass
class Scope:
    """Category key -> value(s), ANDed across keys, and an OData $filter on the VMs."""

    categories: dict
    filter: str | None

    def as_dict(self) -> dict:
        return {"categories": self.categories, "filter": self.filter}


def scope_of(item: Item, values: dict) -> Scope | None:
    """The item's scope with the form's values filled in; empty values leave their Category out."""
    spec = item.inventory or item.scope
    if spec is None:
        return None
    categories = {k: v for k, v in render(spec.categories, values).items() if v not in (None, "", [])}
    return Scope(categories, render(spec.filter, values) or None if spec.filter else None)


def preview(client, scope: Scope) -> dict:
    """How many VMs are in scope and which (the first PREVIEW_VMS by name), read from Prism now."""
    vms, _ = list_vms(
        client,
        odata_filter=scope.filter,
        categories=scope.categories or None,
        select=["name", "powerState"],
        order_by="name",
    )
    return {
        "scope": scope.as_dict(),
        "count": len(vms),
        "vms": [
            {"ext_id": vm.get("extId"), "name": vm.get("name"), "power_state": vm.get("powerState")}
            for vm in vms[:PREVIEW_VMS]
        ],
    }
