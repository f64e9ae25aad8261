"""The demo estate: a Prism Central, a production and a DR AHV cluster, Categories a real shop
has, and VMs of realistic sizes. Deterministic from a seed: the same seed, the same extIds."""

from dataclasses import dataclass, field

from .backends.guest_network import on_loopback
from .backends.guests import Guest
from .backends.templates import USER, VM_SOURCE
from .core.clock import rfc3339
from .core.ids import IdFactory

GIB = 1024**3

DEPARTMENTS = ["Finance", "HR", "Engineering", "Sales", "Marketing", "IT", "Legal"]
ENVIRONMENTS = ["Production", "Staging", "Test", "Development"]
CRITICALITY = ["High", "Medium", "Low"]
APP_TIERS = ["Web", "App", "Database", "Cache", "Batch"]
OWNERS = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"]
# Categories Prism Central itself ships; they are SYSTEM, not USER.
SYSTEM_CATEGORIES = {"Quarantine": ["Strict", "Forensic"], "AppType": ["Default"]}
USER_CATEGORIES = {
    "Department": DEPARTMENTS,
    "Environment": ENVIRONMENTS,
    "Criticality": CRITICALITY,
    "AppTier": APP_TIERS,
    "Owner": OWNERS,
}
DEPT_PREFIX = {
    "Finance": "fin",
    "HR": "hr",
    "Engineering": "eng",
    "Sales": "sales",
    "Marketing": "mkt",
    "IT": "it",
    "Legal": "legal",
}
APPS = ["portal", "erp", "crm", "billing", "payroll", "wiki", "ci", "mail", "reports", "search"]
# vCPU (sockets, cores) and memory GiB shapes seen on real AHV clusters, with their weights.
SHAPES = [
    ((1, 2), 4, 20),
    ((2, 1), 8, 25),
    ((2, 2), 16, 20),
    ((4, 1), 16, 15),
    ((4, 2), 32, 10),
    ((8, 1), 64, 5),
    ((1, 1), 2, 5),
]
OS_CHOICES = [
    ("linux", "Rocky Linux 9.4", "rocky"),
    ("linux", "Ubuntu 22.04 LTS", "ubuntu"),
    ("windows", "Windows Server 2022", "win"),
    ("linux", "RHEL 8.10", "rhel"),
]

# The settings every demo VM shares; their order is the VM's key order, which a seed's estate keeps.
VM_FLAGS = {
    "isVcpuHardPinningEnabled": False,
    "isCpuPassthroughEnabled": False,
    "isMemoryOvercommitEnabled": False,
    "isGpuConsoleEnabled": False,
    "isCpuHotplugEnabled": True,
    "isScsiControllerEnabled": True,
    "isBrandingEnabled": True,
    "isVgaConsoleEnabled": True,
    "isAgentVm": False,
    "isLiveMigrateCapable": True,
    "isCrossClusterMigrationInProgress": False,
}


@dataclass
class ClusterSpec:
    name: str
    role: str  # "prod", "dr" or "pc"
    nodes: int
    subnet: str  # first three octets of the cluster's network


CLUSTERS = [
    ClusterSpec("pc-01", "pc", 1, "10.0.0"),
    ClusterSpec("prod-ahv-01", "prod", 4, "10.10.0"),
    ClusterSpec("dr-ahv-01", "dr", 3, "10.20.0"),
]


def ipv4(value: str, prefix: int = 32) -> dict:
    return {"value": value, "prefixLength": prefix}


def build_cluster(ids: IdFactory, spec: ClusterSpec) -> dict:
    is_pc = spec.role == "pc"
    nodes = [
        {
            "nodeUuid": ids.uuid(),
            "controllerVmIp": {"ipv4": ipv4(f"{spec.subnet}.{31 + i}")},
            "hostIp": {"ipv4": ipv4(f"{spec.subnet}.{11 + i}")},
        }
        for i in range(spec.nodes)
    ]
    cluster = {
        "extId": ids.uuid(),
        "name": spec.name,
        "nodes": {"numberOfNodes": spec.nodes, "nodeList": nodes},
        "config": {
            "incarnationId": 1714000000 + spec.nodes,
            "buildInfo": {
                "buildType": "release",
                "version": "pc.7.3" if is_pc else "7.3",
                "fullVersion": "el8.5-release-fraser-7.3-stable-9f1c2d4e"
                if not is_pc
                else "el8.5-release-fraser-pc.7.3-stable-1b2c3d4e",
                "shortCommitId": "9f1c2d4" if not is_pc else "1b2c3d4",
            },
            # Prism Central lists itself as a cluster whose function is PRISM_CENTRAL; workload
            # clusters run AOS, and AHV ones say so in hypervisorTypes.
            "hypervisorTypes": ["AHV"],
            "clusterFunction": ["PRISM_CENTRAL"] if is_pc else ["AOS"],
            "timezone": "UTC",
            "redundancyFactor": 1 if is_pc else 2,
            "operationMode": "NORMAL",
            "isLts": False,
            "isAvailable": True,
            "isRemoteSupportEnabled": False,
            "clusterArch": "X86_64",
            "encryptionInTransitStatus": "DISABLED",
        },
        "network": {
            "externalAddress": {"ipv4": ipv4(f"{spec.subnet}.30")},
            "nameServerIpList": [{"ipv4": ipv4("10.0.0.53")}],
            "ntpServerIpList": [{"fqdn": {"value": "0.pool.ntp.org"}}],
            "fqdn": f"{spec.name}.corp.example",
        },
        "upgradeStatus": "SUCCEEDED",
        "vmCount": 0,
        "inefficientVmCount": 0,
        "categories": [],
    }
    if not is_pc:
        cluster["network"]["externalDataServiceIp"] = {"ipv4": ipv4(f"{spec.subnet}.29")}
    return cluster


def build_categories(ids: IdFactory) -> list[dict]:
    out = []
    for kind, table in (("SYSTEM", SYSTEM_CATEGORIES), ("USER", USER_CATEGORIES)):
        for key, values in table.items():
            for value in values:
                out.append(
                    {
                        "extId": ids.uuid(),
                        "key": key,
                        "value": value,
                        "type": kind,
                        "description": f"{key} {value}" if kind == "USER" else "Predefined by Prism Central",
                        "ownerUuid": "00000000-0000-0000-0000-000000000000",
                    }
                )
    return out


class VmFactory:
    """Makes VMs in the wire shape of vmm.v4.ahv.config.Vm, cheaply enough for 50,000 of them."""

    def __init__(
        self,
        ids: IdFactory,
        clusters: list[dict],
        categories: list[dict],
        created: float,
        loopback: bool = False,
    ) -> None:
        self.ids = ids
        self.loopback = loopback  # VM addresses on 127.0.0.0/8 (the guest_network module)
        self.rng = ids.rng
        self.created = created
        self.cat = {(c["key"], c["value"]): c["extId"] for c in categories}
        self.clusters = {c["name"]: c for c in clusters}
        self.container = {c["extId"]: ids.uuid() for c in clusters}
        self.subnet = {c["extId"]: ids.uuid() for c in clusters}
        self.hosts = {c["extId"]: [n["nodeUuid"] for n in c["nodes"]["nodeList"]] for c in clusters}
        self._ip = {c["extId"]: 100 for c in clusters}
        self.net = {c["extId"]: s.subnet for c, s in zip(clusters, CLUSTERS, strict=False)}

    def next_ip(self, cluster_ext_id: str) -> str:
        n = self._ip[cluster_ext_id]
        self._ip[cluster_ext_id] = n + 1
        base = self.net.get(cluster_ext_id, "10.99.0").rsplit(".", 1)[0]
        address = f"{base}.{n // 250}.{n % 250 + 2}"
        return on_loopback(address) if self.loopback else address

    def vm(
        self,
        name: str,
        cluster: dict,
        *,
        power_state: str = "ON",
        categories: dict[str, str] | None = None,
        ngt: bool = True,
        os_index: int | None = None,
    ) -> dict:
        rng = self.rng
        (sockets, cores), mem_gib, _ = rng.choices(SHAPES, weights=[s[2] for s in SHAPES])[0]
        family, os_name, _ = OS_CHOICES[os_index if os_index is not None else rng.randrange(len(OS_CHOICES))]
        cid = cluster["extId"]
        on = power_state == "ON"
        # The draws below run in a fixed order: the same seed gives the same estate.
        disks = self._disks(cid)
        nic = self._nic(cid, on)
        windows = family == "windows"
        guest_tools = self._guest_tools(ngt, family, os_name, on)
        cats = [{"extId": self.cat[(k, v)]} for k, v in (categories or {}).items()]
        vm = {
            "extId": self.ids.uuid(),
            "name": name,
            "description": f"{os_name}",
            "createTime": rfc3339(self.created),
            "updateTime": rfc3339(self.created),
            "numSockets": sockets,
            "numCoresPerSocket": cores,
            "numThreadsPerCore": 1,
            "numNumaNodes": 0,
            "memorySizeBytes": mem_gib * GIB,
            **VM_FLAGS,
            "generationUuid": self.ids.uuid(),
            "biosUuid": self.ids.uuid(),
            "categories": cats,
            "ownershipInfo": {"owner": {"extId": "00000000-0000-0000-0000-000000000000"}},
            "cluster": {"extId": cid},
            "guestTools": guest_tools,
            "hardwareClockTimezone": "UTC" if not windows else "America/New_York",
            "bootConfig": _boot_config(windows),
            "machineType": "Q35" if windows else "PC",
            "powerState": power_state,
            "disks": disks,
            "cdRoms": [],
            "nics": [nic],
            "gpus": [],
            "serialPorts": [],
            "protectionType": "UNPROTECTED",
        }
        if on:
            vm["host"] = {"extId": rng.choice(self.hosts[cid])}
        return vm

    def _disks(self, cid: str) -> list[dict]:
        """A boot disk and up to two data disks, of sizes drawn from what real VMs carry."""
        rng = self.rng
        sizes = [rng.choice([40, 60, 80, 100])] + [
            rng.choice([50, 100, 200, 500, 1024]) for _ in range(rng.randrange(3))
        ]
        return [
            {
                "extId": self.ids.uuid(),
                "diskAddress": {"busType": "SCSI", "index": index},
                "backingInfo": {
                    "$objectType": "vmm.v4.ahv.config.VmDisk",
                    "diskExtId": self.ids.uuid(),
                    "diskSizeBytes": size_gib * GIB,
                    "storageContainer": {"extId": self.container[cid]},
                    "isMigrationInProgress": False,
                },
            }
            for index, size_gib in enumerate(sizes)
        ]

    def _nic(self, cid: str, on: bool) -> dict:
        """One NIC on the cluster's subnet with the next address; the guest reports it while on."""
        ip = self.next_ip(cid)
        return {
            "extId": self.ids.uuid(),
            "backingInfo": {
                "model": "VIRTIO",
                "macAddress": self.ids.mac(),
                "isConnected": True,
                "numQueues": 1,
            },
            "networkInfo": {
                "nicType": "NORMAL_NIC",
                "subnet": {"extId": self.subnet[cid]},
                "vlanMode": "ACCESS",
                "shouldAllowUnknownMacs": False,
                "ipv4Config": {"shouldAssignIp": True, "ipAddress": ipv4(ip)},
                "ipv4Info": {"learnedIpAddresses": [ipv4(ip)] if on else []},
            },
        }

    def _guest_tools(self, ngt: bool, family: str, os_name: str, on: bool) -> dict:
        """NGT as installed: most installs are enabled; it answers only while the VM runs."""
        ngt_on = ngt and self.rng.random() < 0.9
        guest_tools = {
            "isInstalled": ngt,
            "isEnabled": ngt_on,
            "isIsoInserted": False,
            "isReachable": ngt_on and on,
            # NGT quiesces Linux guests too (freeze/thaw scripts), under the same capability name.
            "capabilities": ["VSS_SNAPSHOT", "SELF_SERVICE_RESTORE"] if ngt_on else [],
            "isVssSnapshotCapable": ngt_on,
            "isVmMobilityDriversInstalled": ngt and family == "windows",
            "availableVersion": "4.2",
        }
        if ngt:
            guest_tools["version"] = "4.2"
            guest_tools["guestOsVersion"] = f"{family}:64:{os_name}"
        return guest_tools


def _boot_config(windows: bool) -> dict:
    if windows:
        return {
            "$objectType": "vmm.v4.ahv.config.UefiBoot",
            "isSecureBootEnabled": True,
            "bootOrder": ["DISK", "CDROM", "NETWORK"],
        }
    return {"$objectType": "vmm.v4.ahv.config.LegacyBoot", "bootOrder": ["CDROM", "DISK", "NETWORK"]}


@dataclass
class Estate:
    clusters: list[dict]
    categories: list[dict]
    vms: list[dict]
    # (Template, [(TemplateVersionSpec, captured guest), ...]) as the templates backend seeds them
    templates: list[tuple[dict, list[tuple[dict, dict]]]] = field(default_factory=list)


# Golden images the demo shop keeps as templates: (template, OS index, [(version, patch level)]); the
# last version is the active one, the older ones stay deployable.
TEMPLATES = [
    ("rocky9-base", 0, [("2025.01", 3), ("2025.02", 4)]),
    ("win2022-base", 2, [("2025.02", 7)]),
]


def demo_templates(factory: VmFactory, cluster: dict, created: float) -> list:
    """The demo's templates, made after the VMs so that the VMs' extIds do not depend on them."""
    out = []
    stamp = rfc3339(created)
    for name, os_index, versions in TEMPLATES:
        template = {
            "extId": factory.ids.uuid(),
            "templateName": name,
            "templateDescription": f"{OS_CHOICES[os_index][1]} golden image",
            "createTime": stamp,
            "updateTime": stamp,
            "createdBy": dict(USER),
            "updatedBy": dict(USER),
        }
        made = []
        for index, (version_name, patch_level) in enumerate(versions):
            vm = factory.vm(f"{name}-gold", cluster, power_state="OFF", os_index=os_index)
            vm_id = vm.pop("extId")
            vm.pop("host", None)
            version = {
                "extId": factory.ids.uuid(),
                "versionName": version_name,
                "versionDescription": f"{OS_CHOICES[os_index][1]}, patch level {patch_level}",
                "vmSpec": vm,
                "createTime": stamp,
                "createdBy": dict(USER),
                "versionSource": {"$objectType": VM_SOURCE, "extId": vm_id},
                "versionSourceDiscriminator": VM_SOURCE,
                "isActiveVersion": index == len(versions) - 1,
                "isGcOverrideEnabled": True,
            }
            made.append((version, Guest(OS_CHOICES[os_index][1], patch_level).captured()))
        out.append((template, made))
    return out


def demo_estate(ids: IdFactory, created: float, vm_count: int = 300, loopback: bool = False) -> Estate:
    clusters = [build_cluster(ids, spec) for spec in CLUSTERS]
    categories = build_categories(ids)
    factory = VmFactory(ids, clusters, categories, created, loopback)
    prod, dr = clusters[1], clusters[2]
    rng = ids.rng
    vms = []
    # Infrastructure on the DR cluster; the protected workloads live on production.
    for i in range(1, 7):
        vms.append(
            factory.vm(
                f"dr-infra-{i:02d}",
                dr,
                categories={
                    "Department": "IT",
                    "Environment": "Production",
                    "Criticality": "Medium",
                    "AppTier": "App",
                },
            )
        )
    n = 0
    while len(vms) < vm_count:
        n += 1
        dept = DEPARTMENTS[n % len(DEPARTMENTS)]
        app = APPS[(n // len(DEPARTMENTS)) % len(APPS)]
        env = rng.choices(ENVIRONMENTS, weights=[45, 15, 25, 15])[0]
        tier = APP_TIERS[n % len(APP_TIERS)]
        cats = {
            "Department": dept,
            "Environment": env,
            "AppTier": tier,
            "Criticality": "High"
            if env == "Production" and tier in ("Database", "App")
            else rng.choice(["Medium", "Low"]),
            "Owner": OWNERS[n % len(OWNERS)],
        }
        # A few VMs nobody tagged: chargeback has to flag them.
        if n % 37 == 0:
            cats.pop("Department")
            cats.pop("Owner")
        power = rng.choices(["ON", "OFF", "PAUSED"], weights=[84, 15, 1])[0]
        env_tag = {"Production": "prd", "Staging": "stg", "Test": "tst", "Development": "dev"}[env]
        name = f"{DEPT_PREFIX[dept]}-{app}-{env_tag}-{tier.lower()}-{n:03d}"
        vms.append(factory.vm(name, prod, power_state=power, categories=cats, ngt=rng.random() < 0.7))
    return Estate(clusters, categories, vms, demo_templates(factory, prod, created))


def bulk_vms(
    ids: IdFactory,
    clusters: list[dict],
    categories: list[dict],
    created: float,
    count: int,
    prefix: str = "bulk",
    loopback: bool = False,
) -> list[dict]:
    """Extra VMs for scale tests, spread over the workload clusters and the user Categories."""
    factory = VmFactory(ids, clusters, categories, created, loopback)
    workload = [c for c in clusters if "AOS" in c["config"]["clusterFunction"]]
    out = []
    for i in range(count):
        dept = DEPARTMENTS[i % len(DEPARTMENTS)]
        cats = {
            "Department": dept,
            "Environment": ENVIRONMENTS[i % len(ENVIRONMENTS)],
            "AppTier": APP_TIERS[i % len(APP_TIERS)],
        }
        if i % 50 == 0:
            cats.pop("Department")
        out.append(
            factory.vm(
                f"{prefix}-{DEPT_PREFIX[dept]}-{i:05d}",
                workload[i % len(workload)],
                power_state="ON" if i % 7 else "OFF",
                categories=cats,
                ngt=i % 3 == 0,
                os_index=i % len(OS_CHOICES),
            )
        )
    return out
