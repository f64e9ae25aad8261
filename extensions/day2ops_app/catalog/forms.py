"""A catalog item's form as a pydantic model: types, bounds, patterns and required fields, checked
before anything runs, with one error per field; choices read live from Prism are checked too."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from day2ops_app.catalog.choices import ChoicesUnavailable, PrismChoices, offered_by
from day2ops_app.catalog.model import PICKS_MAX, TEXT_MAX, Input, Item
from day2ops_app.collection import PLACEHOLDER


class FormErrors(Exception):
    def __init__(self, errors: list[dict]):
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = errors


# A value picked from live choices is checked against them later; bounded first, like any text.
Picked = Annotated[str, Field(max_length=TEXT_MAX)]


def _annotation(spec: Input):
    bounds = {"ge": spec.min, "le": spec.max} if spec.type == "integer" else {}
    if spec.type in ("string", "secret"):
        bounds = {
            "pattern": spec.pattern,
            "min_length": int(spec.min) if spec.min is not None else None,
            "max_length": int(spec.max) if spec.max is not None else TEXT_MAX,
        }
    bounds = {k: v for k, v in bounds.items() if v is not None}
    if spec.type == "integer":
        return Annotated[int, Field(strict=False, **bounds)]
    if spec.type == "boolean":
        return bool
    if spec.type == "choice":
        return Literal[tuple(spec.choices)] if spec.choices else Picked
    if spec.type == "multi_choice":
        inner = Literal[tuple(spec.choices)] if spec.choices else Picked
        most = int(spec.max) if spec.max is not None else PICKS_MAX
        return Annotated[list[inner], Field(min_length=1 if spec.required else 0, max_length=most)]
    return Annotated[str, Field(**bounds)]


def form_model(item: Item) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for spec in item.inputs:
        annotation = _annotation(spec)
        if spec.required and spec.default is None:
            fields[spec.name] = (annotation, ...)
        else:
            fields[spec.name] = (annotation | None, spec.default)
    return create_model(f"{item.id}_form", __config__=ConfigDict(extra="forbid"), **fields)


def _message(item: Item, error: dict) -> dict:
    name = str(error["loc"][0]) if error["loc"] else "inputs"
    text = error["msg"]
    if error["type"] == "extra_forbidden":
        text = f"{name} is not an input of {item.id}; its inputs are {', '.join(i.name for i in item.inputs)}"
    elif error["type"] == "missing" or (error["type"] == "too_short" and not error.get("input")):
        text = "required: give a value" if error["type"] == "missing" else "required: choose at least one"
    else:
        spec = next((i for i in item.inputs if i.name == name), None)
        if spec and error["type"] == "string_pattern_mismatch":
            text = pattern_message(spec)
        elif spec and spec.description:
            text = f"{text} ({spec.description})"
    return {"field": name, "message": text}


def pattern_message(spec: Input) -> str:
    """A value that does not match the input's pattern, said in words: the regex means nothing to most."""
    expected = spec.pattern_message or spec.description
    return f"{spec.label}: expected {expected}" if expected else f"{spec.label}: not in the form it takes"


def _placeholder_error(spec: Input, value) -> dict | None:
    """A {name} the playbook will not fill in, said now rather than when the run reaches that VM."""
    if not spec.placeholders or not isinstance(value, str):
        return None
    unknown = sorted(set(PLACEHOLDER.findall(value)) - set(spec.placeholders))
    if not unknown:
        return None
    named = ", ".join("{" + name + "}" for name in spec.placeholders)
    given = ", ".join("{" + name + "}" for name in unknown)
    return {"field": spec.name, "message": f"{given}: not a placeholder of {spec.name}; use {named}"}


def validate_inputs(item: Item, raw: dict, choices: PrismChoices | None) -> dict:
    """The inputs as the playbook will get them, or FormErrors with one message per field."""
    try:
        values = form_model(item).model_validate(raw).model_dump()
    except ValidationError as error:
        errors: dict[str, dict] = {}
        for e in error.errors():
            message = _message(item, e)
            errors.setdefault(message["field"], message)
        raise FormErrors(list(errors.values())) from None
    errors = [error for spec in item.inputs if (error := _placeholder_error(spec, values.get(spec.name)))]
    for spec in item.inputs:
        value = values.get(spec.name)
        if spec.choices_from is None or value in (None, "", []):
            continue
        error = _choice_error(spec, value, values, choices)
        if error:
            errors.append(error)
    if errors:
        raise FormErrors(errors)
    return values


def _choice_error(spec: Input, value, values: dict, choices: PrismChoices | None) -> dict | None:
    """A value of live choices that is not among them now (asked again: the form's list may be old)."""
    cf = spec.choices_from
    source = offered_by(cf.source)
    try:
        if choices is None:
            raise ChoicesUnavailable("Prism Central is not configured")
        offered = choices.choices(
            cf.source, cf.key, values.get(cf.depends_on) if cf.depends_on else None, cf.filter
        )
    except ChoicesUnavailable as error:
        return {"field": spec.name, "message": f"cannot check against {source}: {error}"}
    allowed = {c["value"] for c in offered}
    for chosen in value if isinstance(value, list) else [value]:
        if chosen not in allowed:
            shown = ", ".join(sorted(allowed)[:10]) or "none"
            return {
                "field": spec.name,
                "message": f"{chosen!r} is not offered by {source}; choose one of {shown}",
            }
    return None
