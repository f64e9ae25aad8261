# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to day2ops.ahv: other collections must not import it; it changes without notice.

Recovery points of many VMs, replicated and verified, as one pipeline: every VM moves on as
soon as its own task ends, and every pending task is polled together in each round, so a run
over hundreds of VMs takes about as long as its slowest create -> replicate -> verify chain.
"""

from __future__ import annotations

import time

from ansible_collections.day2ops.ahv.plugins.module_utils._dataprotection import create_recovery_point
from ansible_collections.day2ops.ahv.plugins.module_utils._http import ApiError
from ansible_collections.day2ops.ahv.plugins.module_utils._prism import TASK_DONE, task_completion, task_error
from ansible_collections.day2ops.ahv.plugins.module_utils._recovery_points import (
    act,
    copies_on,
    read,
    replica_mismatch,
)

POLL_MAX_SECONDS = 1.0


class Protection(object):
    """One VM's way through the pipeline, and what the report says of it."""

    def __init__(self, vm_ext_id, name, expiration_time, body, vm_name=None):
        self.vm_ext_id = vm_ext_id
        self.vm_name = vm_name
        self.name = name
        self.expiration_time = expiration_time
        self.body = body
        self.step = "create"
        self.status = "pending"
        self.reason = None
        self.recovery_point_ext_id = None
        self.location_agnostic_id = None
        self.replica_ext_id = None
        self.task_ext_ids = []
        self.task = None  # the task this VM waits for now

    def fail(self, reason):
        self.status, self.reason, self.task = "failed", reason, None

    def result(self):
        return dict(
            vm_ext_id=self.vm_ext_id,
            vm_name=self.vm_name,
            recovery_point_name=self.name,
            status=self.status,
            step=self.step,
            reason=self.reason,
            recovery_point_ext_id=self.recovery_point_ext_id,
            location_agnostic_id=self.location_agnostic_id,
            replica_ext_id=self.replica_ext_id,
            expiration_time=self.expiration_time,
            task_ext_ids=list(self.task_ext_ids),
        )


class Pipeline(object):
    def __init__(self, client, cluster_ext_id=None, pc_ext_id=None, timeout=3600):
        self.client = client
        self.cluster_ext_id = cluster_ext_id
        self.pc_ext_id = pc_ext_id
        self.timeout = timeout

    def _each(self, fn, vms, tasks=None):
        """fn(vm) (or fn(vm, task)) for each VM, concurrently; an ApiError fails that VM only."""

        def guarded(index):
            try:
                fn(vms[index]) if tasks is None else fn(vms[index], tasks[index])
            except ApiError as err:
                vms[index].fail(str(err))

        self.client.map(guarded, range(len(vms)))

    def _create(self, vm):
        label = "create recovery point '%s'" % vm.name
        vm.task = create_recovery_point(self.client, vm.body, label)
        vm.task_ext_ids.append(vm.task)
        vm.status = "running"

    def _replicate(self, vm):
        vm.step = "replicate"
        body = dict(
            (k, v) for k, v in (("pcExtId", self.pc_ext_id), ("clusterExtId", self.cluster_ext_id)) if v
        )
        label = "replicate recovery point '%s' (%s)" % (vm.name, vm.recovery_point_ext_id)
        # The point read for its ETag also gives the id every copy of it shares.
        point, vm.task = act(self.client, vm.recovery_point_ext_id, label, "replicate", body)
        vm.location_agnostic_id = point.get("locationAgnosticId")
        vm.task_ext_ids.append(vm.task)

    def _verify(self, vm):
        vm.step = "verify"
        replica, _etag = read(self.client, vm.replica_ext_id)
        problem = replica_mismatch(replica, vm.location_agnostic_id, self.cluster_ext_id)
        if problem:
            vm.fail(problem)
        else:
            vm.status = "protected"

    def _created(self, vm, task):
        vm.recovery_point_ext_id = task_completion(task, "recoveryPointExtId")
        self._replicate(vm)

    def _replicated(self, vm, task):
        vm.replica_ext_id = task_completion(task, "recoveryPointExtId")
        vm.task = None
        if self.pc_ext_id and not self.cluster_ext_id:
            # The replica lives on the other Prism Central: verify there (verify_only against it).
            vm.status, vm.step = "replicated", "verify on the target Prism Central"
            return
        self._verify(vm)

    def run(self, vms):
        """Drive every VM to protected or failed; returns them in the order given."""
        deadline = time.monotonic() + self.timeout
        self._each(self._create, vms)
        delay = 0.2
        while True:
            waiting = dict((vm.task, vm) for vm in vms if vm.task)
            if not waiting:
                return vms
            if time.monotonic() > deadline:
                for vm in waiting.values():
                    vm.fail(
                        "task %s still running after %ss; follow it with day2ops.ahv.task_info, and look "
                        "for recovery point '%s' before running again" % (vm.task, self.timeout, vm.name)
                    )
                return vms
            try:
                polled = self.client.tasks(list(waiting), "poll recovery point tasks")
            except ApiError as err:
                # The transport has retried already; a throttled or failed round is tried again
                # next round, until the deadline, rather than abandoning every VM in flight.
                if err.status is not None and err.status < 429:
                    raise
                polled = []
            ended = [t for t in polled if t.get("status") in TASK_DONE]
            advanced = {"create": [], "replicate": []}
            for task in ended:
                vm = waiting[task["extId"]]
                if task.get("status") != "SUCCEEDED":
                    vm.fail(
                        "%s task %s %s: %s"
                        % (vm.step, task["extId"], task.get("status"), task_error(task)[0])
                    )
                    continue
                vm.task = None
                advanced[vm.step].append((vm, task))
            for step, then in (("create", self._created), ("replicate", self._replicated)):
                pairs = advanced[step]
                self._each(then, [vm for vm, _task in pairs], [task for _vm, task in pairs])
            if ended:
                delay = 0.2
                continue
            time.sleep(delay)
            delay = min(delay * 1.5, POLL_MAX_SECONDS)


def verify_only(client, recovery_point_ext_ids, cluster_ext_id):
    """For each source recovery point, its copy on `cluster_ext_id`, found by location-agnostic id."""
    sources = []
    for ext_id in recovery_point_ext_ids:
        try:
            sources.append((ext_id, read(client, ext_id)[0], None))
        except ApiError as err:
            sources.append((ext_id, None, str(err)))
    copies = copies_on(client, [rp["locationAgnosticId"] for _id, rp, _err in sources if rp], cluster_ext_id)
    results = []
    for ext_id, rp, error in sources:
        entry = dict(recovery_point_ext_id=ext_id, step="verify", task_ext_ids=[], replica_ext_id=None)
        if rp is None:
            entry.update(status="failed", reason=error, vm_ext_id=None, location_agnostic_id=None)
        else:
            replica = next(
                (c for c in copies.get(rp["locationAgnosticId"], []) if c["extId"] != ext_id), None
            )
            entry.update(
                vm_ext_id=",".join(p.get("vmExtId") for p in rp.get("vmRecoveryPoints") or []),
                recovery_point_name=rp.get("name"),
                location_agnostic_id=rp["locationAgnosticId"],
                expiration_time=rp.get("expirationTime"),
                replica_ext_id=replica and replica["extId"],
                status="protected" if replica else "failed",
                reason=None if replica else "no copy of it lives on cluster %s" % cluster_ext_id,
            )
        results.append(entry)
    return results
