"""Prism tasks on request: the next ones failing or naming no entities, and how long they take."""

from fastapi import APIRouter
from pydantic import BaseModel, Field

from ..core.errors import ApiError
from .common import Sim

router = APIRouter()


class FailNextSpec(BaseModel):
    operation: str = Field(..., description="task operation (PowerOnVm) or SDK operation (power_on_vm)")
    count: int = Field(1, ge=1)
    message: str = "Injected task failure"
    code: str = "SIM-50200"


class NoEntitiesNextSpec(BaseModel):
    operation: str = Field(..., description="task operation (CreateVm) or SDK operation (create_template)")
    count: int = Field(1, ge=1)


class TimingSpec(BaseModel):
    default_seconds: float | None = Field(None, ge=0)
    per_operation: dict[str, float] | None = None
    queued_share: float | None = Field(None, ge=0, le=1)


def task_operation(name: str) -> str:
    """power_on_vm / delete_vm_by_id -> PowerOnVm / DeleteVm, the task `operation` we emit."""
    if "_" not in name:
        return name
    return "".join(part.capitalize() for part in name.removesuffix("_by_id").split("_"))


@router.post("/tasks/fail-next")
def fail_next(spec: FailNextSpec, state: Sim):
    op = task_operation(spec.operation)
    pending = state.tasks.fail_next.setdefault(op, [])
    pending.extend(ApiError(500, spec.message, spec.code) for _ in range(spec.count))
    return {"operation": op, "pending": len(pending)}


@router.post("/tasks/no-entities-next")
def no_entities_next(spec: NoEntitiesNextSpec, state: Sim):
    """The next `count` tasks of the operation list no entitiesAffected, for clients that must not
    rely on them (Prism's deploy names its VMs only in subtasks, by inference)."""
    op = task_operation(spec.operation)
    pending = state.tasks.no_entities_next
    pending[op] = pending.get(op, 0) + spec.count
    return {"operation": op, "pending": pending[op]}


@router.post("/tasks/timing")
def timing(spec: TimingSpec, state: Sim):
    t = state.tasks.timing
    if spec.default_seconds is not None:
        t.default_seconds = spec.default_seconds
    if spec.per_operation is not None:
        # Replaces the overrides: {} clears them.
        t.per_operation = {task_operation(k): v for k, v in spec.per_operation.items()}
    if spec.queued_share is not None:
        t.queued_share = spec.queued_share
    return {
        "default_seconds": t.default_seconds,
        "per_operation": t.per_operation,
        "queued_share": t.queued_share,
    }
