# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible's own floor for the prism_vms benchmark: the hosts, groups and host variables of a recorded
`ansible-inventory --list` of day2ops.ahv.prism_vms, added through the same inventory calls and no HTTP.

Loaded from ANSIBLE_INVENTORY_PLUGINS; its source is `{"plugin": "prism_vms_stub", "replay": <file>}`
where the file is what `replay()` in bench_inventory.py writes.
"""

from __future__ import annotations

import json

from ansible.plugins.inventory import BaseInventoryPlugin

DOCUMENTATION = r"""
name: prism_vms_stub
short_description: Benchmark floor, replays prism_vms hosts from a file
description: Adds the hosts, groups and host variables a prism_vms run recorded, without Prism.
options:
  plugin:
    description: The name of this plugin.
    required: true
    choices: [prism_vms_stub]
  replay:
    description: The recorded inventory, {groups, hosts [[name, vars, groups]]}.
    required: true
"""


class InventoryModule(BaseInventoryPlugin):
    NAME = "prism_vms_stub"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith("stub.yml")

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        with open(self.get_option("replay")) as recorded:
            replay = json.load(recorded)
        for group in replay["groups"]:
            self.inventory.add_group(group)
        for host, hostvars, groups in replay["hosts"]:
            self.inventory.add_host(host)
            for key, value in hostvars.items():
                self.inventory.set_variable(host, key, value)
            for group in groups:
                self.inventory.add_child(group, host)
