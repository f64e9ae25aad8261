"""The control plane under /_sim/: reset, state, scale, latency, faults, denied permissions, task timing,
clock, versions, the guests inside the VMs (patch, reboot, application health), and the Move
appliance's timing and injected trouble (a failing cutover, a VM stuck seeding, expired tokens).
Latency and fault rules apply to the vCenter and Move listeners too, matched on their paths
(/api/vcenter/*, /move/v2/*).

No real Prism Central serves /_sim/, so nothing a client does by accident lands here. Every
endpoint is a thin wrapper over a SimState method, so in-process tests share the same verbs.
"""

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from . import conformance, evidence, operations
from .core.errors import ApiError
from .core.faults import Fault, Latency, denial
from .routes import move, vcenter
from .routes.common import HANDLERS
from .state import NEWEST, SimState


class ResetSpec(BaseModel):
    seed: int | None = None
    vm_count: int | None = Field(None, ge=0, le=200000)


class GenerateSpec(BaseModel):
    count: int = Field(..., ge=1, le=200000)
    prefix: str = "bulk"


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


class GuestSpec(BaseModel):
    break_next_patch: bool | None = Field(None, description="the next patch leaves the application unhealthy")
    next_patch_requires_reboot: bool | None = None
    app_healthy: bool | None = None


class PairSpec(BaseModel):
    name: str = Field("pc-remote", description="the paired Prism Central's name")


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


class ClockSpec(BaseModel):
    advance_seconds: float | None = None
    frozen: bool | None = None


def task_operation(name: str) -> str:
    """power_on_vm / delete_vm_by_id -> PowerOnVm / DeleteVm, the task `operation` we emit."""
    if "_" not in name:
        return name
    return "".join(part.capitalize() for part in name.removesuffix("_by_id").split("_"))


def coverage() -> list[dict]:
    """Every SDK operation; for served ones, each version segment serving it, the SDK release that
    segment validates against, and the OData field lists it inherits (strict where Prism may be looser)."""
    tables = [conformance.spec(ns, version) for ns, version in conformance.segments()]
    out = []
    for op in sorted(operations.all_operations(), key=lambda o: (o.namespace, o.template, o.method)):
        served = (op.namespace, op.name) in HANDLERS
        versions = {}
        for table in tables:
            spec = (
                table.operation(op.method, op.template)
                if served and table.namespace == op.namespace
                else None
            )
            if spec is not None:
                versions[table.version] = {"sdk": table.sdk, "inheritedQuery": list(spec.inherited_query)}
        out.append(
            {
                "namespace": op.namespace,
                "operation": op.name,
                "method": op.method,
                "path": op.template,
                "served": served,
                "versions": versions,
            }
        )
    return out


def router(state: SimState) -> APIRouter:
    api = APIRouter(prefix="/_sim", tags=["simulator control"])

    @api.get("/state")
    def summary():
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

    @api.get("/state/dump")
    def dump():
        return state.dump()

    @api.post("/state/load")
    def load(snapshot: dict):
        state.load(snapshot)
        return summary()

    @api.post("/reset")
    def reset(spec: ResetSpec | None = None):
        spec = spec or ResetSpec()
        state.reset(spec.seed, spec.vm_count)
        return summary()

    @api.post("/vms/generate")
    def generate(spec: GenerateSpec):
        return {"vms": state.generate_vms(spec.count, spec.prefix)}

    @api.post("/latency")
    def add_latency(spec: LatencySpec):
        state.faults.latencies.append(Latency(**spec.model_dump()))
        return state.faults.describe()

    @api.post("/faults")
    def add_fault(spec: FaultSpec):
        state.faults.faults.append(Fault(**spec.model_dump()))
        return state.faults.describe()

    @api.get("/faults")
    def faults():
        return state.faults.describe()

    @api.delete("/faults")
    def clear_faults():
        state.faults.reset()
        return state.faults.describe()

    @api.post("/permissions")
    def deny(spec: PermissionsSpec):
        """Take permissions away: each named SDK operation answers 403 until DELETE or /_sim/reset."""
        known = {op.name for op in operations.all_operations()}
        unknown = sorted(set(spec.deny) - known)
        if unknown:
            return JSONResponse(
                {"detail": f"deny: {', '.join(unknown)} is not an SDK operation; see GET /_sim/coverage"},
                status_code=400,
            )
        state.faults.denied.update((name, denial(name)) for name in spec.deny)
        return {"denied": sorted(state.faults.denied)}

    @api.get("/permissions")
    def denied():
        return {"denied": sorted(state.faults.denied)}

    @api.delete("/permissions")
    def allow_all():
        state.faults.denied.clear()
        return {"denied": []}

    @api.post("/tasks/fail-next")
    def fail_next(spec: FailNextSpec):
        op = task_operation(spec.operation)
        pending = state.tasks.fail_next.setdefault(op, [])
        pending.extend(ApiError(500, spec.message, spec.code) for _ in range(spec.count))
        return {"operation": op, "pending": len(pending)}

    @api.post("/tasks/no-entities-next")
    def no_entities_next(spec: NoEntitiesNextSpec):
        """The next `count` tasks of the operation list no entitiesAffected, for clients that must not
        rely on them (Prism's deploy names its VMs only in subtasks, by inference)."""
        op = task_operation(spec.operation)
        pending = state.tasks.no_entities_next
        pending[op] = pending.get(op, 0) + spec.count
        return {"operation": op, "pending": pending[op]}

    @api.post("/tasks/timing")
    def timing(spec: TimingSpec):
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

    @api.post("/clock")
    def clock(spec: ClockSpec):
        if spec.frozen is not None:
            state.clock.freeze(spec.frozen)
        if spec.advance_seconds:
            state.clock.advance(spec.advance_seconds)
        state.tasks.tick()
        return {"now": state.clock.iso(), "frozen": state.clock.frozen}

    def on_guest(vm_ext_id: str, act):
        """`act(vm)` for a VM that exists; refusals (ApiError) as JSON with their status."""
        state.tasks.tick()
        vm = state.vmm.vms.get(vm_ext_id)
        if vm is None:
            return JSONResponse({"detail": f"No VM with extId '{vm_ext_id}'."}, status_code=404)
        try:
            return act(vm)
        except ApiError as err:
            return JSONResponse({"detail": err.message}, status_code=err.status)

    def view(vm: dict) -> dict:
        return {
            "vm_ext_id": vm["extId"],
            "name": vm["name"],
            "power_state": vm["powerState"],
            **state.guests.of(vm).wire(),
        }

    def set_levers(vm: dict, spec: GuestSpec) -> dict:
        guest = state.guests.of(vm)
        for key, value in spec.model_dump(exclude_none=True).items():
            setattr(guest, key, value)
        return view(vm)

    def health_of(vm: dict):
        healthy, body = state.guests.health(vm)
        return body if healthy else JSONResponse(body, status_code=503)

    @api.get("/guests/{vm_ext_id}")
    def guest(vm_ext_id: str):
        return on_guest(vm_ext_id, view)

    @api.post("/guests/{vm_ext_id}")
    def set_guest(vm_ext_id: str, spec: GuestSpec):
        return on_guest(vm_ext_id, lambda vm: set_levers(vm, spec))

    @api.post("/guests/{vm_ext_id}/patch")
    def patch_guest(vm_ext_id: str):
        """What a package manager's upgrade does inside the guest (called by the SSH-side stand-in)."""
        return on_guest(vm_ext_id, lambda vm: state.guests.patch(vm) and view(vm))

    @api.post("/guests/{vm_ext_id}/reboot")
    def reboot_guest(vm_ext_id: str):
        return on_guest(vm_ext_id, lambda vm: state.guests.reboot(vm) and view(vm))

    @api.get("/guests/{vm_ext_id}/health")
    def health(vm_ext_id: str):
        """The VM's application health URL: 200 when the VM runs and its application is healthy."""
        return on_guest(vm_ext_id, health_of)

    @api.post("/remote-pcs")
    def pair(spec: PairSpec):
        """Pair another Prism Central: replicate_recovery_point with its pcExtId then succeeds."""
        remote = state.dataprotection.pair(spec.name)
        return {k: v for k, v in remote.items() if k != "recoveryPoints"}

    @api.get("/remote-pcs")
    def paired():
        """The paired Prism Centrals and the replicas that arrived there."""
        state.tasks.tick()
        return list(state.dataprotection.remote_pcs.values())

    @api.post("/versions")
    def versions(newest: dict[str, str]):
        """Make this Prism Central speak older versions only, e.g. {"vmm": "v4.0"} like pc.2024.3."""
        for ns, version in newest.items():
            if ns in NEWEST and operations.is_version(version):
                state.newest[ns] = version
        return {ns: state.served_versions(ns) for ns in NEWEST}

    def move_view() -> dict:
        m = state.move
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

    @api.get("/move")
    def move_state():
        state.tasks.tick()
        return move_view()

    @api.post("/move/timing")
    def move_timing(spec: MoveTimingSpec):
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
        return move_view()

    @api.post("/move/fail-next-cutover")
    def move_fail_cutover(spec: MoveFailSpec):
        """The next `count` cutovers fail at their end: the workload Failed, the source VM back on."""
        state.move.fail_next_cutover.extend(
            (spec.message, spec.source_restarted, spec.vm) for _ in range(spec.count)
        )
        return move_view()

    @api.post("/move/shapes")
    def move_shapes(spec: MoveShapesSpec):
        """Which of the answer shapes public clients read Move serves (see backends.move.SHAPES)."""
        state.move.shapes.update(spec.model_dump(exclude_none=True))
        return move_view()

    @api.post("/vcenter/vms/{moref}/guest-account")
    def vcenter_guest_account(moref: str, spec: GuestAccountSpec):
        """Give one source VM's guest its own account, which Move's guest preparation must be told."""
        vm = state.vcenter.vms.get(moref)
        if vm is None:
            return JSONResponse({"detail": f"No vCenter VM '{moref}'."}, status_code=404)
        vm.guest_account = (spec.username, spec.password)
        return {"vm": moref, "username": spec.username}

    @api.post("/move/stick-next-seeding")
    def move_stick(spec: MoveStickSpec):
        """The next `count` workloads a plan starts stay in DataSeeding, never offering CUTOVER."""
        state.move.stick_next_seeding += spec.count
        return move_view()

    @api.post("/move/expire-tokens")
    def move_expire():
        """Every Move token issued so far stops working, as after the 15 minutes of a real one."""
        return {"expired": state.move.expire_tokens()}

    @api.get("/vcenter/vms/{moref}")
    def vcenter_vm(moref: str):
        """One source VM as vCenter holds it, with its tags: what a test checks after a cutover."""
        state.tasks.tick()
        vm = state.vcenter.vms.get(moref)
        if vm is None:
            return JSONResponse({"detail": f"No vCenter VM '{moref}'."}, status_code=404)
        return {**vm.summary(), "instance_uuid": vm.instance_uuid, "tags": state.vcenter.tags_of(moref)}

    @api.get("/coverage")
    def served():
        return {
            "sdkVersions": operations.sdk_versions(),
            "strictWithoutSource": list(conformance.STRICT_WITHOUT_SOURCE),
            "operations": coverage(),
            # How sure each modelled Move and vCenter behaviour is; `served` read off their routers.
            "move": evidence.report(evidence.MOVE, move.router(state)),
            "vcenter": evidence.report(evidence.VCENTER, vcenter.router(state)),
        }

    @api.get("/conformance")
    def conformance_report():
        """Requests per client, operation and version since the simulator started, and those refused
        as not conforming to that version's SDK models (kept across /_sim/reset)."""
        return state.conformance.report()

    return api
