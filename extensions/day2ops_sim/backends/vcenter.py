"""vCenter (vSphere Automation REST, /api): the source side of a migration to AHV.

One datacenter with two ESXi clusters, a few hundred VMs tagged by Department and Environment,
sessions, power operations and guest identity. Some VMs carry what makes Nutanix Move refuse them:
no VMware Tools running, a disk on an NVMe controller, a NIC on a port group nobody maps.
Deterministic from the seed, through an id generator of its own, so adding vCenter never moves an
extId of the Prism estate.
"""

import secrets
from dataclasses import dataclass, field

from ..core.clock import Clock
from ..core.ids import IdFactory
from ..estate import DEPARTMENTS, DEPT_PREFIX, ENVIRONMENTS

MIB_PER_GIB = 1024
# The largest list /api/vcenter/vm answers; past it vCenter fails rather than truncating.
LIST_LIMIT = 4000
SESSION_IDLE_SECONDS = 1800
POWER_STATES = ("POWERED_ON", "POWERED_OFF", "SUSPENDED")
DATACENTER = {"datacenter": "datacenter-3", "name": "dc-east"}
CLUSTERS = [
    {"cluster": "domain-c8", "name": "esx-prod-01", "ha_enabled": True, "drs_enabled": True},
    {"cluster": "domain-c9", "name": "esx-dev-01", "ha_enabled": False, "drs_enabled": True},
]
HOSTS = {"domain-c8": ["host-17", "host-18", "host-19"], "domain-c9": ["host-21", "host-22"]}
RESOURCE_POOLS = {"domain-c8": "resgroup-9", "domain-c9": "resgroup-10"}
# The folder types and the list's `type` filter are vCenter's own (Folder.FilterSpec, V1) [C].
FOLDER_TYPES = ("DATACENTER", "DATASTORE", "HOST", "NETWORK", "VIRTUAL_MACHINE")
# A name is unique within one parent only, so host, VM and datastore folders may share one. The
# same-named HOST folder comes before the VM folder and the DATASTORE one after it: a client that
# resolves "Production" without `type=VIRTUAL_MACHINE` gets a folder holding no VM, whether it keeps
# the first match or the last [R: the layout is ours; the overlap is ordinary vCenter].
FOLDERS = [
    {"folder": "group-h47", "name": "Production", "type": "HOST"},
    {"folder": "group-v45", "name": "Production", "type": "VIRTUAL_MACHINE"},
    {"folder": "group-s48", "name": "Production", "type": "DATASTORE"},
    {"folder": "group-v46", "name": "NonProduction", "type": "VIRTUAL_MACHINE"},
    {"folder": "group-n49", "name": "NonProduction", "type": "NETWORK"},
]
NETWORKS = [
    {"network": "network-12", "name": "VM Network", "type": "STANDARD_PORTGROUP"},
    {"network": "dvportgroup-34", "name": "dvpg-app-101", "type": "DISTRIBUTED_PORTGROUP"},
    {"network": "dvportgroup-35", "name": "dvpg-db-102", "type": "DISTRIBUTED_PORTGROUP"},
    # The DMZ port group that a migration plan usually forgets to map.
    {"network": "dvportgroup-36", "name": "dvpg-dmz-199", "type": "DISTRIBUTED_PORTGROUP"},
]
ENV_SHORT = {"Production": "prd", "Staging": "stg", "Test": "tst", "Development": "dev"}
APPS = ["intranet", "ledger", "tickets", "hrdesk", "docs", "build", "fileshare", "reports"]
# (guest_OS, family, full name)
GUESTS = [
    ("RHEL_8_64", "LINUX", "Red Hat Enterprise Linux 8 (64-bit)"),
    ("UBUNTU_64", "LINUX", "Ubuntu Linux (64-bit)"),
    ("WINDOWS_9_SERVER_64", "WINDOWS", "Microsoft Windows Server 2019 (64-bit)"),
]
# The account Move's guest preparation logs in with, by guest family, unless a VM has its own
# (POST /_sim/vcenter/vms/{vm}/guest-account); its password is the simulator's.
GUEST_USERS = {"LINUX": "root", "WINDOWS": "Administrator"}
# Every Nth VM (in estate order) is one Move will refuse, for the reason named.
NO_TOOLS_EVERY = 17
NVME_EVERY = 23
DMZ_EVERY = 19


class VCenterError(Exception):
    """What vCenter answers for a refused call: the HTTP status and its error_type enum."""

    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message

    def body(self) -> dict:
        return {
            "error_type": self.error_type,
            "messages": [
                {
                    "id": "com.vmware.api.vcenter." + self.error_type.lower(),
                    "default_message": self.message,
                    "args": [],
                }
            ],
        }


def not_found(kind: str, ident: str) -> VCenterError:
    return VCenterError(404, "NOT_FOUND", f"{kind} with identifier '{ident}' does not exist.")


@dataclass
class SourceVm:
    vm: str
    name: str
    power_state: str
    cpu_count: int
    memory_mib: int
    instance_uuid: str
    bios_uuid: str
    guest: tuple[str, str, str]
    cluster: str
    host: str
    folder: str
    ip_address: str
    tools_installed: bool = True
    disk_bus: str = "SCSI"
    disks_gib: list[int] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)
    macs: list[str] = field(default_factory=list)
    clean_power_off: bool = True
    guest_account: tuple[str, str] | None = None

    def summary(self) -> dict:
        return {
            "vm": self.vm,
            "name": self.name,
            "power_state": self.power_state,
            "cpu_count": self.cpu_count,
            "memory_size_MiB": self.memory_mib,
        }

    @property
    def tools_running(self) -> bool:
        return self.tools_installed and self.power_state == "POWERED_ON"

    def info(self) -> dict:
        """GET /api/vcenter/vm/{vm}: the Info object, which does not echo the vm id."""
        guest_os, _, _ = self.guest
        disks = {
            str(2000 + i): {
                "label": f"Hard disk {i + 1}",
                "type": self.disk_bus,
                "backing": {
                    "type": "VMDK_FILE",
                    "vmdk_file": f"[ds-{self.cluster}] {self.name}/{self.name}_{i}.vmdk",
                },
                "capacity": size * 1024**3,
            }
            for i, size in enumerate(self.disks_gib)
        }
        nics = {
            str(4000 + i): {
                "label": f"Network adapter {i + 1}",
                "type": "VMXNET3",
                "mac_type": "ASSIGNED",
                "mac_address": self.macs[i],
                "state": "CONNECTED" if self.power_state == "POWERED_ON" else "NOT_CONNECTED",
                "start_connected": True,
                "backing": {
                    "type": "DISTRIBUTED_PORTGROUP"
                    if net.startswith("dvportgroup")
                    else "STANDARD_PORTGROUP",
                    "network": net,
                },
            }
            for i, net in enumerate(self.networks)
        }
        return {
            "name": self.name,
            "identity": {"name": self.name, "bios_uuid": self.bios_uuid, "instance_uuid": self.instance_uuid},
            "guest_OS": guest_os,
            "power_state": self.power_state,
            "hardware": {"version": "VMX_19", "upgrade_policy": "NEVER", "upgrade_status": "NONE"},
            "cpu": {
                "count": self.cpu_count,
                "cores_per_socket": 1,
                "hot_add_enabled": False,
                "hot_remove_enabled": False,
            },
            "memory": {"size_MiB": self.memory_mib, "hot_add_enabled": False},
            "boot": {"type": "EFI" if guest_os.startswith("WINDOWS") else "BIOS", "delay": 0},
            "disks": disks,
            "nics": nics,
            "cdroms": {},
            "floppies": {},
            "serial_ports": {},
            "parallel_ports": {},
            "sata_adapters": {},
            "scsi_adapters": {} if self.disk_bus == "NVME" else {"1000": {"label": "SCSI controller 0"}},
            "nvme_adapters": {"31000": {"label": "NVME controller 0"}} if self.disk_bus == "NVME" else {},
            "instant_clone_frozen": False,
        }


@dataclass
class Tag:
    id: str
    category_id: str
    name: str
    description: str = ""


class VCenterBackend:
    def __init__(
        self, clock: Clock, username: str = "administrator@vsphere.local", password: str = ""
    ) -> None:
        self.clock = clock
        self.username = username
        self.password = password
        self.vm_count = 300
        self.seed = 1
        self.reset()

    def reset(self) -> None:
        self.vms: dict[str, SourceVm] = {}
        self.categories: dict[str, dict] = {}
        self.tags: dict[str, Tag] = {}
        # tag id -> ordered VM ids (insertion order is what list-attached-objects answers in)
        self.attached: dict[str, dict[str, None]] = {}
        self.sessions: dict[str, dict] = {}

    # -- the estate -------------------------------------------------------------------------
    def seed_estate(self, seed: int, vm_count: int) -> None:
        """The source VMs of `seed`: their own id stream, so the Prism estate's ids stay put."""
        self.reset()
        ids = IdFactory(seed * 7919 + 101)
        rng = ids.rng
        dept_tags = {d: self._add_tag(ids, "Department", d) for d in DEPARTMENTS}
        env_tags = {e: self._add_tag(ids, "Environment", e) for e in ENVIRONMENTS}
        for n in range(1, vm_count + 1):
            dept = DEPARTMENTS[rng.randrange(len(DEPARTMENTS))]
            env = ENVIRONMENTS[rng.randrange(len(ENVIRONMENTS))]
            prod = env == "Production"
            cluster = "domain-c8" if prod else "domain-c9"
            guest = GUESTS[rng.randrange(len(GUESTS))]
            nets = ["dvportgroup-35" if rng.random() < 0.3 else "dvportgroup-34"]
            if n % DMZ_EVERY == 0:
                nets.append("dvportgroup-36")
            elif rng.random() < 0.1:
                nets = ["network-12"]
            moref = f"vm-{1000 + n * 7}"
            vm = SourceVm(
                vm=moref,
                name=f"{DEPT_PREFIX[dept]}-{APPS[rng.randrange(len(APPS))]}-{ENV_SHORT[env]}-{n:03d}",
                power_state="POWERED_OFF" if rng.random() < 0.08 else "POWERED_ON",
                cpu_count=rng.choice([1, 2, 2, 4, 4, 8]),
                memory_mib=rng.choice([2, 4, 8, 8, 16, 32]) * MIB_PER_GIB,
                instance_uuid="50" + ids.uuid()[2:],
                bios_uuid="42" + ids.uuid()[2:],
                guest=guest,
                cluster=cluster,
                host=rng.choice(HOSTS[cluster]),
                folder="group-v45" if prod else "group-v46",
                ip_address=f"172.16.{n // 250}.{n % 250 + 2}",
                tools_installed=n % NO_TOOLS_EVERY != 0,
                disk_bus="NVME" if n % NVME_EVERY == 0 else "SCSI",
                disks_gib=[rng.choice([40, 60, 80])]
                + [rng.choice([100, 200, 500]) for _ in range(rng.randrange(2))],
                networks=nets,
                macs=[f"00:50:56:{n // 256 % 256:02x}:{n % 256:02x}:{i:02x}" for i in range(len(nets))],
            )
            self.vms[moref] = vm
            self.attached[dept_tags[dept]][moref] = None
            self.attached[env_tags[env]][moref] = None

    def _add_tag(self, ids: IdFactory, category_name: str, tag_name: str) -> str:
        category = next((c for c in self.categories.values() if c["name"] == category_name), None)
        if category is None:
            category = {
                "id": f"urn:vmomi:InventoryServiceCategory:{ids.uuid()}:GLOBAL",
                "name": category_name,
                "description": f"{category_name} of the workload",
                "cardinality": "SINGLE",
                "associable_types": ["VirtualMachine"],
                "used_by": [],
            }
            self.categories[category["id"]] = category
        tag = Tag(f"urn:vmomi:InventoryServiceTag:{ids.uuid()}:GLOBAL", category["id"], tag_name)
        self.tags[tag.id] = tag
        self.attached[tag.id] = {}
        return tag.id

    # -- sessions ---------------------------------------------------------------------------
    def login(self, username: str, password: str) -> str:
        if not (
            secrets.compare_digest(username, self.username)
            and secrets.compare_digest(password, self.password)
        ):
            raise VCenterError(401, "UNAUTHENTICATED", "Authentication required.")
        token = secrets.token_hex(16)
        now = self.clock.now()
        self.sessions[token] = {"user": username, "created": now, "last": now}
        return token

    def session(self, token: str | None) -> dict:
        """The live session of `token`, touched; idle ones expire as vCenter's do."""
        found = self.sessions.get(token or "")
        now = self.clock.now()
        if found is None or now - found["last"] > SESSION_IDLE_SECONDS:
            self.sessions.pop(token or "", None)
            raise VCenterError(401, "UNAUTHENTICATED", "Authentication required.")
        found["last"] = now
        return found

    def logout(self, token: str) -> None:
        self.sessions.pop(token, None)

    # -- VMs --------------------------------------------------------------------------------
    def vm(self, moref: str) -> SourceVm:
        found = self.vms.get(moref)
        if found is None:
            raise not_found("VirtualMachine", moref)
        return found

    def by_instance_uuid(self, instance_uuid: str) -> SourceVm | None:
        return next((v for v in self.vms.values() if v.instance_uuid == instance_uuid), None)

    def list_vms(self, filters: dict[str, list[str]]) -> list[dict]:
        """Parameters AND together, the values of one parameter OR; an empty one matches all."""
        unknown = [s for s in filters.get("power_states", []) if s not in POWER_STATES]
        if unknown:
            raise VCenterError(
                400,
                "INVALID_ARGUMENT",
                f"power_states: '{unknown[0]}' is not one of {', '.join(POWER_STATES)}.",
            )
        getters = {
            "vms": lambda v: v.vm,
            "names": lambda v: v.name,
            "clusters": lambda v: v.cluster,
            "hosts": lambda v: v.host,
            "folders": lambda v: v.folder,
            "datacenters": lambda v: DATACENTER["datacenter"],
            "resource_pools": lambda v: RESOURCE_POOLS[v.cluster],
            "power_states": lambda v: v.power_state,
        }
        out = []
        for vm in self.vms.values():
            if all(getters[k](vm) in set(values) for k, values in filters.items() if values):
                out.append(vm.summary())
        if len(out) > LIST_LIMIT:
            raise VCenterError(
                400,
                "UNABLE_TO_ALLOCATE_RESOURCE",
                f"The filter matches {len(out)} VMs, more than the {LIST_LIMIT} a list may return.",
            )
        return out

    def power(self, moref: str, action: str) -> None:
        vm = self.vm(moref)
        state = vm.power_state
        if action == "start":
            if state == "POWERED_ON":
                raise VCenterError(400, "ALREADY_IN_DESIRED_STATE", "The VM is already powered on.")
            vm.power_state = "POWERED_ON"
        elif action == "stop":
            if state == "POWERED_OFF":
                raise VCenterError(400, "ALREADY_IN_DESIRED_STATE", "The VM is already powered off.")
            vm.power_state, vm.clean_power_off = "POWERED_OFF", False
        elif action == "suspend":
            if state == "SUSPENDED":
                raise VCenterError(400, "ALREADY_IN_DESIRED_STATE", "The VM is already suspended.")
            if state == "POWERED_OFF":
                raise VCenterError(
                    400, "NOT_ALLOWED_IN_CURRENT_STATE", "A powered-off VM cannot be suspended."
                )
            vm.power_state = "SUSPENDED"
        elif action == "reset":
            if state != "POWERED_ON":
                raise VCenterError(400, "NOT_ALLOWED_IN_CURRENT_STATE", "Only a powered-on VM can be reset.")
        else:
            raise VCenterError(
                400, "INVALID_ARGUMENT", f"action '{action}' is not one of start, stop, suspend, reset."
            )

    def shut_down_for_cutover(self, moref: str) -> None:
        """What Move does to the source at cutover: a guest shutdown, so a clean power-off."""
        vm = self.vms.get(moref)
        if vm is not None and vm.power_state != "POWERED_OFF":
            vm.power_state, vm.clean_power_off = "POWERED_OFF", True

    def guest_login_ok(self, vm: SourceVm, username: str, password: str) -> bool:
        """Whether the guest takes this account: its own if set, else its family's."""
        expected = vm.guest_account or (GUEST_USERS[vm.guest[1]], self.password)
        return secrets.compare_digest(username, expected[0]) and secrets.compare_digest(password, expected[1])

    def guest_identity(self, moref: str) -> dict:
        vm = self.vm(moref)
        if not vm.tools_running:
            raise VCenterError(
                503, "SERVICE_UNAVAILABLE", "VMware Tools is not running in the guest; no guest identity."
            )
        guest_os, family, full = vm.guest
        return {
            "name": guest_os,
            "family": family,
            "full_name": {"id": "vmsg." + guest_os, "default_message": full, "args": []},
            "host_name": vm.name,
            "ip_address": vm.ip_address,
        }

    def tags_of(self, moref: str) -> dict[str, str]:
        """Category name -> tag name, for the Move inventory and the tests."""
        out = {}
        for tag_id, vms in self.attached.items():
            if moref in vms:
                tag = self.tags[tag_id]
                out[self.categories[tag.category_id]["name"]] = tag.name
        return out

    # -- tagging ----------------------------------------------------------------------------
    def category(self, category_id: str) -> dict:
        found = self.categories.get(category_id)
        if found is None:
            raise not_found("Category", category_id)
        return found

    def tag(self, tag_id: str) -> dict:
        found = self.tags.get(tag_id)
        if found is None:
            raise not_found("Tag", tag_id)
        return {
            "id": found.id,
            "category_id": found.category_id,
            "name": found.name,
            "description": found.description,
            "used_by": [],
        }

    def tags_for_category(self, category_id: str) -> list[str]:
        self.category(category_id)
        return [t.id for t in self.tags.values() if t.category_id == category_id]

    def attached_objects(self, tag_id: str) -> list[dict]:
        self.tag(tag_id)
        return [{"type": "VirtualMachine", "id": moref} for moref in self.attached[tag_id]]

    def attached_tags(self, object_id: dict) -> list[str]:
        moref = _vm_object(object_id)
        return [tag_id for tag_id, vms in self.attached.items() if moref in vms]

    def attach(self, tag_id: str, object_id: dict, attach: bool) -> None:
        self.tag(tag_id)
        moref = _vm_object(object_id)
        self.vm(moref)
        if attach:
            # A SINGLE-cardinality category holds one tag per object: vCenter refuses a second.
            category = self.tags[tag_id].category_id
            for other, vms in self.attached.items():
                if other != tag_id and moref in vms and self.tags[other].category_id == category:
                    raise VCenterError(
                        400,
                        "INVALID_ARGUMENT",
                        f"{moref} already carries a tag of single-cardinality category {category}.",
                    )
            self.attached[tag_id][moref] = None
        else:
            self.attached[tag_id].pop(moref, None)


def _vm_object(object_id) -> str:
    if (
        not isinstance(object_id, dict)
        or object_id.get("type") != "VirtualMachine"
        or not object_id.get("id")
    ):
        raise VCenterError(
            400, "INVALID_ARGUMENT", 'object_id must be {"type": "VirtualMachine", "id": "vm-…"}.'
        )
    return object_id["id"]
