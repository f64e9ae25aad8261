# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to day2ops.ahv: other collections must not import it; it changes without notice.

The same change to many VMs at once (power, Categories), each VM its own chain of Prism tasks. Every
VM's first change is sent together (at most `concurrency` calls at a time); a VM's next change is
read and sent with its fresh ETag as soon as its own task ends; every pending task is polled in the
same few list calls per round. A VM that fails is reported with Prism's reason and its tasks, and
the others go on, so a batch takes about as long as its slowest VM.
"""

from __future__ import annotations

import time

from ansible_collections.day2ops.ahv.plugins.module_utils._http import ApiError
from ansible_collections.day2ops.ahv.plugins.module_utils._lookup import pick_one, vms_named
from ansible_collections.day2ops.ahv.plugins.module_utils._prism import task_error
from ansible_collections.day2ops.ahv.plugins.module_utils._vmm import change_vm, read_vm

POLL_MAX_SECONDS = 1.0
# Many VMs instead of one (the modules' ext_id or name): options and how they combine.
BATCH_SPEC = dict(
    vm_ext_ids=dict(type="list", elements="str"),
    vm_names=dict(type="list", elements="str"),
    fail_on_error=dict(type="bool", default=True),
)
VMS_CHOICE = dict(
    required_one_of=[("ext_id", "name", "vm_ext_ids", "vm_names")],
    mutually_exclusive=[("ext_id", "name", "vm_ext_ids"), ("ext_id", "name", "vm_names")],
)


class VmChange:
    """One VM's way through the batch, and what the report says of it."""

    def __init__(self, vm_ext_id=None, vm_name=None):
        self.vm_ext_id = vm_ext_id
        self.vm_name = vm_name
        self.status = "pending"
        self.reason = None
        self.task_ext_ids = []
        self.step = 0  # the index of the change this VM is at
        self.task = None  # the task it waits for now
        self.task_failed = False  # whether it failed in Prism's task rather than before it
        self.vm = None  # the VM as last read

    def fail(self, reason, task_failed=False):
        self.status, self.reason, self.task, self.task_failed = "failed", reason, None, task_failed

    def result(self):
        return dict(
            vm_ext_id=self.vm_ext_id,
            vm_name=self.vm_name,
            status=self.status,
            reason=self.reason,
            task_ext_ids=list(self.task_ext_ids),
        )


def vm_changes(client, ext_ids, names):
    """A VmChange per VM given by ext_id, then per VM given by name (names resolved concurrently); a
    name that matches no VM or several is that VM's failure, not the batch's."""
    changes = [VmChange(vm_ext_id=ext_id) for ext_id in ext_ids]

    def by_name(name):
        change = VmChange(vm_name=name)
        try:
            change.vm_ext_id = pick_one("VM", name, vms_named(client, name))["extId"]
        except ApiError as err:
            change.fail(str(err))
        return change

    return changes + client.map(by_name, names)


class VmBatch:
    """`steps`: (word, decide) pairs; `decide(vm)` returns the Change the VM needs, or None."""

    def __init__(self, client, steps, timeout, wait=True):
        self.client = client
        self.steps = steps
        self.timeout = timeout
        self.wait = wait

    def _each(self, fn, vms):
        """fn(vm) for each VM, concurrently; an ApiError fails that VM only."""

        def guarded(vm):
            try:
                fn(vm)
            except ApiError as err:
                vm.fail(str(err))

        self.client.map(guarded, vms)

    def _label(self, vm, word):
        return "%s VM '%s' (%s)" % (word, vm.vm_name or vm.vm_ext_id, vm.vm_ext_id)

    def _advance(self, vm):
        """Send the VM's next change that is needed, read with a fresh ETag; done when none is."""
        while vm.step < len(self.steps):
            word, decide = self.steps[vm.step]
            vm.vm, _change, task = change_vm(self.client, vm.vm_ext_id, self._label(vm, word), decide)
            vm.vm_name = vm.vm_name or vm.vm.get("name")
            if isinstance(task, str):
                vm.task_ext_ids.append(task)
                if self.wait:
                    vm.task = task
                    return
            vm.step += 1
        vm.status = "changed" if vm.task_ext_ids else "unchanged"

    def _predict(self, vm):
        """Check mode: whether any step would act on the VM as it is now."""
        vm.vm, _etag = read_vm(self.client, vm.vm_ext_id)
        vm.vm_name = vm.vm_name or vm.vm.get("name")
        needed = [decide(vm.vm) for _word, decide in self.steps]
        vm.status = "changed" if any(c is not None for c in needed) else "unchanged"

    def check(self, vms):
        self._each(self._predict, [vm for vm in vms if vm.status == "pending"])
        return vms

    def run(self, vms):
        """Drive every VM to changed, unchanged or failed; returns them in the order given."""
        deadline = time.monotonic() + self.timeout
        self._each(self._advance, [vm for vm in vms if vm.status == "pending"])
        delay = 0.2
        while True:
            waiting = dict((vm.task, vm) for vm in vms if vm.task)
            if not waiting:
                return vms
            if time.monotonic() > deadline:
                for vm in waiting.values():
                    vm.fail(
                        "task %s still running after %ss; follow it with day2ops.ahv.task_info"
                        % (vm.task, self.timeout),
                        task_failed=True,
                    )
                return vms
            ended = self.client.ended_tasks(list(waiting), "poll the VMs' tasks")
            advanced = []
            for task in ended.values():
                vm = waiting[task["extId"]]
                vm.task = None
                if task.get("status") != "SUCCEEDED":
                    word = self.steps[vm.step][0]
                    vm.fail(
                        "%s task %s %s: %s" % (word, task["extId"], task.get("status"), task_error(task)[0]),
                        task_failed=True,
                    )
                    continue
                vm.step += 1
                advanced.append(vm)
            self._each(self._advance, advanced)
            if ended:
                delay = 0.2
                continue
            time.sleep(delay)
            delay = min(delay * 1.5, POLL_MAX_SECONDS)


def batch_outcome(module, results, before, after):
    """A batch module's (changed, result): each VM's entry, the counts per status, every task id, the
    diff (`before`/`after`: VM name -> state) when asked; failed after every VM finished when any VM
    failed and fail_on_error is set."""
    out = dict(
        results=results,
        counts=counts(results),
        task_ext_ids=[t for r in results for t in r["task_ext_ids"]],
    )
    if module.diff:
        out["diff"] = dict(before=before, after=after)
    changed = any(r["status"] == "changed" for r in results)
    failure = batch_failure(results)
    if failure and module.params["fail_on_error"]:
        module.ansible.fail_json(msg=failure, changed=changed, **out)
    return changed, out


def counts(results):
    """How many VMs ended in each status."""
    found = {}
    for entry in results:
        found[entry["status"]] = found.get(entry["status"], 0) + 1
    return found


def batch_failure(results):
    """The message of a batch in which VMs failed, naming the first few; None when none did."""
    failed = [r for r in results if r["status"] == "failed"]
    if not failed:
        return None
    return "%d of %d VM(s) failed: %s" % (
        len(failed),
        len(results),
        "; ".join("%s: %s" % (r["vm_name"] or r["vm_ext_id"], r["reason"]) for r in failed[:5]),
    )
