#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: template_info
short_description: Find AHV VM templates and their versions
version_added: 0.1.0
description:
  - Reads VM templates from Prism Central's vmm v4 API (C(content/templates)), one by O(ext_id) or
    O(name), or a list narrowed with an OData C($filter) and sorted server-side.
  - Prism filters templates on C(templateName) and sorts them on C(templateName) and C(updateTime).
  - With O(versions=true), each template comes with every version, oldest first, the active one marked.
author: day2ops team (@day2ops)
options:
  ext_id:
    description: One template by ext_id; a missing one is an error.
    type: str
  name:
    description: One template by name; a missing one is an error, a name shared by two lists them.
    type: str
  filter:
    description: An OData C($filter) on the templates, for example C(startswith(templateName, 'rocky')).
    type: str
  order_by:
    description: An OData C($orderby).
    type: str
    default: templateName
  limit:
    description: Return at most this many templates.
    type: int
  versions:
    description: Also read each template's versions (one more call per template).
    type: bool
    default: false
extends_documentation_fragment:
  - day2ops.ahv.prism
  - day2ops.ahv.prism.module
  - day2ops.ahv.prism.info
  - ansible.builtin.action_common_attributes
"""

EXAMPLES = r"""
- name: A template with every version
  day2ops.ahv.template_info:
    name: rocky9-base
    versions: true
  register: rocky

- name: Which version is active
  ansible.builtin.debug:
    msg: >-
      {{ rocky.templates[0].active_version_name }} of
      {{ rocky.templates[0].versions | map(attribute='name') | join(', ') }}

- name: Every Rocky Linux template
  day2ops.ahv.template_info:
    filter: startswith(templateName, 'rocky')
"""

RETURN = r"""
templates:
  description:
    - "The templates found, each with C(ext_id), C(name), C(description), C(smoke_failed_version_ext_ids)
      (the versions that failed their smoke test, as the day2ops.ahv.template_release role records them
      on the last line of the description, C([day2ops: failed smoke test: <ext_id>, ...])),
      C(active_version_ext_id),
      C(active_version_name), C(guest_update_vm_ext_id) (the temporary VM of a guest OS update in
      progress, else null), C(create_time), C(update_time) and the raw object under C(template)."
    - With O(versions=true), also C(versions), each with C(ext_id), C(name), C(description), C(active),
      C(create_time), C(source_vm_ext_id), C(source_version_ext_id), C(cluster_ext_id), C(vcpus),
      C(memory_mib), C(smoke_failed) (recorded as failed in its smoke test) and the raw object under
      C(version).
  returned: always
  type: list
  elements: dict
ext_ids:
  description: The ext_ids of the templates found.
  returned: always
  type: list
  elements: str
total:
  description: How many templates were found.
  returned: always
  type: int
"""

from ansible_collections.day2ops.ahv.plugins.module_utils._prism_module import PrismModule
from ansible_collections.day2ops.ahv.plugins.module_utils._templates import (
    find,
    list_templates,
    smoke_failed_ext_ids,
    summary,
    version_summary,
    versions,
)


def ensure(module):
    params, client = module.params, module.client
    if params["ext_id"] or params["name"]:
        found = [find(client, params["ext_id"], params["name"])]
    else:
        found = list_templates(client, params["filter"], params["order_by"], params["limit"])
    templates = [summary(t) for t in found]
    if params["versions"]:
        for template, listed in zip(templates, client.map(lambda t: versions(client, t["extId"]), found)):
            failed = smoke_failed_ext_ids(template["description"])
            template["versions"] = [
                dict(version_summary(v), smoke_failed=v["extId"] in failed) for v in listed
            ]
    return False, dict(templates=templates, ext_ids=[t["ext_id"] for t in templates], total=len(templates))


def main():
    spec = dict(
        ext_id=dict(type="str"),
        name=dict(type="str"),
        filter=dict(type="str"),
        order_by=dict(type="str", default="templateName"),
        limit=dict(type="int"),
        versions=dict(type="bool", default=False),
    )
    PrismModule(
        spec,
        supports_check_mode=True,
        mutually_exclusive=[("ext_id", "name"), ("ext_id", "filter"), ("name", "filter")],
    ).run(ensure)


if __name__ == "__main__":
    main()
