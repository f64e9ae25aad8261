"""Catalog items as they are written in `catalog/*.yml`: a playbook, its typed form, who may run it,
and its approval policy. Loading fails with the file, the item and the field that is wrong."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, computed_field, model_validator

InputType = Literal["string", "integer", "boolean", "choice", "multi_choice", "secret"]
ChoiceSource = Literal[
    "clusters", "category_values", "vms", "recovery_points", "templates", "template_versions", "waves"
]
NAME = r"^[a-z][a-z0-9_]*$"
# The longest text one input takes, and the most values one multi_choice picks, unless the input's own
# `max` says otherwise: what a user sends is stored with the run and handed to the playbook.
TEXT_MAX = 1000
PICKS_MAX = 1000


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChoicesFrom(Strict):
    """Choices read live when the form is shown, and checked again on submit: from Prism, or (waves) from
    the site's wave file, migration_wave_file in DAY2OPS_SITE_VARS_FILE."""

    source: ChoiceSource
    key: str | None = Field(None, description="category_values: the Category key, e.g. Department")
    vm_input: str | None = Field(None, description="recovery_points: the input that names the VM")
    template_input: str | None = Field(
        None, description="template_versions: the input that names the template"
    )
    filter: str | None = Field(None, description="vms: an OData $filter narrowing the list")

    @model_validator(mode="after")
    def _needs(self):
        if self.source == "category_values" and not self.key:
            raise ValueError("choices_from.key: name the Category key whose values are the choices")
        if self.source == "recovery_points" and not self.vm_input:
            raise ValueError("choices_from.vm_input: name the input that picks the VM")
        if self.source == "template_versions":
            if not self.template_input:
                raise ValueError("choices_from.template_input: name the input that picks the template")
            if self.vm_input:
                raise ValueError("choices_from.vm_input: template_versions depend on template_input only")
        return self

    @computed_field
    @property
    def depends_on(self) -> str | None:
        """The input whose chosen value these choices need (`?parent=` on the choices endpoint)."""
        return self.vm_input or self.template_input


class Input(Strict):
    name: str = Field(pattern=NAME)
    label: str
    type: InputType
    description: str = ""
    required: bool = False
    default: Any = None
    min: float | None = None
    max: float | None = None
    pattern: str | None = None
    # A person never reads the regex: a value that does not match is refused with these words.
    pattern_message: str | None = Field(
        None, description="what a value matching `pattern` looks like, in words; the description by default"
    )
    choices: list[str] = []
    choices_from: ChoicesFrom | None = None
    var: str | None = Field(
        None, pattern=NAME, description="the extra var it sets; the input's name by default"
    )
    env: str | None = Field(
        None, pattern=r"^[A-Z][A-Z0-9_]*$", description="secrets: the variable it is passed in"
    )
    # A value that varies per VM (a probe URL): the {name}s it may use, which the playbook fills in with the
    # day2ops.ahv.placeholders filter. The value itself is never a template.
    placeholders: list[str] = Field([], description="strings: the {name} placeholders the value may use")

    @model_validator(mode="after")
    def _consistent(self):
        if self.type in ("choice", "multi_choice") and not (self.choices or self.choices_from):
            raise ValueError(f"{self.name}: a {self.type} needs choices or choices_from")
        if self.type == "secret" and not self.env:
            raise ValueError(
                f"{self.name}: a secret is passed to the playbook in an environment variable, never as an "
                "extra var; set env, e.g. env: DAY2OPS_WEBHOOK_URL"
            )
        if self.pattern:
            re.compile(self.pattern)
        if self.pattern_message and not self.pattern:
            raise ValueError(f"{self.name}: pattern_message says what a pattern wants; set pattern")
        if self.placeholders and self.type != "string":
            raise ValueError(f"{self.name}: placeholders are for string inputs")
        return self


class Access(Strict):
    roles: list[Literal["operator", "approver", "admin"]] = ["operator", "admin"]
    groups: list[str] = []

    def allows(self, roles: list[str], groups: list[str]) -> bool:
        return bool(set(self.roles) & set(roles) or set(self.groups) & set(groups))


class ApprovalPolicy(Strict):
    required: int = Field(0, ge=0, le=5, description="approvals needed before the run starts; 0 for none")
    group: str | None = None
    users: list[str] = []
    timeout_hours: float = Field(72, gt=0)

    @model_validator(mode="after")
    def _named(self):
        if self.required and not (self.group or self.users):
            raise ValueError("approval: name the reviewers, as a group or a list of users")
        return self


class InventorySpec(Strict):
    """A prism_vms inventory generated per run: the VMs in scope by Category, from the form."""

    categories: dict[str, Any] = {}
    filter: str | None = None


class Item(Strict):
    id: str = Field(pattern=NAME)
    title: str
    group: str
    description: str
    playbook: str
    inputs: list[Input] = []
    access: Access = Access()
    approval: ApprovalPolicy = ApprovalPolicy()
    inventory: InventorySpec | None = None
    # For items whose playbook picks its VMs itself (no generated inventory): the form's preview.
    scope: InventorySpec | None = None
    extra_vars: dict[str, Any] = {}
    destructive: bool = False

    @model_validator(mode="after")
    def _unique(self):
        names = [i.name for i in self.inputs]
        if len(names) != len(set(names)):
            raise ValueError("inputs: each name once")
        for i in self.inputs:
            parent = i.choices_from.depends_on if i.choices_from else None
            if parent and parent not in names:
                field = "template_input" if i.choices_from.template_input else "vm_input"
                raise ValueError(f"{i.name}: choices_from.{field} {parent!r} is not an input")
        return self

    def input(self, name: str) -> Input:
        return next(i for i in self.inputs if i.name == name)

    def secret_names(self) -> set[str]:
        return {i.name for i in self.inputs if i.type == "secret"}

    def secrets_from(self, environ: Mapping[str, str]) -> dict[str, str]:
        """Secret inputs for a scheduled run, which nobody types: from the app's own environment
        variable named by each input's `env` (set where `day2ops serve` runs)."""
        return {i.name: environ[i.env] for i in self.inputs if i.type == "secret" and environ.get(i.env)}


class CatalogError(Exception):
    pass


# What GET /api/catalog tells of each item; the form itself is GET /api/catalog/{id}.
SUMMARY_FIELDS = frozenset({"id", "title", "group", "description", "destructive", "approval"})


class Catalog:
    def __init__(self, items: list[Item]):
        self.items = {item.id: item for item in items}
        # Per set of roles and groups; the catalog does not change while the app runs.
        self._listings: dict[tuple[frozenset, frozenset], bytes] = {}

    @classmethod
    def load(cls, directory: Path, playbook_dir: Path) -> Catalog:
        items = []
        for path in sorted(directory.glob("*.yml")):
            document = yaml.safe_load(path.read_text()) or {}
            for raw in document.get("items", []):
                try:
                    item = Item.model_validate(raw)
                except ValidationError as error:
                    where = raw.get("id", "?") if isinstance(raw, dict) else "?"
                    raise CatalogError(f"{path.name}: item {where}: {error}") from None
                if not (playbook_dir / item.playbook).is_file():
                    raise CatalogError(
                        f"{path.name}: item {item.id}: playbook {item.playbook} is not in {playbook_dir}"
                    )
                if item.id in {i.id for i in items}:
                    raise CatalogError(f"{path.name}: item {item.id} is defined twice")
                items.append(item)
        return cls(items)

    def get(self, item_id: str) -> Item | None:
        return self.items.get(item_id)

    def listing(self, roles: list[str], groups: list[str]) -> bytes:
        """The summaries of the items these roles and groups may run, as JSON: encoded once per combination,
        then every catalog page costs no more than its lookup."""
        key = (frozenset(roles), frozenset(groups))
        if key not in self._listings:
            summaries = [
                item.model_dump(mode="json", include=SUMMARY_FIELDS)
                for item in self.items.values()
                if item.access.allows(roles, groups)
            ]
            self._listings[key] = JSONResponse(summaries).body
        return self._listings[key]
