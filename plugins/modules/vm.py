#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vm
short_description: Delete an AHV VM, guarded
version_added: 0.1.0
description:
  - Deletes one VM through the vmm v4 API (C(DELETE /api/vmm/v4.x/ahv/config/vms/{extId}))
    with its fresh ETag.
  - The guard is deliberate. The module refuses to run unless O(state=absent) is given together with the VM's
    O(ext_id); it takes no name, because a name can match another VM.
  - A VM that is already gone is reported unchanged.
author: day2ops team (@day2ops)
options:
  ext_id:
    description:
      - The ext_id of the VM to delete, for example from M(day2ops.ahv.vm_info).
      - Required. It is checked by the module rather than by Ansible so that passing O(name) instead gets an
        error that explains why.
    type: str
  name:
    description:
      - Refused with an explanation; delete by O(ext_id).
    type: str
  state:
    description: Must be V(absent); the only state this module manages today.
    type: str
    required: true
    choices: [absent]
extends_documentation_fragment:
  - day2ops.ahv.prism
  - day2ops.ahv.prism.module
  - day2ops.ahv.prism.wait
  - day2ops.ahv.prism.change
  - ansible.builtin.action_common_attributes
"""

EXAMPLES = r"""
- name: Find the VM to retire
  day2ops.ahv.vm_info:
    name: sales-wiki-dev-cache-038
  register: retiring

- name: Delete it by ext_id
  day2ops.ahv.vm:
    ext_id: "{{ retiring.vms[0].ext_id }}"
    state: absent
  register: deleted
"""

RETURN = r"""
ext_id:
  description: The VM's ext_id.
  returned: always
  type: str
task_ext_id:
  description: The ext_id of the delete task; null when the VM was already gone or in check mode.
  returned: always
  type: str
vm:
  description:
    - The VM as it was before the delete (C(vmm.v4.ahv.config.Vm)), as evidence.
    - Null when it was already gone.
  returned: always
  type: dict
"""

from ansible_collections.day2ops.ahv.plugins.module_utils._http import ApiError
from ansible_collections.day2ops.ahv.plugins.module_utils._lookup import find_vm, unless_gone
from ansible_collections.day2ops.ahv.plugins.module_utils._prism_module import WAIT_SPEC, PrismModule
from ansible_collections.day2ops.ahv.plugins.module_utils._vmm import change_vm, delete_vm


def ensure(module):
    params, client = module.params, module.client
    ext_id = params["ext_id"]
    if params["name"] is not None or not ext_id:
        raise ApiError(
            "delete VM %s" % (params["name"] or ""),
            "the VM must be given by ext_id; a name can match another VM",
            hint="find its ext_id with day2ops.ahv.vm_info and pass ext_id",
        )
    vm = unless_gone(lambda: find_vm(client, ext_id=ext_id), required=False)
    result = dict(ext_id=ext_id, task_ext_id=None, vm=vm)
    if module.diff:
        shown = dict(ext_id=ext_id, name=vm.get("name"), power_state=vm.get("powerState")) if vm else {}
        result["diff"] = dict(before=shown, after={})
    if vm is None or module.check_mode:
        return vm is not None, result
    label = "delete VM '%s' (%s)" % (vm.get("name"), ext_id)
    task_ext_id = change_vm(client, ext_id, label, lambda current: delete_vm(ext_id))[2]
    result["task_ext_id"] = task_ext_id
    if params["wait"]:
        try:
            client.wait_task(task_ext_id, params["timeout"], label)
        except ApiError as err:
            module.fail_api(err, **result)
    return True, result


def main():
    spec = dict(
        ext_id=dict(type="str"),
        name=dict(type="str"),
        state=dict(type="str", required=True, choices=["absent"]),
    )
    spec.update(WAIT_SPEC)
    PrismModule(spec, supports_check_mode=True).run(ensure)


if __name__ == "__main__":
    main()
