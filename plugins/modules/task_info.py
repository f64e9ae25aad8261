#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: task_info
short_description: Read a Prism Central task, or wait for it to end
version_added: 0.1.0
description:
  - Reads one Prism Central v4 task (C(/api/prism/v4.x/config/tasks/{extId})) by its ext_id.
  - With O(wait=true) polls it, backing off between polls, until it ends or O(timeout) passes.
author: day2ops team (@day2ops)
options:
  ext_id:
    description:
      - The task's ext_id, as returned in C(task_ext_id) by day2ops modules, for example
        V(ZXJnb24=:0b1c7a4e-...).
    type: str
    required: true
  wait:
    description:
      - Wait until the task is V(SUCCEEDED), V(FAILED) or V(CANCELED).
      - A task that ends other than V(SUCCEEDED) is returned, not failed; check RV(task).
    type: bool
    default: false
  timeout:
    description: Seconds to wait when O(wait=true).
    type: int
    default: 600
extends_documentation_fragment:
  - day2ops.ahv.prism
  - day2ops.ahv.prism.module
  - day2ops.ahv.prism.info
  - ansible.builtin.action_common_attributes
"""

EXAMPLES = r"""
- name: Power a VM off without waiting for Prism
  day2ops.ahv.vm_power:
    name: hr-portal-tst-app-071
    state: powered_off
    wait: false
  register: power

- name: Wait for that task
  day2ops.ahv.task_info:
    ext_id: "{{ power.task_ext_id }}"
    wait: true
    timeout: 300
  register: task

- name: Show how it ended
  ansible.builtin.debug:
    msg: "{{ task.task.operation }} {{ task.task.status }} in {{ task.duration_seconds }} s"
"""

RETURN = r"""
task:
  description: The task as Prism Central returns it (C(prism.v4.config.Task)).
  returned: always
  type: dict
  sample:
    extId: "ZXJnb24=:5f0b4a1e-3c1d-4d6b-9d1c-0d5d7b1f3a11"
    operation: PowerOffVm
    status: SUCCEEDED
    progressPercentage: 100
    entitiesAffected:
      - extId: 8f2b6f64-3b8a-4a57-9f7e-1b7d0c1a2e33
        rel: "vmm:ahv:config:vm"
ext_id:
  description: The task's ext_id.
  returned: always
  type: str
succeeded:
  description: Whether the task has ended with V(SUCCEEDED).
  returned: always
  type: bool
error:
  description: Prism's reason when the task V(FAILED) or was V(CANCELED), else null.
  returned: always
  type: str
duration_seconds:
  description: Seconds from the task's start to its end, when it has both.
  returned: always
  type: float
"""

from ansible_collections.day2ops.ahv.plugins.module_utils._prism import parse_time, task_error
from ansible_collections.day2ops.ahv.plugins.module_utils._prism_module import PrismModule


def _seconds(task):
    start, end = task.get("startedTime"), task.get("completedTime")
    if not (start and end):
        return None
    return round((parse_time(end) - parse_time(start)).total_seconds(), 3)


def ensure(module):
    params, client = module.params, module.client
    action = "read task %s" % params["ext_id"]
    if params["wait"]:
        task = client.wait_task(params["ext_id"], params["timeout"], action, raise_on_failure=False)
    else:
        task = client.task(params["ext_id"], action)
    failed = task.get("status") in ("FAILED", "CANCELED")
    return False, dict(
        task=task,
        ext_id=task.get("extId"),
        succeeded=task.get("status") == "SUCCEEDED",
        error=task_error(task)[0] if failed else None,
        duration_seconds=_seconds(task),
    )


def main():
    PrismModule(
        dict(
            ext_id=dict(type="str", required=True),
            wait=dict(type="bool", default=False),
            timeout=dict(type="int", default=600),
        ),
        supports_check_mode=True,
    ).run(ensure)


if __name__ == "__main__":
    main()
