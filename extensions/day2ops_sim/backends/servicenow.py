"""A ServiceNow CMDB as the Table API shows it: one cmdb_ci_vm_instance record per VM, derived from
the estate, with the drift a real CMDB has (a department nobody updated, VMs never registered, and
records of VMs long gone). Not Prism: served under /api/now/, as ServiceNow serves it."""

import hashlib

from .categories import CategoryBackend
from .vmm import VmmBackend

TABLE = "cmdb_ci_vm_instance"
# Every Nth VM (in estate order) has a stale department, is missing from the CMDB.
STALE_EVERY = 29
MISSING_EVERY = 41
GONE = ("decommissioned-app-01", "decommissioned-db-02")


class ServiceNowBackend:
    def __init__(self, vmm: VmmBackend, categories: CategoryBackend) -> None:
        self.vmm = vmm
        self.categories = categories

    def reset(self) -> None:
        """Nothing of its own to forget: the records are derived from the estate on every read."""

    @staticmethod
    def _sys_id(key: str) -> str:
        # ServiceNow sys_ids are 32 hex characters; derived, so they are stable and use no randomness.
        return hashlib.md5(key.encode(), usedforsecurity=False).hexdigest()

    def records(self) -> list[dict]:
        names = {c["extId"]: (c["key"], c["value"]) for c in self.categories.categories}
        out = []
        for n, vm in enumerate(self.vmm.vms, start=1):
            if n % MISSING_EVERY == 0:
                continue
            cats = dict(names[c["extId"]] for c in vm.get("categories") or () if c["extId"] in names)
            department = cats.get("Department", "")
            if n % STALE_EVERY == 0 and department:
                department = "Finance" if department != "Finance" else "HR"
            out.append(
                {
                    "sys_id": self._sys_id(vm["extId"]),
                    "name": vm["name"],
                    "object_id": vm["extId"],
                    "department": department,
                    "environment": cats.get("Environment", ""),
                    "state": "on" if vm.get("powerState") == "ON" else "off",
                    "sys_class_name": TABLE,
                }
            )
        for name in GONE:
            out.append(
                {
                    "sys_id": self._sys_id(name),
                    "name": name,
                    "object_id": self._sys_id(name + "-vm"),
                    "department": "IT",
                    "environment": "Production",
                    "state": "off",
                    "sys_class_name": TABLE,
                }
            )
        return out
