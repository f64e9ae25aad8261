"""A catalog item as an AWX job template, and, when it needs approval, as a workflow job template whose
approval nodes come before the job.

Approvals fail closed: an approval node that is denied or times out fails, and no node follows a failure,
so the workflow ends failed without running the job. The workflow carries the same survey as the job
template; AWX passes its answers and extra vars down to the job node.
"""

from __future__ import annotations

import json
import re

from day2ops_app.awx import names
from day2ops_app.awx.errors import ExportError
from day2ops_app.awx.gates import Gate
from day2ops_app.awx.survey import variable
from day2ops_app.catalog.model import Item

WHOLE_INPUT = re.compile(r"^\{\{\s*([a-z][a-z0-9_]*)\s*\}\}$")


def _expression(item: Item, value, where: str) -> str:
    """A catalog extra var as a Jinja expression over the survey's variables. Unanswered inputs (absent,
    or the empty text AWX sends for a blank answer) are left out of mappings, as the app leaves them out."""
    if isinstance(value, dict):
        pairs = ", ".join(
            f"{json.dumps(k)}: {_expression(item, v, f'{where}.{k}')}" for k, v in value.items()
        )
        return f"({{{pairs}}} | dict2items | rejectattr('value', 'in', [none, '']) | items2dict)"
    if isinstance(value, list):
        return "[" + ", ".join(_expression(item, v, where) for v in value) + "]"
    if isinstance(value, str) and "{" in value:
        whole = WHOLE_INPUT.match(value)
        names_ = {i.name: i for i in item.inputs}
        if whole is None or whole.group(1) not in names_:
            raise ExportError(
                f"item {item.id}: extra_vars.{where}: {value!r}: the AWX export turns a whole "
                "'{{ input }}' into the survey's variable; write the value as one input"
            )
        # Through hostvars: a play keyword (`environment`) shadows an extra var of the same name.
        return (
            f"(hostvars[inventory_hostname][{json.dumps(variable(names_[whole.group(1)]))}] | default(none))"
        )
    return "none" if value is None else json.dumps(value)


def _templated(value) -> bool:
    return "{" in json.dumps(value)


def extra_vars(item: Item) -> dict:
    """The item's fixed extra vars; those built from inputs become expressions the AWX job evaluates."""
    return {
        key: "{{ " + _expression(item, value, key) + " }}" if _templated(value) else value
        for key, value in item.extra_vars.items()
    }


def job_template(
    item: Item, survey: dict, *, organization: str, project: str, inventory: str, credential: str
) -> dict:
    return {
        "name": names.job_template_name(item.id),
        "description": item.title,
        "organization": organization,
        "job_type": "run",
        "project": project,
        "playbook": f"playbooks/{item.playbook}",
        "inventory": inventory,
        "credentials": [credential],
        "extra_vars": extra_vars(item),
        "survey_enabled": bool(survey),
        "survey_spec": survey,
        # The app builds an inventory per run from the form; in AWX the operator narrows it with a limit
        # such as Department_Finance:&Environment_Production.
        "ask_limit_on_launch": item.inventory is not None,
    }


def _approval(identifier: str, description: str, timeout_hours: float, then: str) -> dict:
    return {
        "identifier": identifier,
        "unified_job_template": {
            "name": identifier,
            "type": "workflow_approval",
            "description": description,
            "timeout": int(timeout_hours * 3600),
        },
        "related": {"success_nodes": [{"identifier": then}]},
    }


def workflow(item: Item, survey: dict, item_gates: list[Gate], *, organization: str) -> dict | None:
    """None when nothing needs approving."""
    steps = []
    policy = item.approval
    if policy.required:
        who = policy.group or ", ".join(policy.users)
        steps.append(
            (names.RUN_GATE, f"{item.title}: approve the run ({policy.required} of {who} in the app)")
        )
    steps += [(g.name, f"{item.title}: in-flow gate, approved before the job starts") for g in item_gates]
    if not steps:
        return None
    job = names.job_template_name(item.id)
    identifiers = [names.approval_node_name(name) for name, _ in steps]
    nodes = [
        _approval(identifier, description, policy.timeout_hours, then)
        for identifier, (_, description), then in zip(
            identifiers, steps, [*identifiers[1:], job], strict=True
        )
    ]
    nodes.append(
        {
            "identifier": job,
            "unified_job_template": {
                "name": job,
                "type": "job_template",
                "organization": {"name": organization},
            },
            "related": {"success_nodes": []},
        }
    )
    return {
        "name": names.workflow_name(item.id),
        "description": item.title,
        "organization": organization,
        "survey_enabled": bool(survey),
        "survey_spec": survey,
        # The gates were approved by the nodes above; the job must not ask the app again.
        "extra_vars": {g.outside_app_var: "approve" for g in item_gates if g.outside_app_var},
        "ask_limit_on_launch": item.inventory is not None,
        "workflow_nodes": nodes,
    }
