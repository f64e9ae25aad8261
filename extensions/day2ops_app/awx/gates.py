"""The in-flow approval gates of a catalog item: the `day2ops.ahv.approval` tasks its playbook reaches,
through the roles it plays and the task files it includes.

A gate is named by its task's `name` (static text; the module's own `name` is usually templated with
run-time facts). AWX cannot pause a running job, so a workflow approves each gate before the job starts
and tells the gate to let the run through: `outside_app` must therefore be `approve` or a variable the
workflow can set to `approve`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from day2ops_app.awx.errors import ExportError

MODULE = "day2ops.ahv.approval"
COLLECTION = "day2ops.ahv."
INCLUDES = {f"{p}{verb}_tasks" for p in ("", "ansible.builtin.") for verb in ("include", "import")}
ROLE_INCLUDES = {f"{p}{verb}_role" for p in ("", "ansible.builtin.") for verb in ("include", "import")}
WHOLE_VAR = re.compile(r"^\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$")


@dataclass(frozen=True)
class Gate:
    name: str
    # The variable that sets the gate's `outside_app`; None when it is `approve` already.
    outside_app_var: str | None


def gates(playbook: Path, roles_dir: Path) -> list[Gate]:
    found: dict[str, Gate] = {}
    _walk_file(playbook, roles_dir, found, set())
    return list(found.values())


def _walk_file(path: Path, roles_dir: Path, found: dict, seen: set) -> None:
    if path in seen or not path.is_file():
        return
    seen.add(path)
    _walk(yaml.safe_load(path.read_text()), path, roles_dir, found, seen)


def _role(name: str, roles_dir: Path, found: dict, seen: set) -> None:
    if name.startswith(COLLECTION):
        _walk_file(roles_dir / name[len(COLLECTION) :] / "tasks" / "main.yml", roles_dir, found, seen)


def _walk(node, path: Path, roles_dir: Path, found: dict, seen: set) -> None:
    if isinstance(node, list):
        for child in node:
            _walk(child, path, roles_dir, found, seen)
        return
    if not isinstance(node, dict):
        return
    if MODULE in node:
        gate = _gate(node, path)
        found.setdefault(gate.name, gate)
    for key, value in node.items():
        if key in INCLUDES and isinstance(value, str) and "{{" not in value:
            _walk_file(path.parent / value, roles_dir, found, seen)
        elif key in ROLE_INCLUDES and isinstance(value, dict) and isinstance(value.get("name"), str):
            _role(value["name"], roles_dir, found, seen)
        elif key == "roles" and isinstance(value, list):
            for role in value:
                _role(role if isinstance(role, str) else role.get("role", ""), roles_dir, found, seen)
        else:
            _walk(value, path, roles_dir, found, seen)


def _gate(task: dict, path: Path) -> Gate:
    name = task.get("name")
    if not isinstance(name, str) or "{{" in name:
        raise ExportError(f"{path}: a {MODULE} task needs a static task name: it names the AWX approval node")
    outside = str((task[MODULE] or {}).get("outside_app", "fail"))
    if outside == "approve":
        return Gate(name, None)
    var = WHOLE_VAR.match(outside)
    if var is None:
        raise ExportError(
            f"{path}: gate {name!r} has outside_app {outside!r}: it fails closed outside the app and AWX "
            "cannot answer it mid-run; set outside_app from a variable so the AWX workflow can pass it"
        )
    return Gate(name, var.group(1))
