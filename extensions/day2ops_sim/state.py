"""One shared simulator state: clock, ids, backends, faults and replay, with reset/load/dump."""

import base64
import secrets
from dataclasses import dataclass, field

from .backends.categories import CategoryBackend
from .backends.clustermgmt import ClusterBackend
from .backends.dataprotection import DataProtectionBackend
from .backends.guest_network import GuestNetwork
from .backends.guests import GuestBackend
from .backends.move import MoveBackend
from .backends.servicenow import ServiceNowBackend
from .backends.tasks import TaskBackend
from .backends.templates import TemplateBackend
from .backends.vcenter import VCenterBackend
from .backends.vmm import VmmBackend
from .conformance import ConformanceLog
from .core.clock import Clock
from .core.faults import FaultPlan
from .core.ids import IdFactory
from .core.replay import ReplayCache
from .estate import bulk_vms, demo_estate

# The newest version segment each namespace serves; every one from v4.0 up is served too.
NEWEST = {"vmm": "v4.3", "prism": "v4.4", "clustermgmt": "v4.3", "dataprotection": "v4.4"}
# Source VMs in vCenter waiting to migrate: a few hundred, fewer when the estate itself is smaller.
VCENTER_VMS = 300
# How the Move appliance knows the other two: by name, as an operator would have added them.
VCENTER_FQDN = "vcenter.corp.example"
PC_FQDN = "pc-01.corp.example"


@dataclass
class Credentials:
    username: str = "admin"
    password: str = "Nutanix.123"
    api_keys: list[str] = field(default_factory=lambda: ["day2ops-demo-api-key"])


def versions_upto(newest: str) -> list[str]:
    minor = int(newest.split(".")[1])
    return [f"v4.{m}" for m in range(minor + 1)]


class SimState:
    def __init__(
        self,
        seed: int = 1,
        vm_count: int = 300,
        credentials: Credentials | None = None,
        guest_network: str = "",
    ) -> None:
        self.clock = Clock()
        self.ids = IdFactory(seed)
        self.credentials = credentials or Credentials()
        self.newest = dict(NEWEST)
        self.faults = FaultPlan()
        self.replay = ReplayCache()
        self.sessions: dict[str, None] = {}
        self.conformance = ConformanceLog()  # outlives reset: a test session reads it at its end
        self.tasks = TaskBackend(self.clock, self.ids)
        self.clusters = ClusterBackend()
        self.categories = CategoryBackend(self.ids)
        self.guests = GuestBackend(self.clock, self.ids)
        self.vmm = VmmBackend(self.clock, self.ids, self.tasks, self.clusters, self.categories, self.guests)
        self.vmm.network = GuestNetwork(guest_network)
        self.dataprotection = DataProtectionBackend(
            self.clock, self.ids, self.tasks, self.clusters, self.categories, self.vmm, self.guests
        )
        self.templates = TemplateBackend(
            self.clock, self.ids, self.tasks, self.clusters, self.vmm, self.guests
        )
        self.servicenow = ServiceNowBackend(self.vmm, self.categories)
        self.vcenter = VCenterBackend(self.clock, password=self.credentials.password)
        self.move = MoveBackend(
            self.clock,
            self.vcenter,
            self.vmm,
            self.clusters,
            (self.credentials.username, self.credentials.password),
        )
        # Move's workloads progress on the same lazy clock as Prism tasks: every Prism, vCenter or
        # Move request ticks, so a cutover's AHV VM appears in Prism exactly when Move says Completed.
        self.tasks.sweepers.append(self.move.sweep)
        self.backends = {
            "tasks": self.tasks,
            "clusters": self.clusters,
            "categories": self.categories,
            "vmm": self.vmm,
            "guests": self.guests,
            "dataprotection": self.dataprotection,
            "templates": self.templates,
            "servicenow": self.servicenow,
            "vcenter": self.vcenter,
            "move": self.move,
        }
        self.reset(seed, vm_count)

    def served_versions(self, namespace: str) -> list[str]:
        newest = self.newest.get(namespace)
        return versions_upto(newest) if newest else []

    def reset(self, seed: int | None = None, vm_count: int | None = None) -> None:
        """Back to the demo estate of `seed` with `vm_count` VMs (the previous values when omitted)."""
        self.seed = self.seed if seed is None else seed
        self.vm_count = self.vm_count if vm_count is None else vm_count
        self.ids.reseed(self.seed)
        self.clock.reset()
        self.faults.reset()
        self.replay.reset()
        self.newest = dict(NEWEST)
        for backend in self.backends.values():
            backend.reset()
        estate = demo_estate(
            self.ids, self.clock.now() - 86400 * 30, self.vm_count, self.vmm.network.loopback
        )
        self._load_entities(estate.clusters, estate.categories, estate.vms)
        for template, versions in estate.templates:
            self.templates.seed(template, versions)
        self._seed_migration_side()

    def _seed_migration_side(self) -> None:
        self.vcenter.seed_estate(self.seed, min(self.vm_count, VCENTER_VMS))
        self.move.seed(self.seed, VCENTER_FQDN, PC_FQDN)

    def _load_entities(self, clusters: list[dict], categories: list[dict], vms: list[dict]) -> None:
        for cluster in clusters:
            self.clusters.clusters.add(cluster)
        for category in categories:
            self.categories.categories.add(category)
        for vm in vms:
            self.vmm.vms.add(vm)

    def generate_vms(self, count: int, prefix: str = "bulk") -> int:
        clusters = list(self.clusters.clusters)
        for vm in bulk_vms(
            self.ids,
            clusters,
            list(self.categories.categories),
            self.clock.now(),
            count,
            prefix,
            self.vmm.network.loopback,
        ):
            self.vmm.vms.add(vm)
        return len(self.vmm.vms)

    def dump(self) -> dict:
        """Entities as they stand and the tasks' wire form; pending task effects are not portable."""
        self.tasks.tick()
        return {
            "seed": self.seed,
            "clusters": list(self.clusters.clusters),
            "categories": list(self.categories.categories),
            "vms": list(self.vmm.vms),
            "recoveryPoints": self.dataprotection.dump(),
            "templates": self.templates.dump(),
            "guests": self.guests.dump(),
            "tasks": self.tasks.wire_all(),
        }

    def load(self, snapshot: dict) -> None:
        for backend in self.backends.values():
            backend.reset()
        self.replay.reset()
        self._load_entities(
            snapshot.get("clusters", []), snapshot.get("categories", []), snapshot.get("vms", [])
        )
        self.guests.load(snapshot.get("guests", {}))
        self.dataprotection.load(snapshot.get("recoveryPoints", []))
        self.templates.load(snapshot.get("templates", []))
        # vCenter and Move are not in snapshots: they come back as the seed's estate.
        self._seed_migration_side()

    def new_session(self) -> str:
        token = base64.urlsafe_b64encode(secrets.token_bytes(24)).decode().rstrip("=")
        self.sessions[token] = None
        # Clients that ignore cookies would otherwise grow this forever.
        while len(self.sessions) > 10000:
            del self.sessions[next(iter(self.sessions))]
        return token
