# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to day2ops.ahv: other collections must not import it; it changes without notice.

The vmm namespace of Prism Central v4 (ahv/config/vms, content/templates): every path and $actions
verb of it, the reads and the changes. A function that takes a client makes the call; one that does
not returns the Change to send.
"""

from __future__ import annotations

from ansible_collections.day2ops.ahv.plugins.module_utils._v4 import Change

NAMESPACE = "vmm"
VMS = "ahv/config/vms"
VM = VMS + "/{0}"
TEMPLATES = "content/templates"
TEMPLATE = TEMPLATES + "/{0}"
TEMPLATE_VERSIONS = TEMPLATE + "/versions"
TEMPLATE_VERSION = TEMPLATE_VERSIONS + "/{1}"
# How a task's entitiesAffected names a VM and a template.
VM_REL = "vmm:ahv:config:vm"
TEMPLATE_REL = "vmm:content:template"
# The power verbs of vms/{extId}/$actions/<verb>; the guest- ones go through Nutanix Guest Tools.
POWER_ACTIONS = ("power-on", "power-off", "shutdown", "guest-shutdown", "reboot", "guest-reboot", "reset")
# Guest shutdown and reboot take GuestPowerOptions as a required body in every SDK release; one with
# nothing set asks for Prism's defaults, as the SDK's GuestPowerOptions() does.
GUEST_POWER_OPTIONS = {"$objectType": "vmm.v4.ahv.config.GuestPowerOptions"}
# The steps of content/templates/{extId}/$actions/<step>-guest-update.
GUEST_UPDATE_STEPS = ("initiate", "complete", "cancel")


# -- VMs ----------------------------------------------------------------------------------------


def read_vm(client, ext_id, action=None):
    """(VM, etag)."""
    return client.get(NAMESPACE, VM, ext_id, action=action or "read VM %s" % ext_id)


def list_vms(client, params=None, action="list VMs", limit=None):
    return client.list(NAMESPACE, VMS, action=action, params=params, limit=limit)


def page_vms(client, params, action="list VMs"):
    """One page: (VMs, totalAvailableResults)."""
    return client.page(NAMESPACE, VMS, action=action, params=params)


def change_vm(client, ext_id, action, decide):
    """`decide(vm)` -> Change or None, sent with the VM's fresh ETag: (vm, change, result)."""
    return client.change_fresh(NAMESPACE, VM, ext_id, action=action, decide=decide)


def update_vm(ext_id, body):
    return Change("PUT", NAMESPACE, VM, (ext_id,), body)


def delete_vm(ext_id):
    return Change("DELETE", NAMESPACE, VM, (ext_id,), None)


def power_vm(ext_id, verb):
    """One of POWER_ACTIONS."""
    if verb not in POWER_ACTIONS:
        raise ValueError("VMs have no power verb %r" % verb)
    body = GUEST_POWER_OPTIONS if verb.startswith("guest-") else None
    return _vm_action(ext_id, verb, body)


def associate_categories(ext_id, category_ext_ids):
    return _vm_action(ext_id, "associate-categories", _category_refs(category_ext_ids))


def disassociate_categories(ext_id, category_ext_ids):
    return _vm_action(ext_id, "disassociate-categories", _category_refs(category_ext_ids))


def revert_vm(ext_id, vm_recovery_point_ext_id):
    return _vm_action(ext_id, "revert", {"vmRecoveryPointExtId": vm_recovery_point_ext_id})


def _vm_action(ext_id, verb, body):
    return Change("POST", NAMESPACE, VM + "/$actions/" + verb, (ext_id,), body)


def _category_refs(category_ext_ids):
    return {"categories": [{"extId": i} for i in category_ext_ids]}


# -- templates ----------------------------------------------------------------------------------


def read_template(client, ext_id):
    """(template, etag)."""
    return client.get(NAMESPACE, TEMPLATE, ext_id, action="read template %s" % ext_id)


def list_templates(client, params=None, limit=None):
    return client.list(NAMESPACE, TEMPLATES, action="list templates", params=params, limit=limit)


def list_template_versions(client, ext_id, params=None):
    action = "list the versions of template %s" % ext_id
    return client.list(NAMESPACE, TEMPLATE_VERSIONS, ext_id, action=action, params=params)


def create_template(client, body, action):
    """The task ext_id."""
    return client.submit("POST", NAMESPACE, TEMPLATES, action=action, body=body)


def change_template(client, ext_id, action, decide):
    """`decide(template)` -> Change or None, sent with the template's fresh ETag (Prism guards its
    versions with it too): (template, change, result)."""
    return client.change_fresh(NAMESPACE, TEMPLATE, ext_id, action=action, decide=decide)


def update_template(ext_id, body):
    return Change("PUT", NAMESPACE, TEMPLATE, (ext_id,), body)


def delete_template(ext_id):
    return Change("DELETE", NAMESPACE, TEMPLATE, (ext_id,), None)


def delete_template_version(ext_id, version_ext_id):
    return Change("DELETE", NAMESPACE, TEMPLATE_VERSION, (ext_id, version_ext_id), None)


def publish_template(ext_id, version_ext_id):
    return _template_action(ext_id, "publish", {"versionId": version_ext_id})


def deploy_template(ext_id, body):
    return _template_action(ext_id, "deploy", body)


def guest_update(ext_id, step, body):
    """One of GUEST_UPDATE_STEPS of a guest OS update of the template's golden VM."""
    if step not in GUEST_UPDATE_STEPS:
        raise ValueError("template guest updates have no step %r" % step)
    return _template_action(ext_id, step + "-guest-update", body)


def _template_action(ext_id, verb, body):
    return Change("POST", NAMESPACE, TEMPLATE + "/$actions/" + verb, (ext_id,), body)
