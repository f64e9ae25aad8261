"""The states that decide something, derived from chained rows: a gate's outcome, an execution's
status, times and exit code. The columns that copy them (for listing) are checked against these by
`verify` and never trusted to open a gate or start a run."""

from __future__ import annotations

from collections.abc import Iterable

TERMINAL = frozenset({"successful", "failed", "canceled", "rejected", "expired", "interrupted"})
# A decision by the app itself closes a gate: its time ran out, or its run was canceled.
CLOSING = {"reject": "rejected", "timeout": "timed_out", "cancel": "canceled"}


def gate_outcome(required: int | None, decisions: Iterable) -> str:
    """required None: the gate's own row cannot be trusted, so no number of approvals opens it."""
    approvers = set()
    for decision in decisions:
        if decision.decision in CLOSING:
            return CLOSING[decision.decision]
        if decision.decision == "approve":
            approvers.add(decision.reviewer)
    return "approved" if required is not None and len(approvers) >= required else "pending"


def execution_record(transitions: list) -> dict:
    """status, started_at, finished_at and rc as the transitions (in order) say."""
    record = {"status": None, "started_at": None, "finished_at": None, "rc": None}
    for transition in transitions:
        record["status"] = transition.to_status
        if transition.to_status == "running":
            record["started_at"] = transition.at
        if transition.to_status in TERMINAL:
            record["finished_at"] = transition.at
            record["rc"] = transition.rc
    return record
