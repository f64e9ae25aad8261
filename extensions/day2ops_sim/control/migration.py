"""The migration side: the Move appliance's timing, answer shapes and injected trouble (a failing
cutover, a VM stuck seeding, expired tokens), and the source VMs as vCenter holds them."""

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from ..backends.move import MoveBackend
from .common import Sim, refusal

router = APIRouter()


class MoveTimingSpec(BaseModel):
    prepare_seconds: float | None = Field(None, ge=0)
    seeding_seconds: float | None = Field(None, ge=0)
    cutover_seconds: float | None = Field(None, ge=0)
    token_seconds: float | None = Field(None, gt=0)


class MoveFailSpec(BaseModel):
    count: int = Field(1, ge=1)
    message: str = "Cutover failed: final sync could not complete (injected)"
    # What a failed cutover does to the source VM is not documented [R]: the test decides.
    source_restarted: bool = True
    # Only the cutover of this VM (by name) fails; the next cutover of any VM when empty.
    vm: str = ""


class MoveShapesSpec(BaseModel):
    plan: Literal["full", "metadata"] | None = None
    workloads: Literal["both", "status", "entities", "unknown"] | None = None


class GuestAccountSpec(BaseModel):
    username: str
    password: str


class MoveStickSpec(BaseModel):
    count: int = Field(1, ge=1)


def move_view(m: MoveBackend) -> dict:
    return {
        "prepare_seconds": m.timing.prepare_seconds,
        "seeding_seconds": m.timing.seeding_seconds,
        "cutover_seconds": m.timing.cutover_seconds,
        "token_seconds": m.token_seconds,
        "fail_next_cutover": len(m.fail_next_cutover),
        "stick_next_seeding": m.stick_next_seeding,
        "plans": len(m.plans),
        "providers": len(m.providers),
        "tokens": len(m.tokens),
        "shapes": dict(m.shapes),
    }


@router.get("/move")
def move_state(state: Sim):
    state.tasks.tick()
    return move_view(state.move)


@router.post("/move/timing")
def move_timing(spec: MoveTimingSpec, state: Sim):
    """How long guest preparation, seeding and cutover take, and how long a Move token lives
    (900 s on a real one)."""
    m = state.move
    if spec.prepare_seconds is not None:
        m.timing.prepare_seconds = spec.prepare_seconds
    if spec.seeding_seconds is not None:
        m.timing.seeding_seconds = spec.seeding_seconds
    if spec.cutover_seconds is not None:
        m.timing.cutover_seconds = spec.cutover_seconds
    if spec.token_seconds is not None:
        m.token_seconds = spec.token_seconds
    return move_view(m)


@router.post("/move/fail-next-cutover")
def move_fail_cutover(spec: MoveFailSpec, state: Sim):
    """The next `count` cutovers fail at their end: the workload Failed, the source VM back on."""
    state.move.fail_next_cutover.extend(
        (spec.message, spec.source_restarted, spec.vm) for _ in range(spec.count)
    )
    return move_view(state.move)


@router.post("/move/shapes")
def move_shapes(spec: MoveShapesSpec, state: Sim):
    """Which of the answer shapes public clients read Move serves (see backends.move.SHAPES)."""
    state.move.shapes.update(spec.model_dump(exclude_none=True))
    return move_view(state.move)


@router.post("/vcenter/vms/{moref}/guest-account")
def vcenter_guest_account(moref: str, spec: GuestAccountSpec, state: Sim):
    """Give one source VM's guest its own account, which Move's guest preparation must be told."""
    vm = state.vcenter.vms.get(moref)
    if vm is None:
        return refusal(404, f"No vCenter VM '{moref}'.")
    vm.guest_account = (spec.username, spec.password)
    return {"vm": moref, "username": spec.username}


@router.post("/move/stick-next-seeding")
def move_stick(spec: MoveStickSpec, state: Sim):
    """The next `count` workloads a plan starts stay in DataSeeding, never offering CUTOVER."""
    state.move.stick_next_seeding += spec.count
    return move_view(state.move)


@router.post("/move/expire-tokens")
def move_expire(state: Sim):
    """Every Move token issued so far stops working, as after the 15 minutes of a real one."""
    return {"expired": state.move.expire_tokens()}


@router.get("/vcenter/vms/{moref}")
def vcenter_vm(moref: str, state: Sim):
    """One source VM as vCenter holds it, with its tags: what a test checks after a cutover."""
    state.tasks.tick()
    vm = state.vcenter.vms.get(moref)
    if vm is None:
        return refusal(404, f"No vCenter VM '{moref}'.")
    return {**vm.summary(), "instance_uuid": vm.instance_uuid, "tags": state.vcenter.tags_of(moref)}
