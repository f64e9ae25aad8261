"""One execution's evidence: the whole record as JSON, the per-host-and-task rows as CSV."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select
from sqlalchemy.orm import Session

from day2ops_app.db.tables import Decision, Event, Evidence, Execution, ExecutionTransition, Gate

EXECUTION_FIELDS = (
    "id",
    "source",
    "item_id",
    "playbook",
    "operator",
    "inputs",
    "status",
    "rc",
    "schedule_id",
)
# Per host and task, as the hash chain covers them.
EVIDENCE_FIELDS = tuple(c for c in Evidence.__chained__ if c not in ("id", "execution_id"))
CSV_FIELDS = ("execution_id", "item_id", "operator", "approvals", *EVIDENCE_FIELDS)


def _columns(row, names) -> dict:
    return {n: getattr(row, n) for n in names}


def export_execution(session: Session, execution_id: str) -> dict:
    execution = session.get(Execution, execution_id)
    gates = session.scalars(
        select(Gate).where(Gate.execution_id == execution_id).order_by(Gate.created_at)
    ).all()
    record = _columns(execution, EXECUTION_FIELDS)
    record.update(
        created_at=execution.created_at, started_at=execution.started_at, finished_at=execution.finished_at
    )
    record["transitions"] = [
        _columns(t, ("from_status", "to_status", "actor", "reason", "at"))
        for t in session.scalars(
            select(ExecutionTransition)
            .where(ExecutionTransition.execution_id == execution_id)
            .order_by(ExecutionTransition.id)
        )
    ]
    record["approvals"] = [
        {
            **_columns(
                g, ("id", "kind", "name", "message", "reviewers", "reviewer_group", "required", "status")
            ),
            "requested_by": g.requested_by,
            "created_at": g.created_at,
            "decisions": [
                _columns(d, ("reviewer", "decision", "comment", "decided_at"))
                for d in session.scalars(
                    select(Decision).where(Decision.gate_id == g.id).order_by(Decision.id)
                )
            ],
        }
        for g in gates
    ]
    record["evidence"] = [
        _columns(e, EVIDENCE_FIELDS)
        for e in session.scalars(
            select(Evidence).where(Evidence.execution_id == execution_id).order_by(Evidence.id)
        )
    ]
    record["task_ext_ids"] = sorted({t for e in record["evidence"] for t in e["task_ext_ids"]})
    record["events"] = [
        _columns(e, ("counter", "event", "host", "task", "stdout", "created"))
        for e in session.scalars(
            select(Event).where(Event.execution_id == execution_id).order_by(Event.counter)
        )
    ]
    return record


def _decision_text(d: dict) -> str:
    """ "approve by alex at <time> (comment: CHG0042)": the reviewer's why belongs with the decision."""
    said = f" (comment: {d['comment']})" if d.get("comment") else ""
    return f"{d['decision']} by {d['reviewer']} at {d['decided_at']}{said}"


def _approvals_text(record: dict) -> str:
    return "; ".join(
        f"{g['name']}: " + ", ".join(_decision_text(d) for d in g["decisions"]) for g in record["approvals"]
    )


def _cell(value):
    """Ids space-separated, the migration's ids as key=value: one cell each, easy to grep."""
    if isinstance(value, list):
        return " ".join(value)
    if isinstance(value, dict):  # several VMs' ids of one key are comma-separated in its pair
        return " ".join(
            f"{k}={','.join(map(str, v)) if isinstance(v, list) else v}" for k, v in sorted(value.items())
        )
    return value


# A cell starting with one of these is a formula to a spreadsheet (OWASP, CSV injection): a VM or task
# name like =HYPERLINK(...) would run when the evidence is opened.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _inert(value):
    """The value as text a spreadsheet shows and never evaluates: a leading quote disarms a formula."""
    return f"'{value}" if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def export_csv(record: dict) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS)
    writer.writeheader()
    approvals = _approvals_text(record)
    for e in record["evidence"]:
        row = {
            "execution_id": record["id"],
            "item_id": record["item_id"] or record["playbook"],
            "operator": record["operator"],
            "approvals": approvals,
            **{k: _cell(e[k]) for k in EVIDENCE_FIELDS},
        }
        writer.writerow({k: _inert(v) for k, v in row.items()})
    return out.getvalue()
