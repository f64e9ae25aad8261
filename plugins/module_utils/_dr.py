# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to day2ops.ahv: other collections must not import it; it changes without notice.

Recovery points of many VMs, replicated and verified, as one pipeline: every VM moves on as
soon as its own task ends, so a run over thousands of VMs takes about as long as its slowest
create -> replicate -> verify chain. Each round polls every pending task, a batch at a time: the
VMs of a batch move on before the next batch is read, so the first to end need not wait for
thousands of others to be read, and only one batch of task bodies is held at once.
"""

from __future__ import annotations

import time

from ansible_collections.day2ops.ahv.plugins.module_utils._dataprotection import create_recovery_point
from ansible_collections.day2ops.ahv.plugins.module_utils._http import ApiError
from ansible_collections.day2ops.ahv.plugins.module_utils._prism import task_completion, task_error
from ansible_collections.day2ops.ahv.plugins.module_utils._recovery_points import (
    act,
    copies_on,
    read,
    replica_mismatch,
)

POLL_MAX_SECONDS = 1.0
# Tasks read per poll before acting on those that ended (client.tasks splits it into list calls).
POLL_BATCH = 200


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

    def wait(self, task_ext_id):
        self.task = task_ext_id
        self.task_ext_ids.append(task_ext_id)

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
        vm.wait(create_recovery_point(self.client, vm.body, label))
        vm.status = "running"

    def _replicate(self, vm):
        vm.step = "replicate"
        body = dict(
            (k, v) for k, v in (("pcExtId", self.pc_ext_id), ("clusterExtId", self.cluster_ext_id)) if v
        )
        label = "replicate recovery point '%s' (%s)" % (vm.name, vm.recovery_point_ext_id)
        # The point read for its ETag also gives the id every copy of it shares.
        point, task = act(self.client, vm.recovery_point_ext_id, label, "replicate", body)
        vm.location_agnostic_id = point.get("locationAgnosticId")
        vm.wait(task)

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
        vm.step = "verify"

    def _verify_all(self, vms):
        """Verify replicas by listing the copies on the target, 40 points a call; a replica the list
        does not show as expected is read on its own, which says what is wrong with it."""
        listed = [vm for vm in vms if vm.location_agnostic_id]
        try:
            copies = copies_on(self.client, [vm.location_agnostic_id for vm in listed], self.cluster_ext_id)
        except ApiError:
            copies = {}
        unseen = []
        for vm in vms:
            found = copies.get(vm.location_agnostic_id) or ()
            if vm.location_agnostic_id and any(c.get("extId") == vm.replica_ext_id for c in found):
                vm.status = "protected"
            else:
                unseen.append(vm)
        self._each(self._verify, unseen)

    def run(self, vms):
        """Drive every VM to protected or failed; returns them in the order given."""
        deadline = time.monotonic() + self.timeout
        self._each(self._create, vms)
        delay = 0.2
        while True:
            waiting = [vm for vm in vms if vm.task]
            if not waiting:
                return vms
            if time.monotonic() > deadline:
                for vm in waiting:
                    vm.fail(
                        "task %s still running after %ss; follow it with day2ops.ahv.task_info, and look "
                        "for recovery point '%s' before running again" % (vm.task, self.timeout, vm.name)
                    )
                return vms
            ended = 0
            for start in range(0, len(waiting), POLL_BATCH):
                ended += self._advance(waiting[start : start + POLL_BATCH])
            if ended:
                delay = 0.2
                continue
            time.sleep(delay)
            delay = min(delay * 1.5, POLL_MAX_SECONDS)

    def _advance(self, vms):
        """Read the tasks of `vms` and move on each VM whose task ended; how many ended."""
        ended = self.client.ended_tasks([vm.task for vm in vms], "poll recovery point tasks")
        advanced = {"create": [], "replicate": []}
        for vm in vms:
            task = ended.get(vm.task)
            if task is None:
                continue
            if task.get("status") != "SUCCEEDED":
                vm.fail(
                    "%s task %s %s: %s" % (vm.step, task["extId"], task.get("status"), task_error(task)[0])
                )
            else:
                vm.task = None
                advanced[vm.step].append((vm, task))
        for step, then in (("create", self._created), ("replicate", self._replicated)):
            pairs = advanced[step]
            self._each(then, [vm for vm, _task in pairs], [task for _vm, task in pairs])
        self._verify_all(
            [vm for vm, _task in advanced["replicate"] if vm.step == "verify" and vm.status == "running"]
        )
        return len(ended)


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
