#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: migration_wave_info
short_description: Read a migration wave file, check it, and resolve each group's VMs in vCenter
version_added: 0.1.0
description:
  - Reads one wave of a wave file (YAML, schema version 1, documented in docs/flows/migration.md under
    "The wave file") and reports every mistake of the file at once, each with its path in the file
    and the fix, for example C(waves[0].groups[1].depends_on 'dbs' is not a group of this wave).
  - Applies the file's C(defaults) to the wave and orders its dependency groups so that each comes
    after every group it C(depends_on) (file order otherwise); a dependency cycle is a mistake.
  - Resolves each group's VMs in vCenter, by exact name (C(vms)) or by vCenter tags (C(tags), category
    to tag, ANDed), with the ids Nutanix Move knows them by. A name vCenter does not know, tags that
    select nothing, and a VM in two groups are mistakes too.
  - Says whether the current time is inside the wave's window.
  - Reads only; runs on the controller, where the wave file is.
author: day2ops team (@day2ops)
options:
  path:
    description: The wave file.
    type: path
    required: true
  wave:
    description: The name of the wave to read.
    type: str
    required: true
extends_documentation_fragment:
  - day2ops.ahv.vcenter
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reads only.
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: A wave of the file beside the playbook, checked and resolved (vCenter from VMWARE_* variables)
  day2ops.ahv.migration_wave_info:
    path: "{{ playbook_dir }}/waves.yml"
    wave: finance-test
  register: finance

- name: Its groups in cut-over order
  ansible.builtin.debug:
    msg: "{{ finance.wave.groups | map(attribute='name') }}"
"""

RETURN = r"""
wave:
  description:
    - The wave with C(defaults) applied, its policies filled in (C(readiness_policy) V(exclude),
      C(failure_policy) V(pause), C(approvals_required) 1, C(readiness_timeout) 7200 unless set).
    - C(groups) in cut-over order, each with C(name), C(depends_on), C(categories), C(guest_credentials),
      and the resolved VM names in C(vms).
    - C(guest_prep_mode) (V(auto) unless set) and C(guest_credentials), the accounts Move prepares the
      guests with (user names and the variables holding the passwords, never a password).
  returned: always
  type: dict
vms:
  description:
    - Every VM of the wave in cut-over order, each with C(name), C(group), vCenter's C(vm) id,
      C(instance_uuid), C(power_state), the guest's C(ip_address) (null without VMware Tools), and
      C(guest_account), the account its group names for it or its OS (C(username), C(password_env)),
      null when the wave's own guest_credentials apply.
  returned: always
  type: list
  elements: dict
password_envs:
  description: The environment variables the wave reads guest passwords from, to check they are set.
  returned: always
  type: list
  elements: str
in_window:
  description: Whether now is inside the wave's window (true when it has none).
  returned: always
  type: bool
"""

import datetime

from ansible.module_utils.common.text.converters import to_native
from ansible.module_utils.common.yaml import HAS_YAML, yaml_load

from ansible_collections.day2ops.ahv.plugins.module_utils._http import ApiError
from ansible_collections.day2ops.ahv.plugins.module_utils._migration_module import vcenter_module
from ansible_collections.day2ops.ahv.plugins.module_utils._waves import (
    WaveError,
    guest_account,
    in_window,
    parse,
    password_envs,
)


def group_vms(client, group, where):
    """The group's VM summaries; names vCenter does not know, or tags selecting nothing, are mistakes."""
    if group["vms"]:
        found = client.list_vms(names=group["vms"])
        missing = sorted(set(group["vms"]) - set(v["name"] for v in found))
        if missing:
            return found, ["%s.vms: vCenter has no VM named %s" % (where, ", ".join(missing))]
    else:
        found = []
    if group["tags"]:
        tagged = client.vms_tagged(group["tags"])
        if not tagged:
            return found, ["%s.tags: %s select no VM in vCenter" % (where, group["tags"])]
        known = set(v["vm"] for v in found)
        found.extend(v for v in client.list_vms(vms=sorted(tagged)) if v["vm"] not in known)
    return found, []


def ensure(module):
    params, client = module.params, module.client
    try:
        with open(params["path"], "rb") as handle:
            document = yaml_load(handle)
    except (IOError, OSError) as err:
        raise ApiError("read wave file", to_native(err), hint="check O(path)") from err
    except Exception as err:
        raise ApiError("read wave file %s" % params["path"], "not YAML: %s" % to_native(err)) from err
    try:
        wave = parse(document, params["wave"])
    except WaveError as err:
        raise ApiError("check wave file %s" % params["path"], str(err)) from None
    vms, errors, owner = [], [], {}
    for group in wave["groups"]:
        where = "group %s" % group["name"]
        found, problems = group_vms(client, group, where)
        errors.extend(problems)
        for summary in sorted(found, key=lambda v: v["name"]):
            if summary["vm"] in owner:
                first = owner[summary["vm"]]
                errors.append("%s: VM %s is in group %s too; list it once" % (where, summary["name"], first))
                continue
            owner[summary["vm"]] = group["name"]
            guest = client.guest_identity(summary["vm"], summary["power_state"]) or {}
            info = client.vm(summary["vm"])
            vms.append(
                dict(
                    name=summary["name"],
                    group=group["name"],
                    vm=summary["vm"],
                    instance_uuid=info["identity"]["instance_uuid"],
                    power_state=summary["power_state"],
                    ip_address=guest.get("ip_address"),
                    guest_account=guest_account(
                        group["guest_credentials"], summary["name"], info.get("guest_OS")
                    ),
                )
            )
        group["vms"] = [v["name"] for v in vms if v["group"] == group["name"]]
        strays = sorted(set(group["guest_credentials"].get("vms") or ()) - set(group["vms"]))
        if strays:
            errors.append(
                "%s: guest_credentials.vms names %s, not VMs of the group" % (where, ", ".join(strays))
            )
    if errors:
        raise ApiError("resolve wave '%s' in vCenter" % wave["name"], "; ".join(errors))
    now = datetime.datetime.now(datetime.timezone.utc)
    return False, dict(wave=wave, vms=vms, in_window=in_window(wave, now), password_envs=password_envs(wave))


def main():
    module = vcenter_module(
        dict(path=dict(type="path", required=True), wave=dict(type="str", required=True)),
        supports_check_mode=True,
    )
    if not HAS_YAML:
        module.ansible.fail_json(msg="PyYAML is required to read the wave file")
    module.run(ensure)


if __name__ == "__main__":
    main()
