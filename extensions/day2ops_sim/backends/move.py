"""Nutanix Move (REST v2): providers, migration plans and per-VM workloads, driven by the clock.

Before a plan starts, its guests are prepared (`POST /plans/{uuid}/prepare` with their credentials,
re-sent until each VM is Passed or Failed; `timing.prepare_seconds` of installing in between): a VM
in automatic guest preparation that is not prepared fails readiness and is failed at start, with
the reason. A started plan seeds each VM (DataSeeding) for `timing.seeding_seconds`, then offers CUTOVER
(ReadyToCutover). A cutover shuts the source VM down in vCenter at once, and after
`timing.cutover_seconds` the VM exists on the AHV cluster in Prism Central and the workload is
Completed, its VmConsoleLink carrying the new VM's extId. What no source confirms (the numeric
per-VM state, cancel, provider delete, a failed cutover's end state) follows the reference's
reconstruction and is marked [R] there.

Request bodies reach the backend with their keys folded to lower case: Move (Go's encoding/json)
matches keys without regard to case, and working clients send `Spec` and `spec` alike.
"""

import copy
import secrets
from dataclasses import dataclass, field

from ..core.clock import Clock
from ..core.ids import IdFactory
from .clustermgmt import ClusterBackend
from .vcenter import CLUSTERS, NETWORKS, VCenterBackend
from .vmm import VmmBackend, no_guest_tools

VERSION = "5.2.0"
API_VERSION = "2.2.0"
TOKEN_SECONDS = 900
SOURCE, TARGET = 1, 2

# The plan's own numeric state (attested, S2): 5 is Paused, whatever marketing says.
PLAN_STATES = {
    0: "Uninitialized",
    1: "Validation",
    2: "Scheduled",
    3: "Preparation",
    4: "InProgress",
    5: "Paused",
    6: "Aborted",
    7: "Completed",
    8: "Failed",
    9: "ValidationFailed",
    10: "Aborting",
}
# Per-VM numbers are a reconstruction [R]; clients must read StateString and Actions.
VM_STATES = {
    "NotStarted": 0,
    "DataSeeding": 4,
    "ReadyToCutover": 5,
    "CutoverInProgress": 6,
    "Completed": 7,
    "Failed": 8,
    "Paused": 9,
    "Cancelled": 10,
}
VM_DONE = ("Completed", "Failed", "Cancelled")
GIB = 1024**3
# The largest inventory page [L: one source]; the same cap without a Limit is the strict choice [R].
PAGE_LIMIT = 100
# What each ShowVMs value lists [C for "all", L for the others]. Which VMs Move deems ineligible is
# not documented [R]: here those on an NVMe controller, which Move cannot migrate. Move's default
# when ShowVMs is absent is not documented either [R]: the strict choice, eligible ones only.
SHOW_VMS = {
    "all": lambda vm: True,
    "eligiblevms": lambda vm: vm.disk_bus != "NVME",
    "ineligiblevms": lambda vm: vm.disk_bus == "NVME",
}
# The answer shapes clients have been seen to read [A14]; tests pick one with /_sim/move/shapes.
# plan: "full" (MetaData, Spec, Status) [R: no client reads Spec back] or "metadata" [C].
# workloads: "both" (the reconstruction), "status" (Status.VMStatus [C: S3]), "entities"
# (Entities[].MetaData [L: S5]), or "unknown" (neither, as a Move release no source saw might).
SHAPES = {"plan": ("full", "metadata"), "workloads": ("both", "status", "entities", "unknown")}


class MoveError(Exception):
    """A refused call: status, Move's `Message`, and its numeric `ErrorCode` (field name [R])."""

    def __init__(self, status: int, message: str, error_code: int = 0) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_code = error_code

    def body(self) -> dict:
        return {"ErrorCode": self.error_code, "Message": self.message}


def not_found(kind: str, uuid: str) -> MoveError:
    return MoveError(404, f"{kind} {uuid} not found", 20404)


def bad(message: str) -> MoveError:
    return MoveError(400, message, 20400)


@dataclass
class MoveTiming:
    prepare_seconds: float = 1.0
    seeding_seconds: float = 6.0
    cutover_seconds: float = 3.0


@dataclass
class Workload:
    uuid: str  # the source VM's vCenter instance UUID: Move's workload id
    vm_id: str
    name: str
    state: str = "NotStarted"
    since: float = 0.0
    until: float | None = None  # when the current timed state ends
    remaining: float = 0.0  # seeding time left when paused
    error: str = ""
    target_ext_id: str = ""
    stuck: bool = False
    fail_cutover: str = ""
    fail_restarts_source: bool = True
    size_bytes: int = 0
    prep_mode: str = "auto"
    prepared_at: float | None = None  # when guest preparation ends (or ended)
    prep_error: str = ""

    def preparation(self, now: float) -> str:
        """Where this guest's preparation stands: manual (the operator's), failed, unprepared, busy
        or passed."""
        if self.prep_mode != "auto":
            return "manual"
        if self.prep_error:
            return "failed"
        if self.prepared_at is None:
            return "unprepared"
        return "busy" if self.prepared_at > now else "passed"

    def progress(self, now: float, seeding: float) -> int:
        if self.state in ("ReadyToCutover", "CutoverInProgress", "Completed"):
            return 100
        if self.state == "DataSeeding":
            if self.stuck:
                return 37
            return min(99, int(100 * (1 - max(self.until - now, 0) / seeding))) if seeding else 99
        if self.state == "Paused":
            return min(99, int(100 * (1 - self.remaining / seeding))) if seeding else 0
        return 0


@dataclass
class Plan:
    uuid: str
    name: str
    spec: dict
    workloads: list[Workload]
    state: int = 0
    errors: list[str] = field(default_factory=list)


class MoveBackend:
    def __init__(
        self,
        clock: Clock,
        vcenter: VCenterBackend,
        vmm: VmmBackend,
        clusters: ClusterBackend,
        prism_user: tuple[str, str],
    ) -> None:
        self.clock = clock
        self.vcenter = vcenter
        self.vmm = vmm
        self.clusters = clusters
        # Move's own user is `nutanix` (the appliance default); the simulator gives it Prism's password.
        self.username = "nutanix"
        self.password = prism_user[1]
        self.prism_user = prism_user
        self.timing = MoveTiming()
        self.token_seconds = TOKEN_SECONDS
        self.ids = IdFactory(0)
        self.reset()

    def reset(self) -> None:
        self.tokens: dict[str, float] = {}
        self.providers: dict[str, dict] = {}
        self.plans: dict[str, Plan] = {}
        # Injected trouble for the next workloads that reach the step: messages, consumed in order.
        self.fail_next_cutover: list[tuple[str, bool, str]] = []
        self.stick_next_seeding = 0
        self.shapes = {kind: choices[0] for kind, choices in SHAPES.items()}

    def seed(self, seed: int, vcenter_host: str, pc_host: str) -> None:
        """The appliance as a demo finds it: the vCenter and the Prism Central already added."""
        self.reset()
        self.ids.reseed(seed * 104729 + 7)
        self.add_provider(
            {
                "name": "vcenter-east",
                "type": "ESXI",
                "esxaccessinfo": {
                    "iporfqdn": vcenter_host,
                    "username": self.vcenter.username,
                    "password": self.vcenter.password,
                },
            }
        )
        self.add_provider(
            {
                "name": "pc-01",
                "type": "AOS",
                "aosaccessinfo": {
                    "iporfqdn": pc_host,
                    "username": self.prism_user[0],
                    "password": self.prism_user[1],
                },
            }
        )

    # -- auth -------------------------------------------------------------------------------
    def login(self, username: str, password: str) -> tuple[str, float]:
        if not (
            secrets.compare_digest(username or "", self.username)
            and secrets.compare_digest(password or "", self.password)
        ):
            raise MoveError(401, "Invalid username or password", 20401)
        # JWT-shaped (header.payload.signature) though opaque here: nothing outside Move reads it.
        token = f"eyJhbGciOiJIUzI1NiJ9.{secrets.token_urlsafe(24)}.{secrets.token_urlsafe(16)}"
        expiry = self.clock.now() + self.token_seconds
        self.tokens[token] = expiry
        return token, expiry

    def check_token(self, header: str | None) -> None:
        """`Bearer <jwt>` and a bare `<jwt>` both work, as working clients send either."""
        token = (header or "").strip()
        if token.lower().startswith("bearer "):
            token = token[7:].strip()
        expiry = self.tokens.get(token)
        if expiry is None or expiry <= self.clock.now():
            self.tokens.pop(token, None)
            raise MoveError(401, "Token is invalid or expired, please login again", 20401)

    def revoke(self, token: str) -> None:
        self.tokens.pop(token, None)

    def expire_tokens(self) -> int:
        count = len(self.tokens)
        self.tokens.clear()
        return count

    # -- providers --------------------------------------------------------------------------
    def add_provider(self, spec: dict) -> dict:
        name = spec.get("name")
        if not name:
            raise bad("Spec.Name is required")
        if any(p["Spec"]["Name"] == name for p in self.providers.values()):
            raise MoveError(409, f"Provider with name {name} already exists", 20409)
        kind = str(spec.get("type", "")).upper()
        if kind == "ESXI":
            access = spec.get("esxaccessinfo") or {}
            if (
                access.get("username") != self.vcenter.username
                or access.get("password") != self.vcenter.password
            ):
                raise MoveError(401, "Failed to connect to vCenter: invalid credentials", 20402)
        elif kind == "AOS":
            access = spec.get("aosaccessinfo") or {}
            if (access.get("username"), access.get("password")) != self.prism_user:
                raise MoveError(401, "Failed to connect to Prism: invalid credentials", 20402)
        else:
            raise bad(f"Spec.Type '{spec.get('type')}' is not supported; use ESXI or AOS")
        if not access.get("iporfqdn"):
            raise bad("Spec.%sAccessInfo.IPorFQDN is required" % ("ESX" if kind == "ESXI" else "AOS"))
        uuid = self.ids.uuid()
        provider = {
            "MetaData": {"UUID": uuid},
            "Spec": {
                "UUID": uuid,
                "Name": name,
                # The VMware read-back type is a reconstruction [R]; AOS_PC is attested.
                "Type": "VMWARE_ESXI_VCENTER" if kind == "ESXI" else "AOS_PC",
                "TypeDescription": "VMware ESXi via vCenter" if kind == "ESXI" else "Nutanix Prism Central",
                "Version": "8.0.2" if kind == "ESXI" else "pc.7.3",
                "Role": SOURCE if kind == "ESXI" else TARGET,
            },
            "Status": {"State": "Connected"},
        }
        access_key = "ESXAccessInfo" if kind == "ESXI" else "AOSAccessInfo"
        # The password is kept apart: it never comes back in a read.
        provider["Spec"][access_key] = {"IPorFQDN": access["iporfqdn"], "Username": access["username"]}
        self.providers[uuid] = provider
        return self.provider(uuid)

    def provider(self, uuid: str) -> dict:
        found = self.providers.get(uuid)
        if found is None:
            raise not_found("Provider", uuid)
        out = copy.deepcopy(found)
        if found["Spec"]["Role"] == SOURCE:
            out["MetaData"]["NumDiscoveredWorkloads"] = len(self.vcenter.vms)
        else:
            out["Spec"]["AOSProperties"] = self.target_inventory()
            out["MetaData"]["NumDiscoveredWorkloads"] = len(self.vmm.vms)
        return out

    def list_providers(self, role: int | None) -> list[dict]:
        return [self.provider(u) for u, p in self.providers.items() if role in (None, p["Spec"]["Role"])]

    def delete_provider(self, uuid: str) -> None:
        if uuid not in self.providers:
            raise not_found("Provider", uuid)
        used = [
            p.name
            for p in self.plans.values()
            if uuid in (_provider_of(p, "sourceinfo"), _provider_of(p, "targetinfo"))
        ]
        if used:
            raise MoveError(409, f"Provider is used by plan(s) {', '.join(used)}; delete them first", 20409)
        del self.providers[uuid]

    def target_inventory(self) -> dict:
        """Each AOS cluster with the storage containers and subnets its VMs use."""
        clusters = []
        for cluster in self.clusters.clusters:
            if "AOS" not in cluster["config"]["clusterFunction"]:
                continue
            containers, subnets = {}, {}
            for vm in self.vmm.vms:
                if (vm.get("cluster") or {}).get("extId") != cluster["extId"]:
                    continue
                for disk in vm.get("disks") or ():
                    ref = ((disk.get("backingInfo") or {}).get("storageContainer") or {}).get("extId")
                    if ref:
                        containers.setdefault(
                            ref, {"UUID": ref, "Name": f"default-container-{cluster['name']}"}
                        )
                for nic in vm.get("nics") or ():
                    ref = ((nic.get("networkInfo") or {}).get("subnet") or {}).get("extId")
                    if ref:
                        subnets.setdefault(ref, {"UUID": ref, "Name": f"vlan0-{cluster['name']}"})
            clusters.append(
                {
                    "UUID": cluster["extId"],
                    "Name": cluster["name"],
                    "Containers": list(containers.values()),
                    "Networks": list(subnets.values()),
                }
            )
        return {"Clusters": clusters, "Networks": [n for c in clusters for n in c["Networks"]]}

    def source_workloads(self, uuid: str, body: dict) -> dict:
        provider = self.providers.get(uuid)
        if provider is None:
            raise not_found("Provider", uuid)
        if provider["Spec"]["Role"] != SOURCE:
            raise bad(f"Provider {uuid} is a target; list the source provider's workloads")
        names = {n["network"]: n["name"] for n in NETWORKS}
        clusters = {c["cluster"]: c["name"] for c in CLUSTERS}
        query = str(body.get("query") or "").lower()
        wanted = set((body.get("filter") or {}).get("clusters") or [])
        # Spelled ShowVMs and ShowVMS by clients: folded keys match both.
        show = str(body.get("showvms") or "eligiblevms").lower()
        if show not in SHOW_VMS:
            raise bad(f"ShowVMs '{body.get('showvms')}' is not one of {', '.join(SHOW_VMS)}")
        out = []
        for vm in self.vcenter.vms.values():
            if not SHOW_VMS[show](vm):
                continue
            if query and query not in vm.name.lower():
                continue
            if wanted and clusters[vm.cluster] not in wanted:
                continue
            out.append(
                {
                    "VMName": vm.name,
                    "VMUuid": vm.instance_uuid,
                    "VmID": vm.vm,
                    "PowerState": "poweredOn" if vm.power_state == "POWERED_ON" else "poweredOff",
                    "ClusterName": clusters[vm.cluster],
                    "DatacenterName": "dc-east",
                    "HostName": vm.host,
                    "OSType": vm.guest[1].lower(),
                    "NumEthernetCards": len(vm.networks),
                    "Networks": [{"ID": n, "Name": names[n]} for n in vm.networks],
                }
            )
        if str(body.get("sortby") or "") == "VMName":
            out.sort(key=lambda e: e["VMName"], reverse=bool(body.get("sortorderdesc")))
        count = len(out)
        limit = body.get("limit")
        limit = min(limit, PAGE_LIMIT) if isinstance(limit, int) and limit > 0 else PAGE_LIMIT
        # AfterOffset as a count of VMs to skip is a reconstruction [R] (commented out in S6).
        offset = body.get("afteroffset")
        offset = offset if isinstance(offset, int) and offset > 0 else 0
        return {"Entities": out[offset : offset + limit], "MetaData": {"Count": count}}

    # -- plans ------------------------------------------------------------------------------
    def create_plan(self, spec: dict) -> Plan:
        name = spec.get("name")
        if not name:
            raise bad("Spec.Name is required")
        if any(p.name == name for p in self.plans.values()):
            raise MoveError(409, f"Migration plan with name {name} already exists", 20409)
        source = self.providers.get(_provider_of_spec(spec, "sourceinfo"))
        if source is None or source["Spec"]["Role"] != SOURCE:
            raise bad("Spec.SourceInfo.ProviderUUID must name a source (vCenter/ESXi) provider")
        target = self.providers.get(_provider_of_spec(spec, "targetinfo"))
        if target is None or target["Spec"]["Role"] != TARGET:
            raise bad("Spec.TargetInfo.ProviderUUID must name a target (Prism Central/AHV) provider")
        attrs = (spec.get("targetinfo") or {}).get("aosproviderattrs") or {}
        cluster = next(
            (c for c in self.target_inventory()["Clusters"] if c["UUID"] == attrs.get("clusteruuid")), None
        )
        if cluster is None:
            raise bad("Spec.TargetInfo.AOSProviderAttrs.ClusterUUID is not a cluster of the target provider")
        if attrs.get("containeruuid") not in {c["UUID"] for c in cluster["Containers"]}:
            raise bad("Spec.TargetInfo.AOSProviderAttrs.ContainerUUID is not a container of that cluster")
        subnets = {n["UUID"] for n in cluster["Networks"]}
        for i, mapping in enumerate(spec.get("networkmappings") or []):
            if mapping.get("targetnetworkid") not in subnets:
                raise bad(f"Spec.NetworkMappings[{i}].TargetNetworkID is not a network of the target cluster")
            test = mapping.get("testnetworkid")
            if test and test == mapping.get("targetnetworkid"):
                raise MoveError(400, "Test network cannot be the same as the production network", 20538)
        vms = ((spec.get("workload") or {}).get("vms")) or []
        if not vms:
            raise bad("Spec.Workload.VMs must list at least one VM")
        workloads = []
        for i, entry in enumerate(vms):
            ref = entry.get("vmreference") or {}
            vm = self.vcenter.by_instance_uuid(str(ref.get("uuid") or ""))
            if vm is None:
                raise bad(
                    f"Spec.Workload.VMs[{i}].VMReference.UUID '{ref.get('uuid')}' is not a VM of the source "
                    "(give the vCenter instance UUID)"
                )
            busy = self._active_plan_of(vm.instance_uuid)
            if busy:
                raise MoveError(409, f"VM {vm.name} is already part of migration plan {busy}", 20410)
            size = sum(vm.disks_gib) * GIB
            mode = str(
                entry.get("guestprepmode") or (spec.get("settings") or {}).get("guestprepmode") or "auto"
            )
            workloads.append(
                Workload(vm.instance_uuid, vm.vm, vm.name, size_bytes=size, prep_mode=mode.lower())
            )
        plan = Plan(self.ids.uuid(), name, _canonical_spec(spec, cluster), workloads)
        self.plans[plan.uuid] = plan
        return plan

    def _active_plan_of(self, instance_uuid: str) -> str:
        for plan in self.plans.values():
            if plan.state not in (6, 7, 8) and any(w.uuid == instance_uuid for w in plan.workloads):
                return plan.name
        return ""

    def plan(self, uuid: str) -> Plan:
        found = self.plans.get(uuid)
        if found is None:
            raise not_found("Migration plan", uuid)
        return found

    def delete_plan(self, uuid: str) -> None:
        plan = self.plan(uuid)
        if plan.state in (4, 5, 10):
            raise MoveError(
                409, f"Plan {plan.name} is {PLAN_STATES[plan.state]}; cancel it before deleting it", 20409
            )
        del self.plans[uuid]

    def readiness(self, uuid: str) -> dict:
        """The checks Move runs before seeding; per VM, what would stop it."""
        plan = self.plan(uuid)
        mapped = {m.get("SourceNetworkID") for m in plan.spec["NetworkMappings"]}
        passed, failed = [], []
        for w in plan.workloads:
            for check_type, message in self._vm_problems(w, mapped):
                failed.append({"UUID": w.uuid, "VMName": w.name, "CheckType": check_type, "Message": message})
            if not any(f["UUID"] == w.uuid for f in failed):
                passed.append(
                    {"UUID": w.uuid, "VMName": w.name, "CheckType": "VMChecks", "Message": "Passed"}
                )
        plan_checks = [
            {"CheckType": "SourceConnectivity", "Message": "Source provider reachable"},
            {"CheckType": "TargetConnectivity", "Message": "Target provider reachable"},
        ]
        return {
            "Status": {
                "Passed": plan_checks,
                "Failed": None,
                "VMChecksResult": {"Passed": passed or None, "Failed": failed or None},
            }
        }

    def prepare(self, uuid: str, spec: dict) -> dict:
        """Guest preparation [C: the call, its CommonCredentials and VMs, its Passed/Failed answer and
        InstallationInProgress, re-sent until done (S2, S3)]. Which guests fail and the messages are
        a reconstruction [R]. A VM in manual preparation is the operator's to prepare [R]."""
        plan = self.plan(uuid)
        if plan.state != 0:
            raise MoveError(
                409,
                f"Migration plan {plan.name} is {PLAN_STATES[plan.state]}; prepare guests before starting it",
                20409,
            )
        common = spec.get("commoncredentials") or {}
        per_vm = {str(v.get("uuid")): v for v in spec.get("vms") or [] if isinstance(v, dict)}
        now = self.clock.now()
        passed, failed, busy = [], [], []
        for w in plan.workloads:
            if w.preparation(now) in ("failed", "unprepared"):
                w.prep_error = self._guest_login(w, common, per_vm.get(w.uuid) or {})
                w.prepared_at = None if w.prep_error else now + self.timing.prepare_seconds
            entry = {"UUID": w.uuid, "VMName": w.name}
            stage = w.preparation(now)
            if stage == "failed":
                failed.append({**entry, "Status": "Failed", "Message": w.prep_error})
            elif stage == "busy":
                busy.append(entry)
            elif stage == "passed":
                passed.append({**entry, "Status": "Passed", "Message": "Guest preparation completed"})
        result = {"Passed": passed or None, "Failed": failed or None, "InstallationInProgress": busy or None}
        return {"Status": {"Result": result}}

    def _guest_login(self, w: Workload, common: dict, own: dict) -> str:
        """Why Move could not log in to prepare the guest; empty when it could."""
        vm = self.vcenter.vms.get(w.vm_id)
        if vm is None:
            return f"VM {w.name} no longer exists in the source"
        if not vm.tools_running:
            return f"VMware Tools is not running in VM {w.name}; guest preparation needs it running"
        family = vm.guest[1].capitalize()
        user, password = own.get("username"), own.get("password")
        if not user:
            user, password = common.get(f"{family.lower()}username"), common.get(f"{family.lower()}password")
        if not user:
            return (
                f"No {family} credentials for VM {w.name}: give CommonCredentials.{family}UserName "
                "or the VM's own UserName"
            )
        if not self.vcenter.guest_login_ok(vm, str(user), str(password or "")):
            return f"Guest login failed for VM {w.name} as {user}: check the {family} credentials"
        return ""

    def _vm_problems(self, w: Workload, mapped: set) -> list[tuple[str, str]]:
        vm = self.vcenter.vms.get(w.vm_id)
        if vm is None:
            return [("SourceVM", f"VM {w.name} no longer exists in the source")]
        out = []
        if w.preparation(self.clock.now()) not in ("manual", "passed"):
            # The check's name and text are a reconstruction [R]; that readiness fails is not.
            why = w.prep_error or "it was not prepared (or is still being prepared)"
            out.append(("GuestPreparation", f"Guest preparation of VM {w.name} is not done: {why}"))
        if not vm.tools_installed:
            out.append(
                ("VMwareTools", "VMware Tools are not installed or not running; install them to migrate")
            )
        if vm.disk_bus == "NVME":
            out.append(("DiskType", "Disks on an NVMe controller are not supported; move them to SCSI"))
        missing = [n for n in vm.networks if n not in mapped]
        if missing:
            out.append(("NetworkMapping", f"No network mapping for source network(s) {', '.join(missing)}"))
        return out

    def start(self, uuid: str) -> None:
        plan = self.plan(uuid)
        if plan.state in (4, 5):
            raise MoveError(409, f"Migration plan {plan.name} is already in progress", 20409)
        if plan.state != 0:
            raise MoveError(
                409, f"Migration plan {plan.name} is {PLAN_STATES[plan.state]}; it cannot start", 20409
            )
        now = self.clock.now()
        mapped = {m.get("SourceNetworkID") for m in plan.spec["NetworkMappings"]}
        plan.state = 4
        for w in plan.workloads:
            problems = self._vm_problems(w, mapped)
            if problems:
                # Move fails the VM that fails validation and seeds the others.
                self._set(w, "Failed", now)
                w.error = "; ".join(message for _, message in problems)
                continue
            self._set(w, "DataSeeding", now, now + self.timing.seeding_seconds)
            if self.stick_next_seeding:
                self.stick_next_seeding -= 1
                w.stuck = True
        self._settle(plan)

    def suspend(self, uuid: str) -> None:
        plan = self.plan(uuid)
        if plan.state != 4:
            raise MoveError(409, f"Migration plan {plan.name} is not in progress", 20409)
        now = self.clock.now()
        plan.state = 5
        for w in plan.workloads:
            if w.state == "DataSeeding":
                w.remaining = max((w.until or now) - now, 0.0)
                self._set(w, "Paused", now)

    def resume(self, uuid: str) -> None:
        plan = self.plan(uuid)
        if plan.state != 5:
            raise MoveError(409, f"Migration plan {plan.name} is not paused", 20409)
        now = self.clock.now()
        plan.state = 4
        for w in plan.workloads:
            if w.state == "Paused":
                self._set(w, "DataSeeding", now, now + w.remaining)

    def cancel(self, uuid: str) -> None:
        plan = self.plan(uuid)
        if plan.state not in (4, 5):
            raise MoveError(409, f"Migration plan {plan.name} is not running", 20409)
        now = self.clock.now()
        for w in plan.workloads:
            if w.state not in VM_DONE and w.state != "CutoverInProgress":
                self._set(w, "Cancelled", now)
        # A cutover already under way finishes; the plan is Aborted once it has.
        plan.state = 10 if any(w.state == "CutoverInProgress" for w in plan.workloads) else 6

    def action(self, uuid: str, vm_uuid: str, action: str) -> None:
        plan = self.plan(uuid)
        workload = next((w for w in plan.workloads if w.uuid == vm_uuid), None)
        if workload is None:
            raise not_found("Workload", vm_uuid)
        verb = str(action or "").lower()
        if verb not in ("cutover", "test", "undotest", "retest"):
            raise bad(f"Spec.Action '{action}' is not one of cutover, test, undotest, retest")
        if verb != "cutover":
            raise MoveError(501, f"Action {verb} is not served by the day2ops Move simulator", 20501)
        if "CUTOVER" not in self._vm_actions(plan, workload):
            raise MoveError(
                409, f"Cutover is not allowed for VM {workload.name} in state {workload.state}", 20409
            )
        now = self.clock.now()
        self.vcenter.shut_down_for_cutover(workload.vm_id)
        for i, (message, restarts, vm_name) in enumerate(self.fail_next_cutover):
            if vm_name in ("", workload.name):
                workload.fail_cutover, workload.fail_restarts_source = message, restarts
                del self.fail_next_cutover[i]
                break
        self._set(workload, "CutoverInProgress", now, now + self.timing.cutover_seconds)

    # -- time -------------------------------------------------------------------------------
    def sweep(self, until: float) -> None:
        """Every timed state that ends by `until`, in time order, so a poll sees what a real one would."""
        while True:
            due = [
                (w.until, p, w)
                for p in self.plans.values()
                for w in p.workloads
                if w.until is not None and w.until <= until and not (w.stuck and w.state == "DataSeeding")
            ]
            if not due:
                return
            at, plan, w = min(due, key=lambda d: d[0])
            if w.state == "DataSeeding":
                self._set(w, "ReadyToCutover", at)
            elif w.state == "CutoverInProgress":
                self._finish_cutover(plan, w, at)
            self._settle(plan)

    def _finish_cutover(self, plan: Plan, w: Workload, at: float) -> None:
        if w.fail_cutover:
            # By default the source comes back up: Move leaves the workload where it was running [R].
            vm = self.vcenter.vms.get(w.vm_id)
            if vm is not None and w.fail_restarts_source:
                vm.power_state = "POWERED_ON"
            w.error = w.fail_cutover
            self._set(w, "Failed", at)
            return
        w.target_ext_id = self._create_target_vm(plan, w)
        self._set(w, "Completed", at)

    def _create_target_vm(self, plan: Plan, w: Workload) -> str:
        source = self.vcenter.vms[w.vm_id]
        attrs = plan.spec["TargetInfo"]["AOSProviderAttrs"]
        mapping = {m["SourceNetworkID"]: m["TargetNetworkID"] for m in plan.spec["NetworkMappings"]}
        ext_id = self.ids.uuid()
        now = self.clock.iso()
        windows = source.guest[1] == "WINDOWS"
        vm = {
            "extId": ext_id,
            "name": source.name,
            "description": f"Migrated from vCenter by Nutanix Move plan {plan.name}",
            "createTime": now,
            "updateTime": now,
            "numSockets": source.cpu_count,
            "numCoresPerSocket": 1,
            "numThreadsPerCore": 1,
            "numNumaNodes": 0,
            "memorySizeBytes": source.memory_mib * 1024**2,
            "machineType": "Q35" if windows else "PC",
            "powerState": "ON",
            "cluster": {"extId": attrs["ClusterUUID"]},
            "categories": [],
            "generationUuid": self.ids.uuid(),
            "biosUuid": source.bios_uuid,
            "hardwareClockTimezone": "UTC",
            "isAgentVm": False,
            "protectionType": "UNPROTECTED",
            "disks": self._target_disks(source, attrs["ContainerUUID"]),
            "nics": self._target_nics(source, mapping),
            "cdRoms": [],
            "gpus": [],
            "serialPorts": [],
            "guestTools": no_guest_tools(),
        }
        self.vmm.vms.add(vm)
        return ext_id

    def _target_disks(self, source, container: str) -> list[dict]:
        """The AHV VM's SCSI disks, one per vCenter disk, in the plan's storage container."""
        return [
            {
                "extId": self.ids.uuid(),
                "diskAddress": {"busType": "SCSI", "index": i},
                "backingInfo": {
                    "$objectType": "vmm.v4.ahv.config.VmDisk",
                    "diskExtId": self.ids.uuid(),
                    "diskSizeBytes": size * GIB,
                    "storageContainer": {"extId": container},
                    "isMigrationInProgress": False,
                },
            }
            for i, size in enumerate(source.disks_gib)
        ]

    def _target_nics(self, source, mapping: dict[str, str]) -> list[dict]:
        """The AHV VM's NICs, keeping each MAC, on the subnet the plan maps its port group to."""
        return [
            {
                "extId": self.ids.uuid(),
                "backingInfo": {"model": "VIRTIO", "macAddress": mac, "isConnected": True, "numQueues": 1},
                "networkInfo": {
                    "nicType": "NORMAL_NIC",
                    "subnet": {"extId": mapping[net]},
                    "vlanMode": "ACCESS",
                },
            }
            for net, mac in zip(source.networks, source.macs, strict=True)
        ]

    def _set(self, w: Workload, state: str, at: float, until: float | None = None) -> None:
        w.state, w.since, w.until = state, at, until

    def _settle(self, plan: Plan) -> None:
        """The plan ends when its last workload does: Completed if all did, Failed if any failed."""
        if plan.state not in (4, 10) or any(w.state not in VM_DONE for w in plan.workloads):
            return
        if plan.state == 10:
            plan.state = 6
        elif any(w.state == "Failed" for w in plan.workloads):
            plan.state = 8
            plan.errors = [f"{w.name}: {w.error}" for w in plan.workloads if w.state == "Failed"]
        elif all(w.state == "Cancelled" for w in plan.workloads):
            plan.state = 6
        else:
            plan.state = 7

    # -- wire -------------------------------------------------------------------------------
    def _vm_actions(self, plan: Plan, w: Workload) -> list[str]:
        if plan.state == 4 and w.state == "ReadyToCutover":
            return ["CUTOVER", "TEST"]
        return []

    def plan_actions(self, plan: Plan) -> list[str]:
        return {
            0: ["START", "UPDATE", "DELETE"],
            4: ["SUSPEND", "CANCEL"],
            5: ["RESUME", "CANCEL"],
            10: [],
        }.get(plan.state, ["DELETE"])

    def vm_status(self, plan: Plan, w: Workload) -> dict:
        now = self.clock.now()
        pct = w.progress(now, self.timing.seeding_seconds)
        out = {
            "UUID": w.uuid,
            "VMId": w.vm_id,
            "Name": w.name,
            "State": VM_STATES[w.state],
            "StateString": w.state,
            "Actions": self._vm_actions(plan, w),
            "Progress": pct,
            "ProgressPercentage": pct,
            "TotalDataSizeInBytes": w.size_bytes,
            "CopiedDataSizeInBytes": w.size_bytes * pct // 100,
            "MigratedDataSizeInBytes": w.size_bytes if w.state == "Completed" else 0,
        }
        if w.state == "DataSeeding" and not w.stuck and w.until is not None:
            out["ETAInSecs"] = int(max(w.until - now, 0))
        if w.error:
            out["ErrorMessage"] = w.error
        if w.target_ext_id:
            pc = self.providers_of_plan_target(plan)
            out["VmConsoleLink"] = f"https://{pc}:9440/vnc/vm/{w.target_ext_id}/proxy"
            out["VmLink"] = f"https://{pc}:9440/console/#page/explore/s/vms/{w.target_ext_id}"
        return out

    def providers_of_plan_target(self, plan: Plan) -> str:
        target = self.providers.get(plan.spec["TargetInfo"]["ProviderUUID"])
        return target["Spec"]["AOSAccessInfo"]["IPorFQDN"] if target else "prism-central"

    def plan_wire(self, plan: Plan, details: bool) -> dict:
        counts: dict[str, int] = {}
        for w in plan.workloads:
            counts[w.state] = counts.get(w.state, 0) + 1
        statuses = [self.vm_status(plan, w) for w in plan.workloads]
        meta = {
            "UUID": plan.uuid,
            "Name": plan.name,
            "State": plan.state,
            "StateString": "MigrationPlanState" + PLAN_STATES[plan.state],
            "StatusString": {7: "StatusCompleted", 8: "StatusFailed", 6: "StatusAborted"}.get(
                plan.state, "StatusInProgress" if plan.state in (4, 5, 10) else "StatusNotStarted"
            ),
            "NumVMs": len(plan.workloads),
            "VMStateCounts": counts,
            "DataInBytes": sum(w.size_bytes for w in plan.workloads),
            "MigratedDataInBytes": sum(s["CopiedDataSizeInBytes"] for s in statuses),
            "SourceInfo": {
                "Name": self._provider_name(plan.spec["SourceInfo"]["ProviderUUID"]),
                "Type": "ESXI",
            },
            "TargetInfo": {
                "Name": self._provider_name(plan.spec["TargetInfo"]["ProviderUUID"]),
                "Type": "AOS",
                "Cluster": {"Name": plan.spec["TargetInfo"]["ClusterName"]},
            },
            "Schedule": plan.spec["Settings"]["Schedule"],
            "ErrorReasons": list(plan.errors),
            "Actions": self.plan_actions(plan),
        }
        if details:
            meta["VMStatus"] = statuses
        if self.shapes["plan"] == "metadata":
            return {"MetaData": meta, "Status": {}}
        return {"MetaData": meta, "Spec": copy.deepcopy(plan.spec), "Status": {}}

    def _provider_name(self, uuid: str) -> str:
        found = self.providers.get(uuid)
        return found["Spec"]["Name"] if found else ""

    def workloads_wire(self, plan: Plan) -> dict:
        """The shape `shapes["workloads"]` names: Status{Actions, VMStatus} (S3), Entities[] (S5),
        both, or neither."""
        statuses = [self.vm_status(plan, w) for w in plan.workloads]
        shape = self.shapes["workloads"]
        out: dict = {"MetaData": {"Count": len(statuses)}}
        if shape in ("both", "status"):
            out["Status"] = {"Actions": self.plan_actions(plan), "VMStatus": statuses}
        if shape in ("both", "entities"):
            out["Entities"] = [{"MetaData": s} for s in statuses]
        if shape == "unknown":
            out["VMs"] = statuses
        return out


def _provider_of_spec(spec: dict, side: str) -> str:
    return str((spec.get(side) or {}).get("provideruuid") or "")


def _provider_of(plan: Plan, side: str) -> str:
    return plan.spec["SourceInfo" if side == "sourceinfo" else "TargetInfo"]["ProviderUUID"]


def _canonical_spec(spec: dict, cluster: dict) -> dict:
    """The plan's Spec as Move echoes it, in Move's own key case whatever case the client sent."""
    attrs = (spec.get("targetinfo") or {}).get("aosproviderattrs") or {}
    settings = spec.get("settings") or {}
    schedule = settings.get("schedule") or {}
    return {
        "Name": spec["name"],
        "SourceInfo": {"ProviderUUID": _provider_of_spec(spec, "sourceinfo")},
        "TargetInfo": {
            "ProviderUUID": _provider_of_spec(spec, "targetinfo"),
            "ClusterName": cluster["Name"],
            "AOSProviderAttrs": {
                "ClusterUUID": attrs["clusteruuid"],
                "ContainerUUID": attrs["containeruuid"],
            },
        },
        "NetworkMappings": [
            {
                "SourceNetworkID": m.get("sourcenetworkid"),
                "TargetNetworkID": m.get("targetnetworkid"),
                "TestNetworkID": m.get("testnetworkid") or "",
            }
            for m in spec.get("networkmappings") or []
        ],
        "Settings": {
            "GuestPrepMode": settings.get("guestprepmode", "auto"),
            "NicConfigMode": settings.get("nicconfigmode", "retain"),
            "Bandwidth": settings.get("bandwidth"),
            "Schedule": {
                "ScheduleAtEpochSec": schedule.get("scheduleatepochsec", -1),
                "RWStartTimeAtEpochSec": schedule.get("rwstarttimeatepochsec", 0),
                "RWEndTimeAtEpochSec": schedule.get("rwendtimeatepochsec", 0),
            },
        },
        "Workload": {
            "Type": "VM",
            "VMs": [
                {
                    "VMReference": {
                        "UUID": (v.get("vmreference") or {}).get("uuid"),
                        "VMID": (v.get("vmreference") or {}).get("vmid", ""),
                        "VMName": (v.get("vmreference") or {}).get("vmname", ""),
                    },
                    **{
                        key: v[key.lower()]
                        for key in (
                            "GuestPrepMode",
                            "AllowUVMOps",
                            "InstallNGT",
                            "UninstallGuestTools",
                            "RetainMacAddress",
                        )
                        if key.lower() in v
                    },
                }
                for v in (spec.get("workload") or {}).get("vms") or []
            ],
        },
    }
