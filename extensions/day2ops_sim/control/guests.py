"""The guests inside the VMs: their levers, patching, reboots and application health."""

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from ..core.errors import ApiError
from ..state import SimState
from .common import Sim, refusal

router = APIRouter()


class GuestSpec(BaseModel):
    break_next_patch: bool | None = Field(None, description="the next patch leaves the application unhealthy")
    next_patch_requires_reboot: bool | None = None
    app_healthy: bool | None = None


def on_guest(state: SimState, vm_ext_id: str, act):
    """`act(vm)` for a VM that exists; refusals (ApiError) as JSON with their status."""
    state.tasks.tick()
    vm = state.vmm.vms.get(vm_ext_id)
    if vm is None:
        return refusal(404, f"No VM with extId '{vm_ext_id}'.")
    try:
        return act(vm)
    except ApiError as err:
        return refusal(err.status, err.message)


def view(state: SimState, vm: dict) -> dict:
    return {
        "vm_ext_id": vm["extId"],
        "name": vm["name"],
        "power_state": vm["powerState"],
        **state.guests.of(vm).wire(),
    }


def set_levers(state: SimState, vm: dict, spec: GuestSpec) -> dict:
    guest = state.guests.of(vm)
    for key, value in spec.model_dump(exclude_none=True).items():
        setattr(guest, key, value)
    return view(state, vm)


def health_of(state: SimState, vm: dict):
    healthy, body = state.guests.health(vm)
    return body if healthy else JSONResponse(body, status_code=503)


@router.get("/guests")
def guest_addresses(state: Sim):
    """Where each running guest answers, every address its VM learned (the demo's guest gateway listens
    on these), and its patch level."""
    state.tasks.tick()
    return [
        {
            "address": address["value"],
            "vm_ext_id": vm["extId"],
            "name": vm["name"],
            "patch_level": state.guests.of(vm).patch_level,
        }
        for vm in state.vmm.vms
        if vm.get("powerState") == "ON"
        for nic in vm.get("nics") or []
        for address in ((nic.get("networkInfo") or {}).get("ipv4Info") or {}).get("learnedIpAddresses") or []
    ]


@router.get("/guests/{vm_ext_id}")
def guest(vm_ext_id: str, state: Sim):
    return on_guest(state, vm_ext_id, lambda vm: view(state, vm))


@router.post("/guests/{vm_ext_id}")
def set_guest(vm_ext_id: str, spec: GuestSpec, state: Sim):
    return on_guest(state, vm_ext_id, lambda vm: set_levers(state, vm, spec))


@router.post("/guests/{vm_ext_id}/patch")
def patch_guest(vm_ext_id: str, state: Sim):
    """What a package manager's upgrade does inside the guest (called by the SSH-side stand-in)."""
    return on_guest(state, vm_ext_id, lambda vm: state.guests.patch(vm) and view(state, vm))


@router.post("/guests/{vm_ext_id}/reboot")
def reboot_guest(vm_ext_id: str, state: Sim):
    return on_guest(state, vm_ext_id, lambda vm: state.guests.reboot(vm) and view(state, vm))


@router.get("/guests/{vm_ext_id}/health")
def health(vm_ext_id: str, state: Sim):
    """The VM's application health URL: 200 when the VM runs and its application is healthy."""
    return on_guest(state, vm_ext_id, lambda vm: health_of(state, vm))
