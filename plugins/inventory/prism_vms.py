# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: prism_vms
short_description: AHV VMs from Prism Central as hosts, grouped by Category, cluster and power state
version_added: 0.1.0
description:
  - Reads VMs through Prism Central's vmm v4 API, every page concurrently and only the fields it needs
    (C($select)), and makes each VM a host.
  - Default groups use names, never UUIDs; C(<key>_<value>) per Category (for example
    C(Environment_Production)), C(cluster_<name>) and C(power_state_<on|off|paused>).
    Characters that are not valid in a group name become C(_), as in C(cluster_prod_ahv_01).
  - O(keyed_groups), O(groups) and O(compose) add more; they see the host variables listed in the notes,
    and O(groups) and O(keyed_groups) also see the variables O(compose) made.
  - The file name must end in C(prism_vms.yml) or C(prism_vms.yaml).
author: day2ops team (@day2ops)
options:
  plugin:
    description: The name of this plugin; it marks the file as this plugin's.
    type: str
    required: true
    choices: [day2ops.ahv.prism_vms]
  filter:
    description:
      - An OData C($filter) that Prism applies, for example V(startswith(name, 'fin-')).
      - Filterable fields include C(name), C(powerState), C(memorySizeBytes), C(numSockets), C(cluster/extId).
    type: str
  categories:
    description:
      - "Only VMs carrying these Categories, as C({key: value}) or C({key: [values]})."
      - Keys combine with AND, the values of one key with OR. Resolved as in M(day2ops.ahv.vm_info),
        which picks the cheaper of reading the Categories' associations or filtering the list.
    type: dict
  hostnames:
    description:
      - V(name) names hosts after the VM. A name shared by several VMs stays with the VM whose ext_id sorts
        first; the others become C(<name>_<first 8 characters of the ext_id>), with a warning.
      - V(ext_id) names hosts after the VM's ext_id, which never changes and never repeats.
    type: str
    choices: [name, ext_id]
    default: name
  group_by_categories:
    description: Add each VM to a C(<key>_<value>) group per Category it carries.
    type: bool
    default: true
  group_by_cluster:
    description: Add each VM to C(cluster_<cluster name>).
    type: bool
    default: true
  group_by_power_state:
    description: Add each VM to C(power_state_on), C(power_state_off) or C(power_state_paused).
    type: bool
    default: true
extends_documentation_fragment:
  - day2ops.ahv.prism
  - day2ops.ahv.prism.inventory
  - constructed
  - inventory_cache
notes:
  - Host variables are C(ext_id), C(vm_name), C(cluster), C(cluster_ext_id), C(power_state) (C(ON), C(OFF) or
    C(PAUSED)), C(vcpus) (sockets x cores x threads), C(memory_mib), C(storage_gib), C(categories),
    C(ip_addresses) and C(ansible_host), the first of C(ip_addresses), absent when the VM has no address.
  - "C(categories) is C({key: [values]}) with Category names, for example C({Environment: [Production]})."
  - The cache holds these host variables, one entry per inventory file. A change to the file's options is
    seen when the cache expires or with C(--flush-cache).
  - Ansible only warns when an inventory source fails to parse. To make a wrong password or a bad filter
    fail the run, set E(ANSIBLE_INVENTORY_UNPARSED_FAILED=true) (C(unparsed_is_failed) in C([inventory])),
    or E(ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED=true) when other inventory sources are given too.
"""

EXAMPLES = r"""
# prod.prism_vms.yml
plugin: day2ops.ahv.prism_vms
nutanix_host: pc.example.com
nutanix_username: inventory
# nutanix_password from NUTANIX_PASSWORD
ca_path: /etc/pki/prism-ca.pem
categories:
  Environment: Production
filter: "powerState eq Vmm.Ahv.Config.PowerState'ON'"
keyed_groups:
  - key: categories.AppTier | default([])
    prefix: tier
compose:
  ansible_user: "'cloud-user'"
groups:
  big: memory_mib >= 32768
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/day2ops-inventory
cache_timeout: 600

---
# all.prism_vms.yml: every VM, named by ext_id, connection from NUTANIX_HOST, NUTANIX_API_KEY...
plugin: day2ops.ahv.prism_vms
hostnames: ext_id
group_by_power_state: false
"""

import sys

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.utils.vars import combine_vars

from ansible_collections.day2ops.ahv.plugins.module_utils._http import REQUESTS_IMPORT_ERROR, ApiError
from ansible_collections.day2ops.ahv.plugins.module_utils._prism import PrismClient
from ansible_collections.day2ops.ahv.plugins.module_utils._prism_module import CONNECTION_SPEC
from ansible_collections.day2ops.ahv.plugins.module_utils._vms import list_vms, vm_summaries

# The summary's keys that become host variables; the Prism object itself stays out, so that
# the cache and `ansible-inventory --list` stay small at tens of thousands of VMs.
HOSTVARS = (
    "ext_id",
    # The summary's `name`: Ansible reserves `name` (a play and task keyword), so the host has vm_name.
    "vm_name",
    "cluster",
    "cluster_ext_id",
    "power_state",
    "vcpus",
    "memory_mib",
    "storage_gib",
    "categories",
    "ip_addresses",
)


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "day2ops.ahv.prism_vms"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(("prism_vms.yml", "prism_vms.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        if REQUESTS_IMPORT_ERROR:
            raise AnsibleParserError(
                "Failed to import the required Python library (requests) on the controller's Python %s; "
                "install it there: %s -m pip install requests" % (sys.executable, sys.executable)
            )
        cache_key = self.get_cache_key(path)
        # `cache` is False for --flush-cache and meta: refresh_inventory; they query and then rewrite.
        # None when never written or expired; an empty estate is cached as [].
        vms = self._cache.get(cache_key) if cache and self.get_option("cache") else None
        if vms is None:
            vms = self._query()
            if self.get_option("cache"):
                self._cache[cache_key] = vms
        self._populate(vms)

    def _query(self):
        """The host variables of every VM in scope, as plain JSON-able dicts (what the cache holds)."""
        options = dict((name, self.get_option(name)) for name in CONNECTION_SPEC)
        options["api_versions"] = dict((k, v) for k, v in (options["api_versions"] or {}).items() if v)
        try:
            client = PrismClient.from_options(options)
            vms, _how = list_vms(
                client,
                odata_filter=self.get_option("filter"),
                categories=self.get_option("categories"),
                select=[],
            )
            summaries = vm_summaries(client, vms)
        except ApiError as err:
            # Ansible shows the message of a parser error without a traceback; ApiError's is one line.
            raise AnsibleParserError(str(err)) from None
        return [
            dict((key, vm.get("name" if key == "vm_name" else key)) for key in HOSTVARS) for vm in summaries
        ]

    def _populate(self, vms):
        strict = self.get_option("strict")
        compose = self.get_option("compose")
        groups = self.get_option("groups")
        keyed_groups = self.get_option("keyed_groups")
        by = dict(
            (name, self.get_option("group_by_" + name)) for name in ("categories", "cluster", "power_state")
        )
        hosts = [(host, vm, self._default_groups(vm, by)) for host, vm in self._hostnames(vms)]
        # Groups created in name order make `--graph` and `--list` read alphabetically.
        for group in sorted(set(group for _host, _vm, names in hosts for group in names)):
            self.inventory.add_group(group)
        for host, vm, default_groups in hosts:
            self.inventory.add_host(host)
            for key in HOSTVARS:
                self.inventory.set_variable(host, key, vm.get(key))
            if vm["ip_addresses"]:
                self.inventory.set_variable(host, "ansible_host", vm["ip_addresses"][0])
            for group in default_groups:
                self.inventory.add_child(group, host)
            # Templating is most of the cost at 20,000 hosts; skip it when nothing asks for it.
            if compose or groups or keyed_groups:
                self._construct(host, compose, groups, keyed_groups, strict)

    def _construct(self, host, compose, groups, keyed_groups, strict):
        hostvars = self.inventory.get_host(host).get_vars()
        self._set_composite_vars(compose, hostvars, host, strict=strict)
        if compose:
            # As ansible.builtin.constructed does: groups may test what compose just made.
            hostvars = combine_vars(hostvars, self.inventory.get_host(host).get_vars())
        self._add_host_to_composed_groups(groups, hostvars, host, strict=strict, fetch_hostvars=False)
        self._add_host_to_keyed_groups(keyed_groups, hostvars, host, strict=strict)

    def _hostnames(self, vms):
        """(host name, vm) pairs in name order, the same for every run over the same VMs.

        Prism lets VMs share a name but Ansible hosts cannot, so the VM whose ext_id sorts first keeps
        the name and the others take a suffix from their own ext_id, which does not depend on list order.
        """
        ordered = sorted(vms, key=lambda vm: (vm.get("vm_name") or vm["ext_id"], vm["ext_id"]))
        if self.get_option("hostnames") == "ext_id":
            return [(vm["ext_id"], vm) for vm in ordered]
        by_name = {}
        for vm in ordered:
            by_name.setdefault(vm.get("vm_name") or vm["ext_id"], []).append(vm)
        taken = set(by_name)
        pairs = []
        for name, same in by_name.items():
            pairs.append((name, same[0]))
            renamed = []
            for vm in same[1:]:
                host = "%s_%s" % (name, vm["ext_id"][:8])
                if host in taken:  # another VM is really called that
                    host = "%s_%s" % (name, vm["ext_id"])
                taken.add(host)
                renamed.append(host)
                pairs.append((host, vm))
            if renamed:
                self.display.warning(
                    "VM name '%s' is shared by %d VMs: the host '%s' is ext_id %s, the others are named %s. "
                    "Set hostnames: ext_id for host names that never change."
                    % (name, len(same), name, same[0]["ext_id"], ", ".join(renamed))
                )
        return pairs

    def _default_groups(self, vm, by):
        groups = []
        if by["categories"]:
            for key, values in sorted(vm["categories"].items()):
                groups.extend("%s_%s" % (key, value) for value in values)
        if by["cluster"] and vm["cluster"]:
            groups.append("cluster_%s" % vm["cluster"])
        if by["power_state"] and vm["power_state"]:
            groups.append("power_state_%s" % vm["power_state"].lower())
        return [self._sanitize_group_name(group) for group in groups]
