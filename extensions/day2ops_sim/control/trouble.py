"""Injected trouble: latency and fault rules (applied by core.faults.inject) and denied permissions."""

from fastapi import APIRouter
from pydantic import BaseModel, Field

from .. import operations
from ..core.faults import Fault, Latency, denial
from .common import Sim, refusal

router = APIRouter()


class RuleSpec(BaseModel):
    operation: str | None = Field(None, description="SDK operation name, e.g. list_vms")
    path: str | None = Field(None, description="glob on the decoded path, e.g. /api/vmm/*/ahv/config/vms*")
    method: str | None = None


class LatencySpec(RuleSpec):
    seconds: float = Field(..., ge=0, le=60)


class FaultSpec(RuleSpec):
    count: int = Field(1, ge=1)
    status: int = Field(503, ge=400, le=599)
    retry_after: float | None = Field(None, ge=0)
    message: str = "Injected fault"
    after_handler: bool = False


class PermissionsSpec(BaseModel):
    deny: list[str] = Field(..., description="SDK operation names the account may not call, e.g. list_vms")


@router.post("/latency")
def add_latency(spec: LatencySpec, state: Sim):
    state.faults.latencies.append(Latency(**spec.model_dump()))
    return state.faults.describe()


@router.post("/faults")
def add_fault(spec: FaultSpec, state: Sim):
    state.faults.faults.append(Fault(**spec.model_dump()))
    return state.faults.describe()


@router.get("/faults")
def faults(state: Sim):
    return state.faults.describe()


@router.delete("/faults")
def clear_faults(state: Sim):
    state.faults.reset()
    return state.faults.describe()


@router.post("/permissions")
def deny(spec: PermissionsSpec, state: Sim):
    """Take permissions away: each named SDK operation answers 403 until DELETE or /_sim/reset."""
    known = {op.name for op in operations.all_operations()}
    unknown = sorted(set(spec.deny) - known)
    if unknown:
        return refusal(400, f"deny: {', '.join(unknown)} is not an SDK operation; see GET /_sim/coverage")
    state.faults.denied.update((name, denial(name)) for name in spec.deny)
    return {"denied": sorted(state.faults.denied)}


@router.get("/permissions")
def denied(state: Sim):
    return {"denied": sorted(state.faults.denied)}


@router.delete("/permissions")
def allow_all(state: Sim):
    state.faults.denied.clear()
    return {"denied": []}
