"""Each version segment speaks exactly the SDK release that defines it (sdk_versions/*.json).

A request is checked against the models of the segment it names: the body an operation requires,
every field and its type, enums, required fields, oneOf members. A non-conforming request gets a
400 SchemaValidationError naming each offending attribute. A response carries only the fields that
segment's models define, so a client reading a newer field from a v4.0 answer fails here first.

How sure each rule is (sources: the SDK models, and Prism's behaviour as reported in public issues):
- unknown fields refused: one source (the SDK models; Prism's server validates against the same
  OpenAPI document, and nutanix.ansible#474 shows a 400 for a misspelled field). Strict.
- a required body, required fields, enum members, JSON types: one source (the SDK). Strict.
- a oneOf value without `$objectType` refused: none; Prism needs it to choose the member, and every SDK
  sends it. Strict, and said so in /_sim/coverage.
- `null` for a field refused: none; no SDK sends one (it drops None). Strict, and said so.
- `$filter`/`$orderby`/`$select`/`$expand` fields: the release's docstrings (one source). Releases
  after v4.0 stopped listing them; those segments inherit the previous list (`inheritedQuery`),
  so a newer field may be refused where Prism would accept it. Strict, and said so.
"""

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .core.errors import FieldError

_DIR = Path(__file__).with_name("sdk_versions")
_RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
_DATE = re.compile(r"^\d{4}-\d\d-\d\d$")
_LIST = re.compile(r"^list\[(.+)\]$")
_MAP = re.compile(r"^dict\(str, (.+)\)$")
HIDDEN = ("$objectType", "$reserved", "$unknownFields")
STRICT_WITHOUT_SOURCE = (
    "a oneOf value must carry $objectType naming a member",
    "null is refused for every field (no SDK sends one)",
    "segments whose SDK release lists no OData fields inherit the previous segment's list",
)

_SCALARS = ("str", "datetime", "date", "bool", "int", "float")


def _scalar_problem(value, kind: str, where: str) -> str | None:
    """What is wrong with `value` as a scalar of `kind` (one of _SCALARS), or None."""
    if kind in ("str", "datetime", "date"):
        if not isinstance(value, str):
            return f"{where} must be a string."
        if kind == "datetime" and not _RFC3339.match(value):
            return f"{where} must be an RFC 3339 date-time such as 2026-01-31T10:00:00Z."
        if kind == "date" and not _DATE.match(value):
            return f"{where} must be a date such as 2026-01-31."
        return None
    if kind == "bool":
        return None if isinstance(value, bool) else f"{where} must be true or false."
    numeric = int if kind == "int" else (int, float)
    if isinstance(value, numeric) and not isinstance(value, bool):
        return None
    return f"{where} must be {'an integer' if kind == 'int' else 'a number'}."


@dataclass(frozen=True)
class OperationSpec:
    name: str
    response_type: str
    body: str | None
    body_required: bool
    query: dict[str, list[str] | None]
    inherited_query: tuple[str, ...]

    def fields(self, option: str) -> frozenset[str] | None:
        """The fields `$filter`/`$orderby`/`$select`/`$expand` accept here; None when no SDK lists them."""
        listed = self.query.get(option)
        return None if listed is None else frozenset(listed)


class VersionSpec:
    """One namespace at one version segment, as its SDK release defines it."""

    def __init__(self, namespace: str, version: str, raw: dict) -> None:
        self.namespace = namespace
        self.version = version
        self.sdk = raw["sdk"]
        self.models: dict[str, dict] = raw["models"]
        self.operations = {
            key: OperationSpec(
                op["operation"],
                op["responseType"],
                op["body"],
                op["bodyRequired"],
                op["query"],
                tuple(op.get("inheritedQuery", ())),
            )
            for key, op in raw["operations"].items()
        }

    def operation(self, method: str, template: str) -> OperationSpec | None:
        return self.operations.get(f"{method} {template}")

    # -- requests ------------------------------------------------------------------------------

    def check_request(self, op: OperationSpec, query: dict[str, str], body) -> list[FieldError]:
        supported = ", ".join(sorted(op.query)) or "none"
        problems = [
            FieldError(
                f"Query option {option} is not accepted by {op.name} at {self.version}; "
                f"supported: {supported}.",
                option,
                "query",
            )
            for option in sorted(query)
            if option.startswith("$") and option not in op.query
        ]
        if body is None:
            if op.body_required:
                problems.append(FieldError(f"{op.name} requires a {op.body} body at {self.version}.", ""))
            return problems
        if op.body is None:
            return [*problems, FieldError(f"{op.name} takes no request body at {self.version}.", "")]
        return problems + self._check(body, op.body, "")

    def _check(self, value, kind: str, path: str) -> list[FieldError]:
        where = path or "body"
        if value is None:
            return [FieldError(f"{where} is null; omit the field instead (no SDK sends null).", path)]
        if kind == "object":
            return []
        if kind in _SCALARS:
            problem = _scalar_problem(value, kind, where)
            return [FieldError(problem, path)] if problem else []
        if m := _LIST.match(kind):
            if not isinstance(value, list):
                return [FieldError(f"{where} must be a list.", path)]
            return [p for i, item in enumerate(value) for p in self._check(item, m[1], f"{path}[{i}]")]
        if m := _MAP.match(kind):
            if not isinstance(value, dict):
                return [FieldError(f"{where} must be an object.", path)]
            return [
                p for k, item in value.items() for p in self._check(item, m[1], f"{path}.{k}".lstrip("."))
            ]
        model = self.models.get(kind)
        if model is None:
            return []  # a type this release leaves undescribed (none among the handled operations)
        if "enum" in model:
            if value not in model["enum"]:
                allowed = ", ".join(model["enum"])
                return [
                    FieldError(
                        f"{where} is '{value}', not one of {allowed} ({kind} at {self.version}).", path
                    )
                ]
            return []
        if "oneOf" in model:
            return self._check_one_of(value, kind, model["oneOf"], path)
        return self._check_object(value, kind, model, path)

    def _check_one_of(self, value, kind: str, members: list[str], path: str) -> list[FieldError]:
        where = path or "body"
        if isinstance(value, list):
            lists = [m for m in members if _LIST.match(m)]
            return (
                self._check(value, lists[0], path)
                if lists
                else [FieldError(f"{where} must not be a list.", path)]
            )
        if not isinstance(value, dict):
            return [FieldError(f"{where} must be an object of one of: {', '.join(members)}.", path)]
        object_type = value.get("$objectType")
        if object_type not in members:
            return [
                FieldError(
                    f"{where} needs $objectType naming one of {', '.join(m for m in members if '.' in m)} "
                    f"at {self.version}; it has {object_type!r}.",
                    f"{path}.$objectType".lstrip("."),
                )
            ]
        return self._check(value, object_type, path)

    def _check_object(self, value, kind: str, model: dict, path: str) -> list[FieldError]:
        where = path or "body"
        if not isinstance(value, dict):
            return [FieldError(f"{where} must be an object ({kind}).", path)]
        object_type = value.get("$objectType")
        if object_type is not None and object_type != kind:
            return [
                FieldError(f"{where} is a {kind}, not a {object_type}.", f"{path}.$objectType".lstrip("."))
            ]
        fields = model["fields"]
        problems = []
        for name, item in value.items():
            child = f"{path}.{name}" if path else name
            if name in HIDDEN:
                continue
            if name not in fields:
                problems.append(
                    FieldError(f"{child} is not a field of {kind} at {self.version} ({self.sdk}).", child)
                )
                continue
            problems.extend(self._check(item, fields[name], child))
        for name in model["required"]:
            if name not in value:
                child = f"{path}.{name}" if path else name
                problems.append(FieldError(f"{child} is required by {kind} at {self.version}.", child))
        return problems

    # -- responses -----------------------------------------------------------------------------

    def item_kind(self, response_type: str) -> str | None:
        """The kind `shape` gives each item of a list response's `data`; None if it has no `data`."""
        model = self.models.get(response_type) or {}
        kind = (model.get("fields") or {}).get("data")
        return None if kind is None else _list_item(kind) or kind

    def shape(self, value, kind: str):
        """The value as this segment shows it: fields its models lack are left out, at every depth."""
        if isinstance(value, list):
            inner = _list_item(kind) or kind
            return [self.shape(item, inner) for item in value]
        if not isinstance(value, dict):
            return value
        if inner := _map_value(kind):
            return {k: self.shape(v, inner) for k, v in value.items()}
        model = self.models.get(value.get("$objectType") or kind) or self.models.get(kind)
        if model is None or "fields" not in model:
            if model is not None and "oneOf" in model and not isinstance(value, list):
                member = value.get("$objectType")
                return self.shape(value, member) if member in self.models else value
            return value
        fields = model["fields"]
        out = {}
        for k, v in value.items():
            if k in HIDDEN:
                out[k] = v
            elif k in fields:
                # A scalar is shown as it is; only objects and lists have fields to leave out.
                out[k] = self.shape(v, fields[k]) if isinstance(v, dict | list) else v
        return out


@cache
def _list_item(kind: str) -> str | None:
    m = _LIST.match(kind)
    return m[1] if m else None


@cache
def _map_value(kind: str) -> str | None:
    m = _MAP.match(kind)
    return m[1] if m else None


@cache
def spec(namespace: str, version: str) -> VersionSpec | None:
    path = _DIR / f"{namespace}-{version}.json"
    return VersionSpec(namespace, version, json.loads(path.read_text())) if path.exists() else None


def segments() -> list[tuple[str, str]]:
    return sorted(tuple(p.stem.rsplit("-", 1)) for p in _DIR.glob("*.json"))


class ConformanceLog:
    """What each client sent, per operation and version: exercised, and any request refused as non-conforming.

    Kept across /_sim/reset, so a test session can read the whole run at its end.
    """

    def __init__(self) -> None:
        self.exercised: dict[tuple[str, str, str, str], int] = {}
        self.refused: list[dict] = []

    def record(
        self, client: str, namespace: str, version: str, operation: str, problems: list[FieldError]
    ) -> None:
        key = (client, namespace, operation, version)
        self.exercised[key] = self.exercised.get(key, 0) + 1
        if problems and len(self.refused) < 500:
            self.refused.append(
                {
                    "client": client,
                    "namespace": namespace,
                    "version": version,
                    "operation": operation,
                    "problems": [f"{p.location} {p.attribute_path}: {p.message}" for p in problems],
                }
            )

    def report(self) -> dict:
        return {
            "exercised": [
                {"client": c, "namespace": ns, "operation": op, "version": v, "requests": n}
                for (c, ns, op, v), n in sorted(self.exercised.items())
            ],
            "refused": self.refused,
        }


def client_of(user_agent: str) -> str:
    """day2ops (the collection, roles and app), sdk (the official clients), or other (tests' raw HTTP)."""
    if user_agent.startswith("day2ops.ahv/"):
        return "day2ops"
    if user_agent.lower().startswith("nutanix-") or "py-client" in user_agent.lower():
        return "sdk"
    return "other"
