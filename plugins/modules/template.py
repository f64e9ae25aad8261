#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: template
short_description: Create an AHV VM template from a VM, add and activate versions, delete them
version_added: 0.1.0
description:
  - Manages VM templates and their versions through Prism Central's vmm v4 API (C(content/templates)).
    Every change is sent with the template's fresh ETag and waited for as a Prism task.
  - B(Converting a VM into a template) is O(state=present) with a new O(name) and the VM
    (O(vm_name) or O(vm_ext_id)). The template keeps the VM's configuration and disks; the VM stays
    as it is (delete it afterwards with M(day2ops.ahv.vm) if it should go, as the conversion did).
  - A B(new version) of an existing template comes from a VM (after changing the golden VM) or from
    an existing version (O(source_version)) with O(override) applied (more memory, more vCPUs). Versions
    are named, and O(version_name) is the key that makes the task idempotent, so a version of that name
    that exists already is left alone, and without O(version_name) no version is added (the VM of an
    existing template only made it). Older versions stay, and stay deployable.
  - B(Cloning a template) has no call of its own in Prism v4. Within the template it is a new version
    from an existing one (O(source_version), with or without O(override)); as a template of its own, deploy
    one VM from the version (M(day2ops.ahv.template_deploy)), make the template from that VM with this
    module, then delete the VM (M(day2ops.ahv.vm)).
  - O(activate=false) keeps the new version inactive, so it can be tested before anybody deploys it;
    O(active_version) makes a version the active one (Prism's publish), the default that deployments and
    guest updates start from. Publishing the previous version again is how a release is rolled back.
  - O(state=absent) with O(version_name) or O(version_ext_id) deletes that version (never the active
    one; publish another first); without them it deletes the template and all its versions.
author: day2ops team (@day2ops)
options:
  state:
    description:
      - V(present) creates the template, adds a version, publishes one, or updates the description.
      - V(absent) deletes a version (with O(version_name) or O(version_ext_id)) or the whole template.
    type: str
    choices: [present, absent]
    default: present
  ext_id:
    description: The template's ext_id. Give O(ext_id) or O(name).
    type: str
  name:
    description:
      - The template's name. Required to create one. A name shared by two templates is an error that lists
        them.
    type: str
  description:
    description: The template's description.
    type: str
  vm_ext_id:
    description: The VM to make the template, or the new version, from.
    type: str
  vm_name:
    description: The VM by name, instead of O(vm_ext_id).
    type: str
  source_version:
    description:
      - An existing version (name or ext_id) to derive the new version from, with O(override) applied.
    type: str
  override:
    description: What the new version changes from O(source_version).
  version_name:
    description:
      - The version to create (with O(state=present)) or to delete (with O(state=absent)).
      - Required to add a version to an existing template. A new template's first version gets Prism's
        default name (C(Initial Version)) unless this is set.
    type: str
  version_description:
    description:
      - The new version's description; by default it says where the version came from.
    type: str
  version_ext_id:
    description: With O(state=absent), the version to delete, by ext_id.
    type: str
  activate:
    description:
      - Whether the new version becomes the active one at once (Prism's default).
      - Set V(false) to test it first and publish it later with O(active_version).
    type: bool
    default: true
  active_version:
    description:
      - A version (name or ext_id) to make the active one, if it is not already.
    type: str
extends_documentation_fragment:
  - day2ops.ahv.prism
  - day2ops.ahv.prism.module
  - day2ops.ahv.prism.wait
  - day2ops.ahv.prism.change
  - day2ops.ahv.prism.template_override
  - ansible.builtin.action_common_attributes
"""

EXAMPLES = r"""
- name: Convert a VM into a template (the VM is kept; delete it with day2ops.ahv.vm if it should go)
  day2ops.ahv.template:
    name: hr-portal-app
    description: HR portal application server
    vm_name: hr-portal-tst-app-071
  register: tpl

- name: A second version from the same golden VM, inactive until it is tested
  day2ops.ahv.template:
    ext_id: "{{ tpl.ext_id }}"
    vm_name: hr-portal-tst-app-071
    version_name: "2025.03"
    activate: false
  register: candidate

- name: A version derived from an existing one, with more memory
  day2ops.ahv.template:
    name: rocky9-base
    source_version: "2025.02"
    override:
      memory_mib: 16384
    version_name: 2025.02-16g
    activate: false

- name: Make the tested version the active one
  day2ops.ahv.template:
    ext_id: "{{ tpl.ext_id }}"
    active_version: "2025.03"

- name: Roll back to the previous version
  day2ops.ahv.template:
    ext_id: "{{ tpl.ext_id }}"
    active_version: "{{ candidate.previous_active_version_ext_id }}"

- name: Delete the version that failed its tests
  day2ops.ahv.template:
    ext_id: "{{ tpl.ext_id }}"
    version_name: "2025.03"
    state: absent
"""

RETURN = r"""
ext_id:
  description:
    - The template's ext_id; null when it does not exist, and for a new template in check mode or with
      O(wait=false) (the task's result names it).
  returned: always
  type: str
name:
  description: The template's name.
  returned: always
  type: str
version_ext_id:
  description:
    - The version this task created, published or deleted; null when it changed none (or in check mode
      before it exists).
  returned: always
  type: str
version_name:
  description: The name of that version.
  returned: always
  type: str
active_version_ext_id:
  description: The active version at the end.
  returned: always
  type: str
active_version_name:
  description: The name of the active version at the end.
  returned: always
  type: str
previous_active_version_ext_id:
  description: The version that was active before this task; publish it again to roll back.
  returned: always
  type: str
task_ext_id:
  description: The ext_id of the last Prism task this task started; null when nothing was needed.
  returned: always
  type: str
task_ext_ids:
  description: Every Prism task this task started, in order.
  returned: always
  type: list
  elements: str
template:
  description: The template as Prism Central returns it (C(vmm.v4.content.Template)), read at the end.
  returned: when the template exists
  type: dict
"""

from ansible_collections.day2ops.ahv.plugins.module_utils._http import ApiError
from ansible_collections.day2ops.ahv.plugins.module_utils._lookup import find_vm
from ansible_collections.day2ops.ahv.plugins.module_utils._prism import created
from ansible_collections.day2ops.ahv.plugins.module_utils._prism_module import WAIT_SPEC, PrismModule
from ansible_collections.day2ops.ahv.plugins.module_utils._templates import (
    OVERRIDE_SPEC,
    VERSION_SOURCE,
    VM_SOURCE,
    active_version,
    find,
    find_version,
    override,
    read,
    update_body,
)
from ansible_collections.day2ops.ahv.plugins.module_utils._vmm import (
    TEMPLATE_REL,
    change_template,
    create_template,
    delete_template,
    delete_template_version,
    publish_template,
    update_template,
)


class Run:
    """The template being managed, the tasks started on it, and the result they add up to."""

    def __init__(self, module, template):
        self.module, self.client, self.params = module, module.client, module.params
        self.template = template
        active = active_version(template) if template else {}
        self.result = dict(
            ext_id=template and template["extId"],
            name=template["templateName"] if template else self.params["name"],
            version_ext_id=None,
            version_name=None,
            active_version_ext_id=active.get("extId"),
            active_version_name=active.get("versionName"),
            previous_active_version_ext_id=active.get("extId"),
            task_ext_id=None,
            task_ext_ids=[],
        )

    def started(self, task_ext_id, label, last=True):
        """Record a task and wait for it (only the last may be left running with wait: false)."""
        if not task_ext_id:
            return None
        self.result["task_ext_ids"].append(task_ext_id)
        self.result["task_ext_id"] = task_ext_id
        if not (self.params["wait"] or not last):
            return None
        try:
            return self.client.wait_task(task_ext_id, self.params["timeout"], label)
        except ApiError as err:
            self.module.fail_api(err, **self.result)

    def finish(self, changed):
        """The result, with the template as it is now when this task changed it and waited."""
        if changed and self.result["ext_id"] and self.params["wait"] and not self.module.check_mode:
            self.template = read(self.client, self.result["ext_id"])[0]
        if self.template:
            active = active_version(self.template)
            self.result.update(
                template=self.template,
                active_version_ext_id=active.get("extId"),
                active_version_name=active.get("versionName"),
            )
        return changed, self.result


def create(run, vm):
    params = run.params
    if not params["name"] or vm is None:
        raise ApiError(
            "create template '%s'" % params["name"],
            "a new template needs a VM to be made from",
            hint="give vm_name (or vm_ext_id); check the name if the template should exist already",
        )
    spec = {"versionSource": {"$objectType": VM_SOURCE, "extId": vm["extId"]}}
    for option, field in (("version_name", "versionName"), ("version_description", "versionDescription")):
        if params[option]:
            spec[field] = params[option]
    body = {"templateName": params["name"], "templateVersionSpec": spec}
    if params["description"] is not None:
        body["templateDescription"] = params["description"]
    run.result["version_name"] = spec.get("versionName")
    if run.module.diff:
        run.result["diff"] = dict(before={}, after=dict(template=params["name"], vm=vm.get("name")))
    if run.module.check_mode:
        return run.finish(True)
    label = "create template '%s' from VM '%s'" % (params["name"], vm.get("name"))
    task = run.started(create_template(run.client, body, label), label)
    if task:
        run.result["ext_id"] = created(task, TEMPLATE_REL, label)
        first = active_version(read(run.client, run.result["ext_id"])[0])
        run.result.update(version_ext_id=first.get("extId"), version_name=first.get("versionName"))
    return run.finish(True)


def new_version_spec(run, vm):
    params, template = run.params, run.template
    if params["source_version"]:
        base = find_version(run.client, template, params["source_version"])
        source = {
            "$objectType": VERSION_SOURCE,
            "versionId": base["extId"],
            "overrideVmConfig": override(params["override"]),
        }
        described = "Derived from version %s" % base.get("versionName")
    elif vm is not None:
        source = {"$objectType": VM_SOURCE, "extId": vm["extId"]}
        described = "Created from VM %s" % vm.get("name")
    else:
        raise ApiError(
            "add version '%s' to template '%s'" % (params["version_name"], template["templateName"]),
            "no source for the version",
            hint="give vm_name (or vm_ext_id) or source_version",
        )
    return {
        "versionName": params["version_name"],
        "versionDescription": params["version_description"] or described,
        "isActiveVersion": params["activate"],
        "versionSource": source,
    }


def update(run, vm):
    """Description and a new version in one PUT, then a publish."""
    params, template, client = run.params, run.template, run.client
    existing = params["version_name"] and find_version(client, template, params["version_name"], False)
    adding = bool(params["version_name"]) and not existing
    spec = new_version_spec(run, vm) if adding else None
    if existing:
        run.result.update(version_ext_id=existing["extId"], version_name=existing["versionName"])
    describe = params["description"] is not None and params["description"] != template.get(
        "templateDescription"
    )
    wanted = params["active_version"] and find_version(client, template, params["active_version"])
    publish = bool(wanted) and wanted["extId"] != active_version(template).get("extId")
    if adding:
        run.result["version_name"] = params["version_name"]
    elif publish:
        run.result.update(version_ext_id=wanted["extId"], version_name=wanted["versionName"])
    if run.module.diff:
        current = active_version(template).get("versionName")
        becomes = params["version_name"] if adding and params["activate"] else current
        run.result["diff"] = dict(
            before=dict(description=template.get("templateDescription"), active_version=current),
            after=dict(
                description=params["description"] if describe else template.get("templateDescription"),
                active_version=wanted["versionName"] if publish else becomes,
                added_version=params["version_name"] if adding else None,
            ),
        )
    changed = adding or describe or publish
    if not changed or run.module.check_mode:
        return run.finish(changed)
    if adding or describe:
        label = "update template '%s' (%s)" % (template["templateName"], template["extId"])

        def put(current):
            description = params["description"] if describe else current.get("templateDescription")
            return update_template(current["extId"], update_body(current, description, spec))

        run.started(change_template(client, template["extId"], label, put)[2], label, last=not publish)
        if adding and params["wait"]:
            made = find_version(client, template, params["version_name"])
            run.result["version_ext_id"] = made["extId"]
    if publish:
        label = "make version '%s' of template '%s' the active one" % (
            wanted["versionName"],
            template["templateName"],
        )

        def publish_it(current):
            if active_version(current).get("extId") == wanted["extId"]:
                return None
            return publish_template(current["extId"], wanted["extId"])

        run.started(change_template(client, template["extId"], label, publish_it)[2], label)
    return run.finish(True)


def delete(run):
    params, template, client = run.params, run.template, run.client
    version = params["version_ext_id"] or params["version_name"]
    found = template and version and find_version(client, template, version, required=False)
    if template is None or (version and not found):
        return False, run.result
    if version:
        if found.get("isActiveVersion"):
            raise ApiError(
                "delete version '%s' of template '%s'" % (found.get("versionName"), template["templateName"]),
                "it is the active version",
                status=409,
                hint="make another version active first (active_version), then delete this one",
            )
        run.result.update(version_ext_id=found["extId"], version_name=found.get("versionName"))
        label = "delete version '%s' of template '%s'" % (found.get("versionName"), template["templateName"])
        deletion = delete_template_version(template["extId"], found["extId"])
    else:
        label = "delete template '%s' (%s)" % (template["templateName"], template["extId"])
        deletion = delete_template(template["extId"])
    if run.module.diff:
        run.result["diff"] = dict(before=dict(template=template["templateName"], version=version), after={})
    if not run.module.check_mode:
        run.started(change_template(client, template["extId"], label, lambda current: deletion)[2], label)
    if not version:
        return True, run.result
    return run.finish(True)


def ensure(module):
    params, client = module.params, module.client
    template = find(client, params["ext_id"], params["name"], required=False)
    if params["ext_id"] and template is None and params["state"] == "present":
        raise ApiError(
            "read template %s" % params["ext_id"],
            "no template has that ext_id",
            status=404,
            hint="check the ext_id, or create the template by name",
        )
    run = Run(module, template)
    if params["state"] == "absent":
        return delete(run)
    vm = (
        find_vm(client, params["vm_ext_id"], params["vm_name"])
        if params["vm_ext_id"] or params["vm_name"]
        else None
    )
    return create(run, vm) if template is None else update(run, vm)


def main():
    spec = dict(
        state=dict(type="str", default="present", choices=["present", "absent"]),
        ext_id=dict(type="str"),
        name=dict(type="str"),
        description=dict(type="str"),
        vm_ext_id=dict(type="str"),
        vm_name=dict(type="str"),
        source_version=dict(type="str"),
        override=dict(type="dict", options=OVERRIDE_SPEC),
        version_name=dict(type="str"),
        version_description=dict(type="str"),
        version_ext_id=dict(type="str"),
        activate=dict(type="bool", default=True),
        active_version=dict(type="str"),
    )
    spec.update(WAIT_SPEC)
    PrismModule(
        spec,
        supports_check_mode=True,
        required_one_of=[("ext_id", "name")],
        mutually_exclusive=[
            ("ext_id", "name"),
            ("vm_ext_id", "vm_name"),
            ("source_version", "vm_ext_id"),
            ("source_version", "vm_name"),
            ("version_name", "version_ext_id"),
        ],
        required_by=dict(override="source_version", source_version="version_name"),
    ).run(ensure)


if __name__ == "__main__":
    main()
