"""A run's inputs and a gate's details as people read them: each input under its form label, each chosen
value under the name its dropdown showed (read the way the form's choices endpoint reads them), VMs by
name. Prism unreachable leaves the values as they were stored."""

from __future__ import annotations

from day2ops_app.catalog.choices import ChoicesUnavailable, PrismChoices
from day2ops_app.catalog.model import Item


def vm_names(choices: PrismChoices, ext_ids=()) -> dict[str, str]:
    """VM ext_id -> name, as the VM dropdowns list them (cached briefly by the choices service); read
    again when `ext_ids` (the VMs a run names) holds one the cached list predates, a VM the run created."""
    try:
        return {c["value"]: c["label"] for c in choices.choices("vms", expected=frozenset(ext_ids))}
    except ChoicesUnavailable:
        return {}


def _choice_names(choices: PrismChoices, item: Item, name: str, inputs: dict) -> dict[str, str]:
    spec = item.input(name)
    cf = spec.choices_from
    if cf is None:
        return {}
    parent = inputs.get(cf.depends_on) if cf.depends_on else None
    try:
        return {c["value"]: c["label"] for c in choices.choices(cf.source, cf.key, parent, cf.filter)}
    except ChoicesUnavailable:
        return {}


def _shown(value, names: dict[str, str]) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_shown(v, names) for v in value)
    if isinstance(value, dict):
        # A gate's window or groups: people read "databases: fin-db-01; applications: fin-app-01".
        return "; ".join(f"{str(k).replace('_', ' ')}: {_shown(v, names)}" for k, v in value.items())
    return names.get(value, str(value)) if isinstance(value, str) else str(value)


def _given(value) -> bool:
    return value not in (None, "") and not (isinstance(value, (list, dict)) and not value)


def labelled_inputs(item: Item | None, inputs: dict, choices: PrismChoices) -> list[dict]:
    """[{name, label, value}] in the form's order, the inputs nobody filled in left out."""
    if item is None:
        return [{"name": k, "label": k, "value": _shown(v, {})} for k, v in inputs.items() if _given(v)]
    known = {i.name for i in item.inputs}
    shown = []
    for spec in item.inputs:
        value = inputs.get(spec.name)
        if _given(value):
            names = _choice_names(choices, item, spec.name, inputs)
            shown.append({"name": spec.name, "label": spec.label, "value": _shown(value, names)})
    others = {k: v for k, v in inputs.items() if k not in known}
    return shown + labelled_inputs(None, others, choices)


def labelled_details(details: dict, names: dict[str, str]) -> list[dict]:
    """A playbook gate's details as label/value pairs, VMs by name."""
    return [
        {"label": str(key).replace("_", " "), "value": _shown(value, names)}
        for key, value in details.items()
        if _given(value)
    ]
