#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: servicenow_cmdb_info
short_description: Read CMDB records from ServiceNow through the Table API
version_added: 0.1.0
description:
  - Reads every record of a ServiceNow table (C(cmdb_ci_vm_instance) by default), page after page,
    with only the fields asked for, for comparing the CMDB with Prism Central (see the C(chargeback)
    role's CMDB drift).
  - Read-only. Retries on 429 and 5xx with backoff, honouring C(Retry-After).
  - The instance and credentials fall back to E(SN_HOST), E(SN_USERNAME) and E(SN_PASSWORD), as the
    servicenow.itsm collection reads them, and O(ca_path) to E(SN_CA_PATH).
author: day2ops team (@day2ops)
options:
  instance_url:
    description: The instance, for example C(https://example.service-now.com).
    type: str
    required: true
    aliases: [host]
  username:
    description: A user that may read the table.
    type: str
    required: true
  password:
    description: Its password.
    type: str
    required: true
  table:
    description: The table to read.
    type: str
    default: cmdb_ci_vm_instance
  fields:
    description: The fields to return (C(sysparm_fields)); all when empty.
    type: list
    elements: str
    default: [name, object_id, department, environment]
  query:
    description: An encoded query (C(sysparm_query)), for example C(state=on).
    type: str
  validate_certs:
    description: Verify the instance's TLS certificate.
    type: bool
    default: true
  ca_path:
    description: A CA bundle to verify it with.
    type: path
attributes:
  check_mode:
    support: full
    description: Reads only.
  diff_mode:
    support: none
    description: Reads only.
  platform:
    platforms: all
    description: Runs wherever Python and requests reach the instance, usually the controller.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
"""

EXAMPLES = r"""
- name: The powered-on VM instances in the CMDB (instance and user from SN_HOST, SN_USERNAME, SN_PASSWORD)
  day2ops.ahv.servicenow_cmdb_info:
    query: state=on
  register: cmdb

- name: Every field of one record
  day2ops.ahv.servicenow_cmdb_info:
    query: "name={{ cmdb.records[0].name }}"
    fields: []
"""

RETURN = r"""
records:
  description: The records, each with the fields asked for.
  returned: always
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule, env_fallback

from ansible_collections.day2ops.ahv.plugins.module_utils._http import ApiError
from ansible_collections.day2ops.ahv.plugins.module_utils._servicenow import ServiceNowClient


def main():
    module = AnsibleModule(
        argument_spec=dict(
            instance_url=dict(
                type="str", required=True, aliases=["host"], fallback=(env_fallback, ["SN_HOST"])
            ),
            username=dict(type="str", required=True, fallback=(env_fallback, ["SN_USERNAME"])),
            password=dict(type="str", required=True, no_log=True, fallback=(env_fallback, ["SN_PASSWORD"])),
            table=dict(type="str", default="cmdb_ci_vm_instance"),
            fields=dict(
                type="list", elements="str", default=["name", "object_id", "department", "environment"]
            ),
            query=dict(type="str"),
            validate_certs=dict(type="bool", default=True),
            ca_path=dict(type="path", fallback=(env_fallback, ["SN_CA_PATH"])),
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        records = ServiceNowClient.from_options(params).records(
            params["table"], params["fields"], params["query"]
        )
    except ApiError as err:
        module.fail_json(msg=str(err), **err.result())
    module.exit_json(changed=False, records=records)


if __name__ == "__main__":
    main()
