"""dataprotection: recovery points of VMs — create, expire, replicate, restore — and the vmm revert.

A recovery point keeps, beside its wire shape, what it captured of each VM (configuration and
guest) so that a revert or a restore brings exactly that back. Expired recovery points are
removed as the clock passes their expirationTime, as Prism's garbage collection does.
"""

import copy
import heapq
import itertools

from ..core.clock import Clock, parse_rfc3339
from ..core.errors import ApiError, bad_request, code, invalid_argument, not_found
from ..core.ids import IdFactory
from ..core.store import Collection
from .categories import CategoryBackend
from .clustermgmt import ClusterBackend
from .guests import GuestBackend
from .tasks import EntityRef, Task, TaskBackend
from .vmm import VM_REL, VmmBackend

NS = "dataprotection"
RP_REL = "dataprotection:config:recovery-point"
VMRP_REL = "dataprotection:config:vm-recovery-point"
TYPES = ("CRASH_CONSISTENT", "APPLICATION_CONSISTENT")
VSS_TYPE = "dataprotection.v4.common.VssProperties"
OVERRIDE_TYPE = "dataprotection.v4.config.AhvVmOverrideSpec"
# The 4.0 documentation's limit on entities in one recovery point.
MAX_ENTITIES = 30
# What a revert puts back from the captured VM; identity, placement and NICs stay the VM's own.
REVERTED = ("numSockets", "numCoresPerSocket", "numThreadsPerCore", "memorySizeBytes", "disks", "bootConfig")


def _time(value, field: str) -> float:
    if not isinstance(value, str):
        raise bad_request(NS, f"'{field}' must be an RFC 3339 date-time such as 2026-12-31T00:00:00Z.", field)
    try:
        return parse_rfc3339(value)
    except ValueError as err:
        raise bad_request(
            NS, f"'{field}' is not an RFC 3339 date-time: {value!r}; use e.g. 2026-12-31T00:00:00Z.", field
        ) from err


def _member_vm_id(field: str, member) -> str:
    """The VM of one entry of `vmRecoveryPoints`, with its application-consistent properties checked."""
    vm_id = member.get("vmExtId") if isinstance(member, dict) else None
    if not vm_id:
        raise bad_request(NS, f"'{field}.vmExtId' is required.", f"{field}.vmExtId")
    props = member.get("applicationConsistentProperties")
    if props is not None and (not isinstance(props, dict) or props.get("$objectType") != VSS_TYPE):
        raise bad_request(
            NS,
            f'\'{field}.applicationConsistentProperties\' must carry "$objectType": "{VSS_TYPE}".',
            f"{field}.applicationConsistentProperties",
        )
    if props is not None and props.get("backupType") not in ("FULL_BACKUP", "COPY_BACKUP"):
        raise bad_request(
            NS,
            f"'{field}.applicationConsistentProperties.backupType' is required: FULL_BACKUP or COPY_BACKUP.",
            f"{field}.applicationConsistentProperties.backupType",
        )
    return vm_id


def _member_vm_ids(members) -> list[str]:
    """The VMs of a recovery point to create, each once, at most MAX_ENTITIES of them."""
    if not isinstance(members, list) or not members:
        raise bad_request(
            NS, "'vmRecoveryPoints' is required: a list of {\"vmExtId\": <VM extId>}.", "vmRecoveryPoints"
        )
    if len(members) > MAX_ENTITIES:
        raise invalid_argument(
            NS, f"A recovery point holds at most {MAX_ENTITIES} entities, got {len(members)}."
        )
    vm_ids = []
    for i, member in enumerate(members):
        vm_id = _member_vm_id(f"vmRecoveryPoints[{i}]", member)
        if vm_id in vm_ids:
            raise invalid_argument(NS, f"VM '{vm_id}' appears twice in 'vmRecoveryPoints'.")
        vm_ids.append(vm_id)
    return vm_ids


class DataProtectionBackend:
    def __init__(
        self,
        clock: Clock,
        ids: IdFactory,
        tasks: TaskBackend,
        clusters: ClusterBackend,
        categories: CategoryBackend,
        vmm: VmmBackend,
        guests: GuestBackend,
    ) -> None:
        self.clock = clock
        self.ids = ids
        self.tasks = tasks
        self.clusters = clusters
        self.categories = categories
        self.vmm = vmm
        self.guests = guests
        self.recovery_points = Collection("recovery-point")
        tasks.sweepers.append(self.expire)
        self.reset()

    def reset(self) -> None:
        self.recovery_points.clear()
        # VM recovery point extId -> (recovery point extId, captured {"vm", "guest"})
        self.vm_points: dict[str, tuple[str, dict]] = {}
        # Paired Prism Centrals by extId, with the replicas sent to them.
        self.remote_pcs: dict[str, dict] = {}
        self._expiry: list[tuple[float, int, str]] = []
        self._seq = itertools.count()

    def dump(self) -> list[dict]:
        """Each recovery point with what it captured per VM recovery point (under `$captured`)."""
        out = []
        for rp in self.recovery_points:
            captures = {p["extId"]: self.vm_points[p["extId"]][1] for p in rp.get("vmRecoveryPoints") or ()}
            out.append({**rp, "$captured": captures})
        return out

    def load(self, points: list[dict]) -> None:
        for entry in points:
            rp = {k: v for k, v in entry.items() if k != "$captured"}
            self._store(rp, list((entry.get("$captured") or {}).items()))

    # -- reads -------------------------------------------------------------------------------
    def get(self, ext_id: str) -> dict:
        rp = self.recovery_points.get(ext_id)
        if rp is None:
            raise not_found(NS, "Recovery point", ext_id)
        return rp

    def get_vm_point(self, rp_ext_id: str, ext_id: str) -> dict:
        for vmrp in self.get(rp_ext_id).get("vmRecoveryPoints") or ():
            if vmrp["extId"] == ext_id:
                return vmrp
        raise not_found(NS, "VM recovery point", ext_id)

    def of_cluster_type(self, cluster_type: str | None) -> list[dict]:
        """What `X-Cluster-Id` asks for. The SDK documents it as the cluster *type* (AOS or MST):
        every simulated recovery point lives on an AOS cluster, none in a multicloud snapshot store."""
        if cluster_type is None or cluster_type.upper() == "AOS":
            return list(self.recovery_points)
        if cluster_type.upper() == "MST":
            return []
        raise bad_request(
            NS, f"'X-Cluster-Id' must be AOS or MST, got {cluster_type!r}.", "X-Cluster-Id", "header"
        )

    def expire(self, at: float | None = None) -> None:
        """Drop the points whose expirationTime is at or before `at` (now by default)."""
        now = self.clock.now() if at is None else at
        while self._expiry and self._expiry[0][0] <= now:
            _, _, ext_id = heapq.heappop(self._expiry)
            rp = self.recovery_points.get(ext_id)
            # The point may have been deleted, or its expiry moved since this entry was queued.
            if rp is not None and rp.get("expirationTime") and parse_rfc3339(rp["expirationTime"]) <= now:
                self._drop(ext_id)

    def _drop(self, ext_id: str) -> None:
        rp = self.recovery_points.remove(ext_id)
        for vmrp in (rp or {}).get("vmRecoveryPoints") or ():
            self.vm_points.pop(vmrp["extId"], None)

    def _schedule_expiry(self, rp: dict) -> None:
        if rp.get("expirationTime"):
            heapq.heappush(self._expiry, (parse_rfc3339(rp["expirationTime"]), next(self._seq), rp["extId"]))

    def _submit(
        self, op: str, description: str, rp_ext_id: str, name, effect, cluster: str | None, extra=()
    ) -> Task:
        return self.tasks.submit(
            op,
            description,
            [EntityRef(rp_ext_id, RP_REL, name), *extra],
            effect,
            [cluster] if cluster else [],
        )

    # -- create ------------------------------------------------------------------------------
    def create(self, spec: dict) -> Task:
        name, rp_type, expires = self._point_options(spec)
        members = spec.get("vmRecoveryPoints")
        vm_ids = _member_vm_ids(members)
        vms = [self.vmm.get(v) for v in vm_ids]
        clusters = {vm["cluster"]["extId"] for vm in vms}
        if len(clusters) > 1:
            raise invalid_argument(
                NS, "All VMs of one recovery point must be on the same cluster; create one per cluster."
            )
        cluster = clusters.pop()
        rp_id = self.ids.uuid()
        vmrp_ids = [self.ids.uuid() for _ in vms]

        def effect():
            now = self.clock.iso()
            points, captured = [], []
            for vm_id, vmrp_id, member in zip(vm_ids, vmrp_ids, members, strict=True):
                vm = self._capturable(vm_id, rp_type)
                points.append(self._vm_point(vm, vmrp_id, member, rp_type, now, expires, cluster))
                captured.append((vmrp_id, {"vm": copy.deepcopy(vm), "guest": self.guests.of(vm).captured()}))
            rp = self._recovery_point(rp_id, name, rp_type, now, cluster, points)
            if expires:
                rp["expirationTime"] = expires
            self._store(rp, captured)
            return {"recoveryPointExtId": rp_id}

        return self._submit(
            "CreateRecoveryPoint",
            "Create recovery point",
            rp_id,
            name,
            effect,
            cluster,
            [EntityRef(vm["extId"], VM_REL, vm["name"]) for vm in vms],
        )

    def _point_options(self, spec: dict) -> tuple:
        """The name, type and expiry of a recovery point to create, checked as Prism checks them."""
        name = spec.get("name")
        if name is not None and (not isinstance(name, str) or len(name) > 256):
            raise bad_request(NS, "'name' must be a string of at most 256 characters.", "name")
        rp_type = spec.get("recoveryPointType") or "CRASH_CONSISTENT"
        if rp_type not in TYPES:
            raise bad_request(
                NS,
                f"'recoveryPointType' must be one of {', '.join(TYPES)}, got {rp_type!r}.",
                "recoveryPointType",
            )
        expires = spec.get("expirationTime")
        if expires is not None and _time(expires, "expirationTime") <= self.clock.now():
            raise bad_request(
                NS, f"'expirationTime' {expires} is in the past; give a future time.", "expirationTime"
            )
        if spec.get("volumeGroupRecoveryPoints"):
            raise ApiError(501, "The simulator does not implement volume group recovery points.", "SIM-50102")
        return name, rp_type, expires

    def _capturable(self, vm_id: str, rp_type: str) -> dict:
        """The VM as the create task finds it when it runs, able to give the consistency asked for."""
        vm = self.vmm.vms.get(vm_id)
        if vm is None:
            raise ApiError(404, f"VM '{vm_id}' no longer exists.", code("vmm", 20005))
        if rp_type == "APPLICATION_CONSISTENT":
            self._check_quiesce(vm)
        return vm

    def _recovery_point(self, rp_id: str, name, rp_type: str, now: str, cluster: str, points: list) -> dict:
        return {
            "extId": rp_id,
            "locationAgnosticId": self.ids.uuid(),
            "name": name or f"rp-{rp_id[:8]}",
            "creationTime": now,
            "status": "COMPLETE",
            "recoveryPointType": rp_type,
            "ownerExtId": "00000000-0000-0000-0000-000000000000",
            "locationReferences": [self._location(cluster)],
            "vmRecoveryPoints": points,
            "volumeGroupRecoveryPoints": [],
            "isSecure": False,
            "totalExclusiveUsageBytes": 0,
        }

    def _check_quiesce(self, vm: dict) -> None:
        """Prism quiesces the guest through NGT; without a reachable, VSS-capable NGT the point fails."""
        tools = vm.get("guestTools") or {}
        if not (tools.get("isInstalled") and tools.get("isEnabled")):
            why = "Nutanix Guest Tools are not installed and enabled"
        elif not tools.get("isReachable"):
            why = "Nutanix Guest Tools are not reachable (is the VM powered on?)"
        elif not tools.get("isVssSnapshotCapable") or "VSS_SNAPSHOT" not in (tools.get("capabilities") or ()):
            why = "the VSS_SNAPSHOT capability of Nutanix Guest Tools is not enabled"
        else:
            return
        raise ApiError(
            409,
            f"Failed to create an application-consistent recovery point of VM '{vm['name']}': {why}. "
            "Install and enable NGT with the VSS capability, or take a crash-consistent recovery point.",
            code(NS, 40902),
        )

    def _location(self, cluster_ext_id: str) -> dict:
        return {"locationExtId": cluster_ext_id, "$objectType": "dataprotection.v4.config.LocationReference"}

    def _vm_point(self, vm, vmrp_id, member, rp_type, now, expires, cluster) -> dict:
        cats = self.categories.categories
        point = {
            "extId": vmrp_id,
            "vmExtId": vm["extId"],
            "name": vm["name"],
            "locationAgnosticId": self.ids.uuid(),
            "creationTime": now,
            "status": "COMPLETE",
            "recoveryPointType": rp_type,
            "hypervisorType": "AHV",
            "vmCategories": [
                f"{cats.get(c['extId'])['key']}/{cats.get(c['extId'])['value']}"
                for c in vm.get("categories") or ()
                if cats.get(c["extId"])
            ],
            "diskRecoveryPoints": [
                {
                    "diskRecoveryPointExtId": self.ids.uuid(),
                    "diskExtId": d["extId"],
                    "$objectType": "dataprotection.v4.common.DiskRecoveryPoint",
                }
                for d in vm.get("disks") or ()
            ],
            "$objectType": "dataprotection.v4.config.VmRecoveryPoint",
        }
        if expires:
            point["expirationTime"] = expires
        props = member.get("applicationConsistentProperties")
        if props:
            point["applicationConsistentProperties"] = copy.deepcopy(props)
        return point

    def _store(self, rp: dict, captured: list[tuple[str, dict]]) -> None:
        self.recovery_points.add(rp)
        for vmrp_id, data in captured:
            self.vm_points[vmrp_id] = (rp["extId"], data)
        self._schedule_expiry(rp)

    def _alive(self, ext_id: str) -> dict:
        rp = self.recovery_points.get(ext_id)
        if rp is None:
            raise ApiError(
                404, f"Recovery point '{ext_id}' no longer exists (deleted or expired).", code(NS, 20005)
            )
        return rp

    def _cluster_of(self, rp: dict) -> str | None:
        locations = rp.get("locationReferences") or ()
        return locations[0]["locationExtId"] if locations else None

    # -- delete / expiry ---------------------------------------------------------------------
    def delete(self, ext_id: str, if_match: str | None) -> Task:
        rp = self.get(ext_id)
        self.recovery_points.check_if_match(ext_id, if_match)

        def effect():
            self._alive(ext_id)
            self._drop(ext_id)
            return None

        return self._submit(
            "DeleteRecoveryPoint",
            "Delete recovery point",
            ext_id,
            rp.get("name"),
            effect,
            self._cluster_of(rp),
        )

    def set_expiration(self, ext_id: str, body: dict, if_match: str | None) -> Task:
        rp = self.get(ext_id)
        self.recovery_points.check_if_match(ext_id, if_match)
        if "expirationTime" not in body:
            raise bad_request(NS, "'expirationTime' is required.", "expirationTime")
        expires = body["expirationTime"]
        if _time(expires, "expirationTime") <= self.clock.now():
            raise bad_request(
                NS, f"'expirationTime' {expires} is in the past; give a future time.", "expirationTime"
            )

        def effect():
            target = self._alive(ext_id)
            target["expirationTime"] = expires
            for point in target.get("vmRecoveryPoints") or ():
                point["expirationTime"] = expires
            self.recovery_points.touch(ext_id)
            self._schedule_expiry(target)
            return None

        return self._submit(
            "SetRecoveryPointExpirationTime",
            "Set recovery point expiration time",
            ext_id,
            rp.get("name"),
            effect,
            self._cluster_of(rp),
        )

    # -- replicate ---------------------------------------------------------------------------
    def local_pc(self) -> str | None:
        for cluster in self.clusters.clusters:
            if "PRISM_CENTRAL" in cluster["config"]["clusterFunction"]:
                return cluster["extId"]
        return None

    def pair(self, name: str) -> dict:
        """Pair another Prism Central (an availability zone) with one AHV cluster of its own.

        Only its side of replication is modelled: replicas sent there are kept here, for the
        control API to show, and never appear in this Prism Central's lists, as on a real pair.
        """
        remote = {
            "extId": self.ids.uuid(),
            "name": name,
            "clusterExtId": self.ids.uuid(),
            "recoveryPoints": [],
        }
        self.remote_pcs[remote["extId"]] = remote
        return remote

    def _replica(self, src: dict, replica_id: str, cluster: str) -> tuple[dict, list[tuple[str, dict]]]:
        """A copy of `src` living on `cluster`: same locationAgnosticIds, new extIds, same captures."""
        replica = copy.deepcopy(src)
        replica.update(extId=replica_id, locationReferences=[self._location(cluster)])
        captured = []
        for point in replica["vmRecoveryPoints"]:
            old = point["extId"]
            point["extId"] = self.ids.uuid()
            for disk in point.get("diskRecoveryPoints") or ():
                disk["diskRecoveryPointExtId"] = self.ids.uuid()
            if old in self.vm_points:
                captured.append((point["extId"], copy.deepcopy(self.vm_points[old][1])))
        return replica, captured

    def replicate(self, ext_id: str, body: dict, if_match: str | None) -> Task:
        rp = self.get(ext_id)
        self.recovery_points.check_if_match(ext_id, if_match)
        pc_id = body.get("pcExtId")
        target = body.get("clusterExtId")
        if not pc_id and not target:
            raise bad_request(
                NS, "'pcExtId' is required: the Prism Central the recovery point is replicated to.", "pcExtId"
            )
        remote = bool(pc_id) and pc_id != self.local_pc()
        if target and not remote and self.clusters.workload(target) is None:
            raise invalid_argument(
                NS, f"Cluster '{target}' is not an AOS cluster this Prism Central manages."
            )
        source = self._cluster_of(rp)
        replica_id = self.ids.uuid()

        def effect():
            src = self._alive(ext_id)
            if remote:
                paired = self.remote_pcs.get(pc_id)
                if paired is None or (target and target != paired["clusterExtId"]):
                    raise ApiError(
                        409,
                        f"Prism Central '{pc_id}' is not paired with this Prism Central"
                        + (f" or has no cluster '{target}'" if paired else "")
                        + "; pair the availability zones first, or replicate to a cluster of this one.",
                        code(NS, 40903),
                    )
                paired["recoveryPoints"].append(self._replica(src, replica_id, paired["clusterExtId"])[0])
                return {"recoveryPointExtId": replica_id}
            cluster = target or next(
                (
                    c["extId"]
                    for c in self.clusters.clusters
                    if self.clusters.workload(c["extId"]) and c["extId"] != source
                ),
                None,
            )
            if cluster is None or cluster == source:
                raise ApiError(
                    409,
                    f"Recovery point '{src.get('name')}' already lives on cluster '{cluster}'; "
                    "choose another target cluster.",
                    code(NS, 40904),
                )
            self._store(*self._replica(src, replica_id, cluster))
            return {"recoveryPointExtId": replica_id}

        return self._submit(
            "EntitySnapshotReplicate",
            "Replicate recovery point",
            ext_id,
            rp.get("name"),
            effect,
            source,
            [EntityRef(p["extId"], VMRP_REL) for p in rp.get("vmRecoveryPoints") or ()],
        )

    # -- restore (new VMs) -------------------------------------------------------------------
    def restore(self, ext_id: str, body: dict, if_match: str | None) -> Task:
        rp = self.get(ext_id)
        self.recovery_points.check_if_match(ext_id, if_match)
        cluster = body.get("clusterExtId") or self._cluster_of(rp)
        if self.clusters.workload(cluster) is None:
            raise invalid_argument(
                NS, f"Cluster '{cluster}' is not an AOS cluster this Prism Central manages."
            )
        points = {p["extId"]: p for p in rp.get("vmRecoveryPoints") or ()}
        overrides = body.get("vmRecoveryPointRestoreOverrides") or []
        chosen: list[tuple[str, dict]] = []
        for i, override in enumerate(overrides):
            field = f"vmRecoveryPointRestoreOverrides[{i}]"
            vmrp_id = (override or {}).get("vmRecoveryPointExtId")
            if vmrp_id not in points:
                raise invalid_argument(
                    NS,
                    f"'{field}.vmRecoveryPointExtId' {vmrp_id!r} is not a VM recovery point of '{ext_id}'.",
                )
            spec = override.get("vmOverrideSpec") or {}
            if spec and spec.get("$objectType") != OVERRIDE_TYPE:
                raise bad_request(
                    NS,
                    f'\'{field}.vmOverrideSpec\' must carry "$objectType": "{OVERRIDE_TYPE}".',
                    f"{field}.vmOverrideSpec",
                )
            if "name" in spec and (not isinstance(spec["name"], str) or not 1 <= len(spec["name"]) <= 80):
                raise bad_request(
                    NS,
                    f"'{field}.vmOverrideSpec.name' must be 1 to 80 characters.",
                    f"{field}.vmOverrideSpec.name",
                )
            self.vmm.check_category_refs(spec.get("categories") or [], f"{field}.vmOverrideSpec.categories")
            chosen.append((vmrp_id, spec))
        if not overrides:
            chosen = [(vmrp_id, {}) for vmrp_id in points]
        new_ids = [self.ids.uuid() for _ in chosen]

        def effect():
            self._alive(ext_id)
            for (vmrp_id, spec), new_id in zip(chosen, new_ids, strict=True):
                captured = self.vm_points[vmrp_id][1]
                self.vmm.add_restored(new_id, captured["vm"], cluster, spec)
                self.guests.copy_to(captured["vm"], new_id, captured["guest"])
            return {"vmExtIds": ",".join(new_ids)}

        return self._submit(
            "RestoreRecoveryPoint",
            "Restore recovery point",
            ext_id,
            rp.get("name"),
            effect,
            cluster,
            [EntityRef(v, VM_REL) for v in new_ids],
        )

    # -- vmm revert (in place) ---------------------------------------------------------------
    def revert(self, vm_ext_id: str, body: dict, if_match: str | None) -> Task:
        vm = self.vmm.get(vm_ext_id)
        self.vmm.vms.check_if_match(vm_ext_id, if_match)
        vmrp_id = body.get("vmRecoveryPointExtId")
        if not vmrp_id:
            raise bad_request(
                "vmm",
                "'vmRecoveryPointExtId' is required: the extId of a VM recovery point (an element of a "
                "recovery point's vmRecoveryPoints), not the recovery point's own extId.",
                "vmRecoveryPointExtId",
            )
        if vmrp_id not in self.vm_points:
            hint = (
                " That is a recovery point's extId; pass one of its vmRecoveryPoints[].extId."
                if vmrp_id in self.recovery_points
                else ""
            )
            raise ApiError(
                404, f"VM recovery point with extId '{vmrp_id}' does not exist.{hint}", code("vmm", 20005)
            )
        rp_id, captured = self.vm_points[vmrp_id]
        if captured["vm"]["extId"] != vm_ext_id:
            raise invalid_argument(
                "vmm",
                f"VM recovery point '{vmrp_id}' was taken of VM '{captured['vm']['extId']}', "
                f"not of '{vm_ext_id}'.",
            )
        if self._cluster_of(self.get(rp_id)) != vm["cluster"]["extId"]:
            raise invalid_argument(
                "vmm",
                f"VM recovery point '{vmrp_id}' is not on the VM's cluster; revert needs a local recovery "
                "point (restore a replica as a new VM instead).",
            )
        override = body.get("overrideSpec") or {}

        def effect():
            target = self.vmm.alive(vm_ext_id)
            if vmrp_id not in self.vm_points:
                raise ApiError(
                    404,
                    f"VM recovery point '{vmrp_id}' no longer exists (deleted or expired).",
                    code("vmm", 20005),
                )
            saved = captured["vm"]
            for key in REVERTED:
                if key in saved:
                    target[key] = copy.deepcopy(saved[key])
            if override.get("shouldRevertVmCategories"):
                target["categories"] = copy.deepcopy(saved.get("categories") or [])
            # AHV reverts the disks of a stopped VM: the VM is left powered off.
            if target["powerState"] != "OFF":
                self.vmm.set_power(target, "OFF")
            target["generationUuid"] = self.ids.uuid()
            self.guests.restore(target, captured["guest"])
            self.vmm.changed(target)
            return None

        return self.vmm.submit_for(
            "RevertVm", "Revert VM", vm, effect, [EntityRef(vmrp_id, VMRP_REL), EntityRef(rp_id, RP_REL)]
        )
