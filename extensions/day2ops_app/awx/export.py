"""The whole catalog, and the app's schedules, as AWX object definitions keyed by the awx.awx module
that creates them (playbooks/awx/awx_objects.yml)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol

from day2ops_app.awx import names
from day2ops_app.awx.errors import ExportError
from day2ops_app.awx.gates import gates
from day2ops_app.awx.schedule import rrule
from day2ops_app.awx.survey import LiveChoices, answers, survey_spec
from day2ops_app.awx.templates import job_template, workflow
from day2ops_app.catalog.model import Catalog


class ScheduleRow(Protocol):
    name: str
    item_id: str
    inputs: dict
    cron: str
    timezone: str
    missed: str
    enabled: bool


@dataclass(frozen=True)
class Target:
    """Where the objects go in AWX, by name."""

    organization: str = "Default"
    project: str = "day2ops"
    inventory: str = "day2ops Prism VMs"
    credential: str = "day2ops Prism Central"


def export(
    catalog: Catalog,
    schedules: list[ScheduleRow],
    playbook_dir: Path,
    roles_dir: Path,
    target: Target,
    start: date,
    live: LiveChoices | None = None,
) -> dict[str, list[dict]]:
    job_templates, workflows, surveys = [], {}, {}
    for item in catalog.items.values():
        survey = surveys[item.id] = survey_spec(item, live)
        job_templates.append(
            job_template(
                item,
                survey,
                organization=target.organization,
                project=target.project,
                inventory=target.inventory,
                credential=target.credential,
            )
        )
        flow = workflow(
            item, survey, gates(playbook_dir / item.playbook, roles_dir), organization=target.organization
        )
        if flow:
            workflows[item.id] = flow
    return {
        "job_templates": job_templates,
        "workflow_job_templates": list(workflows.values()),
        "schedules": [_schedule(catalog, row, surveys, workflows, start) for row in schedules],
    }


def _schedule(catalog: Catalog, row: ScheduleRow, surveys: dict, workflows: dict, start: date) -> dict:
    item = catalog.get(row.item_id)
    if item is None:
        raise ExportError(
            f"schedule {row.name}: item {row.item_id} is not in the catalog; delete the schedule"
        )
    try:
        recurrence = rrule(row.cron, row.timezone, start)
    except ExportError as error:
        raise ExportError(f"schedule {row.name}: {error}") from None
    # An item that needs approval is scheduled through its workflow, so a scheduled run waits for it too.
    template = workflows[item.id]["name"] if item.id in workflows else names.job_template_name(item.id)
    missed = "AWX does not catch up missed runs" if row.missed == "run_once" else "missed runs are skipped"
    return {
        "name": f"day2ops {row.name}",
        "description": f"{row.cron} ({row.timezone}); {missed}",
        "unified_job_template": template,
        "rrule": recurrence,
        "extra_data": answers(item, row.inputs, surveys[item.id]),
        "enabled": row.enabled,
    }
