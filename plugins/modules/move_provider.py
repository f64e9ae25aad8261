#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: move_provider
short_description: Add a vCenter or a Prism Central to Nutanix Move as a migration provider, or remove it
version_added: 0.1.0
description:
  - Adds a source (vCenter, Move type C(ESXI)) or a target (Prism Central, Move type C(AOS)) to the
    Move appliance through C(POST /move/v2/providers), found again by its name.
  - An existing provider of that name is left as it is. Move never returns the stored password, so
    the module cannot tell whether the credentials differ. Remove and add it to change them.
  - V(absent) removes it (C(DELETE /move/v2/providers/{uuid})); Move refuses while a plan uses it.
    That endpoint is not in Move's published reference; the simulator models it (see docs/simulator.md).
author: day2ops team (@day2ops)
options:
  name:
    description: The provider's name in Move.
    type: str
    required: true
  type:
    description: V(vcenter) for a VMware source, V(prism_central) for an AHV target. Required to add one.
    type: str
    choices: [vcenter, prism_central]
  address:
    description: Host name or IP address of the vCenter or Prism Central, as Move will reach it.
    type: str
  username:
    description: The user Move logs in to it with.
    type: str
  password:
    description: That user's password. Never logged or returned.
    type: str
  state:
    description: Whether the provider should exist.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - day2ops.ahv.move
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reports whether the provider would be added or removed, without doing it.
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: The source vCenter, as the demo's Move appliance already knows it (Move from MOVE_* variables)
  day2ops.ahv.move_provider:
    name: vcenter-east
    type: vcenter
    address: vcenter.corp.example
    username: administrator@vsphere.local
    password: "{{ lookup('ansible.builtin.env', 'VMWARE_PASSWORD') }}"
  register: source

- name: A provider nobody needs any more
  day2ops.ahv.move_provider:
    name: vcenter-decommissioned
    state: absent
"""

RETURN = r"""
provider_uuid:
  description: The provider's UUID in Move; null when it is absent.
  returned: always
  type: str
provider:
  description: The provider as Move returns it (C(MetaData), C(Spec) without the password, C(Status)).
  returned: when it exists
  type: dict
"""

from ansible_collections.day2ops.ahv.plugins.module_utils._http import ApiError
from ansible_collections.day2ops.ahv.plugins.module_utils._migration_module import move_module

ACCESS = {"vcenter": ("ESXI", "ESXAccessInfo"), "prism_central": ("AOS", "AOSAccessInfo")}


def ensure(module):
    params, client = module.params, module.client
    name = params["name"]
    found = client.provider_by_name(name)
    if params["state"] == "absent":
        if found and not module.check_mode:
            client.delete_provider(found["MetaData"]["UUID"], name)
        return bool(found), dict(provider_uuid=None)
    if found:
        return False, dict(provider_uuid=found["MetaData"]["UUID"], provider=found)
    missing = [k for k in ("type", "address", "username", "password") if not params[k]]
    if missing:
        raise ApiError(
            "add Move provider '%s'" % name,
            "%s missing" % ", ".join(missing),
            hint="give type, address, username and password to add a provider",
        )
    if module.check_mode:
        return True, dict(provider_uuid=None)
    kind, access = ACCESS[params["type"]]
    created = client.add_provider(
        {
            "Name": name,
            "Type": kind,
            access: {
                "IPorFQDN": params["address"],
                "Username": params["username"],
                "Password": params["password"],
            },
        }
    )
    return True, dict(provider_uuid=created["MetaData"]["UUID"], provider=created)


def main():
    move_module(
        dict(
            name=dict(type="str", required=True),
            type=dict(type="str", choices=list(ACCESS)),
            address=dict(type="str"),
            username=dict(type="str"),
            password=dict(type="str", no_log=True),
            state=dict(type="str", choices=["present", "absent"], default="present"),
        ),
        supports_check_mode=True,
    ).run(ensure)


if __name__ == "__main__":
    main()
