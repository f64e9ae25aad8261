#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: template_guest_update
short_description: Start, complete or cancel a guest OS update of an AHV VM template
version_added: 0.1.0
description:
  - A guest OS update makes a new template version from a patched copy of an existing one, without a
    golden VM kept around (vmm v4 C($actions/initiate-guest-update), C(complete-guest-update),
    C(cancel-guest-update)), each sent with the template's fresh ETag.
  - V(started) has Prism deploy a temporary VM from a version (the active one by default) and returns it
    as RV(vm_ext_id). Power it on and change it (patch it over SSH, for example), then V(completed) makes
    a new version from it and Prism deletes the VM; V(canceled) deletes the VM and keeps nothing.
  - One guest update at a time per template. V(started) while one is in progress returns that one,
    unchanged. V(completed) and V(canceled) with none in progress change nothing when there is nothing
    to do, so each state is idempotent.
author: day2ops team (@day2ops)
options:
  state:
    description: V(started), V(completed) or V(canceled).
    type: str
    required: true
    choices: [started, completed, canceled]
  version:
    description: With O(state=started), the version (name or ext_id) to start from; the active one by default.
    type: str
  version_name:
    description:
      - With O(state=completed), the new version's name (required). A version of that name that exists
        already, with no update in progress, means the update was completed before.
    type: str
  version_description:
    description: With O(state=completed), the new version's description.
    type: str
  activate:
    description:
      - With O(state=completed), whether the new version becomes the active one (Prism's default).
      - Set V(false) to test it first, then publish it with
        O(day2ops.ahv.template#module:active_version) of M(day2ops.ahv.template).
    type: bool
    default: true
extends_documentation_fragment:
  - day2ops.ahv.prism
  - day2ops.ahv.prism.module
  - day2ops.ahv.prism.template
  - day2ops.ahv.prism.wait
  - day2ops.ahv.prism.change
  - ansible.builtin.action_common_attributes
"""

EXAMPLES = r"""
- name: Start a guest OS update of the active version
  day2ops.ahv.template_guest_update:
    name: rocky9-base
    state: started
  register: update

- name: Power the temporary VM on, to patch it
  day2ops.ahv.vm_power:
    ext_id: "{{ update.vm_ext_id }}"
    state: powered_on

- name: Keep the patched VM as a new version, inactive until it is tested
  day2ops.ahv.template_guest_update:
    name: rocky9-base
    state: completed
    version_name: "2025.03"
    version_description: March patches
    activate: false
  register: patched

- name: Or throw the changes away
  day2ops.ahv.template_guest_update:
    name: rocky9-base
    state: canceled
"""

RETURN = r"""
ext_id:
  description: The template's ext_id.
  returned: always
  type: str
vm_ext_id:
  description: The temporary VM of the update (deleted by Prism once it is completed or canceled).
  returned: always
  type: str
version_ext_id:
  description: With V(completed), the new version; null otherwise or in check mode.
  returned: always
  type: str
version_name:
  description: With V(completed), the new version's name.
  returned: always
  type: str
in_progress:
  description: Whether a guest OS update of the template is in progress at the end.
  returned: always
  type: bool
task_ext_id:
  description: The ext_id of the Prism task this run started; null when nothing was needed.
  returned: always
  type: str
task_ext_ids:
  description: The Prism task this run started, as a list (empty when nothing was needed).
  returned: always
  type: list
  elements: str
"""

from ansible_collections.day2ops.ahv.plugins.module_utils._http import ApiError
from ansible_collections.day2ops.ahv.plugins.module_utils._prism_module import (
    VM_CHOICE,
    VM_SPEC,
    WAIT_SPEC,
    PrismModule,
)
from ansible_collections.day2ops.ahv.plugins.module_utils._templates import find, find_version, summary
from ansible_collections.day2ops.ahv.plugins.module_utils._vmm import change_template, guest_update

# state -> the step of the guest OS update that reaches it
ACTIONS = {"started": "initiate", "completed": "complete", "canceled": "cancel"}


def pending(template):
    return summary(template)["guest_update_vm_ext_id"]


def request(client, params, template):
    """(label, body) of the action `state` asks for, or None when the template is there already."""
    name, state, vm = template["templateName"], params["state"], pending(template)
    if state == "started":
        if vm:
            return None
        body = (
            {"versionId": find_version(client, template, params["version"])["extId"]}
            if params["version"]
            else {}
        )
        return "start a guest OS update of template '%s'" % name, body
    if state == "canceled":
        return ("cancel the guest OS update of template '%s'" % name, None) if vm else None
    if not vm:
        if find_version(client, template, params["version_name"], required=False):
            return None
        raise ApiError(
            "complete the guest OS update of template '%s'" % name,
            "no guest OS update is in progress and no version '%s' exists" % params["version_name"],
            status=409,
            hint="start one with state: started first",
        )
    body = {"versionName": params["version_name"], "isActiveVersion": params["activate"]}
    body["versionDescription"] = params["version_description"] or "Guest OS update of VM %s" % vm
    return "complete the guest OS update of template '%s' as version '%s'" % (
        name,
        params["version_name"],
    ), body


def ensure(module):
    params, client = module.params, module.client
    template = find(client, params["ext_id"], params["name"])
    vm = pending(template)
    result = dict(
        ext_id=template["extId"],
        vm_ext_id=vm,
        version_ext_id=None,
        version_name=params["version_name"] if params["state"] == "completed" else None,
        in_progress=bool(vm),
        task_ext_id=None,
        task_ext_ids=[],
    )
    wanted = request(client, params, template)
    if wanted is None or module.check_mode:
        if wanted is None and params["state"] == "completed":
            result["version_ext_id"] = find_version(client, template, params["version_name"])["extId"]
        return wanted is not None, result
    label, body = wanted
    step = ACTIONS[params["state"]]

    def decide(current):
        # Re-read after a 412: someone else may have started or ended the update meanwhile.
        if bool(pending(current)) == (params["state"] == "started"):
            return None
        return guest_update(current["extId"], step, body)

    task_ext_id = change_template(client, template["extId"], label, decide)[2]
    result.update(task_ext_id=task_ext_id, task_ext_ids=[task_ext_id] if task_ext_id else [])
    if not (params["wait"] and task_ext_id):
        return task_ext_id is not None, result
    try:
        client.wait_task(task_ext_id, params["timeout"], label)
    except ApiError as err:
        module.fail_api(err, **result)
    template = find(client, template["extId"])
    result.update(in_progress=bool(pending(template)))
    if params["state"] == "started":
        result["vm_ext_id"] = pending(template)
    elif params["state"] == "completed":
        result["version_ext_id"] = find_version(client, template, params["version_name"])["extId"]
    return True, result


def main():
    spec = dict(VM_SPEC)
    spec.update(
        state=dict(type="str", required=True, choices=sorted(ACTIONS)),
        version=dict(type="str"),
        version_name=dict(type="str"),
        version_description=dict(type="str"),
        activate=dict(type="bool", default=True),
    )
    spec.update(WAIT_SPEC)
    PrismModule(
        spec,
        supports_check_mode=True,
        required_if=[("state", "completed", ["version_name"])],
        **VM_CHOICE,
    ).run(ensure)


if __name__ == "__main__":
    main()
