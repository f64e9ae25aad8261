"""vmm: AHV VMs — CRUD, power actions, clone and Category association, each through a task."""

import copy

from ..core.clock import Clock
from ..core.errors import ApiError, bad_request, code, invalid_argument, not_found
from ..core.ids import IdFactory
from ..core.store import Collection
from .categories import CategoryBackend
from .clustermgmt import ClusterBackend
from .guest_network import GuestNetwork
from .guests import GuestBackend
from .tasks import EntityRef, Task, TaskBackend

NS = "vmm"
VM_REL = "vmm:ahv:config:vm"
# What a VM PUT may change. Devices, power state and categories have their own endpoints, and
# read-only fields are Prism's to set, so those are ignored in a PUT body.
UPDATABLE = (
    "name",
    "description",
    "numSockets",
    "numCoresPerSocket",
    "numThreadsPerCore",
    "numNumaNodes",
    "memorySizeBytes",
    "hardwareClockTimezone",
    "isAgentVm",
    "isCpuHotplugEnabled",
    "isMemoryOvercommitEnabled",
    "isVcpuHardPinningEnabled",
    "isCpuPassthroughEnabled",
    "isVgaConsoleEnabled",
    "isGpuConsoleEnabled",
    "isBrandingEnabled",
    "machineType",
    "bootConfig",
    "enabledCpuFeatures",
    "apcConfig",
    "vtpmConfig",
    "ownershipInfo",
)
POSITIVE_INTS = ("numSockets", "numCoresPerSocket", "numThreadsPerCore", "memorySizeBytes")
# What a clone or a template deployment may override in the copy it makes (beside the name and NICs).
SHAPE_OVERRIDES = (*POSITIVE_INTS, "guestCustomization")
MACHINE_TYPES = ("PC", "PSERIES", "Q35")

# action -> (task operation, description, states it may start from, resulting state, needs NGT)
POWER = {
    "power-on": ("PowerOnVm", "Power on VM", ("OFF", "PAUSED"), "ON", False),
    "power-off": ("PowerOffVm", "Power off VM", ("ON", "PAUSED"), "OFF", False),
    "shutdown": ("ShutdownVm", "Shut down VM using ACPI", ("ON",), "OFF", False),
    "guest-shutdown": ("ShutdownGuestVm", "Shut down VM using NGT", ("ON",), "OFF", True),
    "reboot": ("RebootVm", "Reboot VM using ACPI", ("ON",), "ON", False),
    "guest-reboot": ("RebootGuestVm", "Reboot VM using NGT", ("ON",), "ON", True),
    "reset": ("ResetVm", "Reset VM", ("ON",), "ON", False),
    "power-cycle": ("PowerCycleVm", "Power cycle VM", ("ON",), "ON", False),
}


def no_guest_tools() -> dict:
    """guestTools of a VM that has never had NGT: a new VM, or one that Move just brought over."""
    return {
        "isInstalled": False,
        "isEnabled": False,
        "isIsoInserted": False,
        "isReachable": False,
        "isVssSnapshotCapable": False,
    }


def check_positive_ints(spec: dict, prefix: str = "") -> None:
    for name in POSITIVE_INTS:
        if (
            name in spec
            and spec[name] is not None
            and (not isinstance(spec[name], int) or isinstance(spec[name], bool) or spec[name] < 1)
        ):
            raise bad_request(
                NS, f"'{prefix}{name}' must be an integer of at least 1, got {spec[name]!r}.", prefix + name
            )


def check_name(spec: dict, required: bool, prefix: str = "") -> None:
    name = spec.get("name")
    if name is None and not required:
        return
    if not isinstance(name, str) or not 1 <= len(name) <= 80:
        raise bad_request(NS, f"'{prefix}name' must be a string of 1 to 80 characters.", prefix + "name")


class VmmBackend:
    def __init__(
        self,
        clock: Clock,
        ids: IdFactory,
        tasks: TaskBackend,
        clusters: ClusterBackend,
        categories: CategoryBackend,
        guests: GuestBackend,
    ) -> None:
        self.clock = clock
        self.ids = ids
        self.tasks = tasks
        self.clusters = clusters
        self.categories = categories
        self.guests = guests
        self.network = GuestNetwork()
        self.vms = Collection("vm")

    def reset(self) -> None:
        self.vms.clear()
        self.network.reset()

    # -- reads -------------------------------------------------------------------------------
    def get(self, ext_id: str) -> dict:
        vm = self.vms.get(ext_id)
        if vm is None:
            raise not_found(NS, "VM", ext_id)
        return vm

    def _ref(self, vm: dict) -> EntityRef:
        return EntityRef(vm["extId"], VM_REL, vm.get("name"))

    def submit_for(self, op: str, description: str, vm: dict, effect, extra: list[EntityRef] = ()) -> Task:
        return self.tasks.submit(
            op,
            description,
            [self._ref(vm), *extra],
            effect,
            [vm["cluster"]["extId"]] if vm.get("cluster") else [],
        )

    def changed(self, vm: dict) -> None:
        vm["updateTime"] = self.clock.iso()
        self.vms.touch(vm["extId"])

    def alive(self, ext_id: str) -> dict:
        """The VM a finishing task acts on; it may have been deleted while the task was queued."""
        vm = self.vms.get(ext_id)
        if vm is None:
            raise ApiError(404, f"VM '{ext_id}' no longer exists.", code(NS, 20005))
        return vm

    # -- create / update / delete ------------------------------------------------------------
    def create(self, spec: dict) -> Task:
        check_name(spec, required=True)
        check_positive_ints(spec)
        cluster_ref = (spec.get("cluster") or {}).get("extId")
        if not cluster_ref:
            raise bad_request(
                NS, "'cluster.extId' is required: the AOS cluster the VM is created on.", "cluster.extId"
            )
        cluster = self.clusters.workload(cluster_ref)
        if cluster is None:
            raise invalid_argument(
                NS,
                f"Cluster '{cluster_ref}' is not an AOS cluster managed by this Prism "
                "Central; VMs can only be placed on AOS clusters.",
            )
        self.check_category_refs(spec.get("categories") or [], "categories")
        if spec.get("machineType", "PC") not in MACHINE_TYPES:
            raise bad_request(NS, f"'machineType' must be one of {', '.join(MACHINE_TYPES)}.", "machineType")
        now = self.clock.iso()
        vm = {
            "extId": self.ids.uuid(),
            "name": spec["name"],
            "createTime": now,
            "updateTime": now,
            "numSockets": spec.get("numSockets") or 1,
            "numCoresPerSocket": spec.get("numCoresPerSocket") or 1,
            "numThreadsPerCore": spec.get("numThreadsPerCore") or 1,
            "numNumaNodes": 0,
            "memorySizeBytes": spec.get("memorySizeBytes") or 1024**3,
            "machineType": spec.get("machineType", "PC"),
            "powerState": "OFF",
            "cluster": {"extId": cluster_ref},
            "categories": [{"extId": c["extId"]} for c in spec.get("categories") or []],
            "generationUuid": self.ids.uuid(),
            "biosUuid": self.ids.uuid(),
            "hardwareClockTimezone": spec.get("hardwareClockTimezone", "UTC"),
            "isAgentVm": bool(spec.get("isAgentVm", False)),
            "protectionType": "UNPROTECTED",
            "disks": [self._new_disk(d) for d in spec.get("disks") or []],
            "nics": [self._new_nic(n) for n in spec.get("nics") or []],
            "cdRoms": [],
            "gpus": [],
            "serialPorts": [],
            "guestTools": no_guest_tools(),
        }
        for optional in ("description", "bootConfig", "guestCustomization", "ownershipInfo"):
            if spec.get(optional) is not None:
                vm[optional] = copy.deepcopy(spec[optional])

        def effect():
            self.vms.add(vm)
            return None

        return self.submit_for("CreateVm", "Create VM", vm, effect)

    def _new_disk(self, disk: dict) -> dict:
        out = copy.deepcopy(disk)
        out["extId"] = self.ids.uuid()
        backing = out.get("backingInfo")
        if isinstance(backing, dict) and backing.get("$objectType", "vmm.v4.ahv.config.VmDisk").endswith(
            "VmDisk"
        ):
            backing.setdefault("$objectType", "vmm.v4.ahv.config.VmDisk")
            backing["diskExtId"] = self.ids.uuid()
            backing.setdefault("diskSizeBytes", 10 * 1024**3)
            backing.setdefault("isMigrationInProgress", False)
        return out

    def _new_nic(self, nic: dict) -> dict:
        out = copy.deepcopy(nic)
        out["extId"] = self.ids.uuid()
        backing = out.setdefault("backingInfo", {})
        backing.setdefault("model", "VIRTIO")
        backing.setdefault("macAddress", self.ids.mac())
        backing.setdefault("isConnected", True)
        backing.setdefault("numQueues", 1)
        return out

    def update(self, ext_id: str, spec: dict, if_match: str | None) -> Task:
        vm = self.get(ext_id)
        self.vms.check_if_match(ext_id, if_match)
        check_name(spec, required=False)
        check_positive_ints(spec)
        if "machineType" in spec and spec["machineType"] not in MACHINE_TYPES:
            raise bad_request(NS, f"'machineType' must be one of {', '.join(MACHINE_TYPES)}.", "machineType")
        changes = {k: copy.deepcopy(spec[k]) for k in UPDATABLE if k in spec and spec[k] is not None}

        def effect():
            target = self.alive(ext_id)
            target.update(changes)
            self.changed(target)
            return None

        return self.submit_for("UpdateVm", "Update VM", vm, effect)

    def delete(self, ext_id: str, if_match: str | None) -> Task:
        vm = self.get(ext_id)
        self.vms.check_if_match(ext_id, if_match)

        def effect():
            self.alive(ext_id)
            self.vms.remove(ext_id)
            return None

        return self.submit_for("DeleteVm", "Delete VM", vm, effect)

    # -- actions -----------------------------------------------------------------------------
    def power(self, ext_id: str, action: str, if_match: str | None) -> Task:
        vm = self.get(ext_id)
        self.vms.check_if_match(ext_id, if_match)
        op, description, allowed, result, needs_ngt = POWER[action]

        def effect():
            target = self.alive(ext_id)
            state = target["powerState"]
            if state not in allowed:
                raise ApiError(
                    409,
                    f"Cannot {description[0].lower()}{description[1:]} '{target['name']}': "
                    f"it is {state}, the action needs {' or '.join(allowed)}.",
                    code(NS, 40901),
                )
            tools = target.get("guestTools") or {}
            if needs_ngt and not (
                tools.get("isInstalled") and tools.get("isEnabled") and tools.get("isReachable")
            ):
                raise ApiError(
                    409,
                    f"Cannot {description[0].lower()}{description[1:]} '{target['name']}': Nutanix "
                    "Guest Tools are not installed, enabled and reachable on it.",
                    code(NS, 40902),
                )
            if target["powerState"] != result:
                self.set_power(target, result)
            elif result == "ON":
                # A reboot, reset or power cycle: the guest starts again.
                self.guests.boot(target)
            self.changed(target)
            return None

        return self.submit_for(op, description, vm, effect)

    def set_power(self, vm: dict, state: str) -> None:
        vm["powerState"] = state
        on = state == "ON"
        if on:
            self.guests.boot(vm)
            hosts = [n["nodeUuid"] for n in self.clusters.get(vm["cluster"]["extId"])["nodes"]["nodeList"]]
            vm["host"] = {"extId": hosts[self.ids.rng.randrange(len(hosts))]}
        else:
            vm.pop("host", None)
        tools = vm.get("guestTools")
        if tools is not None:
            tools["isReachable"] = bool(on and tools.get("isInstalled") and tools.get("isEnabled"))
        for nic in vm.get("nics") or []:
            info = nic.get("networkInfo") or {}
            assigned = (info.get("ipv4Config") or {}).get("ipAddress")
            if "ipv4Info" in info or assigned:
                info["ipv4Info"] = {"learnedIpAddresses": [dict(assigned)] if on and assigned else []}
        if on and self.network.loopback:
            self._lease_addresses(vm)

    def _lease_addresses(self, vm: dict) -> None:
        """Loopback guest network: each NIC of a VM that powers on learns an address no other running VM
        holds, its own when it has one, else a lease."""
        taken = {
            address["value"]
            for other in self.vms
            if other["extId"] != vm["extId"] and other.get("powerState") == "ON"
            for nic in other.get("nics") or []
            for address in ((nic.get("networkInfo") or {}).get("ipv4Info") or {}).get("learnedIpAddresses")
            or []
        }
        for nic in vm.get("nics") or []:
            info = nic.setdefault("networkInfo", {})
            learned = (info.get("ipv4Info") or {}).get("learnedIpAddresses") or []
            if not learned or learned[0]["value"] in taken:
                learned = [{"value": self.network.lease(taken), "prefixLength": 32}]
            info["ipv4Info"] = {"learnedIpAddresses": learned}
            taken.add(learned[0]["value"])

    def clone(self, ext_id: str, params: dict, if_match: str | None) -> Task:
        source = self.get(ext_id)
        self.vms.check_if_match(ext_id, if_match)
        params = params or {}
        check_name(params, required=False)
        check_positive_ints(params)
        new_id = self.ids.uuid()
        name = params.get("name") or f"{source['name']}-clone"
        seed = {
            k: copy.deepcopy(params[k]) for k in (*SHAPE_OVERRIDES, "bootConfig") if params.get(k) is not None
        }

        def effect():
            src = self.alive(ext_id)
            nics = params.get("nics")
            vm = self._copy_of(src, new_id, src.get("nics") if nics is None else nics, keep_ips=False)
            vm.update(name=name, source={"entityType": "VM", "extId": ext_id}, **seed)
            self.vms.add(vm)
            return None

        return self.submit_for("CloneVm", "Clone VM", source, effect, [EntityRef(new_id, VM_REL, name)])

    def _copy_of(self, src: dict, ext_id: str, nics: list | None, keep_ips: bool) -> dict:
        """A new VM shaped like `src`: new identity, disks and MACs, powered off, guest not yet seen."""
        vm = copy.deepcopy(src)
        now = self.clock.iso()
        vm.update(
            extId=ext_id,
            createTime=now,
            updateTime=now,
            powerState="OFF",
            generationUuid=self.ids.uuid(),
            biosUuid=self.ids.uuid(),
            protectionType="UNPROTECTED",
        )
        vm.pop("host", None)
        vm["disks"] = [self._new_disk(d) for d in src.get("disks") or []]
        vm["nics"] = [self._new_nic({k: v for k, v in n.items() if k != "extId"}) for n in nics or []]
        for nic in vm["nics"]:
            nic["backingInfo"]["macAddress"] = self.ids.mac()
            info = nic.get("networkInfo") or {}
            info.pop("ipv4Info", None)
            if not keep_ips:
                info.get("ipv4Config", {}).pop("ipAddress", None)
        if vm.get("guestTools"):
            vm["guestTools"]["isReachable"] = False
        return vm

    def add_deployed(self, ext_id: str, spec: dict, cluster_ext_id: str, override: dict) -> dict:
        """A VM deployed from a template version's vmSpec: new identity, disks and MACs, powered off,
        no IP until the guest is given one, and the deployment's overrides applied."""
        nics = override.get("nics")
        vm = self._copy_of(spec, ext_id, spec.get("nics") if nics is None else nics, keep_ips=False)
        vm["cluster"] = {"extId": cluster_ext_id}
        vm.update(
            {k: copy.deepcopy(override[k]) for k in ("name", *SHAPE_OVERRIDES) if override.get(k) is not None}
        )
        return self.vms.add(vm)

    def spec_of(self, vm: dict) -> dict:
        """What a template version keeps of a VM: its configuration, not its identity or placement."""
        spec = copy.deepcopy(vm)
        for key in ("extId", "host", "links", "source"):
            spec.pop(key, None)
        return spec

    def add_restored(self, ext_id: str, saved: dict, cluster_ext_id: str, spec: dict) -> dict:
        """A VM restored from a recovery point: a copy of the captured one, IPs kept, overrides applied."""
        vm = self._copy_of(saved, ext_id, saved.get("nics"), keep_ips=True)
        vm["cluster"] = {"extId": cluster_ext_id}
        for key in ("name", "description", "ownershipInfo"):
            if spec.get(key) is not None:
                vm[key] = copy.deepcopy(spec[key])
        if spec.get("categories") is not None:
            vm["categories"] = [{"extId": c["extId"]} for c in spec["categories"]]
        return self.vms.add(vm)

    def check_category_refs(self, refs: list, field: str) -> list[str]:
        if not isinstance(refs, list):
            raise bad_request(NS, f"'{field}' must be a list of {{\"extId\": <category extId>}}.", field)
        ids = []
        for i, ref in enumerate(refs):
            cat_id = ref.get("extId") if isinstance(ref, dict) else None
            if not cat_id:
                raise bad_request(NS, f"'{field}[{i}].extId' is required.", f"{field}[{i}].extId")
            if cat_id not in self.categories.categories:
                raise not_found(NS, "Category", cat_id)
            ids.append(cat_id)
        return ids

    def set_categories(self, ext_id: str, body: dict, if_match: str | None, associate: bool) -> Task:
        vm = self.get(ext_id)
        self.vms.check_if_match(ext_id, if_match)
        refs = (body or {}).get("categories")
        if not refs:
            raise bad_request(
                NS,
                "'categories' is required: a non-empty list of {\"extId\": <category extId>}.",
                "categories",
            )
        wanted = self.check_category_refs(refs, "categories")
        op, description = (
            ("AssociateCategories", "Associate categories to VM")
            if associate
            else ("DisassociateCategories", "Disassociate categories from VM")
        )

        def effect():
            target = self.alive(ext_id)
            current = [c["extId"] for c in target.get("categories") or []]
            if associate:
                current += [c for c in wanted if c not in current]
            else:
                current = [c for c in current if c not in wanted]
            target["categories"] = [{"extId": c} for c in current]
            self.changed(target)
            return None

        return self.submit_for(op, description, vm, effect)

    def category_usage(self) -> dict[str, int]:
        usage: dict[str, int] = {}
        for vm in self.vms:
            for ref in vm.get("categories") or ():
                usage[ref["extId"]] = usage.get(ref["extId"], 0) + 1
        return usage
