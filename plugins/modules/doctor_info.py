#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: doctor_info
short_description: Check, read-only, that Prism Central (and Move, vCenter) can serve every day2ops flow
version_added: 0.1.0
description:
  - The first thing to run against a real Prism Central, also as C(day2ops doctor) on the command line.
  - Tries each read the day2ops flows make, the way they make it, and reports one check per read with
    the flow that needs it (inventory, chargeback, safe patch, DR, DR drill, templates, migration,
    catalog), its status (V(ok), V(warn), V(fail), V(skip)), what was seen, and the fix when it failed.
  - "Checks: TLS and the CA bundle; authentication (basic or API key); clock skew (the HTTP C(Date)
    header); the API versions served per namespace (C(OPTIONS /api/<namespace>/unversioned/info), or
    probing older Prism Centrals with cheap lists) against O(api_versions); listing VMs with the
    C($select), C($filter) and C($orderby) the flows send; the C(ETag) header on a VM; Categories with
    C($expand=detailedAssociations); recovery points with the catalog's filter; clusters for DR;
    templates and their versions; tasks and the form of their ids."
  - A read refused with HTTP 403 fails its check and names the operation to allow. Role data (the
    iam API) is not read.
  - "With O(move) and O(vcenter), for the migration flow: Move's login and version; its source inventory
    per provider (the count Move gives, and the VMs read by paging to the end, 100 a page); its plan
    API, reading the first plan and its VMs, failing when they come in a shape day2ops does not know;
    vCenter's session; its clusters, tag categories, VM folders and VM count (a warning past the 4000
    VMs one list returns)."
  - Never changes anything. Prism Central is only sent GET and OPTIONS; Move and vCenter are sent
    their login (a POST, which their APIs require before any read), GETs, and to Move the POSTs by
    which it lists (providers, a provider's VMs, plans, a plan's VMs).
author: day2ops team (@day2ops)
options:
  fail_on_failed_checks:
    description:
      - Fail the task when any check has status V(fail), so an AWX job shows red. The report is
        returned either way.
    type: bool
    default: true
  move:
    description:
      - A Nutanix Move appliance to check too. V({}) takes every value from the environment.
    type: dict
    suboptions:
      host:
        description: Move's host name or address. If not set, E(MOVE_HOST) is used.
        type: str
      port:
        description: Move's HTTPS port. If not set, E(MOVE_PORT) is used.
        type: int
        default: 443
      username:
        description: Move user. If not set, E(MOVE_USERNAME) is used.
        type: str
        default: nutanix
      password:
        description: Password of the Move user. If not set, E(MOVE_PASSWORD) is used.
        type: str
      ca_path:
        description: A PEM CA bundle for Move's certificate. If not set, E(MOVE_CA_PATH) is used.
        type: path
  vcenter:
    description:
      - A vCenter to check too (the source of migration waves). V({}) takes every value from the
        environment.
    type: dict
    suboptions:
      host:
        description: vCenter's host name or address. If not set, E(VMWARE_HOST) is used.
        type: str
      port:
        description: vCenter's HTTPS port. If not set, E(VMWARE_PORT) is used.
        type: int
        default: 443
      username:
        description: vCenter user. If not set, E(VMWARE_USER) is used.
        type: str
      password:
        description: Password of the vCenter user. If not set, E(VMWARE_PASSWORD) is used.
        type: str
      ca_path:
        description: A PEM CA bundle for vCenter's certificate. If not set, E(VMWARE_CA_PATH) is used.
        type: path
notes:
  - O(validate_certs) applies to Move and vCenter too.
extends_documentation_fragment:
  - day2ops.ahv.prism
  - day2ops.ahv.prism.module
  - day2ops.ahv.prism.info
  - ansible.builtin.action_common_attributes
"""

EXAMPLES = r"""
- name: Check Prism Central before the first flow runs against it
  day2ops.ahv.doctor_info:
  register: doctor

- name: Show each check, and the fix of those that did not pass
  ansible.builtin.debug:
    msg: >-
      {{ item.status }} {{ item.name }} ({{ item.flow }}): {{ item.detail }}
      {{ '-- fix: ' ~ item.fix if item.fix else '' }}
  loop: "{{ doctor.checks }}"
  loop_control:
    label: "{{ item.name }}"

- name: Check Nutanix Move and vCenter as well, from their MOVE_* and VMWARE_* variables, and report only
  day2ops.ahv.doctor_info:
    move: {}
    vcenter: {}
    fail_on_failed_checks: false
  register: everything

- name: List what failed
  ansible.builtin.debug:
    var: everything.failed_checks
"""

RETURN = r"""
checks:
  description: One record per check, in the order they ran.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: What was checked.
      type: str
      sample: recovery points
    flow:
      description: The day2ops flows that need it.
      type: str
      sample: safe patch, DR, DR drill, catalog
    status:
      description: V(ok), V(warn), V(fail) or V(skip) (not tried, and why is in RV(checks[].detail)).
      type: str
      sample: fail
    detail:
      description: What was seen.
      type: str
      sample: "list_recovery_points: 403 Access denied"
    fix:
      description: What to do, for a check that did not pass; null otherwise.
      type: str
failed_checks:
  description: The names of the checks with status V(fail).
  returned: always
  type: list
  elements: str
passed:
  description: Whether no check failed.
  returned: always
  type: bool
counts:
  description: How many checks ended with each status.
  returned: always
  type: dict
  sample: {ok: 15, warn: 0, fail: 0, skip: 1}
versions:
  description:
    - Per namespace, the newest version Prism Central serves (null when it could not tell), the
      version day2ops is set to call, and how the served one was learnt.
    - Empty when Prism Central could not be reached or refused the credentials.
  returned: always
  type: dict
  sample:
    vmm: {served: v4.3, configured: v4.0, how: by OPTIONS unversioned/info}
prism_central:
  description: The Prism Central checked.
  returned: always
  type: str
  sample: https://pc.example.com:9440
"""

from ansible_collections.day2ops.ahv.plugins.module_utils._doctor import examine
from ansible_collections.day2ops.ahv.plugins.module_utils._migration_module import MOVE_SPEC, VCENTER_SPEC
from ansible_collections.day2ops.ahv.plugins.module_utils._prism_module import PrismModule

SHARED = ("validate_certs", "request_timeout")  # taken from the Prism options


def _suboptions(spec, prefix):
    """The Move or vCenter modules' own options, without their prefix, with the same environment variables."""
    options = {}
    for name, option in spec.items():
        if name not in SHARED:
            option = dict(option)
            option.pop("required", None)  # checked only when the dict is given: see _client_options
            options[name[len(prefix) + 1 :] if name.startswith(prefix + "_") else name] = option
    return options


def _client_options(module, prefix):
    """The option names the Move or vCenter client reads, from this module's `prefix` dict."""
    given = module.params[prefix]
    if given is None:
        return None
    missing = [k for k in ("host", "username", "password") if not given.get(k)]
    if missing:
        module.ansible.fail_json(
            msg="%s needs %s: set %s or its environment variable"
            % (prefix, ", ".join(missing), ", ".join("%s.%s" % (prefix, k) for k in missing))
        )
    options = dict(("%s_%s" % (prefix, k) if k != "ca_path" else k, v) for k, v in given.items())
    options.update((k, module.params[k]) for k in SHARED)
    return options


def ensure(module):
    report = examine(
        module.client, module.params, _client_options(module, "move"), _client_options(module, "vcenter")
    )
    failed = report["failed_checks"]
    if failed and module.params["fail_on_failed_checks"]:
        msg = "%d check(s) failed: %s; see checks[].fix" % (len(failed), ", ".join(failed))
        module.ansible.fail_json(msg=msg, changed=False, **report)
    return False, report


def main():
    PrismModule(
        dict(
            fail_on_failed_checks=dict(type="bool", default=True),
            move=dict(type="dict", options=_suboptions(MOVE_SPEC, "move")),
            vcenter=dict(type="dict", options=_suboptions(VCENTER_SPEC, "vcenter")),
        ),
        supports_check_mode=True,
    ).run(ensure)


if __name__ == "__main__":
    main()
