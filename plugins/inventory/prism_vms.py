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
  - C(keyed_groups), C(groups) and C(compose) add more.
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
    type: str
  categories:
    description:
      - "Only VMs carrying these Categories, as C({key: value}) or C({key: [values]})."
      - Keys combine with AND, the values of one key with OR. Resolved as in M(day2ops.ahv.vm_info).
    type: dict
  hostnames:
    description:
      - V(name) names hosts after the VM; a name shared by several VMs keeps it for the first by ext_id
        and adds C(_<first 8 characters of the ext_id>) to the others, with a warning.
      - V(ext_id) names hosts after the VM's ext_id.
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
  - Host variables are C(ext_id), C(name), C(cluster), C(cluster_ext_id), C(power_state), C(vcpus),
    C(memory_mib), C(storage_gib), C(categories), C(ip_addresses) and C(ansible_host) (the first IP).
  - "C(categories) is C({key: [values]})."
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
"""

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.day2ops.ahv.plugins.module_utils._http import REQUESTS_IMPORT_ERROR, ApiError
from ansible_collections.day2ops.ahv.plugins.module_utils._prism import PrismClient
from ansible_collections.day2ops.ahv.plugins.module_utils._prism_module import CONNECTION_SPEC
from ansible_collections.day2ops.ahv.plugins.module_utils._vms import list_vms, vm_summaries

HOSTVARS = (
    "ext_id",
    "name",
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
                "day2ops.ahv.prism_vms needs the Python library requests: pip install requests"
            )
        key = self.get_cache_key(path)
        use_cache = cache and self.get_option("cache")
        vms = None
        if use_cache:
            try:
                vms = self._cache[key]
            except KeyError:
                vms = None
        if vms is None:
            vms = self._query()
            if self.get_option("cache"):
                self._cache[key] = vms
        self._populate(vms)

    def _query(self):
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
            raise AnsibleParserError(str(err)) from None
        return [dict((k, vm.get(k)) for k in HOSTVARS) for vm in summaries]

    def _populate(self, vms):
        strict = self.get_option("strict")
        # Templating per host is most of the cost at 20,000 hosts; skip it when nothing asks for it.
        constructed = any(self.get_option(o) for o in ("compose", "groups", "keyed_groups"))
        for host, vm in self._hostnames(vms):
            self.inventory.add_host(host)
            for name, value in vm.items():
                self.inventory.set_variable(host, name, value)
            if vm["ip_addresses"]:
                self.inventory.set_variable(host, "ansible_host", vm["ip_addresses"][0])
            for group in self._default_groups(vm):
                self.inventory.add_child(self.inventory.add_group(group), host)
            if constructed:
                hostvars = self.inventory.get_host(host).get_vars()
                self._set_composite_vars(self.get_option("compose"), hostvars, host, strict=strict)
                self._add_host_to_composed_groups(self.get_option("groups"), hostvars, host, strict=strict)
                self._add_host_to_keyed_groups(self.get_option("keyed_groups"), hostvars, host, strict=strict)

    def _hostnames(self, vms):
        """(host name, vm) pairs; duplicate names are told apart deterministically, by ext_id order."""
        if self.get_option("hostnames") == "ext_id":
            return [(vm["ext_id"], vm) for vm in vms]
        seen, named = set(), []
        for vm in sorted(vms, key=lambda v: v["ext_id"]):
            host = vm["name"] or vm["ext_id"]
            if host in seen:
                self.display.warning(
                    "VM name '%s' is shared; host for ext_id %s is named '%s_%s'"
                    % (host, vm["ext_id"], host, vm["ext_id"][:8])
                )
                host = "%s_%s" % (host, vm["ext_id"][:8])
            seen.add(host)
            named.append((host, vm))
        return named

    def _default_groups(self, vm):
        groups = []
        if self.get_option("group_by_categories"):
            for key, values in sorted(vm["categories"].items()):
                groups.extend("%s_%s" % (key, value) for value in values)
        if self.get_option("group_by_cluster") and vm["cluster"]:
            groups.append("cluster_%s" % vm["cluster"])
        if self.get_option("group_by_power_state") and vm["power_state"]:
            groups.append("power_state_%s" % vm["power_state"].lower())
        return [self._sanitize_group_name(g) for g in groups]
