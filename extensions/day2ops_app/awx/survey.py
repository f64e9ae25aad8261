"""A catalog item's form as an AWX survey (`survey_spec`), and a form's values as survey answers.

AWX checks a survey with `JobTemplateSurveySpec._validate_spec_data` (awx/api/views/__init__.py) and each
answer with `_survey_element_validation` (awx/main/models/mixins.py); what is built here passes both.
Mapping, for what AWX has no type of its own:
- boolean: multiplechoice `true` / `false`; the playbook gets the string, which `| bool` reads.
- choice with a "" choice: "" is left out (AWX drops blank choices); not answering means the playbook's
  default, as an empty choice does in the app.
- live choices (`choices_from`): multiplechoice / multiselect with the values read from Prism at export
  time when `live` is given; text otherwise. Choices that depend on another input are always text.
  A multi_choice as text is comma-separated: Ansible splits a string on commas for a list option.
- pattern: AWX has no pattern check; the question's description states it.
- secret: a password question. AWX encrypts the answer and shows `$encrypted$`; no default is exported.
"""

from __future__ import annotations

from collections.abc import Callable

from day2ops_app.awx.errors import ExportError
from day2ops_app.catalog.model import TEXT_MAX, Input, Item

# (source, key, odata) -> the values Prism offers now, as the app's form would.
LiveChoices = Callable[[str, str | None, str | None], list[str]]


def variable(spec: Input) -> str:
    """The extra var the app passes; the AWX dispatch backend relies on the same name."""
    return spec.var or spec.name


def _whole(value, field: str, item: Item, spec: Input) -> int | None:
    if value is None:
        return None
    if value != int(value):
        raise ExportError(
            f"item {item.id}: input {spec.name}: {field} {value} is not a whole number; AWX survey limits "
            "are integers, use a whole number"
        )
    return int(value)


def _choices(item: Item, spec: Input, live: LiveChoices | None) -> list[str] | None:
    """The fixed choices, or None when the question must be text."""
    if spec.choices:
        return [c for c in spec.choices if c != ""]
    source = spec.choices_from
    if live is None or source.depends_on:
        return None
    values = live(source.source, source.key, source.filter)
    if not values:
        raise ExportError(
            f"item {item.id}: input {spec.name}: Prism offers no {source.source} to choose from; "
            "export without --prism to ask for it as text"
        )
    return values


def _description(spec: Input, as_text_of: str | None) -> str:
    parts = [spec.description] if spec.description else []
    if spec.pattern:
        parts.append(f"must match {spec.pattern}")
    if as_text_of:
        parts.append(as_text_of)
    return "; ".join(parts)


def question(item: Item, spec: Input, live: LiveChoices | None = None) -> dict:
    q = {
        "question_name": spec.label,
        "variable": variable(spec),
        "required": spec.required,
        "min": None,
        "max": None,
        "default": "",
        "choices": "",
    }
    hint = None
    if spec.type == "string":
        # The app's own bound when the input names none, so AWX refuses what the app would.
        most = TEXT_MAX if spec.max is None else spec.max
        q.update(type="text", min=_whole(spec.min, "min", item, spec), max=_whole(most, "max", item, spec))
        q["default"] = spec.default or ""
    elif spec.type == "integer":
        q.update(
            type="integer", min=_whole(spec.min, "min", item, spec), max=_whole(spec.max, "max", item, spec)
        )
        q["default"] = "" if spec.default is None else int(spec.default)
    elif spec.type == "boolean":
        q.update(type="multiplechoice", choices=["true", "false"])
        q["default"] = "" if spec.default is None else str(bool(spec.default)).lower()
    elif spec.type == "secret":
        q["type"] = "password"
    elif spec.type in ("choice", "multi_choice"):
        choices = _choices(item, spec, live)
        many = spec.type == "multi_choice"
        if choices is None:
            q["type"] = "text"
            what = spec.choices_from.source.replace("_", " ")
            hint = f"{what} from Prism, comma-separated" if many else f"one of the {what} in Prism"
        else:
            q.update(type="multiselect" if many else "multiplechoice", choices=choices)
        q["default"] = _default_choice(item, spec, choices)
    else:
        raise ExportError(
            f"item {item.id}: input {spec.name}: AWX surveys have no {spec.type!r} question; use one of "
            "string, integer, boolean, choice, multi_choice, secret"
        )
    q["question_description"] = _description(spec, hint)
    return q


def _default_choice(item: Item, spec: Input, choices: list[str] | None) -> str:
    defaults = spec.default if isinstance(spec.default, list) else [spec.default]
    # A live default Prism does not offer now (a renamed cluster) is dropped: AWX refuses it.
    defaults = [d for d in defaults if d not in (None, "") and (choices is None or d in choices)]
    return ("\n" if choices is not None else ",").join(str(d) for d in defaults)


def survey_spec(item: Item, live: LiveChoices | None = None) -> dict:
    """`{}` for an item without inputs: AWX refuses a survey without questions."""
    spec = [question(item, i, live) for i in item.inputs]
    return {"name": item.title, "description": item.description, "spec": spec} if spec else {}


def answers(item: Item, values: dict, survey: dict) -> dict:
    """Fixed form values (a schedule's) as answers this survey accepts; secrets are never among them."""
    types = {q["variable"]: q["type"] for q in survey.get("spec", [])}
    out = {}
    for spec in item.inputs:
        value = values.get(spec.name)
        if spec.type == "secret" or value is None:
            continue
        kind = types[variable(spec)]
        if kind == "multiselect":
            out[variable(spec)] = list(value)
        elif isinstance(value, list):
            out[variable(spec)] = ",".join(str(v) for v in value)
        elif isinstance(value, bool):
            out[variable(spec)] = str(value).lower()
        else:
            out[variable(spec)] = value if kind == "integer" else str(value)
    return out
