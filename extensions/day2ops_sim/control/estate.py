"""The simulated estate as a whole: its summary, snapshots, reset, scale, versions, clock and the
paired Prism Centrals."""

from fastapi import APIRouter
from pydantic import BaseModel, Field

from .. import operations
from ..state import NEWEST
from .common import Sim

router = APIRouter()


class ResetSpec(BaseModel):
    seed: int | None = None
    vm_count: int | None = Field(None, ge=0, le=200000)


class GenerateSpec(BaseModel):
    count: int = Field(..., ge=1, le=200000)
    prefix: str = "bulk"


class PairSpec(BaseModel):
    name: str = Field("pc-remote", description="the paired Prism Central's name")


class ClockSpec(BaseModel):
    advance_seconds: float | None = None
    frozen: bool | None = None


@router.get("/state")
def summary(state: Sim):
    state.tasks.tick()
    return {
        "seed": state.seed,
        "vms": len(state.vmm.vms),
        "clusters": len(state.clusters.clusters),
        "categories": len(state.categories.categories),
        "recovery_points": len(state.dataprotection.recovery_points),
        "templates": len(state.templates.templates),
        "tasks": len(state.tasks.tasks),
        "vcenter_vms": len(state.vcenter.vms),
        "move_plans": len(state.move.plans),
        "replayed": state.replay.replayed,
        "clock": state.clock.iso(),
        "frozen": state.clock.frozen,
        "versions": {ns: state.served_versions(ns) for ns in NEWEST},
    }


@router.get("/state/dump")
def dump(state: Sim):
    return state.dump()


@router.post("/state/load")
def load(snapshot: dict, state: Sim):
    state.load(snapshot)
    return summary(state)


@router.post("/reset")
def reset(state: Sim, spec: ResetSpec | None = None):
    spec = spec or ResetSpec()
    state.reset(spec.seed, spec.vm_count)
    return summary(state)


@router.post("/vms/generate")
def generate(spec: GenerateSpec, state: Sim):
    return {"vms": state.generate_vms(spec.count, spec.prefix)}


@router.post("/clock")
def clock(spec: ClockSpec, state: Sim):
    if spec.frozen is not None:
        state.clock.freeze(spec.frozen)
    if spec.advance_seconds:
        state.clock.advance(spec.advance_seconds)
    state.tasks.tick()
    return {"now": state.clock.iso(), "frozen": state.clock.frozen}


@router.post("/remote-pcs")
def pair(spec: PairSpec, state: Sim):
    """Pair another Prism Central: replicate_recovery_point with its pcExtId then succeeds."""
    remote = state.dataprotection.pair(spec.name)
    return {k: v for k, v in remote.items() if k != "recoveryPoints"}


@router.get("/remote-pcs")
def paired(state: Sim):
    """The paired Prism Centrals and the replicas that arrived there."""
    state.tasks.tick()
    return list(state.dataprotection.remote_pcs.values())


@router.post("/versions")
def versions(newest: dict[str, str], state: Sim):
    """Make this Prism Central speak older versions only, e.g. {"vmm": "v4.0"} like pc.2024.3."""
    for ns, version in newest.items():
        if ns in NEWEST and operations.is_version(version):
            state.newest[ns] = version
    return {ns: state.served_versions(ns) for ns in NEWEST}
